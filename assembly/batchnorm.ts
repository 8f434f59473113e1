// Batch normalization over channels, PyTorch's BatchNorm1d/2d: x(batch, C, S) with S = H·W (1
// after a dense layer). Training normalizes with the batch's statistics (biased variance),
// saves each channel's mean and 1/√(var+ε) for backward, and moves the running statistics by
// `momentum` (the unbiased variance, as PyTorch does); inference uses the running statistics.
// Sums run in f64: a channel may have batch·S values.

@inline function at(p: usize, i: i32): usize { return p + (<usize>i << 2); }

/**
 * y(batch,C,S) = γ·(x − mean)·invstd + β with the batch's statistics; mean(C), invstd(C) saved;
 * running_mean(C), running_var(C) ← (1 − momentum)·running + momentum·batch statistic.
 */
export function batchnorm_forward_train(
  y: usize, mean: usize, invstd: usize,
  x: usize, gamma: usize, beta: usize, running_mean: usize, running_var: usize,
  batch: i32, c: i32, s: i32, momentum: f32, eps: f32,
): void {
  const n = batch * s;
  for (let ch = 0; ch < c; ch++) {
    let sum: f64 = 0;
    for (let b = 0; b < batch; b++) {
      const row = at(x, (b * c + ch) * s);
      for (let i = 0; i < s; i++) sum += <f64>load<f32>(at(row, i));
    }
    const m = sum / <f64>n;
    let sq: f64 = 0;
    for (let b = 0; b < batch; b++) {
      const row = at(x, (b * c + ch) * s);
      for (let i = 0; i < s; i++) { const d = <f64>load<f32>(at(row, i)) - m; sq += d * d; }
    }
    const v = sq / <f64>n;
    const inv = 1.0 / Math.sqrt(v + <f64>eps);
    store<f32>(at(mean, ch), <f32>m);
    store<f32>(at(invstd, ch), <f32>inv);
    const unbiased = n > 1 ? sq / <f64>(n - 1) : v;
    const mo = <f64>momentum;
    store<f32>(at(running_mean, ch), <f32>((1 - mo) * <f64>load<f32>(at(running_mean, ch)) + mo * m));
    store<f32>(at(running_var, ch), <f32>((1 - mo) * <f64>load<f32>(at(running_var, ch)) + mo * unbiased));
    const g = <f32>(<f64>load<f32>(at(gamma, ch)) * inv);
    const shift = <f32>(<f64>load<f32>(at(beta, ch)) - m * <f64>g);
    normalize(y, x, batch, c, s, ch, g, shift);
  }
}

/** y(batch,C,S) = γ·(x − running_mean)/√(running_var + ε) + β */
export function batchnorm_forward_eval(
  y: usize, x: usize, gamma: usize, beta: usize, running_mean: usize, running_var: usize,
  batch: i32, c: i32, s: i32, eps: f32,
): void {
  for (let ch = 0; ch < c; ch++) {
    const inv = 1.0 / Math.sqrt(<f64>load<f32>(at(running_var, ch)) + <f64>eps);
    const g = <f32>(<f64>load<f32>(at(gamma, ch)) * inv);
    const shift = <f32>(<f64>load<f32>(at(beta, ch)) - <f64>load<f32>(at(running_mean, ch)) * <f64>g);
    normalize(y, x, batch, c, s, ch, g, shift);
  }
}

// y = g·x + shift over one channel of every sample
@inline function normalize(y: usize, x: usize, batch: i32, c: i32, s: i32, ch: i32, g: f32, shift: f32): void {
  for (let b = 0; b < batch; b++) {
    const o = (b * c + ch) * s;
    let i = 0;
    if (ASC_FEATURE_SIMD) {
      const g4 = f32x4.splat(g);
      const s4 = f32x4.splat(shift);
      for (; i + 4 <= s; i += 4) v128.store(at(y, o + i), f32x4.add(f32x4.mul(v128.load(at(x, o + i)), g4), s4));
    }
    for (; i < s; i++) store<f32>(at(y, o + i), load<f32>(at(x, o + i)) * g + shift);
  }
}

/**
 * dβ(C) += Σ dy; dγ(C) += Σ dy·x̂; dx(batch,C,S) += γ·invstd/N·(N·dy − Σdy − x̂·Σ dy·x̂)
 * (skipped when dx is 0), x̂ = (x − mean)·invstd from the saved statistics, N = batch·S.
 */
export function batchnorm_backward(
  dx: usize, dgamma: usize, dbeta: usize,
  dy: usize, x: usize, mean: usize, invstd: usize, gamma: usize,
  batch: i32, c: i32, s: i32,
): void {
  const n = batch * s;
  if (n <= 0) return;
  for (let ch = 0; ch < c; ch++) {
    const m = <f64>load<f32>(at(mean, ch));
    const inv = <f64>load<f32>(at(invstd, ch));
    let sdy: f64 = 0;
    let sdyx: f64 = 0;
    for (let b = 0; b < batch; b++) {
      const o = (b * c + ch) * s;
      for (let i = 0; i < s; i++) {
        const d = <f64>load<f32>(at(dy, o + i));
        sdy += d;
        sdyx += d * (<f64>load<f32>(at(x, o + i)) - m) * inv;
      }
    }
    store<f32>(at(dbeta, ch), load<f32>(at(dbeta, ch)) + <f32>sdy);
    store<f32>(at(dgamma, ch), load<f32>(at(dgamma, ch)) + <f32>sdyx);
    if (dx == 0) continue;
    const k = <f64>load<f32>(at(gamma, ch)) * inv / <f64>n;
    const mdy = sdy;
    for (let b = 0; b < batch; b++) {
      const o = (b * c + ch) * s;
      for (let i = 0; i < s; i++) {
        const xh = (<f64>load<f32>(at(x, o + i)) - m) * inv;
        const g = k * (<f64>n * <f64>load<f32>(at(dy, o + i)) - mdy - xh * sdyx);
        store<f32>(at(dx, o + i), load<f32>(at(dx, o + i)) + <f32>g);
      }
    }
  }
}
