// Every activation kernel in every build: forward against the float64 reference, backward against
// the analytic reference (accumulating into a non-zero dx) and against the shared
// finite-difference gradcheck. Also the gradcheck helper's own test: it must reject wrong gradients.
import { describe, expect, it } from 'vitest';
import { BUILDS, RawKernels, type Build, fresh, put } from '../helpers/wasm';
import { ACTIVATIONS, GUARD, Rng, abs, absSum, add, expectClose, expectGuardIntact, preluBackwardRef, preluForwardRef, sigmoid, softmaxBackwardRef, softmaxRef } from '../helpers/reference';
import { expectGradClose, gradcheck } from '../helpers/gradcheck';

// SIMD main loops are 4 wide with a scalar tail: empty, 1, tile−1, tile, tile+1, 3×tile, 3×tile+1, odd.
const SIZES = [0, 1, 3, 4, 5, 12, 13, 37];
// Zeros of both signs, negatives, tiny and large magnitudes (exp overflow/underflow territory).
const SPECIALS = [0, -2.5, -0, 1e4, -1, -1e4, 88, -88, 20, -20, 1e30, -1e30, 1e-3, -1e-30, 0.5];

// f32 libm and the f32 arithmetic of each formula against float64: a few ulp, plus an absolute
// floor for results that are tiny differences (e.g. GELU's documented 1.5e-7 erf approximation).
const RTOL = 1e-5;
const ATOL = 1e-6;


/** Σ r·y for y = kernel_forward(x): the scalar loss every activation gradcheck differentiates. */
function dotLoss(k: RawKernels, forward: (yp: number, xp: number) => void, xp: number, yp: number, n: number, r: ArrayLike<number>) {
  return (x: Float64Array) => {
    k.write(xp, x);
    forward(yp, xp);
    const y = k.read(yp, n);
    let s = 0;
    for (let i = 0; i < n; i++) s += r[i] * y[i];
    return s;
  };
}

/**
 * The one helper most activation tests go through (cf. tinygrad's helper_test_op): for each size,
 * forward vs reference on special + random values, backward vs reference accumulating into a
 * pre-filled dx, and backward vs finite differences on kink-free inputs.
 */
function testActivation(build: Build, name: string, alpha: number): void {
  const ref = ACTIVATIONS[name];
  const a = Math.fround(alpha); // what the kernel receives
  const forward = (k: RawKernels) => (yp: number, xp: number, n: number) => k.exports[`${name}_forward`](yp, xp, n, alpha);

  for (const n of SIZES) {
    const k = fresh(build);
    const rng = new Rng(n * 977 + name.length);
    const label = `${name}(α=${alpha}) ${build} n=${n}`;

    // forward: y starts stale, must be fully overwritten, nothing past n touched
    const x = rng.mixed(n, SPECIALS);
    const xp = put(k, x);
    const yp = put(k, rng.array(n, 7, 8));
    forward(k)(yp, xp, n);
    const y = k.read(yp, n + GUARD);
    expectClose(y.subarray(0, n), x.map((v) => ref.f(v, a)), { rtol: RTOL, atol: ATOL, label: `${label} forward` });
    expectGuardIntact(y, n, `${label} forward`);
    if (!ref.df) continue;

    // backward vs analytic: dx += dy·f'(x)
    const dy = rng.array(n, -2, 2);
    const dx0 = rng.array(n, -3, 3);
    const dxp = put(k, dx0);
    k.exports[`${name}_backward`](dxp, put(k, dy), xp, yp, n, alpha);
    const g = x.map((v, i) => dy[i] * ref.df!(v, a));
    const dx = k.read(dxp, n + GUARD);
    expectClose(dx.subarray(0, n), add(dx0, g), { rtol: RTOL, atol: ATOL, scale: absSum(dx0, g), label: `${label} backward` });
    expectGuardIntact(dx, n, `${label} backward`);

    // backward vs finite differences, away from kinks
    const xs = ref.kinks.length ? rng.awayFromZero(n, 0.05, 3) : rng.array(n, -4, 4);
    const r = rng.array(n, -2, 2);
    const gp = k.alloc(n);
    const xsp = k.alloc(n, xs);
    forward(k)(yp, xsp, n);
    k.exports[`${name}_backward`](gp, k.alloc(n, r), xsp, yp, n, alpha);
    expectGradClose(dotLoss(k, (yq, xq) => forward(k)(yq, xq, n), xsp, yp, n, r), xs, k.read(gp, n), { label: `${label} gradcheck` });
  }
}

