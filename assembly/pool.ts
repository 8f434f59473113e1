// 2-D max and average pooling over planes (batch·C of them) of x(H,W) into y(OH,OW).
// Padding is top/left; cells outside the input never win a max and do not count in an average.

@inline function at(p: usize, i: i32): usize { return p + (<usize>i << 2); }

// Four outputs ox..ox+3 of one output row from eight columns of its two input rows (r0 and
// r0 + w): even lanes are each window's left cells.
@inline function maxpool2x2_quad(yr: usize, ir: usize, xp: usize, idx: usize, r0: i32, w: i32, ox: i32): void {
  const r1 = r0 + w;
  const i0 = i32x4.add(i32x4.splat(r0 + 2 * ox), i32x4(0, 2, 4, 6));
  const a = at(xp, r0 + 2 * ox), b = at(xp, r1 + 2 * ox);
  const a0 = v128.load(a), a1 = v128.load(a, 16), b0 = v128.load(b), b1 = v128.load(b, 16);
  const v0 = v128.shuffle<f32>(a0, a1, 0, 2, 4, 6), v1 = v128.shuffle<f32>(a0, a1, 1, 3, 5, 7);
  const v2 = v128.shuffle<f32>(b0, b1, 0, 2, 4, 6), v3 = v128.shuffle<f32>(b0, b1, 1, 3, 5, 7);
  let best = v0;
  if (idx == 0) {
    best = f32x4.pmax(f32x4.pmax(f32x4.pmax(best, v1), v2), v3);
  } else {
    let where = i0;
    let m = f32x4.gt(v1, best); best = v128.bitselect(v1, best, m);
    where = v128.bitselect(i32x4.add(i0, i32x4.splat(1)), where, m);
    m = f32x4.gt(v2, best); best = v128.bitselect(v2, best, m);
    where = v128.bitselect(i32x4.add(i0, i32x4.splat(w)), where, m);
    m = f32x4.gt(v3, best); best = v128.bitselect(v3, best, m);
    where = v128.bitselect(i32x4.add(i0, i32x4.splat(w + 1)), where, m);
    v128.store(at(ir, ox), where);
  }
  v128.store(at(yr, ox), best);
}

// The common 2×2, stride-2 case with every window in bounds (no padding used): no checks; the scan
// order (and so the winner among equal values, and NaN handling) is the general loop's: a later
// cell wins only if it is strictly greater, which is exactly pmax(best, v) lane by lane.
// idx == 0 skips the indices (an inference pass: only training is followed by backward).
@inline function maxpool2x2(y: usize, idx: usize, x: usize, planes: i32, h: i32, w: i32, oh: i32, ow: i32): void {
  for (let p = 0; p < planes; p++) {
    const xp = at(x, p * h * w);
    const o = p * oh * ow;
    for (let oy = 0; oy < oh; oy++) {
      const r0 = 2 * oy * w;
      const r1 = r0 + w;
      const yr = at(y, o + oy * ow);
      const ir = at(idx, o + oy * ow);
      let ox = 0;
      if (ASC_FEATURE_SIMD) {
        for (; ox + 4 <= ow; ox += 4) maxpool2x2_quad(yr, ir, xp, idx, r0, w, ox);
        // the last few: four ending at the row's end, overlapping (a max stored twice is the same)
        if (ox < ow && ow >= 4) { maxpool2x2_quad(yr, ir, xp, idx, r0, w, ow - 4); ox = ow; }
      }
      for (; ox < ow; ox++) {
        const i0 = r0 + 2 * ox;
        const i2 = r1 + 2 * ox;
        let best = load<f32>(at(xp, i0));
        let where = i0;
        const v1 = load<f32>(at(xp, i0 + 1));
        if (v1 > best) { best = v1; where = i0 + 1; }
        const v2 = load<f32>(at(xp, i2));
        if (v2 > best) { best = v2; where = i2; }
        const v3 = load<f32>(at(xp, i2 + 1));
        if (v3 > best) { best = v3; where = i2 + 1; }
        store<f32>(at(yr, ox), best);
        if (idx != 0) store<i32>(at(ir, ox), where);
      }
    }
  }
}

/**
 * y = max over each window; idx (i32, same shape as y) keeps where the max came from, unless it
 * is 0 (inference: nothing reads it).
 */
