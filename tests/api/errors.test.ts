// Bad input: a clear NeuriteError with a stable code, never a wasm trap, never a spoiled model.
import { describe, expect, it } from 'vitest';
import { NeuriteError, type Model, type SequentialOptions } from '../../src/node';
import { blobs } from '../helpers/data';
import { runtime } from '../helpers/neurite';

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof NeuriteError)) throw new Error(`expected a NeuriteError, got ${e}`);
    return e.code;
  }
  throw new Error('expected an error, none was thrown');
}

async function codeAsync(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (!(e instanceof NeuriteError)) throw new Error(`expected a NeuriteError, got ${e}`);
    return e.code;
  }
  throw new Error('expected an error, none was thrown');
}

describe('bad input', async () => {
  const nn = await runtime('relaxed');
  const spec: SequentialOptions = { inputShape: [2], seed: 1, layers: [
    { type: 'dense', units: 4, activation: 'relu' }, { type: 'dense', units: 3, activation: 'softmax' }] };
  const data = blobs(60, 3);

  function unchanged(m: Model, before: Record<string, Float32Array>) {
    expect(m.getWeights()).toEqual(before);
    expect(Array.from(m.predict([[0.1, 0.2]])).every(Number.isFinite)).toBe(true);
  }

  it('unknown layer, activation, loss, optimizer and schedule names', async () => {
    expect(code(() => nn.sequential({ inputShape: [2], layers: [{ type: 'dance', units: 3 } as never] }))).toBe('UNKNOWN_NAME');
    expect(code(() => nn.sequential({ inputShape: [2], layers: [{ type: 'dense', units: 3, activation: 'relux' as never }] }))).toBe('UNKNOWN_NAME');
    const m = nn.sequential(spec);
    expect(await codeAsync(m.fit(data.x, data.labels, { loss: 'hinge' as never }))).toBe('UNKNOWN_NAME');
    expect(await codeAsync(m.fit(data.x, data.labels, { optimizer: { type: 'lion' as 'adam' } }))).toBe('UNKNOWN_NAME');
    expect(await codeAsync(m.fit(data.x, data.labels, {
      optimizer: { type: 'sgd', schedule: { type: 'wavy' } as never } }))).toBe('UNKNOWN_NAME');
    expect(code(() => m.evaluate(data.x, data.labels, { loss: 'nope' as never }))).toBe('UNKNOWN_NAME');
  });

  it('invalid topologies and options', async () => {
    expect(code(() => nn.sequential({ inputShape: [0], layers: [{ type: 'dense', units: 3 }] }))).toBe('INVALID_ARGUMENT');
    expect(code(() => nn.sequential({ inputShape: [2], layers: [] }))).toBe('INVALID_ARGUMENT');
    expect(code(() => nn.sequential({ inputShape: [2], layers: [{ type: 'dense', units: -1 }] }))).toBe('INVALID_ARGUMENT');
    expect(code(() => nn.sequential({ inputShape: [2], layers: [{ type: 'dense', units: 2.5 }] }))).toBe('INVALID_ARGUMENT');
    expect(code(() => nn.sequential({ inputShape: [2], layers: [
      { type: 'dense', units: 2, name: 'a' }, { type: 'dense', units: 2, name: 'a' }] }))).toBe('INVALID_ARGUMENT');
    expect(code(() => nn.sequential({ inputShape: [1, 28, 28], layers: [{ type: 'dense', units: 2 }] }))).toBe('SHAPE_MISMATCH');
    const m = nn.sequential(spec);
    expect(await codeAsync(m.fit(data.x, data.labels, { epochs: 0 }))).toBe('INVALID_ARGUMENT');
    expect(await codeAsync(m.fit(data.x, data.labels, { batchSize: 1.5 }))).toBe('INVALID_ARGUMENT');
    expect(await codeAsync(m.fit(data.x, data.labels, { optimizer: { type: 'adam', learningRate: -1 } }))).toBe('INVALID_ARGUMENT');
  });

  it('a model too large for memory is refused before anything is allocated', () => {
    expect(code(() => nn.sequential({ inputShape: [1 << 16], layers: [{ type: 'dense', units: 1 << 14 }] }))).toBe('TOO_LARGE');
  });

  it('wrong input lengths and row widths', () => {
    const m = nn.sequential(spec);
    const before = m.getWeights();
    expect(code(() => m.predict(new Float32Array(3)))).toBe('SHAPE_MISMATCH');
    expect(code(() => m.predict([[1, 2], [3]]))).toBe('SHAPE_MISMATCH');
    expect(code(() => m.evaluate([[1, 2]], [[1, 0]]))).toBe('SHAPE_MISMATCH');
    expect(code(() => m.evaluate([[1, 2], [3, 4]], [0]))).toBe('SHAPE_MISMATCH');
    unchanged(m, before);
  });

  it('NaN and Infinity in inputs, targets and weights', async () => {
    const m = nn.sequential(spec);
    const before = m.getWeights();
    expect(code(() => m.predict([[NaN, 1]]))).toBe('NON_FINITE');
    expect(code(() => m.predict(new Float32Array([1, 2, 3, Infinity])))).toBe('NON_FINITE');
    expect(await codeAsync(m.fit([[1, -Infinity]], [0]))).toBe('NON_FINITE');
    expect(await codeAsync(m.fit([[1, 2]], [[NaN, 0, 1]]))).toBe('NON_FINITE');
    const bad = { ...before, 'dense_1.bias': Float32Array.from([0, NaN, 0]) };
    expect(code(() => m.setWeights(bad))).toBe('NON_FINITE');
    unchanged(m, before);
  });

  it('labels out of range', async () => {
    const m = nn.sequential(spec);
    const before = m.getWeights();
    expect(await codeAsync(m.fit([[1, 2], [3, 4]], [0, 3]))).toBe('LABEL_OUT_OF_RANGE');
    expect(await codeAsync(m.fit([[1, 2], [3, 4]], [0, -1]))).toBe('LABEL_OUT_OF_RANGE');
    expect(await codeAsync(m.fit([[1, 2], [3, 4]], [0, 1.5]))).toBe('LABEL_OUT_OF_RANGE');
    expect(code(() => m.evaluate([[1, 2], [3, 4]], new Int32Array([0, 7])))).toBe('LABEL_OUT_OF_RANGE');
    unchanged(m, before);
  });

  it('setWeights with wrong names or sizes changes nothing', () => {
    const m = nn.sequential(spec);
    const before = m.getWeights();
    expect(code(() => m.setWeights({ ...before, 'dense_9.weight': new Float32Array(8) }))).toBe('SHAPE_MISMATCH');
    expect(code(() => m.setWeights({ 'dense_0.bias': new Float32Array(4).fill(1), 'dense_1.bias': new Float32Array(2) }))).toBe('SHAPE_MISMATCH');
    expect(code(() => m.setWeights({ 'dense_0.bias': new Float32Array(4) }, { strict: true }))).toBe('SHAPE_MISMATCH');
    unchanged(m, before);
  });

  it('training through a step activation is refused before any step', async () => {
    const m = nn.sequential({ inputShape: [2], layers: [{ type: 'dense', units: 2, activation: 'step' }, { type: 'dense', units: 1 }] });
    const before = m.getWeights();
    expect(await codeAsync(m.fit([[0, 1]], [[1]], { loss: 'mse' }))).toBe('UNSUPPORTED');
    unchanged(m, before);
    // frozen, the step layer needs no gradient, and the layer after it trains (the step layer
    // is set to fire on this input, so the next layer sees a non-zero input)
    m.setWeights({ 'dense_0.weight': [1, 1, 1, 1], 'dense_0.bias': [0, 0] });
    m.layers[0].trainable = false;
    await m.fit([[0, 1]], [[1]], { loss: 'mse', epochs: 3 });
    expect(m.getWeights()['dense_1.weight']).not.toEqual(before['dense_1.weight']);
    expect(m.getWeights()['dense_0.weight']).toEqual(Float32Array.from([1, 1, 1, 1]));
  });

  it('a diverging fit stops with DIVERGED and leaves the last good, finite weights', async () => {
    const m = nn.sequential({ inputShape: [2], seed: 3, layers: [{ type: 'dense', units: 8, activation: 'relu' }, { type: 'dense', units: 1 }] });
    const initial = m.getWeights();
    const seen: Array<Record<string, Float32Array>> = [initial];
    let steps = 0;
    const err = await m.fit(data.x, data.x.map(([a, b]) => [a * 100 + b]), {
      epochs: 50, batchSize: 60, loss: 'mse', shuffle: false, optimizer: { type: 'sgd', learningRate: 10 },
      onBatchEnd: () => { steps++; seen.push(m.getWeights()); },
    }).catch((e) => e);
    expect(err).toBeInstanceOf(NeuriteError);
    expect(err.code).toBe('DIVERGED');
    expect(steps).toBeGreaterThan(0);
    const w = m.getWeights();
    for (const v of Object.values(w)) expect(v.every(Number.isFinite)).toBe(true);
    // the step that produced the non-finite loss's weights is undone: these are the last
    // weights whose loss was finite
    expect(w).toEqual(seen[seen.length - 2]);
    expect(Number.isFinite(m.evaluate(data.x, data.x.map(([a, b]) => [a * 100 + b]), { loss: 'mse' }).loss)).toBe(true);
    // still usable: from sane weights, a sane fit works
    m.setWeights(initial);
    const h = await m.fit(data.x, data.x.map(([a, b]) => [a + b]), { epochs: 5, loss: 'mse', optimizer: { type: 'sgd', learningRate: 0.01 } });
    expect(h.loss[4]).toBeLessThan(h.loss[0]);
  });

  it('a disposed model refuses every call', () => {
    const m = nn.sequential(spec);
    m.dispose();
    expect(code(() => m.predict([[1, 2]]))).toBe('DISPOSED');
    expect(code(() => m.getWeights())).toBe('DISPOSED');
    expect(code(() => m.save())).toBe('DISPOSED');
  });

  it('init refuses unknown builds and unusable wasm', async () => {
    const { init } = await import('../../src/node');
    expect(await codeAsync(init({ build: 'avx512' as 'simd' }))).toBe('INVALID_ARGUMENT');
    expect(await codeAsync(init({ wasm: new Uint8Array([0, 97, 115, 109, 9, 9, 9, 9]) }))).toBe('WASM_UNAVAILABLE');
  });
});
