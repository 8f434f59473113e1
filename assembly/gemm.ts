// SGEMM: C(m,n) = [C +] A(m,k) · B(k,n).
// A and B are described by a row stride and a column stride (in floats), so one routine serves
// X·W, X·Wᵀ and Xᵀ·dY without materialising a transpose: packing reads through the strides.
// Goto-style blocking: B is packed KC×NC (stays in L2), A MC×KC, and a 4×8 register tile runs
// over the packed panels. Edges are zero-padded in the packs; partial C tiles go through a
// small staging tile so the micro-kernel itself never branches on size.
import { fma4, hsum4 } from './simd';

const MR: i32 = 4;
const NR: i32 = 8;
const MC: i32 = 64;
const KC: i32 = 256;
const NC: i32 = 512;

/** Bytes of scratch a gemm call needs (packed A, packed B, staging tile). */
export const GEMM_SCRATCH_BYTES: i32 = (MC * KC + KC * NC + MR * NR) * 4;

// dst: panels of MR rows, each laid out [k][MR]; a points at A(i0, k0).
@inline export function pack_a(dst: usize, a: usize, rs: i32, cs: i32, mc: i32, kc: i32): void {
  for (let p = 0; p < mc; p += MR) {
    const rows = min(MR, mc - p);
    const base = a + (<usize>(p * rs) << 2);
    if (rows == MR) {
      const r1 = <usize>rs << 2;
      for (let k = 0; k < kc; k++) {
        const src = base + (<usize>(k * cs) << 2);
        store<f32>(dst, load<f32>(src));
        store<f32>(dst, load<f32>(src + r1), 4);
        store<f32>(dst, load<f32>(src + r1 * 2), 8);
        store<f32>(dst, load<f32>(src + r1 * 3), 12);
        dst += 16;
      }
    } else {
      for (let k = 0; k < kc; k++) {
        for (let r = 0; r < MR; r++) {
          const v: f32 = r < rows ? load<f32>(base + (<usize>(r * rs + k * cs) << 2)) : 0;
          store<f32>(dst + (<usize>r << 2), v);
        }
        dst += 16;
      }
    }
  }
}

