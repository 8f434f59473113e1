// Side by side in one process: neurite vs TensorFlow.js (wasm backend) vs ONNX Runtime Web (wasm,
// one thread; one fused LSTM op built with onnx-proto) on
// LSTM(64) over 32 steps of 2 features → dense 1 (and GRU for the first two).
// The peers are not dependencies of the project; install them without saving, then run:
//   npm install --no-save @tensorflow/tfjs-core@4.22 @tensorflow/tfjs-layers@4.22 \
//     @tensorflow/tfjs-backend-wasm@4.22 @tensorflow/tfjs-backend-cpu@4.22 onnxruntime-web@1.30 onnx-proto
//   node --experimental-wasm-relaxed-simd scripts/bench-peers-rnn.mjs
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const { init } = await import('../dist/node.js');
const { time, atime } = await import('./peer-timing.mjs');
const tf = require('@tensorflow/tfjs-core');
require('@tensorflow/tfjs-layers');
const tfl = require('@tensorflow/tfjs-layers');
require('@tensorflow/tfjs-backend-wasm');
const ort = await import('onnxruntime-web');
const { onnx } = require('onnx-proto');

const [T, F, H] = [32, 2, 64];
const x1 = new Float32Array(T * F).map((_, i) => Math.sin(i * 0.37));
const x256 = new Float32Array(256 * T * F).map((_, i) => Math.sin(i * 0.37));
const y256 = new Float32Array(256).map((_, i) => Math.cos(i));
const rows = [];

// neurite
const nn = await init();
for (const type of ['lstm', 'gru']) {
  const m = nn.sequential({ inputShape: [T, F], seed: 1, layers: [{ type, units: H }, { type: 'dense', units: 1 }] });
  const lat = time(() => m.predict(x1), 9, 300) * 1000;
  const tput = 256 / time(() => m.predict(x256), 9, 3) * 1000;
  const tr = 256 / await atime(() => m.fit(x256, y256, { epochs: 1, batchSize: 32, loss: 'mse' }), 7, 1) * 1000;
  rows.push([`neurite ${nn.build} ${type}`, lat, tput, tr]);
}

// TensorFlow.js wasm
tf.setBackend('wasm'); await tf.ready();
for (const kind of ['lstm', 'gru']) {
  const model = tfl.sequential();
  model.add(tfl.layers[kind]({ units: H, inputShape: [T, F], recurrentInitializer: 'glorotUniform' }));
  model.add(tfl.layers.dense({ units: 1 }));
  model.compile({ optimizer: 'adam', loss: 'meanSquaredError' });
  const t1 = tf.tensor3d(x1, [1, T, F]); const t256 = tf.tensor3d(x256, [256, T, F]); const ty = tf.tensor2d(y256, [256, 1]);
  const lat = time(() => tf.tidy(() => model.predict(t1).dataSync()), 5, 5) * 1000;
  const tput = 256 / time(() => tf.tidy(() => model.predict(t256).dataSync()), 3, 1) * 1000;
  const tr = 256 / await atime(() => model.fit(t256, ty, { epochs: 1, batchSize: 32, verbose: 0 }), 3, 1) * 1000;
  rows.push([`tfjs-wasm ${kind}`, lat, tput, tr]);
}

// ONNX Runtime Web: one fused LSTM op + MatMul + Add
ort.env.wasm.numThreads = 1;
function lstmOnnx() {
  const rnd = (n) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 1.7) * 0.2);
  const tensor = (name, dims, data) => onnx.TensorProto.create({ name, dims, dataType: 1, rawData: new Uint8Array(data.buffer) });
  const vi = (name, dims) => onnx.ValueInfoProto.create({ name, type: { tensorType: { elemType: 1, shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) } } } });
  const graph = onnx.GraphProto.create({
    name: 'g',
    node: [
      onnx.NodeProto.create({ opType: 'LSTM', input: ['X', 'W', 'R', 'B'], output: ['Y', 'Yh'], attribute: [onnx.AttributeProto.create({ name: 'hidden_size', i: H, type: 2 })] }),
      onnx.NodeProto.create({ opType: 'Squeeze', input: ['Yh', 'ax'], output: ['h'] }),
      onnx.NodeProto.create({ opType: 'MatMul', input: ['h', 'Wd'], output: ['m'] }),
      onnx.NodeProto.create({ opType: 'Add', input: ['m', 'bd'], output: ['out'] }),
    ],
    initializer: [tensor('W', [1, 4 * H, F], rnd(4 * H * F)), tensor('R', [1, 4 * H, H], rnd(4 * H * H)), tensor('B', [1, 8 * H], rnd(8 * H)),
      tensor('Wd', [H, 1], rnd(H)), tensor('bd', [1], rnd(1)),
      onnx.TensorProto.create({ name: 'ax', dims: [1], dataType: 7, int64Data: [0] })],
    input: [vi('X', [T, 'N', F])],
    output: [vi('out', ['N', 1])],
  });
  const model = onnx.ModelProto.create({ irVersion: 8, opsetImport: [{ domain: '', version: 14 }], graph });
  return onnx.ModelProto.encode(model).finish();
}
const sess = await ort.InferenceSession.create(lstmOnnx(), { executionProviders: ['wasm'] });
const o1 = { X: new ort.Tensor('float32', x1, [T, 1, F]) };
const o256 = { X: new ort.Tensor('float32', x256, [T, 256, F]) };
const lat = await atime(() => sess.run(o1), 9, 200) * 1000;
const tput = 256 / await atime(() => sess.run(o256), 9, 3) * 1000;
rows.push(['onnxruntime-web lstm', lat, tput, NaN]);

const os = await import('node:os');
console.log(`load average ${os.loadavg().map((v) => v.toFixed(2)).join(' ')}`);
console.log('runtime'.padEnd(28), 'batch-1 µs'.padStart(12), 'batch-256 seq/s'.padStart(16), 'train samples/s'.padStart(16));
for (const [n, a, b, c] of rows) console.log(n.padEnd(28), a.toFixed(1).padStart(12), Math.round(b).toLocaleString('en-US').padStart(16), (Number.isNaN(c) ? '—' : Math.round(c).toLocaleString('en-US')).padStart(16));
