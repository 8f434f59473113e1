// Convolutional and residual networks through the public API: output sizes against the textbook
// formulas, predictions against a plain-TypeScript forward pass, model-level gradient checks,
// dropout, training on real MNIST digits, save/load, and bad topologies.
import { describe, expect, it } from 'vitest';
import { loadMnist } from '../../src/cli/mnist';
import { axis } from '../../src/layers/geometry';
import { NeuriteError, readSafetensors, type LayerConfig, type Model, type Neurite, type SequentialOptions } from '../../src/node';
import type { Padding } from '../../src/layers/geometry';
import { expectGradClose } from '../helpers/gradcheck';
import { runtime } from '../helpers/neurite';
import {
  ACTIVATIONS, avgpool2dRef, conv2dRef, expectClose, maxpool2dRef, mulberry32, softmaxRef, type ConvGeometry, type PoolGeometry,
} from '../helpers/reference';
import { BUILDS } from '../helpers/wasm';
import { gradcheckModel } from '../helpers/model-gradcheck';

// ---------------------------------------------------------------------------------------------
// A plain-TypeScript forward pass over a topology, from the PyTorch-layout weights
// ---------------------------------------------------------------------------------------------

type Shape = number[];
const pairOf = (v: unknown, dflt: number): [number, number] =>
  v === undefined ? [dflt, dflt] : typeof v === 'number' ? [v, v] : (v as [number, number]);
const chw = (s: Shape): [number, number, number] => (s.length === 2 ? [1, s[0], s[1]] : (s as [number, number, number]));
const ACT_KEY: Record<string, string> = { leakyRelu: 'leaky_relu' };

function activate(v: Float64Array, name = 'linear', alpha?: number): Float64Array {
  if (name === 'softmax') return softmaxRef(v, 1, v.length);
  const a = ACTIVATIONS[ACT_KEY[name] ?? name];
  if (!a) throw new Error(`reference: no activation ${name}`);
  const al = alpha ?? (name === 'elu' || name === 'swish' ? 1 : name === 'leakyRelu' ? 0.01 : 0);
  return v.map((x) => a.f(x, al));
}

/** One sample through one layer: [output shape, output]. */
function refLayer(cfg: LayerConfig, prefix: string, shape: Shape, x: Float64Array, W: Record<string, Float32Array>): [Shape, Float64Array] {
  const name = `${prefix}${cfg.name}`;
  switch (cfg.type) {
    case 'conv2d': {
      const [c, h, w] = chw(shape);
      const [kh, kw] = pairOf(cfg.kernelSize, 1);
      const [sh, sw] = pairOf(cfg.stride, 1);
      const [dh, dw] = pairOf(cfg.dilation, 1);
      const p = cfg.padding ?? 'valid';
      const [ph, pw] = typeof p === 'string' ? [p, p] : pairOf(p, 0);
      const [pt, oh] = axis(ph as 'valid', h, kh + (kh - 1) * (dh - 1), sh, name);
      const [pl, ow] = axis(pw as 'valid', w, kw + (kw - 1) * (dw - 1), sw, name);
      const out = cfg.filters as number;
      const g: ConvGeometry = { batch: 1, c, h, w, out, kh, kw, sh, sw, pt, pl, dh, dw, oh, ow };
      return [[out, oh, ow], activate(conv2dRef(x, W[`${name}.weight`], W[`${name}.bias`], g), cfg.activation as string, cfg.alpha as number)];
    }
    case 'maxPool2d':
    case 'avgPool2d': {
      const [c, h, w] = chw(shape);
      const [kh, kw] = pairOf(cfg.poolSize, 1);
      const [sh, sw] = pairOf(cfg.stride ?? cfg.poolSize, 1);
      const p = cfg.padding ?? 'valid';
      const [ph, pw] = typeof p === 'string' ? [p, p] : pairOf(p, 0);
      const [pt, oh] = axis(ph as 'valid', h, kh, sh, name);
      const [pl, ow] = axis(pw as 'valid', w, kw, sw, name);
      const g: PoolGeometry = { planes: c, h, w, kh, kw, sh, sw, pt, pl, oh, ow };
      return [[c, oh, ow], cfg.type === 'maxPool2d' ? maxpool2dRef(x, g).y : avgpool2dRef(x, g)];
    }
    case 'flatten':
      return [[x.length], x];
    case 'reshape':
      return [cfg.targetShape as number[], x];
    case 'dropout':
      return [shape, x]; // inference
    case 'dense': {
      const units = cfg.units as number;
      const wt = W[`${name}.weight`]; // [out, in]
      const y = new Float64Array(units);
      for (let o = 0; o < units; o++) {
        let s = W[`${name}.bias`][o];
        for (let i = 0; i < x.length; i++) s += wt[o * x.length + i] * x[i];
        y[o] = s;
      }
      return [[units], activate(y, cfg.activation as string, cfg.alpha as number)];
    }
    case 'residual': {
      let s = shape;
      let h = x;
      for (const inner of cfg.layers as LayerConfig[]) [s, h] = refLayer(inner, `${name}.`, s, h, W);
      let short = x;
      if (s.join() !== shape.join()) {
        // the projection: 1×1 convolution (stride chosen to land on the output size), or dense
        const proj: LayerConfig = s.length === 1
          ? { type: 'dense', name: 'shortcut', units: s[0] }
          : { type: 'conv2d', name: 'shortcut', filters: s[0], kernelSize: 1, padding: 'same',
            stride: [Math.round(shape[1] / s[1]), Math.round(shape[2] / s[2])] };
        const [ps, py] = refLayer(proj, `${name}.`, shape, x, W);
        expect(ps).toEqual(s);
        short = py;
      }
      return [s, activate(h.map((v, i) => v + short[i]), cfg.activation as string, cfg.alpha as number)];
    }
    default:
      throw new Error(`reference: no layer type ${cfg.type}`);
  }
}

