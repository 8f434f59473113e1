// examples/web-digits in a real browser (Debian's headless Chromium via playwright-core): drawing
// with real pointer input, the preprocessing against the reference, teaching and fine-tuning in a
// worker, persistence across reloads, reset, model and build switching, and a screenshot.
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { centerOfMass, toMnist } from '../../src/image/preprocess';
import {
  ROOT, WAIT, clearPad, drawLikeAHand, drawWith, drawWithMouse, fineTuneEnded, lastPrediction, modelInput, open, readCanvas, readPreview,
  ready, start, type Opened, type Prediction, type Session,
} from './harness';
import { DIGITS, FLAGGED_ONE, place, type Stroke } from './strokes';

const BRUSH = 0.075; // examples/web-digits/pad.js: brush width as a fraction of the pad's side
const SCREENSHOTS = join(ROOT, 'test-results');

let session: Session;
const opened: Opened[] = [];

async function page(options?: Parameters<typeof open>[1]): Promise<Opened> {
  const o = await open(session, options);
  opened.push(o);
  return o;
}

beforeAll(async () => {
  session = await start();
}, 2 * WAIT);

afterAll(async () => {
  for (const o of opened) await o.context.close().catch(() => {});
  await session?.close();
}, WAIT);

const argmax = (v: ArrayLike<number>): number => {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
  return best;
};

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Bounding box of the pad's ink (alpha > 0.5), in pad units. */
function inkBox(img: { width: number; height: number; data: Float32Array }): [number, number, number, number] {
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < img.width; x++) {
      if (img.data[y * img.width + x] <= 0.5) continue;
      x0 = Math.min(x0, x); x1 = Math.max(x1, x + 1);
      y0 = Math.min(y0, y); y1 = Math.max(y1, y + 1);
    }
  }
  return [x0 / img.width, y0 / img.height, x1 / img.width, y1 / img.height];
}

function strokeBox(strokes: Stroke[]): [number, number, number, number] {
  const pts = strokes.flat();
  const xs = pts.map((p) => p[0]), ys = pts.map((p) => p[1]);
  return [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)];
}

