// What Keras and PyTorch users reach for in fit — validationSplit, sampleWeight, classWeight,
// earlyStopping, onEpochEnd returning false, an abort that keeps the history — each against an
// equivalent run; and strictness: a misspelt option anywhere is an error naming the right one.
import { describe, expect, it } from 'vitest';
import { NeuriteError, type LayerConfig } from '../../src/node';
import { init } from '../../src/node';
import { runtime } from '../helpers/neurite';
import { expectClose, Rng } from '../helpers/reference';

const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));
const layers: LayerConfig[] = [{ type: 'dense', units: 6, activation: 'tanh' }, { type: 'dense', units: 1, activation: 'sigmoid' }];

function data(n: number, seed: number) {
  const rng = new Rng(seed);
  const x = rng.array(n * 4);
  const y = Float32Array.from({ length: n }, (_, i) => (x[i * 4] + x[i * 4 + 1] > 0 ? 1 : 0));
  return { x, y };
}

describe('fit options', () => {
  it('validationSplit holds out the last fraction, before shuffling: the same run as validationData', async () => {
    const nn = await runtime('relaxed');
    const { x, y } = data(40, 1);
    const a = nn.sequential({ inputShape: [4], seed: 3, layers });
    const ha = await a.fit(x, y, { epochs: 3, batchSize: 8, validationSplit: 0.25 });
    const b = nn.sequential({ inputShape: [4], seed: 3, layers });
    const hb = await b.fit(x.subarray(0, 30 * 4), y.subarray(0, 30), { epochs: 3, batchSize: 8, validationData: [x.subarray(30 * 4), y.subarray(30)] });
    expect(ha.valLoss).toEqual(hb.valLoss);
    const wa = a.getWeights();
    const wb = b.getWeights();
    for (const k of Object.keys(wa)) expect(bits(wa[k])).toEqual(bits(wb[k]));
    await expect(a.fit(x, y, { validationSplit: 0.2, validationData: [x, y] })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(a.fit(x.subarray(0, 4), y.subarray(0, 1), { validationSplit: 0.5 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(a.fit(x, y, { validationSplit: 1 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('sampleWeight: weight 2 everywhere is SGD at twice the rate; zero weights drop samples from the gradient', async () => {
    const nn = await runtime('relaxed');
    const { x, y } = data(8, 2);
    const run = async (opts: object, lr: number, xs = x, ys = y) => {
      const m = nn.sequential({ inputShape: [4], seed: 5, layers });
      await m.fit(xs, ys, { epochs: 2, batchSize: xs.length / 4, shuffle: false, loss: 'mse', optimizer: { type: 'sgd', learningRate: lr }, ...opts });
      return m.getWeights();
    };
    const twice = await run({ sampleWeight: new Array(8).fill(2) }, 0.1);
    const fast = await run({}, 0.2);
    for (const k of Object.keys(twice)) expectClose(twice[k], fast[k], { rtol: 1e-6, atol: 1e-7, label: k });
    // half the rows weigh 0: the rest's gradient is divided by 8, not 4 — SGD at half the rate on them
    const half = await run({ sampleWeight: [1, 1, 1, 1, 0, 0, 0, 0] }, 0.2);
    const firstFour = await run({}, 0.1, x.subarray(0, 16), y.subarray(0, 4));
    for (const k of Object.keys(half)) expectClose(half[k], firstFour[k], { rtol: 1e-5, atol: 1e-6, label: k });
    const m = nn.sequential({ inputShape: [4], layers });
    await expect(m.fit(x, y, { sampleWeight: [1, 2] })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(m.fit(x, y, { sampleWeight: new Array(8).fill(-1) })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('classWeight equals the matching sampleWeight, for binary and categorical targets and per step', async () => {
    const nn = await runtime('simd');
    const { x, y } = data(12, 3);
    const fitW = async (opts: object, l: LayerConfig[], yy: ArrayLike<number>, shape = [4]) => {
      const m = nn.sequential({ inputShape: shape, seed: 7, layers: l });
      const h = await m.fit(x, yy, { epochs: 2, batchSize: 4, shuffle: false, ...opts });
      return { w: m.getWeights(), loss: h.loss };
    };
    const a = await fitW({ classWeight: { 1: 3 } }, layers, y);
    const b = await fitW({ sampleWeight: Array.from(y, (v) => (v === 1 ? 3 : 1)) }, layers, y);
    expect(a.loss).toEqual(b.loss);
    for (const k of Object.keys(a.w)) expect(bits(a.w[k])).toEqual(bits(b.w[k]));
    const soft: LayerConfig[] = [{ type: 'dense', units: 3, activation: 'softmax' }];
    const labels = Array.from(y, (v, i) => (v ? 2 : i % 2));
    const c = await fitW({ classWeight: [0.5, 1, 4] }, soft, labels);
    const d = await fitW({ sampleWeight: labels.map((l) => [0.5, 1, 4][l]) }, soft, labels);
    for (const k of Object.keys(c.w)) expect(bits(c.w[k])).toEqual(bits(d.w[k]));
    // per step of a sequence output: [2 steps, 2 features] → 3 classes per step
    const seq: LayerConfig[] = [{ type: 'dense', units: 3, activation: 'softmax' }];
    const steps = Array.from({ length: 24 }, (_, i) => i % 3);
    const e = await fitW({ classWeight: { 2: 5 } }, seq, steps, [2, 2]);
    const f = await fitW({}, seq, steps, [2, 2]);
    expect(e.loss[0]).toBeGreaterThan(f.loss[0]);
    const m = nn.sequential({ inputShape: [4], layers });
    await expect(m.fit(x, y, { classWeight: { 2: 1 } })).rejects.toMatchObject({ code: 'LABEL_OUT_OF_RANGE' });
    await expect(m.fit(x, y, { loss: 'mse', classWeight: { 1: 2 } })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('earlyStopping stops when the validation loss stops improving and restores the best weights', async () => {
    const nn = await runtime('relaxed');
    const { x, y } = data(32, 4);
    const inverted = Float32Array.from(y, (v) => 1 - v); // the better it learns, the worse this gets
    const m = nn.sequential({ inputShape: [4], seed: 1, layers });
    const seen: Record<string, Float32Array>[] = [];
    const h = await m.fit(x, y, {
      epochs: 20, batchSize: 8, optimizer: { type: 'adam', learningRate: 0.05 }, validationData: [x, inverted],
      earlyStopping: { patience: 2, restoreBestWeights: true }, onEpochEnd: () => { seen.push(m.getWeights()); },
    });
    expect(h.stopped).toBe('earlyStopping');
    const bestEpoch = h.valLoss.indexOf(Math.min(...h.valLoss));
    expect(h.epochs).toBe(bestEpoch + 3); // two epochs without improvement after the best
    const w = m.getWeights();
    for (const k of Object.keys(w)) expect(bits(w[k])).toEqual(bits(seen[bestEpoch][k]));
    // watching the training loss when there is no validation data: it keeps improving here
    const n = nn.sequential({ inputShape: [4], seed: 1, layers });
    const h2 = await n.fit(x, y, { epochs: 4, batchSize: 8, earlyStopping: { patience: 1 } });
    expect(h2.epochs).toBe(4);
    expect(h2.stopped).toBeUndefined();
    await expect(n.fit(x, y, { earlyStopping: { patients: 2 } as never })).rejects.toThrow(/did you mean "patience"/);
  });

  it('onEpochEnd returning false stops; an abort rejects with the history so far and the last step\'s weights', async () => {
    const nn = await runtime('relaxed');
    const { x, y } = data(32, 5);
    const m = nn.sequential({ inputShape: [4], seed: 2, layers });
    const h = await m.fit(x, y, { epochs: 10, batchSize: 8, onEpochEnd: (e) => e < 1 });
    expect(h.epochs).toBe(2);
    expect(h.stopped).toBe('onEpochEnd');
    const ctl = new AbortController();
    let last: Record<string, Float32Array> = {};
    const err = await m.fit(x, y, {
      epochs: 10, batchSize: 8,
      onBatchEnd: (b, { epoch }) => { last = m.getWeights(); if (epoch === 2 && b === 1) ctl.abort(); },
      signal: ctl.signal,
    }).catch((e) => e);
    expect(err).toBeInstanceOf(NeuriteError);
    expect(err.code).toBe('ABORTED');
    expect(err.history.epochs).toBe(2);
    expect(err.history.loss).toHaveLength(2);
    const w = m.getWeights();
    for (const k of Object.keys(w)) expect(bits(w[k])).toEqual(bits(last[k]));
  });
});

describe('nothing is silently ignored', () => {
  const message = async (f: () => unknown) => { try { await f(); } catch (e) { return `${(e as NeuriteError).code}: ${(e as Error).message}`; } return 'no error'; };

  it('misspelt and unsupported options name the key and the closest valid one', async () => {
    const nn = await runtime('relaxed');
    const m = nn.sequential({ inputShape: [2], layers: [{ type: 'dense', units: 1 }] });
    const x = [[0, 1]];
    const y = [[1]];
    expect(await message(() => m.fit(x, y, { epoch: 5 } as never))).toMatch(/INVALID_ARGUMENT: fit: unknown option "epoch" \(did you mean "epochs"\?\)/);
    expect(await message(() => m.fit(x, y, { callbacks: [] } as never))).toMatch(/unknown option "callbacks"/);
    expect(await message(() => m.fit(x, y, { optimizer: { type: 'adam', learningrate: 0.1 } as never }))).toMatch(/did you mean "learningRate"/);
    expect(await message(() => m.fit(x, y, { optimizer: { type: 'adam', momentum: 0.9 } as never }))).toMatch(/unknown option "momentum"/);
    expect(await message(() => m.fit(x, y, { optimizer: { type: 'sgd', schedule: { type: 'step', stepsize: 2 } as never } }))).toMatch(/did you mean "stepSize"/);
    expect(await message(() => m.fit(x, y, { optimizer: 'adamw' as never }))).toMatch(/UNKNOWN_NAME.*did you mean "adam"/);
    expect(await message(() => nn.sequential({ inputShape: [2], layers: [{ type: 'dense', units: 8, activaton: 'relu' } as never] }))).toMatch(/did you mean "activation"/);
    expect(await message(() => nn.sequential({ inputShape: [2], layers: [{ type: 'Dense', units: 8 } as never] }))).toMatch(/UNKNOWN_NAME.*did you mean "dense"/);
    expect(await message(() => nn.sequential({ inputShape: [2], layers: [{ type: 'dense', units: 8, usebias: false } as never] }))).toMatch(/did you mean "useBias"/);
    expect(await message(() => nn.sequential({ inputShape: [2], layers: [{ type: 'dense', units: 8, kernelRegularizer: 'l2' } as never] }))).toMatch(/unknown option "kernelRegularizer"/);
    expect(await message(() => nn.sequential({ inputShape: [2], layers: [], seeds: 1 } as never))).toMatch(/did you mean "seed"/);
    expect(await message(() => m.evaluate(x, y, { batchsize: 2 } as never))).toMatch(/did you mean "batchSize"/);
    expect(await message(() => m.save({ dtype: 'f16' } as never))).toMatch(/unknown option "dtype"/);
    expect(await message(() => nn.load(m.save(), { inputshape: [2] } as never))).toMatch(/did you mean "inputShape"/);
    expect(await message(() => m.setWeights({}, { strcit: true } as never))).toMatch(/did you mean "strict"/);
    expect(await message(() => init({ threads: 4 } as never))).toMatch(/unknown option "threads"/);
    expect(await message(() => m.gradients(x, y, { los: 'mse' } as never))).toMatch(/did you mean "loss"/);
    expect(await message(() => nn.perceptron({ inputs: 2, learingRate: 1 } as never))).toMatch(/did you mean "learningRate"/);
    // and every layer a model writes to its topology is accepted back
    const big = nn.sequential({ inputShape: [1, 8, 8], layers: [
      { type: 'conv2d', filters: 2, kernelSize: 3, padding: 'same', stride: 1, dilation: 1, activation: 'leakyRelu', alpha: 0.2 },
      { type: 'residual', activation: 'relu', layers: [{ type: 'conv2d', filters: 2, kernelSize: 3, padding: 'same' }] },
      { type: 'maxPool2d', poolSize: 2 }, { type: 'avgPool2d', poolSize: 2, stride: 1, padding: 'valid' },
      { type: 'globalAvgPool2d' }, { type: 'activation', activation: 'elu' }, { type: 'reshape', targetShape: [2, 1] },
      { type: 'gru', units: 2, returnSequences: true }, { type: 'simpleRnn', units: 2, activation: 'relu' },
      { type: 'dropout', rate: 0.1 }, { type: 'flatten' }, { type: 'dense', units: 2, activation: 'prelu', alpha: 0.1 },
    ] });
    expect(nn.load(big.save()).topology()).toEqual(big.topology());
  });
});