function refPredict(m: Model, x: Float32Array): Float64Array {
  const { inputShape, layers } = m.topology();
  const W = m.getWeights();
  const n = inputShape.reduce((a, b) => a * b, 1);
  const batch = x.length / n;
  const out: number[] = [];
  for (let b = 0; b < batch; b++) {
    let s: Shape = [...inputShape];
    let v: Float64Array = Float64Array.from(x.subarray(b * n, (b + 1) * n));
    for (const cfg of layers) [s, v] = refLayer(cfg, '', s, v, W);
    out.push(...v);
  }
  return Float64Array.from(out);
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

// gradcheckModel: max pooling is piecewise; where two cells of a window are closer than a step can
// move them, the difference quotient straddles the switch, so models with max pooling take a
// smaller step.
function inputs(n: number, size: number, seed: number): Float32Array {
  const r = mulberry32(seed);
  return Float32Array.from({ length: n * size }, () => r() * 2 - 1);
}
const onehot = (n: number, classes: number) =>
  Array.from({ length: n }, (_, i) => Array.from({ length: classes }, (_, j) => (j === (i * 7 + 1) % classes ? 1 : 0)));

/** The NeuriteError `fn` throws; fails if it throws nothing or something else. */
function neuriteError(fn: () => unknown): NeuriteError {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof NeuriteError)) throw new Error(`expected a NeuriteError, got ${e}`);
    return e;
  }
  throw new Error('expected a NeuriteError, none was thrown');
}

const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

// ---------------------------------------------------------------------------------------------
// Topologies
// ---------------------------------------------------------------------------------------------

