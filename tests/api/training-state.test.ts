// save({ training: true }): a fit interrupted, saved, loaded and resumed ends with the same
// weights, bit for bit, as one that never stopped — for every optimizer, with a learning-rate
// schedule, dropout masks and shuffling drawn from the saved generator. Bad training state in a
// file is a typed error.
import { describe, expect, it } from 'vitest';
import { readSafetensors, writeSafetensors, type LayerConfig, type OptimizerSpec } from '../../src/node';
import { runtime } from '../helpers/neurite';
import { Rng } from '../helpers/reference';

const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

const OPTIMIZERS: OptimizerSpec[] = [
  { type: 'sgd', learningRate: 0.05, schedule: { type: 'step', stepSize: 5, gamma: 0.5 } },
  { type: 'momentum', learningRate: 0.02, nesterov: true },
  { type: 'adagrad', learningRate: 0.05 },
  { type: 'rmsprop', learningRate: 0.005, schedule: { type: 'cosine', decaySteps: 30 } },
  { type: 'adam', learningRate: 0.01, schedule: { type: 'inverseTime', decay: 0.05 } },
];

describe('resumable training state', () => {
  it.each(OPTIMIZERS.map((o) => [typeof o === 'string' ? o : o.type, o] as const))('%s: interrupted and resumed equals uninterrupted, bit for bit', async (_name, optimizer) => {
    const nn = await runtime('relaxed');
    const rng = new Rng(17);
    const layers: LayerConfig[] = [
      { type: 'lstm', units: 6, returnSequences: true },
      { type: 'dropout', rate: 0.2 },
      { type: 'gru', units: 5 },
      { type: 'dense', units: 2 },
    ];
    const x = rng.array(40 * 6 * 3);
    const y = rng.array(40 * 2);
    const opts = { batchSize: 8, loss: 'mse' as const, optimizer, clipNorm: 5 };
    const straight = nn.sequential({ inputShape: [6, 3], seed: 4, layers });
    await straight.fit(x, y, { ...opts, epochs: 4 });

    const first = nn.sequential({ inputShape: [6, 3], seed: 4, layers });
    await first.fit(x, y, { ...opts, epochs: 2 });
    const file = first.save({ training: true });
    first.dispose();
    const resumed = nn.load(file);
    await resumed.fit(x, y, { ...opts, epochs: 2 });

    const a = straight.getWeights();
    const b = resumed.getWeights();
    for (const k of Object.keys(a)) expect(bits(b[k]), k).toEqual(bits(a[k]));
    // without the training state the run does differ: the test can tell
    const plain = nn.load(nn.load(file).save()); // weights only
    await plain.fit(x, y, { ...opts, epochs: 2 });
    const c = plain.getWeights();
    expect(Object.keys(a).some((k) => bits(c[k]).some((v, i) => v !== bits(a[k])[i]))).toBe(true);
  });

  it('the file holds PyTorch-named weights plus __optimizer__ tensors and neurite.training; a plain save has neither', async () => {
    const nn = await runtime('simd');
    const m = nn.sequential({ inputShape: [4], seed: 1, layers: [{ type: 'dense', units: 3 }] });
    expect(readSafetensors(m.save({ training: true })).metadata['neurite.training']).toBeUndefined(); // nothing trained yet
    await m.fit(new Float32Array(8 * 4).fill(0.5), new Float32Array(8 * 3).fill(1), { epochs: 1, optimizer: 'adam' });
    const f = readSafetensors(m.save({ training: true }));
    expect([...f.tensors.keys()].sort()).toEqual(['__optimizer__.0.dense_0.bias', '__optimizer__.0.dense_0.weight',
      '__optimizer__.1.dense_0.bias', '__optimizer__.1.dense_0.weight', 'dense_0.bias', 'dense_0.weight']);
    expect(JSON.parse(f.metadata['neurite.training'])).toMatchObject({ format: 1, optimizer: '"adam"', step: 1 });
    const plain = readSafetensors(m.save());
    expect([...plain.tensors.keys()].sort()).toEqual(['dense_0.bias', 'dense_0.weight']);
    expect(() => m.save({ training: 'yes' as unknown as boolean })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });

  it('bad training state in a file: MALFORMED_FILE, NON_FINITE or UNKNOWN_NAME, never a half-loaded model', async () => {
    const nn = await runtime('scalar');
    const m = nn.sequential({ inputShape: [4], seed: 1, layers: [{ type: 'dense', units: 3 }] });
    await m.fit(new Float32Array(8 * 4).fill(0.5), new Float32Array(8 * 3).fill(1), { epochs: 1, optimizer: 'momentum' });
    const good = readSafetensors(m.save({ training: true }));
    const rewrite = (edit: (t: Map<string, { shape: number[]; data: Float32Array }>, meta: Record<string, string>) => void) => {
      const t = new Map([...good.tensors].map(([k, v]) => [k, { shape: [...v.shape], data: Float32Array.from(v.data) }]));
      const meta = { ...good.metadata };
      edit(t, meta);
      return writeSafetensors(t, meta);
    };
    const code = (bytes: Uint8Array) => { try { nn.load(bytes); return 'none'; } catch (e) { return (e as { code: string }).code; } };
    expect(code(rewrite(() => {}))).toBe('none');
    expect(code(rewrite((t) => t.delete('__optimizer__.0.dense_0.bias')))).toBe('MALFORMED_FILE');
    expect(code(rewrite((t) => t.set('__optimizer__.1.dense_0.bias', { shape: [3], data: new Float32Array(3) })))).toBe('MALFORMED_FILE');
    expect(code(rewrite((t) => { t.get('__optimizer__.0.dense_0.weight')!.data[2] = Number.NaN; }))).toBe('NON_FINITE');
    expect(code(rewrite((_t, meta) => { delete meta['neurite.training']; }))).toBe('MALFORMED_FILE');
    expect(code(rewrite((_t, meta) => { meta['neurite.training'] = '{"format":1,"optimizer":"\\"momentum\\"","step":-1,"rng":0}'; }))).toBe('MALFORMED_FILE');
    expect(code(rewrite((_t, meta) => { meta['neurite.training'] = '{"format":1,"optimizer":"\\"nadam\\"","step":1,"rng":0}'; }))).toBe('UNKNOWN_NAME');
    expect(code(rewrite((_t, meta) => { meta['neurite.training'] = '{"format":1,"format":1,"optimizer":"\\"momentum\\"","step":1,"rng":0}'; }))).toBe('MALFORMED_FILE');
  });
});
