// Every loss kernel in every build: forward against the float64 reference (edge values included:
// p == t, clipped probabilities, t = 0 for MAPE, logits of ±1000), backward against the analytic
// reference accumulating into a non-zero dp, and backward against the shared gradcheck. The fused
// losses take logits z forward and the saved activation y backward, so their gradcheck
// differentiates the forward w.r.t. z and feeds the backward y = sigmoid(z) / softmax(z).
import { describe, expect, it } from 'vitest';
import { BUILDS, RawKernels, type Build, fresh, put } from '../helpers/wasm';
import { GUARD, LOSSES, Rng, absSum, add, expectClose, expectGuardIntact, f32 } from '../helpers/reference';
import { expectGradClose } from '../helpers/gradcheck';

// Forward sums in f64 from the same f32 inputs: only libm's last bit differs.
const FWD = { rtol: 1e-9, atol: 1e-12 };
// Backward computes in f64 and adds one f32-rounded term into dp.
const BWD = { rtol: 1e-6, atol: 1e-9 };

// [batch, n]: empty batch, empty rows, single element, and the usual odd shapes.
const SHAPES: [number, number][] = [[0, 3], [2, 0], [1, 1], [1, 3], [2, 5], [3, 4], [4, 13], [5, 37]];

type Data = { p: Float64Array; t: Float64Array };
interface LossCase {
  /** forward/backward inputs for the reference comparison, edge values included */
  edge(rng: Rng, batch: number, n: number): Data;
  /** inputs at least h away from every kink, and where the h = 1e-2 central difference is
   * accurate (log p needs p ≥ 0.2: its truncation error is ~h²/(3p²) relative), for the gradcheck */
  smooth(rng: Rng, batch: number, n: number): Data;
  /** the backward takes y = act(z) instead of the forward's input */
  fused?: 'sigmoid' | 'softmax';
}

/** p mixed with specials; every fifth target equals its prediction (|p − t| = 0 exactly) */
function regression(specials: number[], tLo = -2, tHi = 2) {
  return (rng: Rng, batch: number, n: number): Data => {
    const p = rng.mixed(batch * n, specials);
    const t = rng.array(batch * n, tLo, tHi).map((v, i) => (i % 5 === 0 ? p[i] : v));
    return { p, t };
  };
}

/** p = t ± U(0.05, 1): never within the gradcheck step of the |p − t| kink */
function offTarget(tOf: (rng: Rng, m: number) => Float64Array) {
  return (rng: Rng, batch: number, n: number): Data => {
    const t = tOf(rng, batch * n);
    const p = Float64Array.from(rng.awayFromZero(t.length, 0.05, 1), (d, i) => Math.fround(t[i] + d));
    return { p, t };
  };
}

/** targets: one-hot in even rows, soft and not summing to 1 in odd rows */
function classTargets(rng: Rng, batch: number, n: number): Float64Array {
  const t = new Float64Array(batch * n);
  for (let r = 0; r < batch; r++) {
    if (r % 2 === 0) t[r * n + rng.int(n)] = 1;
    else for (let j = 0; j < n; j++) t[r * n + j] = j % 3 === 0 ? 0 : Math.fround(rng.uniform(0, 0.6));
  }
  return t;
}

/** logits: random rows, then rows near +1000, near −1000, and a 1000/−1000/0 mix */
function classLogits(rng: Rng, batch: number, n: number, large = true): Float64Array {
  const z = new Float64Array(batch * n);
  for (let r = 0; r < batch; r++) {
    for (let j = 0; j < n; j++) {
      const v = rng.uniform(-4, 4);
      z[r * n + j] = Math.fround(large ? [v, 1000 + v, -1000 + v, [1000, -1000, 0][j % 3]][r % 4] : r % 3 === 2 ? 1000 + v : v);
    }
  }
  return z;
}