describe('the shared gradcheck', () => {
  const rng = new Rng(42);
  const n = 13;
  const x = rng.array(n, -2, 2);

  it('accepts a correct f64 gradient and rejects a scaled one', () => {
    const f = (v: Float64Array) => v.reduce((s, xi) => s + xi ** 3 + Math.sin(xi), 0);
    const g = x.map((xi) => 3 * xi * xi + Math.cos(xi));
    expect(gradcheck(f, x, g, { f32: false }).ok).toBe(true);
    expect(gradcheck(f, x, g.map((v) => v * 1.1), { f32: false }).ok).toBe(false);
  });

  describe.each(BUILDS)('on a wasm kernel (%s build)', (build) => {
    // loss = Σ r·sigmoid(x), evaluated in f32 by the kernel
    const k = new RawKernels(build);
    const r = rng.array(n, 0.5, 1.5);
    const xp = k.alloc(n, x);
    const yp = k.alloc(n);
    const f = dotLoss(k, (yq, xq) => k.exports.sigmoid_forward(yq, xq, n, 0), xp, yp, n, r);
    const good = x.map((v, i) => r[i] * sigmoid(v) * (1 - sigmoid(v)));

    it('accepts the right gradient', () => {
      const res = gradcheck(f, x, good);
      expect(res.ok).toBe(true);
      expect(res.maxError).toBeLessThan(1e-4);
    });

    it('rejects the gradient scaled by 1.1, or with its sign flipped, or zero', () => {
      expect(gradcheck(f, x, good.map((v) => v * 1.1)).ok).toBe(false);
      expect(gradcheck(f, x, good.map((v) => -v)).ok).toBe(false);
      expect(gradcheck(f, x, new Float64Array(n)).ok).toBe(false);
    });

    it('rejects one wrong element and names it', () => {
      const bad = Float64Array.from(good);
      bad[7] *= 1.05;
      const res = gradcheck(f, x, bad);
      expect(res.ok).toBe(false);
      expect(res.worst).toBe(7);
      expect(() => expectGradClose(f, x, bad, { label: 'sigmoid' })).toThrow(/sigmoid: gradcheck failed at index 7 of 13/);
      expect(() => expectGradClose(f, x, good)).not.toThrow();
    });
  });
});