describe('web-digits page', () => {
  it('reads digits drawn with the mouse, and shows exactly what the reference preprocessing makes of the pad', async () => {
    const { page: p, errors } = await page();
    const cases: Array<[number, Stroke[]]> = [];
    for (const d of [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]) cases.push([d, DIGITS[d]]);
    // people draw small, large, and off-centre: the preprocessing has to undo that
    cases.push([3, place(DIGITS[3], 0.55, -0.18, -0.15)], [7, place(DIGITS[7], 0.7, 0.12, 0.1)], [0, place(DIGITS[0], 1.2, 0, 0)]);

    for (const [digit, strokes] of cases) {
      const pred = await drawWithMouse(p, strokes);
      expect(pred.digit, `drew a ${digit}; probabilities ${pred.probs.map((v) => v.toFixed(3)).join(' ')}`).toBe(digit);
      expect(await p.locator('#digit').textContent()).toBe(String(digit));

      // the strokes landed where they were drawn (the brush adds half its width around them), on
      // the screen and on the page's fixed-size ink canvas that the model's input comes from
      const want = strokeBox(strokes);
      const r = BRUSH / 2;
      const ink = await readCanvas(p, '#ink');
      for (const img of [await readCanvas(p, '#pad'), ink]) {
        const box = inkBox(img);
        const tol = 3 / img.width;
        expect(Math.abs(box[0] - (want[0] - r))).toBeLessThan(tol);
        expect(Math.abs(box[1] - (want[1] - r))).toBeLessThan(tol);
        expect(Math.abs(box[2] - (want[2] + r))).toBeLessThan(tol);
        expect(Math.abs(box[3] - (want[3] + r))).toBeLessThan(tol);
      }

      // the reference: src/image/preprocess.ts, in Node, on the ink pixels read back from the page
      const ref = toMnist(ink, { invert: false });
      const input = await modelInput(p);
      expect(input).not.toBeNull();
      expect(maxDiff(input!, ref)).toBeLessThan(1e-6); // what the model was given
      expect(maxDiff(await readPreview(p), ref)).toBeLessThanOrEqual(0.5 / 255 + 1e-6); // what the page shows
      expect(argmax(pred.probs)).toBe(digit);

      // and it is MNIST-shaped: centre of mass at (14, 14) within half a pixel, longer side 20 px
      const [cx, cy] = centerOfMass(ref, 28, 28);
      expect(Math.abs(cx - 14)).toBeLessThanOrEqual(0.5);
      expect(Math.abs(cy - 14)).toBeLessThanOrEqual(0.5);
      const rows = [...Array(28).keys()].filter((y) => ref.subarray(y * 28, y * 28 + 28).some((v) => v > 0.1));
      const cols = [...Array(28).keys()].filter((x) => [...Array(28).keys()].some((y) => ref[y * 28 + x] > 0.1));
      expect(Math.max(rows.length, cols.length)).toBe(20);
    }

    // undo and clear
    await drawWithMouse(p, DIGITS[4]);
    await p.click('#undo');
    const afterUndo = await p.waitForFunction(() => {
      const q = (window as any).webDigits.predictions.at(-1);
      return q.strokes === 1 ? q : false;
    });
    expect(((await afterUndo.jsonValue()) as Prediction).strokes).toBe(1);
    await clearPad(p);
    expect(await p.locator('#digit').textContent()).toBe('?');
    expect(await modelInput(p)).toBeNull();
    expect(errors).toEqual([]);
  }, 4 * WAIT);

  it('reads digits drawn with a finger and with a pen (touch and pen pointer events), on a phone-sized screen', async () => {
    const { page: p, errors } = await page({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
    for (const d of [2, 7]) expect((await drawWith(p, 'touch', DIGITS[d])).digit).toBe(d);
    for (const d of [3, 0]) expect((await drawWith(p, 'pen', DIGITS[d])).digit).toBe(d);
    // the backing store follows the device pixel ratio
    expect(await p.evaluate(() => {
      const c = document.querySelector('#pad') as HTMLCanvasElement;
      return c.width / c.getBoundingClientRect().width;
    })).toBeCloseTo(2, 1);
    // drawing did not scroll the page (touch-action: none on the pad)
    expect(await p.evaluate(() => window.scrollY)).toBe(0);
    mkdirSync(SCREENSHOTS, { recursive: true });
    const shot = join(SCREENSHOTS, 'web-digits-phone.png');
    await p.screenshot({ path: shot, fullPage: true });
    expect(statSync(shot).size).toBeGreaterThan(10_000);
    console.log(`screenshot (phone): ${relative(process.cwd(), shot)}`);
    expect(errors).toEqual([]);
  }, 3 * WAIT);

  it('learns a correction in a worker, keeps it across a reload, and resets to the shipped model', async () => {
    const { page: p, errors } = await page();
    expect(await p.evaluate(() => (window as any).webDigits.origin)).toBe('shipped');

    const shipped = await drawWithMouse(p, FLAGGED_ONE);
    expect(shipped.digit, 'the shipped MLP should misread a flagged 1 (else this test shows nothing)').not.toBe(1);

    await p.click('#teach [data-digit="1"]');
    const run = await fineTuneEnded(p, 1);
    expect(run.outcome).toBe('done');
    expect(run.report!.corrections).toBe(1);
    expect(run.report!.after.corrections).toBe(1);
    // it did not forget MNIST: the held-out MNIST test digits lose at most 2 points
    expect(run.report!.after.check).toBeGreaterThan(run.report!.before.check - 0.02);
    expect(p.workers().some((w) => w.url().endsWith('/examples/web-digits/worker.js'))).toBe(true);

    // the drawing still on the pad is re-read with the new weights
    const now = await lastPrediction(p);
    expect(now!.digit).toBe(1);
    await expect.poll(() => p.locator('#model-state').textContent()).toContain('fine-tuned');
    await expect.poll(() => p.locator('#correction-count').textContent()).toContain('1 correction');
    // drawn again, and the digits it knew are still right
    expect((await drawWithMouse(p, FLAGGED_ONE)).digit).toBe(1);
    for (const d of [7, 1, 4]) expect((await drawWithMouse(p, DIGITS[d])).digit).toBe(d);

    // the fine-tuned weights come back from IndexedDB after a reload
    await p.reload();
    await ready(p);
    expect(await p.evaluate(() => (window as any).webDigits.origin)).toBe('fine-tuned');
    expect(await p.evaluate(() => (window as any).webDigits.corrections)).toBe(1);
    const reloaded = await drawWithMouse(p, FLAGGED_ONE);
    expect(reloaded.digit).toBe(1);
    if (existsSync(join(ROOT, 'models/mnist-cnn.safetensors'))) {
      // the weights are kept per model: the CNN is still the shipped one, and back to the MLP
      await p.selectOption('#model', 'mnist-cnn');
      await p.waitForFunction(() => (window as any).webDigits.model === 'mnist-cnn');
      expect(await p.evaluate(() => (window as any).webDigits.origin)).toBe('shipped');
      await p.selectOption('#model', 'mnist-mlp');
      await p.waitForFunction(() => (window as any).webDigits.model === 'mnist-mlp');
      expect(await p.evaluate(() => (window as any).webDigits.origin)).toBe('fine-tuned');
      expect((await drawWithMouse(p, FLAGGED_ONE)).digit).toBe(1);
    }

    // reset: the shipped model again, exactly, and nothing kept
    await p.click('#reset');
    await p.waitForFunction(() => (window as any).webDigits.origin === 'shipped');
    const reset = await drawWithMouse(p, FLAGGED_ONE);
    expect(reset.digit).toBe(shipped.digit);
    expect(maxDiff(reset.probs, shipped.probs)).toBeLessThan(1e-6);
    await p.reload();
    await ready(p);
    expect(await p.evaluate(() => (window as any).webDigits.origin)).toBe('shipped');
    expect(await p.evaluate(() => (window as any).webDigits.corrections)).toBe(0);
    expect(maxDiff((await drawWithMouse(p, FLAGGED_ONE)).probs, shipped.probs)).toBeLessThan(1e-6);
    expect(errors).toEqual([]);
  }, 6 * WAIT);

  it('stops a fine-tuning on request and keeps the model as it was', async () => {
    const { page: p, errors } = await page();
    const before = await drawWithMouse(p, FLAGGED_ONE);
    await p.locator('summary').click();
    await p.fill('#epochs', '500');
    await p.click('#teach [data-digit="1"]');
    await p.waitForFunction(() => (window as any).webDigits.training);
    await expect.poll(() => p.locator('#progress').evaluate((e) => (e as HTMLProgressElement).position), { timeout: WAIT }).toBeGreaterThan(0);
    await p.click('#stop');
    const run = await fineTuneEnded(p, 1);
    expect(run.outcome).toMatch(/^Stopped/);
    expect(await p.locator('#stop').isHidden()).toBe(true);
    expect(await p.evaluate(() => (window as any).webDigits.origin)).toBe('shipped');
    expect(maxDiff((await drawWithMouse(p, FLAGGED_ONE)).probs, before.probs)).toBeLessThan(1e-6);
    await p.reload();
    await ready(p);
    expect(await p.evaluate(() => (window as any).webDigits.origin)).toBe('shipped');
    expect(await p.evaluate(() => (window as any).webDigits.corrections)).toBe(1); // the correction is kept for next time
    expect(errors).toEqual([]);
  }, 4 * WAIT);

  it('keeps drawing and predicting while it fine-tunes (off the main thread), and measures the longest main-thread stall', async () => {
    const { page: p, errors } = await page();
    // Size the run to this machine: long enough to draw several digits during it, whatever else
    // the machine is doing. First how long a drawing takes, then how fast a default run trains.
    await drawLikeAHand(p, DIGITS[0]); // warm up
    const drawStart = Date.now();
    await drawLikeAHand(p, FLAGGED_ONE);
    const drawMs = Date.now() - drawStart;
    await p.click('#teach [data-digit="1"]');
    const first = await fineTuneEnded(p, 1);
    expect(first.outcome).toBe('done');
    const msPerEpoch = first.report!.trainMs / first.report!.epochs;
    const epochs = Math.min(400, Math.max(80, Math.ceil((14 * drawMs) / msPerEpoch)));
    await p.locator('summary').click();
    await p.fill('#epochs', String(epochs));

    // how busy the page's main thread is (Chromium's own task accounting), for the note
    const cdp = await p.context().newCDPSession(p);
    await cdp.send('Performance.enable');
    const taskSeconds = async () => (await cdp.send('Performance.getMetrics')).metrics.find((m) => m.name === 'TaskDuration')!.value;
    const busyFrom = await taskSeconds();
    const wallFrom = Date.now();
    await p.click('#teach [data-digit="1"]'); // the flagged 1 is still on the pad: a second correction
    await p.waitForFunction(() => (window as any).webDigits.training);

    const during: Array<{ want: number; got: Prediction & { latencyMs: number }; progress: number }> = [];
    const sequence = [0, 3, 7, 2, 4, 9, 6, 8];
    for (let i = 0; i < 3 * sequence.length && (await p.evaluate(() => (window as any).webDigits.training)); i++) {
      const want = sequence[i % sequence.length];
      const got = await drawLikeAHand(p, DIGITS[want]);
      const progress = await p.evaluate(() => (document.querySelector('#progress') as HTMLProgressElement).position);
      during.push({ want, got, progress });
    }
    const run = await fineTuneEnded(p, 2);
    const busy = (await taskSeconds() - busyFrom) / ((Date.now() - wallFrom) / 1000);
    await cdp.detach();
    expect(run.outcome).toBe('done');
    const inTime = during.filter((d) => d.got.training && d.got.t < run.endedAt);
    const latencies = inTime.map((d) => d.got.latencyMs).sort((a, b) => a - b);
    console.log(`fine-tuning (${epochs} epochs, ${run.report!.steps} steps, in the worker) took ${(run.endedAt - run.startedAt).toFixed(0)} ms; `
      + `${inTime.length} digits drawn and predicted meanwhile (last pen-up to prediction: median ${latencies[latencies.length >> 1]} ms, `
      + `max ${latencies[latencies.length - 1]} ms); longest main-thread stall ${run.longestStallMs.toFixed(1)} ms, `
      + `longest task ${run.longestTaskMs.toFixed(1)} ms (tasks over 50 ms); main thread busy ${(100 * busy).toFixed(0)}% of the time (drawing included)`);
    expect(inTime.length, 'strokes drawn while fine-tuning ran were predicted before it ended').toBeGreaterThanOrEqual(4);
    for (const d of inTime) expect(d.got.digit).toBe(d.want);
    expect(Math.max(...inTime.map((d) => d.progress))).toBeGreaterThan(0); // the progress bar moved
    // the page never froze: on 2 loaded cores stalls of a few hundred ms happen (the OS does not
    // schedule the main thread), a frozen page would show seconds
    expect(run.longestStallMs).toBeGreaterThanOrEqual(0);
    expect(run.longestStallMs).toBeLessThan(1000);
    await expect.poll(() => p.locator('#stall').textContent()).toContain(`${run.longestStallMs.toFixed(0)} ms`);
    expect(errors).toEqual([]);
  }, 6 * WAIT);

  it('switches between the shipped models and builds, shows the build and the inference time', async () => {
    const files = ['mnist-mlp', 'mnist-cnn'].filter((m) => existsSync(join(ROOT, `models/${m}.safetensors`)));
    const { page: p, errors } = await page();
    const options = await p.locator('#model option').evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value));
    expect(options).toEqual(files); // every shipped model file is offered, and only those

    const builds = await p.locator('#build option').evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value));
    expect(builds).toEqual(['relaxed', 'simd', 'scalar']); // Chromium runs all three; the best is the default
    for (const name of files) {
      await p.selectOption('#model', name);
      await p.waitForFunction((n) => (window as any).webDigits.model === n && !(document.querySelector('#model') as HTMLSelectElement).disabled, name);
      expect(await p.evaluate(() => (window as any).webDigits.build)).toBe('relaxed');
      let reference: number[] | null = null;
      for (const build of builds) {
        await p.selectOption('#build', build);
        await p.waitForFunction((b) => (window as any).webDigits.build === b && !(document.querySelector('#build') as HTMLSelectElement).disabled, build);
        expect(await p.locator('#foot-build').textContent()).toContain(await p.locator(`#build option[value="${build}"]`).textContent());
        for (const d of [0, 3, 7]) {
          const pred = await drawWithMouse(p, DIGITS[d]);
          expect(pred.model).toBe(name);
          expect(pred.digit, `${name} on ${build}`).toBe(d);
          expect(pred.ms).toBeGreaterThanOrEqual(0);
          if (d === 7) {
            // the same weights on every build: the same probabilities, to float rounding
            if (reference) expect(maxDiff(pred.probs, reference)).toBeLessThan(1e-4);
            else reference = pred.probs;
          }
        }
        expect(await p.locator('#infer-ms').textContent()).toMatch(/^\d+\.\d\d ms$/);
      }
      await p.selectOption('#build', 'relaxed');
      await p.waitForFunction(() => (window as any).webDigits.build === 'relaxed');
    }
    expect(errors).toEqual([]);
  }, 6 * WAIT);

  it('saves a screenshot of the page in use', async () => {
    const { page: p, errors } = await page({ viewport: { width: 1280, height: 860 } });
    await drawWithMouse(p, FLAGGED_ONE);
    await p.click('#teach [data-digit="1"]');
    await fineTuneEnded(p, 1);
    await drawWithMouse(p, DIGITS[7]);
    await p.click('#teach [data-digit="7"]');
    await fineTuneEnded(p, 2);
    expect((await drawWithMouse(p, FLAGGED_ONE)).digit).toBe(1);
    mkdirSync(SCREENSHOTS, { recursive: true });
    const shot = join(SCREENSHOTS, 'web-digits.png');
    await p.screenshot({ path: shot, fullPage: true });
    expect(statSync(shot).size).toBeGreaterThan(20_000);
    console.log(`screenshot: ${relative(process.cwd(), shot)}`);
    expect(errors).toEqual([]);
  }, 4 * WAIT);
});
