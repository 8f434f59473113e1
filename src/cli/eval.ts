// neurite eval: accuracy and speed of a model file on the MNIST test set.
import { readFileSync } from 'node:fs';
import { init } from '../node';
import type { BuildName } from '../runtime';
import { parseArgs, flagNumber, flagString } from './args';
import { loadMnist } from './mnist';
import { median } from './stats';

export async function evalCommand(argv: string[]): Promise<number> {
  const args = parseArgs(argv);
  const file = args.positional[0];
  if (!file) throw new Error('usage: neurite eval <model.safetensors> [--data mnist-test]');
  const data = flagString(args, 'data', 'mnist-test');
  if (data !== 'mnist-test' && data !== 'mnist-train') throw new Error(`--data: mnist-test or mnist-train, not ${data}`);
  const build = flagString(args, 'build', 'auto') as BuildName | 'auto';
  const nn = await init({ build });
  const model = nn.load(readFileSync(file));
  const set = loadMnist(data === 'mnist-test' ? 'test' : 'train', flagNumber(args, 'limit', Infinity));
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
