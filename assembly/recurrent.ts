// Recurrent layers: simple RNN, LSTM and GRU over a whole sequence, forward and backward
// through time. Everything here is time-major, (steps, batch, …): the rows of one step are
// contiguous, so each step's recurrent product is one GEMM over `batch` rows, and the weight
// gradients are one GEMM over all steps·batch rows at the end. The host transposes the
// batch-first (batch, steps, …) tensors users see with seq_transpose.
//
// Weights are kept transposed, as in dense.ts: wih(inp, G·units), whh(units, G·units), gate
// blocks in PyTorch's order along the columns (LSTM i f g o, GRU r z n, RNN one block). Both of
// PyTorch's biases are kept, bih(G·units) and bhh(G·units). h0/c0 give the state before the
// first step, (batch, units), or 0 for zeros.
import { gemm } from './gemm';
import { column_sum } from './dense';
import { sigmoid1, sigmoid4, tanh1, tanh4 } from './gates';

@inline function at(p: usize, i: i32): usize { return p + (<usize>i << 2); }

/** dst(b, a, n) [+]= src(a, b, n): swaps the two leading axes (batch-first ↔ time-major) */
export function seq_transpose(dst: usize, src: usize, a: i32, b: i32, n: i32, accumulate: i32): void {
  const row = <usize>n << 2;
  for (let i = 0; i < a; i++) {
    for (let j = 0; j < b; j++) {
      const s = src + <usize>(i * b + j) * row;
      const d = dst + <usize>(j * a + i) * row;
      if (!accumulate) { memory.copy(d, s, row); continue; }
      let k = 0;
      if (ASC_FEATURE_SIMD) {
        for (; k + 4 <= n; k += 4) v128.store(at(d, k), f32x4.add(v128.load(at(d, k)), v128.load(at(s, k))));
      }
      for (; k < n; k++) store<f32>(at(d, k), load<f32>(at(d, k)) + load<f32>(at(s, k)));
    }
  }
}

// rows(rows, cols) = a(cols) [+ b(cols)]
function fill_rows(rows: usize, a: usize, b: usize, n: i32, cols: i32): void {
  if (n <= 0) return;
  const bytes = <usize>cols << 2;
  memory.copy(rows, a, bytes);
  if (b != 0) for (let j = 0; j < cols; j++) store<f32>(at(rows, j), load<f32>(at(rows, j)) + load<f32>(at(b, j)));
  for (let r = 1; r < n; r++) memory.copy(rows + <usize>r * bytes, rows, bytes);
}

// ---- LSTM -----------------------------------------------------------------------------------

// One step's gates in place: g(batch, 4u) holds i f g o pre-activations and gets activations;
// c = f·cprev + i·g and h = o·tanh(c). cprev may be 0 (a zero state).
@inline function lstm_cell_forward(h: usize, c: usize, g: usize, cprev: usize, batch: i32, u: i32): void {
  const gu = <usize>u << 2;
  for (let r = 0; r < batch; r++) {
    const gr = g + <usize>r * (gu << 2);
    const hr = h + <usize>r * gu;
    const cr = c + <usize>r * gu;
    const pr = cprev != 0 ? cprev + <usize>r * gu : 0;
    let j = 0;
    if (ASC_FEATURE_SIMD) {
      for (; j + 4 <= u; j += 4) {
        const o = <usize>j << 2;
        const i4 = sigmoid4(v128.load(gr + o));
        const f4 = sigmoid4(v128.load(gr + gu + o));
        const g4 = tanh4(v128.load(gr + 2 * gu + o));
        const o4 = sigmoid4(v128.load(gr + 3 * gu + o));
        let c4 = f32x4.mul(i4, g4);
        if (pr != 0) c4 = f32x4.add(c4, f32x4.mul(f4, v128.load(pr + o)));
        v128.store(gr + o, i4);
        v128.store(gr + gu + o, f4);
        v128.store(gr + 2 * gu + o, g4);
        v128.store(gr + 3 * gu + o, o4);
        v128.store(cr + o, c4);
        v128.store(hr + o, f32x4.mul(o4, tanh4(c4)));
      }
    }
    for (; j < u; j++) {
      const o = <usize>j << 2;
      const i1 = sigmoid1(load<f32>(gr + o));
      const f1 = sigmoid1(load<f32>(gr + gu + o));
      const g1 = tanh1(load<f32>(gr + 2 * gu + o));
      const o1 = sigmoid1(load<f32>(gr + 3 * gu + o));
      const c1 = i1 * g1 + (pr != 0 ? f1 * load<f32>(pr + o) : 0);
      store<f32>(gr + o, i1);
      store<f32>(gr + gu + o, f1);
      store<f32>(gr + 2 * gu + o, g1);
      store<f32>(gr + 3 * gu + o, o1);
      store<f32>(cr + o, c1);
      store<f32>(hr + o, o1 * tanh1(c1));
    }
  }
}

