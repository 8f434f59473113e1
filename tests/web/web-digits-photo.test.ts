// examples/web-digits in Chromium reading photos: uploaded through the Photo… button and pasted
// from the clipboard, each must give the answer Node gives for the same file through
// neurite/image and the same model file (the worker is checked against Node in
// tests/runtimes/edge-worker.test.ts, the CLI in tests/cli); a blank page is no digit, and an
// unsure answer says "not sure" and names the runner-up.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { decodeImage, findDigit } from '../../src/image/index';
import { photoSet } from '../image/photos';
import { runtime } from '../helpers/neurite';
import { ROOT, WAIT, open, start, type Opened, type Session } from './harness';

let session: Session;
let opened: Opened | undefined;
beforeAll(async () => { session = await start(); }, 2 * WAIT);
afterAll(async () => { await opened?.context.close().catch(() => {}); await session?.close(); }, WAIT);

it('an uploaded or pasted photo gets the answer Node gets; a blank page none; doubt is said', async () => {
  opened = await open(session);
  const p = opened.page;
  await p.selectOption('#model', 'mnist-mlp');
  await p.waitForFunction(() => (window as any).webDigits.model === 'mnist-mlp');
  const nn = await runtime('relaxed');
  const model = nn.load(readFileSync(join(ROOT, 'models/mnist-mlp.safetensors')));
  const node = async (png: Uint8Array) => {
    const found = findDigit(await decodeImage(png, (d: Uint8Array) => inflateSync(d)));
    return found.reason ? null : Array.from(model.predict(found.pixels));
  };
  const count = () => p.evaluate(() => (window as any).webDigits.predictions.length);
  const pageAnswer = async (before: number) => {
    await p.waitForFunction((n) => (window as any).webDigits.predictions.length > n, before, { timeout: WAIT });
    return p.evaluate(() => (window as any).webDigits.predictions.at(-1));
  };

  // six photos, and the first of the set the MLP is unsure of (its best class under 70%)
  const set = photoSet(99, 200);
  let doubtful: (typeof set)[number] | undefined;
  for (const photo of set.slice(6)) {
    const want = await node(photo.png);
    if (want && Math.max(...want) < 0.7) { doubtful = photo; break; }
  }
  expect(doubtful, 'a photo the MLP is unsure of among 200').toBeDefined();
  const photos = [...set.slice(0, 6), doubtful!];
  let unsure = 0;
  for (const [i, photo] of photos.entries()) {
    const before = await count();
    const file = { name: `photo-${i}.png`, mimeType: 'image/png', buffer: Buffer.from(photo.png) };
    if (i % 2 === 0) {
      await p.setInputFiles('#upload', file);
    } else {
      // a paste event carrying the file, as Ctrl+V with an image on the clipboard sends it
      await p.evaluate(({ name, bytes }) => {
        const dt = new DataTransfer();
        dt.items.add(new File([new Uint8Array(bytes)], name, { type: 'image/png' }));
        document.dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt }));
      }, { name: file.name, bytes: Array.from(photo.png) });
    }
    const got = await pageAnswer(before);
    const want = await node(photo.png);
    expect(want, photo.describe).not.toBeNull();
    const best = want!.indexOf(Math.max(...want!));
    expect(got.digit, `${photo.describe}: page vs Node`).toBe(best);
    for (let d = 0; d < 10; d++) expect(Math.abs(got.probs[d] - want![d])).toBeLessThan(1e-4);
    const text = await p.locator('#confidence').textContent();
    if (want![best] < 0.7) {
      unsure++;
      const second = want!.map((v, d) => (d === best ? -1 : v)).indexOf(Math.max(...want!.filter((_, d) => d !== best)));
      expect(text).toMatch(new RegExp(`not sure: ${best} \\(.*\\) or ${second} `));
    } else {
      expect(text).toMatch(/^\d+(\.\d+)?% sure/);
    }
  }
  expect(unsure).toBeGreaterThan(0);

  // a blank page (the first of the set Node finds no digit in: 2% of blank pages still read as
  // one, see tests/image/photos.test.ts): no digit on the page either, and no guess
  let blank = photoSet(99, 1, 'blank')[0];
  for (const b of photoSet(99, 5, 'blank')) if ((await node(b.png)) === null) { blank = b; break; }
  expect(await node(blank.png)).toBeNull();
  await p.setInputFiles('#upload', { name: 'blank.png', mimeType: 'image/png', buffer: Buffer.from(blank.png) });
  await expect.poll(() => p.locator('#confidence').textContent(), { timeout: WAIT }).toMatch(/no digit found/);
  expect(await p.locator('#digit').textContent()).toBe('?');
});
