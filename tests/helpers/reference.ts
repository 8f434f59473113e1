// Plain-TypeScript reference implementations of every kernel, computed in float64, plus the small
// utilities the kernel tests share: a seeded PRNG, f32 rounding, tolerance comparison and
// sentinel guards. Nothing here touches WebAssembly, so the references can be read (and
// trusted) on their own: each one is the textbook formula from the kernel's doc comment.

// ---------------------------------------------------------------------------------------------
// Seeded randomness (never Math.random: a failure must reproduce from its seed)
// ---------------------------------------------------------------------------------------------

/** mulberry32: a tiny 32-bit PRNG, uniform in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Convenience wrapper around mulberry32. Every array it returns holds f32-representable values,
 * so the reference sees exactly the bits the kernel sees. */
export class Rng {
  private readonly next: () => number;
  constructor(seed: number) {
    this.next = mulberry32(seed);
  }
  /** uniform in [lo, hi) */
  uniform(lo = 0, hi = 1): number {
    return lo + (hi - lo) * this.next();
  }
  /** integer in [0, n) */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  /** standard normal (Box–Muller) */
  normal(): number {
    const u = 1 - this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }
  /** n values uniform in [lo, hi), rounded to f32 */
  array(n: number, lo = -1, hi = 1): Float64Array {
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = Math.fround(this.uniform(lo, hi));
    return out;
  }
  /** n values whose magnitude is uniform in [lo, hi) with a random sign: stays |x| ≥ lo away
   * from a kink at 0, which a finite-difference check needs. */
  awayFromZero(n: number, lo: number, hi: number): Float64Array {
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = Math.fround((this.next() < 0.5 ? -1 : 1) * this.uniform(lo, hi));
    return out;
  }
  /**
   * n values mixing `specials` (zeros, negatives, large magnitudes…) with uniform values in
   * [lo, hi): even indices walk through the specials, odd ones are random, so even n = 1 hits a
   * special value and every SIMD lane / scalar tail position sees both kinds.
   */
  mixed(n: number, specials: readonly number[], lo = -4, hi = 4): Float64Array {
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      out[i] = Math.fround(i % 2 === 0 ? specials[(i / 2) % specials.length] : this.uniform(lo, hi));
    }
    return out;
  }
}

/** Round every element to f32 (what writing into a Float32Array does). */
export function f32(xs: ArrayLike<number>): Float64Array {
  const out = new Float64Array(xs.length);
  for (let i = 0; i < xs.length; i++) out[i] = Math.fround(xs[i]);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Comparison
// ---------------------------------------------------------------------------------------------

export interface CloseOptions {
  /** relative tolerance, multiplied by `scale[i]` (default |expected[i]|) */
  rtol?: number;
  /** absolute tolerance */
  atol?: number;
  /** per-element magnitude the relative tolerance applies to, e.g. Σ|a·b| for a dot product */
  scale?: ArrayLike<number>;
  /** prefix for the failure message */
  label?: string;
}

/**
 * Throws unless |actual[i] − expected[i]| ≤ atol + rtol·scale[i] for every i. NaN never passes
 * (unless both sides are NaN); ±Infinity passes only against the same infinity. The message names
 * the worst element.
 */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, opts: CloseOptions = {}): void {
  const { rtol = 1e-5, atol = 1e-6, scale, label = 'values' } = opts;
  if (actual.length !== expected.length) {
    throw new Error(`${label}: length ${actual.length} ≠ expected length ${expected.length}`);
  }
  let worst = -1;
  let worstRatio = 0;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    if (Number.isNaN(a) && Number.isNaN(e)) continue;
    if (a === e) continue; // covers equal infinities
    const tol = atol + rtol * (scale ? scale[i] : Math.abs(e));
    const err = Math.abs(a - e);
    const ratio = Number.isNaN(err) ? Infinity : err / tol;
    if (ratio > 1 && ratio > worstRatio) {
      worst = i;
      worstRatio = ratio;
    }
  }
  if (worst >= 0) {
    const tol = atol + rtol * (scale ? scale[worst] : Math.abs(expected[worst]));
    throw new Error(
      `${label}: mismatch at index ${worst} of ${expected.length}: got ${actual[worst]}, expected ${expected[worst]} ` +
        `(|diff| ${Math.abs(actual[worst] - expected[worst]).toExponential(3)} > tol ${tol.toExponential(3)}; rtol ${rtol}, atol ${atol})`,
    );
  }
}

