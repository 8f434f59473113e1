// Every optimizer kernel in every build: one step and several steps against float64
// implementations of PyTorch's update rules (tests/helpers/reference.ts), checking the parameters
// and the optimizer state, at sizes around the 4-wide SIMD loop and its scalar tail.
import { describe, it } from 'vitest';
import { BUILDS, RawKernels, type Build, fresh, put } from '../helpers/wasm';
import { GUARD, Rng, adagradRef, adamRef, expectClose, expectGuardIntact, momentumRef, rmspropRef, sgdRef } from '../helpers/reference';

const SIZES = [0, 1, 3, 4, 5, 12, 13, 37];
const STEPS = 5;
// A few f32 ulps per step, relative to the magnitudes involved (see checkOptimizer).
const P_TOL = { rtol: 1e-5, atol: 1e-6 };
const S_TOL = { rtol: 1e-5, atol: 1e-12 };

const P_SPECIALS = [0, -1, 1e3, -2.5, 1e-3, -1e3];
const G_SPECIALS = [0, -1e4, 1e4, 1e-3, -0, -3];

const fr = Math.fround; // hyper-parameters reach the kernel as f32

interface Optimizer {
  /** number of state buffers (velocity, squared-gradient sums, Adam's m and v) */
  states: number;
  /** one step of the kernel at step t (1-based) */
  kernel(k: RawKernels, p: number, g: number, s: number[], n: number, t: number): void;
  /** one step of the reference, in place */
  ref(p: Float64Array, g: Float64Array, s: Float64Array[], t: number): void;
}

/** the bias corrections the host passes for step t, as the f32 the kernel receives */
const bc = (beta: number, t: number) => fr(1 - fr(beta) ** t);

const adagrad = (lr: number, eps: number): Optimizer => ({
  states: 1,
  kernel: (k, p, g, [s], n) => k.exports.adagrad_update(p, g, s, n, lr, eps),
  ref: (p, g, [s]) => adagradRef(p, g, s, fr(lr), fr(eps)),
});
const rmsprop = (lr: number, rho: number, eps: number): Optimizer => ({
  states: 1,
  kernel: (k, p, g, [s], n) => k.exports.rmsprop_update(p, g, s, n, lr, rho, eps),
  ref: (p, g, [s]) => rmspropRef(p, g, s, fr(lr), fr(rho), fr(eps)),
});
const adam = (lr: number, b1: number, b2: number, eps: number): Optimizer => ({
  states: 2,
  kernel: (k, p, g, [m, v], n, t) => k.exports.adam_update(p, g, m, v, n, lr, b1, b2, eps, bc(b1, t), bc(b2, t)),
  ref: (p, g, [m, v], t) => adamRef(p, g, m, v, fr(lr), fr(b1), fr(b2), fr(eps), bc(b1, t), bc(b2, t)),
});

// The usual hyper-parameters, plus a large ε, which pins down where ε enters each formula.
const OPTIMIZERS: Record<string, Optimizer> = {
  sgd: {
    states: 0,
    kernel: (k, p, g, _s, n) => k.exports.sgd_update(p, g, n, 0.1),
    ref: (p, g) => sgdRef(p, g, fr(0.1)),
  },
  momentum: {
    states: 1,
    kernel: (k, p, g, [v], n) => k.exports.momentum_update(p, g, v, n, 0.1, 0.9, 0),
    ref: (p, g, [v]) => momentumRef(p, g, v, fr(0.1), fr(0.9), false),
  },
  nesterov: {
    states: 1,
    kernel: (k, p, g, [v], n) => k.exports.momentum_update(p, g, v, n, 0.1, 0.9, 1),
    ref: (p, g, [v]) => momentumRef(p, g, v, fr(0.1), fr(0.9), true),
  },
  adagrad: adagrad(0.1, 1e-10),
  'adagrad ε=0.5': adagrad(0.1, 0.5),
  rmsprop: rmsprop(0.01, 0.99, 1e-8),
  'rmsprop ε=0.5': rmsprop(0.01, 0.9, 0.5),
  adam: adam(0.01, 0.9, 0.999, 1e-8),
  'adam ε=0.5': adam(0.1, 0.8, 0.99, 0.5),
};


/**
 * Run `steps` updates with fresh gradients each step, comparing p and state after every step
 * against a reference that runs on its own from the same start (no re-synchronisation).
 * Tolerances are relative to Σ_steps (|before| + |after|) of each buffer: an update can cancel
 * the value it is applied to (p = 1000, lr·g = 1000.00001), and f32 rounds at the magnitude of
 * the operands, not of the result.
 */
function checkOptimizer(build: Build, name: string, n: number, steps: number): void {
  const opt = OPTIMIZERS[name];
  const k = fresh(build);
  const rng = new Rng(n * 1009 + steps * 13 + name.length);
  const p = rng.mixed(n, P_SPECIALS, -2, 2);
  const state = Array.from({ length: opt.states }, () => new Float64Array(n)); // PyTorch starts at 0
  const pp = put(k, p);
  const sp = state.map((s) => put(k, s));
  const gp = put(k, new Float64Array(n));
  const pScale = new Float64Array(n);
  const sScale = state.map(() => new Float64Array(n));
  const grow = (scale: Float64Array, before: Float64Array, after: Float64Array) => {
    for (let i = 0; i < n; i++) scale[i] += Math.abs(before[i]) + Math.abs(after[i]);
  };
  for (let t = 1; t <= steps; t++) {
    const label = `${name} ${build} n=${n} step ${t}`;
    const g = rng.mixed(n, G_SPECIALS, -2, 2);
    k.write(gp, g);
    opt.kernel(k, pp, gp, sp, n, t);
    expectClose(k.read(gp, n), g, { rtol: 0, atol: 0, label: `${label} gradient is read-only` });

    const pBefore = Float64Array.from(p);
    const sBefore = state.map((s) => Float64Array.from(s));
    opt.ref(p, g, state, t);
    grow(pScale, pBefore, p);
    state.forEach((s, j) => grow(sScale[j], sBefore[j], s));

    const pk = k.read(pp, n + GUARD);
    expectClose(pk.subarray(0, n), p, { ...P_TOL, scale: pScale, label: `${label} parameters` });
    expectGuardIntact(pk, n, `${label} parameters`);
    state.forEach((s, j) => {
      const sk = k.read(sp[j], n + GUARD);
      expectClose(sk.subarray(0, n), s, { ...S_TOL, scale: sScale[j], label: `${label} state ${j}` });
      expectGuardIntact(sk, n, `${label} state ${j}`);
    });
  }
}

describe.each(BUILDS)('optimizers (%s build)', (build) => {
  describe.each(Object.keys(OPTIMIZERS))('%s', (name) => {
    it.each(SIZES)('one step, n=%i', (n) => checkOptimizer(build, name, n, 1));
    it.each(SIZES)(`${STEPS} steps, n=%i`, (n) => checkOptimizer(build, name, n, STEPS));
  });
});