describe.each(BUILDS)('activations (%s build)', (build) => {
  it.each([
    ['step', 0], ['linear', 0], ['sigmoid', 0], ['tanh', 0],
    ['relu', 0], ['leaky_relu', 0.01], ['leaky_relu', 0.2],
    ['elu', 1], ['elu', 0.5], ['swish', 1], ['swish', 1.5], ['gelu', 0],
  ] as const)('%s (alpha %f)', (name, alpha) => {
    testActivation(build, name, alpha);
  });

  it('step is 1 at exactly 0 (either sign) and has no backward', () => {
    const k = fresh(build);
    const xp = k.alloc(5, [0, -0, -1e-30, 1e-30, -1]);
    const yp = k.alloc(5);
    k.exports.step_forward(yp, xp, 5, 0);
    expect(Array.from(k.read(yp, 5))).toEqual([1, 1, 0, 1, 0]);
    expect(k.exports.step_backward).toBeUndefined();
  });

  it('relu and leaky_relu at exactly 0: output 0, relu slope 0, leaky slope alpha', () => {
    const k = fresh(build);
    const n = 5; // one SIMD group and a scalar tail
    const zeros = [0, -0, 0, -0, 0];
    const dy = [1, 2, -3, 4, -5];
    const xp = k.alloc(n, zeros);
    const dyp = k.alloc(n, dy);
    const yp = k.alloc(n, [9, 9, 9, 9, 9]);
    for (const [name, slope] of [['relu', 0], ['leaky_relu', 0.25]] as const) {
      k.exports[`${name}_forward`](yp, xp, n, slope);
      for (const v of k.read(yp, n)) expect(Math.abs(v)).toBe(0);
      const dxp = k.alloc(n, [1, 1, 1, 1, 1]);
      k.exports[`${name}_backward`](dxp, dyp, xp, yp, n, slope);
      expect(Array.from(k.read(dxp, n))).toEqual(dy.map((d) => 1 + slope * d));
    }
  });

  it('linear forward works in place (y == x)', () => {
    const k = fresh(build);
    const x = new Rng(3).mixed(13, SPECIALS);
    const xp = k.alloc(13, x);
    k.exports.linear_forward(xp, xp, 13, 0);
    expect(k.read(xp, 13)).toEqual(Float32Array.from(x));
  });

  describe('prelu', () => {
    const SHAPES: [number, number][] = [[0, 3], [3, 0], [1, 1], [1, 5], [3, 4], [2, 13], [5, 37]];

    it.each(SHAPES)('batch=%i units=%i forward and accumulating backward vs reference', (batch, units) => {
      const k = fresh(build);
      const rng = new Rng(batch * 61 + units);
      const n = batch * units;
      const x = rng.mixed(n, SPECIALS.filter((v) => Math.abs(v) < 1e20));
      const alpha = rng.mixed(units, [0, 0.25, -0.5, 1], 0, 0.5);
      const ptr = { x: put(k, x), alpha: put(k, alpha) };
      const yp = put(k, rng.array(n, 7, 8));
      k.exports.prelu_forward(yp, ptr.x, ptr.alpha, batch, units);
      const y = k.read(yp, n + GUARD);
      expectClose(y.subarray(0, n), preluForwardRef(x, alpha, batch, units), { rtol: RTOL, atol: ATOL, label: 'prelu y' });
      expectGuardIntact(y, n, 'prelu y');

      const dy = rng.array(n, -2, 2);
      const dx0 = rng.array(n, -3, 3);
      const da0 = rng.array(units, -3, 3);
      const dxp = put(k, dx0);
      const dap = put(k, da0);
      k.exports.prelu_backward(dxp, dap, put(k, dy), ptr.x, ptr.alpha, batch, units);
      const g = preluBackwardRef(dy, x, alpha, batch, units);
      // scale: the same branches with |dy|, |alpha| (dalpha then sums −|dy·x|)
      const s = preluBackwardRef(abs(dy), x, abs(alpha), batch, units);
      const dx = k.read(dxp, n + GUARD);
      const da = k.read(dap, units + GUARD);
      expectClose(dx.subarray(0, n), add(dx0, g.dx), { rtol: RTOL, atol: ATOL, scale: add(abs(dx0), s.dx), label: 'prelu dx' });
      expectClose(da.subarray(0, units), add(da0, g.dalpha), { rtol: RTOL, atol: ATOL, scale: add(abs(da0), abs(s.dalpha)), label: 'prelu dalpha' });
      expectGuardIntact(dx, n, 'prelu dx');
      expectGuardIntact(da, units, 'prelu dalpha');
    });

    it.each([[1, 5], [3, 4], [4, 13]])('batch=%i units=%i gradcheck of dx and dalpha', (batch, units) => {
      const k = fresh(build);
      const rng = new Rng(batch * 37 + units);
      const n = batch * units;
      const x = rng.awayFromZero(n, 0.05, 3);
      const alpha = rng.array(units, -0.5, 0.8);
      const r = rng.array(n, -2, 2);
      const ptr = { x: k.alloc(n, x), alpha: k.alloc(units, alpha), y: k.alloc(n), dx: k.alloc(n), da: k.alloc(units) };
      k.exports.prelu_backward(ptr.dx, ptr.da, k.alloc(n, r), ptr.x, ptr.alpha, batch, units);
      const loss = (which: 'x' | 'alpha') => (v: Float64Array) => {
        k.write(ptr[which], v);
        k.exports.prelu_forward(ptr.y, ptr.x, ptr.alpha, batch, units);
        const y = k.read(ptr.y, n);
        return y.reduce((s, yi, i) => s + yi * r[i], 0);
      };
      expectGradClose(loss('x'), x, k.read(ptr.dx, n), { label: 'prelu dx' });
      k.write(ptr.x, x);
      expectGradClose(loss('alpha'), alpha, k.read(ptr.da, units), { label: 'prelu dalpha' });
    });
  });

  describe('softmax', () => {
    const SHAPES: [number, number][] = [[0, 3], [2, 0], [1, 1], [1, 3], [2, 4], [3, 5], [4, 13], [2, 37]];

    /** logits: row 0 random, then rows of ~1000, ~−1000 and a 1000/−1000/0 mix */
    function logits(rng: Rng, rows: number, cols: number): Float64Array {
      const x = new Float64Array(rows * cols);
      for (let r = 0; r < rows; r++) {
        for (let j = 0; j < cols; j++) {
          const v = rng.uniform(-4, 4);
          x[r * cols + j] = Math.fround([v, 1000 + v, -1000 + v, [1000, -1000, 0][j % 3]][r % 4]);
        }
      }
      return x;
    }

    it('softmax([2, 1, 0]) ≈ [0.665, 0.245, 0.090]', () => {
      const k = fresh(build);
      const yp = k.alloc(3);
      k.exports.softmax_forward(yp, k.alloc(3, [2, 1, 0]), 1, 3);
      const y = k.read(yp, 3);
      expect(y[0]).toBeCloseTo(0.665, 3);
      expect(y[1]).toBeCloseTo(0.245, 3);
      expect(y[2]).toBeCloseTo(0.090, 3);
    });

    it.each(SHAPES)('rows=%i cols=%i forward (incl. logits of ±1000) and accumulating backward vs reference', (rows, cols) => {
      const k = fresh(build);
      const rng = new Rng(rows * 71 + cols);
      const n = rows * cols;
      const x = logits(rng, rows, cols);
      const xp = put(k, x);
      const yp = put(k, rng.array(n, 7, 8));
      k.exports.softmax_forward(yp, xp, rows, cols);
      const y = k.read(yp, n + GUARD);
      expect(y.subarray(0, n).every(Number.isFinite)).toBe(true);
      expectClose(y.subarray(0, n), softmaxRef(x, rows, cols), { rtol: RTOL, atol: 1e-7, label: 'softmax y' });
      expectGuardIntact(y, n, 'softmax y');
      for (let r = 0; r < rows && cols > 0; r++) {
        expect(y.subarray(r * cols, (r + 1) * cols).reduce((s, v) => s + v, 0)).toBeCloseTo(1, 5);
      }

      const dy = rng.array(n, -2, 2);
      const dx0 = rng.array(n, -3, 3);
      const dxp = put(k, dx0);
      const yk = y.subarray(0, n); // backward uses the saved forward output
      k.exports.softmax_backward(dxp, put(k, dy), yp, rows, cols);
      // scale: |dx0| + y·(|dy| + Σ|dy·y|)
      const s = softmaxBackwardRef(abs(dy), yk, rows, cols);
      const scale = Float64Array.from(s, (_, i) => Math.abs(dx0[i]) + 2 * yk[i] * (Math.abs(dy[i]) + 1));
      const dx = k.read(dxp, n + GUARD);
      expectClose(dx.subarray(0, n), add(dx0, softmaxBackwardRef(dy, yk, rows, cols)), { rtol: RTOL, atol: 1e-7, scale, label: 'softmax dx' });
      expect(dx.subarray(0, n).every(Number.isFinite)).toBe(true);
      expectGuardIntact(dx, n, 'softmax dx');
    });

    it.each([[1, 3], [3, 5], [4, 13], [2, 37]])('rows=%i cols=%i gradcheck (incl. logits of ±1000)', (rows, cols) => {
      const k = fresh(build);
      const rng = new Rng(rows * 13 + cols);
      const n = rows * cols;
      const x = logits(rng, rows, cols);
      const r = rng.array(n, -2, 2);
      const ptr = { x: k.alloc(n, x), y: k.alloc(n), dx: k.alloc(n) };
      k.exports.softmax_forward(ptr.y, ptr.x, rows, cols);
      k.exports.softmax_backward(ptr.dx, k.alloc(n, r), ptr.y, rows, cols);
      const f = dotLoss(k, (yq, xq) => k.exports.softmax_forward(yq, xq, rows, cols), ptr.x, ptr.y, n, r);
      expectGradClose(f, x, k.read(ptr.dx, n), { label: 'softmax' });
    });
  });
});
