// The activation layer, global average pooling and the Huber loss through the public API:
// each against an equivalent model or a plain computation, and the shared model gradcheck.
import { describe, expect, it } from 'vitest';
import type { LayerConfig } from '../../src/node';
import { gradcheckModel } from '../helpers/model-gradcheck';
import { runtime } from '../helpers/neurite';
import { expectClose, Rng } from '../helpers/reference';

describe('activation layer', () => {
  it.each(['relu', 'tanh', 'softmax', 'elu'] as const)('dense → activation(%s) is dense with that activation: outputs and gradients', async (act) => {
    const nn = await runtime('relaxed');
    const rng = new Rng(act.length);
    const fused = nn.sequential({ inputShape: [5], seed: 3, layers: [{ type: 'dense', units: 4, activation: act }] });
    const split = nn.sequential({ inputShape: [5], seed: 3, layers: [{ type: 'dense', units: 4 }, { type: 'activation', activation: act }] });
    split.setWeights(fused.getWeights(), { strict: true }); // relu's He init differs from linear's Glorot
    const x = rng.array(6 * 5);
    expect(Array.from(split.predict(x))).toEqual(Array.from(fused.predict(x)));
    const loss = act === 'softmax' ? 'categoricalCrossentropy' : 'mse';
    const y = act === 'softmax' ? [0, 1, 2, 3, 1, 2] : rng.array(6 * 4);
    const gf = fused.gradients(x, y, { loss });
    const gs = split.gradients(x, y, { loss });
    for (const k of Object.keys(gf)) expectClose(gs[k], gf[k], { rtol: 1e-6, atol: 1e-7, label: `${act} ${k}` });
    expect(split.topology().layers[1]).toEqual({ type: 'activation', name: 'activation_1', activation: act });
  });

  it('softmax over the last axis of a sequence, gradchecked', async () => {
    const nn = await runtime('simd');
    const rng = new Rng(4);
    const m = nn.sequential({ inputShape: [3, 4], seed: 1, layers: [
      { type: 'gru', units: 5, returnSequences: true }, { type: 'dense', units: 3 }, { type: 'activation', activation: 'softmax' }] });
    const p = m.predict(rng.array(2 * 12));
    for (let r = 0; r < 6; r++) expect(p[r * 3] + p[r * 3 + 1] + p[r * 3 + 2]).toBeCloseTo(1, 6);
    gradcheckModel(m, rng.array(2 * 12), [0, 2, 1, 1, 0, 2], 'categoricalCrossentropy', 'sequence softmax');
  });

  it('refuses a missing activation and prelu', async () => {
    const nn = await runtime('scalar');
    expect(() => nn.sequential({ inputShape: [3], layers: [{ type: 'activation' } as LayerConfig] })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => nn.sequential({ inputShape: [3], layers: [{ type: 'activation', activation: 'prelu' }] })).toThrow(expect.objectContaining({ code: 'UNSUPPORTED' }));
    expect(() => nn.sequential({ inputShape: [3], layers: [{ type: 'activation', activation: 'relux' as never }] })).toThrow(expect.objectContaining({ code: 'UNKNOWN_NAME' }));
  });
});

describe('globalAvgPool2d', () => {
  it('each channel is its plane\'s mean; gradients check', async () => {
    const nn = await runtime('relaxed');
    const rng = new Rng(9);
    const m = nn.sequential({ inputShape: [3, 5, 4], seed: 2, layers: [{ type: 'globalAvgPool2d' }] });
    expect(m.outputShape).toEqual([3]);
    const x = rng.array(2 * 60);
    const y = m.predict(x);
    for (let b = 0; b < 2; b++) {
      for (let c = 0; c < 3; c++) {
        let s = 0;
        for (let i = 0; i < 20; i++) s += x[b * 60 + c * 20 + i];
        expect(y[b * 3 + c]).toBeCloseTo(s / 20, 6);
      }
    }
    const cnn = nn.sequential({ inputShape: [2, 6, 6], seed: 5, layers: [
      { type: 'conv2d', filters: 4, kernelSize: 3, padding: 'same', activation: 'tanh' }, { type: 'globalAvgPool2d' }, { type: 'dense', units: 3, activation: 'softmax' }] });
    gradcheckModel(cnn, rng.array(3 * 72), [0, 2, 1], 'categoricalCrossentropy', 'gap');
  });
});

describe('huber loss', () => {
  it('gradchecks through a model and trains like PyTorch\'s HuberLoss: loss equals the plain formula', async () => {
    const nn = await runtime('relaxed');
    const rng = new Rng(12);
    const m = nn.sequential({ inputShape: [3], seed: 4, layers: [{ type: 'dense', units: 2 }] });
    const x = rng.array(5 * 3, -2, 2);
    const y = rng.array(5 * 2, -3, 3);
    const p = m.predict(x);
    let want = 0;
    for (let i = 0; i < 10; i++) { const d = Math.abs(p[i] - y[i]); want += d <= 1 ? 0.5 * d * d : d - 0.5; }
    expect(m.evaluate(x, y, { loss: 'huber' }).loss).toBeCloseTo(want / 10, 6);
    gradcheckModel(m, x, y, 'huber', 'huber');
  });
});

