// Recurrent networks learning, on held-out data: the adding problem (a long-range dependency
// a simple RNN does not learn in the budget where an LSTM does), sequence tagging with a
// per-step softmax over embedded tokens, and a sine forecaster against the naive forecast.
import { describe, expect, it } from 'vitest';
import { runtime } from '../helpers/neurite';
import { mulberry32 } from '../helpers/reference';

// Hochreiter & Schmidhuber's adding problem: channel 0 is noise in [0, 1), channel 1 marks one
// step among the first 10 and one among the last 10; the target is the sum of the two marked
// values. Predicting the mean scores the target's variance, 2/12 ≈ 0.167.
function adding(n: number, T: number, seed: number) {
  const r = mulberry32(seed);
  const x = new Float32Array(n * T * 2);
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const a = Math.floor(r() * 10);
    const b = T - 1 - Math.floor(r() * 10);
    for (let t = 0; t < T; t++) {
      x[(i * T + t) * 2] = r();
      x[(i * T + t) * 2 + 1] = t === a || t === b ? 1 : 0;
    }
    y[i] = x[(i * T + a) * 2] + x[(i * T + b) * 2];
  }
  return { x, y };
}

describe('recurrent nets learn', () => {
  it('the adding problem over 50 steps: the LSTM learns it, simple RNNs do not in the same budget', async () => {
    const nn = await runtime('relaxed');
    const T = 50;
    const train = adding(2048, T, 1);
    const test = adding(512, T, 2);
    const results: Record<string, number> = {};
    for (const [key, layer] of [
      ['lstm', { type: 'lstm', units: 16 }],
      ['simpleRnn tanh', { type: 'simpleRnn', units: 16, activation: 'tanh' }],
      ['simpleRnn sigmoid', { type: 'simpleRnn', units: 16, activation: 'sigmoid' }],
    ] as const) {
      const m = nn.sequential({ inputShape: [T, 2], seed: 1, layers: [layer, { type: 'dense', units: 1 }] });
      await m.fit(train.x, train.y, { epochs: 10, batchSize: 32, loss: 'mse', optimizer: { type: 'adam', learningRate: 0.005 }, clipNorm: 1 });
      results[key] = m.evaluate(test.x, test.y, { loss: 'mse' }).loss;
    }
    expect(results.lstm).toBeLessThan(0.02); // under an eighth of the baseline
    expect(results['simpleRnn tanh']).toBeGreaterThan(0.05);
    expect(results['simpleRnn sigmoid']).toBeGreaterThan(0.12); // stuck near 0.167
  });

  it('sequence tagging: embedding → GRU → per-step softmax, labels [steps] per sample', async () => {
    const nn = await runtime('simd');
    // the tag of step t is the previous token mod 3 (0 at the first step): a one-step memory
    const [T, V] = [12, 10];
    const make = (n: number, seed: number) => {
      const r = mulberry32(seed);
      const ids = new Float32Array(n * T);
      const tags = new Int32Array(n * T);
      for (let i = 0; i < n * T; i++) {
        ids[i] = Math.floor(r() * V);
        tags[i] = i % T === 0 ? 0 : ids[i - 1] % 3;
      }
      return { ids, tags };
    };
    const train = make(1024, 3);
    const test = make(256, 4);
    const m = nn.sequential({ inputShape: [T], seed: 2, layers: [
      { type: 'embedding', inputDim: V, outputDim: 8 },
      { type: 'gru', units: 16, returnSequences: true },
      { type: 'dense', units: 3, activation: 'softmax' },
    ] });
    const h = await m.fit(train.ids, train.tags, { epochs: 8, batchSize: 32, optimizer: { type: 'adam', learningRate: 0.01 } });
    expect(h.accuracy[0]).toBeLessThan(0.9);
    const r = m.evaluate(test.ids, test.tags);
    expect(r.accuracy).toBeGreaterThan(0.97);
    // per step: the first step's tag is always 0, so only the rest tell the memory works
    const p = m.predict(test.ids);
    let right = 0;
    let total = 0;
    for (let i = 0; i < 256 * T; i++) {
      if (i % T === 0) continue;
      const row = p.subarray(i * 3, i * 3 + 3);
      right += row.indexOf(Math.max(...row)) === test.tags[i] ? 1 : 0;
      total++;
    }
    expect(right / total).toBeGreaterThan(0.97);
  });

  it('a sine forecaster beats the naive last-value forecast by 5×', async () => {
    const nn = await runtime('relaxed');
    const T = 20;
    const make = (n: number, seed: number) => {
      const r = mulberry32(seed);
      const x = new Float32Array(n * T);
      const y = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        const w = 0.2 + 0.4 * r();
        const phase = 2 * Math.PI * r();
        for (let t = 0; t < T; t++) x[i * T + t] = Math.sin(w * t + phase);
        y[i] = Math.sin(w * T + phase);
      }
      return { x, y };
    };
    const train = make(2048, 5);
    const test = make(512, 6);
    const m = nn.sequential({ inputShape: [T, 1], seed: 3, layers: [{ type: 'lstm', units: 16 }, { type: 'dense', units: 1 }] });
    await m.fit(train.x, train.y, { epochs: 10, batchSize: 32, loss: 'mse', optimizer: { type: 'adam', learningRate: 0.01 } });
    const mse = m.evaluate(test.x, test.y, { loss: 'mse' }).loss;
    let naive = 0;
    for (let i = 0; i < 512; i++) naive += (test.x[i * T + T - 1] - test.y[i]) ** 2;
    naive /= 512;
    expect(mse).toBeLessThan(naive / 5);
  });
});
