// 2-D convolution by indirect GEMM (XNNPACK's idea, kept channels-first outside): no im2col.
// Layouts as in conv.ts: x (batch, C, H, W), weight (out, C, KH, KW) = a row-major (out, K)
// matrix with K = C·KH·KW, y (batch, out, OH, OW).
//
// Each sample is first copied into a zero-padded plane stack xpad (C, HP, WP), so every tap of
// every window is in bounds. Two small tables then replace the im2col matrix:
//   koff(K)  byte offset of tap k = (ci, ki, kj) from a window's origin: (ci·HP + ki·dh)·WP + kj·dw
//   pixoff(P) byte offset of output pixel p = (oy, ox)'s window origin: oy·sh·WP + ox·sw
// so im2col's col(k, p) is xpad[pixoff[p] + koff[k]], read on the fly by the micro-kernel.
// The forward taps are ordered kernel row first, (ki, ci, kj): for an output row near the top or
// bottom edge the kernel rows that land in the vertical padding are then a contiguous run at
// one end, and a per-tile span table skips them (8.6% of a 5×5 'same' conv's work at 14×14).
// The register tile is 4 output pixels × 8 filters: the lanes run over filters (the weights are
// packed once per call as panels [k][8], zero-padded past `out`), the four pixels are four splat
// loads through the tables. Bias and ReLU are applied to the accumulators before the single
// store (an epilogue), and a 4×4 transpose turns pixel rows into the (out, OH·OW) planes.
//
// Backward reuses the same machinery:
//   dweight(out, K) += Σ_p dyT(p, out)ᵀ · col(k, p) is the same tile with the two tables
//   swapped: 4 taps × 8 filters, the inner loop over a sample's pixels (dy transposed to
//   panels [p][8] once per sample), accumulated into dweight's rows;
//   dx: at stride 1 the input gradient is itself a convolution, of dy zero-padded by
//   (K'−1−pad) with the weights flipped and transposed ((C, out, KH, KW)), accumulated into dx
//   by the forward tile — no col2im scatter. Layers with a stride > 1 use the im2col kernels.
// Workspace: O(one sample) — see conv2d_indirect_workspace — whatever the batch.
import { fma4, hsum4 } from './simd';

@inline function at(p: usize, i: i32): usize { return p + (<usize>i << 2); }
@inline function up4(n: i32): i32 { return (n + 3) & ~3; }
@inline function up8(n: i32): i32 { return (n + 7) & ~7; }

// ---- workspace plan ------------------------------------------------------------------------

// Forward sizes (floats; every region a multiple of 4 floats so each stays 16-byte aligned).
@inline function fwd_floats(c: i32, out: i32, kh: i32, kw: i32, sh: i32, sw: i32, dh: i32, dw: i32, oh: i32, ow: i32): i32 {
  const k = c * kh * kw;
  const hp = (oh - 1) * sh + (kh - 1) * dh + 1;
  const wp = (ow - 1) * sw + (kw - 1) * dw + 1;
  return up4(k) + up4(oh * ow) + up4(2 * oh * ow) + up4(2 * oh) + k * up8(out) + up8(out) + up4(c * hp * wp) + 32;
}

/**
 * Floats of workspace conv2d_indirect_forward and conv2d_indirect_backward need (the larger of
 * the two): tables, packed weights and one padded sample; independent of the batch.
 */
export function conv2d_indirect_workspace(
  c: i32, h: i32, w: i32, out: i32, kh: i32, kw: i32,
  sh: i32, sw: i32, pt: i32, pl: i32, dh: i32, dw: i32, oh: i32, ow: i32,
): i32 {
  const fwd = fwd_floats(c, out, kh, kw, sh, sw, dh, dw, oh, ow);
  // backward: dweight needs the forward tables, xpad and dy in panels; dx is a stride-1 forward
  // pass from dy (out channels, an h×w output) to C filters
  const dwt = up4(c * kh * kw) + up4(oh * ow) + up4(c * ((oh - 1) * sh + (kh - 1) * dh + 1) * ((ow - 1) * sw + (kw - 1) * dw + 1))
    + up4(2 * c * kh * kw) + up8(out) * oh * ow + up4(out * oh * ow) + up8(out) + 32
    + up4(c * ((oh - 1) * sh + (kh - 1) * dh + 1) * ((ow - 1) * sw + (kw - 1) * dw + 1)) + 2 * up4(c * kh * kw) + up4(oh * ow + 1) // the sparse path's
    + up4(oh * ow) + up4(oh * ow + 1) + up4(2 * c * kh * kw); // the compacted pixels' tables
  const dxf = fwd_floats(out, c, kh, kw, 1, 1, dh, dw, h, w);
  return max(fwd, dwt + dxf);
}

// ---- building blocks ---------------------------------------------------------------------

// dst(planes, dh_, dw_) = src(planes, sh_, sw_) shifted down by top and right by left, zero
// elsewhere; rows of src outside dst are dropped (a negative top/left crops).
// Rows here are a few floats to a few dozen: plain stores beat memory.fill's call.
@inline function zero_floats(d: usize, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 4 <= n; i += 4) v128.store(at(d, i), f32x4.splat(0));
  }
  for (; i < n; i++) store<f32>(at(d, i), 0);
}

function pad_planes(dst: usize, src: usize, planes: i32, sh_: i32, sw_: i32, dh_: i32, dw_: i32, top: i32, left: i32): void {
  const c0 = max(0, left), c1 = min(dw_, sw_ + left); // dst columns that come from src
  for (let p = 0; p < planes; p++) {
    const sp = at(src, p * sh_ * sw_);
    const dp = at(dst, p * dh_ * dw_);
    for (let r = 0; r < dh_; r++) {
      const row = at(dp, r * dw_);
      const sr = r - top;
      if (sr < 0 || sr >= sh_ || c1 <= c0) { zero_floats(row, dw_); continue; }
      zero_floats(row, c0);
      const s = at(sp, sr * sw_ + c0 - left);
      const d = at(row, c0);
      const n = c1 - c0;
      let i = 0;
      if (ASC_FEATURE_SIMD) {
        for (; i + 4 <= n; i += 4) v128.store(at(d, i), v128.load(at(s, i)));
      }
      for (; i < n; i++) store<f32>(at(d, i), load<f32>(at(s, i)));
      zero_floats(at(row, c1), dw_ - c1);
    }
  }
}