/** Element-wise |a| + |b|: the scale of a sum whose terms are a and b. */
export function absSum(a: ArrayLike<number>, b: ArrayLike<number>): Float64Array {
  const out = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = Math.abs(a[i]) + Math.abs(b[i]);
  return out;
}

export function abs(xs: ArrayLike<number>): Float64Array {
  return Float64Array.from(xs, Math.abs);
}

export function add(a: ArrayLike<number>, b: ArrayLike<number>): Float64Array {
  return Float64Array.from(a, (v, i) => v + b[i]);
}

// ---------------------------------------------------------------------------------------------
// Sentinel guards: a kernel must not write past the n elements it was given
// ---------------------------------------------------------------------------------------------

/** A value no kernel computes by accident. */
export const SENTINEL = -12345.5;
/** Floats of sentinel placed after every output buffer (covers a stray 4-wide SIMD store). */
export const GUARD = 8;

/** data followed by GUARD sentinels */
export function guarded(data: ArrayLike<number>): Float64Array {
  const out = new Float64Array(data.length + GUARD).fill(SENTINEL);
  out.set(data);
  return out;
}

/** Throws if any of buf[n .. n+GUARD) is no longer the sentinel. */
export function expectGuardIntact(buf: ArrayLike<number>, n: number, label = 'buffer'): void {
  for (let i = n; i < n + GUARD; i++) {
    if (buf[i] !== SENTINEL) throw new Error(`${label}: element ${i} past the end (n = ${n}) was overwritten with ${buf[i]}`);
  }
}

// ---------------------------------------------------------------------------------------------
// GEMM and dense
// ---------------------------------------------------------------------------------------------

export interface GemmProblem {
  m: number;
  n: number;
  k: number;
  a: ArrayLike<number>;
  b: ArrayLike<number>;
  aRs: number;
  aCs: number;
  bRs: number;
  bCs: number;
  ldc: number;
  accumulate: boolean;
  /** C before the call; elements outside the m×n window must come back unchanged */
  c0: ArrayLike<number>;
}

/** C(i,j) = [C0(i,j) +] Σ_p A(i,p)·B(p,j), strided exactly as the kernel reads A and B. */
export function gemmRef(g: GemmProblem): Float64Array {
  const c = Float64Array.from(g.c0);
  for (let i = 0; i < g.m; i++) {
    for (let j = 0; j < g.n; j++) {
      let s = 0;
      for (let p = 0; p < g.k; p++) s += g.a[i * g.aRs + p * g.aCs] * g.b[p * g.bRs + j * g.bCs];
      const o = i * g.ldc + j;
      c[o] = g.accumulate ? c[o] + s : s;
    }
  }
  return c;
}

/** Σ_p |A(i,p)·B(p,j)| [+ |C0(i,j)|]: the magnitude gemm's rounding error is relative to. */
export function gemmScale(g: GemmProblem): Float64Array {
  const scale = gemmRef({ ...g, a: abs(g.a), b: abs(g.b), c0: abs(g.c0) });
  // outside the m×n window C must be bit-identical: no slack there
  for (let i = 0; i < scale.length; i++) {
    const row = Math.floor(i / g.ldc);
    const col = i % g.ldc;
    if (row >= g.m || col >= g.n) scale[i] = 0;
  }
  return scale;
}

/** y(batch,out) = x(batch,in)·wt(in,out) + bias(out) */
export function denseForwardRef(
  x: ArrayLike<number>, wt: ArrayLike<number>, bias: ArrayLike<number>,
  batch: number, inp: number, out: number,
): Float64Array {
  const y = new Float64Array(batch * out);
  for (let r = 0; r < batch; r++) {
    for (let o = 0; o < out; o++) {
      let s = bias[o];
      for (let i = 0; i < inp; i++) s += x[r * inp + i] * wt[i * out + o];
      y[r * out + o] = s;
    }
  }
  return y;
}