// One step back: dh(batch,u) is dL/dh_t in full; dc(batch,u) carries dL/dc_{t} from the later
// step in and dL/dc_{t−1} out; dg(batch,4u) gets the gradient of the gate pre-activations.
@inline function lstm_cell_backward(dg: usize, dc: usize, dh: usize, g: usize, c: usize, cprev: usize, batch: i32, u: i32): void {
  const gu = <usize>u << 2;
  for (let r = 0; r < batch; r++) {
    const gr = g + <usize>r * (gu << 2);
    const dgr = dg + <usize>r * (gu << 2);
    const hr = dh + <usize>r * gu;
    const cr = c + <usize>r * gu;
    const dcr = dc + <usize>r * gu;
    const pr = cprev != 0 ? cprev + <usize>r * gu : 0;
    let j = 0;
    if (ASC_FEATURE_SIMD) {
      const one = f32x4.splat(1);
      for (; j + 4 <= u; j += 4) {
        const o = <usize>j << 2;
        const i4 = v128.load(gr + o);
        const f4 = v128.load(gr + gu + o);
        const g4 = v128.load(gr + 2 * gu + o);
        const o4 = v128.load(gr + 3 * gu + o);
        const tc = tanh4(v128.load(cr + o));
        const dh4 = v128.load(hr + o);
        const dct = f32x4.add(v128.load(dcr + o), f32x4.mul(f32x4.mul(dh4, o4), f32x4.sub(one, f32x4.mul(tc, tc))));
        const cp = pr != 0 ? v128.load(pr + o) : f32x4.splat(0);
        v128.store(dgr + o, f32x4.mul(f32x4.mul(dct, g4), f32x4.mul(i4, f32x4.sub(one, i4))));
        v128.store(dgr + gu + o, f32x4.mul(f32x4.mul(dct, cp), f32x4.mul(f4, f32x4.sub(one, f4))));
        v128.store(dgr + 2 * gu + o, f32x4.mul(f32x4.mul(dct, i4), f32x4.sub(one, f32x4.mul(g4, g4))));
        v128.store(dgr + 3 * gu + o, f32x4.mul(f32x4.mul(dh4, tc), f32x4.mul(o4, f32x4.sub(one, o4))));
        v128.store(dcr + o, f32x4.mul(dct, f4));
      }
    }
    for (; j < u; j++) {
      const o = <usize>j << 2;
      const i1 = load<f32>(gr + o);
      const f1 = load<f32>(gr + gu + o);
      const g1 = load<f32>(gr + 2 * gu + o);
      const o1 = load<f32>(gr + 3 * gu + o);
      const tc = tanh1(load<f32>(cr + o));
      const dh1 = load<f32>(hr + o);
      const dct = load<f32>(dcr + o) + dh1 * o1 * (1 - tc * tc);
      const cp: f32 = pr != 0 ? load<f32>(pr + o) : 0;
      store<f32>(dgr + o, dct * g1 * i1 * (1 - i1));
      store<f32>(dgr + gu + o, dct * cp * f1 * (1 - f1));
      store<f32>(dgr + 2 * gu + o, dct * i1 * (1 - g1 * g1));
      store<f32>(dgr + 3 * gu + o, dh1 * tc * o1 * (1 - o1));
      store<f32>(dcr + o, dct * f1);
    }
  }
}

/**
 * LSTM over `steps` steps. h, c(steps·batch, units) every step's state; gates(steps·batch,
 * 4·units) the activated i f g o, saved for backward; x(steps·batch, inp).
 */
