// Drives the web-digits page in Debian's headless Chromium through playwright-core: starts the
// static server and the browser, draws strokes with real input events, reads the page back.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from 'playwright-core';
import { serve, type Running } from '../../scripts/serve.mjs';
import type { GrayImage } from '../../src/image/png';
import type { Point, Stroke } from './strokes';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
/** Generous: the machine may be running every other suite and a fine-tuning worker on 2 cores. */
export const WAIT = 60_000;

/** What the page logs about each prediction (see examples/web-digits/app.js). */
export interface Prediction {
  seq: number;
  t: number;
  digit: number;
  probs: number[];
  ms: number;
  strokes: number;
  drawing: boolean;
  training: boolean;
  model: string;
}

export interface FineTune {
  id: number;
  model: string;
  outcome: string;
  startedAt: number;
  endedAt: number;
  longestStallMs: number;
  longestTaskMs: number;
  report?: {
    corrections: number;
    epochs: number;
    steps: number;
    before: { check: number; corrections: number };
    after: { check: number; corrections: number };
    trainMs: number;
    totalMs: number;
  };
}

export interface Session {
  server: Running;
  browser: Browser;
  close(): Promise<void>;
}

/** The build the page needs, checked before a browser is started. */
export function checkBuilt(): void {
  const missing = ['dist/index.js', 'dist/image.js', 'dist/neurite.relaxed.wasm', 'dist/neurite.simd.wasm', 'dist/neurite.scalar.wasm',
    'models/mnist-mlp.safetensors'].filter((f) => !existsSync(join(ROOT, f)));
  if (missing.length) throw new Error(`the web page needs the build: ${missing.join(', ')} missing (run npm run build)`);
  // the MNIST replay sample is a build product too; make it if this checkout has not yet
  if (!existsSync(join(ROOT, 'examples/web-digits/replay.bin'))) {
    execFileSync(process.execPath, [join(ROOT, 'scripts/make-replay.mjs')], { cwd: ROOT, stdio: 'inherit' });
  }
}

