// neurite bench, CNN part: convolution GFLOP/s per build, the peers' small MNIST CNN and the shipped
// LeNet-style CNN (inference latency, throughput, training speed). Each figure is measured twice
// in the same run, alternating: with the kernels each layer now picks ('now') and with every
// convolution forced onto the per-sample im2col + GEMM kernels the layers used before ('im2col').
import { existsSync, readFileSync } from 'node:fs';
import type { LayerConfig } from '../layers/config';
import type { FitOptions } from '../fit';
import type { Model } from '../model';
import type { Neurite } from '../neurite';
import type { BuildName } from '../runtime';
import { forceConvKernel, type ConvKernel } from '../layers/conv2d';
import type { Mnist } from './mnist';
import { MNIST_CNN } from './architectures';
import { median, row } from './stats';

/** The peers' small MNIST CNN (5,994 parameters), as in the TensorFlow.js / ONNX Runtime Web comparisons. */
export const SMALL_CNN: LayerConfig[] = [
  { type: 'conv2d', filters: 8, kernelSize: 5, activation: 'relu' },
  { type: 'maxPool2d', poolSize: 2 },
  { type: 'conv2d', filters: 16, kernelSize: 5, activation: 'relu' },
  { type: 'maxPool2d', poolSize: 2 },
  { type: 'flatten' },
  { type: 'dense', units: 10, activation: 'softmax' },
];
/** TensorFlow.js wasm (XNNPACK) on the small CNN, batch 1000, measured on this machine (issue 13). */
const TFJS_WASM_SMALL_B1000 = 16_200;

const PATHS: ConvKernel[] = ['indirect', 'im2col'];
const label = (p: ConvKernel) => (p === 'indirect' ? 'now' : 'im2col');

/** Build one model per path: the kernel choice is made when a layer is constructed. */
function models(nn: Neurite, make: (nn: Neurite) => Model): Model[] {
  return PATHS.map((p) => {
    forceConvKernel(p === 'indirect' ? undefined : p);
    try { return make(nn); } finally { forceConvKernel(undefined); }
  });
}

/** Median ms per call of each fn, the fns alternating rep by rep (after a warm-up of each). */
function alternate(fns: (() => void)[], reps: number, inner: number): number[] {
  for (const fn of fns) { const s = performance.now(); do fn(); while (performance.now() - s < 150); }
  const t: number[][] = fns.map(() => []);
  for (let r = 0; r < reps; r++) {
    fns.forEach((fn, i) => {
      const s = performance.now();
      for (let j = 0; j < inner; j++) fn();
      t[i].push((performance.now() - s) / inner);
    });
  }
  return t.map(median);
}

const int = (v: number) => Math.round(v).toLocaleString('en-US');
const pair = (a: string, b: string) => `${a} (${b})`;