/** Gradients of a dense layer (not accumulated): dx = dy·wtᵀ, dwt = xᵀ·dy, dbias = Σ_batch dy. */
export function denseBackwardRef(
  dy: ArrayLike<number>, x: ArrayLike<number>, wt: ArrayLike<number>,
  batch: number, inp: number, out: number,
): { dx: Float64Array; dwt: Float64Array; dbias: Float64Array } {
  const dx = new Float64Array(batch * inp);
  const dwt = new Float64Array(inp * out);
  const dbias = new Float64Array(out);
  for (let r = 0; r < batch; r++) {
    for (let o = 0; o < out; o++) {
      const d = dy[r * out + o];
      dbias[o] += d;
      for (let i = 0; i < inp; i++) {
        dwt[i * out + o] += x[r * inp + i] * d;
        dx[r * inp + i] += d * wt[i * out + o];
      }
    }
  }
  return { dx, dwt, dbias };
}

// ---------------------------------------------------------------------------------------------
// Activations
// ---------------------------------------------------------------------------------------------

/** erf to ~1e-15: Maclaurin series below 2.5, erfc continued fraction above. */
export function erf(x: number): number {
  if (x < 0) return -erf(-x);
  if (x < 2.5) {
    const x2 = x * x;
    let term = x;
    let sum = x;
    for (let n = 1; n < 200; n++) {
      term *= -x2 / n;
      const t = term / (2 * n + 1);
      sum += t;
      if (Math.abs(t) < 1e-17 * Math.abs(sum)) break;
    }
    return (2 / Math.sqrt(Math.PI)) * sum;
  }
  let f = x; // erfc(x) = e^{−x²}/√π / (x + ½/(x + 1/(x + 3⁄2/(x + …))))
  for (let k = 200; k >= 1; k--) f = x + k / 2 / f;
  return 1 - Math.exp(-x * x) / Math.sqrt(Math.PI) / f;
}

export function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

export interface ActivationRef {
  /** y = f(x) */
  f(x: number, alpha: number): number;
  /** f'(x); absent where the activation has no backward (step) */
  df?(x: number, alpha: number): number;
  /** where f' jumps: a finite-difference check must stay away from these */
  kinks: number[];
}

/** The element-wise activations; `alpha` is the leaky slope, ELU alpha or swish beta. At a kink
 * the derivative follows the kernels' (and PyTorch's) convention: the `x > 0` branch is strict. */
export const ACTIVATIONS: Record<string, ActivationRef> = {
  step: { f: (x) => (x >= 0 ? 1 : 0), kinks: [0] },
  linear: { f: (x) => x, df: () => 1, kinks: [] },
  sigmoid: {
    f: (x) => sigmoid(x),
    df: (x) => sigmoid(x) * (1 - sigmoid(x)),
    kinks: [],
  },
  tanh: { f: (x) => Math.tanh(x), df: (x) => 1 - Math.tanh(x) ** 2, kinks: [] },
  relu: { f: (x) => (x > 0 ? x : 0), df: (x) => (x > 0 ? 1 : 0), kinks: [0] },
  leaky_relu: { f: (x, a) => (x > 0 ? x : a * x), df: (x, a) => (x > 0 ? 1 : a), kinks: [0] },
  elu: {
    f: (x, a) => (x > 0 ? x : a * Math.expm1(x)),
    df: (x, a) => (x > 0 ? 1 : a * Math.exp(x)),
    kinks: [0],
  },
  swish: {
    f: (x, b) => x * sigmoid(b * x),
    df: (x, b) => {
      const s = sigmoid(b * x);
      return s + b * x * s * (1 - s);
    },
    kinks: [],
  },
  gelu: {
    f: (x) => 0.5 * x * (1 + erf(x / Math.SQRT2)),
    df: (x) => 0.5 * (1 + erf(x / Math.SQRT2)) + (x * Math.exp(-0.5 * x * x)) / Math.sqrt(2 * Math.PI),
    kinks: [],
  },
};

/** y(b,u) = x > 0 ? x : alpha(u)·x */
export function preluForwardRef(x: ArrayLike<number>, alpha: ArrayLike<number>, batch: number, units: number): Float64Array {
  const y = new Float64Array(batch * units);
  for (let b = 0; b < batch; b++) {
    for (let u = 0; u < units; u++) {
      const v = x[b * units + u];
      y[b * units + u] = v > 0 ? v : alpha[u] * v;
    }
  }
  return y;
}

