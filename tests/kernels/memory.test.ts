// The block helpers (fill_zero, axpy, count_nonfinite) in every build, at sizes around the 4-wide
// SIMD loop and its scalar tail, with negatives, zeros, large magnitudes and non-finite values.
import { describe, expect, it } from 'vitest';
import { BUILDS, type Build, fresh, put } from '../helpers/wasm';
import { GUARD, Rng, expectClose, expectGuardIntact } from '../helpers/reference';

const SIZES = [0, 1, 3, 4, 5, 12, 13, 37];
const SPECIALS = [0, -1, 1e30, -0, -2.5, -1e30, 1e-30, 3.4e38];


describe.each(BUILDS)('memory helpers (%s build)', (build) => {
  it.each(SIZES)('fill_zero n=%i zeroes exactly n floats', (n) => {
    const k = fresh(build);
    const p = put(k, new Rng(n).mixed(n, SPECIALS));
    k.exports.fill_zero(p, n);
    const out = k.read(p, n + GUARD);
    for (let i = 0; i < n; i++) expect(Object.is(out[i], 0)).toBe(true); // +0, not −0
    expectGuardIntact(out, n, 'fill_zero');
  });

  it('fill_zero with a negative count writes nothing', () => {
    const k = fresh(build);
    const p = put(k, []);
    k.exports.fill_zero(p, -4);
    expectGuardIntact(k.read(p, GUARD), 0, 'fill_zero(-4)');
  });

  it.each(SIZES)('axpy n=%i: y += a·x', (n) => {
    const k = fresh(build);
    const rng = new Rng(100 + n);
    const x = rng.mixed(n, [0, -1, 1e4, -0, -2.5, 1e-3]);
    for (const a of [0, 1, -1, 0.375, -1e3]) {
      const y0 = rng.mixed(n, [1, 0, -1e4, -3, 2e3]);
      const yp = put(k, y0);
      k.exports.axpy(yp, put(k, x), n, a);
      const fa = Math.fround(a);
      const expected = y0.map((v, i) => v + fa * x[i]);
      const scale = y0.map((v, i) => Math.abs(v) + Math.abs(fa * x[i]));
      const y = k.read(yp, n + GUARD);
      // one f32 multiply and one add: a couple of ulp of the operands
      expectClose(y.subarray(0, n), expected, { rtol: 2e-7, atol: 0, scale, label: `axpy a=${a}` });
      expectGuardIntact(y, n, `axpy a=${a}`);
    }
  });

  it.each(SIZES)('count_nonfinite n=%i counts NaN and ±Infinity only', (n) => {
    const k = fresh(build);
    const rng = new Rng(200 + n);
    const finite = rng.mixed(n, SPECIALS); // including the largest f32, −0 and tiny values
    const bad = [NaN, Infinity, -Infinity];
    // every third element non-finite, the rest finite; then all finite; then all non-finite
    const mixed = finite.map((v, i) => (i % 3 === 1 ? bad[i % bad.length] : v));
    const expectedMixed = mixed.filter((v) => !Number.isFinite(v)).length;
    for (const [data, expected] of [[mixed, expectedMixed], [finite, 0], [finite.map((_, i) => bad[i % 3]), n]] as const) {
      const before = Float32Array.from(data);
      const p = k.alloc(n, data);
      expect(k.exports.count_nonfinite(p, n)).toBe(expected);
      expect(k.read(p, n)).toEqual(before); // read-only
    }
    // a non-finite value just past the end is not counted
    const p = k.alloc(n + 1, [...finite, NaN]);
    expect(k.exports.count_nonfinite(p, n)).toBe(0);
  });

  it('count_nonfinite sees f32 overflow and subnormals correctly', () => {
    const k = fresh(build);
    // 3.5e38 overflows f32 to Infinity when stored; the f32 subnormals stay finite
    const p = k.alloc(4, [3.5e38, 1e-45, -1e-40, 3.4028234663852886e38]);
    expect(k.exports.count_nonfinite(p, 4)).toBe(1);
  });
});