export function lstm_forward(
  h: usize, c: usize, gates: usize,
  x: usize, wih: usize, whh: usize, bih: usize, bhh: usize, h0: usize, c0: usize,
  batch: i32, steps: i32, inp: i32, units: i32, scratch: usize,
): void {
  const G = 4 * units;
  fill_rows(gates, bih, bhh, steps * batch, G);
  gemm(gates, x, wih, steps * batch, G, inp, inp, 1, G, 1, G, 1, scratch);
  const stepG = <usize>(batch * G) << 2;
  const stepU = <usize>(batch * units) << 2;
  for (let t = 0; t < steps; t++) {
    const g = gates + <usize>t * stepG;
    const hprev = t > 0 ? h + <usize>(t - 1) * stepU : h0;
    const cprev = t > 0 ? c + <usize>(t - 1) * stepU : c0;
    if (hprev != 0) gemm(g, hprev, whh, batch, G, units, units, 1, G, 1, G, 1, scratch);
    lstm_cell_forward(h + <usize>t * stepU, c + <usize>t * stepU, g, cprev, batch, units);
  }
}

/**
 * Back through time. dh(steps·batch, units) holds dL/dh_t from above and gets the recurrent
 * part added in place; dgates(steps·batch, 4·units) receives the gate gradients; dc(batch,
 * units) is scratch. Accumulates dwih, dwhh, dbih, dbhh and, when dx != 0, dx(steps·batch, inp).
 */
export function lstm_backward(
  dx: usize, dwih: usize, dwhh: usize, dbih: usize, dbhh: usize, dgates: usize, dh: usize, dc: usize,
  x: usize, h: usize, c: usize, gates: usize, wih: usize, whh: usize, h0: usize, c0: usize,
  batch: i32, steps: i32, inp: i32, units: i32, scratch: usize,
): void {
  if (batch <= 0 || steps <= 0) return;
  const G = 4 * units;
  const stepG = <usize>(batch * G) << 2;
  const stepU = <usize>(batch * units) << 2;
  memory.fill(dc, 0, stepU);
  for (let t = steps - 1; t >= 0; t--) {
    const dg = dgates + <usize>t * stepG;
    const cprev = t > 0 ? c + <usize>(t - 1) * stepU : c0;
    lstm_cell_backward(dg, dc, dh + <usize>t * stepU, gates + <usize>t * stepG, c + <usize>t * stepU, cprev, batch, units);
    // dh_{t−1} += dg·whhᵀ
    if (t > 0) gemm(dh + <usize>(t - 1) * stepU, dg, whh, batch, units, G, G, 1, 1, G, units, 1, scratch);
  }
  weight_gradients(dx, dwih, dwhh, dbih, dbhh, dgates, dgates, x, h, h0, wih, batch, steps, inp, units, G, scratch);
}

// The end of every backward: one GEMM over all steps·batch rows for each weight gradient.
// dxg is the gradient reaching x·wih + bih, dhg the one reaching h·whh + bhh (the same for
// LSTM and RNN; they differ in GRU's candidate gate).
@inline function weight_gradients(
  dx: usize, dwih: usize, dwhh: usize, dbih: usize, dbhh: usize, dxg: usize, dhg: usize,
  x: usize, h: usize, h0: usize, wih: usize,
  batch: i32, steps: i32, inp: i32, units: i32, G: i32, scratch: usize,
): void {
  const rows = steps * batch;
  gemm(dwih, x, dxg, inp, G, rows, 1, inp, G, 1, G, 1, scratch);
  // step t's recurrent input is h_{t−1}: rows [0, (steps−1)·batch) of h against rows from batch on
  gemm(dwhh, h, dhg + (<usize>(batch * G) << 2), units, G, rows - batch, 1, units, G, 1, G, 1, scratch);
  if (h0 != 0) gemm(dwhh, h0, dhg, units, G, batch, 1, units, G, 1, G, 1, scratch);
  column_sum(dbih, dxg, rows, G);
  column_sum(dbhh, dhg, rows, G);
  if (dx != 0) gemm(dx, dxg, wih, rows, inp, G, G, 1, 1, G, inp, 1, scratch);
}

// ---- GRU ------------------------------------------------------------------------------------