/** dx = dy·(x > 0 ? 1 : alpha(u)); dalpha(u) = Σ_b dy·(x > 0 ? 0 : x) (not accumulated) */
export function preluBackwardRef(
  dy: ArrayLike<number>, x: ArrayLike<number>, alpha: ArrayLike<number>, batch: number, units: number,
): { dx: Float64Array; dalpha: Float64Array } {
  const dx = new Float64Array(batch * units);
  const dalpha = new Float64Array(units);
  for (let b = 0; b < batch; b++) {
    for (let u = 0; u < units; u++) {
      const i = b * units + u;
      if (x[i] > 0) dx[i] = dy[i];
      else {
        dx[i] = dy[i] * alpha[u];
        dalpha[u] += dy[i] * x[i];
      }
    }
  }
  return { dx, dalpha };
}

/** Row-wise softmax with the max subtracted. */
export function softmaxRef(x: ArrayLike<number>, rows: number, cols: number): Float64Array {
  const y = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    let mx = -Infinity;
    for (let j = 0; j < cols; j++) mx = Math.max(mx, x[o + j]);
    let sum = 0;
    for (let j = 0; j < cols; j++) sum += y[o + j] = Math.exp(x[o + j] - mx);
    for (let j = 0; j < cols; j++) y[o + j] /= sum;
  }
  return y;
}

/** dx = y ⊙ (dy − Σ_row dy·y) (not accumulated) */
export function softmaxBackwardRef(dy: ArrayLike<number>, y: ArrayLike<number>, rows: number, cols: number): Float64Array {
  const dx = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    let dot = 0;
    for (let j = 0; j < cols; j++) dot += dy[o + j] * y[o + j];
    for (let j = 0; j < cols; j++) dx[o + j] = y[o + j] * (dy[o + j] - dot);
  }
  return dx;
}

// ---------------------------------------------------------------------------------------------
// Losses: p(batch,n) predictions (or logits z / saved outputs y for the fused ones), t targets
// ---------------------------------------------------------------------------------------------

/** Probabilities are clipped to [EPS, 1−EPS] before a log; where clipping bites, the slope is 0. */
export const LOSS_EPS = 1e-7;
const clip = (p: number) => Math.min(Math.max(p, LOSS_EPS), 1 - LOSS_EPS);
const sign = (d: number) => (d > 0 ? 1 : d < 0 ? -1 : 0);

export interface LossRef {
  /** batch-mean loss from what the kernel's forward takes (p, or logits z for fused losses) */
  forward(p: ArrayLike<number>, t: ArrayLike<number>, batch: number, n: number): number;
  /** dL/dp (not accumulated) from what the kernel's backward takes (p, or y for fused losses) */
  backward(p: ArrayLike<number>, t: ArrayLike<number>, batch: number, n: number): Float64Array;
}

function elementwise(
  perElement: (p: number, t: number) => number,
  grad: (p: number, t: number) => number,
  byBatch = false,
): LossRef {
  return {
    forward(p, t, batch, n) {
      const m = batch * n;
      let s = 0;
      for (let i = 0; i < m; i++) s += perElement(p[i], t[i]);
      const d = byBatch ? batch : m;
      return d > 0 ? s / d : 0;
    },
    backward(p, t, batch, n) {
      const m = batch * n;
      const d = byBatch ? batch : m;
      return Float64Array.from({ length: m }, (_, i) => grad(p[i], t[i]) / d);
    },
  };
}

