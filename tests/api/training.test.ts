// fit(): optimizers, schedules, batch modes, determinism, freezing, callbacks, cancellation.
import { describe, expect, it } from 'vitest';
import { NeuriteError, type SequentialOptions } from '../../src/node';
import { blobs } from '../helpers/data';
import { runtime } from '../helpers/neurite';
import { BUILDS } from '../helpers/wasm';

const mlp: SequentialOptions = { inputShape: [2], layers: [
  { type: 'dense', units: 16, activation: 'relu' },
  { type: 'dense', units: 3, activation: 'softmax' }] };

describe('fit', async () => {
  const nn = await runtime('relaxed');
  const train = blobs(300, 1);
  const test = blobs(150, 2);

  const optimizers = [
    { type: 'sgd', learningRate: 0.1 },
    { type: 'momentum', learningRate: 0.05, momentum: 0.9 },
    { type: 'momentum', learningRate: 0.05, momentum: 0.9, nesterov: true },
    { type: 'adagrad', learningRate: 0.1 },
    { type: 'rmsprop', learningRate: 0.01 },
    { type: 'adam', learningRate: 0.01 },
  ] as const;
  for (const optimizer of optimizers) {
    it(`${optimizer.type}${'nesterov' in optimizer ? ' (Nesterov)' : ''} learns a 3-class problem`, async () => {
      const m = nn.sequential({ ...mlp, seed: 3 });
      const before = m.evaluate(test.x, test.labels, { loss: 'categoricalCrossentropy' });
      const h = await m.fit(train.x, train.labels, { epochs: 20, batchSize: 16, loss: 'categoricalCrossentropy', optimizer });
      const after = m.evaluate(test.x, test.labels);
      expect(h.loss[19]).toBeLessThan(h.loss[0]);
      expect(after.loss).toBeLessThan(before.loss / 2);
      expect(after.accuracy).toBeGreaterThan(0.9); // held-out data
    });
  }

  it('batch, mini-batch and stochastic gradient descent take N/B steps per epoch and all learn', async () => {
    for (const batchSize of [300, 32, 1]) {
      const m = nn.sequential({ ...mlp, seed: 4 });
      let steps = 0;
      const h = await m.fit(train.x, train.labels, {
        epochs: 3, batchSize, optimizer: { type: 'sgd', learningRate: batchSize === 1 ? 0.01 : 0.3 },
        onBatchEnd: () => { steps++; } });
      expect(steps).toBe(3 * Math.ceil(300 / batchSize));
      expect(h.loss[2]).toBeLessThan(h.loss[0]);
    }
  });

  it('learning-rate schedules set the step size of every update', async () => {
    // with inputs ±1 and zero targets the MSE is w² (see the classics), so each SGD step is
    // w ← w·(1 − 2·lr_t) and the schedule can be read off the weight
    const schedules = [
      { type: 'step', stepSize: 2, gamma: 0.5 },
      { type: 'exponential', decaySteps: 1, decayRate: 0.9 },
      { type: 'inverseTime', decay: 0.5 },
      { type: 'cosine', decaySteps: 4, alpha: 0.1 },
    ] as const;
    const expectedLr = {
      step: (t: number) => 0.1 * 0.5 ** Math.floor(t / 2),
      exponential: (t: number) => 0.1 * 0.9 ** t,
      inverseTime: (t: number) => 0.1 / (1 + 0.5 * t),
      cosine: (t: number) => 0.1 * (0.1 + 0.9 * 0.5 * (1 + Math.cos(Math.PI * Math.min(t, 4) / 4))),
    };
    for (const schedule of schedules) {
      const m = nn.sequential({ inputShape: [1], layers: [{ type: 'dense', units: 1 }] });
      m.setWeights({ 'dense_0.weight': [1], 'dense_0.bias': [0] });
      await m.fit([[1], [-1]], [[0], [0]], { epochs: 6, batchSize: 2, loss: 'mse', shuffle: false,
        optimizer: { type: 'sgd', learningRate: 0.1, schedule } });
      let w = 1;
      for (let t = 0; t < 6; t++) w *= 1 - 2 * expectedLr[schedule.type](t);
      expect(m.getWeights()['dense_0.weight'][0], schedule.type).toBeCloseTo(w, 5);
    }
  });

  it('class indices and one-hot rows train identically', async () => {
    const a = nn.sequential({ ...mlp, seed: 9 });
    const b = nn.sequential({ ...mlp, seed: 9 });
    await a.fit(train.x, train.labels, { epochs: 2, batchSize: 10 });
    await b.fit(train.x, train.onehot, { epochs: 2, batchSize: 10 });
    expect(a.getWeights()).toEqual(b.getWeights());
  });

  it('the same seed gives the same weights and the same training, run to run', async () => {
    const run = async () => {
      const m = nn.sequential({ ...mlp, seed: 21 });
      const w0 = m.getWeights();
      const h = await m.fit(train.x, train.labels, { epochs: 3, batchSize: 8 });
      return { w0, w: m.getWeights(), h };
    };
    const [r1, r2] = [await run(), await run()];
    expect(r1.w0).toEqual(r2.w0);
    expect(r1.w).toEqual(r2.w);
    expect(r1.h).toEqual(r2.h);
    const other = nn.sequential({ ...mlp, seed: 22 });
    expect(other.getWeights()['dense_0.weight']).not.toEqual(r1.w0['dense_0.weight']);
  });

  it('scalar, SIMD and relaxed builds start identical and train to the same weights within float tolerance', async () => {
    const results = [];
    for (const build of BUILDS) {
      const m = (await runtime(build)).sequential({ ...mlp, seed: 5 });
      const w0 = m.getWeights();
      await m.fit(train.x, train.labels, { epochs: 2, batchSize: 16, optimizer: { type: 'sgd', learningRate: 0.1 } });
      results.push({ build, w0, w: m.getWeights(), build2: m.build });
    }
    for (const r of results) {
      expect(r.build2).toBe(r.build);
      expect(r.w0).toEqual(results[0].w0); // initialisation is host-side and bit-exact
      for (const [name, v] of Object.entries(r.w)) {
        const ref = results[0].w[name];
        const scale = Math.max(...Array.from(ref, Math.abs));
        for (let i = 0; i < v.length; i++) expect(Math.abs(v[i] - ref[i]), `${r.build} ${name}[${i}]`).toBeLessThan(1e-4 * scale + 1e-6);
      }
    }
  });

  it('a frozen layer keeps its weights while the others learn', async () => {
    const m = nn.sequential({ ...mlp, seed: 6 });
    m.layers[0].trainable = false;
    const before = m.getWeights();
    await m.fit(train.x, train.labels, { epochs: 2, batchSize: 16 });
    const after = m.getWeights();
    expect(after['dense_0.weight']).toEqual(before['dense_0.weight']);
    expect(after['dense_0.bias']).toEqual(before['dense_0.bias']);
    expect(after['dense_1.weight']).not.toEqual(before['dense_1.weight']);
  });

  it('PReLU learns its slopes', async () => {
    const m = nn.sequential({ inputShape: [2], seed: 2, layers: [
      { type: 'dense', units: 8, activation: 'prelu' }, { type: 'dense', units: 3, activation: 'softmax' }] });
    expect(Array.from(m.getWeights()['dense_0.alpha'])).toEqual(new Array(8).fill(0.25));
    await m.fit(train.x, train.labels, { epochs: 5, batchSize: 16, optimizer: { type: 'adam', learningRate: 0.02 } });
    const alpha = m.getWeights()['dense_0.alpha'];
    expect(alpha.some((a) => Math.abs(a - 0.25) > 1e-3)).toBe(true);
  });

  it('reports validation figures and calls onEpochEnd', async () => {
    const m = nn.sequential({ ...mlp, seed: 8 });
    const seen: number[] = [];
    const h = await m.fit(train.x, train.labels, { epochs: 3, validationData: [test.x, test.labels],
      onEpochEnd: (e, logs) => { seen.push(e); expect(logs.valAccuracy).toBeGreaterThan(0); } });
    expect(seen).toEqual([0, 1, 2]);
    expect(h.epochs).toBe(3);
    expect(h.valLoss).toHaveLength(3);
    expect(h.valAccuracy).toHaveLength(3);
    expect(h.accuracy).toHaveLength(3);
    expect(h.valLoss[2]).toBeCloseTo(m.evaluate(test.x, test.labels).loss, 5);
  });

  it('yields to the event loop while training, and stops on an AbortSignal', async () => {
    const m = nn.sequential({ ...mlp, seed: 8 });
    const ctrl = new AbortController();
    let ticks = 0;
    const timer = setInterval(() => { ticks++; if (ticks === 3) ctrl.abort(); }, 5);
    const before = Date.now();
    const err = await m.fit(train.x, train.labels, { epochs: 100000, batchSize: 1, signal: ctrl.signal }).catch((e) => e);
    clearInterval(timer);
    expect(err).toBeInstanceOf(NeuriteError);
    expect(err.code).toBe('ABORTED');
    expect(ticks).toBeGreaterThanOrEqual(3);
    expect(Date.now() - before).toBeLessThan(30_000);
    // the model is intact and usable
    expect(Array.from(m.predict(test.x)).every(Number.isFinite)).toBe(true);
  });
});
