// Losses over a batch of predictions p(batch,n) against targets t(batch,n). Forward returns
// the batch-mean loss (summed in f64); backward accumulates dL/dp into dp. Probabilities are
// clipped to [EPS, 1−EPS] before a log, as Keras does, so a confident wrong answer costs a
// large finite loss instead of Infinity.

const EPS: f64 = 1e-7;

@inline function at(p: usize, i: i32): usize { return p + (<usize>i << 2); }
@inline function ld(p: usize, i: i32): f64 { return <f64>load<f32>(at(p, i)); }
@inline function acc(p: usize, i: i32, v: f64): void { store<f32>(at(p, i), load<f32>(at(p, i)) + <f32>v); }
@inline function clip(p: f64): f64 { return min(max(p, EPS), 1 - EPS); }

/** mean of (p−t)² over every element */
export function mse_forward(p: usize, t: usize, batch: i32, n: i32): f64 {
  const m = batch * n;
  let s: f64 = 0;
  for (let i = 0; i < m; i++) { const d = ld(p, i) - ld(t, i); s += d * d; }
  return m > 0 ? s / m : 0;
}
export function mse_backward(dp: usize, p: usize, t: usize, batch: i32, n: i32): void {
  const m = batch * n;
  const k = 2.0 / <f64>m;
  for (let i = 0; i < m; i++) acc(dp, i, k * (ld(p, i) - ld(t, i)));
}

/** mean of |p−t| */
export function mae_forward(p: usize, t: usize, batch: i32, n: i32): f64 {
  const m = batch * n;
  let s: f64 = 0;
  for (let i = 0; i < m; i++) s += Math.abs(ld(p, i) - ld(t, i));
  return m > 0 ? s / m : 0;
}
export function mae_backward(dp: usize, p: usize, t: usize, batch: i32, n: i32): void {
  const m = batch * n;
  const k = 1.0 / <f64>m;
  for (let i = 0; i < m; i++) {
    const d = ld(p, i) - ld(t, i);
    if (d != 0) acc(dp, i, d > 0 ? k : -k);
  }
}

/** 100 · mean of |(t−p)/t|, |t| floored at EPS */
export function mape_forward(p: usize, t: usize, batch: i32, n: i32): f64 {
  const m = batch * n;
  let s: f64 = 0;
  for (let i = 0; i < m; i++) {
    const ti = ld(t, i);
    s += Math.abs((ti - ld(p, i)) / max(Math.abs(ti), EPS));
  }
  return m > 0 ? 100 * s / m : 0;
}
export function mape_backward(dp: usize, p: usize, t: usize, batch: i32, n: i32): void {
  const m = batch * n;
  const k = 100.0 / <f64>m;
  for (let i = 0; i < m; i++) {
    const ti = ld(t, i);
    const d = ld(p, i) - ti;
    if (d != 0) acc(dp, i, (d > 0 ? k : -k) / max(Math.abs(ti), EPS));
  }
}

/** mean of (log(1+p) − log(1+t))², p and t floored at 0 as in Keras */
export function msle_forward(p: usize, t: usize, batch: i32, n: i32): f64 {
  const m = batch * n;
  let s: f64 = 0;
  for (let i = 0; i < m; i++) {
    const d = Math.log1p(max(ld(p, i), 0)) - Math.log1p(max(ld(t, i), 0));
    s += d * d;
  }
  return m > 0 ? s / m : 0;
}
export function msle_backward(dp: usize, p: usize, t: usize, batch: i32, n: i32): void {
  const m = batch * n;
  const k = 2.0 / <f64>m;
  for (let i = 0; i < m; i++) {
    const pi = ld(p, i);
    if (pi < 0) continue; // the floor has zero slope
    const d = Math.log1p(pi) - Math.log1p(max(ld(t, i), 0));
    acc(dp, i, k * d / (1 + pi));
  }
}

/** The classic back-propagation loss: ½·Σ_outputs (p−t)², averaged over the batch. */
export function sse_forward(p: usize, t: usize, batch: i32, n: i32): f64 {
  const m = batch * n;
  let s: f64 = 0;
  for (let i = 0; i < m; i++) { const d = ld(p, i) - ld(t, i); s += d * d; }
  return batch > 0 ? 0.5 * s / batch : 0;
}
export function sse_backward(dp: usize, p: usize, t: usize, batch: i32, n: i32): void {
  const m = batch * n;
  const k = 1.0 / <f64>batch;
  for (let i = 0; i < m; i++) acc(dp, i, k * (ld(p, i) - ld(t, i)));
}

/**
 * Huber loss with δ = 1 (PyTorch's HuberLoss and Keras's Huber defaults): mean of ½d² where
 * |d| ≤ 1, |d| − ½ beyond, d = p − t. Quadratic near the target, linear for outliers.
 */
