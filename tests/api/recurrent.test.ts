// Recurrent networks through the public API: PyTorch golden fixtures (outputs, loss and one SGD
// step), gradients through time against finite differences, streams against predict on every
// prefix, Keras's initialisation, gradient clipping, and bad input.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { NeuriteError, readSafetensors, type LayerConfig, type LossName, type Model } from '../../src/node';
import { gradcheckModel } from '../helpers/model-gradcheck';
import { runtime } from '../helpers/neurite';
import { expectClose, Rng } from '../helpers/reference';
import { BUILDS } from '../helpers/wasm';

const fixture = (name: string): Uint8Array => readFileSync(new URL(`../fixtures/torch/${name}`, import.meta.url));
const CASES = JSON.parse(new TextDecoder().decode(fixture('cases.json'))).cases as Record<string, {
  inputShape: number[]; layers: LayerConfig[]; loss: LossName; learningRate: number;
}>;

describe.each(BUILDS)('PyTorch golden fixtures (%s build)', (build) => {
  it.each(Object.keys(CASES))('%s: outputs, loss and one SGD step match PyTorch within 1e-5', async (name) => {
    const nn = await runtime(build);
    const c = CASES[name];
    const model = nn.load(fixture(`${name}.safetensors`), { inputShape: c.inputShape, layers: c.layers });
    const exp = readSafetensors(fixture(`${name}.expected.safetensors`)).tensors;
    const t = (k: string) => exp.get(k)!.data;
    expectClose(model.predict(t('x')), t('output'), { rtol: 1e-5, atol: 1e-5, label: `${name} output` });
    expect(model.evaluate(t('x'), t('target'), { loss: c.loss }).loss).toBeCloseTo(t('loss')[0], 5);
    const n = t('x').length / (c.inputShape[0] * c.inputShape[1]);
    await model.fit(t('x'), t('target'), {
      epochs: 1, batchSize: n, shuffle: false, loss: c.loss, optimizer: { type: 'sgd', learningRate: c.learningRate },
    });
    const w = model.getWeights();
    for (const key of Object.keys(w)) expectClose(w[key], t(`after.${key}`), { rtol: 1e-5, atol: 1e-5, label: `${name} ${key} after one step` });
    model.dispose();
  });
});

const CELLS = ['simpleRnn', 'lstm', 'gru'] as const;

describe('gradients through time against finite differences', () => {
  for (const type of CELLS) {
    for (const returnSequences of [false, true]) {
      it(`${type}, returnSequences ${returnSequences}`, async () => {
        const nn = await runtime('relaxed');
        const rng = new Rng(type.length * 31 + (returnSequences ? 1 : 0));
        const [T, F, n] = [5, 3, 4];
        const model = nn.sequential({
          inputShape: [T, F], seed: 7, layers: [
            { type, units: 6, returnSequences },
            { type: 'dense', units: 2, activation: 'tanh' },
          ],
        });
        const y = rng.array(n * (returnSequences ? T : 1) * 2, -0.8, 0.8);
        gradcheckModel(model, rng.array(n * T * F), y, 'mse', `${type} seq=${returnSequences}`);
      });
    }
  }

  it('stacked lstm → gru → per-step softmax with class labels', async () => {
    const nn = await runtime('simd');
    const rng = new Rng(99);
    const model = nn.sequential({
      inputShape: [4, 2], seed: 3, layers: [
        { type: 'lstm', units: 5, returnSequences: true },
        { type: 'gru', units: 4, returnSequences: true },
        { type: 'dense', units: 3, activation: 'softmax' },
      ],
    });
    const labels = Array.from({ length: 3 * 4 }, () => rng.int(3));
    gradcheckModel(model, rng.array(3 * 4 * 2), labels, 'categoricalCrossentropy', 'stacked');
  });

  it('embedding → simpleRnn (sigmoid) → dense', async () => {
    const nn = await runtime('scalar');
    const rng = new Rng(5);
    const model = nn.sequential({
      inputShape: [6], seed: 4, layers: [
        { type: 'embedding', inputDim: 7, outputDim: 3 },
        { type: 'simpleRnn', units: 5, activation: 'sigmoid' },
        { type: 'dense', units: 1 },
      ],
    });
    const ids = Array.from({ length: 4 * 6 }, () => rng.int(7));
    gradcheckModel(model, ids, rng.array(4), 'mse', 'embedding');
  });
});