describe('summary', () => {
  it('lists every layer with its output shape and parameters, residual parts indented, and the totals', async () => {
    const nn = await runtime('relaxed');
    const m = nn.sequential({ inputShape: [1, 12, 12], seed: 1, layers: [
      { type: 'conv2d', filters: 4, kernelSize: 3 },
      { type: 'residual', layers: [{ type: 'conv2d', filters: 6, kernelSize: 3, padding: 'same' }] },
      { type: 'globalAvgPool2d' },
      { type: 'dense', units: 3 },
    ] });
    m.layers[0].trainable = false;
    const lines = m.summary().split('\n');
    expect(lines[0]).toBe('input [1, 12, 12]');
    const row = (name: string) => lines.find((l) => l.trimStart().startsWith(name))!.trim().split(/\s{2,}/);
    expect(row('conv2d_0 (conv2d)')).toEqual(['conv2d_0 (conv2d)', '[4, 10, 10]', '40']);
    expect(row('residual_1')).toEqual(['residual_1 (residual)', '[6, 10, 10]', String(4 * 6 * 9 + 6 + 4 * 6 + 6)]);
    expect(lines.some((l) => l.startsWith('  shortcut (conv2d)'))).toBe(true);
    expect(row('dense_3')).toEqual(['dense_3 (dense)', '[3]', '21']);
    expect(lines).toContain(`Total params: ${m.parameterCount}`);
    expect(lines).toContain(`Trainable params: ${m.parameterCount - 40}`);
    expect(lines).toContain('Frozen params: 40');
  });
});

describe('useBias: false', () => {
  it('dense without a bias: no bias parameter, y = x·Wᵀ, gradients check, round trip', async () => {
    const nn = await runtime('relaxed');
    const rng = new Rng(21);
    const m = nn.sequential({ inputShape: [3], seed: 1, layers: [{ type: 'dense', units: 2, useBias: false, activation: 'tanh' }, { type: 'dense', units: 1 }] });
    expect(Object.keys(m.getWeights()).sort()).toEqual(['dense_0.weight', 'dense_1.bias', 'dense_1.weight']);
    expect(m.parameterCount).toBe(6 + 3);
    const x = rng.array(4 * 3);
    const w = m.getWeights()['dense_0.weight'];
    const probe = nn.sequential({ inputShape: [3], layers: [{ type: 'dense', units: 2, useBias: false }] });
    probe.setWeights({ 'dense_0.weight': w }, { strict: true });
    const y = probe.predict(x);
    for (let r = 0; r < 4; r++) for (let j = 0; j < 2; j++) {
      expect(y[r * 2 + j]).toBeCloseTo(x[r * 3] * w[j * 3] + x[r * 3 + 1] * w[j * 3 + 1] + x[r * 3 + 2] * w[j * 3 + 2], 5);
    }
    gradcheckModel(m, x, rng.array(4), 'mse', 'no bias');
    const back = nn.load(m.save());
    expect(back.topology().layers[0]).toMatchObject({ useBias: false });
    expect(Array.from(back.predict(x))).toEqual(Array.from(m.predict(x)));
    expect(() => nn.sequential({ inputShape: [3], layers: [{ type: 'dense', units: 2, useBias: 'no' as never }] })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});

describe('conv2d useBias: false', () => {
  for (const [label, stride] of [['indirect kernels (stride 1)', 1], ['im2col kernels (stride 2)', 2]] as const) {
    it(`${label}: no bias tensor, the same outputs as a zero bias, gradients check`, async () => {
      const nn = await runtime('relaxed');
      const rng = new Rng(31 + stride);
      const layers = (useBias: boolean): LayerConfig[] => [
        { type: 'conv2d', filters: 3, kernelSize: 3, padding: 'same', stride, activation: 'tanh', useBias },
        { type: 'flatten' }, { type: 'dense', units: 2 }];
      const m = nn.sequential({ inputShape: [2, 6, 6], seed: 3, layers: layers(false) });
      expect(Object.keys(m.getWeights())).not.toContain('conv2d_0.bias');
      const withBias = nn.sequential({ inputShape: [2, 6, 6], seed: 3, layers: layers(true) });
      withBias.setWeights({ ...m.getWeights(), 'conv2d_0.bias': new Float32Array(3) }, { strict: true });
      const x = rng.array(3 * 72);
      expect(Array.from(m.predict(x))).toEqual(Array.from(withBias.predict(x)));
      gradcheckModel(m, x, rng.array(3 * 2), 'mse', `no bias, stride ${stride}`);
      expect(nn.load(m.save()).topology().layers[0]).toMatchObject({ useBias: false });
      // with the ReLU fused into the indirect kernel's store too (no gradcheck: ReLU's kink)
      const relu = (useBias: boolean) => nn.sequential({ inputShape: [2, 6, 6], seed: 3, layers: [
        { type: 'conv2d', filters: 3, kernelSize: 3, padding: 'same', stride, activation: 'relu', useBias }] });
      const a = relu(false);
      const b = relu(true);
      b.setWeights({ ...a.getWeights(), 'conv2d_0.bias': new Float32Array(3) }, { strict: true });
      expect(Array.from(a.predict(x))).toEqual(Array.from(b.predict(x)));
      const ga = a.gradients(x, rng.array(3 * a.outputShape.reduce((p, q) => p * q, 1)), { loss: 'mse' });
      expect(Object.keys(ga)).toEqual(['conv2d_0.weight']);
    });
  }
});