// dst: panels of NR columns, each laid out [k][NR]; b points at B(k0, j0).
@inline export function pack_b(dst: usize, b: usize, rs: i32, cs: i32, kc: i32, nc: i32): void {
  for (let p = 0; p < nc; p += NR) {
    const cols = min(NR, nc - p);
    const base = b + (<usize>(p * cs) << 2);
    if (cols == NR && cs == 1) {
      // row-major B: each k contributes 8 contiguous floats
      for (let k = 0; k < kc; k++) {
        const src = base + (<usize>(k * rs) << 2);
        if (ASC_FEATURE_SIMD) {
          v128.store(dst, v128.load(src));
          v128.store(dst, v128.load(src, 16), 16);
        } else {
          memory.copy(dst, src, 32);
        }
        dst += 32;
      }
    } else if (cols == NR && rs == 1) {
      // transposed B (Bᵀ row-major): each of the 8 columns is contiguous in k; read them as
      // eight sequential streams, four k at a time, and transpose 8×4 blocks in registers
      const c0 = base, cstep = <usize>cs << 2;
      let k = 0;
      if (ASC_FEATURE_SIMD) {
        for (; k + 4 <= kc; k += 4) {
          const o = <usize>k << 2;
          const r0 = v128.load(c0 + o), r1 = v128.load(c0 + cstep + o);
          const r2 = v128.load(c0 + cstep * 2 + o), r3 = v128.load(c0 + cstep * 3 + o);
          const r4 = v128.load(c0 + cstep * 4 + o), r5 = v128.load(c0 + cstep * 5 + o);
          const r6 = v128.load(c0 + cstep * 6 + o), r7 = v128.load(c0 + cstep * 7 + o);
          // 4×4 transposes of columns 0-3 and 4-7
          const a01l = v128.shuffle<f32>(r0, r1, 0, 4, 1, 5), a01h = v128.shuffle<f32>(r0, r1, 2, 6, 3, 7);
          const a23l = v128.shuffle<f32>(r2, r3, 0, 4, 1, 5), a23h = v128.shuffle<f32>(r2, r3, 2, 6, 3, 7);
          const b01l = v128.shuffle<f32>(r4, r5, 0, 4, 1, 5), b01h = v128.shuffle<f32>(r4, r5, 2, 6, 3, 7);
          const b23l = v128.shuffle<f32>(r6, r7, 0, 4, 1, 5), b23h = v128.shuffle<f32>(r6, r7, 2, 6, 3, 7);
          const d = dst + (<usize>k << 5);
          v128.store(d, v128.shuffle<f32>(a01l, a23l, 0, 1, 4, 5));
          v128.store(d, v128.shuffle<f32>(b01l, b23l, 0, 1, 4, 5), 16);
          v128.store(d, v128.shuffle<f32>(a01l, a23l, 2, 3, 6, 7), 32);
          v128.store(d, v128.shuffle<f32>(b01l, b23l, 2, 3, 6, 7), 48);
          v128.store(d, v128.shuffle<f32>(a01h, a23h, 0, 1, 4, 5), 64);
          v128.store(d, v128.shuffle<f32>(b01h, b23h, 0, 1, 4, 5), 80);
          v128.store(d, v128.shuffle<f32>(a01h, a23h, 2, 3, 6, 7), 96);
          v128.store(d, v128.shuffle<f32>(b01h, b23h, 2, 3, 6, 7), 112);
        }
      }
      for (; k < kc; k++) {
        const d = dst + (<usize>k << 5);
        for (let c = 0; c < NR; c++) store<f32>(d + (<usize>c << 2), load<f32>(c0 + cstep * c + (<usize>k << 2)));
      }
      dst += <usize>kc << 5;
    } else {
      for (let k = 0; k < kc; k++) {
        const row = base + (<usize>(k * rs) << 2);
        for (let c = 0; c < NR; c++) {
          const v: f32 = c < cols ? load<f32>(row + (<usize>(c * cs) << 2)) : 0;
          store<f32>(dst + (<usize>c << 2), v);
        }
        dst += 32;
      }
    }
  }
}

// Write a 4×8 tile of accumulators to C (row stride ld bytes), adding to what is there with acc.
@inline function store_tile(c: usize, ld: usize, acc: bool,
  c00: v128, c01: v128, c10: v128, c11: v128, c20: v128, c21: v128, c30: v128, c31: v128): void {
  if (acc) {
    c00 = f32x4.add(c00, v128.load(c)); c01 = f32x4.add(c01, v128.load(c, 16));
    c10 = f32x4.add(c10, v128.load(c + ld)); c11 = f32x4.add(c11, v128.load(c + ld, 16));
    c20 = f32x4.add(c20, v128.load(c + ld * 2)); c21 = f32x4.add(c21, v128.load(c + ld * 2, 16));
    c30 = f32x4.add(c30, v128.load(c + ld * 3)); c31 = f32x4.add(c31, v128.load(c + ld * 3, 16));
  }
  v128.store(c, c00); v128.store(c, c01, 16);
  v128.store(c + ld, c10); v128.store(c + ld, c11, 16);
  v128.store(c + ld * 2, c20); v128.store(c + ld * 2, c21, 16);
  v128.store(c + ld * 3, c30); v128.store(c + ld * 3, c31, 16);
}

// Copy the valid rows×cols of the staging tile (row stride NR) into C, adding with acc.
@inline function merge_stage(ct: usize, ldc: i32, stage: usize, rows: i32, cols: i32, acc: bool): void {
  for (let r = 0; r < rows; r++) {
    for (let q = 0; q < cols; q++) {
      const dst = ct + (<usize>(r * ldc + q) << 2);
      const v = load<f32>(stage + (<usize>(r * NR + q) << 2));
      store<f32>(dst, acc ? load<f32>(dst) + v : v);
    }
  }
}