export function maxpool2d_forward(
  y: usize, idx: usize, x: usize, planes: i32, h: i32, w: i32,
  kh: i32, kw: i32, sh: i32, sw: i32, pt: i32, pl: i32, oh: i32, ow: i32,
): void {
  if (kh == 2 && kw == 2 && sh == 2 && sw == 2 && pt == 0 && pl == 0 && 2 * oh <= h && 2 * ow <= w) {
    maxpool2x2(y, idx, x, planes, h, w, oh, ow);
    return;
  }
  for (let p = 0; p < planes; p++) {
    const xp = at(x, p * h * w);
    const o = p * oh * ow;
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        let best = -Infinity as f32;
        let where = -1;
        for (let ki = 0; ki < kh; ki++) {
          const iy = oy * sh - pt + ki;
          if (iy < 0 || iy >= h) continue;
          for (let kj = 0; kj < kw; kj++) {
            const ix = ox * sw - pl + kj;
            if (ix < 0 || ix >= w) continue;
            const v = load<f32>(at(xp, iy * w + ix));
            if (where < 0 || v > best) { best = v; where = iy * w + ix; }
          }
        }
        store<f32>(at(y, o + oy * ow + ox), where < 0 ? 0 : best);
        if (idx != 0) store<i32>(at(idx, o + oy * ow + ox), where);
      }
    }
  }
}
/** dx += dy routed to where each max came from */
export function maxpool2d_backward(dx: usize, dy: usize, idx: usize, planes: i32, h: i32, w: i32, oh: i32, ow: i32): void {
  for (let p = 0; p < planes; p++) {
    const dxp = at(dx, p * h * w);
    const o = p * oh * ow;
    for (let i = 0; i < oh * ow; i++) {
      const where = load<i32>(at(idx, o + i));
      if (where >= 0) store<f32>(at(dxp, where), load<f32>(at(dxp, where)) + load<f32>(at(dy, o + i)));
    }
  }
}

/** y = mean over the in-bounds cells of each window */
export function avgpool2d_forward(
  y: usize, x: usize, planes: i32, h: i32, w: i32,
  kh: i32, kw: i32, sh: i32, sw: i32, pt: i32, pl: i32, oh: i32, ow: i32,
): void {
  for (let p = 0; p < planes; p++) {
    const xp = at(x, p * h * w);
    const o = p * oh * ow;
    for (let oy = 0; oy < oh; oy++) {
      const y0 = max(oy * sh - pt, 0), y1 = min(oy * sh - pt + kh, h);
      for (let ox = 0; ox < ow; ox++) {
        const x0 = max(ox * sw - pl, 0), x1 = min(ox * sw - pl + kw, w);
        let s: f32 = 0;
        for (let iy = y0; iy < y1; iy++) for (let ix = x0; ix < x1; ix++) s += load<f32>(at(xp, iy * w + ix));
        const n = (y1 - y0) * (x1 - x0);
        store<f32>(at(y, o + oy * ow + ox), n > 0 ? s / <f32>n : 0);
      }
    }
  }
}
/** dx += dy spread evenly over the in-bounds cells of each window */
export function avgpool2d_backward(
  dx: usize, dy: usize, planes: i32, h: i32, w: i32,
  kh: i32, kw: i32, sh: i32, sw: i32, pt: i32, pl: i32, oh: i32, ow: i32,
): void {
  for (let p = 0; p < planes; p++) {
    const dxp = at(dx, p * h * w);
    const o = p * oh * ow;
    for (let oy = 0; oy < oh; oy++) {
      const y0 = max(oy * sh - pt, 0), y1 = min(oy * sh - pt + kh, h);
      for (let ox = 0; ox < ow; ox++) {
        const x0 = max(ox * sw - pl, 0), x1 = min(ox * sw - pl + kw, w);
        const n = (y1 - y0) * (x1 - x0);
        if (n <= 0) continue;
        const g = load<f32>(at(dy, o + oy * ow + ox)) / <f32>n;
        for (let iy = y0; iy < y1; iy++) {
          for (let ix = x0; ix < x1; ix++) store<f32>(at(dxp, iy * w + ix), load<f32>(at(dxp, iy * w + ix)) + g);
        }
      }
    }
  }
}
