// Sigmoid and tanh for the recurrent gates. A recurrent step is a small GEMM followed by five
// transcendental functions per unit, so on SIMD builds the gates use a four-lane exp
// (Cephes' range reduction and degree-6 polynomial, relative error about 2e-7) instead of
// Mathf.exp one lane at a time. The scalar build keeps Mathf.
import { fma4 } from './simd';

/** e^x on four lanes; inputs clamped to [−87, 88] so the result is a normal float. */
@inline export function exp4(x: v128): v128 {
  // pmin/pmax are one instruction each; min/max carry NaN fix-ups we do not need here
  const xc = f32x4.pmin(f32x4.pmax(x, f32x4.splat(-87.0)), f32x4.splat(88.0));
  // round x·log2(e) to an integer n by adding 1.5·2^23: the sum's low mantissa bits hold n,
  // which saves a round and a saturating float→int conversion
  const magic = f32x4.splat(12582912.0);
  const shifted = f32x4.add(f32x4.mul(xc, f32x4.splat(1.44269504088896341)), magic);
  const n = f32x4.sub(shifted, magic);
  // r = x − n·ln2, with ln2 split in two so r keeps its low bits
  let r = fma4(n, f32x4.splat(-0.693359375), xc);
  r = fma4(n, f32x4.splat(2.12194440e-4), r);
  let p = f32x4.splat(1.9875691500e-4);
  p = fma4(p, r, f32x4.splat(1.3981999507e-3));
  p = fma4(p, r, f32x4.splat(8.3334519073e-3));
  p = fma4(p, r, f32x4.splat(4.1665795894e-2));
  p = fma4(p, r, f32x4.splat(1.6666665459e-1));
  p = fma4(p, r, f32x4.splat(5.0000001201e-1));
  p = fma4(p, f32x4.mul(r, r), f32x4.add(r, f32x4.splat(1)));
  // 2^n: n + 127 in the exponent field (the magic's bits are 0x4B400000 + n)
  const scale = i32x4.shl(i32x4.add(i32x4.sub(shifted, i32x4.splat(0x4b400000)), i32x4.splat(127)), 23);
  return f32x4.mul(p, scale);
}

/** 1/(1+e^−x) on four lanes */
@inline export function sigmoid4(x: v128): v128 {
  const one = f32x4.splat(1);
  return f32x4.div(one, f32x4.add(one, exp4(f32x4.neg(x))));
}

/** tanh on four lanes, as (1−e^−2|x|)/(1+e^−2|x|) with the sign put back: exact near 0 */
@inline export function tanh4(x: v128): v128 {
  const one = f32x4.splat(1);
  const e = exp4(f32x4.mul(f32x4.abs(x), f32x4.splat(-2)));
  const t = f32x4.div(f32x4.sub(one, e), f32x4.add(one, e));
  return v128.or(t, v128.and(x, i32x4.splat(0x80000000)));
}

/** 1/(1+e^−x) on one lane; the sigmoid and swish activations use it too */
@inline export function sigmoid1(x: f32): f32 {
  // split on sign so exp never overflows
  if (x >= 0) return 1 / (1 + Mathf.exp(-x));
  const e = Mathf.exp(x);
  return e / (1 + e);
}

@inline export function tanh1(x: f32): f32 {
  return Mathf.tanh(x);
}