export async function benchCnn(runtimes: Map<BuildName, Neurite>, train: Mnist, test: Mnist, quick: boolean): Promise<void> {
  console.log('\nConvolution forward, 3x3 same padding, batch 8, GFLOP/s: the layer alone (through predict); now vs per-sample im2col');
  const shapes = [[1, 16, 28], [16, 32, 14], [32, 64, 7]]; // in channels, filters, size
  const w = [10, ...shapes.map(() => 30)];
  console.log(row(['build', ...shapes.map(([c, f, s]) => `${c}→${f} @${s}x${s}`)], w));
  for (const [build, nn] of runtimes) {
    const cells = shapes.map(([c, f, s]) => {
      const ms = models(nn, (n) => n.sequential({ inputShape: [c, s, s], seed: 1, layers: [{ type: 'conv2d', filters: f, kernelSize: 3, padding: 'same' }] }));
      const x = new Float32Array(8 * c * s * s).map((_, i) => Math.sin(i));
      const flops = 2 * 8 * f * s * s * c * 9;
      const inner = Math.max(1, Math.round(2e7 / flops / (build === 'scalar' ? 8 : 1)));
      // the layer alone: the planned batch through forwardPass, without predict's copies in and out
      const alone = ms.map(({ engine: e }) => { e.ensurePlan(8); e.loadBatch(x, null, null, 0, 8); return () => e.forwardPass(8, false); });
      const tAlone = alternate(alone, 9, inner);
      const tPredict = alternate(ms.map((m) => () => m.predict(x)), 9, inner);
      const g = (t: number) => (flops / t / 1e6).toFixed(1);
      return `${g(tAlone[0])} (${g(tPredict[0])}) vs ${g(tAlone[1])} (${g(tPredict[1])})`;
    });
    console.log(row([build, ...cells], w));
  }
  console.log('targets: 1→16 @28 ≥ 25 GFLOP/s, 16→32 @14 ≥ 38 (relaxed)');

  console.log(`\nSmall MNIST CNN (conv5x5·8 valid, pool, conv5x5·16 valid, pool, dense 10; 5,994 parameters): now (per-sample im2col)`);
  const ws = [10, 22, 24, 20];
  console.log(row(['build', 'batch-1 latency', 'batch-1000 img/s', '× TF.js wasm'], ws));
  for (const [build, nn] of runtimes) {
    const [a, b] = models(nn, (n) => n.sequential({ inputShape: [1, 28, 28], seed: 1, layers: SMALL_CNN }));
    const one = test.images.subarray(0, 784);
    const all = test.images.subarray(0, 1000 * 784);
    const lat = alternate([() => a.predict(one), () => b.predict(one)], 9, build === 'scalar' ? 20 : 200).map((t) => t * 1000);
    const tput = alternate([() => a.predict(all), () => b.predict(all)], build === 'scalar' ? 3 : 7, 1).map((t) => 1000 / t * 1000);
    console.log(row([build, pair(`${lat[0].toFixed(1)} µs`, `${lat[1].toFixed(1)}`), pair(int(tput[0]), int(tput[1])),
      `${(tput[0] / TFJS_WASM_SMALL_B1000).toFixed(2)}x`], ws));
  }
  console.log(`targets: batch 1000 ≥ 3 × TensorFlow.js wasm (${int(TFJS_WASM_SMALL_B1000)} img/s, issue 13's side-by-side run) = ${int(3 * TFJS_WASM_SMALL_B1000)}; batch 1 no slower than before`);

  const n = quick ? 2000 : 6000;
  console.log(`\nMNIST CNN (LeNet-style, as shipped: conv5x5·16, pool, conv5x5·32, pool, dense 128, dropout, dense 10): inference, and training (Adam, batch 64, ${n} images); now (per-sample im2col)`);
  const w2 = [10, 18, 20, 20];
  console.log(row(['build', 'batch-1 latency', 'batch-64 img/s', 'train samples/s'], w2));
  for (const [build, nn] of runtimes) {
    const [a, b] = models(nn, (m) => m.sequential({ inputShape: [1, 28, 28], seed: 1, layers: MNIST_CNN }));
    const one = test.images.subarray(0, 784);
    const b64 = test.images.subarray(0, 64 * 784);
    const lat = alternate([() => a.predict(one), () => b.predict(one)], 9, build === 'scalar' ? 10 : 100).map((t) => t * 1000);
    const t64 = alternate([() => a.predict(b64), () => b.predict(b64)], 7, build === 'scalar' ? 1 : 4).map((t) => 64 / t * 1000);
    const sps = await trainingRates([a, b], train, Math.floor(n / 3 / 64) * 64, { epochs: 1, batchSize: 64 });
    console.log(row([build, pair(`${lat[0].toFixed(0)} µs`, `${lat[1].toFixed(0)}`), pair(int(t64[0]), int(t64[1])),
      pair(int(sps[0]), int(sps[1]))], w2));
  }
  console.log('targets: batch-1 ≤ 150 µs, batch-64 ≥ 6,600 img/s, training ≥ 2,600 samples/s (relaxed)');
  await benchFineTune(runtimes, train, quick);
}

/**
 * Training samples/s of each model: three alternating rounds of `part` images each (the next
 * `part` images every round), the median rate of each.
 */
async function trainingRates(ms: Model[], train: Mnist, part: number, options: FitOptions): Promise<number[]> {
  const sps: number[][] = ms.map(() => []);
  for (let r = 0; r < 3; r++) {
    for (const [i, m] of ms.entries()) {
      const x = train.images.subarray(r * part * 784, (r + 1) * part * 784);
      const s = performance.now();
      await m.fit(x, train.labels.subarray(r * part, (r + 1) * part), options);
      sps[i].push(part / (performance.now() - s) * 1000);
    }
  }
  return sps.map(median);
}

/**
 * Training the shipped weights (what the web page does), where a trained network's sparse
 * gradients take the scattered conv backward: samples/s at batch 32 and 64, now vs im2col.
 */
async function benchFineTune(runtimes: Map<BuildName, Neurite>, train: Mnist, quick: boolean): Promise<void> {
  const file = new URL('../models/mnist-cnn.safetensors', import.meta.url); // dist/ sits beside models/
  if (!existsSync(file)) return;
  const bytes = readFileSync(file);
  const nn = runtimes.get('relaxed') ?? runtimes.values().next().value!;
  const part = quick ? 640 : 1920;
  console.log(`
Fine-tuning the shipped CNN's weights (models/mnist-cnn.safetensors; Adam lr 5e-4, ${nn.build}): samples/s, now (per-sample im2col)`);
  const cells: string[] = [];
  for (const batchSize of [32, 64]) {
    const sps = await trainingRates(models(nn, (m) => m.load(bytes)), train, part, { epochs: 1, batchSize, optimizer: { type: 'adam', learningRate: 5e-4 } });
    cells.push(`batch ${batchSize}: ${pair(int(sps[0]), int(sps[1]))}`);
  }
  console.log(cells.join('   '));
}
