// batchNormalization through the public API against PyTorch (a fixture made by
// scripts/make-batchnorm-fixture.py): eval-mode outputs, the train-mode loss, and one train-mode
// SGD step — weights, running statistics and num_batches_tracked — within 1e-5; PyTorch's I64
// counter read and written back; train/eval behaviour; a frozen layer stays as it is.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readSafetensors, type LayerConfig } from '../../src/node';
import { runtime } from '../helpers/neurite';
import { expectClose, Rng } from '../helpers/reference';
import { BUILDS } from '../helpers/wasm';

const fixture = (name: string): Uint8Array => readFileSync(new URL(`../fixtures/torch/${name}`, import.meta.url));
const LAYERS: LayerConfig[] = [
  { type: 'conv2d', name: 'conv', filters: 3, kernelSize: 3 },
  { type: 'batchNormalization', name: 'bn1', activation: 'relu' },
  { type: 'flatten', name: 'flat' },
  { type: 'dense', name: 'fc1', units: 5 },
  { type: 'batchNormalization', name: 'bn2', momentum: 0.2, epsilon: 1e-3 },
  { type: 'dense', name: 'fc2', units: 3, activation: 'softmax' },
];

describe.each(BUILDS)('batchNormalization against PyTorch (%s build)', (build) => {
  it('eval outputs, train loss, and one SGD step with the running statistics', async () => {
    const nn = await runtime(build);
    const model = nn.load(fixture('batchnorm.safetensors'), { inputShape: [2, 6, 6], layers: LAYERS });
    const exp = readSafetensors(fixture('batchnorm.expected.safetensors'));
    const t = (k: string) => exp.tensors.get(k)!.data;
    expectClose(model.predict(t('x')), t('eval_output'), { rtol: 1e-5, atol: 1e-6, label: 'eval output' });
    await model.fit(t('x'), t('labels'), {
      epochs: 1, batchSize: 5, shuffle: false, loss: 'categoricalCrossentropy',
      optimizer: { type: 'sgd', learningRate: Number(exp.metadata.learningRate) },
      onBatchEnd: (_b, { loss }) => { expect(loss).toBeCloseTo(t('loss')[0], 5); },
    });
    const w = model.getWeights();
    const names = [...exp.tensors.keys()].filter((k) => k.startsWith('after.')).map((k) => k.slice(6));
    expect(Object.keys(w).sort()).toEqual(names.sort());
    for (const k of names) expectClose(w[k], t(`after.${k}`), { rtol: 1e-5, atol: 1e-5, label: `${k} after one step` });
    expect(w['bn1.num_batches_tracked'][0]).toBe(t('after.bn1.num_batches_tracked')[0]);
    // saved back with PyTorch's dtype for the counter
    const saved = readSafetensors(model.save());
    expect(saved.tensors.get('bn2.num_batches_tracked')).toMatchObject({ dtype: 'I64', shape: [] });
    expect(saved.tensors.get('bn2.running_var')!.dtype).toBe('F32');
  });
});

describe('batchNormalization behaviour', () => {
  it('training normalizes with the batch, inference with the running statistics; gradients() changes nothing', async () => {
    const nn = await runtime('relaxed');
    const rng = new Rng(3);
    const m = nn.sequential({ inputShape: [4], seed: 1, layers: [{ type: 'batchNormalization' }] });
    const x = Float32Array.from(rng.array(8 * 4), (v, i) => v * 3 + (i % 4));
    // fresh: running mean 0, var 1 → inference is the identity (up to ε)
    expectClose(m.predict(x), x, { rtol: 1e-5, atol: 1e-5, label: 'identity' });
    const before = m.getWeights();
    m.gradients(x, new Float32Array(8 * 4), { loss: 'mse' });
    expect(m.getWeights()).toEqual(before);
    await m.fit(x, x, { epochs: 1, batchSize: 8, shuffle: false, loss: 'mse', optimizer: { type: 'sgd', learningRate: 0 } });
    const w = m.getWeights();
    for (let c = 0; c < 4; c++) {
      let mean = 0;
      for (let b = 0; b < 8; b++) mean += x[b * 4 + c] / 8;
      let v = 0;
      for (let b = 0; b < 8; b++) v += (x[b * 4 + c] - mean) ** 2 / 7;
      expect(w['batchNormalization_0.running_mean'][c]).toBeCloseTo(0.1 * mean, 5);
      expect(w['batchNormalization_0.running_var'][c]).toBeCloseTo(0.9 + 0.1 * v, 4);
    }
    expect(w['batchNormalization_0.num_batches_tracked'][0]).toBe(1);
    expect(m.parameterCount).toBe(8); // γ and β; the running statistics are buffers
    expect(Object.keys(m.gradients(x, x, { loss: 'mse' })).sort()).toEqual(['batchNormalization_0.bias', 'batchNormalization_0.weight']);
  });

  it('a frozen layer runs as in inference and keeps its statistics while the rest fine-tunes', async () => {
    const nn = await runtime('simd');
    const rng = new Rng(4);
    const m = nn.sequential({ inputShape: [3], seed: 2, layers: [{ type: 'dense', units: 4 }, { type: 'batchNormalization', activation: 'tanh' }, { type: 'dense', units: 1 }] });
    const x = rng.array(16 * 3);
    const y = rng.array(16);
    await m.fit(x, y, { epochs: 2, batchSize: 8, loss: 'mse' });
    const stats = m.getWeights();
    m.layers[1].trainable = false;
    await m.fit(x, y, { epochs: 2, batchSize: 8, loss: 'mse' });
    const after = m.getWeights();
    for (const k of ['running_mean', 'running_var', 'num_batches_tracked', 'weight', 'bias']) expect(after[`batchNormalization_1.${k}`]).toEqual(stats[`batchNormalization_1.${k}`]);
    expect(after['dense_2.weight']).not.toEqual(stats['dense_2.weight']);
  });

  it('refuses sequences, bad momentum and a batch of one value per channel', async () => {
    const nn = await runtime('scalar');
    expect(() => nn.sequential({ inputShape: [3, 2], layers: [{ type: 'batchNormalization' }] })).toThrow(expect.objectContaining({ code: 'UNSUPPORTED' }));
    expect(() => nn.sequential({ inputShape: [3], layers: [{ type: 'batchNormalization', momentum: 2 }] })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    const m = nn.sequential({ inputShape: [3], layers: [{ type: 'batchNormalization' }] });
    const w = m.getWeights();
    await expect(m.fit([[1, 2, 3]], [[0, 0, 0]], { loss: 'mse' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(m.getWeights()).toEqual(w);
  });
});
