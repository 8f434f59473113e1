// Side by side in one process: neurite vs TensorFlow.js 4.22 (wasm backend: XNNPACK, SIMD, one
// thread) on the peers' small MNIST CNN (conv 5×5·8 valid, ReLU, max-pool 2, conv 5×5·16 valid,
// ReLU, max-pool 2, dense 10 softmax; 5,994 parameters): batch-1 latency, batch-1000 images/s,
// training samples/s (Adam, batch 64). The peers are not dependencies of the project: install
// them without saving, in a scratch folder, and run from there:
//   npm install --no-save @tensorflow/tfjs-core@4.22 @tensorflow/tfjs-layers@4.22 @tensorflow/tfjs-backend-wasm@4.22 \
//     @tensorflow/tfjs-backend-cpu@4.22
//   node --experimental-wasm-relaxed-simd /path/to/neurite/scripts/bench-peers-cnn.mjs
import { createRequire } from 'node:module';
const require = createRequire(`${process.cwd()}/`); // the peers come from where it is run
const { init } = await import(new URL('../dist/node.js', import.meta.url).href);
const { time, atime } = await import('./peer-timing.mjs');
const tf = require('@tensorflow/tfjs-core');
const tfl = require('@tensorflow/tfjs-layers');
require('@tensorflow/tfjs-backend-wasm');
require('@tensorflow/tfjs-backend-cpu'); // the wasm backend has no conv gradient kernels: training runs here

const N = 1000, TRAIN = 1024;
const x = new Float32Array(Math.max(N, TRAIN) * 784).map((_, i) => (Math.sin(i * 0.37) + 1) / 2);
const labels = Uint8Array.from({ length: TRAIN }, (_, i) => i % 10);
const rows = [];

const nn = await init();
const m = nn.sequential({ inputShape: [1, 28, 28], seed: 1, layers: [
  { type: 'conv2d', filters: 8, kernelSize: 5, activation: 'relu' }, { type: 'maxPool2d', poolSize: 2 },
  { type: 'conv2d', filters: 16, kernelSize: 5, activation: 'relu' }, { type: 'maxPool2d', poolSize: 2 },
  { type: 'flatten' }, { type: 'dense', units: 10, activation: 'softmax' }] });
const x1 = x.subarray(0, 784), xn = x.subarray(0, N * 784), xt = x.subarray(0, TRAIN * 784);
rows.push([`neurite ${nn.build}`, time(() => m.predict(x1), 9, 300) * 1000, N / time(() => m.predict(xn), 9, 3) * 1000,
  TRAIN / await atime(() => m.fit(xt, labels, { epochs: 1, batchSize: 64, loss: 'categoricalCrossentropy', optimizer: { type: 'adam', learningRate: 1e-3 } }), 7) * 1000]);

const tfModel = () => {
  const t = tfl.sequential({ layers: [
    tfl.layers.conv2d({ inputShape: [28, 28, 1], filters: 8, kernelSize: 5, activation: 'relu' }), tfl.layers.maxPooling2d({ poolSize: 2 }),
    tfl.layers.conv2d({ filters: 16, kernelSize: 5, activation: 'relu' }), tfl.layers.maxPooling2d({ poolSize: 2 }),
    tfl.layers.flatten(), tfl.layers.dense({ units: 10, activation: 'softmax' })] });
  t.compile({ optimizer: tf.train.adam(1e-3), loss: 'sparseCategoricalCrossentropy' });
  return t;
};
const run = (t, input) => { const y = t.predict(input); y.dataSync(); y.dispose(); };
for (const backend of ['wasm', 'cpu']) {
  await tf.setBackend(backend); await tf.ready();
  const t = tfModel();
  const tx = tf.tensor4d(xn, [N, 28, 28, 1]), tx1 = tf.tensor4d(x1, [1, 28, 28, 1]);
  const txt = tf.tensor4d(xt, [TRAIN, 28, 28, 1]), tyt = tf.tensor1d(Array.from(labels), 'float32');
  let train = NaN;
  try {
    train = TRAIN / await atime(() => t.fit(txt, tyt, { epochs: 1, batchSize: 64, verbose: 0 }), 5) * 1000;
  } catch (e) {
    console.log(`TensorFlow.js ${backend}: no training (${e.message})`);
  }
  rows.push([`TensorFlow.js ${tf.version_core} ${backend}`, time(() => run(t, tx1), 9, 50) * 1000, N / time(() => run(t, tx), 7, 1) * 1000, train]);
}

console.log(`small MNIST CNN (5,994 parameters), side by side in one process (${process.version})`);
console.log(`${''.padEnd(30)} ${'batch-1'.padStart(10)} ${'batch-1000 img/s'.padStart(17)} ${'train samples/s'.padStart(16)}`);
for (const [name, lat, tput, tr] of rows) console.log(`${name.padEnd(30)} ${`${lat.toFixed(1)} µs`.padStart(10)} ${tput.toFixed(0).padStart(17)} ${tr.toFixed(0).padStart(16)}`);
const [a, w, c] = rows;
const trainPeer = Number.isFinite(w[3]) ? w : c;
console.log(`neurite / TensorFlow.js wasm: batch-1 ${(w[1] / a[1]).toFixed(1)}× faster, batch 1000 ${(a[2] / w[2]).toFixed(2)}×; `
  + `training ${(a[3] / trainPeer[3]).toFixed(1)}× TensorFlow.js ${Number.isFinite(w[3]) ? 'wasm' : 'cpu (the wasm backend cannot train a CNN)'}`);
