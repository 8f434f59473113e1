// neurite predict: the digit in each of one or more image files.
import { readFileSync } from 'node:fs';
import { inflateSync } from 'node:zlib';
import { decodeImage, findDigit } from '../image/index';
import { init } from '../node';
import { helpText, parseCommand } from './args';
import { PREDICT } from './commands';

/**
 * Prints one answer per image, in order. Exit code 0 when every image had a digit; 1 when any
 * had none ("no digit found") or could not be read, so a script can tell.
 */
export async function predictCommand(argv: string[]): Promise<number> {
  const { positional, help } = parseCommand(PREDICT, argv);
  if (help) { process.stdout.write(helpText(PREDICT)); return 0; }
  const [file, ...images] = positional;
  if (!file || images.length === 0) throw new Error(`usage: neurite predict <model.safetensors> <image.png|.pgm>...\n\n${helpText(PREDICT)}`);
  const nn = await init();
  const model = nn.load(readFileSync(file));
  let failed = 0;
  for (const image of images) {
    const prefix = images.length > 1 ? `${image}: ` : '';
    try {
      // bound the inflated size: the PNG decoder cannot bound an inflate it did not build
      const img = await decodeImage(readFileSync(image), (d: Uint8Array) => inflateSync(d, { maxOutputLength: 256 * 2 ** 20 }));
      const { pixels, reason } = findDigit(img);
      if (reason) {
        console.log(`${prefix}no digit found (${reason}, ${img.width}x${img.height} image)`);
        failed++;
        continue;
      }
      const t0 = performance.now();
      const probs = model.predict(pixels);
      const ms = performance.now() - t0;
      const order = Array.from(probs.keys()).sort((a, b) => probs[b] - probs[a]);
      const [digit, second] = order;
      console.log(`${prefix}digit ${digit}  (${(probs[digit] * 100).toFixed(1)}%; next ${second} ${(probs[second] * 100).toFixed(1)}%; `
        + `${img.width}x${img.height} image, ${ms.toFixed(2)} ms, ${model.build}${model.temperature !== 1 ? `, calibrated T=${model.temperature}` : ''})`);
      if (images.length === 1) probs.forEach((p, i) => console.log(`  ${i}  ${'█'.repeat(Math.round(p * 40)).padEnd(40)} ${(p * 100).toFixed(2)}%`));
    } catch (e) {
      const err = e as { code?: string; message?: string };
      process.stderr.write(`neurite: ${prefix}${err.code ? `[${err.code}] ` : ''}${err.message ?? String(e)}\n`);
      failed++;
    }
  }
  return failed > 0 ? 1 : 0;
}
