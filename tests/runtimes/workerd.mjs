// Runs a worker under workerd through miniflare, the way `wrangler dev` would: ES modules from
// disk, every `.wasm` import a CompiledWasm module (a WebAssembly.Module; workerd refuses to
// compile bytes), and the model and data files as Data modules.
import { join } from 'node:path';
import { Miniflare } from 'miniflare';
import { ROOT } from './fixtures.mjs';

export const COMPATIBILITY_DATE = '2026-04-20';

export const MODULE_RULES = [
  { type: 'ESModule', include: ['**/*.js', '**/*.mjs'] },
  { type: 'CompiledWasm', include: ['**/*.wasm'] },
  { type: 'Data', include: ['**/*.safetensors', '**/*-ubyte'] },
];

/**
 * Starts workerd on `script` (a path under the project). Resolves to { mf, startMs } once it
 * answers; `startMs` is how long miniflare took to start workerd and load the module graph.
 */
export async function startWorkerd(script, { bindings } = {}) {
  const t0 = performance.now();
  const mf = new Miniflare({
    modules: true,
    scriptPath: join(ROOT, script),
    modulesRoot: ROOT,
    modulesRules: MODULE_RULES,
    compatibilityDate: COMPATIBILITY_DATE,
    bindings,
    host: '127.0.0.1',
    port: 0,
  });
  try {
    await mf.ready;
  } catch (e) {
    await mf.dispose().catch(() => {});
    throw e;
  }
  return { mf, startMs: performance.now() - t0 };
}

/** The shared cases in workerd, with the cold start measured from outside the isolate. */
export async function runWorkerdCases() {
  const { mf, startMs } = await startWorkerd('tests/runtimes/workerd/worker.mjs');
  try {
    const t1 = performance.now();
    const coldResponse = await mf.dispatchFetch('http://localhost/cold');
    const cold = await coldResponse.json();
    const firstRequestMs = performance.now() - t1;
    if (coldResponse.status !== 200) throw new Error(`workerd /cold: ${JSON.stringify(cold)}`);
    const response = await mf.dispatchFetch('http://localhost/run');
    const result = await response.json();
    if (response.status !== 200) throw new Error(`workerd /run: ${JSON.stringify(result)}`);
    // the isolate's own clock cannot see its module imports (they run when workerd starts): the
    // cold start reported is the first request, init → load → first prediction, seen from Node
    return { ...result, cold, startMs, firstRequestMs, coldStartMs: firstRequestMs };
  } finally {
    await mf.dispose();
  }
}

/**
 * A fresh workerd's cold start on the shipped model: { build, startMs (workerd up, module graph
 * loaded), firstRequestMs (the first request, init → load → first prediction, seen from Node),
 * isolateMs (the same inside the isolate, at workerd's clock resolution) }.
 */
export async function workerdColdStart() {
  const { mf, startMs } = await startWorkerd('tests/runtimes/workerd/worker.mjs');
  try {
    const t1 = performance.now();
    const response = await mf.dispatchFetch('http://localhost/cold');
    const cold = await response.json();
    const firstRequestMs = performance.now() - t1;
    if (response.status !== 200) throw new Error(`workerd /cold: ${JSON.stringify(cold)}`);
    return { build: cold.build, startMs, firstRequestMs, isolateMs: cold.ms };
  } finally {
    await mf.dispose();
  }
}
