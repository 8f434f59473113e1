// neurite bench, web part: what a web page ships for the core (gzipped) and the cold start —
// import → init → load the shipped model → first prediction — in each runtime.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { median } from './stats';

/** The core's budget: the JS of the default entry plus one .wasm build, gzipped. */
export const WEB_BUDGET_BYTES = 60_000;

const IMPORT = /(?:^|[;\n])\s*(?:import|export)\s*(?:[\w$*{}\s,]+?\s*from\s*)?['"]([^'"]+)['"]/g;

/** The static import specifiers of an ES module's source (not dynamic imports). */
export function staticImports(source: string): string[] {
  return Array.from(source.matchAll(IMPORT), (m) => m[1]);
}

/** Every file an ES module pulls in through static relative imports, itself first. */
export function moduleGraph(entry: string): string[] {
  const seen: string[] = [];
  const visit = (file: string) => {
    if (seen.includes(file)) return;
    seen.push(file);
    if (!/\.m?js$/.test(file)) return;
    for (const spec of staticImports(readFileSync(file, 'utf8'))) {
      if (spec.startsWith('./') || spec.startsWith('../')) visit(join(dirname(file), spec));
    }
  };
  visit(entry);
  return seen;
}

export interface SizeRow { file: string; bytes: number; gzip: number }

function sizeOf(dist: string, file: string): SizeRow {
  const body = readFileSync(file);
  return { file: relative(dist, file), bytes: body.length, gzip: gzipSync(body).length };
}

/**
 * What a page that imports neurite ships: dist/index.js and the chunks it imports, plus the one
 * .wasm build it fetches (relaxed, what current browsers pick); gzip at its default level.
 */
export function webShipSize(dist: string): { rows: SizeRow[]; bytes: number; gzip: number } {
  const js = moduleGraph(join(dist, 'index.js'));
  const rows = [...js, join(dist, 'neurite.relaxed.wasm')].map((f) => sizeOf(dist, f));
  return { rows, bytes: rows.reduce((a, r) => a + r.bytes, 0), gzip: rows.reduce((a, r) => a + r.gzip, 0) };
}

/** Gzipped bytes of an entry's JS (its static import graph), leaving out `except`. */
function graphGzip(dist: string, entry: string, except: SizeRow[] = []): number {
  return moduleGraph(join(dist, entry)).map((f) => sizeOf(dist, f))
    .filter((r) => !except.some((c) => c.file === r.file))
    .reduce((a, r) => a + r.gzip, 0);
}

const kb = (n: number) => `${(n / 1000).toFixed(1)} kB`;
const pad = (cells: (string | number)[], widths: number[]) =>
  cells.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join('  ');

// A fresh Node process: import the Node entry, init, load the shipped model, predict once.
const NODE_COLD = `
const { readFileSync } = await import('node:fs');
const [entry, model] = process.argv.slice(1);
const bytes = readFileSync(model);
const t0 = performance.now();
const { init } = await import(entry);
const nn = await init();
nn.load(bytes).predict(new Float32Array(784));
console.log(JSON.stringify({ build: nn.build, ms: performance.now() - t0 }));
`;

function nodeColdStart(dist: string, model: string, runs: number): { build: string; ms: number } {
  const times: number[] = [];
  let build = '';
  for (let i = 0; i < runs; i++) {
    const child = spawnSync(process.execPath,
      ['--experimental-wasm-relaxed-simd', '--input-type=module', '-e', NODE_COLD, pathToFileURL(join(dist, 'node.js')).href, model],
      { encoding: 'utf8', timeout: 60_000 });
    if (child.status !== 0) throw new Error(child.stderr || `exit ${child.status}`);
    const r = JSON.parse(child.stdout) as { build: string; ms: number };
    times.push(r.ms);
    build = r.build;
  }
  return { build, ms: median(times) };
}

interface ColdRow { runtime: string; version: string; build: string; ms: number | null; note?: string }

export async function benchWeb(quick = false): Promise<void> {
  const dist = dirname(fileURLToPath(import.meta.url)); // this module is bundled into dist/
  const root = dirname(dist);
  const size = webShipSize(dist);
  console.log('\nWhat a web page ships for the core (dense networks): the JS of `neurite` plus one .wasm, gzip');
  const w = [24, 9, 9];
  console.log(pad(['file', 'bytes', 'gzip'], w));
  for (const r of size.rows) console.log(pad([r.file, r.bytes, r.gzip], w));
  console.log(pad(['total', size.bytes, size.gzip], w));
  console.log(`core ${kb(size.gzip)} gzipped — target ≤ ${kb(WEB_BUDGET_BYTES)}: ${size.gzip <= WEB_BUDGET_BYTES ? 'met' : 'MISSED'}`);
  console.log(`neurite/image (PNG/PGM decoding, optional): +${kb(graphGzip(dist, 'image.js', size.rows))}; `
    + `neurite/inline (single file, all three builds inside the JS): ${kb(graphGzip(dist, 'inline.js'))} in all`);

  const runs = quick ? 3 : 5;
  console.log(`\nCold start: import → init → load the shipped model → first prediction (median of ${runs} fresh starts)`);
  const rows: ColdRow[] = [];
  try {
    const node = nodeColdStart(dist, join(root, 'models', 'mnist-mlp.safetensors'), runs);
    rows.push({ runtime: 'Node', version: process.version, build: node.build, ms: node.ms, note: 'fresh process, --experimental-wasm-relaxed-simd' });
  } catch (e) {
    rows.push({ runtime: 'Node', version: process.version, build: '-', ms: null, note: `failed: ${(e as Error).message}` });
  }
  // Deno, Chromium and workerd are driven by the runtime test harnesses (source checkout only)
  const harness = join(root, 'tests', 'runtimes', 'coldstart.mjs');
  if (existsSync(harness)) {
    const { coldStarts } = await import(pathToFileURL(harness).href);
    rows.push(...await coldStarts({ runs }) as ColdRow[]);
  } else {
    console.log('(Deno, Chromium and workerd: run `npm run bench` in a source checkout with the dev dependencies)');
  }
  const w2 = [9, 18, 8, 10];
  console.log(pad(['runtime', 'version', 'build', 'cold start', ''], [...w2, 0]));
  for (const r of rows) {
    console.log(pad([r.runtime, r.version, r.build, r.ms === null ? 'n/a' : `${r.ms.toFixed(1)} ms`, r.note ?? ''], [...w2, 0]));
  }
  await pageRound(root, quick);
}

/** The web page's CNN fine-tuning round, measured in the page (source checkout only). */
async function pageRound(root: string, quick: boolean): Promise<void> {
  const harness = join(root, 'tests', 'runtimes', 'page-finetune.mjs');
  if (!existsSync(harness)) return;
  const { pageFineTune } = await import(pathToFileURL(harness).href);
  const r = await pageFineTune({ root, rounds: quick ? 3 : 5 });
  const s = r.first.settings;
  console.log(`
The web page's CNN fine-tuning round in Chromium ${r.chromium} (${r.first.build}; worker.js with the page's defaults: `
    + `${r.first.samples} samples × ${s.epochs} epochs, batch ${s.batchSize}): fit ${r.median.trainMs.toFixed(0)} ms, `
    + `whole round ${r.median.totalMs.toFixed(0)} ms (median of ${r.runs.length - 1} after the first, ${r.first.totalMs.toFixed(0)} ms with start-up). `
    + 'Against another checkout: node scripts/bench-page-finetune.mjs --against DIR');
}