// koff(K) i32: byte offsets of the taps, ki and kj optionally flipped, in the order (ci, ki, kj)
// or, rowmajor, (ki, ci, kj): kernel row outermost, so the taps of the kernel rows that fall in
// the vertical padding of an output row are one contiguous run at either end, and are skipped.
function tap_table(koff: usize, c: i32, kh: i32, kw: i32, hp: i32, wp: i32, dh: i32, dw: i32, flip: bool, rowmajor: bool): void {
  for (let ci = 0; ci < c; ci++) {
    for (let ki = 0; ki < kh; ki++) {
      for (let kj = 0; kj < kw; kj++) {
        const a = flip ? kh - 1 - ki : ki, b = flip ? kw - 1 - kj : kj;
        const k = rowmajor ? (ki * c + ci) * kw + kj : (ci * kh + ki) * kw + kj;
        store<i32>(at(koff, k), ((ci * hp + a * dh) * wp + b * dw) << 2);
      }
    }
  }
}

// span(⌈OH·OW/4⌉, 2) i32: per tile of 4 output pixels, the [lo, hi) run of row-major taps
// (per_row taps per kernel row) that can read data: the others multiply zeros of the vertical
// padding. A row's run is [number of kernel rows above the data, KH − number below) (ends
// swapped when flipped), so both ends move one way as the output row goes down, and a tile's
// union is spanned by its first and last rows. rowspan: (OH, 2) i32 scratch.
function tap_spans(span: usize, rowspan: usize, oh: i32, ow: i32, sh: i32, kh: i32, dh: i32, top: i32, rows: i32, per_row: i32, flip: bool): void {
  for (let oy = 0; oy < oh; oy++) {
    let above = 0, below = 0;
    for (let ki = 0; ki < kh; ki++) {
      const r = oy * sh + ki * dh;
      if (r < top) above++;
      else if (r >= top + rows) below++;
    }
    store<i32>(at(rowspan, 2 * oy), flip ? below : above);
    store<i32>(at(rowspan, 2 * oy + 1), kh - (flip ? above : below));
  }
  const n = oh * ow;
  let r0 = 0, r3 = 0, e0 = ow, e3 = ow; // rows of a tile's first and last pixel, their ends
  for (let t = 0; 4 * t < n; t++) {
    const p0 = 4 * t, p3 = min(4 * t + 3, n - 1);
    while (p0 >= e0) { r0++; e0 += ow; }
    while (p3 >= e3) { r3++; e3 += ow; }
    const lo = min(load<i32>(at(rowspan, 2 * r0)), load<i32>(at(rowspan, 2 * r3)));
    const hi = max(load<i32>(at(rowspan, 2 * r0 + 1)), load<i32>(at(rowspan, 2 * r3 + 1)));
    store<i32>(at(span, 2 * t), lo * per_row);
    store<i32>(at(span, 2 * t + 1), hi * per_row);
  }
}

// span(K, 2) i32: per tap (ci, ki, kj), the [lo, hi) run of output pixels (row-major) whose
// window puts that tap on data rows: the weight gradient's inner loop skips the others.
function pixel_spans(span: usize, c: i32, kh: i32, kw: i32, oh: i32, ow: i32, sh: i32, dh: i32, top: i32, rows: i32): void {
  for (let ki = 0; ki < kh; ki++) {
    let lo = oh, hi = 0;
    for (let oy = 0; oy < oh; oy++) {
      const r = oy * sh + ki * dh;
      if (r >= top && r < top + rows) { lo = min(lo, oy); hi = oy + 1; }
    }
    if (lo >= hi) { lo = 0; hi = 0; }
    for (let ci = 0; ci < c; ci++) {
      for (let kj = 0; kj < kw; kj++) {
        const k = (ci * kh + ki) * kw + kj;
        store<i32>(at(span, 2 * k), lo * ow);
        store<i32>(at(span, 2 * k + 1), hi * ow);
      }
    }
  }
}

// pixoff(OH·OW) i32: byte offsets of each output pixel's window origin.
function pixel_table(pixoff: usize, oh: i32, ow: i32, sh: i32, sw: i32, wp: i32): void {
  for (let oy = 0; oy < oh; oy++) {
    for (let ox = 0; ox < ow; ox++) store<i32>(at(pixoff, oy * ow + ox), (oy * sh * wp + ox * sw) << 2);
  }
}

// wpack(NF8/8 panels, K, 8): panel j, row k = the weight of filters 8j..8j+7 at row-major tap
// k = (ki, m, kj), zero past nf, read from weight + 4·(f·f_s + m·m_s + ki·KW + kj): the forward
// pass has m = input channel (f_s = K, m_s = KH·KW), the input gradient m = output channel
// (f_s = KH·KW, m_s = K), a transposed view with no copy. Runs on every call (the weights
// change between steps): each kernel row's KW taps are read in sequence.
function pack_filters(wpack: usize, weight: usize, nf: i32, f_s: i32, m: i32, m_s: i32, kh: i32, kw: i32): void {
  const k = m * kh * kw;
  for (let j = 0; j < nf; j += 8) {
    const panel = wpack + (<usize>(j * k) << 2); // (K, 8)
    for (let f = 0; f < 8; f++) {
      let d = panel + (<usize>f << 2);
      if (j + f >= nf) {
        for (let t = 0; t < k; t++, d += 32) store<f32>(d, 0);
        continue;
      }
      const wf = at(weight, (j + f) * f_s);
      for (let ki = 0; ki < kh; ki++) {
        for (let mi = 0; mi < m; mi++) {
          const src = at(wf, mi * m_s + ki * kw);
          for (let kj = 0; kj < kw; kj++, d += 32) store<f32>(d, load<f32>(at(src, kj)));
        }
      }
    }
  }
}

