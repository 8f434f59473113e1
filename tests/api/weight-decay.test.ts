// Decoupled weight decay (weightDecay on any optimizer): two steps through fit against the
// float64 reference of PyTorch's AdamW / SGD order — gradient at the current weights, then
// w ← w·(1 − lr·wd), then the optimizer's own step.
import { describe, expect, it } from 'vitest';
import { runtime } from '../helpers/neurite';
import { adamRef, expectClose, momentumRef, Rng, sgdRef } from '../helpers/reference';

describe('weightDecay', () => {
  for (const type of ['sgd', 'momentum', 'adam'] as const) {
    it(`${type}: two steps equal the reference, and decay shrinks weights with no gradient`, async () => {
      const nn = await runtime('relaxed');
      const rng = new Rng(type.length);
      const x = rng.array(4 * 3);
      const y = rng.array(4 * 2);
      const lr = 0.05;
      const wd = 0.3;
      const m = nn.sequential({ inputShape: [3], seed: 2, layers: [{ type: 'dense', units: 2, activation: 'tanh' }] });
      const w = m.getWeights();
      const names = Object.keys(w);
      const p: Record<string, Float64Array> = Object.fromEntries(names.map((k) => [k, Float64Array.from(w[k])]));
      const s1: Record<string, Float64Array> = Object.fromEntries(names.map((k) => [k, new Float64Array(w[k].length)]));
      const s2: Record<string, Float64Array> = Object.fromEntries(names.map((k) => [k, new Float64Array(w[k].length)]));
      const probe = nn.sequential({ inputShape: [3], seed: 2, layers: [{ type: 'dense', units: 2, activation: 'tanh' }] });
      for (let t = 1; t <= 2; t++) {
        probe.setWeights(Object.fromEntries(names.map((k) => [k, Float32Array.from(p[k])])));
        const g = probe.gradients(x, y, { loss: 'mse' });
        for (const k of names) {
          p[k] = p[k].map((v) => v * (1 - lr * wd));
          if (type === 'sgd') sgdRef(p[k], g[k], lr);
          else if (type === 'momentum') momentumRef(p[k], g[k], s1[k], lr, 0.9, false);
          else adamRef(p[k], g[k], s1[k], s2[k], lr, 0.9, 0.999, 1e-8, 1 - 0.9 ** t, 1 - 0.999 ** t);
        }
      }
      await m.fit(x, y, { epochs: 2, batchSize: 4, shuffle: false, loss: 'mse', optimizer: { type, learningRate: lr, weightDecay: wd } });
      const got = m.getWeights();
      for (const k of names) expectClose(got[k], p[k], { rtol: 1e-5, atol: 1e-6, label: `${type} ${k}` });
      // and without decay the result differs: the option is not ignored
      const plain = nn.sequential({ inputShape: [3], seed: 2, layers: [{ type: 'dense', units: 2, activation: 'tanh' }] });
      await plain.fit(x, y, { epochs: 2, batchSize: 4, shuffle: false, loss: 'mse', optimizer: { type, learningRate: lr } });
      expect(Math.abs(plain.getWeights()['dense_0.weight'][0] - got['dense_0.weight'][0])).toBeGreaterThan(1e-4);
    });
  }

  it('refuses a negative or non-finite decay', async () => {
    const nn = await runtime('scalar');
    const m = nn.sequential({ inputShape: [3], layers: [{ type: 'dense', units: 2 }] });
    await expect(m.fit([[1, 2, 3]], [[0, 1]], { optimizer: { type: 'adam', weightDecay: -0.1 } })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(m.fit([[1, 2, 3]], [[0, 1]], { optimizer: { type: 'sgd', weightDecay: Number.POSITIVE_INFINITY } })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});
