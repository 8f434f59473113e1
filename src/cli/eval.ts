// neurite eval: accuracy and speed of a model file on the MNIST test set.
import { readFileSync } from 'node:fs';
import { init } from '../node';
import type { BuildName } from '../runtime';
import { helpText, parseCommand } from './args';
import { EVAL } from './commands';
import { loadMnist } from './mnist';
import { median } from './stats';

export async function evalCommand(argv: string[]): Promise<number> {
  const { positional, values, help } = parseCommand(EVAL, argv);
  if (help) { process.stdout.write(helpText(EVAL)); return 0; }
  const [file, ...extra] = positional;
  if (!file || extra.length) throw new Error(`usage: neurite eval <model.safetensors>\n\n${helpText(EVAL)}`);
  const data = values.data as string;
  const build = values.build as BuildName | 'auto';
  const nn = await init({ build });
  const model = nn.load(readFileSync(file));
  const set = loadMnist(data === 'mnist-test' ? 'test' : 'train', (values.limit as number | undefined) ?? Infinity);
  const t0 = performance.now();
  const { loss, accuracy } = model.evaluate(set.images, set.labels, { loss: 'categoricalCrossentropy', batchSize: 1000 });
  const seconds = (performance.now() - t0) / 1000;
  const one = set.images.subarray(0, 784);
  for (let i = 0; i < 200; i++) model.predict(one);
  const lat: number[] = [];
  for (let r = 0; r < 7; r++) {
    const s = performance.now();
    for (let i = 0; i < 500; i++) model.predict(one);
    lat.push((performance.now() - s) / 500);
  }
  console.log(`model     ${file} (${model.parameterCount.toLocaleString('en-US')} parameters, ${model.layers.map((l) => l.config().type).join(' → ')})`);
  console.log(`build     ${model.build}`);
  console.log(`data      ${data} (${set.count.toLocaleString('en-US')} images)`);
  console.log(`accuracy  ${(accuracy! * 100).toFixed(2)}%`);
  console.log(`loss      ${loss.toFixed(4)}`);
  console.log(`speed     ${Math.round(set.count / seconds).toLocaleString('en-US')} images/s (batches of 1000), ${(median(lat) * 1000).toFixed(1)} µs per single image`);
  return 0;
}