// 4×8 tile of C (row stride ldc floats) from packed panels pa [k][4] and pb [k][8].
@inline function tile_4x8(c: usize, ldc: i32, pa: usize, pb: usize, kc: i32, acc: bool): void {
  const ld = <usize>ldc << 2;
  if (ASC_FEATURE_SIMD) {
    let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
    let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
    let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
    let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
    for (let k = 0; k < kc; k++) {
      const b0 = v128.load(pb);
      const b1 = v128.load(pb, 16);
      const a0 = v128.load32_splat(pa);
      const a1 = v128.load32_splat(pa, 4);
      const a2 = v128.load32_splat(pa, 8);
      const a3 = v128.load32_splat(pa, 12);
      c00 = fma4(a0, b0, c00); c01 = fma4(a0, b1, c01);
      c10 = fma4(a1, b0, c10); c11 = fma4(a1, b1, c11);
      c20 = fma4(a2, b0, c20); c21 = fma4(a2, b1, c21);
      c30 = fma4(a3, b0, c30); c31 = fma4(a3, b1, c31);
      pa += 16;
      pb += 32;
    }
    store_tile(c, ld, acc, c00, c01, c10, c11, c20, c21, c30, c31);
  } else {
    // Scalar: one row of 8 accumulators at a time keeps them in registers.
    for (let r = 0; r < MR; r++) {
      let s0: f32 = 0, s1: f32 = 0, s2: f32 = 0, s3: f32 = 0;
      let s4: f32 = 0, s5: f32 = 0, s6: f32 = 0, s7: f32 = 0;
      let a = pa + (<usize>r << 2);
      let b = pb;
      for (let k = 0; k < kc; k++) {
        const x = load<f32>(a);
        s0 += x * load<f32>(b); s1 += x * load<f32>(b, 4);
        s2 += x * load<f32>(b, 8); s3 += x * load<f32>(b, 12);
        s4 += x * load<f32>(b, 16); s5 += x * load<f32>(b, 20);
        s6 += x * load<f32>(b, 24); s7 += x * load<f32>(b, 28);
        a += 16;
        b += 32;
      }
      const row = c + ld * r;
      if (acc) {
        s0 += load<f32>(row); s1 += load<f32>(row, 4); s2 += load<f32>(row, 8); s3 += load<f32>(row, 12);
        s4 += load<f32>(row, 16); s5 += load<f32>(row, 20); s6 += load<f32>(row, 24); s7 += load<f32>(row, 28);
      }
      store<f32>(row, s0); store<f32>(row, s1, 4); store<f32>(row, s2, 8); store<f32>(row, s3, 12);
      store<f32>(row, s4, 16); store<f32>(row, s5, 20); store<f32>(row, s6, 24); store<f32>(row, s7, 28);
    }
  }
}

// As tile_4x8, but A is read in place: row r of the tile at a + r·lda bytes, unit column
// stride. Row-major A needs no packing (the four rows are four sequential streams).
@inline function tile_4x8_rows(c: usize, ldc: i32, a: usize, lda: usize, pb: usize, kc: i32, acc: bool): void {
  const ld = <usize>ldc << 2;
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  let a0p = a;
  const a1o = lda, a2o = lda * 2, a3o = lda * 3;
  for (let k = 0; k < kc; k++) {
    const b0 = v128.load(pb);
    const b1 = v128.load(pb, 16);
    const a0 = v128.load32_splat(a0p);
    const a1 = v128.load32_splat(a0p + a1o);
    const a2 = v128.load32_splat(a0p + a2o);
    const a3 = v128.load32_splat(a0p + a3o);
    c00 = fma4(a0, b0, c00); c01 = fma4(a0, b1, c01);
    c10 = fma4(a1, b0, c10); c11 = fma4(a1, b1, c11);
    c20 = fma4(a2, b0, c20); c21 = fma4(a2, b1, c21);
    c30 = fma4(a3, b0, c30); c31 = fma4(a3, b1, c31);
    a0p += 4;
    pb += 32;
  }
  store_tile(c, ld, acc, c00, c01, c10, c11, c20, c21, c30, c31);
}