// conv in every padding mode, max and avg pooling, flatten, softmax head
const CNN_MODES: SequentialOptions = { inputShape: [2, 6, 6], layers: [
  { type: 'conv2d', filters: 3, kernelSize: 3, padding: 'same', activation: 'tanh' }, // [3, 6, 6]
  { type: 'maxPool2d', poolSize: 2 }, // [3, 3, 3]
  { type: 'conv2d', filters: 4, kernelSize: 2, padding: 'full', activation: 'tanh' }, // [4, 4, 4]
  { type: 'avgPool2d', poolSize: 2 }, // [4, 2, 2]
  { type: 'conv2d', filters: 3, kernelSize: [2, 1], padding: 'valid', activation: 'sigmoid' }, // [3, 1, 2]
  { type: 'flatten' },
  { type: 'dense', units: 3, activation: 'softmax' },
] };
// a [H, W] input, stride 2, dilation 2 with explicit padding, padded pooling
const CNN_STRIDES: SequentialOptions = { inputShape: [6, 6], layers: [
  { type: 'conv2d', filters: 3, kernelSize: 3, stride: 2, padding: 'same', activation: 'elu' }, // [3, 3, 3]
  { type: 'conv2d', filters: 2, kernelSize: [2, 3], dilation: 2, padding: [1, 2], activation: 'tanh' }, // [2, 3, 3]
  { type: 'avgPool2d', poolSize: 2, stride: 1, padding: 'same' }, // [2, 3, 3]
  { type: 'maxPool2d', poolSize: 3, stride: 2, padding: 'same' }, // [2, 2, 2]
  { type: 'flatten' },
  { type: 'dense', units: 3, activation: 'softmax' },
] };
// dilation 2 with stride 2 and full padding; a reshape; a linear head under mse (no fused loss)
const CNN_DILATED: SequentialOptions = { inputShape: [1, 7, 7], layers: [
  { type: 'conv2d', filters: 2, kernelSize: 3, dilation: 2, stride: 2, padding: 'full' }, // [2, 6, 6]
  { type: 'maxPool2d', poolSize: 3, padding: 1 }, // [2, 2, 2]
  { type: 'reshape', targetShape: [4, 2] },
  { type: 'flatten' },
  { type: 'dense', units: 2, activation: 'tanh' },
] };
// odd sizes everywhere (no buffer is a multiple of 4 floats); identity and projection shortcuts,
// convolutional and dense; dropout (rate 0) inside a block
const RESNET: SequentialOptions = { inputShape: [1, 5, 5], layers: [
  { type: 'conv2d', filters: 3, kernelSize: 3, padding: 'same', activation: 'tanh' }, // [3, 5, 5]
  { type: 'residual', activation: 'tanh', layers: [ // identity shortcut
    { type: 'conv2d', filters: 3, kernelSize: 3, padding: 'same', activation: 'tanh' },
    { type: 'conv2d', filters: 3, kernelSize: 3, padding: 'same' }] },
  { type: 'residual', activation: 'tanh', layers: [ // 1×1 stride-2 conv projection: [3,5,5] → [2,3,3]
    { type: 'conv2d', filters: 2, kernelSize: 3, stride: 2, padding: 'same', activation: 'tanh' },
    { type: 'dropout', rate: 0 }] },
  { type: 'flatten' },
  { type: 'residual', layers: [{ type: 'dense', units: 5, activation: 'tanh' }] }, // dense projection 18 → 5
  { type: 'residual', activation: 'sigmoid', layers: [{ type: 'dense', units: 5, activation: 'tanh' }] }, // identity
  { type: 'dense', units: 3, activation: 'softmax' },
] };

// a block first in the model (no input gradient wanted) holding a nested block
const NESTED: SequentialOptions = { inputShape: [1, 5, 5], layers: [
  { type: 'residual', activation: 'tanh', layers: [ // 1×1 projection [1,5,5] → [2,5,5]
    { type: 'conv2d', filters: 2, kernelSize: 3, padding: 'same', activation: 'tanh' },
    { type: 'residual', layers: [{ type: 'conv2d', filters: 2, kernelSize: [3, 1], padding: 'same', activation: 'sigmoid' }] }] },
  { type: 'avgPool2d', poolSize: 2, padding: 'same' }, // [2, 3, 3]
  { type: 'flatten' },
  { type: 'dense', units: 2, activation: 'softmax' },
] };

