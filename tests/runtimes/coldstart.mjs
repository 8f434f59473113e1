// Cold starts in Deno, Chromium and workerd for `npm run bench` (src/cli/bench-web.ts), measured
// with the same harnesses as the runtime tests: import → init → load the shipped model → first
// prediction, each run in a fresh process, page context or workerd.
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { launchChromium, runChromiumCases } from './chromium.mjs';
import { runDenoCases } from './deno.mjs';
import { DIST, median } from './fixtures.mjs';
import { serveStatic } from './server.mjs';
import { workerdColdStart } from './workerd.mjs';


async function deno(runs) {
  const entry = pathToFileURL(join(DIST, 'index.js')).href;
  const results = [];
  for (let i = 0; i < runs; i++) {
    const run = await runDenoCases({ entry, label: 'bench' });
    if (run.code !== 0 || !run.result) throw new Error(run.stderr || run.stdout);
    results.push(run.result);
  }
  return { runtime: 'Deno', version: results[0].deno, build: results[0].build, ms: median(results.map((r) => r.coldStartMs)), note: 'fresh `deno test` process, dist/index.js' };
}

async function chromium(runs) {
  const server = await serveStatic();
  const browser = await launchChromium();
  try {
    const results = [];
    for (let i = 0; i < runs; i++) results.push((await runChromiumCases(browser, server, { specifier: 'neurite' })).result);
    return { runtime: 'Chromium', version: browser.version, build: results[0].build, ms: median(results.map((r) => r.coldStartMs)), note: 'fresh browser context, dist/index.js + .wasm over HTTP from 127.0.0.1' };
  } finally {
    await browser.close();
    await server.close();
  }
}

/** workerd's release date, from its npm package version (1.YYYYMMDD.n). */
function workerdVersion() {
  const { version } = createRequire(import.meta.url)('workerd/package.json');
  const date = version.split('.')[1];
  return `${date.slice(0, 4)}-${date.slice(4, 6)}-${date.slice(6, 8)}`;
}

async function workerd(runs) {
  const results = [];
  for (let i = 0; i < runs; i++) results.push(await workerdColdStart());
  return {
    runtime: 'workerd', version: workerdVersion(), build: results[0].build, ms: median(results.map((r) => r.firstRequestMs)),
    note: `first request of a fresh workerd (in-isolate ${median(results.map((r) => r.isolateMs)).toFixed(0)} ms; `
      + `workerd start and module load ${median(results.map((r) => r.startMs)).toFixed(0)} ms before it)`,
  };
}

/** One row per runtime: { runtime, version, build, ms, note }; a runtime that fails says why. */
export async function coldStarts({ runs = 3 } = {}) {
  const rows = [];
  for (const [runtime, measure] of [['Deno', deno], ['Chromium', chromium], ['workerd', workerd]]) {
    try {
      rows.push(await measure(runs));
    } catch (e) {
      rows.push({ runtime, version: '-', build: '-', ms: null, note: `failed: ${String(e?.message ?? e).split('\n')[0]}` });
    }
  }
  return rows;
}