// One step, PyTorch's formulation: r = σ(xr + hr), z = σ(xz + hz), n = tanh(xn + r·hn),
// h = (1 − z)·n + z·hprev, where xg(batch,3u) = x·wih + bih and hg(batch,3u) = hprev·whh + bhh.
// xg gets r z n in place; hg is kept (backward needs hn).
@inline function gru_cell_forward(h: usize, xg: usize, hg: usize, hprev: usize, batch: i32, u: i32): void {
  const gu = <usize>u << 2;
  for (let r = 0; r < batch; r++) {
    const xr = xg + <usize>r * gu * 3;
    const hr = hg + <usize>r * gu * 3;
    const out = h + <usize>r * gu;
    const pr = hprev != 0 ? hprev + <usize>r * gu : 0;
    let j = 0;
    if (ASC_FEATURE_SIMD) {
      const one = f32x4.splat(1);
      for (; j + 4 <= u; j += 4) {
        const o = <usize>j << 2;
        const r4 = sigmoid4(f32x4.add(v128.load(xr + o), v128.load(hr + o)));
        const z4 = sigmoid4(f32x4.add(v128.load(xr + gu + o), v128.load(hr + gu + o)));
        const n4 = tanh4(f32x4.add(v128.load(xr + 2 * gu + o), f32x4.mul(r4, v128.load(hr + 2 * gu + o))));
        const hp = pr != 0 ? v128.load(pr + o) : f32x4.splat(0);
        v128.store(xr + o, r4);
        v128.store(xr + gu + o, z4);
        v128.store(xr + 2 * gu + o, n4);
        v128.store(out + o, f32x4.add(f32x4.mul(f32x4.sub(one, z4), n4), f32x4.mul(z4, hp)));
      }
    }
    for (; j < u; j++) {
      const o = <usize>j << 2;
      const r1 = sigmoid1(load<f32>(xr + o) + load<f32>(hr + o));
      const z1 = sigmoid1(load<f32>(xr + gu + o) + load<f32>(hr + gu + o));
      const n1 = tanh1(load<f32>(xr + 2 * gu + o) + r1 * load<f32>(hr + 2 * gu + o));
      const hp: f32 = pr != 0 ? load<f32>(pr + o) : 0;
      store<f32>(xr + o, r1);
      store<f32>(xr + gu + o, z1);
      store<f32>(xr + 2 * gu + o, n1);
      store<f32>(out + o, (1 - z1) * n1 + z1 * hp);
    }
  }
}

// One step back. dxg gets the gradient of x·wih + bih, dhg that of hprev·whh + bhh; the direct
// path dh·z is added to dhprev (0 at the first step).
@inline function gru_cell_backward(dxg: usize, dhg: usize, dhprev: usize, dh: usize, xg: usize, hg: usize, hprev: usize, batch: i32, u: i32): void {
  const gu = <usize>u << 2;
  for (let r = 0; r < batch; r++) {
    const g3 = <usize>r * gu * 3;
    const xr = xg + g3;
    const hr = hg + g3;
    const dxr = dxg + g3;
    const dhr = dhg + g3;
    const d = dh + <usize>r * gu;
    const pr = hprev != 0 ? hprev + <usize>r * gu : 0;
    const dp = dhprev != 0 ? dhprev + <usize>r * gu : 0;
    let j = 0;
    if (ASC_FEATURE_SIMD) {
      const one = f32x4.splat(1);
      for (; j + 4 <= u; j += 4) {
        const o = <usize>j << 2;
        const r4 = v128.load(xr + o);
        const z4 = v128.load(xr + gu + o);
        const n4 = v128.load(xr + 2 * gu + o);
        const hn = v128.load(hr + 2 * gu + o);
        const dh4 = v128.load(d + o);
        const hp = pr != 0 ? v128.load(pr + o) : f32x4.splat(0);
        const dn = f32x4.mul(f32x4.mul(dh4, f32x4.sub(one, z4)), f32x4.sub(one, f32x4.mul(n4, n4)));
        const dz = f32x4.mul(f32x4.mul(dh4, f32x4.sub(hp, n4)), f32x4.mul(z4, f32x4.sub(one, z4)));
        const dr = f32x4.mul(f32x4.mul(dn, hn), f32x4.mul(r4, f32x4.sub(one, r4)));
        v128.store(dxr + o, dr);
        v128.store(dxr + gu + o, dz);
        v128.store(dxr + 2 * gu + o, dn);
        v128.store(dhr + o, dr);
        v128.store(dhr + gu + o, dz);
        v128.store(dhr + 2 * gu + o, f32x4.mul(dn, r4));
        if (dp != 0) v128.store(dp + o, f32x4.add(v128.load(dp + o), f32x4.mul(dh4, z4)));
      }
    }
    for (; j < u; j++) {
      const o = <usize>j << 2;
      const r1 = load<f32>(xr + o);
      const z1 = load<f32>(xr + gu + o);
      const n1 = load<f32>(xr + 2 * gu + o);
      const hn = load<f32>(hr + 2 * gu + o);
      const dh1 = load<f32>(d + o);
      const hp: f32 = pr != 0 ? load<f32>(pr + o) : 0;
      const dn = dh1 * (1 - z1) * (1 - n1 * n1);
      const dz = dh1 * (hp - n1) * z1 * (1 - z1);
      const dr = dn * hn * r1 * (1 - r1);
      store<f32>(dxr + o, dr);
      store<f32>(dxr + gu + o, dz);
      store<f32>(dxr + 2 * gu + o, dn);
      store<f32>(dhr + o, dr);
      store<f32>(dhr + gu + o, dz);
      store<f32>(dhr + 2 * gu + o, dn * r1);
      if (dp != 0) store<f32>(dp + o, load<f32>(dp + o) + dh1 * z1);
    }
  }
}