// y(n) = [y +] x(k) · B(k,n) with B row-major (cs == 1): the batch-1 path, no packing.
function gemv_rows(y: usize, x: usize, xs: i32, b: usize, rs: i32, n: i32, k: i32, acc: bool): void {
  const rb = <usize>rs << 2;
  const xb = <usize>xs << 2;
  let j = 0;
  if (ASC_FEATURE_SIMD) {
    for (; j + 16 <= n; j += 16) {
      const yj = y + (<usize>j << 2);
      let s0 = f32x4.splat(0), s1 = f32x4.splat(0), s2 = f32x4.splat(0), s3 = f32x4.splat(0);
      let row = b + (<usize>j << 2);
      let xp = x;
      for (let kk = 0; kk < k; kk++) {
        const xv = v128.load32_splat(xp);
        s0 = fma4(xv, v128.load(row), s0);
        s1 = fma4(xv, v128.load(row, 16), s1);
        s2 = fma4(xv, v128.load(row, 32), s2);
        s3 = fma4(xv, v128.load(row, 48), s3);
        row += rb;
        xp += xb;
      }
      if (acc) {
        s0 = f32x4.add(s0, v128.load(yj)); s1 = f32x4.add(s1, v128.load(yj, 16));
        s2 = f32x4.add(s2, v128.load(yj, 32)); s3 = f32x4.add(s3, v128.load(yj, 48));
      }
      v128.store(yj, s0); v128.store(yj, s1, 16); v128.store(yj, s2, 32); v128.store(yj, s3, 48);
    }
    for (; j + 4 <= n; j += 4) {
      const yj = y + (<usize>j << 2);
      let s = f32x4.splat(0);
      let row = b + (<usize>j << 2);
      let xp = x;
      for (let kk = 0; kk < k; kk++) {
        s = fma4(v128.load32_splat(xp), v128.load(row), s);
        row += rb;
        xp += xb;
      }
      if (acc) s = f32x4.add(s, v128.load(yj));
      v128.store(yj, s);
    }
  }
  for (; j < n; j++) {
    let s: f32 = 0;
    let p = b + (<usize>j << 2);
    let xp = x;
    for (let kk = 0; kk < k; kk++) {
      s += load<f32>(xp) * load<f32>(p);
      p += rb;
      xp += xb;
    }
    const yj = y + (<usize>j << 2);
    store<f32>(yj, acc ? load<f32>(yj) + s : s);
  }
}

// y(n) = [y +] x(k) · B(k,n) where B's columns are contiguous (rs == 1): n dot products.
function gemv_cols(y: usize, x: usize, xs: i32, b: usize, cs: i32, n: i32, k: i32, acc: bool): void {
  for (let j = 0; j < n; j++) {
    const col = b + (<usize>(j * cs) << 2);
    let s: f32 = 0;
    let kk = 0;
    if (ASC_FEATURE_SIMD) {
      if (xs == 1) {
        let s0 = f32x4.splat(0), s1 = f32x4.splat(0);
        for (; kk + 8 <= k; kk += 8) {
          const off = <usize>kk << 2;
          s0 = fma4(v128.load(x + off), v128.load(col + off), s0);
          s1 = fma4(v128.load(x + off, 16), v128.load(col + off, 16), s1);
        }
        s = hsum4(f32x4.add(s0, s1));
      }
    }
    for (; kk < k; kk++) s += load<f32>(x + (<usize>(kk * xs) << 2)) * load<f32>(col + (<usize>kk << 2));
    const yj = y + (<usize>j << 2);
    store<f32>(yj, acc ? load<f32>(yj) + s : s);
  }
}

/**
 * C(m,n) = [C +] A(m,k) · B(k,n). A(i,p) sits at a + 4*(i*a_rs + p*a_cs); B likewise; C is
 * row-major with row stride ldc. `accumulate` != 0 adds into C. `scratch` must hold
 * GEMM_SCRATCH_BYTES and must not overlap A, B or C.
 */
