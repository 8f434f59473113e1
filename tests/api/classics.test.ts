// The textbook cases, each computed by the runtime (values from the classic literature).
import { describe, expect, it } from 'vitest';
import { runtime } from '../helpers/neurite';

const TRUTH = [[0, 0], [0, 1], [1, 0], [1, 1]];

describe('classics', async () => {
  const nn = await runtime('simd');

  it('M-P neuron: w = (0.5, 0.5), threshold 0.8, step activation computes AND', () => {
    const neuron = nn.sequential({ inputShape: [2], layers: [{ type: 'dense', units: 1, activation: 'step' }] });
    neuron.setWeights({ 'dense_0.weight': [0.5, 0.5], 'dense_0.bias': [-0.8] }); // fires when Σwx ≥ θ
    expect(Array.from(neuron.predict(TRUTH))).toEqual([0, 0, 0, 1]);
  });

  it('perceptron rule learns AND and OR, and cannot learn XOR', () => {
    for (const [y, name] of [[[0, 0, 0, 1], 'AND'], [[0, 1, 1, 1], 'OR']] as const) {
      const p = nn.perceptron({ inputs: 2, learningRate: 0.1, seed: 3 });
      const r = p.train(TRUTH, y, { maxEpochs: 100 });
      expect(r.converged, name).toBe(true);
      expect(r.errors[r.errors.length - 1]).toBe(0);
      expect(Array.from(p.predict(TRUTH)), name).toEqual(y);
    }
    const xor = nn.perceptron({ inputs: 2, learningRate: 0.1, seed: 3 });
    const r = xor.train(TRUTH, [0, 1, 1, 0], { maxEpochs: 200 });
    expect(r.converged).toBe(false);
    expect(r.epochs).toBe(200);
    expect(Math.min(...r.errors)).toBeGreaterThan(0); // never a clean epoch
  });

  it('two-layer step network with hand-set weights solves XOR', () => {
    const net = nn.sequential({ inputShape: [2], layers: [
      { type: 'dense', units: 2, activation: 'step' },
      { type: 'dense', units: 1, activation: 'step' }] });
    net.setWeights({
      'dense_0.weight': [1, 1, -1, -1], // rows: (w11, w21), (w12, w22)
      'dense_0.bias': [-0.5, 1.5],
      'dense_1.weight': [1, 1], // (w3, w4)
      'dense_1.bias': [-1.5],
    });
    expect(Array.from(net.predict(TRUTH))).toEqual([0, 1, 1, 0]);
  });

  it('gradient descent on f(x) = x² from x = 8 with learning rate 0.1 gives 6.4, 5.12, 4.096', async () => {
    // y = w·s + b over the inputs s = ±1 with targets 0: MSE = w² + b², so with b = 0 the
    // model's loss is exactly f(w) and its gradient 2w.
    const m = nn.sequential({ inputShape: [1], layers: [{ type: 'dense', units: 1 }] });
    m.setWeights({ 'dense_0.weight': [8], 'dense_0.bias': [0] });
    const seen: number[] = [];
    await m.fit([[1], [-1]], [[0], [0]], {
      epochs: 3, batchSize: 2, loss: 'mse', shuffle: false, optimizer: { type: 'sgd', learningRate: 0.1 },
      onEpochEnd: () => { seen.push(m.getWeights()['dense_0.weight'][0]); },
    });
    expect(seen[0]).toBeCloseTo(6.4, 5);
    expect(seen[1]).toBeCloseTo(5.12, 5);
    expect(seen[2]).toBeCloseTo(4.096, 5);
  });

  it('softmax([2, 1, 0]) ≈ [0.665, 0.245, 0.090]', () => {
    const m = nn.sequential({ inputShape: [3], layers: [{ type: 'dense', units: 3, activation: 'softmax' }] });
    m.setWeights({ 'dense_0.weight': [1, 0, 0, 0, 1, 0, 0, 0, 1], 'dense_0.bias': [0, 0, 0] });
    const p = m.predict([[2, 1, 0]]);
    expect(p[0]).toBeCloseTo(0.665, 3);
    expect(p[1]).toBeCloseTo(0.245, 3);
    expect(p[2]).toBeCloseTo(0.090, 3);
  });

  it('an MLP trained by back-propagation solves XOR', async () => {
    const m = nn.sequential({ inputShape: [2], seed: 7, layers: [
      { type: 'dense', units: 4, activation: 'sigmoid' },
      { type: 'dense', units: 1, activation: 'sigmoid' }] });
    // the classic setting: SSE loss, plain gradient descent over the whole batch
    const h = await m.fit(TRUTH, [[0], [1], [1], [0]], {
      epochs: 3000, batchSize: 4, loss: 'sse', optimizer: { type: 'sgd', learningRate: 2 } });
    expect(h.loss[h.loss.length - 1]).toBeLessThan(h.loss[0] / 10);
    expect(Array.from(m.predict(TRUTH), (p) => (p > 0.5 ? 1 : 0))).toEqual([0, 1, 1, 0]);
  });

  it('a 1-6-1 network approximates f(x) = x³ + x² − x − 1 on [−2, 2]', async () => {
    const f = (x: number) => x ** 3 + x ** 2 - x - 1;
    const xs = Array.from({ length: 81 }, (_, i) => -2 + i * 0.05);
    const ys = xs.map(f);
    const variance = ys.reduce((s, y) => s + (y - ys.reduce((a, b) => a + b) / ys.length) ** 2, 0) / ys.length;
    const m = nn.sequential({ inputShape: [1], seed: 1, layers: [
      { type: 'dense', units: 6, activation: 'tanh' },
      { type: 'dense', units: 1 }] });
    await m.fit(xs.map((x) => [x]), ys.map((y) => [y]), {
      epochs: 3000, batchSize: 81, loss: 'mse', optimizer: { type: 'adam', learningRate: 0.03 } });
    // held-out points between the training grid
    const test = Array.from({ length: 40 }, (_, i) => -1.975 + i * 0.1);
    const { loss } = m.evaluate(test.map((x) => [x]), test.map((x) => [f(x)]), { loss: 'mse' });
    expect(loss).toBeLessThan(0.01 * variance);
  });
});