/**
 * GRU over `steps` steps. h(steps·batch, units); gates(steps·batch, 3·units) the activated
 * r z n and hgates(steps·batch, 3·units) = hprev·whh + bhh, both saved for backward.
 */
export function gru_forward(
  h: usize, gates: usize, hgates: usize,
  x: usize, wih: usize, whh: usize, bih: usize, bhh: usize, h0: usize,
  batch: i32, steps: i32, inp: i32, units: i32, scratch: usize,
): void {
  const G = 3 * units;
  fill_rows(gates, bih, 0, steps * batch, G);
  gemm(gates, x, wih, steps * batch, G, inp, inp, 1, G, 1, G, 1, scratch);
  fill_rows(hgates, bhh, 0, steps * batch, G);
  const stepG = <usize>(batch * G) << 2;
  const stepU = <usize>(batch * units) << 2;
  for (let t = 0; t < steps; t++) {
    const hg = hgates + <usize>t * stepG;
    const hprev = t > 0 ? h + <usize>(t - 1) * stepU : h0;
    if (hprev != 0) gemm(hg, hprev, whh, batch, G, units, units, 1, G, 1, G, 1, scratch);
    gru_cell_forward(h + <usize>t * stepU, gates + <usize>t * stepG, hg, hprev, batch, units);
  }
}

/**
 * Back through time; dh as in lstm_backward. dgates and dhgates(steps·batch, 3·units) receive
 * the gradients of the input and recurrent projections.
 */
export function gru_backward(
  dx: usize, dwih: usize, dwhh: usize, dbih: usize, dbhh: usize, dgates: usize, dhgates: usize, dh: usize,
  x: usize, h: usize, gates: usize, hgates: usize, wih: usize, whh: usize, h0: usize,
  batch: i32, steps: i32, inp: i32, units: i32, scratch: usize,
): void {
  if (batch <= 0 || steps <= 0) return;
  const G = 3 * units;
  const stepG = <usize>(batch * G) << 2;
  const stepU = <usize>(batch * units) << 2;
  for (let t = steps - 1; t >= 0; t--) {
    const dhg = dhgates + <usize>t * stepG;
    const hprev = t > 0 ? h + <usize>(t - 1) * stepU : h0;
    const dhprev = t > 0 ? dh + <usize>(t - 1) * stepU : 0;
    gru_cell_backward(dgates + <usize>t * stepG, dhg, dhprev, dh + <usize>t * stepU,
      gates + <usize>t * stepG, hgates + <usize>t * stepG, hprev, batch, units);
    if (t > 0) gemm(dhprev, dhg, whh, batch, units, G, G, 1, 1, G, units, 1, scratch);
  }
  weight_gradients(dx, dwih, dwhh, dbih, dbhh, dgates, dhgates, x, h, h0, wih, batch, steps, inp, units, G, scratch);
}

// ---- simple RNN -----------------------------------------------------------------------------