describe('streams', () => {
  const stacks: Record<string, LayerConfig[]> = {
    simpleRnn: [{ type: 'simpleRnn', units: 6 }, { type: 'dense', units: 2 }],
    lstm: [{ type: 'lstm', units: 5, returnSequences: true }, { type: 'lstm', units: 4 }, { type: 'dense', units: 3, activation: 'softmax' }],
    gru: [{ type: 'gru', units: 9, returnSequences: true }, { type: 'dense', units: 2, activation: 'sigmoid' }],
  };
  it.each(Object.keys(stacks))('%s: stream.next equals predict on every prefix, for two interleaved streams', async (key) => {
    const nn = await runtime('relaxed');
    const [T, F] = [7, 3];
    const model = nn.sequential({ inputShape: [T, F], seed: 11, layers: stacks[key] });
    const w = model.getWeights();
    const rng = new Rng(key.length);
    const seqs = [rng.array(T * F), rng.array(T * F)];
    const p0 = model.predict(seqs[0]);
    const streams = [model.stream(), model.stream()];
    for (let t = 1; t <= T; t++) {
      const prefix = nn.sequential({ inputShape: [t, F], seed: 0, layers: stacks[key] });
      prefix.setWeights(w, { strict: true });
      for (let s = 0; s < 2; s++) {
        const got = streams[s].next(seqs[s].subarray((t - 1) * F, t * F));
        const all = prefix.predict(seqs[s].subarray(0, t * F));
        const width = got.length;
        expectClose(got, all.subarray(all.length - width), { rtol: 1e-5, atol: 1e-6, label: `${key} stream ${s} step ${t}` });
      }
      prefix.dispose();
    }
    // reset starts a new sequence
    streams[0].reset();
    const first = streams[0].next(seqs[1].subarray(0, F));
    const fresh = nn.sequential({ inputShape: [1, F], seed: 0, layers: stacks[key] });
    fresh.setWeights(w, { strict: true });
    const want = fresh.predict(seqs[1].subarray(0, F));
    expectClose(first, want.subarray(want.length - first.length), { rtol: 1e-5, atol: 1e-6, label: 'after reset' });
    // a disposed stream refuses; a new one reuses its state, zeroed
    streams[1].dispose();
    expect(() => streams[1].next(seqs[0].subarray(0, F))).toThrow(expect.objectContaining({ code: 'DISPOSED' }));
    const again = model.stream();
    expectClose(again.next(seqs[1].subarray(0, F)), first, { rtol: 0, atol: 0, label: 'reused state starts from zero' });
    // predict is untouched by the streams' memory
    expect(Array.from(model.predict(seqs[0]))).toEqual(Array.from(p0));
  });

  it('embedding models stream ids; models that cannot step refuse', async () => {
    const nn = await runtime('simd');
    const layers: LayerConfig[] = [{ type: 'embedding', inputDim: 10, outputDim: 4 }, { type: 'gru', units: 3 }, { type: 'dense', units: 2 }];
    const model = nn.sequential({ inputShape: [5], seed: 2, layers });
    const ids = [3, 1, 4, 1, 5];
    const s = model.stream();
    let last: Float32Array = new Float32Array();
    for (const id of ids) last = s.next([id]);
    expectClose(last, model.predict(ids), { rtol: 1e-5, atol: 1e-6, label: 'ids' });
    expect(() => s.next([10])).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => s.next([1, 2])).toThrow(expect.objectContaining({ code: 'SHAPE_MISMATCH' }));
    const cnn = nn.sequential({ inputShape: [1, 4, 4], layers: [{ type: 'conv2d', filters: 1, kernelSize: 3 }] });
    expect(() => cnn.stream()).toThrow(expect.objectContaining({ code: 'UNSUPPORTED' }));
  });
});

