// neurite predict: the digit in an image file.
import { readFileSync } from 'node:fs';
import { inflateSync } from 'node:zlib';
import { decodeImage, toMnist } from '../image/index';
import { init } from '../node';
import { parseArgs } from './args';

export async function predictCommand(argv: string[]): Promise<number> {
  const args = parseArgs(argv);
  const [file, image] = args.positional;
  if (!file || !image) throw new Error('usage: neurite predict <model.safetensors> <image.png|.pgm>');
  const nn = await init();
  const model = nn.load(readFileSync(file));
  // bound the inflated size: the PNG decoder cannot bound an inflate it did not build
  const img = await decodeImage(readFileSync(image), (d: Uint8Array) => inflateSync(d, { maxOutputLength: 256 * 2 ** 20 }));
  const pixels = toMnist(img);
  const t0 = performance.now();
  const probs = model.predict(pixels);
  const ms = performance.now() - t0;
  let digit = 0;
  for (let i = 1; i < probs.length; i++) if (probs[i] > probs[digit]) digit = i;
  console.log(`digit ${digit}  (${(probs[digit] * 100).toFixed(1)}%, ${img.width}x${img.height} image, ${ms.toFixed(2)} ms, ${model.build})`);
  probs.forEach((p, i) => console.log(`  ${i}  ${'█'.repeat(Math.round(p * 40)).padEnd(40)} ${(p * 100).toFixed(2)}%`));
  return 0;
}