/** Activation codes of the simple RNN: h = f(x·wih + bih + hprev·whh + bhh). */
export const RNN_TANH: i32 = 0;
export const RNN_SIGMOID: i32 = 1;
export const RNN_RELU: i32 = 2;

// In place over one step's rows: p(n) = f(p)
@inline function rnn_activate(p: usize, n: i32, act: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 4 <= n; i += 4) {
      const v = v128.load(at(p, i));
      v128.store(at(p, i), act == RNN_TANH ? tanh4(v) : act == RNN_SIGMOID ? sigmoid4(v) : f32x4.max(v, f32x4.splat(0)));
    }
  }
  for (; i < n; i++) {
    const v = load<f32>(at(p, i));
    store<f32>(at(p, i), act == RNN_TANH ? tanh1(v) : act == RNN_SIGMOID ? sigmoid1(v) : max<f32>(v, 0));
  }
}

/** Simple (Elman) RNN over `steps` steps: h(steps·batch, units), activated in place. */
export function rnn_forward(
  h: usize,
  x: usize, wih: usize, whh: usize, bih: usize, bhh: usize, h0: usize,
  batch: i32, steps: i32, inp: i32, units: i32, act: i32, scratch: usize,
): void {
  fill_rows(h, bih, bhh, steps * batch, units);
  gemm(h, x, wih, steps * batch, units, inp, inp, 1, units, 1, units, 1, scratch);
  const stepU = <usize>(batch * units) << 2;
  for (let t = 0; t < steps; t++) {
    const ht = h + <usize>t * stepU;
    const hprev = t > 0 ? ht - stepU : h0;
    if (hprev != 0) gemm(ht, hprev, whh, batch, units, units, units, 1, units, 1, units, 1, scratch);
    rnn_activate(ht, batch * units, act);
  }
}

/**
 * Back through time; dh as in lstm_backward. dpre(steps·batch, units) receives the gradient
 * of the pre-activations.
 */
export function rnn_backward(
  dx: usize, dwih: usize, dwhh: usize, dbih: usize, dbhh: usize, dpre: usize, dh: usize,
  x: usize, h: usize, wih: usize, whh: usize, h0: usize,
  batch: i32, steps: i32, inp: i32, units: i32, act: i32, scratch: usize,
): void {
  if (batch <= 0 || steps <= 0) return;
  const n = batch * units;
  const stepU = <usize>n << 2;
  for (let t = steps - 1; t >= 0; t--) {
    const o = <usize>t * stepU;
    for (let i = 0; i < n; i++) {
      const y = load<f32>(at(h + o, i));
      const d = load<f32>(at(dh + o, i));
      const slope: f32 = act == RNN_TANH ? 1 - y * y : act == RNN_SIGMOID ? y * (1 - y) : (y > 0 ? 1 : 0);
      store<f32>(at(dpre + o, i), d * slope);
    }
    if (t > 0) gemm(dh + o - stepU, dpre + o, whh, batch, units, units, units, 1, 1, units, units, 1, scratch);
  }
  weight_gradients(dx, dwih, dwhh, dbih, dbhh, dpre, dpre, x, h, h0, wih, batch, steps, inp, units, units, scratch);
}

// ---- embedding ------------------------------------------------------------------------------

/** y(rows, dim) = weight[ids[r]]; ids(rows) are integral f32 in range (the host checks) */
export function embedding_forward(y: usize, ids: usize, weight: usize, rows: i32, dim: i32): void {
  const bytes = <usize>dim << 2;
  for (let r = 0; r < rows; r++) {
    memory.copy(y + <usize>r * bytes, weight + <usize>(<i32>load<f32>(at(ids, r))) * bytes, bytes);
  }
}
/** dweight[ids[r]] += dy(r): rows that share an id add up */
export function embedding_backward(dweight: usize, dy: usize, ids: usize, rows: i32, dim: i32): void {
  const bytes = <usize>dim << 2;
  for (let r = 0; r < rows; r++) {
    const d = dweight + <usize>(<i32>load<f32>(at(ids, r))) * bytes;
    const s = dy + <usize>r * bytes;
    for (let j = 0; j < dim; j++) store<f32>(at(d, j), load<f32>(at(d, j)) + load<f32>(at(s, j)));
  }
}
