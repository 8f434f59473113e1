// neurite bench, recurrent part: LSTM(64) and GRU(64) over 32 steps of 2 features → dense 1
// (MSE, Adam, batch 32): batch-1 latency, batch-256 sequences/s and training samples/s per build.
import type { Neurite } from '../neurite';
import type { BuildName } from '../runtime';
import { row, time } from './stats';

const [T, F, U] = [32, 2, 64];

export async function benchRnn(runtimes: Map<BuildName, Neurite>, quick: boolean): Promise<void> {
  const n = quick ? 1024 : 4096;
  console.log(`\nRecurrent: ${T} steps of ${F} features → ${U} units → dense 1 (training: MSE, Adam, batch 32, ${n} sequences)`);
  const w = [6, 10, 16, 22, 20];
  console.log(row(['cell', 'build', 'batch-1 latency', 'batch-256 sequences/s', 'train samples/s'], w));
  const x = new Float32Array(n * T * F).map((_, i) => Math.sin(i * 0.37));
  const y = new Float32Array(n).map((_, i) => Math.cos(i));
  for (const type of ['lstm', 'gru'] as const) {
    for (const [build, nn] of runtimes) {
      const m = nn.sequential({ inputShape: [T, F], seed: 1, layers: [{ type, units: U }, { type: 'dense', units: 1 }] });
      const lat = time(() => m.predict(x.subarray(0, T * F)), 9, 200) * 1000;
      const b256 = x.subarray(0, 256 * T * F);
      const tput = 256 / time(() => m.predict(b256), 7, 3) * 1000;
      const opts = { epochs: 1, batchSize: 32, loss: 'mse' as const, optimizer: { type: 'adam' as const, learningRate: 1e-3 } };
      await m.fit(x.subarray(0, 64 * T * F), y.subarray(0, 64), opts); // warm
      const s = performance.now();
      await m.fit(x, y, opts);
      const sps = n / (performance.now() - s) * 1000;
      console.log(row([type, build, `${lat.toFixed(1)} µs`, Math.round(tput).toLocaleString('en-US'), Math.round(sps).toLocaleString('en-US')], w));
      m.dispose();
    }
  }
  console.log('targets: batch-1 ≤ 64 µs, batch-256 ≥ 21,000 sequences/s, training ≥ 6,000 samples/s (LSTM; peers on this machine: ONNX Runtime Web 192 µs and 7,000 sequences/s, TensorFlow.js wasm 61 samples/s)');
}