export function gemm(
  c: usize, a: usize, b: usize,
  m: i32, n: i32, k: i32,
  a_rs: i32, a_cs: i32, b_rs: i32, b_cs: i32, ldc: i32,
  accumulate: i32, scratch: usize,
): void {
  if (m <= 0 || n <= 0) return;
  if (k <= 0) {
    if (!accumulate) for (let i = 0; i < m; i++) memory.fill(c + (<usize>(i * ldc) << 2), 0, <usize>n << 2);
    return;
  }
  if (m == 1) {
    if (b_cs == 1) { gemv_rows(c, a, a_cs, b, b_rs, n, k, accumulate != 0); return; }
    if (b_rs == 1) { gemv_cols(c, a, a_cs, b, b_cs, n, k, accumulate != 0); return; }
  }
  const pa = scratch;
  const pb = pa + (<usize>(MC * KC) << 2);
  const stage = pb + (<usize>(KC * NC) << 2);
  for (let jc = 0; jc < n; jc += NC) {
    const nc = min(NC, n - jc);
    // split K into equal blocks of at most KC, so no block is a short, overhead-bound tail
    const kblocks = (k + KC - 1) / KC;
    const kstep = (k + kblocks - 1) / kblocks;
    for (let pc = 0; pc < k; pc += kstep) {
      const kc = min(kstep, k - pc);
      const acc = accumulate != 0 || pc > 0;
      pack_b(pb, b + (<usize>(pc * b_rs + jc * b_cs) << 2), b_rs, b_cs, kc, nc);
      for (let ic = 0; ic < m; ic += MC) {
        const mc = min(MC, m - ic);
        const ablock = a + (<usize>(ic * a_rs + pc * a_cs) << 2);
        // row-major A is read in place by the SIMD tile; anything else is packed first
        const inPlace = ASC_FEATURE_SIMD && a_cs == 1;
        if (!inPlace) pack_a(pa, ablock, a_rs, a_cs, mc, kc);
        for (let jr = 0; jr < nc; jr += NR) {
          const cols = min(NR, nc - jr);
          const pbj = pb + (<usize>(jr * kc) << 2);
          for (let ir = 0; ir < mc; ir += MR) {
            const rows = min(MR, mc - ir);
            const pai = pa + (<usize>(ir * kc) << 2);
            const ct = c + (<usize>((ic + ir) * ldc + jc + jr) << 2);
            if (rows == MR && cols == NR && inPlace) {
              if (ASC_FEATURE_SIMD) tile_4x8_rows(ct, ldc, ablock + (<usize>(ir * a_rs) << 2), <usize>a_rs << 2, pbj, kc, acc);
            } else if (rows == MR && cols == NR) {
              tile_4x8(ct, ldc, pai, pbj, kc, acc);
            } else if (inPlace) {
              // an edge tile: pack just these rows, then go through the staging tile
              pack_a(pa, ablock + (<usize>(ir * a_rs) << 2), a_rs, a_cs, rows, kc);
              tile_4x8(stage, NR, pa, pbj, kc, false);
              merge_stage(ct, ldc, stage, rows, cols, acc);
            } else {
              tile_4x8(stage, NR, pai, pbj, kc, false);
              merge_stage(ct, ldc, stage, rows, cols, acc);
            }
          }
        }
      }
    }
  }
}

/** The plain triple loop, kept as the reference the packed kernel is tested against. */
export function gemm_reference(
  c: usize, a: usize, b: usize,
  m: i32, n: i32, k: i32,
  a_rs: i32, a_cs: i32, b_rs: i32, b_cs: i32, ldc: i32,
  accumulate: i32,
): void {
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s: f32 = 0;
      for (let p = 0; p < k; p++) {
        s += load<f32>(a + (<usize>(i * a_rs + p * a_cs) << 2)) * load<f32>(b + (<usize>(p * b_rs + j * b_cs) << 2));
      }
      const dst = c + (<usize>(i * ldc + j) << 2);
      store<f32>(dst, accumulate ? load<f32>(dst) + s : s);
    }
  }
}
