// neurite train: an MLP on MNIST with the runtime itself, saved as .safetensors.
import { writeFileAtomicSync } from '../node/atomic-write';
import { init } from '../node';
import type { ActivationName } from '../activations';
import type { OptimizerSpec } from '../optimizers';
import { Rng } from '../rng';
import { helpText, parseCommand } from './args';
import { TRAIN } from './commands';
import { MNIST_CNN } from './architectures';
import { loadMnist } from './mnist';

/** dst = each 28x28 digit of src moved by a random whole-pixel offset in [−shift, shift]². */
function shiftDigits(src: Float32Array, dst: Float32Array, count: number, shift: number, rng: Rng): void {
  dst.fill(0);
  for (let i = 0; i < count; i++) {
    const dx = rng.int(2 * shift + 1) - shift;
    const dy = rng.int(2 * shift + 1) - shift;
    const o = i * 784;
    for (let y = Math.max(0, -dy); y < Math.min(28, 28 - dy); y++) {
      const from = o + y * 28 + Math.max(0, -dx);
      const n = 28 - Math.abs(dx);
      dst.set(src.subarray(from, from + n), o + (y + dy) * 28 + Math.max(0, dx));
    }
  }
}

function bar(fraction: number, width = 30): string {
  const full = Math.round(fraction * width);
  return `[${'#'.repeat(full)}${'-'.repeat(width - full)}]`;
}

export async function trainCommand(argv: string[]): Promise<number> {
  const { positional, values, help } = parseCommand(TRAIN, argv);
  if (help) { process.stdout.write(helpText(TRAIN)); return 0; }
  if (positional.length) throw new Error(`neurite train takes no file arguments (got ${positional.join(' ')}); use --out FILE\n\n${helpText(TRAIN)}`);
  const arch = values.arch as 'mlp' | 'cnn';
  const hidden = (values.layers as string).split(',').filter(Boolean).map(Number);
  if (hidden.some((u) => !Number.isSafeInteger(u) || u < 1)) throw new Error(`neurite train: --layers takes widths like 256,128, not ${values.layers}`);
  const activation = values.activation as string;
  const epochs = values.epochs as number;
  const batchSize = values['batch-size'] as number;
  const lr = values.lr as number;
  const seed = values.seed as number;
  const out = values.out as string;
  const limit = (values.limit as number | undefined) ?? Infinity;

  const nn = await init();
  const train = loadMnist('train', limit);
  const test = loadMnist('test');
  const model = arch === 'cnn'
    ? nn.sequential({ inputShape: [1, 28, 28], seed, layers: MNIST_CNN })
    : nn.sequential({
      inputShape: [784],
      seed,
      layers: [
        ...hidden.map((units) => ({ type: 'dense' as const, units, activation: activation as ActivationName })),
        { type: 'dense', units: 10, activation: 'softmax' },
      ],
    });
  const steps = Math.ceil(train.count / batchSize) * epochs;
  const optimizer: OptimizerSpec = { type: 'adam', learningRate: lr, schedule: { type: 'cosine', decaySteps: steps, alpha: 0.01 } };
  const name = arch === 'cnn' ? 'a LeNet-style CNN' : `784-${hidden.join('-')}-10 (${activation})`;
  console.log(`training ${name} on ${train.count} MNIST images: ${epochs} epochs, batch ${batchSize}, Adam lr ${lr} with cosine decay, seed ${seed}, build ${model.build}`);
  const tty = process.stderr.isTTY;
  const batches = Math.ceil(train.count / batchSize);
  const t0 = performance.now();
  // with --augment, every epoch sees each digit shifted by up to `shift` pixels (seeded)
  const shift = values.augment as number;
  const rng = new Rng(seed + 1);
  const images = shift > 0 ? new Float32Array(train.images.length) : train.images;
  for (let e = 0; e < epochs; e++) {
    if (shift > 0) shiftDigits(train.images, images, train.count, shift, rng);
    await model.fit(images, train.labels, {
      epochs: 1, batchSize, optimizer, loss: 'categoricalCrossentropy', shuffle: true,
      validationData: [test.images, test.labels],
      onBatchEnd: tty ? (b, { loss }) => {
        if (b % 20 === 0) process.stderr.write(`\repoch ${e + 1}/${epochs} ${bar((b + 1) / batches)} loss ${loss.toFixed(4)}  `);
      } : undefined,
      onEpochEnd: (_, logs) => {
        if (tty) process.stderr.write('\r\x1b[K');
        const s = (performance.now() - t0) / 1000;
        console.log(`epoch ${String(e + 1).padStart(2)}/${epochs}  loss ${logs.loss.toFixed(4)}  acc ${(logs.accuracy! * 100).toFixed(2)}%  test loss ${logs.valLoss!.toFixed(4)}  test acc ${(logs.valAccuracy! * 100).toFixed(2)}%  ${s.toFixed(1)} s`);
      },
    });
  }
  const { accuracy } = model.evaluate(test.images, test.labels, { loss: 'categoricalCrossentropy' });
  writeFileAtomicSync(out, model.save()); // an interrupted run never leaves a torn model file
  console.log(`test accuracy ${(accuracy! * 100).toFixed(2)}% — saved ${out}`);
  return 0;
}
