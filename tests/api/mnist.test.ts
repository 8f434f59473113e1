// The shipped MNIST model on the real MNIST test set, and fine-tuning on real digits.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadMnist } from '../../src/cli/mnist';
import { runtime } from '../helpers/neurite';

const MODEL = new URL('../../models/mnist-mlp.safetensors', import.meta.url);
const CNN = new URL('../../models/mnist-cnn.safetensors', import.meta.url);

describe('MNIST', async () => {
  const nn = await runtime('relaxed');
  const test = loadMnist('test');

  it('the shipped MLP reaches ≥ 98.0% on the 10,000 test images', () => {
    const model = nn.load(readFileSync(MODEL));
    const { accuracy } = model.evaluate(test.images, test.labels, { loss: 'categoricalCrossentropy' });
    expect(accuracy).toBeGreaterThanOrEqual(0.98);
  });

  it('the shipped CNN reaches ≥ 99.2% on the 10,000 test images', () => {
    const model = nn.load(readFileSync(CNN));
    expect(model.inputShape).toEqual([1, 28, 28]);
    expect(model.layers.some((l) => l.type === 'conv2d')).toBe(true);
    const { accuracy } = model.evaluate(test.images, test.labels, { loss: 'categoricalCrossentropy' });
    expect(accuracy).toBeGreaterThanOrEqual(0.992);
  });

  it('gives the same answers on every build', async () => {
    const bytes = readFileSync(MODEL);
    const x = test.images.subarray(0, 200 * 784);
    const ref = (await runtime('scalar')).load(bytes).predict(x);
    for (const build of ['simd', 'relaxed'] as const) {
      const p = (await runtime(build)).load(bytes).predict(x);
      let max = 0;
      for (let i = 0; i < p.length; i++) max = Math.max(max, Math.abs(p[i] - ref[i]));
      expect(max, build).toBeLessThan(1e-4);
    }
  });

  it('a small MLP trained on 6,000 real digits generalises to held-out ones', async () => {
    const train = loadMnist('train', 6000);
    const m = nn.sequential({ inputShape: [784], seed: 1, layers: [
      { type: 'dense', units: 64, activation: 'relu' }, { type: 'dense', units: 10, activation: 'softmax' }] });
    const before = m.evaluate(test.images.subarray(0, 2000 * 784), test.labels.subarray(0, 2000));
    await m.fit(train.images, train.labels, { epochs: 5, batchSize: 32, optimizer: { type: 'adam', learningRate: 2e-3 } });
    const after = m.evaluate(test.images.subarray(0, 2000 * 784), test.labels.subarray(0, 2000));
    expect(before.accuracy).toBeLessThan(0.3);
    expect(after.accuracy).toBeGreaterThan(0.9);
  });
});