describe('initialisation, clipping, bad input', () => {
  it('Keras defaults: orthogonal recurrent weights, Glorot input weights, forget-gate bias 1; seeded', async () => {
    const nn = await runtime('relaxed');
    const u = 6;
    const m = nn.sequential({ inputShape: [3, 2], seed: 5, layers: [{ type: 'lstm', units: u }] });
    const w = m.getWeights();
    const whh = w['lstm_0.weight_hh_l0']; // [4u, u]: its u columns are orthonormal
    for (let a = 0; a < u; a++) {
      for (let b = 0; b < u; b++) {
        let dot = 0;
        for (let r = 0; r < 4 * u; r++) dot += whh[r * u + a] * whh[r * u + b];
        expect(dot).toBeCloseTo(a === b ? 1 : 0, 5);
      }
    }
    const limit = Math.sqrt(6 / (2 + 4 * u));
    expect(Math.max(...w['lstm_0.weight_ih_l0'].map(Math.abs))).toBeLessThanOrEqual(limit);
    expect(Array.from(w['lstm_0.bias_ih_l0'])).toEqual([...Array(u).fill(0), ...Array(u).fill(1), ...Array(2 * u).fill(0)]);
    expect(Array.from(w['lstm_0.bias_hh_l0'])).toEqual(Array(4 * u).fill(0));
    const again = nn.sequential({ inputShape: [3, 2], seed: 5, layers: [{ type: 'lstm', units: u }] }).getWeights();
    for (const k of Object.keys(w)) expect(again[k]).toEqual(w[k]);
  });

  it('clipNorm and clipValue change one SGD step exactly as clip_grad_value_ then clip_grad_norm_ would', async () => {
    const nn = await runtime('relaxed');
    const rng = new Rng(8);
    const layers: LayerConfig[] = [{ type: 'simpleRnn', units: 4 }, { type: 'dense', units: 1 }];
    const x = rng.array(6 * 5 * 2, -3, 3);
    const y = rng.array(6, 5, 9); // far off: large gradients
    for (const opts of [{ clipValue: 0.05 }, { clipNorm: 0.3 }, { clipValue: 0.1, clipNorm: 0.2 }]) {
      const m = nn.sequential({ inputShape: [5, 2], seed: 9, layers });
      const w0 = m.getWeights();
      const g = m.gradients(x, y, { loss: 'mse' });
      const names = Object.keys(g);
      const clipped: Record<string, Float64Array> = {};
      for (const k of names) clipped[k] = Float64Array.from(g[k], (v) => (opts.clipValue ? Math.min(Math.max(v, -opts.clipValue), opts.clipValue) : v));
      const norm = Math.sqrt(names.reduce((s, k) => s + clipped[k].reduce((a, v) => a + v * v, 0), 0));
      const f = opts.clipNorm && norm > opts.clipNorm ? opts.clipNorm / norm : 1;
      expect(f).toBeLessThan(opts.clipNorm ? 1 : 2);
      await m.fit(x, y, { epochs: 1, batchSize: 6, shuffle: false, loss: 'mse', optimizer: { type: 'sgd', learningRate: 0.1 }, ...opts });
      const w1 = m.getWeights();
      for (const k of names) {
        expectClose(w1[k], w0[k].map((v, i) => v - 0.1 * clipped[k][i] * f), { rtol: 1e-5, atol: 1e-6, label: `${JSON.stringify(opts)} ${k}` });
      }
    }
    const m = nn.sequential({ inputShape: [5, 2], layers });
    await expect(m.fit(x, y, { clipNorm: -1 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(m.fit(x, y, { clipValue: Number.NaN })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('wrong steps or features, bad ids, NaN and bad labels: typed errors, the model intact', async () => {
    const nn = await runtime('simd');
    const m = nn.sequential({ inputShape: [4, 3], seed: 1, layers: [{ type: 'gru', units: 3, returnSequences: true }, { type: 'dense', units: 2, activation: 'softmax' }] });
    const w = m.getWeights();
    const rng = new Rng(2);
    const code = (f: () => unknown) => { try { f(); } catch (e) { return (e as NeuriteError).code; } return 'none'; };
    expect(code(() => m.predict(rng.array(4 * 2)))).toBe('SHAPE_MISMATCH');
    expect(code(() => m.predict([rng.array(5 * 3)]))).toBe('SHAPE_MISMATCH');
    const nan = rng.array(12);
    nan[7] = Number.NaN;
    expect(code(() => m.predict(nan))).toBe('NON_FINITE');
    await expect(m.fit(rng.array(12), [0, 1, 2, 1])).rejects.toMatchObject({ code: 'LABEL_OUT_OF_RANGE' });
    await expect(m.fit(rng.array(12), [0, 1, 1])).rejects.toMatchObject({ code: 'SHAPE_MISMATCH' });
    const e = nn.sequential({ inputShape: [3], layers: [{ type: 'embedding', inputDim: 4, outputDim: 2 }, { type: 'lstm', units: 2 }] });
    expect(code(() => e.predict([0, 4, 1]))).toBe('INVALID_ARGUMENT');
    expect(code(() => e.predict([0, 1.5, 1]))).toBe('INVALID_ARGUMENT');
    expect(code(() => e.predict([0, -1, 1]))).toBe('INVALID_ARGUMENT');
    await expect(e.fit([0, 7, 1], [[0.1, 0.2]])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(code(() => nn.sequential({ inputShape: [3], layers: [{ type: 'dense', units: 2 }, { type: 'embedding', inputDim: 4, outputDim: 2 }] }))).toBe('INVALID_ARGUMENT');
    expect(code(() => nn.sequential({ inputShape: [6], layers: [{ type: 'lstm', units: 2 }] }))).toBe('SHAPE_MISMATCH');
    expect(code(() => nn.sequential({ inputShape: [3, 2], layers: [{ type: 'lstm', units: 0 }] }))).toBe('INVALID_ARGUMENT');
    expect(code(() => nn.sequential({ inputShape: [3, 2], layers: [{ type: 'simpleRnn', units: 2, activation: 'gelu' as never }] }))).toBe('UNKNOWN_NAME');
    expect(code(() => nn.sequential({ inputShape: [3, 2], layers: [{ type: 'lstm', units: 2, activation: 'relu' }] }))).toBe('INVALID_ARGUMENT');
    const after = m.getWeights();
    for (const k of Object.keys(w)) expect(after[k]).toEqual(w[k]);
  });

  it('save and load round-trip a recurrent model bit for bit, PyTorch names in the file', async () => {
    const nn = await runtime('relaxed');
    const m = nn.sequential({ inputShape: [5], seed: 3, layers: [
      { type: 'embedding', inputDim: 9, outputDim: 4 }, { type: 'lstm', units: 3, returnSequences: true }, { type: 'gru', units: 2 }, { type: 'dense', units: 1 },
    ] });
    const bytes = m.save();
    const names = [...readSafetensors(bytes).tensors.keys()].sort();
    expect(names).toContain('lstm_1.weight_ih_l0');
    expect(names).toContain('gru_2.bias_hh_l0');
    expect(names).toContain('embedding_0.weight');
    const back: Model = nn.load(bytes);
    const x = [1, 2, 3, 4, 8, 0, 0, 1, 2, 3];
    expect(Array.from(back.predict(x))).toEqual(Array.from(m.predict(x)));
    expect(back.topology()).toEqual(m.topology());
  });
});