// span(n, 2) per entry → span(⌈n/4⌉, 2) per tile of 4 entries (the last one short): the union
// of the runs, in place (tile t writes ints 2t, 2t+1 after reading ints 8t..8t+7).
function merge_spans(span: usize, n: i32): void {
  for (let t = 0; 4 * t < n; t++) {
    let lo = load<i32>(at(span, 8 * t)), hi = load<i32>(at(span, 8 * t + 1));
    for (let e = 4 * t + 1; e < min(4 * t + 4, n); e++) {
      const a = load<i32>(at(span, 2 * e)), b = load<i32>(at(span, 2 * e + 1));
      if (a < b) {
        if (lo >= hi) { lo = a; hi = b; } else { lo = min(lo, a); hi = max(hi, b); }
      }
    }
    store<i32>(at(span, 2 * t), lo);
    store<i32>(at(span, 2 * t + 1), hi);
  }
}

// ---- the forward tile --------------------------------------------------------------------

/**
 * y(nf, P) [+]= the convolution of one padded sample, optionally + bias and ReLU.
 * xpad: the padded sample; koff(K), pixoff(P) its tables; span(⌈P/4⌉, 2) each 4-pixel tile's
 * [lo, hi) run of taps that can read data (the rest read padding zeros and are skipped); wpack(panels, K, 8)
 * the filters; bpack(NF8) the bias (zeros for none); stage: 32 floats for the edge tiles.
 */
function indirect_sample(
  y: usize, xpad: usize, koff: usize, k: i32, pixoff: usize, span: usize, np: i32,
  wpack: usize, bpack: usize, nf: i32, relu: bool, acc: bool, stage: usize,
): void {
  for (let j = 0; j < nf; j += 8) {
    const pwj = wpack + (<usize>(j * k) << 2); // (K, 8)
    const fn = min(8, nf - j);
    const yj = at(y, j * np);
    for (let p = 0; p < np; p += 4) {
      const pn = min(4, np - p);
      // the tail tile repeats the last pixel: its results are computed and not stored
      const p1 = min(p + 1, np - 1), p2 = min(p + 2, np - 1), p3 = min(p + 3, np - 1);
      const x0 = xpad + <usize>load<i32>(at(pixoff, p));
      const x1 = xpad + <usize>load<i32>(at(pixoff, p1));
      const x2 = xpad + <usize>load<i32>(at(pixoff, p2));
      const x3 = xpad + <usize>load<i32>(at(pixoff, p3));
      // the taps any of the four pixels needs (tile_spans merged them)
      const lo = load<i32>(at(span, p >> 1)), hi = load<i32>(at(span, (p >> 1) + 1));
      const k0 = koff + (<usize>lo << 2), kb = <usize>max(0, hi - lo) << 2;
      const pw = pwj + (<usize>lo << 5);
      if (ASC_FEATURE_SIMD) {
        let c00 = v128.load(at(bpack, j)), c01 = v128.load(at(bpack, j + 4));
        let c10 = c00, c11 = c01, c20 = c00, c21 = c01, c30 = c00, c31 = c01;
        let pb = pw;
        if (x3 == x0 + 12 && x2 == x0 + 8 && x1 == x0 + 4) {
          // four adjacent pixels of one row (stride 1): one address, the others immediate offsets
          for (let t: usize = 0; t < kb; t += 4) {
            const xa = x0 + <usize>load<i32>(k0 + t);
            const b0 = v128.load(pb);
            const b1 = v128.load(pb, 16);
            const a0 = v128.load32_splat(xa);
            const a1 = v128.load32_splat(xa, 4);
            const a2 = v128.load32_splat(xa, 8);
            const a3 = v128.load32_splat(xa, 12);
            c00 = fma4(a0, b0, c00); c01 = fma4(a0, b1, c01);
            c10 = fma4(a1, b0, c10); c11 = fma4(a1, b1, c11);
            c20 = fma4(a2, b0, c20); c21 = fma4(a2, b1, c21);
            c30 = fma4(a3, b0, c30); c31 = fma4(a3, b1, c31);
            pb += 32;
          }
        } else {
          for (let t: usize = 0; t < kb; t += 4) {
            const o = <usize>load<i32>(k0 + t);
            const b0 = v128.load(pb);
            const b1 = v128.load(pb, 16);
            const a0 = v128.load32_splat(x0 + o);
            const a1 = v128.load32_splat(x1 + o);
            const a2 = v128.load32_splat(x2 + o);
            const a3 = v128.load32_splat(x3 + o);
            c00 = fma4(a0, b0, c00); c01 = fma4(a0, b1, c01);
            c10 = fma4(a1, b0, c10); c11 = fma4(a1, b1, c11);
            c20 = fma4(a2, b0, c20); c21 = fma4(a2, b1, c21);
            c30 = fma4(a3, b0, c30); c31 = fma4(a3, b1, c31);
            pb += 32;
          }
        }
        if (relu) {
          // relu_forward's rule (v > 0 ? v : 0): a NaN becomes 0 there, and here
          const z = f32x4.splat(0);
          c00 = v128.and(c00, f32x4.gt(c00, z)); c01 = v128.and(c01, f32x4.gt(c01, z));
          c10 = v128.and(c10, f32x4.gt(c10, z)); c11 = v128.and(c11, f32x4.gt(c11, z));
          c20 = v128.and(c20, f32x4.gt(c20, z)); c21 = v128.and(c21, f32x4.gt(c21, z));
          c30 = v128.and(c30, f32x4.gt(c30, z)); c31 = v128.and(c31, f32x4.gt(c31, z));
        }
        // rows are pixels, lanes filters: transpose each 4×4 half into one vector per filter
        let t0 = v128.shuffle<f32>(c00, c10, 0, 4, 1, 5), t1 = v128.shuffle<f32>(c00, c10, 2, 6, 3, 7);
        let t2 = v128.shuffle<f32>(c20, c30, 0, 4, 1, 5), t3 = v128.shuffle<f32>(c20, c30, 2, 6, 3, 7);
        const f0 = v128.shuffle<f32>(t0, t2, 0, 1, 4, 5), f1 = v128.shuffle<f32>(t0, t2, 2, 3, 6, 7);
        const f2 = v128.shuffle<f32>(t1, t3, 0, 1, 4, 5), f3 = v128.shuffle<f32>(t1, t3, 2, 3, 6, 7);
        t0 = v128.shuffle<f32>(c01, c11, 0, 4, 1, 5); t1 = v128.shuffle<f32>(c01, c11, 2, 6, 3, 7);
        t2 = v128.shuffle<f32>(c21, c31, 0, 4, 1, 5); t3 = v128.shuffle<f32>(c21, c31, 2, 6, 3, 7);
        const f4 = v128.shuffle<f32>(t0, t2, 0, 1, 4, 5), f5 = v128.shuffle<f32>(t0, t2, 2, 3, 6, 7);
        const f6 = v128.shuffle<f32>(t1, t3, 0, 1, 4, 5), f7 = v128.shuffle<f32>(t1, t3, 2, 3, 6, 7);
        if (pn == 4 && fn == 8) {
          const d = at(yj, p);
          const ld = <usize>np << 2;
          v128.store(d, acc ? f32x4.add(f0, v128.load(d)) : f0);
          v128.store(d + ld, acc ? f32x4.add(f1, v128.load(d + ld)) : f1);
          v128.store(d + ld * 2, acc ? f32x4.add(f2, v128.load(d + ld * 2)) : f2);
          v128.store(d + ld * 3, acc ? f32x4.add(f3, v128.load(d + ld * 3)) : f3);
          v128.store(d + ld * 4, acc ? f32x4.add(f4, v128.load(d + ld * 4)) : f4);
          v128.store(d + ld * 5, acc ? f32x4.add(f5, v128.load(d + ld * 5)) : f5);
          v128.store(d + ld * 6, acc ? f32x4.add(f6, v128.load(d + ld * 6)) : f6);
          v128.store(d + ld * 7, acc ? f32x4.add(f7, v128.load(d + ld * 7)) : f7);
          continue;
        }
        // an edge tile: stage (8 filters, 4 pixels) and copy what is valid
        v128.store(stage, f0); v128.store(stage, f1, 16); v128.store(stage, f2, 32); v128.store(stage, f3, 48);
        v128.store(stage, f4, 64); v128.store(stage, f5, 80); v128.store(stage, f6, 96); v128.store(stage, f7, 112);
      } else {
        // scalar: one pixel at a time, eight filter accumulators in registers
        for (let r = 0; r < pn; r++) {
          const xr = r == 0 ? x0 : r == 1 ? x1 : r == 2 ? x2 : x3;
          let s0 = load<f32>(at(bpack, j)), s1 = load<f32>(at(bpack, j + 1)), s2 = load<f32>(at(bpack, j + 2)), s3 = load<f32>(at(bpack, j + 3));
          let s4 = load<f32>(at(bpack, j + 4)), s5 = load<f32>(at(bpack, j + 5)), s6 = load<f32>(at(bpack, j + 6)), s7 = load<f32>(at(bpack, j + 7));
          let pb = pw;
          for (let t: usize = 0; t < kb; t += 4) {
            const v = load<f32>(xr + <usize>load<i32>(k0 + t));
            s0 += v * load<f32>(pb); s1 += v * load<f32>(pb, 4); s2 += v * load<f32>(pb, 8); s3 += v * load<f32>(pb, 12);
            s4 += v * load<f32>(pb, 16); s5 += v * load<f32>(pb, 20); s6 += v * load<f32>(pb, 24); s7 += v * load<f32>(pb, 28);
            pb += 32;
          }
          const sr = at(stage, r);
          store<f32>(sr, s0); store<f32>(sr, s1, 16); store<f32>(sr, s2, 32); store<f32>(sr, s3, 48);
          store<f32>(sr, s4, 64); store<f32>(sr, s5, 80); store<f32>(sr, s6, 96); store<f32>(sr, s7, 112);
        }
        if (relu) {
          for (let i = 0; i < 32; i++) { const v = load<f32>(at(stage, i)); if (!(v > 0)) store<f32>(at(stage, i), 0); }
        }
      }
      for (let f = 0; f < fn; f++) {
        const d = at(yj, f * np + p);
        for (let r = 0; r < pn; r++) {
          const v = load<f32>(at(stage, f * 4 + r));
          store<f32>(at(d, r), acc ? load<f32>(at(d, r)) + v : v);
        }
      }
    }
  }
}

