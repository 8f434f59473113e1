// neurite train: an MLP on MNIST with the runtime itself, saved as .safetensors.
import { writeFileSync } from 'node:fs';
import { init } from '../node';
import type { OptimizerSpec } from '../optimizers';
import { parseArgs, flagNumber, flagString } from './args';
import { loadMnist } from './mnist';

function bar(fraction: number, width = 30): string {
  const full = Math.round(fraction * width);
  return `[${'#'.repeat(full)}${'-'.repeat(width - full)}]`;
}

export async function trainCommand(argv: string[]): Promise<number> {
  const args = parseArgs(argv);
  const hidden = flagString(args, 'layers', '128').split(',').filter(Boolean).map(Number);
  const activation = flagString(args, 'activation', 'relu');
  const epochs = flagNumber(args, 'epochs', 10);
  const batchSize = flagNumber(args, 'batch-size', 64);
  const lr = flagNumber(args, 'lr', 0.001);
  const seed = flagNumber(args, 'seed', 1);
  const out = flagString(args, 'out', 'mnist-mlp.safetensors');
  const limit = flagNumber(args, 'limit', Infinity);

  const nn = await init();
  const train = loadMnist('train', limit);
  const test = loadMnist('test');
  const model = nn.sequential({
    inputShape: [784],
    seed,
    layers: [
      ...hidden.map((units) => ({ type: 'dense', units, activation })),
      { type: 'dense', units: 10, activation: 'softmax' },
    ],
  });
  const steps = Math.ceil(train.count / batchSize) * epochs;
  const optimizer: OptimizerSpec = { type: 'adam', learningRate: lr, schedule: { type: 'cosine', decaySteps: steps, alpha: 0.01 } };
  console.log(`training 784-${hidden.join('-')}-10 (${activation}) on ${train.count} MNIST images: ${epochs} epochs, batch ${batchSize}, Adam lr ${lr} with cosine decay, seed ${seed}, build ${model.build}`);
  const tty = process.stderr.isTTY;
  const batches = Math.ceil(train.count / batchSize);
  const t0 = performance.now();
  await model.fit(train.images, train.labels, {
    epochs, batchSize, optimizer, loss: 'categoricalCrossentropy', shuffle: true,
    validationData: [test.images, test.labels],
    onBatchEnd: tty ? (b, { loss, epoch }) => {
      if (b % 20 === 0) process.stderr.write(`\repoch ${epoch + 1}/${epochs} ${bar((b + 1) / batches)} loss ${loss.toFixed(4)}  `);
    } : undefined,
    onEpochEnd: (e, logs) => {
      if (tty) process.stderr.write('\r\x1b[K');
      const s = (performance.now() - t0) / 1000;
      console.log(`epoch ${String(e + 1).padStart(2)}/${epochs}  loss ${logs.loss.toFixed(4)}  acc ${(logs.accuracy! * 100).toFixed(2)}%  test loss ${logs.valLoss!.toFixed(4)}  test acc ${(logs.valAccuracy! * 100).toFixed(2)}%  ${s.toFixed(1)} s`);
    },
  });
  const { accuracy } = model.evaluate(test.images, test.labels, { loss: 'categoricalCrossentropy' });
  writeFileSync(out, model.save());
  console.log(`test accuracy ${(accuracy! * 100).toFixed(2)}% — saved ${out}`);
  return 0;
}
