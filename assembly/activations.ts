// Element-wise activations, forward then backward for each. Forward: y(n) = f(x(n)).
// Backward accumulates: dx(n) += dy(n) · f'(x), given the saved input x and output y.
// Every pair has the same signature so the host drives them all from one table; `alpha` is
// the activation's parameter where it has one (leaky slope, ELU alpha, swish beta).

import { sigmoid1 } from './gates';

@inline function at(p: usize, i: i32): usize { return p + (<usize>i << 2); }

/** Heaviside step: 1 where x ≥ 0, else 0. It has no useful gradient, so no backward. */
export function step_forward(y: usize, x: usize, n: i32, alpha: f32): void {
  for (let i = 0; i < n; i++) store<f32>(at(y, i), load<f32>(at(x, i)) >= 0 ? 1 : 0);
}

export function linear_forward(y: usize, x: usize, n: i32, alpha: f32): void {
  if (y != x) memory.copy(y, x, <usize>n << 2);
}
export function linear_backward(dx: usize, dy: usize, x: usize, y: usize, n: i32, alpha: f32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 4 <= n; i += 4) v128.store(at(dx, i), f32x4.add(v128.load(at(dx, i)), v128.load(at(dy, i))));
  }
  for (; i < n; i++) store<f32>(at(dx, i), load<f32>(at(dx, i)) + load<f32>(at(dy, i)));
}


export function sigmoid_forward(y: usize, x: usize, n: i32, alpha: f32): void {
  for (let i = 0; i < n; i++) store<f32>(at(y, i), sigmoid1(load<f32>(at(x, i))));
}
export function sigmoid_backward(dx: usize, dy: usize, x: usize, y: usize, n: i32, alpha: f32): void {
  for (let i = 0; i < n; i++) {
    const s = load<f32>(at(y, i));
    store<f32>(at(dx, i), load<f32>(at(dx, i)) + load<f32>(at(dy, i)) * s * (1 - s));
  }
}

export function tanh_forward(y: usize, x: usize, n: i32, alpha: f32): void {
  for (let i = 0; i < n; i++) store<f32>(at(y, i), Mathf.tanh(load<f32>(at(x, i))));
}
export function tanh_backward(dx: usize, dy: usize, x: usize, y: usize, n: i32, alpha: f32): void {
  for (let i = 0; i < n; i++) {
    const t = load<f32>(at(y, i));
    store<f32>(at(dx, i), load<f32>(at(dx, i)) + load<f32>(at(dy, i)) * (1 - t * t));
  }
}

export function relu_forward(y: usize, x: usize, n: i32, alpha: f32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const z = f32x4.splat(0);
    for (; i + 4 <= n; i += 4) {
      const v = v128.load(at(x, i));
      v128.store(at(y, i), v128.and(v, f32x4.gt(v, z)));
    }
  }
  for (; i < n; i++) { const v = load<f32>(at(x, i)); store<f32>(at(y, i), v > 0 ? v : 0); }
}
export function relu_backward(dx: usize, dy: usize, x: usize, y: usize, n: i32, alpha: f32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const z = f32x4.splat(0);
    for (; i + 4 <= n; i += 4) {
      const g = v128.and(v128.load(at(dy, i)), f32x4.gt(v128.load(at(x, i)), z));
      v128.store(at(dx, i), f32x4.add(v128.load(at(dx, i)), g));
    }
  }
  for (; i < n; i++) {
    if (load<f32>(at(x, i)) > 0) store<f32>(at(dx, i), load<f32>(at(dx, i)) + load<f32>(at(dy, i)));
  }
}

export function leaky_relu_forward(y: usize, x: usize, n: i32, alpha: f32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const z = f32x4.splat(0);
    const a = f32x4.splat(alpha);
    for (; i + 4 <= n; i += 4) {
      const v = v128.load(at(x, i));
      v128.store(at(y, i), v128.bitselect(v, f32x4.mul(v, a), f32x4.gt(v, z)));
    }
  }
  for (; i < n; i++) { const v = load<f32>(at(x, i)); store<f32>(at(y, i), v > 0 ? v : alpha * v); }
}
export function leaky_relu_backward(dx: usize, dy: usize, x: usize, y: usize, n: i32, alpha: f32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const z = f32x4.splat(0);
    const a = f32x4.splat(alpha);
    for (; i + 4 <= n; i += 4) {
      const d = v128.load(at(dy, i));
      const g = v128.bitselect(d, f32x4.mul(d, a), f32x4.gt(v128.load(at(x, i)), z));
      v128.store(at(dx, i), f32x4.add(v128.load(at(dx, i)), g));
    }
  }
  for (; i < n; i++) {
    const d = load<f32>(at(dy, i));
    store<f32>(at(dx, i), load<f32>(at(dx, i)) + (load<f32>(at(x, i)) > 0 ? d : alpha * d));
  }
}

export function elu_forward(y: usize, x: usize, n: i32, alpha: f32): void {
  for (let i = 0; i < n; i++) {
    const v = load<f32>(at(x, i));
    store<f32>(at(y, i), v > 0 ? v : alpha * (Mathf.exp(v) - 1));
  }
}
export function elu_backward(dx: usize, dy: usize, x: usize, y: usize, n: i32, alpha: f32): void {
  for (let i = 0; i < n; i++) {
    // for x ≤ 0, d/dx α(eˣ−1) = αeˣ = y + α
    const g: f32 = load<f32>(at(x, i)) > 0 ? 1 : load<f32>(at(y, i)) + alpha;
    store<f32>(at(dx, i), load<f32>(at(dx, i)) + load<f32>(at(dy, i)) * g);
  }
}