/** g(n) = dy·[y > 0]: the gradient through a ReLU from its output (y > 0 exactly where x > 0). */
function relu_mask(g: usize, dy: usize, y: usize, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const z = f32x4.splat(0);
    for (; i + 4 <= n; i += 4) v128.store(at(g, i), v128.and(v128.load(at(dy, i)), f32x4.gt(v128.load(at(y, i)), z)));
  }
  for (; i < n; i++) store<f32>(at(g, i), load<f32>(at(y, i)) > 0 ? load<f32>(at(dy, i)) : 0);
}

/** d(n) += the first n (at most 4) lanes of s */
@inline function add_lanes(d: usize, s: v128, n: i32): void {
  if (n > 0) store<f32>(d, load<f32>(d) + f32x4.extract_lane(s, 0));
  if (n > 1) store<f32>(d, load<f32>(d, 4) + f32x4.extract_lane(s, 1), 4);
  if (n > 2) store<f32>(d, load<f32>(d, 8) + f32x4.extract_lane(s, 2), 8);
  if (n > 3) store<f32>(d, load<f32>(d, 12) + f32x4.extract_lane(s, 3), 12);
}

/**
 * dyp(out8/8, P, 8) = g(out, P) in panels of 8 filters, zero past out; dbias(out) += Σ_p g;
 * g = dy, or dy·[y > 0] when y != 0 (a fused ReLU's gradient, taken on the way).
 */
