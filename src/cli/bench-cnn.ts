// neurite bench, CNN part: convolution GFLOP/s per build, and a LeNet-style MNIST CNN's
// inference latency, throughput and training speed.
import type { Neurite } from '../neurite';
import type { BuildName } from '../runtime';
import type { Mnist } from './mnist';
import { MNIST_CNN } from './architectures';
import { row, time } from './stats';

export async function benchCnn(runtimes: Map<BuildName, Neurite>, train: Mnist, test: Mnist, quick: boolean): Promise<void> {
  console.log('\nConvolution forward, 3x3 same padding, batch 8 (GFLOP/s)');
  const shapes = [[1, 16, 28], [16, 32, 14], [32, 64, 7]]; // in channels, filters, size
  const w = [10, ...shapes.map(() => 18)];
  console.log(row(['build', ...shapes.map(([c, f, s]) => `${c}→${f} @${s}x${s}`)], w));
  for (const [build, nn] of runtimes) {
    const cells = shapes.map(([c, f, s]) => {
      const m = nn.sequential({ inputShape: [c, s, s], seed: 1, layers: [{ type: 'conv2d', filters: f, kernelSize: 3, padding: 'same' }] });
      const x = new Float32Array(8 * c * s * s).map((_, i) => Math.sin(i));
      const ms = time(() => m.predict(x), 7, Math.max(1, Math.round(2e7 / (8 * f * s * s * c * 9))));
      return (2 * 8 * f * s * s * c * 9 / ms / 1e6).toFixed(1);
    });
    console.log(row([build, ...cells], w));
  }

  const n = quick ? 2000 : 6000;
  console.log(`\nMNIST CNN (LeNet-style, as shipped: conv5x5·16, pool, conv5x5·32, pool, dense 128, dropout, dense 10): inference, and training (Adam, batch 64, ${n} images)`);
  const w2 = [10, 16, 18, 20];
  console.log(row(['build', 'batch-1 latency', 'batch-64 img/s', 'train samples/s'], w2));
  for (const [build, nn] of runtimes) {
    const m = nn.sequential({ inputShape: [1, 28, 28], seed: 1, layers: MNIST_CNN });
    const one = test.images.subarray(0, 784);
    const b64 = test.images.subarray(0, 64 * 784);
    const lat = time(() => m.predict(one), 7, build === 'scalar' ? 20 : 100) * 1000;
    const t64 = 64 / time(() => m.predict(b64), 5, 2) * 1000;
    const s = performance.now();
    await m.fit(train.images.subarray(0, n * 784), train.labels.subarray(0, n), { epochs: 1, batchSize: 64 });
    const sps = n / (performance.now() - s) * 1000;
    console.log(row([build, `${lat.toFixed(0)} µs`, Math.round(t64).toLocaleString('en-US'), Math.round(sps).toLocaleString('en-US')], w2));
  }
}
