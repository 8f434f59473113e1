// 2-D convolution (cross-correlation, as in PyTorch) by im2col + the packed GEMM.
// Layouts: x (batch, C, H, W), weight (out, C, KH, KW) — PyTorch's, used as a row-major
// (out, C·KH·KW) matrix — y (batch, out, OH, OW). Padding is given as top/left; bottom/right
// follow from OH/OW. `col` is a caller-owned (C·KH·KW, OH·OW) workspace for one sample.
// Layers use these for strides > 1; stride-1 layers use conv_indirect.ts (no im2col).
import { gemm } from './gemm';

@inline function at(p: usize, i: i32): usize { return p + (<usize>i << 2); }

// Rows here are short (a feature map's width), where a loop beats memory.copy's call overhead.
@inline function copy_row(dst: usize, src: usize, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 4 <= n; i += 4) v128.store(at(dst, i), v128.load(at(src, i)));
  }
  for (; i < n; i++) store<f32>(at(dst, i), load<f32>(at(src, i)));
}

@inline function add_row(dst: usize, src: usize, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 4 <= n; i += 4) v128.store(at(dst, i), f32x4.add(v128.load(at(dst, i)), v128.load(at(src, i))));
  }
  for (; i < n; i++) store<f32>(at(dst, i), load<f32>(at(dst, i)) + load<f32>(at(src, i)));
}

/** col(C·KH·KW, OH·OW) = the receptive field of every output position of one sample x(C,H,W). */
export function im2col(
  col: usize, x: usize, c: i32, h: i32, w: i32, kh: i32, kw: i32,
  sh: i32, sw: i32, pt: i32, pl: i32, dh: i32, dw: i32, oh: i32, ow: i32,
): void {
  let dst = col;
  for (let ci = 0; ci < c; ci++) {
    const plane = at(x, ci * h * w);
    for (let ki = 0; ki < kh; ki++) {
      for (let kj = 0; kj < kw; kj++) {
        for (let oy = 0; oy < oh; oy++) {
          const iy = oy * sh - pt + ki * dh;
          if (iy < 0 || iy >= h) {
            memory.fill(dst, 0, <usize>ow << 2);
            dst += <usize>ow << 2;
            continue;
          }
          const row = at(plane, iy * w);
          let ix = kj * dw - pl;
          if (sw == 1 && ix >= 0 && ix + ow <= w) {
            copy_row(dst, at(row, ix), ow); // the common interior case
            dst += <usize>ow << 2;
            continue;
          }
          for (let ox = 0; ox < ow; ox++, ix += sw) {
            store<f32>(dst, ix >= 0 && ix < w ? load<f32>(at(row, ix)) : 0);
            dst += 4;
          }
        }
      }
    }
  }
}

/** dx(C,H,W) += the columns of dcol folded back onto the positions im2col read them from. */
export function col2im(
  dx: usize, dcol: usize, c: i32, h: i32, w: i32, kh: i32, kw: i32,
  sh: i32, sw: i32, pt: i32, pl: i32, dh: i32, dw: i32, oh: i32, ow: i32,
): void {
  let src = dcol;
  for (let ci = 0; ci < c; ci++) {
    const plane = at(dx, ci * h * w);
    for (let ki = 0; ki < kh; ki++) {
      for (let kj = 0; kj < kw; kj++) {
        for (let oy = 0; oy < oh; oy++) {
          const iy = oy * sh - pt + ki * dh;
          if (iy < 0 || iy >= h) { src += <usize>ow << 2; continue; }
          const row = at(plane, iy * w);
          let ix = kj * dw - pl;
          if (sw == 1 && ix >= 0 && ix + ow <= w) {
            add_row(at(row, ix), src, ow); // the interior case, as in im2col
            src += <usize>ow << 2;
            continue;
          }
          for (let ox = 0; ox < ow; ox++, ix += sw) {
            if (ix >= 0 && ix < w) store<f32>(at(row, ix), load<f32>(at(row, ix)) + load<f32>(src));
            src += 4;
          }
        }
      }
    }
  }
}

/** y(batch,out,OH,OW) = conv(x(batch,C,H,W), weight(out,C,KH,KW)) + bias(out) */
export function conv2d_im2col_forward(
  y: usize, x: usize, weight: usize, bias: usize, col: usize,
  batch: i32, c: i32, h: i32, w: i32, out: i32, kh: i32, kw: i32,
  sh: i32, sw: i32, pt: i32, pl: i32, dh: i32, dw: i32, oh: i32, ow: i32, scratch: usize,
): void {
  const ckk = c * kh * kw;
  const ohw = oh * ow;
  for (let b = 0; b < batch; b++) {
    const xb = at(x, b * c * h * w);
    const yb = at(y, b * out * ohw);
    im2col(col, xb, c, h, w, kh, kw, sh, sw, pt, pl, dh, dw, oh, ow);
    for (let o = 0; o < out; o++) {
      const bo: f32 = bias != 0 ? load<f32>(at(bias, o)) : 0; // bias 0 means none
      const row = at(yb, o * ohw);
      for (let i = 0; i < ohw; i++) store<f32>(at(row, i), bo);
    }
    gemm(yb, weight, col, out, ohw, ckk, ckk, 1, ohw, 1, ohw, 1, scratch);
  }
}

/**
 * dweight(out,C·KH·KW) += dy·colᵀ; dbias(out) += Σ dy; dx(batch,C,H,W) += col2im(weightᵀ·dy)
 * (skipped when dx is 0). The columns are rebuilt from x rather than kept from forward: that
 * costs one im2col per sample and saves batch·C·KH·KW·OH·OW floats.
 */
export function conv2d_im2col_backward(
  dx: usize, dweight: usize, dbias: usize, dy: usize, x: usize, weight: usize, col: usize,
  batch: i32, c: i32, h: i32, w: i32, out: i32, kh: i32, kw: i32,
  sh: i32, sw: i32, pt: i32, pl: i32, dh: i32, dw: i32, oh: i32, ow: i32, scratch: usize,
): void {
  const ckk = c * kh * kw;
  const ohw = oh * ow;
  for (let b = 0; b < batch; b++) {
    const xb = at(x, b * c * h * w);
    const dyb = at(dy, b * out * ohw);
    im2col(col, xb, c, h, w, kh, kw, sh, sw, pt, pl, dh, dw, oh, ow);
    gemm(dweight, dyb, col, out, ckk, ohw, ohw, 1, 1, ohw, ckk, 1, scratch);
    for (let o = 0; o < out && dbias != 0; o++) {
      const row = at(dyb, o * ohw);
      let s: f32 = 0;
      for (let i = 0; i < ohw; i++) s += load<f32>(at(row, i));
      store<f32>(at(dbias, o), load<f32>(at(dbias, o)) + s);
    }
    if (dx != 0) {
      // the columns are no longer needed: reuse them for dcol = weightᵀ·dy
      gemm(col, weight, dyb, ckk, ohw, out, 1, ckk, ohw, 1, ohw, 0, scratch);
      col2im(at(dx, b * c * h * w), col, c, h, w, kh, kw, sh, sw, pt, pl, dh, dw, oh, ow);
    }
  }
}
