// examples/web-digits in Chromium: what the page keeps per model (teach one, switch, teach the
// other, reset, reload), what it says after a reload, and that a tap is no digit, not a guess.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ROOT, WAIT, drawWith, drawWithMouse, fineTuneEnded, open, ready, start, type Opened, type Session } from './harness';
import { DIGITS, FLAGGED_ONE } from './strokes';

let session: Session;
let opened: Opened | undefined;
beforeAll(async () => { session = await start(); }, 2 * WAIT);
afterAll(async () => { await opened?.context.close().catch(() => {}); await session?.close(); }, WAIT);

const web = (p: Opened['page'], what: string) => p.evaluate((w) => (window as any).webDigits[w], what);
async function useModel(p: Opened['page'], name: string): Promise<void> {
  await p.selectOption('#model', name);
  await p.waitForFunction((n) => (window as any).webDigits.model === n, name);
}

it.skipIf(!existsSync(join(ROOT, 'models/mnist-cnn.safetensors')))('teach, switch, teach, reset, reload: each model keeps its own weights and corrections', async () => {
  opened = await open(session);
  const p = opened.page;

  // a single tap is a dot, not a digit: nothing is guessed
  const tap = await drawWithMouse(p, [[[0.5, 0.5], [0.5, 0.5]]]);
  expect(tap.digit).toBeNull();
  await expect.poll(() => p.locator('#confidence').textContent()).toMatch(/no digit found/);
  expect(await p.locator('#digit').textContent()).toBe('?');

  // teach the MLP
  await useModel(p, 'mnist-mlp');
  await drawWithMouse(p, FLAGGED_ONE);
  await p.click('#teach [data-digit="1"]');
  expect((await fineTuneEnded(p, 1)).outcome).toBe('done');

  // teach the CNN: its corrections start empty, and its own are kept apart
  await useModel(p, 'mnist-cnn');
  expect(await web(p, 'corrections')).toBe(0);
  expect(await web(p, 'origin')).toBe('shipped');
  await drawWithMouse(p, DIGITS[7]);
  await p.click('#teach [data-digit="7"]');
  expect((await fineTuneEnded(p, 2)).outcome).toBe('done');
  expect(await web(p, 'origin')).toBe('fine-tuned');
  expect(await web(p, 'corrections')).toBe(1);

  // reset the CNN: the CNN is shipped again, the MLP stays fine-tuned (and so after a reload)
  await p.click('#reset');
  await p.waitForFunction(() => (window as any).webDigits.origin === 'shipped');
  expect(await web(p, 'corrections')).toBe(0);
  await useModel(p, 'mnist-mlp');
  expect(await web(p, 'origin')).toBe('fine-tuned');
  expect(await web(p, 'corrections')).toBe(1);

  await p.reload();
  await ready(p);
  expect(await web(p, 'model')).toBe('mnist-mlp');
  expect(await web(p, 'origin')).toBe('fine-tuned');
  expect(await web(p, 'corrections')).toBe(1);
  // the status agrees with the weights after a reload (it used to say "Nothing learned yet")
  expect(await p.locator('#train-status').textContent()).toMatch(/Fine-tuned on 1 correction/);
  expect(await p.locator('#model-state').textContent()).toBe('fine-tuned');
  await useModel(p, 'mnist-cnn');
  expect(await web(p, 'origin')).toBe('shipped');
  expect(await web(p, 'corrections')).toBe(0);
  expect(await p.locator("#train-status").textContent()).toBe("Nothing learned yet");
  expect(await p.locator("#reset").textContent()).toBe("Reset the CNN to the shipped model");
  expect(opened.errors).toEqual([]);
}, 8 * WAIT);

it('on a 390×844 phone the answer stays in view while drawing', async () => {
  const phone = await open(session, { viewport: { width: 390, height: 844 }, hasTouch: true, isMobile: true });
  try {
    const p = phone.page;
    const pad = await p.locator('#pad').boundingBox();
    const digit = await p.locator('#digit').boundingBox();
    expect(pad && digit).toBeTruthy();
    // both on screen at once, without scrolling: the pad's centre and the whole digit
    expect(pad!.y + pad!.height / 2).toBeLessThan(844);
    expect(digit!.y).toBeGreaterThanOrEqual(0);
    expect(digit!.y + digit!.height).toBeLessThan(844);
    expect((await drawWith(p, 'touch', DIGITS[4])).digit).toBe(4);
    const after = await p.locator('#digit').boundingBox();
    expect(after!.y + after!.height).toBeLessThan(844);
    expect(after!.y).toBeGreaterThanOrEqual(0);
  } finally {
    await phone.context.close();
  }
}, 4 * WAIT);
