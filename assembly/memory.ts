// Block helpers the host uses between kernels: zeroing gradients, scaled adds, finiteness checks.

@inline function at(p: usize, i: i32): usize { return p + (<usize>i << 2); }

/** p(n) = 0: gradients are accumulated, so the host zeroes them before each step. */
export function fill_zero(p: usize, n: i32): void {
  if (n > 0) memory.fill(p, 0, <usize>n << 2);
}

/** y(n) += a·x(n) */
export function axpy(y: usize, x: usize, n: i32, a: f32): void {
  for (let i = 0; i < n; i++) store<f32>(at(y, i), load<f32>(at(y, i)) + a * load<f32>(at(x, i)));
}

/** How many of p(n) are NaN or ±Infinity. */
export function count_nonfinite(p: usize, n: i32): i32 {
  let c = 0;
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    // lanes where v − v is not 0 are all-ones masks (−1): subtracting them counts
    const zero = f32x4.splat(0);
    let counts = i32x4.splat(0);
    for (; i + 4 <= n; i += 4) {
      const v = v128.load(at(p, i));
      counts = i32x4.sub(counts, f32x4.ne(f32x4.sub(v, v), zero));
    }
    c = i32x4.extract_lane(counts, 0) + i32x4.extract_lane(counts, 1)
      + i32x4.extract_lane(counts, 2) + i32x4.extract_lane(counts, 3);
  }
  for (; i < n; i++) {
    const v = load<f32>(at(p, i));
    if (v - v != 0) c++; // NaN and ±Inf both give NaN here
  }
  return c;
}

/** y(n) = a(n) + b(n): the join of a residual connection */
export function add_forward(y: usize, a: usize, b: usize, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 4 <= n; i += 4) v128.store(at(y, i), f32x4.add(v128.load(at(a, i)), v128.load(at(b, i))));
  }
  for (; i < n; i++) store<f32>(at(y, i), load<f32>(at(a, i)) + load<f32>(at(b, i)));
}

/** y(n) = x(n)·mask(n): dropout, with the mask (0 or 1/(1−rate)) drawn by the host's seeded RNG */
export function dropout_forward(y: usize, x: usize, mask: usize, n: i32): void {
  for (let i = 0; i < n; i++) store<f32>(at(y, i), load<f32>(at(x, i)) * load<f32>(at(mask, i)));
}
/** dx(n) += dy(n)·mask(n) */
export function dropout_backward(dx: usize, dy: usize, mask: usize, n: i32): void {
  for (let i = 0; i < n; i++) store<f32>(at(dx, i), load<f32>(at(dx, i)) + load<f32>(at(dy, i)) * load<f32>(at(mask, i)));
}

/** Σ p(n)², summed in f64: the squared norm that gradient clipping by global norm needs */
export function sum_squares(p: usize, n: i32): f64 {
  let s: f64 = 0;
  for (let i = 0; i < n; i++) {
    const v = <f64>load<f32>(at(p, i));
    s += v * v;
  }
  return s;
}

/** p(n) *= a */
export function scale(p: usize, n: i32, a: f32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const a4 = f32x4.splat(a);
    for (; i + 4 <= n; i += 4) v128.store(at(p, i), f32x4.mul(v128.load(at(p, i)), a4));
  }
  for (; i < n; i++) store<f32>(at(p, i), load<f32>(at(p, i)) * a);
}

/** p(n) = min(max(p, −c), c) */
export function clip_values(p: usize, n: i32, c: f32): void {
  for (let i = 0; i < n; i++) store<f32>(at(p, i), min<f32>(max<f32>(load<f32>(at(p, i)), -c), c));
}

/** p(rows, cols) *= w(rows): a weight per row (sample and class weights on a loss gradient) */
export function scale_rows(p: usize, w: usize, rows: i32, cols: i32): void {
  for (let r = 0; r < rows; r++) scale(p + (<usize>(r * cols) << 2), cols, load<f32>(at(w, r)));
}
