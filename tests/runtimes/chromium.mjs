// Drives Debian's headless Chromium (/usr/bin/chromium, installed by .ci/run; never a browser
// download) with playwright-core, on pages served from 127.0.0.1.
import { chromium } from 'playwright-core';

export const CHROMIUM = process.env.NEURITE_CHROMIUM ?? '/usr/bin/chromium';

const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** Launches Chromium (playwright gives it a throwaway profile); `close()` ends it. */
export async function launchChromium() {
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS, timeout: 60_000 });
  return {
    version: browser.version(),
    /**
     * A page in a context of its own (no cache or compiled code shared with earlier pages), whose
     * console errors and page errors are collected in `errors`.
     */
    async newPage() {
      const context = await browser.newContext();
      const page = await context.newPage();
      const errors = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
      return { page, errors, close: () => context.close().catch(() => {}) };
    },
    close: () => browser.close().catch(() => {}),
  };
}

/**
 * Opens the shared-cases page on `server` (`path`, by default the unbundled test page) and runs
 * them on `specifier` with `initOptions`.
 */
export async function runChromiumCases(browser, server, { path = '/tests/runtimes/browser/page.html', specifier, initOptions, blockWasm = false }) {
  const { page, errors, close } = await browser.newPage();
  const wasmRequests = [];
  page.on('request', (r) => { if (r.url().endsWith('.wasm')) wasmRequests.push(new URL(r.url()).pathname); });
  if (blockWasm) await page.route('**/*.wasm', (route) => route.abort());
  try {
    await page.goto(`${server.url}${path}`);
    await page.waitForFunction(() => window.neuriteReady === true, null, { timeout: 30_000 });
    const result = await page.evaluate(([s, o]) => window.neuriteCases(s, o), [specifier, initOptions]);
    return { result, wasmRequests, errors };
  } finally {
    await close();
  }
}