function dy_panels(dyp: usize, dbias: usize, dy: usize, y: usize, out: i32, np: i32): void {
  for (let j = 0; j < out; j += 8) {
    const panel = at(dyp, j * np); // (P, 8)
    let p = 0;
    if (ASC_FEATURE_SIMD) {
      if (j + 8 <= out) {
        // eight filter rows, four pixels at a time: two 4×4 transposes give one row per pixel
        const r0 = at(dy, j * np), ld = <usize>np << 2;
        const y0 = y != 0 ? at(y, j * np) : 0;
        for (; p + 4 <= np; p += 4) {
          const o = <usize>p << 2;
          const s = r0 + o;
          let a = v128.load(s), b = v128.load(s + ld), c = v128.load(s + ld * 2), d = v128.load(s + ld * 3);
          if (y != 0) {
            const z = f32x4.splat(0), u = y0 + o;
            a = v128.and(a, f32x4.gt(v128.load(u), z)); b = v128.and(b, f32x4.gt(v128.load(u + ld), z));
            c = v128.and(c, f32x4.gt(v128.load(u + ld * 2), z)); d = v128.and(d, f32x4.gt(v128.load(u + ld * 3), z));
          }
          let t0 = v128.shuffle<f32>(a, b, 0, 4, 1, 5), t1 = v128.shuffle<f32>(a, b, 2, 6, 3, 7);
          let t2 = v128.shuffle<f32>(c, d, 0, 4, 1, 5), t3 = v128.shuffle<f32>(c, d, 2, 6, 3, 7);
          const q = panel + (<usize>p << 5);
          v128.store(q, v128.shuffle<f32>(t0, t2, 0, 1, 4, 5)); v128.store(q, v128.shuffle<f32>(t0, t2, 2, 3, 6, 7), 32);
          v128.store(q, v128.shuffle<f32>(t1, t3, 0, 1, 4, 5), 64); v128.store(q, v128.shuffle<f32>(t1, t3, 2, 3, 6, 7), 96);
          a = v128.load(s + ld * 4); b = v128.load(s + ld * 5); c = v128.load(s + ld * 6); d = v128.load(s + ld * 7);
          if (y != 0) {
            const z = f32x4.splat(0), u = y0 + o;
            a = v128.and(a, f32x4.gt(v128.load(u + ld * 4), z)); b = v128.and(b, f32x4.gt(v128.load(u + ld * 5), z));
            c = v128.and(c, f32x4.gt(v128.load(u + ld * 6), z)); d = v128.and(d, f32x4.gt(v128.load(u + ld * 7), z));
          }
          t0 = v128.shuffle<f32>(a, b, 0, 4, 1, 5); t1 = v128.shuffle<f32>(a, b, 2, 6, 3, 7);
          t2 = v128.shuffle<f32>(c, d, 0, 4, 1, 5); t3 = v128.shuffle<f32>(c, d, 2, 6, 3, 7);
          v128.store(q, v128.shuffle<f32>(t0, t2, 0, 1, 4, 5), 16); v128.store(q, v128.shuffle<f32>(t0, t2, 2, 3, 6, 7), 48);
          v128.store(q, v128.shuffle<f32>(t1, t3, 0, 1, 4, 5), 80); v128.store(q, v128.shuffle<f32>(t1, t3, 2, 3, 6, 7), 112);
        }
      }
    }
    for (; p < np; p++) {
      for (let f = 0; f < 8; f++) {
        let v: f32 = 0;
        if (j + f < out) {
          const i = (j + f) * np + p;
          v = load<f32>(at(dy, i));
          if (y != 0 && !(load<f32>(at(y, i)) > 0)) v = 0; // relu_mask's rule
        }
        store<f32>(at(panel, p * 8 + f), v);
      }
    }
    if (dbias == 0) continue;
    // the panel's rows summed: eight filters' sums at once
    if (ASC_FEATURE_SIMD) {
      let s0 = f32x4.splat(0), s1 = f32x4.splat(0);
      for (let q = 0; q < np; q++) {
        const r = panel + (<usize>q << 5);
        s0 = f32x4.add(s0, v128.load(r)); s1 = f32x4.add(s1, v128.load(r, 16));
      }
      const fs = min(8, out - j);
      add_lanes(at(dbias, j), s0, min(4, fs));
      add_lanes(at(dbias, j + 4), s1, fs - 4);
    } else {
      for (let f = 0; f < min(8, out - j); f++) {
        let v: f32 = 0;
        for (let q = 0; q < np; q++) v += load<f32>(at(panel, q * 8 + f));
        store<f32>(at(dbias, j + f), load<f32>(at(dbias, j + f)) + v);
      }
    }
  }
}

/**
 * Drop the pixels where panel(P, 8) is zero in all eight filters (in place, order kept): they
 * add nothing to dweight, and behind a ReLU and a max-pool they are many (a freshly initialised
 * shipped CNN: a quarter of the 16→32 layer's, half of the 1→16 layer's). keep(P) i32 gets the
 * kept pixels' pixoff, prefix(P + 1) i32 how many were kept before each pixel; returns the count.
 * A NaN counts as nonzero.
 */
function compact_panel(panel: usize, keep: usize, prefix: usize, pixoff: usize, np: i32): i32 {
  let n = 0;
  for (let p = 0; p < np; p++) {
    store<i32>(at(prefix, p), n);
    const row = panel + (<usize>p << 5);
    let live = false;
    if (ASC_FEATURE_SIMD) {
      const z = f32x4.splat(0);
      live = v128.any_true(v128.or(f32x4.ne(v128.load(row), z), f32x4.ne(v128.load(row, 16), z)));
    } else {
      for (let f = 0; f < 8; f++) if (load<f32>(at(row, f)) != 0) live = true;
    }
    if (!live) continue;
    if (n != p) {
      const d = panel + (<usize>n << 5);
      if (ASC_FEATURE_SIMD) {
        v128.store(d, v128.load(row)); v128.store(d, v128.load(row, 16), 16);
      } else {
        for (let f = 0; f < 8; f++) store<f32>(at(d, f), load<f32>(at(row, f)));
      }
    }
    store<i32>(at(keep, n), load<i32>(at(pixoff, p)));
    n++;
  }
  store<i32>(at(prefix, np), n);
  return n;
}