export const LOSSES: Record<string, LossRef> = {
  mse: elementwise((p, t) => (p - t) ** 2, (p, t) => 2 * (p - t)),
  mae: elementwise((p, t) => Math.abs(p - t), (p, t) => sign(p - t)),
  mape: elementwise(
    (p, t) => (100 * Math.abs((t - p) / Math.max(Math.abs(t), LOSS_EPS))),
    (p, t) => (100 * sign(p - t)) / Math.max(Math.abs(t), LOSS_EPS),
  ),
  msle: elementwise(
    (p, t) => (Math.log1p(Math.max(p, 0)) - Math.log1p(Math.max(t, 0))) ** 2,
    (p, t) => (p < 0 ? 0 : (2 * (Math.log1p(p) - Math.log1p(Math.max(t, 0)))) / (1 + p)),
  ),
  sse: elementwise((p, t) => 0.5 * (p - t) ** 2, (p, t) => p - t, true),
  huber: elementwise(
    (p, t) => (Math.abs(p - t) <= 1 ? 0.5 * (p - t) ** 2 : Math.abs(p - t) - 0.5),
    (p, t) => Math.min(Math.max(p - t, -1), 1),
  ),
  binary_crossentropy: elementwise(
    (p, t) => -(t * Math.log(clip(p)) + (1 - t) * Math.log(1 - clip(p))),
    (p, t) => (clip(p) !== p ? 0 : (p - t) / (p * (1 - p))),
  ),
  // forward from logits z; backward from y = σ(z): dL/dz = (y − t)/m
  sigmoid_binary_crossentropy: elementwise(
    (z, t) => Math.max(z, 0) - z * t + Math.log1p(Math.exp(-Math.abs(z))),
    (y, t) => y - t,
  ),
  categorical_crossentropy: elementwise(
    (p, t) => (t !== 0 ? -t * Math.log(clip(p)) : 0),
    (p, t) => (t !== 0 && clip(p) === p ? -t / p : 0),
    true,
  ),
  // forward from logits z: per row logsumexp(z)·Σt − Σ t·z; backward from y = softmax(z)
  softmax_crossentropy: {
    forward(z, t, batch, n) {
      let s = 0;
      for (let r = 0; r < batch; r++) {
        const o = r * n;
        let mx = -Infinity;
        for (let j = 0; j < n; j++) mx = Math.max(mx, z[o + j]);
        let se = 0;
        for (let j = 0; j < n; j++) se += Math.exp(z[o + j] - mx);
        const lse = mx + Math.log(se);
        for (let j = 0; j < n; j++) if (t[o + j] !== 0) s += t[o + j] * (lse - z[o + j]);
      }
      return batch > 0 ? s / batch : 0;
    },
    backward(y, t, batch, n) {
      const g = new Float64Array(batch * n);
      for (let r = 0; r < batch; r++) {
        const o = r * n;
        let st = 0;
        for (let j = 0; j < n; j++) st += t[o + j];
        for (let j = 0; j < n; j++) g[o + j] = (y[o + j] * st - t[o + j]) / batch;
      }
      return g;
    },
  },
};

// ---------------------------------------------------------------------------------------------
// Optimizers: one step of PyTorch's update rules, in place on float64 copies
// ---------------------------------------------------------------------------------------------

export function sgdRef(p: Float64Array, g: ArrayLike<number>, lr: number): void {
  for (let i = 0; i < p.length; i++) p[i] -= lr * g[i];
}

/** v = μv + g; p −= lr·(nesterov ? g + μv : v) */
export function momentumRef(p: Float64Array, g: ArrayLike<number>, v: Float64Array, lr: number, mu: number, nesterov: boolean): void {
  for (let i = 0; i < p.length; i++) {
    v[i] = mu * v[i] + g[i];
    p[i] -= lr * (nesterov ? g[i] + mu * v[i] : v[i]);
  }
}

/** s += g²; p −= lr·g/(√s + ε) */
export function adagradRef(p: Float64Array, g: ArrayLike<number>, s: Float64Array, lr: number, eps: number): void {
  for (let i = 0; i < p.length; i++) {
    s[i] += g[i] * g[i];
    p[i] -= (lr * g[i]) / (Math.sqrt(s[i]) + eps);
  }
}

/** s = ρs + (1−ρ)g²; p −= lr·g/(√s + ε) */
export function rmspropRef(p: Float64Array, g: ArrayLike<number>, s: Float64Array, lr: number, rho: number, eps: number): void {
  for (let i = 0; i < p.length; i++) {
    s[i] = rho * s[i] + (1 - rho) * g[i] * g[i];
    p[i] -= (lr * g[i]) / (Math.sqrt(s[i]) + eps);
  }
}

/** m = β₁m + (1−β₁)g; v = β₂v + (1−β₂)g²; p −= lr·(m/bc1)/(√(v/bc2) + ε) */
export function adamRef(
  p: Float64Array, g: ArrayLike<number>, m: Float64Array, v: Float64Array,
  lr: number, beta1: number, beta2: number, eps: number, bc1: number, bc2: number,
): void {
  for (let i = 0; i < p.length; i++) {
    m[i] = beta1 * m[i] + (1 - beta1) * g[i];
    v[i] = beta2 * v[i] + (1 - beta2) * g[i] * g[i];
    p[i] -= (lr * (m[i] / bc1)) / (Math.sqrt(v[i] / bc2) + eps);
  }
}

// ---------------------------------------------------------------------------------------------
// Convolution and pooling
// ---------------------------------------------------------------------------------------------

/**
 * The geometry of a 2-D convolution as the kernels take it: x (batch, c, h, w), weight
 * (out, c, kh, kw), y (batch, out, oh, ow); stride sh/sw, dilation dh/dw, padding pt/pl before
 * the first window (the bottom/right padding follows from oh/ow).
 */