/** swish(x) = x·σ(βx); β = 1 is SiLU. */
export function swish_forward(y: usize, x: usize, n: i32, alpha: f32): void {
  for (let i = 0; i < n; i++) {
    const v = load<f32>(at(x, i));
    store<f32>(at(y, i), v * sigmoid1(alpha * v));
  }
}
export function swish_backward(dx: usize, dy: usize, x: usize, y: usize, n: i32, alpha: f32): void {
  for (let i = 0; i < n; i++) {
    const v = load<f32>(at(x, i));
    const s = sigmoid1(alpha * v);
    // d/dx xσ(βx) = σ + βxσ(1−σ)
    const g = s + alpha * v * s * (1 - s);
    store<f32>(at(dx, i), load<f32>(at(dx, i)) + load<f32>(at(dy, i)) * g);
  }
}

// erf by Abramowitz & Stegun 7.1.26 in f64: absolute error below 1.5e-7, under f32's resolution
// near the values GELU cares about.
@inline export function erf(x: f64): f64 {
  const s: f64 = x < 0 ? -1 : 1;
  const ax = Math.abs(x);
  const t = 1.0 / (1.0 + 0.3275911 * ax);
  const poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  return s * (1.0 - poly * Math.exp(-ax * ax));
}

/** Exact (erf) GELU, as PyTorch's default: x·Φ(x). */
export function gelu_forward(y: usize, x: usize, n: i32, alpha: f32): void {
  for (let i = 0; i < n; i++) {
    const v = <f64>load<f32>(at(x, i));
    store<f32>(at(y, i), <f32>(0.5 * v * (1.0 + erf(v * Math.SQRT1_2))));
  }
}
export function gelu_backward(dx: usize, dy: usize, x: usize, y: usize, n: i32, alpha: f32): void {
  for (let i = 0; i < n; i++) {
    const v = <f64>load<f32>(at(x, i));
    const cdf = 0.5 * (1.0 + erf(v * Math.SQRT1_2));
    const pdf = Math.exp(-0.5 * v * v) * 0.3989422804014327;
    store<f32>(at(dx, i), load<f32>(at(dx, i)) + load<f32>(at(dy, i)) * <f32>(cdf + v * pdf));
  }
}

/** PReLU with one learned slope per unit: y(b,u) = x > 0 ? x : alpha(u)·x. */
export function prelu_forward(y: usize, x: usize, alpha: usize, batch: i32, units: i32): void {
  for (let b = 0; b < batch; b++) {
    const o = b * units;
    for (let u = 0; u < units; u++) {
      const v = load<f32>(at(x, o + u));
      store<f32>(at(y, o + u), v > 0 ? v : load<f32>(at(alpha, u)) * v);
    }
  }
}
/** dx(b,u) += dy·(x > 0 ? 1 : alpha(u)); dalpha(u) += Σ_b dy·(x > 0 ? 0 : x) */
export function prelu_backward(
  dx: usize, dalpha: usize, dy: usize, x: usize, alpha: usize, batch: i32, units: i32,
): void {
  for (let b = 0; b < batch; b++) {
    const o = b * units;
    for (let u = 0; u < units; u++) {
      const v = load<f32>(at(x, o + u));
      const d = load<f32>(at(dy, o + u));
      if (v > 0) {
        store<f32>(at(dx, o + u), load<f32>(at(dx, o + u)) + d);
      } else {
        store<f32>(at(dx, o + u), load<f32>(at(dx, o + u)) + d * load<f32>(at(alpha, u)));
        store<f32>(at(dalpha, u), load<f32>(at(dalpha, u)) + d * v);
      }
    }
  }
}

/** Row-wise softmax, max-subtracted so exp never overflows. */
export function softmax_forward(y: usize, x: usize, rows: i32, cols: i32): void {
  for (let r = 0; r < rows; r++) {
    const xr = at(x, r * cols);
    const yr = at(y, r * cols);
    let mx = -Infinity as f32;
    for (let j = 0; j < cols; j++) mx = max(mx, load<f32>(at(xr, j)));
    let sum: f32 = 0;
    for (let j = 0; j < cols; j++) {
      const e = Mathf.exp(load<f32>(at(xr, j)) - mx);
      store<f32>(at(yr, j), e);
      sum += e;
    }
    const inv: f32 = 1 / sum;
    for (let j = 0; j < cols; j++) store<f32>(at(yr, j), load<f32>(at(yr, j)) * inv);
  }
}
/** dx += y ⊙ (dy − Σ dy·y), row by row. */
export function softmax_backward(dx: usize, dy: usize, y: usize, rows: i32, cols: i32): void {
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    let dot: f32 = 0;
    for (let j = 0; j < cols; j++) dot += load<f32>(at(dy, o + j)) * load<f32>(at(y, o + j));
    for (let j = 0; j < cols; j++) {
      const yj = load<f32>(at(y, o + j));
      store<f32>(at(dx, o + j), load<f32>(at(dx, o + j)) + yj * (load<f32>(at(dy, o + j)) - dot));
    }
  }
}