// ---- the sparse backward --------------------------------------------------------------------
// Behind a ReLU and a max-pool most of a conv layer's output gradient is zero (the pool passes
// one pixel of four, the ReLU drops the dead ones: about 6% nonzero in the shipped CNN's second
// layer while it fine-tunes; near a quarter in a freshly initialised one, where half the units
// are alive). Dense, dweight and dx cost out·K·P multiply-adds whatever dy holds.
// From dy's nonzeros, pixel by pixel, they cost about 2·nnz·K plus a gather and a scatter of K
// per pixel that has any: each nonzero g(f, p) adds g·col(:, p) to dweight's row f and
// g·weight(f, :) to the pixel's dx window, both rows of K contiguous floats. Measured on the
// 16→32 5×5 layer at 14×14 with nonzeros placed at random (more pixels touched than behind a
// pool), a sample costs 105 / 142 / 153 / 179 / 212 µs at 6 / 12 / 16 / 20 / 25% nonzero against
// 188 dense: a sample takes this path when at most a sixth of its dy is nonzero. The sums are the
// same, in another order.

/** A sample's dy takes the sparse path when nnz · SPARSE_DIVISOR ≤ out · P … */
const SPARSE_DIVISOR = 6;
/**
 * … and windows have at least SPARSE_MIN_TAPS taps: below that the gather of a pixel's window
 * costs about what the dense tile spends on it (1→16 5×5 at 28×28, 5% nonzero: 22 µs a sample
 * scattered vs 17 dense; 16→32 5×5 at 14×14, 6%: 105 vs 190).
 */
const SPARSE_MIN_TAPS = 64;

/** The nonzeros of g(n), or −1 as soon as there are more than `limit`. NaN counts as nonzero. */
function count_nonzero(g: usize, n: i32, limit: i32): i32 {
  let nnz = 0;
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const z = f32x4.splat(0);
    for (; i + 16 <= n; i += 16) {
      const m = i32x4.bitmask(f32x4.ne(v128.load(at(g, i)), z))
        | (i32x4.bitmask(f32x4.ne(v128.load(at(g, i + 4)), z)) << 4)
        | (i32x4.bitmask(f32x4.ne(v128.load(at(g, i + 8)), z)) << 8)
        | (i32x4.bitmask(f32x4.ne(v128.load(at(g, i + 12)), z)) << 12);
      nnz += <i32>popcnt(m);
      if (nnz > limit) return -1;
    }
  }
  for (; i < n; i++) if (load<f32>(at(g, i)) != 0) nnz++;
  return nnz > limit ? -1 : nnz;
}

/**
 * list(nnz, 2) = (f as i32, g as f32) for the nonzeros of g(out, P) grouped by pixel, pixel p's
 * run starting at first(p) (first(P) = nnz): a counting sort of a row-major scan.
 * first: (P + 1) i32.
 */
function sparse_entries(list: usize, first: usize, g: usize, out: i32, np: i32): void {
  for (let p = 0; p <= np; p++) store<i32>(at(first, p), 0);
  for (let f = 0; f < out; f++) {
    const row = at(g, f * np);
    let p = 0;
    if (ASC_FEATURE_SIMD) {
      // most of g is zero: skip it four at a time
      const z = f32x4.splat(0);
      for (; p + 4 <= np; p += 4) {
        let m = i32x4.bitmask(f32x4.ne(v128.load(at(row, p)), z));
        while (m != 0) {
          const q = p + ctz(m);
          store<i32>(at(first, q + 1), load<i32>(at(first, q + 1)) + 1);
          m &= m - 1;
        }
      }
    }
    for (; p < np; p++) {
      if (load<f32>(at(row, p)) != 0) store<i32>(at(first, p + 1), load<i32>(at(first, p + 1)) + 1);
    }
  }
  for (let p = 0; p < np; p++) store<i32>(at(first, p + 1), load<i32>(at(first, p + 1)) + load<i32>(at(first, p)));
  const nnz = load<i32>(at(first, np));
  // fill each run from its end back: first(p + 1) ends at the start of pixel p's run
  for (let f = out - 1; f >= 0; f--) {
    const row = at(g, f * np);
    for (let p = np - 1; p >= 0; p--) {
      const v = load<f32>(at(row, p));
      if (v == 0) continue;
      const e = load<i32>(at(first, p + 1)) - 1;
      store<i32>(at(first, p + 1), e);
      store<i32>(at(list, 2 * e), f);
      store<f32>(at(list, 2 * e + 1), v);
    }
  }
  for (let p = 0; p < np; p++) store<i32>(at(first, p), load<i32>(at(first, p + 1)));
  store<i32>(at(first, np), nnz);
}

/**
 * The window of one pixel, kernel row by kernel row: col(C·KH·KW) = xpad at the window (`add`
 * false), or xpad at the window += col (`add` true). Rows of KW taps, `step` (the dilation)
 * apart in xpad; consecutive kernel rows `rowstep` bytes apart, channels `chstep`.
 */
@inline function window_rows(col: usize, src: usize, c: i32, kh: i32, kw: i32, step: i32, rowstep: usize, chstep: usize, add: bool): void {
  let d = col;
  for (let ci = 0; ci < c; ci++) {
    let s = src + <usize>ci * chstep;
    for (let ki = 0; ki < kh; ki++, s += rowstep) {
      let j = 0;
      if (ASC_FEATURE_SIMD) {
        if (step == 1) {
          for (; j + 4 <= kw; j += 4) {
            const a = at(d, j), b = at(s, j);
            if (add) v128.store(b, f32x4.add(v128.load(b), v128.load(a)));
            else v128.store(a, v128.load(b));
          }
        }
      }
      for (; j < kw; j++) {
        const a = at(d, j), b = at(s, j * step);
        if (add) store<f32>(b, load<f32>(b) + load<f32>(a));
        else store<f32>(a, load<f32>(b));
      }
      d = at(d, kw);
    }
  }
}

/**
 * From one sample's entries, pixel by pixel: col(K) = the pixel's window of xpad (dweight's tap
 * order, kernel row by kernel row); dbias(f) += g; dweight(f, :) += g·col; and when dxpad != 0,
 * win(K) = Σ g·weight(f, :), added back over the window in dxpad(C, HP, WP) (zeroed).
 */