describe('convolutional networks', async () => {
  const nn = await runtime('relaxed');
  const sizeOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

  describe('output sizes are the textbook ones', () => {
    // K' = K + (K−1)(D−1); stride 1: valid M−K'+1, full M+K'−1, same M; stride S: valid ⌊(M−K')/S⌋+1, same ⌈M/S⌉
    const textbook = (mode: string, m: number, k: number, d: number, s: number) => {
      const ke = k + (k - 1) * (d - 1);
      if (mode === 'valid') return Math.floor((m - ke) / s) + 1;
      if (mode === 'same') return Math.ceil(m / s);
      return Math.floor((m + ke - 2) / s) + 1; // full: K'−1 cells each side; M+K'−1 at stride 1
    };

    it('conv2d: valid M−K′+1, full M+K′−1, same M, for M 1..9, K 1..5, D 1..3, stride 1..3', () => {
      let checked = 0;
      for (const mode of ['valid', 'same', 'full']) {
        for (const s of [1, 2, 3]) {
          // every (M, K, D) on the height axis, paired with another on the width axis
          const triples: [number, number, number][] = [];
          for (let m = 1; m <= 9; m++) for (let k = 1; k <= 5; k++) for (let d = 1; d <= 3; d++) triples.push([m, k, d]);
          const fits = triples.filter(([m, k, d]) => mode !== 'valid' || k + (k - 1) * (d - 1) <= m);
          for (let i = 0; i < fits.length; i++) {
            const [mh, kh, dh] = fits[i];
            const [mw, kw, dw] = fits[fits.length - 1 - i];
            const model = nn.sequential({ inputShape: [2, mh, mw], seed: 1, layers: [
              { type: 'conv2d', filters: 3, kernelSize: [kh, kw], dilation: [dh, dw], stride: s, padding: mode as Padding }] });
            const expected = [3, textbook(mode, mh, kh, dh, s), textbook(mode, mw, kw, dw, s)];
            if (s === 1) {
              const ke = (k: number, d: number) => k + (k - 1) * (d - 1);
              const stride1 = (m: number, k: number, d: number) => ({ valid: m - ke(k, d) + 1, full: m + ke(k, d) - 1, same: m })[mode]!;
              expect(expected).toEqual([3, stride1(mh, kh, dh), stride1(mw, kw, dw)]);
            }
            expect(model.layers[0].outputShape, `${mode} s${s} M ${mh}×${mw} K ${kh}×${kw} D ${dh}×${dw}`).toEqual(expected);
            model.dispose();
            checked++;
          }
          // and valid windows that do not fit are refused, naming the layer
          for (const [m, k, d] of triples.filter((t) => !fits.includes(t))) {
            const e = neuriteError(() => nn.sequential({ inputShape: [m, 9], layers: [
              { type: 'conv2d', filters: 1, kernelSize: [k, 1], dilation: [d, 1], stride: s, padding: mode as Padding }] }));
            expect(e.message).toMatch(/\bconv2d_0\b/);
            expect(e.message).toMatch(/larger than the padded input/);
          }
        }
      }
      expect(checked).toBeGreaterThan(800);
    });

    it('pooling: valid ⌊(M−K)/S⌋+1, same ⌈M/S⌉, explicit ⌊(M+2P−K)/S⌋+1; stride defaults to the pool size', () => {
      for (const type of ['maxPool2d', 'avgPool2d']) {
        for (let m = 1; m <= 9; m++) {
          for (let k = 1; k <= 4; k++) {
            for (const s of [undefined, 1, 2, 3]) {
              const st = s ?? k;
              const cases: [unknown, number][] = [['same', Math.ceil(m / st)]];
              if (k <= m) cases.push(['valid', Math.floor((m - k) / st) + 1]);
              for (let p = 1; p < k && k <= m + 2 * p; p++) cases.push([[p, 0], Math.floor((m + 2 * p - k) / st) + 1]);
              for (const [padding, o] of cases) {
                const model = nn.sequential({ inputShape: [2, m, 9], seed: 1, layers: [
                  { type, poolSize: [k, 1], ...(s ? { stride: [s, 1] } : {}), padding } as LayerConfig] });
                expect(model.layers[0].outputShape, `${type} M ${m} K ${k} S ${s} ${padding}`).toEqual([2, o, 9]);
                model.dispose();
              }
            }
          }
        }
      }
    });

    it('flatten, reshape, dropout and residual blocks report their shapes', () => {
      const m = nn.sequential({ seed: 1, ...RESNET });
      expect(m.layers.map((l) => l.outputShape)).toEqual([[3, 5, 5], [3, 5, 5], [2, 3, 3], [18], [5], [5], [3]]);
      const r = nn.sequential({ ...CNN_DILATED, seed: 1 });
      expect(r.layers.map((l) => l.outputShape)).toEqual([[2, 6, 6], [2, 2, 2], [4, 2], [8], [2]]);
      expect(m.outputShape).toEqual([3]);
    });
  });

  describe('predictions match a plain-TypeScript forward pass', () => {
    for (const build of BUILDS) {
      it(`every topology, batch 1 and 3 (${build} build)`, async () => {
        const rt: Neurite = await runtime(build);
        for (const [i, spec] of [CNN_MODES, CNN_STRIDES, CNN_DILATED, RESNET, NESTED].entries()) {
          const m = rt.sequential({ ...spec, seed: 7 + i });
          for (const batch of [1, 3]) {
            const x = inputs(batch, sizeOf(spec.inputShape), 100 + i + batch);
            expectClose(m.predict(x), refPredict(m, x), { rtol: 1e-4, atol: 1e-5, label: `topology ${i} batch ${batch}` });
          }
          m.dispose();
        }
      });
    }

    it('a [H, W] input is one channel: the same model as [1, H, W]', () => {
      const layers = CNN_STRIDES.layers;
      const a = nn.sequential({ inputShape: [6, 6], layers, seed: 3 });
      const b = nn.sequential({ inputShape: [1, 6, 6], layers, seed: 3 });
      expect(a.layers[0].inputShape).toEqual([6, 6]);
      expect(a.getWeights()['conv2d_0.weight'].length).toBe(3 * 1 * 3 * 3);
      expect(bits(a.getWeights()['conv2d_0.weight'])).toEqual(bits(b.getWeights()['conv2d_0.weight']));
      const x = inputs(4, 36, 5);
      expect(bits(a.predict(x))).toEqual(bits(b.predict(x)));
      const g = a.gradients(x, onehot(4, 3));
      const h = b.gradients(x, onehot(4, 3));
      for (const name of Object.keys(g)) expect(bits(g[name]), name).toEqual(bits(h[name]));
    });
  });

  describe('model gradients match finite differences', () => {
    it('conv in every padding mode, max and avg pooling, softmax head', () => {
      const m = nn.sequential({ ...CNN_MODES, seed: 2 });
      gradcheckModel(m, inputs(3, 72, 1), onehot(3, 3), 'categoricalCrossentropy', 'CNN_MODES', 1e-3);
    });

    it('stride 2, dilation 2, explicit and same padding, a [H, W] input', () => {
      const m = nn.sequential({ ...CNN_STRIDES, seed: 4 });
      gradcheckModel(m, inputs(3, 36, 2), onehot(3, 3), 'categoricalCrossentropy', 'CNN_STRIDES', 1e-3);
    });

    it('dilated strided full convolution, reshape, mse', () => {
      const m = nn.sequential({ ...CNN_DILATED, seed: 6 });
      const r = mulberry32(9);
      gradcheckModel(m, inputs(3, 49, 3), [0, 1, 2].map(() => [r() - 0.5, r() - 0.5]), 'mse', 'CNN_DILATED', 1e-3);
    });

    it('a residual network with identity and projection shortcuts (conv and dense)', () => {
      const m = nn.sequential({ ...RESNET, seed: 8 });
      const names = Object.keys(m.getWeights());
      for (const n of ['residual_1.conv2d_0.weight', 'residual_1.conv2d_1.bias', 'residual_2.conv2d_0.weight',
        'residual_2.shortcut.weight', 'residual_2.shortcut.bias', 'residual_4.shortcut.weight', 'residual_4.dense_0.weight']) {
        expect(names).toContain(n);
      }
      expect(names.some((n) => n.startsWith('residual_1.shortcut') || n.startsWith('residual_5.shortcut'))).toBe(false);
      expect(m.getWeights()['residual_2.shortcut.weight'].length).toBe(2 * 3 * 1 * 1);
      for (const batch of [1, 3]) {
        gradcheckModel(m, inputs(batch, 25, 4 + batch), onehot(batch, 3), 'categoricalCrossentropy', `RESNET batch ${batch}`);
      }
    });

    it('a residual block first in the model, with a block nested inside it', () => {
      const m = nn.sequential({ ...NESTED, seed: 12 });
      expect(Object.keys(m.getWeights())).toEqual([
        'residual_0.conv2d_0.weight', 'residual_0.conv2d_0.bias',
        'residual_0.residual_1.conv2d_0.weight', 'residual_0.residual_1.conv2d_0.bias',
        'residual_0.shortcut.weight', 'residual_0.shortcut.bias', 'dense_3.weight', 'dense_3.bias']);
      gradcheckModel(m, inputs(3, 25, 13), onehot(3, 2), 'categoricalCrossentropy', 'NESTED');
    });
  });

  describe('dropout', () => {
    // dense_0 = I, dropout, dense_2 = I under mse to 0: with h the dropout output (the mask m,
    // as x = 1), dL/dy = 2m/N, so grad dense_2.weight[o][i] = 2·m_o·m_i/N shows the forward mask,
    // and grad dense_0.bias[i] = 2·m_i·m_i/N shows that backward applies the same mask.
    const N = 300;
    const eye = Float32Array.from({ length: N * N }, (_, i) => (i % (N + 1) === 0 ? 1 : 0));
    const make = (seed: number, rate: number) => {
      const m = nn.sequential({ inputShape: [N], seed, layers: [
        { type: 'dense', units: N }, { type: 'dropout', rate }, { type: 'dense', units: N }] });
      m.setWeights({ 'dense_0.weight': eye, 'dense_0.bias': new Float32Array(N), 'dense_2.weight': eye, 'dense_2.bias': new Float32Array(N) });
      return m;
    };
    const ones = [new Array(N).fill(1)];
    const zeros = [new Array(N).fill(0)];
    const maskOf = (g: Record<string, Float32Array>) =>
      Array.from({ length: N }, (_, i) => Math.sqrt((g['dense_2.weight'][i * (N + 1)] * N) / 2));

    for (const rate of [0.3, 0.5]) {
      it(`rate ${rate}: about ${rate} of the values dropped, survivors scaled by 1/(1−rate), the same mask in backward`, () => {
        const m = make(11, rate);
        const g = m.gradients(ones, zeros, { loss: 'mse' });
        const mask = maskOf(g);
        const dropped = mask.filter((v) => v === 0).length / N;
        expect(Math.abs(dropped - rate)).toBeLessThan(0.1);
        for (let i = 0; i < N; i++) {
          if (mask[i] !== 0) expect(mask[i]).toBeCloseTo(1 / (1 - rate), 4);
          expect(g['dense_0.bias'][i]).toBeCloseTo((2 * mask[i] * mask[i]) / N, 6);
        }
      });
    }

    it('training masks are seeded: same seed same masks, and each step draws a new one', async () => {
      const a = make(5, 0.4);
      const b = make(5, 0.4);
      const c = make(6, 0.4);
      const ga = maskOf(a.gradients(ones, zeros, { loss: 'mse' }));
      expect(maskOf(b.gradients(ones, zeros, { loss: 'mse' }))).toEqual(ga);
      expect(maskOf(c.gradients(ones, zeros, { loss: 'mse' }))).not.toEqual(ga);
      expect(maskOf(a.gradients(ones, zeros, { loss: 'mse' }))).not.toEqual(ga);
      // so a whole training run with dropout is reproducible
      const spec: SequentialOptions = { inputShape: [1, 6, 6], layers: [
        { type: 'conv2d', filters: 3, kernelSize: 3, activation: 'relu' }, { type: 'dropout', rate: 0.5 },
        { type: 'flatten' }, { type: 'dense', units: 2, activation: 'softmax' }] };
      const x = inputs(16, 36, 3);
      const labels = Array.from({ length: 16 }, (_, i) => i % 2);
      const runs = [];
      for (let r = 0; r < 2; r++) {
        const m = nn.sequential({ ...spec, seed: 21 });
        await m.fit(x, labels, { epochs: 2, batchSize: 4 });
        runs.push(m.getWeights());
      }
      for (const name of Object.keys(runs[0])) expect(bits(runs[1][name]), name).toEqual(bits(runs[0][name]));
    });

    it('inference is the identity', () => {
      const m = make(5, 0.5);
      const x = inputs(2, N, 8);
      expect(bits(m.predict(x))).toEqual(bits(x));
      const alone = nn.sequential({ inputShape: [3, 4, 5], layers: [{ type: 'dropout', rate: 0.9 }] });
      const y = inputs(3, 60, 9);
      expect(bits(alone.predict(y))).toEqual(bits(y));
      expect(m.evaluate(x, x, { loss: 'mse' }).loss).toBe(0);
    });
  });

  it('a residual CNN learns real MNIST digits and round-trips through save/load bit-exactly', async () => {
    const train = loadMnist('train', 2000);
    const test = loadMnist('test', 1000);
    const spec: SequentialOptions = { inputShape: [1, 28, 28], seed: 1, layers: [
      { type: 'conv2d', filters: 8, kernelSize: 3, stride: 2, padding: 'same', activation: 'relu' }, // [8, 14, 14]
      { type: 'residual', activation: 'relu', layers: [
        { type: 'conv2d', filters: 8, kernelSize: 3, padding: 'same', activation: 'relu' },
        { type: 'conv2d', filters: 8, kernelSize: 3, padding: 'same' }] },
      { type: 'maxPool2d', poolSize: 2 }, // [8, 7, 7]
      { type: 'residual', activation: 'relu', layers: [ // projection to [16, 4, 4]
        { type: 'conv2d', filters: 16, kernelSize: 3, stride: 2, padding: 'same', activation: 'relu' },
        { type: 'dropout', rate: 0.1 },
        { type: 'conv2d', filters: 16, kernelSize: 3, padding: 'same' }] },
      { type: 'avgPool2d', poolSize: 2 }, // [16, 2, 2]
      { type: 'flatten' },
      { type: 'dense', units: 10, activation: 'softmax' },
    ] };
    const m = nn.sequential(spec);
    const before = m.evaluate(train.images, train.labels);
    const history = await m.fit(train.images, train.labels, { epochs: 2, batchSize: 32, optimizer: { type: 'adam', learningRate: 3e-3 } });
    const after = m.evaluate(train.images, train.labels);
    expect(history.loss[1]).toBeLessThan(history.loss[0]);
    expect(after.loss).toBeLessThan(0.5 * before.loss);
    const held = m.evaluate(test.images, test.labels);
    expect(held.accuracy).toBeGreaterThan(0.75); // chance is 0.1 (this run: 0.84)

    const bytes = m.save();
    const meta = JSON.parse(readSafetensors(bytes).metadata.neurite);
    expect(meta).toEqual(m.topology());
    expect(meta.layers[1]).toMatchObject({ type: 'residual', name: 'residual_1', activation: 'relu', layers: [
      { type: 'conv2d', name: 'conv2d_0', filters: 8, activation: 'relu' }, { type: 'conv2d', name: 'conv2d_1', activation: 'linear' }] });
    expect(meta.layers[3].layers[1]).toEqual({ type: 'dropout', name: 'dropout_1', rate: 0.1 });
    expect(readSafetensors(bytes).tensors.get('residual_3.shortcut.weight')!.shape).toEqual([16, 8, 1, 1]);

    const back = nn.load(bytes);
    expect(back.topology()).toEqual(m.topology());
    const w = m.getWeights();
    const v = back.getWeights();
    expect(Object.keys(v)).toEqual(Object.keys(w));
    for (const name of Object.keys(w)) expect(bits(v[name]), name).toEqual(bits(w[name]));
    const x = test.images.subarray(0, 100 * 784);
    expect(bits(back.predict(x))).toEqual(bits(m.predict(x)));
    expect(back.evaluate(test.images, test.labels)).toEqual(held);
  });

  describe('bad topologies: a NeuriteError naming the layer', () => {
    const expectLayerError = (spec: { inputShape: number[]; layers: unknown[] }, layer: string, code?: string) => {
      const e = neuriteError(() => nn.sequential(spec as never));
      expect(e.message, e.message).toMatch(new RegExp(`\\b${layer}\\b`));
      if (code) expect(e.code, e.message).toBe(code);
      return e;
    };
    const conv: LayerConfig = { type: 'conv2d', filters: 2, kernelSize: 3 };
    const first = { type: 'conv2d', filters: 2, kernelSize: 3, padding: 'same' };

    it('a kernel larger than the padded input', () => {
      expectLayerError({ inputShape: [1, 4, 4], layers: [{ ...conv, kernelSize: 5 }] }, 'conv2d_0', 'INVALID_ARGUMENT');
      expectLayerError({ inputShape: [1, 6, 6], layers: [conv, { ...conv, kernelSize: 5 }] }, 'conv2d_1', 'INVALID_ARGUMENT');
      expectLayerError({ inputShape: [1, 6, 6], layers: [first, { ...conv, dilation: 3 }] }, 'conv2d_1'); // K' = 7
      expectLayerError({ inputShape: [1, 6, 6], layers: [first, { ...conv, kernelSize: [1, 9], padding: 1 }] }, 'conv2d_1');
      expectLayerError({ inputShape: [1, 4, 4], layers: [first, { type: 'maxPool2d', poolSize: 5 }] }, 'maxPool2d_1');
      expectLayerError({ inputShape: [4, 4], layers: [first, { type: 'avgPool2d', poolSize: [1, 5] }] }, 'avgPool2d_1');
    });

    it('zero, negative and fractional sizes', () => {
      for (const filters of [0, -1, 2.5, NaN, '4']) {
        expectLayerError({ inputShape: [1, 6, 6], layers: [first, { ...conv, filters }] }, 'conv2d_1', 'INVALID_ARGUMENT');
      }
      for (const bad of [0, -1, 1.5, [3, 0], [3]]) {
        expectLayerError({ inputShape: [1, 6, 6], layers: [first, { ...conv, kernelSize: bad }] }, 'conv2d_1', 'INVALID_ARGUMENT');
        expectLayerError({ inputShape: [1, 6, 6], layers: [first, { ...conv, stride: bad }] }, 'conv2d_1', 'INVALID_ARGUMENT');
        expectLayerError({ inputShape: [1, 6, 6], layers: [first, { ...conv, dilation: bad }] }, 'conv2d_1', 'INVALID_ARGUMENT');
        expectLayerError({ inputShape: [1, 6, 6], layers: [first, { type: 'maxPool2d', poolSize: bad }] }, 'maxPool2d_1', 'INVALID_ARGUMENT');
        expectLayerError({ inputShape: [1, 6, 6], layers: [first, { type: 'avgPool2d', poolSize: 2, stride: bad }] }, 'avgPool2d_1', 'INVALID_ARGUMENT');
      }
      for (const padding of [-1, [1, -1], 1.5, 'bogus']) {
        expectLayerError({ inputShape: [1, 6, 6], layers: [first, { ...conv, padding }] }, 'conv2d_1', 'INVALID_ARGUMENT');
        expectLayerError({ inputShape: [1, 6, 6], layers: [first, { type: 'maxPool2d', poolSize: 2, padding }] }, 'maxPool2d_1', 'INVALID_ARGUMENT');
      }
      // pooling pads less than a window, and has no 'full' mode
      expectLayerError({ inputShape: [1, 6, 6], layers: [first, { type: 'maxPool2d', poolSize: 2, padding: 2 }] }, 'maxPool2d_1', 'INVALID_ARGUMENT');
      expectLayerError({ inputShape: [1, 6, 6], layers: [first, { type: 'avgPool2d', poolSize: 2, padding: 'full' }] }, 'avgPool2d_1', 'INVALID_ARGUMENT');
      for (const rate of [1, -0.1, 2, '0.5']) {
        expectLayerError({ inputShape: [1, 6, 6], layers: [first, { type: 'dropout', rate }] }, 'dropout_1', 'INVALID_ARGUMENT');
      }
      // an input with a zero or negative size is refused before any layer is built
      for (const inputShape of [[1, 0, 6], [1, 6, -6], [0, 6]]) {
        expect(neuriteError(() => nn.sequential({ inputShape, layers: [conv] })).message).toMatch(/inputShape/);
      }
    });

    it('shapes that do not chain', () => {
      // reshape to a wrong size, or to non-positive sizes
      for (const targetShape of [[3, 5], [2, 2, 2, 10], [0, 72], [-2, -36], undefined]) {
        expectLayerError({ inputShape: [1, 6, 6], layers: [first, { type: 'reshape', targetShape }] }, 'reshape_1', 'SHAPE_MISMATCH');
      }
      // a dense layer after a 3-D output without flatten
      expectLayerError({ inputShape: [1, 6, 6], layers: [first, { type: 'dense', units: 3 }] }, 'dense_1', 'SHAPE_MISMATCH');
      // a convolution or pooling after a flat output
      expectLayerError({ inputShape: [1, 6, 6], layers: [first, { type: 'flatten' }, conv] }, 'conv2d_2', 'SHAPE_MISMATCH');
      expectLayerError({ inputShape: [36], layers: [{ type: 'maxPool2d', poolSize: 2 }] }, 'maxPool2d_0', 'SHAPE_MISMATCH');
      // residual blocks whose output no projection can reach: 5×5 → 4×4 (not ⌈5/s⌉), 3-D → flat
      expectLayerError({ inputShape: [1, 5, 5], layers: [{ type: 'residual', layers: [{ ...conv, kernelSize: 2 }] }] }, 'residual_0', 'SHAPE_MISMATCH');
      expectLayerError({ inputShape: [1, 6, 6], layers: [first, { type: 'residual', layers: [{ type: 'flatten' }] }] }, 'residual_1', 'SHAPE_MISMATCH');
      expectLayerError({ inputShape: [1, 6, 6], layers: [first, { type: 'residual', layers: [] }] }, 'residual_1', 'INVALID_ARGUMENT');
      // a bad layer inside a block names the block as well as the layer
      const e = expectLayerError({ inputShape: [1, 6, 6], layers: [first, { type: 'residual', layers: [first, { ...conv, filters: 0 }] }] },
        'residual_1', 'INVALID_ARGUMENT');
      expect(e.message).toMatch(/\bconv2d_1\b/);
    });
  });
});
