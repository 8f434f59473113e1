// Parameter updates, element-wise over a flat block: p(n), its gradient g(n) and the
// optimizer's state of the same length. Layout-agnostic, so the host updates all parameters of
// a layer (or of the whole model) in one call. Formulas follow PyTorch's optimizers.
import { fma4 } from './simd';

@inline function at(p: usize, i: i32): usize { return p + (<usize>i << 2); }

/** p −= lr·g */
export function sgd_update(p: usize, g: usize, n: i32, lr: f32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const k = f32x4.splat(-lr);
    for (; i + 4 <= n; i += 4) v128.store(at(p, i), fma4(k, v128.load(at(g, i)), v128.load(at(p, i))));
  }
  for (; i < n; i++) store<f32>(at(p, i), load<f32>(at(p, i)) - lr * load<f32>(at(g, i)));
}

/** v = μv + g; p −= lr·(Nesterov ? g + μv : v) */
export function momentum_update(p: usize, g: usize, v: usize, n: i32, lr: f32, mu: f32, nesterov: i32): void {
  for (let i = 0; i < n; i++) {
    const gi = load<f32>(at(g, i));
    const vi = mu * load<f32>(at(v, i)) + gi;
    store<f32>(at(v, i), vi);
    store<f32>(at(p, i), load<f32>(at(p, i)) - lr * (nesterov ? gi + mu * vi : vi));
  }
}

/** s += g²; p −= lr·g/(√s + ε) */
export function adagrad_update(p: usize, g: usize, s: usize, n: i32, lr: f32, eps: f32): void {
  for (let i = 0; i < n; i++) {
    const gi = load<f32>(at(g, i));
    const si = load<f32>(at(s, i)) + gi * gi;
    store<f32>(at(s, i), si);
    store<f32>(at(p, i), load<f32>(at(p, i)) - lr * gi / (Mathf.sqrt(si) + eps));
  }
}

/** s = ρs + (1−ρ)g²; p −= lr·g/(√s + ε) */
export function rmsprop_update(p: usize, g: usize, s: usize, n: i32, lr: f32, rho: f32, eps: f32): void {
  for (let i = 0; i < n; i++) {
    const gi = load<f32>(at(g, i));
    const si = rho * load<f32>(at(s, i)) + (1 - rho) * gi * gi;
    store<f32>(at(s, i), si);
    store<f32>(at(p, i), load<f32>(at(p, i)) - lr * gi / (Mathf.sqrt(si) + eps));
  }
}

/**
 * m = β₁m + (1−β₁)g; v = β₂v + (1−β₂)g²; p −= lr·(m/bc1)/(√(v/bc2) + ε), where the host passes
 * the bias corrections bc1 = 1−β₁ᵗ and bc2 = 1−β₂ᵗ for step t.
 */
export function adam_update(
  p: usize, g: usize, m: usize, v: usize, n: i32,
  lr: f32, beta1: f32, beta2: f32, eps: f32, bc1: f32, bc2: f32,
): void {
  const step = lr / bc1;
  const rc2: f32 = <f32>1 / Mathf.sqrt(bc2);
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const b1 = f32x4.splat(beta1), b1c = f32x4.splat(1 - beta1);
    const b2 = f32x4.splat(beta2), b2c = f32x4.splat(1 - beta2);
    const vs = f32x4.splat(rc2), ve = f32x4.splat(eps), vstep = f32x4.splat(step);
    for (; i + 4 <= n; i += 4) {
      const gi = v128.load(at(g, i));
      const mi = f32x4.add(f32x4.mul(b1, v128.load(at(m, i))), f32x4.mul(b1c, gi));
      const vi = f32x4.add(f32x4.mul(b2, v128.load(at(v, i))), f32x4.mul(b2c, f32x4.mul(gi, gi)));
      v128.store(at(m, i), mi);
      v128.store(at(v, i), vi);
      const den = f32x4.add(f32x4.mul(f32x4.sqrt(vi), vs), ve);
      v128.store(at(p, i), f32x4.sub(v128.load(at(p, i)), f32x4.div(f32x4.mul(vstep, mi), den)));
    }
  }
  for (; i < n; i++) {
    const gi = load<f32>(at(g, i));
    const mi = beta1 * load<f32>(at(m, i)) + (1 - beta1) * gi;
    const vi = beta2 * load<f32>(at(v, i)) + (1 - beta2) * gi * gi;
    store<f32>(at(m, i), mi);
    store<f32>(at(v, i), vi);
    store<f32>(at(p, i), load<f32>(at(p, i)) - step * mi / (Mathf.sqrt(vi) * rc2 + eps));
  }
}