export interface ConvGeometry {
  batch: number; c: number; h: number; w: number; out: number;
  kh: number; kw: number; sh: number; sw: number; pt: number; pl: number;
  dh: number; dw: number; oh: number; ow: number;
}

/** The dims in ABI order: batch, c, h, w, out, kh, kw, sh, sw, pt, pl, dh, dw, oh, ow. */
export function convArgs(g: ConvGeometry): number[] {
  return [g.batch, g.c, g.h, g.w, g.out, g.kh, g.kw, g.sh, g.sw, g.pt, g.pl, g.dh, g.dw, g.oh, g.ow];
}

/** x[b, ci, oy·sh − pt + ki·dh, ox·sw − pl + kj·dw], or undefined in the padding. */
function convTap(g: ConvGeometry, b: number, ci: number, oy: number, ox: number, ki: number, kj: number): number | undefined {
  const iy = oy * g.sh - g.pt + ki * g.dh;
  const ix = ox * g.sw - g.pl + kj * g.dw;
  if (iy < 0 || iy >= g.h || ix < 0 || ix >= g.w) return undefined;
  return ((b * g.c + ci) * g.h + iy) * g.w + ix;
}

/** y[b,o,oy,ox] = bias[o] + Σ_{ci,ki,kj} weight[o,ci,ki,kj]·x[b, ci, oy·sh−pt+ki·dh, ox·sw−pl+kj·dw] (zero outside) */
export function conv2dRef(x: ArrayLike<number>, weight: ArrayLike<number>, bias: ArrayLike<number>, g: ConvGeometry): Float64Array {
  const y = new Float64Array(g.batch * g.out * g.oh * g.ow);
  for (let b = 0; b < g.batch; b++) {
    for (let o = 0; o < g.out; o++) {
      for (let oy = 0; oy < g.oh; oy++) {
        for (let ox = 0; ox < g.ow; ox++) {
          let s = bias[o];
          for (let ci = 0; ci < g.c; ci++) {
            for (let ki = 0; ki < g.kh; ki++) {
              for (let kj = 0; kj < g.kw; kj++) {
                const i = convTap(g, b, ci, oy, ox, ki, kj);
                if (i !== undefined) s += weight[((o * g.c + ci) * g.kh + ki) * g.kw + kj] * x[i];
              }
            }
          }
          y[((b * g.out + o) * g.oh + oy) * g.ow + ox] = s;
        }
      }
    }
  }
  return y;
}

/** Gradients of conv2dRef (not accumulated): dx, dweight (out,c,kh,kw) and dbias from dy. */
export function conv2dBackwardRef(
  dy: ArrayLike<number>, x: ArrayLike<number>, weight: ArrayLike<number>, g: ConvGeometry,
): { dx: Float64Array; dweight: Float64Array; dbias: Float64Array } {
  const dx = new Float64Array(g.batch * g.c * g.h * g.w);
  const dweight = new Float64Array(g.out * g.c * g.kh * g.kw);
  const dbias = new Float64Array(g.out);
  for (let b = 0; b < g.batch; b++) {
    for (let o = 0; o < g.out; o++) {
      for (let oy = 0; oy < g.oh; oy++) {
        for (let ox = 0; ox < g.ow; ox++) {
          const d = dy[((b * g.out + o) * g.oh + oy) * g.ow + ox];
          dbias[o] += d;
          for (let ci = 0; ci < g.c; ci++) {
            for (let ki = 0; ki < g.kh; ki++) {
              for (let kj = 0; kj < g.kw; kj++) {
                const i = convTap(g, b, ci, oy, ox, ki, kj);
                if (i === undefined) continue;
                const wi = ((o * g.c + ci) * g.kh + ki) * g.kw + kj;
                dweight[wi] += d * x[i];
                dx[i] += d * weight[wi];
              }
            }
          }
        }
      }
    }
  }
  return { dx, dweight, dbias };
}

