// neurite bench: kernel and whole-model speed per build, measured side by side in one run.
// Every figure is the median of several timed repetitions (these machines are noisy).
import { init } from '../node';
import { supportedBuilds, type BuildName } from '../runtime';
import { Kernels } from '../wasm';
import { helpText, parseCommand } from './args';
import { BENCH } from './commands';
import { benchWeb } from './bench-web';
import { benchCnn } from './bench-cnn';
import { benchRnn } from './bench-rnn';
import { loadMnist } from './mnist';
import { row, time } from './stats';

const now = () => performance.now();
function gemmRates(k: Kernels, n: number, reference: boolean): number {
  const a = k.allocPersistent(n * n);
  const b = k.allocPersistent(n * n);
  const c = k.allocPersistent(n * n);
  const f = k.f32;
  for (let i = 0; i < n * n; i++) { f[(a >> 2) + i] = Math.sin(i) * 0.5; f[(b >> 2) + i] = Math.cos(i) * 0.5; }
  const flops = 2 * n * n * n;
  const inner = Math.max(1, Math.floor((reference ? 2e8 : 2e9) / flops / 5));
  const ms = reference
    ? time(() => k.k.gemm_reference(c, a, b, n, n, n, n, 1, n, 1, n, 0), 5, inner)
    : time(() => k.k.gemm(c, a, b, n, n, n, n, 1, n, 1, n, 0, k.scratch), 9, inner);
  return flops / ms / 1e6;
}


export async function benchCommand(argv: string[]): Promise<number> {
  const { positional, values, help } = parseCommand(BENCH, argv);
  if (help) { process.stdout.write(helpText(BENCH)); return 0; }
  if (positional.length) throw new Error(`neurite bench takes no arguments (got ${positional.join(' ')})\n\n${helpText(BENCH)}`);
  const quick = values.quick === true;
  const only = values.only;
  const builds = (['relaxed', 'simd', 'scalar'] as BuildName[]).filter((b) => supportedBuilds().includes(b));
  const runtimes = new Map(await Promise.all(builds.map(async (b) => [b, await init({ build: b })] as const)));
  console.log(`neurite bench — Node ${process.version}, one thread; builds: ${builds.join(', ')}; medians of repeated runs\n`);
  if (only === 'rnn') {
    await benchRnn(runtimes, quick);
    return 0;
  }
  if (only === 'cnn') {
    await benchCnn(runtimes, loadMnist('train', quick ? 10000 : Infinity), loadMnist('test', 1000), quick);
    return 0;
  }
  if (only === 'web') {
    await benchWeb(quick);
    return 0;
  }

  console.log('SGEMM, square n×n×n, GFLOP/s (ratio to the scalar build | to the plain reference loop)');
  const sizes = [64, 128, 256, 512];
  const ref = new Kernels(runtimes.get('scalar')!.module);
  const refRates = new Map(sizes.map((n) => [n, gemmRates(ref, n, true)]));
  const scalarRates = new Map<number, number>();
  const w = [10, 22, 22, 22, 22];
  console.log(row(['build', ...sizes.map((n) => `n=${n}`)], w));
  for (const b of [...builds].reverse()) {
    const k = new Kernels(runtimes.get(b)!.module);
    const cells = sizes.map((n) => {
      const r = gemmRates(k, n, false);
      if (b === 'scalar') scalarRates.set(n, r);
      return `${r.toFixed(1)} (${(r / scalarRates.get(n)!).toFixed(1)}x|${(r / refRates.get(n)!).toFixed(1)}x)`;
    });
    console.log(row([b, ...cells], w));
  }
  console.log(row(['reference', ...sizes.map((n) => refRates.get(n)!.toFixed(2))], w));
  console.log('targets: relaxed ≥ 40 GFLOP/s at 128-512, simd ≥ 28\n');

  const train = loadMnist('train', quick ? 10000 : Infinity);
  const test = loadMnist('test', 1000);
  console.log(`MNIST MLP 784-128(relu)-10(softmax): inference and training (Adam, batch 64, one epoch of ${train.count} images)`);
  const w2 = [10, 16, 18, 20, 20];
  console.log(row(['build', 'batch-1 latency', 'batch-64 img/s', 'batch-1000 img/s', 'train samples/s'], w2));
  for (const b of builds) {
    const nn = runtimes.get(b)!;
    const model = nn.sequential({ inputShape: [784], seed: 1, layers: [
      { type: 'dense', units: 128, activation: 'relu' }, { type: 'dense', units: 10, activation: 'softmax' }] });
    const one = test.images.subarray(0, 784);
    const b64 = test.images.subarray(0, 64 * 784);
    const lat = time(() => model.predict(one), 9, 2000) * 1000;
    const t64 = 64 / time(() => model.predict(b64), 9, 50) * 1000;
    const t1000 = 1000 / time(() => model.predict(test.images), 7, 3) * 1000;
    const s = now();
    await model.fit(train.images, train.labels, { epochs: 1, batchSize: 64, optimizer: { type: 'adam', learningRate: 1e-3 } });
    const sps = train.count / (now() - s) * 1000;
    console.log(row([b, `${lat.toFixed(1)} µs`, Math.round(t64).toLocaleString('en-US'),
      Math.round(t1000).toLocaleString('en-US'), Math.round(sps).toLocaleString('en-US')], w2));
  }
  console.log('targets: batch-1 ≤ 12 µs, batch-1000 ≥ 180,000 img/s, training ≥ 25,000 samples/s');
  await benchCnn(runtimes, train, test, quick);
  await benchRnn(runtimes, quick);
  await benchWeb(quick);
  return 0;
}
