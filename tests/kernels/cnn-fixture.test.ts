// The shipped CNN (models/mnist-cnn.safetensors) through the conv kernels each layer now picks:
// its outputs on the first 64 MNIST test digits stay within 1e-5 of those recorded by the code
// before them (commit 320b1d7: per-sample im2col kernels, no temperature; the fixture
// tests/kernels/fixtures/mnist-cnn-first64.json, every build, recorded by
// scripts/record-cnn-fixture.mjs), and the layers really run the
// kernels this file is about.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadMnist } from '../../src/cli/mnist';
import { runtime } from '../helpers/neurite';
import { BUILDS } from '../helpers/wasm';

const CNN = readFileSync(new URL('../../models/mnist-cnn.safetensors', import.meta.url));
const FIXTURE = JSON.parse(readFileSync(new URL('./fixtures/mnist-cnn-first64.json', import.meta.url), 'utf8')) as {
  outputs: Record<string, number[]>;
};

describe.each(BUILDS)('the shipped CNN (%s build)', (build) => {
  it('predicts the first 64 test digits within 1e-5 of the recorded im2col outputs', async () => {
    const nn = await runtime(build);
    const model = nn.load(CNN);
    model.temperature = 1; // the recording code had no calibration
    const convs = model.layers.filter((l) => l.type === 'conv2d') as unknown as { kernel: string }[];
    expect(convs.map((l) => l.kernel)).toEqual(['indirect', 'indirect']);
    const test = loadMnist('test', 64);
    const p = model.predict(test.images);
    const want = FIXTURE.outputs[build];
    expect(p.length).toBe(want.length);
    let max = 0;
    for (let i = 0; i < p.length; i++) max = Math.max(max, Math.abs(p[i] - want[i]));
    expect(max).toBeLessThan(1e-5);
  });

  it('keeps its 99.55% on the 10,000 test images', async () => {
    const model = (await runtime(build)).load(CNN);
    const test = loadMnist('test');
    const { accuracy } = model.evaluate(test.images, test.labels, { loss: 'categoricalCrossentropy' });
    expect(accuracy).toBe(0.9955);
  });
});