function sparse_sample(
  dweight: usize, dbias: usize, dxpad: usize, list: usize, first: usize, xpad: usize, pixoff: usize,
  weight: usize, np: i32, c: i32, kh: i32, kw: i32, hp: i32, wp: i32, dh: i32, dw: i32, col: usize, win: usize,
): void {
  const k = c * kh * kw;
  const rowstep = <usize>(dh * wp) << 2, chstep = <usize>(hp * wp) << 2;
  for (let p = 0; p < np; p++) {
    const e0 = load<i32>(at(first, p)), e1 = load<i32>(at(first, p + 1));
    if (e0 == e1) continue;
    const origin = <usize>load<i32>(at(pixoff, p));
    window_rows(col, xpad + origin, c, kh, kw, dw, rowstep, chstep, false);
    if (dxpad != 0) zero_floats(win, k);
    for (let e = e0; e < e1; e++) {
      const f = load<i32>(at(list, 2 * e));
      const g = load<f32>(at(list, 2 * e + 1));
      if (dbias != 0) store<f32>(at(dbias, f), load<f32>(at(dbias, f)) + g);
      const dwf = at(dweight, f * k), wf = at(weight, f * k);
      let j = 0;
      if (ASC_FEATURE_SIMD) {
        const gv = f32x4.splat(g);
        if (dxpad != 0) {
          for (; j + 4 <= k; j += 4) {
            v128.store(at(dwf, j), fma4(gv, v128.load(at(col, j)), v128.load(at(dwf, j))));
            v128.store(at(win, j), fma4(gv, v128.load(at(wf, j)), v128.load(at(win, j))));
          }
        } else {
          for (; j + 4 <= k; j += 4) v128.store(at(dwf, j), fma4(gv, v128.load(at(col, j)), v128.load(at(dwf, j))));
        }
      }
      for (; j < k; j++) {
        store<f32>(at(dwf, j), load<f32>(at(dwf, j)) + g * load<f32>(at(col, j)));
        if (dxpad != 0) store<f32>(at(win, j), load<f32>(at(win, j)) + g * load<f32>(at(wf, j)));
      }
    }
    if (dxpad != 0) window_rows(win, dxpad + origin, c, kh, kw, dw, rowstep, chstep, true);
  }
}

/** dx(C, H, W) += dxpad(C, HP, WP) from row pt, column pl (the part that is not padding). */
function add_unpadded(dx: usize, dxpad: usize, c: i32, h: i32, w: i32, hp: i32, wp: i32, pt: i32, pl: i32): void {
  const rows = min(h, hp - pt), cols = min(w, wp - pl);
  for (let ci = 0; ci < c; ci++) {
    for (let iy = 0; iy < rows; iy++) {
      const d = at(dx, (ci * h + iy) * w);
      const s = at(dxpad, (ci * hp + iy + pt) * wp + pl);
      let j = 0;
      if (ASC_FEATURE_SIMD) {
        for (; j + 4 <= cols; j += 4) v128.store(at(d, j), f32x4.add(v128.load(at(d, j)), v128.load(at(s, j))));
      }
      for (; j < cols; j++) store<f32>(at(d, j), load<f32>(at(d, j)) + load<f32>(at(s, j)));
    }
  }
}

// ---- the kernels -------------------------------------------------------------------------

/**
 * y(batch,out,OH,OW) = conv(x(batch,C,H,W), weight(out,C,KH,KW)) + bias(out), then ReLU when
 * relu != 0 (the layer's activation fused into the store). work: conv2d_indirect_workspace floats.
 */
export function conv2d_indirect_forward(
  y: usize, x: usize, weight: usize, bias: usize, work: usize, relu: i32,
  batch: i32, c: i32, h: i32, w: i32, out: i32, kh: i32, kw: i32,
  sh: i32, sw: i32, pt: i32, pl: i32, dh: i32, dw: i32, oh: i32, ow: i32,
): void {
  const k = c * kh * kw;
  const np = oh * ow;
  const hp = (oh - 1) * sh + (kh - 1) * dh + 1;
  const wp = (ow - 1) * sw + (kw - 1) * dw + 1;
  const koff = work;                          // (K) i32, taps (ki, ci, kj)
  const pixoff = at(koff, up4(k));            // (P) i32
  const span = at(pixoff, up4(np));           // (P/4, 2) i32
  const rowspan = at(span, up4(2 * np));      // (OH, 2) i32
  const wpack = at(rowspan, up4(2 * oh));     // (out8/8, K, 8)
  const bpack = at(wpack, k * up8(out));      // (out8)
  const xpad = at(bpack, up8(out));           // (C, HP, WP)
  const stage = at(xpad, up4(c * hp * wp));   // (8, 4)
  tap_table(koff, c, kh, kw, hp, wp, dh, dw, false, true);
  pixel_table(pixoff, oh, ow, sh, sw, wp);
  tap_spans(span, rowspan, oh, ow, sh, kh, dh, pt, h, c * kw, false);
  pack_filters(wpack, weight, out, k, c, kh * kw, kh, kw);
  // bias 0 means none (useBias: false): zeros in the pack
  for (let f = 0; f < up8(out); f++) store<f32>(at(bpack, f), f < out && bias != 0 ? load<f32>(at(bias, f)) : 0);
  for (let b = 0; b < batch; b++) {
    pad_planes(xpad, at(x, b * c * h * w), c, h, w, hp, wp, pt, pl);
    indirect_sample(at(y, b * out * np), xpad, koff, k, pixoff, span, np, wpack, bpack, out, relu != 0, false, stage);
  }
}

/**
 * dweight(out,C·KH·KW) += Σ g·col; dbias(out) += Σ g; dx(batch,C,H,W) += the stride-1
 * transposed convolution of g (skipped when dx is 0), where g = dy, or, when y != 0, the
 * gradient through a fused ReLU: g = dy·[y > 0] with y(batch,out,OH,OW) the forward's output
 * (relu_backward's rule). Requires sh == sw == 1 when dx != 0.
 */