export function huber_forward(p: usize, t: usize, batch: i32, n: i32): f64 {
  const m = batch * n;
  let s: f64 = 0;
  for (let i = 0; i < m; i++) {
    const d = Math.abs(ld(p, i) - ld(t, i));
    s += d <= 1 ? 0.5 * d * d : d - 0.5;
  }
  return m > 0 ? s / m : 0;
}
export function huber_backward(dp: usize, p: usize, t: usize, batch: i32, n: i32): void {
  const m = batch * n;
  const k = 1.0 / <f64>m;
  for (let i = 0; i < m; i++) {
    const d = ld(p, i) - ld(t, i);
    acc(dp, i, k * min(max(d, -1), 1));
  }
}

/** −mean of t·log p + (1−t)·log(1−p) over every element; p are probabilities */
export function binary_crossentropy_forward(p: usize, t: usize, batch: i32, n: i32): f64 {
  const m = batch * n;
  let s: f64 = 0;
  for (let i = 0; i < m; i++) {
    const pi = clip(ld(p, i));
    const ti = ld(t, i);
    s -= ti * Math.log(pi) + (1 - ti) * Math.log(1 - pi);
  }
  return m > 0 ? s / m : 0;
}
export function binary_crossentropy_backward(dp: usize, p: usize, t: usize, batch: i32, n: i32): void {
  const m = batch * n;
  const k = 1.0 / <f64>m;
  for (let i = 0; i < m; i++) {
    const raw = ld(p, i);
    const pi = clip(raw);
    if (pi != raw) continue; // clipped: zero slope
    const ti = ld(t, i);
    acc(dp, i, k * (pi - ti) / (pi * (1 - pi)));
  }
}

/** Binary cross-entropy fused with a sigmoid, from logits z: max(z,0) − z·t + log(1+e^−|z|). */
export function sigmoid_binary_crossentropy_forward(z: usize, t: usize, batch: i32, n: i32): f64 {
  const m = batch * n;
  let s: f64 = 0;
  for (let i = 0; i < m; i++) {
    const zi = ld(z, i);
    s += max(zi, 0) - zi * ld(t, i) + Math.log1p(Math.exp(-Math.abs(zi)));
  }
  return m > 0 ? s / m : 0;
}
/** dz += (σ(z) − t)/m, with y = σ(z) saved by the forward pass. */
export function sigmoid_binary_crossentropy_backward(dz: usize, y: usize, t: usize, batch: i32, n: i32): void {
  const m = batch * n;
  const k = 1.0 / <f64>m;
  for (let i = 0; i < m; i++) acc(dz, i, k * (ld(y, i) - ld(t, i)));
}

/** −Σ_classes t·log p, averaged over the batch; p are probabilities */
export function categorical_crossentropy_forward(p: usize, t: usize, batch: i32, n: i32): f64 {
  let s: f64 = 0;
  const m = batch * n;
  for (let i = 0; i < m; i++) {
    const ti = ld(t, i);
    if (ti != 0) s -= ti * Math.log(clip(ld(p, i)));
  }
  return batch > 0 ? s / batch : 0;
}
export function categorical_crossentropy_backward(dp: usize, p: usize, t: usize, batch: i32, n: i32): void {
  const m = batch * n;
  const k = 1.0 / <f64>batch;
  for (let i = 0; i < m; i++) {
    const ti = ld(t, i);
    const raw = ld(p, i);
    const pi = clip(raw);
    if (ti != 0 && pi == raw) acc(dp, i, -k * ti / pi);
  }
}

/**
 * Categorical cross-entropy fused with softmax, from logits z: per row logsumexp(z)·Σt − Σ t·z,
 * exact even where a probability underflows.
 */
export function softmax_crossentropy_forward(z: usize, t: usize, batch: i32, n: i32): f64 {
  let s: f64 = 0;
  for (let r = 0; r < batch; r++) {
    const o = r * n;
    let mx: f64 = -Infinity;
    for (let j = 0; j < n; j++) mx = max(mx, ld(z, o + j));
    let se: f64 = 0;
    for (let j = 0; j < n; j++) se += Math.exp(ld(z, o + j) - mx);
    const lse = mx + Math.log(se);
    for (let j = 0; j < n; j++) {
      const tj = ld(t, o + j);
      if (tj != 0) s += tj * (lse - ld(z, o + j));
    }
  }
  return batch > 0 ? s / batch : 0;
}
/** dz += (y·Σt − t)/batch, with y = softmax(z) saved by the forward pass. */
export function softmax_crossentropy_backward(dz: usize, y: usize, t: usize, batch: i32, n: i32): void {
  const k = 1.0 / <f64>batch;
  for (let r = 0; r < batch; r++) {
    const o = r * n;
    let st: f64 = 0;
    for (let j = 0; j < n; j++) st += ld(t, o + j);
    for (let j = 0; j < n; j++) acc(dz, o + j, k * (ld(y, o + j) * st - ld(t, o + j)));
  }
}
