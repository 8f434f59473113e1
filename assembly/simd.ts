// Small vector helpers shared by the kernels. Every call sits behind `if (ASC_FEATURE_SIMD)`,
// so the scalar build never sees a v128.

/** a*b + c: one fused instruction where relaxed SIMD exists, mul+add otherwise. */
@inline export function fma4(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

/** Horizontal sum of the four lanes. */
@inline export function hsum4(v: v128): f32 {
  return f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1)
    + f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3);
}