export function conv2d_indirect_backward(
  dx: usize, dweight: usize, dbias: usize, dy: usize, x: usize, y: usize, weight: usize, work: usize,
  batch: i32, c: i32, h: i32, w: i32, out: i32, kh: i32, kw: i32,
  sh: i32, sw: i32, pt: i32, pl: i32, dh: i32, dw: i32, oh: i32, ow: i32,
): void {
  const k = c * kh * kw;
  const np = oh * ow;
  const hp = (oh - 1) * sh + (kh - 1) * dh + 1;
  const wp = (ow - 1) * sw + (kw - 1) * dw + 1;
  const o8 = up8(out);
  const koff = work;                          // (K) i32, taps (ci, ki, kj): dweight's order
  const pixoff = at(koff, up4(k));            // (P) i32
  const pspan = at(pixoff, up4(np));          // (K, 2) i32
  const xpad = at(pspan, up4(2 * k));         // (C, HP, WP)
  const dyp = at(xpad, up4(c * hp * wp));     // (out8/8, P, 8)
  const dym = at(dyp, o8 * np);               // (out, P): dy through the ReLU, when y != 0
  const ozero = at(dym, up4(out * np));       // (out8) zeros: dweight has no bias
  const stage = at(ozero, o8);                // (8, 4)
  // dx as a forward pass: input dy padded to (out, HD, WD), output (C, H, W), flipped taps
  const hd = h + (kh - 1) * dh, wd = w + (kw - 1) * dw;
  const k2 = out * kh * kw;
  const koff2 = at(stage, 32);                // (K2) i32, taps (ki, o, kj), flipped
  const pixoff2 = at(koff2, up4(k2));         // (H·W) i32
  const span2 = at(pixoff2, up4(h * w));      // (H·W/4, 2) i32
  const rowspan2 = at(span2, up4(2 * h * w)); // (H, 2) i32
  const wpack2 = at(rowspan2, up4(2 * h));    // (C8/8, K2, 8)
  const bzero = at(wpack2, k2 * up8(c));      // (C8) zeros
  const dypad = at(bzero, up8(c));            // (out, HD, WD)
  const stage2 = at(dypad, up4(out * hd * wd));
  const dxpad = at(stage2, 32);               // (C, HP, WP): dx of a sparse sample, padded
  const col = at(dxpad, up4(c * hp * wp));    // (K) a sparse sample's window at one pixel
  const win = at(col, up4(k));                // (K) its dx contributions there
  const first = at(win, up4(k));              // (P + 1) i32: where each pixel's entries start
  const keep = at(first, up4(np + 1));        // (P) i32: a panel's kept pixels' pixoff
  const prefix = at(keep, up4(np));           // (P + 1) i32: kept pixels before each pixel
  const kspan = at(prefix, up4(np + 1));      // (K, 2) i32: pspan over the kept pixels
  tap_table(koff, c, kh, kw, hp, wp, dh, dw, false, false);
  pixel_table(pixoff, oh, ow, sh, sw, wp);
  pixel_spans(pspan, c, kh, kw, oh, ow, sh, dh, pt, h);
  merge_spans(pspan, k);
  memory.fill(ozero, 0, <usize>o8 << 2);
  if (dx != 0) {
    // filter ci of the transposed convolution at tap (ki, o, kj) is weight(o, ci, ki, kj), read
    // at ki, kj flipped through the table (dy row iy + (KH−1−ki)·dh feeds dx row iy through ki)
    const top = (kh - 1) * dh - pt;
    tap_table(koff2, out, kh, kw, hd, wd, dh, dw, true, true);
    pixel_table(pixoff2, h, w, 1, 1, wd);
    tap_spans(span2, rowspan2, h, w, 1, kh, dh, top, oh, out * kw, true);
    pack_filters(wpack2, weight, c, kh * kw, out, k, kh, kw);
    memory.fill(bzero, 0, <usize>up8(c) << 2);
  }
  for (let b = 0; b < batch; b++) {
    let dyb = at(dy, b * out * np);
    let yb = y != 0 ? at(y, b * out * np) : 0;
    // the masked dy is needed whole for the sparse test and path and for dx; else dy_panels masks
    if (yb != 0 && (dx != 0 || k >= SPARSE_MIN_TAPS)) {
      relu_mask(dym, dyb, yb, out * np);
      dyb = dym;
      yb = 0;
    }
    pad_planes(xpad, at(x, b * c * h * w), c, h, w, hp, wp, pt, pl);
    // dyp holds the entries instead: at most out·P/4 floats of it
    if (k >= SPARSE_MIN_TAPS && count_nonzero(dyb, out * np, out * np / SPARSE_DIVISOR) >= 0) {
      sparse_entries(dyp, first, dyb, out, np);
      if (dx != 0) zero_floats(dxpad, c * hp * wp);
      sparse_sample(dweight, dbias, dx != 0 ? dxpad : 0, dyp, first, xpad, pixoff, weight, np, c, kh, kw, hp, wp, dh, dw, col, win);
      if (dx != 0) add_unpadded(at(dx, b * c * h * w), dxpad, c, h, w, hp, wp, pt, pl);
      continue;
    }
    dy_panels(dyp, dbias, dyb, yb, out, np);
    // dweight(out, K) += dyp(P, out)ᵀ·col(P, K) is the forward tile with the roles of the two
    // tables swapped: its rows are 4 taps (koff), its inner loop the pixels (pixoff, within
    // each tap's span), its "filters" dy's panels, and it accumulates into dweight's rows of K.
    // Panel by panel, over the pixels where the panel is not all zero (the spans renumbered).
    for (let j = 0; j < out; j += 8) {
      const panel = at(dyp, j * np);
      const kept = compact_panel(panel, keep, prefix, pixoff, np);
      if (kept == 0) continue;
      for (let t = 0; 4 * t < k; t++) {
        store<i32>(at(kspan, 2 * t), load<i32>(at(prefix, load<i32>(at(pspan, 2 * t)))));
        store<i32>(at(kspan, 2 * t + 1), load<i32>(at(prefix, load<i32>(at(pspan, 2 * t + 1)))));
      }
      indirect_sample(at(dweight, j * k), xpad, keep, kept, koff, kspan, k, panel, ozero, min(8, out - j), false, true, stage);
    }
    if (dx != 0) {
      pad_planes(dypad, dyb, out, oh, ow, hd, wd, (kh - 1) * dh - pt, (kw - 1) * dw - pl);
      indirect_sample(at(dx, b * c * h * w), dypad, koff2, k2, pixoff2, span2, h * w, wpack2, bzero, c, false, true, stage2);
    }
  }
}