/** The static server on a free port and a headless Chromium whose files all live in a temp dir. */
export async function start(): Promise<Session> {
  checkBuilt();
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`);
  const home = mkdtempSync(join(tmpdir(), 'neurite-web-'));
  const server = await serve({ port: 0 });
  let browser: Browser;
  try {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ARGS,
      timeout: WAIT,
      // Chromium writes crash-report and cache folders under these; keep them out of HOME
      env: { ...process.env, XDG_CONFIG_HOME: join(home, 'config'), XDG_CACHE_HOME: join(home, 'cache') },
    });
  } catch (e) {
    await server.close();
    rmSync(home, { recursive: true, force: true });
    throw e;
  }
  return {
    server,
    browser,
    async close() {
      await browser.close().catch(() => {});
      await server.close();
      rmSync(home, { recursive: true, force: true });
    },
  };
}

export interface Opened {
  context: BrowserContext;
  page: Page;
  /** uncaught exceptions and console errors, apart from the expected 404 of a model file not shipped yet */
  errors: string[];
}

/** A fresh browser context (its own IndexedDB) with the page loaded and ready. */
export async function open(session: Session, options: BrowserContextOptions = {}): Promise<Opened> {
  const context = await session.browser.newContext({ viewport: { width: 1280, height: 900 }, ...options });
  context.setDefaultTimeout(WAIT);
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    const expected404 = /status of 404/.test(m.text()) && /\.safetensors$/.test(m.location().url);
    if (!expected404) errors.push(`console: ${m.text()}`);
  });
  await page.goto(`${session.server.url}/examples/web-digits/`);
  await ready(page);
  return { context, page, errors };
}

/** Wait until the page has a model loaded (or fail with the page's own error). */
export async function ready(page: Page): Promise<void> {
  const state = await page.waitForFunction(() => {
    const w = (window as any).webDigits;
    return w && (w.ready || w.error) ? { ready: w.ready, error: w.error } : false;
  }, null, { timeout: WAIT });
  const { ready: ok, error } = await state.jsonValue() as { ready: boolean; error: string | null };
  if (!ok) throw new Error(`the page failed to start: ${error}`);
}

export const lastPrediction = (page: Page): Promise<Prediction | null> =>
  page.evaluate(() => (window as any).webDigits.predictions.at(-1) ?? null);

/** Wait for a prediction newer than `after` of the finished drawing with `strokes` strokes. */
export async function settled(page: Page, strokes: number, after: number): Promise<Prediction> {
  const handle = await page.waitForFunction(([n, seq]) => {
    const p = (window as any).webDigits.predictions.at(-1);
    return p && p.seq > seq && !p.drawing && p.strokes === n ? p : false;
  }, [strokes, after] as const, { timeout: WAIT });
  return handle.jsonValue() as Promise<Prediction>;
}

/** Clear the pad (its button) and wait until it is empty. */
export async function clearPad(page: Page): Promise<void> {
  if (await page.locator('#clear').isEnabled()) await page.click('#clear');
  await page.waitForFunction(() => document.querySelector('#digit')?.classList.contains('empty'));
}

/** Where a pad point (0..1) is on the page, now (layout may move between drawings). */
async function padMapper(page: Page): Promise<(p: Point) => [number, number]> {
  const box = await page.locator('#pad').boundingBox();
  if (!box) throw new Error('the pad is not visible');
  return ([x, y]) => [box.x + x * box.width, box.y + y * box.height];
}

/**
 * Draw a digit with the mouse: for every stroke, move to its start, press, move through its
 * points (one pointermove each: they are a few pixels apart), release.
 * Resolves with the page's prediction for the finished drawing.
 */
export async function drawWithMouse(page: Page, strokes: Stroke[]): Promise<Prediction> {
  await clearPad(page);
  const seq = (await lastPrediction(page))?.seq ?? 0;
  const at = await padMapper(page);
  for (const stroke of strokes) {
    await page.mouse.move(...at(stroke[0]));
    await page.mouse.down();
    for (const p of stroke.slice(1)) await page.mouse.move(...at(p));
    await page.mouse.up();
  }
  return settled(page, strokes.length, seq);
}

/** Draw with a finger (CDP touch events) or a pen (CDP mouse events of pointerType 'pen'). */
export async function drawWith(page: Page, kind: 'touch' | 'pen', strokes: Stroke[]): Promise<Prediction> {
  await clearPad(page);
  const seq = (await lastPrediction(page))?.seq ?? 0;
  const at = await padMapper(page);
  const cdp = await page.context().newCDPSession(page);
  try {
    for (const stroke of strokes) {
      for (let i = 0; i < stroke.length; i++) {
        const [x, y] = at(stroke[i]);
        if (kind === 'touch') {
          await cdp.send('Input.dispatchTouchEvent', { type: i === 0 ? 'touchStart' : 'touchMove', touchPoints: [{ x, y, id: 1 }] });
        } else {
          await cdp.send('Input.dispatchMouseEvent', {
            type: i === 0 ? 'mousePressed' : 'mouseMoved', x, y, button: 'left', buttons: 1, clickCount: 1, pointerType: 'pen', force: 0.5,
          });
        }
      }
      const [x, y] = at(stroke[stroke.length - 1]);
      if (kind === 'touch') await cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] });
      else await cdp.send('Input.dispatchMouseEvent', { type: 'mouseReleased', x, y, button: 'left', buttons: 0, clickCount: 1, pointerType: 'pen' });
    }
  } finally {
    await cdp.detach();
  }
  return settled(page, strokes.length, seq);
}

/**
 * Draw the way a hand does: mouse events at a steady rate (120 per second), sent without
 * waiting for the page to take each one (a real mouse does not wait either; the browser queues
 * and coalesces them). Resolves with the prediction for the finished drawing and how long after
 * the last event it appeared.
 */
export async function drawLikeAHand(page: Page, strokes: Stroke[], hz = 120): Promise<Prediction & { latencyMs: number }> {
  await clearPad(page);
  const seq = (await lastPrediction(page))?.seq ?? 0;
  const at = await padMapper(page);
  const cdp = await page.context().newCDPSession(page);
  const sent: Promise<unknown>[] = [];
  const event = (type: string, [x, y]: [number, number], buttons: number) =>
    sent.push(cdp.send('Input.dispatchMouseEvent', { type: type as 'mouseMoved', x, y, button: 'left', buttons, clickCount: 1 }));
  let last = 0;
  try {
    for (const stroke of strokes) {
      event('mousePressed', at(stroke[0]), 1);
      for (const p of stroke.slice(1)) {
        await new Promise((r) => setTimeout(r, 1000 / hz));
        event('mouseMoved', at(p), 1);
      }
      event('mouseReleased', at(stroke[stroke.length - 1]), 0);
      last = Date.now();
    }
    await Promise.all(sent);
  } finally {
    await cdp.detach();
  }
  const prediction = await settled(page, strokes.length, seq);
  return { ...prediction, latencyMs: Date.now() - last };
}

/**
 * A pad canvas read back as a grayscale image, ink being the alpha channel (1 ink, 0 paper):
 * '#pad' is the one on screen, '#ink' the fixed-size copy the page computes the model's input from.
 */
export async function readCanvas(page: Page, selector: '#pad' | '#ink'): Promise<GrayImage> {
  const { width, height, alpha } = await page.evaluate((sel) => {
    const canvas = document.querySelector(sel) as HTMLCanvasElement;
    const rgba = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
    let alpha = '';
    for (let i = 3; i < rgba.length; i += 4) alpha += String.fromCharCode(rgba[i]);
    return { width: canvas.width, height: canvas.height, alpha };
  }, selector);
  const data = new Float32Array(width * height);
  for (let i = 0; i < data.length; i++) data[i] = alpha.charCodeAt(i) / 255;
  return { width, height, data };
}

/** The 28×28 preview the page shows, read back from its canvas, in [0, 1]. */
export async function readPreview(page: Page): Promise<Float32Array> {
  const gray = await page.evaluate(() => {
    const canvas = document.querySelector('#preview') as HTMLCanvasElement;
    const rgba = canvas.getContext('2d')!.getImageData(0, 0, 28, 28).data;
    return Array.from({ length: 784 }, (_, i) => rgba[4 * i]);
  });
  return Float32Array.from(gray, (v) => v / 255);
}

/** The 784 values the page last gave to model.predict. */
export const modelInput = (page: Page): Promise<number[] | null> => page.evaluate(() => (window as any).webDigits.input);

export const fineTunes = (page: Page): Promise<FineTune[]> => page.evaluate(() => (window as any).webDigits.fineTunes);

/** Wait until `count` fine-tuning runs have ended; returns the last one. */
export async function fineTuneEnded(page: Page, count: number, timeout = 5 * WAIT): Promise<FineTune> {
  await page.waitForFunction((n) => (window as any).webDigits.fineTunes.length >= n, count, { timeout });
  const all = await fineTunes(page);
  return all[all.length - 1];
}
