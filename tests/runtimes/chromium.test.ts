// The shared runtime cases in Debian's headless Chromium driven by playwright-core, served from
// 127.0.0.1: on a page with no bundler (an import map names the entries), and in an application
// bundled by Vite or served by vite dev.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error plain ES module
import { launchChromium, runChromiumCases } from './chromium.mjs';
// @ts-expect-error plain ES module
import { describeResult, nodeReference } from './fixtures.mjs';
// @ts-expect-error plain ES module
import { serveStatic } from './server.mjs';
// @ts-expect-error plain ES module
import { buildViteApp, startViteDev } from './vite.mjs';
import { expectSharedCases } from './expect';

describe('Chromium', () => {
  let server: { url: string; close(): Promise<void> };
  let browser: { version: string; close(): Promise<void> };
  beforeAll(async () => {
    server = await serveStatic();
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it("import 'neurite': the .wasm beside the bundle, found with new URL(…, import.meta.url)", async () => {
    const { result, wasmRequests, errors } = await runChromiumCases(browser, server, { specifier: 'neurite' });
    console.log(describeResult(`Chromium ${browser.version} (dist/index.js)`, result));
    expect(errors).toEqual([]);
    expect(wasmRequests).toEqual(['/dist/neurite.relaxed.wasm']); // only the build picked is fetched
    expectSharedCases(result, await nodeReference(), 'relaxed');
  });

  it("import 'neurite/inline': single-file use, no .wasm fetched", async () => {
    const { result, wasmRequests, errors } = await runChromiumCases(browser, server, { specifier: 'neurite/inline', blockWasm: true });
    console.log(describeResult(`Chromium ${browser.version} (dist/inline.js)`, result));
    expect(errors).toEqual([]);
    expect(wasmRequests).toEqual([]);
    expectSharedCases(result, await nodeReference(), 'relaxed');
  });

  it('init({ wasm }) takes the URL the caller gives', async () => {
    const { result, wasmRequests } = await runChromiumCases(browser, server,
      { specifier: 'neurite', initOptions: { wasm: '/dist/neurite.simd.wasm' } });
    console.log(describeResult(`Chromium ${browser.version} (explicit SIMD128 URL)`, result));
    expect(wasmRequests).toEqual(['/dist/neurite.simd.wasm']);
    expectSharedCases(result, await nodeReference(), 'simd');
  });

  it("an application bundled by Vite: import 'neurite' from node_modules, the .wasm emitted as assets", async () => {
    const app = await buildViteApp();
    const appServer = await serveStatic({ root: app.outDir });
    try {
      expect(app.assets.filter((f: string) => f.endsWith('.wasm')).length).toBe(3);
      const { result, wasmRequests, errors } = await runChromiumCases(browser, appServer, { path: '/index.html' });
      console.log(describeResult(`Chromium ${browser.version} (bundled by Vite)`, result));
      expect(errors).toEqual([]);
      expect(wasmRequests).toHaveLength(1);
      expect(wasmRequests[0]).toMatch(/^\/assets\/neurite\.relaxed-[\w-]+\.wasm$/);
      expectSharedCases(result, await nodeReference(), 'relaxed');
    } finally {
      await appServer.close();
      app.dispose();
    }
  });

  it("the same application under vite dev (neurite excluded from dependency pre-bundling)", async () => {
    const dev = await startViteDev();
    try {
      const { result, wasmRequests, errors } = await runChromiumCases(browser, dev, { path: '/index.html' });
      console.log(describeResult(`Chromium ${browser.version} (vite dev)`, result));
      expect(errors).toEqual([]);
      expect(wasmRequests).toEqual(['/node_modules/neurite/dist/neurite.relaxed.wasm']);
      expectSharedCases(result, await nodeReference(), 'relaxed');
    } finally {
      await dev.close();
    }
  });
});