/** col(c·kh·kw, oh·ow) of one sample (batch is ignored): row (ci,ki,kj), column (oy,ox). */
export function im2colRef(x: ArrayLike<number>, g: ConvGeometry): Float64Array {
  const ohw = g.oh * g.ow;
  const col = new Float64Array(g.c * g.kh * g.kw * ohw);
  for (let ci = 0; ci < g.c; ci++) {
    for (let ki = 0; ki < g.kh; ki++) {
      for (let kj = 0; kj < g.kw; kj++) {
        const row = (ci * g.kh + ki) * g.kw + kj;
        for (let oy = 0; oy < g.oh; oy++) {
          for (let ox = 0; ox < g.ow; ox++) {
            const i = convTap(g, 0, ci, oy, ox, ki, kj);
            col[row * ohw + oy * g.ow + ox] = i === undefined ? 0 : x[i];
          }
        }
      }
    }
  }
  return col;
}

/** The geometry of pooling over `planes` planes of (h, w) into (oh, ow); padding pt/pl before. */
export interface PoolGeometry {
  planes: number; h: number; w: number;
  kh: number; kw: number; sh: number; sw: number; pt: number; pl: number; oh: number; ow: number;
}

/** In-bounds cells (in-plane index iy·w + ix) of output (oy, ox)'s window, row by row. */
export function poolWindow(g: PoolGeometry, oy: number, ox: number): number[] {
  const cells: number[] = [];
  for (let ki = 0; ki < g.kh; ki++) {
    const iy = oy * g.sh - g.pt + ki;
    if (iy < 0 || iy >= g.h) continue;
    for (let kj = 0; kj < g.kw; kj++) {
      const ix = ox * g.sw - g.pl + kj;
      if (ix >= 0 && ix < g.w) cells.push(iy * g.w + ix);
    }
  }
  return cells;
}

/** y = max over each window's in-bounds cells (0 for a window with none); idx = its in-plane index (−1 for none). */
export function maxpool2dRef(x: ArrayLike<number>, g: PoolGeometry): { y: Float64Array; idx: Int32Array } {
  const n = g.planes * g.oh * g.ow;
  const y = new Float64Array(n);
  const idx = new Int32Array(n).fill(-1);
  for (let p = 0; p < g.planes; p++) {
    for (let oy = 0; oy < g.oh; oy++) {
      for (let ox = 0; ox < g.ow; ox++) {
        const o = (p * g.oh + oy) * g.ow + ox;
        for (const cell of poolWindow(g, oy, ox)) {
          if (idx[o] < 0 || x[p * g.h * g.w + cell] > y[o]) {
            y[o] = x[p * g.h * g.w + cell];
            idx[o] = cell;
          }
        }
      }
    }
  }
  return { y, idx };
}

/** dx (not accumulated): each dy goes to the cell its window's maximum came from. */
export function maxpool2dBackwardRef(dy: ArrayLike<number>, x: ArrayLike<number>, g: PoolGeometry): Float64Array {
  const { idx } = maxpool2dRef(x, g);
  const dx = new Float64Array(g.planes * g.h * g.w);
  for (let p = 0; p < g.planes; p++) {
    for (let i = 0; i < g.oh * g.ow; i++) {
      const o = p * g.oh * g.ow + i;
      if (idx[o] >= 0) dx[p * g.h * g.w + idx[o]] += dy[o];
    }
  }
  return dx;
}

/** y = mean over each window's in-bounds cells (padding does not count; 0 for none). */
export function avgpool2dRef(x: ArrayLike<number>, g: PoolGeometry): Float64Array {
  const y = new Float64Array(g.planes * g.oh * g.ow);
  for (let p = 0; p < g.planes; p++) {
    for (let oy = 0; oy < g.oh; oy++) {
      for (let ox = 0; ox < g.ow; ox++) {
        const cells = poolWindow(g, oy, ox);
        let s = 0;
        for (const cell of cells) s += x[p * g.h * g.w + cell];
        y[(p * g.oh + oy) * g.ow + ox] = cells.length ? s / cells.length : 0;
      }
    }
  }
  return y;
}

/** dx (not accumulated): each dy spread evenly over its window's in-bounds cells. */
export function avgpool2dBackwardRef(dy: ArrayLike<number>, g: PoolGeometry): Float64Array {
  const dx = new Float64Array(g.planes * g.h * g.w);
  for (let p = 0; p < g.planes; p++) {
    for (let oy = 0; oy < g.oh; oy++) {
      for (let ox = 0; ox < g.ow; ox++) {
        const cells = poolWindow(g, oy, ox);
        for (const cell of cells) dx[p * g.h * g.w + cell] += dy[(p * g.oh + oy) * g.ow + ox] / cells.length;
      }
    }
  }
  return dx;
}
