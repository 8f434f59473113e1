// save() / load(): bit-exact round trips, PyTorch-style files, and hostile files.
import { describe, expect, it } from 'vitest';
import { NeuriteError, readSafetensors, writeSafetensors, type LayerConfig, type SequentialOptions } from '../../src/node';
import { blobs } from '../helpers/data';
import { runtime } from '../helpers/neurite';

function bits(record: Record<string, Float32Array>): Record<string, number[]> {
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, Array.from(new Uint32Array(v.buffer, v.byteOffset, v.length))]));
}

function loadCode(fn: () => unknown): string {
  try { fn(); } catch (e) {
    if (!(e instanceof NeuriteError)) throw new Error(`expected a NeuriteError, got ${e}`);
    return e.code;
  }
  throw new Error('expected an error');
}

describe('save and load', async () => {
  const nn = await runtime('relaxed');
  const spec: SequentialOptions = { inputShape: [2], seed: 4, layers: [
    { type: 'dense', units: 6, activation: 'prelu' },
    { type: 'dense', units: 5, activation: 'leakyRelu', alpha: 0.2 },
    { type: 'dense', units: 3, activation: 'softmax' }] };
  const data = blobs(90, 5);

  it('round-trips a trained model bit-exactly, topology included', async () => {
    const m = nn.sequential(spec);
    await m.fit(data.x, data.labels, { epochs: 3, batchSize: 8 });
    const bytes = m.save();
    const again = nn.load(bytes);
    expect(bits(again.getWeights())).toEqual(bits(m.getWeights()));
    expect(again.topology()).toEqual(m.topology());
    expect(again.predict(data.x)).toEqual(m.predict(data.x));
    expect(again.save()).toEqual(bytes);
  });

  it('writes PyTorch names and layouts: dense weight is [out, in]', () => {
    const m = nn.sequential(spec);
    const file = readSafetensors(m.save());
    expect(file.tensors.get('dense_0.weight')!.shape).toEqual([6, 2]);
    expect(file.tensors.get('dense_0.bias')!.shape).toEqual([6]);
    expect(file.tensors.get('dense_0.alpha')!.shape).toEqual([6]);
    expect(file.tensors.get('dense_2.weight')!.shape).toEqual([3, 5]);
    expect(JSON.parse(file.metadata.neurite).layers[1]).toEqual({ type: 'dense', name: 'dense_1', units: 5, activation: 'leakyRelu', alpha: 0.2 });
    // weight[o][i] multiplies input i into output o, as in torch.nn.Linear
    const lin = nn.sequential({ inputShape: [3], layers: [{ type: 'dense', units: 2 }] });
    lin.setWeights({ 'dense_0.weight': [1, 2, 3, 4, 5, 6], 'dense_0.bias': [0.5, -0.5] });
    expect(Array.from(lin.predict([[1, 0, 0], [0, 0, 1]]))).toEqual([1.5, 3.5, 3.5, 5.5]);
  });

  it('loads a bare safetensors file (as torch saves a state_dict) given the topology', () => {
    const w1 = Float32Array.from({ length: 8 }, (_, i) => (i - 4) / 8); // fc1.weight [4, 2]
    const bare = writeSafetensors(new Map([
      ['fc1.weight', { shape: [4, 2], data: w1 }],
      ['fc1.bias', { shape: [4], data: Float32Array.from([0.1, 0.2, 0.3, 0.4]) }],
      ['out.weight', { shape: [1, 4], data: Float32Array.from([1, -1, 1, -1]) }],
      ['out.bias', { shape: [1], data: Float32Array.from([0]) }],
    ]));
    const layers: LayerConfig[] = [{ type: 'dense', name: 'fc1', units: 4, activation: 'tanh' }, { type: 'dense', name: 'out', units: 1 }];
    expect(loadCode(() => nn.load(bare))).toBe('MALFORMED_FILE'); // no topology anywhere
    const m = nn.load(bare, { inputShape: [2], layers });
    const x = [0.3, -0.7];
    const h = [0, 1, 2, 3].map((o) => Math.tanh(w1[o * 2] * x[0] + w1[o * 2 + 1] * x[1] + [0.1, 0.2, 0.3, 0.4][o]));
    expect(m.predict([x])[0]).toBeCloseTo(h[0] - h[1] + h[2] - h[3], 5);
  });

  it('refuses files that do not match the topology, leaving nothing half-loaded', () => {
    const good = nn.sequential(spec).save();
    const file = readSafetensors(good);
    const tensors = new Map(file.tensors);
    const meta = file.metadata;
    const rebuilt = (t: typeof tensors, m = meta) => writeSafetensors(t, m);

    const wrongShape = new Map(tensors);
    wrongShape.set('dense_0.weight', { dtype: 'F32', shape: [2, 6], data: tensors.get('dense_0.weight')!.data });
    expect(loadCode(() => nn.load(rebuilt(wrongShape)))).toBe('SHAPE_MISMATCH');

    const missing = new Map(tensors);
    missing.delete('dense_1.bias');
    expect(loadCode(() => nn.load(rebuilt(missing)))).toBe('SHAPE_MISMATCH');

    const extra = new Map(tensors);
    extra.set('dense_3.weight', { dtype: 'F32', shape: [1], data: new Float32Array(1) });
    expect(loadCode(() => nn.load(rebuilt(extra)))).toBe('SHAPE_MISMATCH');

    const nan = new Map(tensors);
    nan.set('dense_2.bias', { dtype: 'F32', shape: [3], data: Float32Array.from([0, NaN, 0]) });
    expect(loadCode(() => nn.load(rebuilt(nan)))).toBe('NON_FINITE');

    expect(loadCode(() => nn.load(rebuilt(tensors, { neurite: '{"format":1,' })))).toBe('MALFORMED_FILE');
    expect(loadCode(() => nn.load(rebuilt(tensors, { neurite: '{"format":2,"inputShape":[2],"layers":[]}' })))).toBe('MALFORMED_FILE');
    const unknownAct = JSON.parse(meta.neurite);
    unknownAct.layers[0].activation = 'mish';
    expect(loadCode(() => nn.load(rebuilt(tensors, { neurite: JSON.stringify(unknownAct) })))).toBe('UNKNOWN_NAME');
    const huge = JSON.parse(meta.neurite);
    huge.layers[0].units = 2 ** 40;
    expect(loadCode(() => nn.load(rebuilt(tensors, { neurite: JSON.stringify(huge) })))).toBe('INVALID_ARGUMENT');
  });

  it('refuses truncated, oversized and corrupt files with a NeuriteError, never a trap', () => {
    const bytes = nn.sequential(spec).save();
    for (const cut of [0, 4, 7, 8, 20, 100, bytes.length - 1]) {
      expect(loadCode(() => nn.load(bytes.subarray(0, cut))), `cut at ${cut}`).toBe('MALFORMED_FILE');
    }
    const longHeader = bytes.slice();
    new DataView(longHeader.buffer).setUint32(0, bytes.length, true); // header length past the end
    expect(loadCode(() => nn.load(longHeader))).toBe('MALFORMED_FILE');
    const hugeHeader = bytes.slice();
    new DataView(hugeHeader.buffer).setUint32(4, 1, true); // ≥ 4 GiB header
    expect(loadCode(() => nn.load(hugeHeader))).toBe('TOO_LARGE');
    const padded = new Uint8Array(bytes.length + 4);
    padded.set(bytes);
    expect(loadCode(() => nn.load(padded))).toBe('MALFORMED_FILE'); // trailing bytes
  });
});