const CASES: Record<string, LossCase> = {
  mse: {
    edge: regression([0, -1, 1e3, -2.5, 1e-3]),
    smooth: (rng, b, n) => ({ p: rng.array(b * n, -2, 2), t: rng.array(b * n, -2, 2) }),
  },
  sse: {
    edge: regression([0, -1, 1e3, -2.5, 1e-3]),
    smooth: (rng, b, n) => ({ p: rng.array(b * n, -2, 2), t: rng.array(b * n, -2, 2) }),
  },
  huber: {
    // |p − t| on both sides of δ = 1, and exactly 0 and 1e3
    edge: regression([0, -1, 1e3, -2.5, 1e-3]),
    // differences kept 0.05 away from the kink of the second derivative at |d| = 1 don't matter:
    // the loss is C¹, so only points within h of |d| = 1 see a wrong central difference
    smooth: (rng, b, n) => {
      const t = rng.array(b * n, -2, 2);
      const d = Float64Array.from(rng.awayFromZero(b * n, 0.05, 3), (v) => (Math.abs(Math.abs(v) - 1) < 0.05 ? v * 1.2 : v));
      return { p: Float64Array.from(d, (v, i) => Math.fround(t[i] + v)), t };
    },
  },
  mae: {
    edge: regression([0, -1, 1e3, -2.5, 1e-3]),
    smooth: offTarget((rng, m) => rng.array(m, -2, 2)),
  },
  mape: {
    // t = 0 is floored at EPS; negative targets use |t|
    edge: (rng, b, n) => {
      const { p, t } = regression([0, -1, 3, -2.5, 1e-3])(rng, b, n);
      return { p, t: t.map((v, i) => (i % 5 === 2 ? 0 : v)) };
    },
    smooth: offTarget((rng, m) => rng.awayFromZero(m, 0.5, 2)),
  },
  msle: {
    // negative p and t are floored at 0 (p's floor has zero slope)
    edge: regression([0, -0.5, 1e3, -2.5, 1e-3], -1, 3),
    smooth: (rng, b, n) => ({
      p: Float64Array.from(rng.array(b * n, 0.05, 3), (v, i) => (i % 4 === 3 ? -v : v)),
      t: rng.array(b * n, -1, 3),
    }),
  },
  binary_crossentropy: {
    // 0, 1 and 1e-8 are clipped to [1e-7, 1 − 1e-7]: finite loss, zero slope
    edge: (rng, b, n) => ({
      p: rng.mixed(b * n, [0, 1, 0.5, 1e-8, 0.999], 0.01, 0.99),
      t: f32(Array.from({ length: b * n }, (_, i) => [0, 1, 0.3][i % 3])),
    }),
    smooth: (rng, b, n) => ({ p: rng.array(b * n, 0.2, 0.8), t: rng.array(b * n, 0, 1) }),
  },
  sigmoid_binary_crossentropy: {
    fused: 'sigmoid',
    edge: (rng, b, n) => ({ p: rng.mixed(b * n, [0, 50, -50, 1e3, -1e3, 2.5]), t: rng.array(b * n, 0, 1).map((v, i) => (i % 3 === 0 ? Math.round(v) : v)) }),
    smooth: (rng, b, n) => ({ p: rng.array(b * n, -4, 4), t: rng.array(b * n, 0, 1) }),
  },
  categorical_crossentropy: {
    // p = 0 under a target of 1 costs −log(1e−7), finite, with zero slope (clipped)
    edge: (rng, b, n) => ({ p: rng.mixed(b * n, [0, 1, 0.5, 1e-9], 0.01, 1), t: classTargets(rng, b, n).map((v, i) => (i % 7 === 0 ? 1 : v)) }),
    smooth: (rng, b, n) => ({ p: rng.array(b * n, 0.2, 1), t: classTargets(rng, b, n) }),
  },
  softmax_crossentropy: {
    fused: 'softmax',
    edge: (rng, b, n) => ({ p: classLogits(rng, b, n), t: classTargets(rng, b, n) }),
    smooth: (rng, b, n) => ({ p: classLogits(rng, b, n, false), t: classTargets(rng, b, n) }),
  },
};


/** What the fused losses' backward takes: y = act(z), computed by the kernel's own activation. */
function savedOutput(k: RawKernels, c: LossCase, zp: number, batch: number, n: number): number {
  if (!c.fused) return zp;
  const yp = k.alloc(batch * n);
  if (c.fused === 'sigmoid') k.exports.sigmoid_forward(yp, zp, batch * n, 0);
  else k.exports.softmax_forward(yp, zp, batch, n);
  return yp;
}

describe.each(BUILDS)('losses (%s build)', (build) => {
  describe.each(Object.keys(CASES))('%s', (name) => {
    const c = CASES[name];
    const ref = LOSSES[name];
    const forward = (k: RawKernels, pp: number, tp: number, batch: number, n: number): number =>
      k.exports[`${name}_forward`](pp, tp, batch, n);

    it.each(SHAPES)('batch=%i n=%i forward and accumulating backward vs reference', (batch, n) => {
      const k = fresh(build);
      const rng = new Rng(batch * 401 + n * 7 + name.length);
      const m = batch * n;
      const { p, t } = c.edge(rng, batch, n);
      const pp = put(k, p);
      const tp = put(k, t);

      const loss = forward(k, pp, tp, batch, n);
      expect(Number.isFinite(loss)).toBe(true);
      expectClose([loss], [ref.forward(p, t, batch, n)], { ...FWD, label: `${name} loss` });

      const yp = savedOutput(k, c, pp, batch, n);
      const y = k.read(yp, m);
      const dp0 = rng.array(m, -3, 3);
      const dpp = put(k, dp0);
      k.exports[`${name}_backward`](dpp, yp, tp, batch, n);
      const g = ref.backward(y, t, batch, n);
      const dp = k.read(dpp, m + GUARD);
      expectClose(dp.subarray(0, m), add(dp0, g), { ...BWD, scale: absSum(dp0, g), label: `${name} gradient` });
      expectGuardIntact(dp, m, `${name} gradient`);
    });

    it.each(SHAPES.filter(([b, n]) => b * n > 0))('batch=%i n=%i gradcheck', (batch, n) => {
      const k = fresh(build);
      const rng = new Rng(batch * 97 + n * 3 + name.length);
      const m = batch * n;
      const { p, t } = c.smooth(rng, batch, n);
      const pp = k.alloc(m, p);
      const tp = k.alloc(m, t);
      const dpp = k.alloc(m);
      k.exports[`${name}_backward`](dpp, savedOutput(k, c, pp, batch, n), tp, batch, n);
      const f = (v: Float64Array) => {
        k.write(pp, v);
        return forward(k, pp, tp, batch, n);
      };
      expectGradClose(f, p, k.read(dpp, m), { label: `${name} d/d${c.fused ? 'z' : 'p'}` });
    });
  });
});
