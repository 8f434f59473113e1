// The batch-normalization kernels in every build: training forward (outputs, saved statistics,
// running statistics) and inference forward against a float64 reference, and the backward
// (dx, dγ, dβ, accumulating) against central differences of the training forward.
import { describe, it } from 'vitest';
import { BUILDS, fresh, put, type RawKernels } from '../helpers/wasm';
import { expectClose, expectGuardIntact, GUARD, Rng } from '../helpers/reference';
import { expectGradClose } from '../helpers/gradcheck';

// [batch, channels, positions]: dense-style (S = 1), maps, SIMD tails, one sample of many positions
const SHAPES: [number, number, number][] = [[2, 1, 1], [5, 3, 1], [3, 2, 7], [2, 4, 9], [1, 2, 16], [4, 1, 5]];

function reference(x: ArrayLike<number>, g: ArrayLike<number>, bt: ArrayLike<number>, B: number, C: number, S: number, eps: number) {
  const n = B * S;
  const y = new Float64Array(B * C * S);
  const mean = new Float64Array(C);
  const inv = new Float64Array(C);
  const unbiased = new Float64Array(C);
  for (let c = 0; c < C; c++) {
    let s = 0;
    for (let b = 0; b < B; b++) for (let i = 0; i < S; i++) s += x[(b * C + c) * S + i];
    const m = s / n;
    let q = 0;
    for (let b = 0; b < B; b++) for (let i = 0; i < S; i++) q += (x[(b * C + c) * S + i] - m) ** 2;
    mean[c] = m;
    inv[c] = 1 / Math.sqrt(q / n + eps);
    unbiased[c] = n > 1 ? q / (n - 1) : q / n;
    for (let b = 0; b < B; b++) for (let i = 0; i < S; i++) {
      const o = (b * C + c) * S + i;
      y[o] = g[c] * (x[o] - m) * inv[c] + bt[c];
    }
  }
  return { y, mean, inv, unbiased };
}

function forwardTrain(k: RawKernels, x: ArrayLike<number>, g: ArrayLike<number>, bt: ArrayLike<number>, rm: ArrayLike<number>, rv: ArrayLike<number>,
  B: number, C: number, S: number, momentum: number, eps: number) {
  const p = { y: put(k, new Float64Array(B * C * S).fill(9)), mean: put(k, new Float64Array(C)), inv: put(k, new Float64Array(C)),
    x: put(k, x), g: put(k, g), bt: put(k, bt), rm: put(k, rm), rv: put(k, rv) };
  k.exports.batchnorm_forward_train(p.y, p.mean, p.inv, p.x, p.g, p.bt, p.rm, p.rv, B, C, S, momentum, eps);
  return p;
}

describe.each(BUILDS)('batchnorm (%s build)', (build) => {
  it.each(SHAPES)('training and inference forward, batch=%i C=%i S=%i', (B, C, S) => {
    const k = fresh(build);
    const rng = new Rng(B * 100 + C * 10 + S);
    const x = Float64Array.from(rng.array(B * C * S, -2, 2), (v, i) => v + (i % 3));
    const g = rng.array(C, 0.5, 1.5);
    const bt = rng.array(C, -0.5, 0.5);
    const rm = rng.array(C, -1, 1);
    const rv = rng.array(C, 0.5, 2);
    const eps = 1e-3;
    const p = forwardTrain(k, x, g, bt, rm, rv, B, C, S, 0.25, eps);
    const ref = reference(x, g, bt, B, C, S, eps);
    const y = k.read(p.y, B * C * S + GUARD);
    expectClose(y.subarray(0, B * C * S), ref.y, { rtol: 1e-5, atol: 1e-5, label: 'y' });
    expectGuardIntact(y, B * C * S, 'y');
    expectClose(k.read(p.mean, C), ref.mean, { rtol: 1e-6, atol: 1e-6, label: 'mean' });
    expectClose(k.read(p.inv, C), ref.inv, { rtol: 1e-5, atol: 1e-6, label: 'invstd' });
    expectClose(k.read(p.rm, C), Array.from(rm, (v, c) => 0.75 * v + 0.25 * ref.mean[c]), { rtol: 1e-6, atol: 1e-6, label: 'running mean' });
    expectClose(k.read(p.rv, C), Array.from(rv, (v, c) => 0.75 * v + 0.25 * ref.unbiased[c]), { rtol: 1e-5, atol: 1e-6, label: 'running var' });
    const ye = put(k, new Float64Array(B * C * S).fill(9));
    k.exports.batchnorm_forward_eval(ye, p.x, p.g, p.bt, put(k, rm), put(k, rv), B, C, S, eps);
    const want = Array.from(x, (v, i) => { const c = Math.floor(i / S) % C; return g[c] * (v - rm[c]) / Math.sqrt(rv[c] + eps) + bt[c]; });
    expectClose(k.read(ye, B * C * S), want, { rtol: 1e-5, atol: 1e-5, label: 'eval y' });
  });

  it.each(SHAPES.filter(([B, , S]) => B * S > 1))('backward against finite differences, batch=%i C=%i S=%i', (B, C, S) => {
    const k = fresh(build);
    const rng = new Rng(B * 7 + C * 3 + S);
    const n = B * C * S;
    const x = rng.array(n, -2, 2);
    const g = rng.array(C, 0.5, 1.5);
    const bt = rng.array(C, -0.5, 0.5);
    const r = rng.array(n); // loss = Σ r·y
    const eps = 1e-3;
    const lossAt = (xv: ArrayLike<number>, gv: ArrayLike<number>, bv: ArrayLike<number>) => {
      k.reset();
      const p = forwardTrain(k, xv, gv, bv, new Float64Array(C), new Float64Array(C), B, C, S, 0.1, eps);
      const y = k.read(p.y, n);
      let s = 0;
      for (let i = 0; i < n; i++) s += r[i] * y[i];
      return s;
    };
    k.reset();
    const p = forwardTrain(k, x, g, bt, new Float64Array(C), new Float64Array(C), B, C, S, 0.1, eps);
    const start = { dx: rng.array(n), dg: rng.array(C), db: rng.array(C) };
    const d = { dx: put(k, start.dx), dg: put(k, start.dg), db: put(k, start.db) };
    k.exports.batchnorm_backward(d.dx, d.dg, d.db, put(k, r), p.x, p.mean, p.inv, p.g, B, C, S);
    const got = { dx: k.read(d.dx, n), dg: k.read(d.dg, C), db: k.read(d.db, C) };
    const opts = { h: 1e-2, rtol: 2e-2, atol: 2e-3 };
    expectGradClose((v) => lossAt(v, g, bt), Float64Array.from(x), got.dx.map((v, i) => v - start.dx[i]), { ...opts, label: 'dx' });
    expectGradClose((v) => lossAt(x, v, bt), Float64Array.from(g), got.dg.map((v, i) => v - start.dg[i]), { ...opts, label: 'dgamma' });
    expectGradClose((v) => lossAt(x, g, v), Float64Array.from(bt), got.db.map((v, i) => v - start.db[i]), { ...opts, label: 'dbeta' });
    // dx = 0 leaves the input gradient alone
    const dg2 = put(k, new Float64Array(C));
    k.exports.batchnorm_backward(0, dg2, put(k, new Float64Array(C)), put(k, r), p.x, p.mean, p.inv, p.g, B, C, S);
    expectClose(k.read(dg2, C), got.dg.map((v, i) => v - start.dg[i]), { rtol: 1e-5, atol: 1e-6, label: 'dgamma without dx' });
  });
});
