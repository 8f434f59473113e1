// conv2d_im2col_forward / conv2d_im2col_backward / im2col / col2im and the indirect kernels (conv2d_indirect_*) against the float64 reference in every build,
// over a table of geometries (stride, every padding mode, dilation, odd sizes, channels, batch),
// plus finite-difference checks of dx, dweight and dbias through loss = Σ y·r.
import { describe, expect, it } from 'vitest';
import { indirectWorkspaceFloats } from '../../src/layers/conv2d';
import { axis, type Padding } from '../../src/layers/geometry';
import { expectGradClose } from '../helpers/gradcheck';
import { GUARD, Rng, abs, add, conv2dBackwardRef, conv2dRef, convArgs, expectClose, expectGuardIntact, im2colRef, type ConvGeometry } from '../helpers/reference';
import { BUILDS, RawKernels, type Build, put, fresh as freshKernels } from '../helpers/wasm';

// Dot products: error relative to Σ|terms| (the reference run on |inputs|).
const RTOL = 1e-5;
const ATOL = 1e-6;

/**
 * A backward's gradients against the float64 reference of `dy`, each accumulated onto what the
 * buffer held before (`start`); dx must be untouched when `withDx` is false.
 */
function expectBackward(k: RawKernels, ptr: { dx: number; dw: number; db: number }, start: { dx: Float64Array; dw: Float64Array; db: Float64Array },
  dy: Float64Array, x: Float64Array, weight: Float64Array, g: ConvGeometry, withDx = true): void {
  const r = conv2dBackwardRef(dy, x, weight, g);
  const s = conv2dBackwardRef(abs(dy), abs(x), abs(weight), g);
  const got = (p: number, n: number) => k.read(p, n);
  if (withDx) expectClose(got(ptr.dx, x.length), add(start.dx, r.dx), { rtol: RTOL, atol: ATOL, scale: add(abs(start.dx), s.dx), label: 'dx' });
  else expect(Array.from(got(ptr.dx, x.length))).toEqual(Array.from(start.dx));
  expectClose(got(ptr.dw, weight.length), add(start.dw, r.dweight), { rtol: RTOL, atol: ATOL, scale: add(abs(start.dw), s.dweight), label: 'dweight' });
  expectClose(got(ptr.db, g.out), add(start.db, r.dbias), { rtol: RTOL, atol: ATOL, scale: add(abs(start.db), s.dbias), label: 'dbias' });
}

interface Case {
  batch: number; c: number; h: number; w: number; out: number;
  k: [number, number]; s: [number, number]; d: [number, number];
  /** per axis: 'valid' | 'same' | 'full' | cells */
  pad: [Padding, Padding];
}

const P = (p: Padding): [Padding, Padding] => (Array.isArray(p) ? p : [p, p]);

// prettier-ignore
const CASES: Case[] = [
  // stride 1, each padding mode, kernels 3×3 / 2×3 / 5×5 / 1×1, odd sizes, C 1 and 3, out 1/4/9, batch 1 and 3
  { batch: 1, c: 1, h: 5, w: 5, out: 1, k: [3, 3], s: [1, 1], d: [1, 1], pad: P('valid') },
  { batch: 1, c: 1, h: 7, w: 5, out: 4, k: [3, 3], s: [1, 1], d: [1, 1], pad: P('same') },
  { batch: 3, c: 3, h: 7, w: 5, out: 4, k: [3, 3], s: [1, 1], d: [1, 1], pad: P('full') },
  { batch: 3, c: 3, h: 7, w: 5, out: 4, k: [3, 3], s: [1, 1], d: [1, 1], pad: P([1, 2]) },
  { batch: 1, c: 3, h: 9, w: 9, out: 4, k: [5, 5], s: [1, 1], d: [1, 1], pad: P('same') },
  { batch: 3, c: 1, h: 9, w: 9, out: 9, k: [5, 5], s: [1, 1], d: [1, 1], pad: P('valid') },
  { batch: 1, c: 3, h: 7, w: 5, out: 9, k: [1, 1], s: [1, 1], d: [1, 1], pad: P('valid') },
  { batch: 3, c: 3, h: 7, w: 7, out: 4, k: [2, 3], s: [1, 1], d: [1, 1], pad: P('same') },
  { batch: 1, c: 1, h: 1, w: 9, out: 4, k: [1, 3], s: [1, 1], d: [1, 1], pad: P('full') },
  // stride 2 and [1, 2]
  { batch: 3, c: 3, h: 9, w: 9, out: 9, k: [3, 3], s: [2, 2], d: [1, 1], pad: P('valid') },
  { batch: 1, c: 3, h: 9, w: 9, out: 4, k: [3, 3], s: [2, 2], d: [1, 1], pad: P('same') },
  { batch: 3, c: 1, h: 7, w: 5, out: 4, k: [3, 3], s: [2, 2], d: [1, 1], pad: P('full') },
  { batch: 3, c: 3, h: 9, w: 9, out: 4, k: [5, 5], s: [2, 2], d: [1, 1], pad: P('full') },
  { batch: 3, c: 3, h: 7, w: 5, out: 4, k: [1, 1], s: [2, 2], d: [1, 1], pad: P('same') },
  { batch: 3, c: 1, h: 7, w: 7, out: 4, k: [2, 3], s: [1, 2], d: [1, 1], pad: P('same') },
  { batch: 1, c: 3, h: 8, w: 9, out: 1, k: [3, 3], s: [1, 2], d: [1, 1], pad: P('valid') },
  { batch: 1, c: 1, h: 5, w: 5, out: 4, k: [2, 3], s: [2, 2], d: [1, 2], pad: P(2) },
  // dilation 2 (effective kernel K' = K + (K−1)(D−1))
  { batch: 1, c: 3, h: 9, w: 9, out: 4, k: [3, 3], s: [1, 1], d: [2, 2], pad: P('same') },
  { batch: 3, c: 3, h: 9, w: 9, out: 1, k: [3, 3], s: [2, 2], d: [2, 2], pad: P('valid') },
  { batch: 1, c: 3, h: 9, w: 9, out: 4, k: [5, 5], s: [1, 1], d: [2, 2], pad: P('valid') }, // K' = 9: a 1×1 output
  { batch: 3, c: 1, h: 7, w: 5, out: 9, k: [2, 3], s: [1, 2], d: [2, 1], pad: P('full') },
  { batch: 3, c: 3, h: 9, w: 9, out: 4, k: [3, 3], s: [2, 2], d: [2, 2], pad: P([2, 0]) },
  { batch: 1, c: 3, h: 7, w: 7, out: 4, k: [2, 3], s: [2, 2], d: [2, 2], pad: P('same') },
  { batch: 3, c: 3, h: 7, w: 5, out: 4, k: [3, 3], s: [1, 1], d: [2, 2], pad: P('full') },
  // padding wider than the kernel: whole windows in the padding give the bias alone
  { batch: 1, c: 1, h: 5, w: 5, out: 1, k: [3, 3], s: [1, 1], d: [1, 1], pad: P(4) },
];
// Past the GEMM blocks: C·KH·KW = 288 > KC = 256 and OH·OW = 576 > NC = 512 (no gradcheck: too big).
const BIG: Case = { batch: 2, c: 32, h: 24, w: 24, out: 5, k: [3, 3], s: [1, 1], d: [1, 1], pad: P('same') };

/**
 * The kernels' geometry, derived with the layer's own formulas (src/layers/geometry.ts). The
 * layer refuses an explicit padding of a whole window or more; the kernels still take it, so
 * those kernel-level cases get the textbook size ⌊(n + 2p − k)/s⌋ + 1 directly.
 */
function kernelAxis(mode: Padding, n: number, k: number, s: number): [number, number] {
  if (typeof mode === 'number' && mode > k - 1) return [mode, Math.floor((n + 2 * mode - k) / s) + 1];
  return axis(mode as 'valid', n, k, s, 'test');
}
function geometry(t: Case): ConvGeometry {
  const [kh, kw] = t.k;
  const [sh, sw] = t.s;
  const [dh, dw] = t.d;
  const [pt, oh] = kernelAxis(t.pad[0], t.h, kh + (kh - 1) * (dh - 1), sh);
  const [pl, ow] = kernelAxis(t.pad[1], t.w, kw + (kw - 1) * (dw - 1), sw);
  return { batch: t.batch, c: t.c, h: t.h, w: t.w, out: t.out, kh, kw, sh, sw, pt, pl, dh, dw, oh, ow };
}

const label = (t: Case) =>
  `b${t.batch} c${t.c} ${t.h}×${t.w} out${t.out} k${t.k.join('×')} s${t.s.join(',')} d${t.d.join(',')} pad ${JSON.stringify(t.pad)}`;

const sizes = (g: ConvGeometry) => ({
  x: g.batch * g.c * g.h * g.w,
  w: g.out * g.c * g.kh * g.kw,
  y: g.batch * g.out * g.oh * g.ow,
  col: g.c * g.kh * g.kw * g.oh * g.ow,
});

// memory is snapshotted whole in these tests: keep it small
const fresh = (build: Build): RawKernels => freshKernels(build, 48);

const snapshot = (k: RawKernels) => new Int32Array(k.exports.memory.buffer.slice(0));

/** Throws if any 4-byte word outside the allowed [start, end) byte ranges changed. */
function expectOnlyWritten(k: RawKernels, before: Int32Array, allowed: [number, number][], what: string): void {
  const after = new Int32Array(k.exports.memory.buffer);
  for (let i = 0; i < before.length; i++) {
    if (before[i] === after[i]) continue;
    const byte = i * 4;
    if (!allowed.some(([s, e]) => byte >= s && byte < e)) {
      throw new Error(`${what}: wrote byte offset ${byte} outside its outputs (${before[i]} → ${after[i]})`);
    }
  }
}

/**
 * conv2d_indirect_backward of `dy` onto random starting gradients: it writes dx (when `withDx`),
 * dweight, dbias and its workspace only, and adds what the reference gives. With `bias` the ReLU
 * is fused: the forward's output y (with that bias) is the mask, the reference takes dy·[y > 0],
 * and y and dy are inputs only. Returns y (empty without `bias`).
 */
function expectIndirectBackward(k: RawKernels, g: ConvGeometry, rng: Rng, x: Float64Array, weight: Float64Array, dy: Float64Array,
  withDx: boolean, what: string, bias?: Float64Array): Float64Array {
  const n = sizes(g);
  const dx0 = rng.array(n.x, -3, 3);
  const dw0 = rng.array(n.w, -3, 3);
  const db0 = rng.array(g.out, -3, 3);
  const nw = ws(k, g);
  const ptr = {
    x: k.alloc(n.x, x), weight: k.alloc(n.w, weight), dy: k.alloc(n.y, dy), work: k.alloc(nw),
    dx: k.alloc(n.x, dx0), dw: k.alloc(n.w, dw0), db: k.alloc(g.out, db0),
    bias: bias ? k.alloc(g.out, bias) : 0, y: bias ? k.alloc(n.y) : 0,
  };
  let y = new Float64Array(0);
  if (bias) {
    k.exports.conv2d_indirect_forward(ptr.y, ptr.x, ptr.weight, ptr.bias, ptr.work, 1, ...dims(g));
    y = Float64Array.from(k.read(ptr.y, n.y));
  }
  const before = snapshot(k);
  k.exports.conv2d_indirect_backward(withDx ? ptr.dx : 0, ptr.dw, ptr.db, ptr.dy, ptr.x, ptr.y, ptr.weight, ptr.work, ...dims(g));
  expectOnlyWritten(k, before, [
    ...(withDx ? [[ptr.dx, ptr.dx + 4 * n.x] as [number, number]] : []),
    [ptr.dw, ptr.dw + 4 * n.w], [ptr.db, ptr.db + 4 * g.out], [ptr.work, ptr.work + 4 * nw],
  ], what);
  if (bias) {
    expect(Array.from(k.read(ptr.y, n.y))).toEqual(Array.from(y)); // y and dy are inputs only
    expect(Array.from(k.read(ptr.dy, n.y))).toEqual(Array.from(dy));
  }
  const masked = bias ? dy.map((v, i) => (y[i] > 0 ? v : 0)) : dy;
  expectBackward(k, ptr, { dx: dx0, dw: dw0, db: db0 }, masked, x, weight, g, withDx);
  return y;
}

const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
};

describe('the test geometry', () => {
  it('covers what the issue asks for', () => {
    const gs = CASES.map(geometry);
    for (const mode of ['valid', 'same', 'full']) expect(CASES.some((t) => t.pad[0] === mode)).toBe(true);
    expect(CASES.some((t) => typeof t.pad[0] === 'number')).toBe(true);
    expect(gs.some((g) => g.sh === 2 && g.sw === 2) && gs.some((g) => g.sh === 1 && g.sw === 2)).toBe(true);
    expect(gs.some((g) => g.dh === 2 && g.dw === 2)).toBe(true);
    expect(new Set(gs.map((g) => g.c))).toEqual(new Set([1, 3]));
    expect(new Set(gs.map((g) => g.out))).toEqual(new Set([1, 4, 9]));
    expect(new Set(gs.map((g) => g.batch))).toEqual(new Set([1, 3]));
    for (const k of ['1×1', '3×3', '2×3', '5×5']) expect(CASES.some((t) => t.k.join('×') === k)).toBe(true);
    // and the geometry is what the textbook gives at stride 1: valid M−K'+1, full M+K'−1, same M
    const find = (pad: string, k: number, d: number) =>
      geometry(CASES.find((t) => t.pad[0] === pad && t.k[0] === k && t.d[0] === d && t.s[0] === 1)!);
    expect(find('valid', 3, 1).oh).toBe(5 - 3 + 1);
    expect(find('full', 3, 1).oh).toBe(7 + 3 - 1);
    expect(find('same', 3, 1).oh).toBe(7);
    expect(find('valid', 5, 2).oh).toBe(9 - 9 + 1); // K' = 5 + 4·1 = 9
  });
});

describe.each(BUILDS)('conv2d (%s build)', (build) => {
  it.each([...CASES, BIG].map((t) => [label(t), t] as const))('forward %s', (_, t) => {
    const k = fresh(build);
    const g = geometry(t);
    const n = sizes(g);
    const rng = new Rng(n.x * 31 + n.w * 7 + n.y);
    const x = rng.array(n.x);
    const weight = rng.array(n.w);
    const bias = rng.array(g.out);
    const y0 = rng.array(n.y, 5, 6); // stale contents: must be overwritten
    const ptr = { y: put(k, y0), x: put(k, x), weight: put(k, weight), bias: put(k, bias), col: k.alloc(n.col + GUARD) };
    const before = snapshot(k);
    k.exports.conv2d_im2col_forward(ptr.y, ptr.x, ptr.weight, ptr.bias, ptr.col, ...convArgs(g), k.scratch);
    expectOnlyWritten(k, before, [
      [ptr.y, ptr.y + 4 * n.y], [ptr.col, ptr.col + 4 * n.col], [k.scratch, k.scratch + k.exports.gemm_scratch_bytes()],
    ], 'conv2d_im2col_forward');
    const y = k.read(ptr.y, n.y + GUARD);
    const scale = conv2dRef(abs(x), abs(weight), abs(bias), g);
    expectClose(y.subarray(0, n.y), conv2dRef(x, weight, bias, g), { rtol: RTOL, atol: ATOL, scale, label: 'y' });
    expectGuardIntact(y, n.y, 'y');
  });

  it.each([...CASES, BIG].map((t) => [label(t), t] as const))('backward %s accumulates and writes nothing else', (_, t) => {
    const k = fresh(build);
    const g = geometry(t);
    const n = sizes(g);
    const rng = new Rng(n.x * 17 + n.w * 3 + n.y);
    const x = rng.array(n.x);
    const weight = rng.array(n.w);
    const dy = rng.array(n.y);
    // gradients are accumulated: start from non-zero buffers
    const dx0 = rng.array(n.x, -3, 3);
    const dw0 = rng.array(n.w, -3, 3);
    const db0 = rng.array(g.out, -3, 3);
    const ptr = {
      x: k.alloc(n.x, x), weight: k.alloc(n.w, weight), dy: k.alloc(n.y, dy), col: k.alloc(n.col),
      dx: k.alloc(n.x, dx0), dw: k.alloc(n.w, dw0), db: k.alloc(g.out, db0),
    };
    const before = snapshot(k);
    k.exports.conv2d_im2col_backward(ptr.dx, ptr.dw, ptr.db, ptr.dy, ptr.x, ptr.weight, ptr.col, ...convArgs(g), k.scratch);
    expectOnlyWritten(k, before, [
      [ptr.dx, ptr.dx + 4 * n.x], [ptr.dw, ptr.dw + 4 * n.w], [ptr.db, ptr.db + 4 * g.out],
      [ptr.col, ptr.col + 4 * n.col], [k.scratch, k.scratch + k.exports.gemm_scratch_bytes()],
    ], 'conv2d_im2col_backward');
    expectBackward(k, ptr, { dx: dx0, dw: dw0, db: db0 }, dy, x, weight, g);
  });

  it.each(CASES.filter((_, i) => i % 3 === 0).map((t) => [label(t), t] as const))(
    'backward %s with dx = 0 skips the input gradient',
    (_, t) => {
      const k = fresh(build);
      const g = geometry(t);
      const n = sizes(g);
      const rng = new Rng(n.x * 5 + n.w * 11 + n.y);
      const x = rng.array(n.x);
      const weight = rng.array(n.w);
      const dy = rng.array(n.y);
      const dw0 = rng.array(n.w, -3, 3);
      const db0 = rng.array(g.out, -3, 3);
      const ptr = {
        x: k.alloc(n.x, x), weight: k.alloc(n.w, weight), dy: k.alloc(n.y, dy), col: k.alloc(n.col),
        dw: k.alloc(n.w, dw0), db: k.alloc(g.out, db0),
      };
      const before = snapshot(k);
      k.exports.conv2d_im2col_backward(0, ptr.dw, ptr.db, ptr.dy, ptr.x, ptr.weight, ptr.col, ...convArgs(g), k.scratch);
      // in particular nothing at address 0, where a dx would have gone
      expectOnlyWritten(k, before, [
        [ptr.dw, ptr.dw + 4 * n.w], [ptr.db, ptr.db + 4 * g.out],
        [ptr.col, ptr.col + 4 * n.col], [k.scratch, k.scratch + k.exports.gemm_scratch_bytes()],
      ], 'conv2d_im2col_backward(dx = 0)');
      const r = conv2dBackwardRef(dy, x, weight, g);
      const s = conv2dBackwardRef(abs(dy), abs(x), abs(weight), g);
      expectClose(k.read(ptr.dw, n.w), add(dw0, r.dweight), { rtol: RTOL, atol: ATOL, scale: add(abs(dw0), s.dweight), label: 'dweight' });
      expectClose(k.read(ptr.db, g.out), add(db0, r.dbias), { rtol: RTOL, atol: ATOL, scale: add(abs(db0), s.dbias), label: 'dbias' });
    },
  );

  it.each(CASES.map((t) => [label(t), t] as const))('gradcheck %s: loss = Σ y·r', (_, t) => {
    const k = fresh(build);
    const g = geometry(t);
    const n = sizes(g);
    const rng = new Rng(n.x * 13 + n.w * 29 + n.y);
    const x = rng.array(n.x);
    const weight = rng.array(n.w);
    const bias = rng.array(g.out);
    const r = rng.array(n.y);
    const ptr = {
      x: k.alloc(n.x, x), weight: k.alloc(n.w, weight), bias: k.alloc(g.out, bias), y: k.alloc(n.y), col: k.alloc(n.col),
      dy: k.alloc(n.y, r), dx: k.alloc(n.x), dw: k.alloc(n.w), db: k.alloc(g.out),
    };
    k.exports.conv2d_im2col_backward(ptr.dx, ptr.dw, ptr.db, ptr.dy, ptr.x, ptr.weight, ptr.col, ...convArgs(g), k.scratch);
    const dx = k.read(ptr.dx, n.x);
    const dw = k.read(ptr.dw, n.w);
    const db = k.read(ptr.db, g.out);
    /** loss with `which` replaced by v, evaluated by the forward kernel */
    const loss = (which: 'x' | 'weight' | 'bias') => (v: Float64Array) => {
      k.write(ptr[which], v);
      k.exports.conv2d_im2col_forward(ptr.y, ptr.x, ptr.weight, ptr.bias, ptr.col, ...convArgs(g), k.scratch);
      return dot(k.read(ptr.y, n.y), r);
    };
    expectGradClose(loss('x'), x, dx, { label: 'dx' });
    k.write(ptr.x, x);
    expectGradClose(loss('weight'), weight, dw, { label: 'dweight' });
    k.write(ptr.weight, weight);
    expectGradClose(loss('bias'), bias, db, { label: 'dbias' });
  });

  it.each(CASES.map((t) => [label(t), t] as const))('im2col %s matches the reference; col2im is its adjoint and accumulates', (_, t) => {
    const k = fresh(build);
    const g = { ...geometry(t), batch: 1 };
    const n = sizes(g);
    const dims = [g.c, g.h, g.w, g.kh, g.kw, g.sh, g.sw, g.pt, g.pl, g.dh, g.dw, g.oh, g.ow];
    const rng = new Rng(n.x * 3 + n.col);
    const x = rng.array(n.x);
    const c = rng.array(n.col);
    const dx0 = rng.array(n.x, -3, 3);
    const colp = put(k, rng.array(n.col, 5, 6)); // stale contents, including the padded cells
    k.exports.im2col(colp, put(k, x), ...dims);
    const col = k.read(colp, n.col + GUARD);
    expect(Array.from(col.subarray(0, n.col))).toEqual(Array.from(im2colRef(x, g))); // a pure copy: exact
    expectGuardIntact(col, n.col, 'col');

    const dxp = put(k, dx0);
    k.exports.col2im(dxp, put(k, c), ...dims);
    const dx = k.read(dxp, n.x + GUARD);
    expectGuardIntact(dx, n.x, 'dx');
    const back = Float64Array.from(dx.subarray(0, n.x), (v, i) => v - dx0[i]);
    // ⟨im2col(x), c⟩ = ⟨x, col2im(c)⟩
    expect(Math.abs(dot(im2colRef(x, g), c) - dot(x, back))).toBeLessThan(1e-5 * (dot(abs(im2colRef(x, g)), abs(c)) + n.x * 3));
    // and element by element: col2im sums, into dx0, every column entry im2col copied from that cell
    const expected = Float64Array.from(dx0);
    const scale = abs(dx0);
    for (let i = 0; i < n.x; i++) {
      const e = new Float64Array(n.x);
      e[i] = 1;
      const taps = im2colRef(e, g); // 1 where im2col reads cell i
      for (let j = 0; j < taps.length; j++) if (taps[j]) { expected[i] += c[j]; scale[i] += Math.abs(c[j]); }
    }
    expectClose(dx.subarray(0, n.x), expected, { rtol: 1e-6, atol: 1e-7, scale, label: 'col2im' });
  });
});

// ---------------------------------------------------------------------------------------------
// The indirect kernels: every geometry above (dx only at stride 1, as the layer uses them), plus
// cases at the register tile's edges: filters 1/7/8/9/16/17/32 (panels of 8), output pixels
// 1/3/4/5/7/49 per sample (tiles of 4), taps K = 1/3/4/5/25/400 (weight-gradient tiles of 4),
// input channels 1/2/4/16 (the first-layer shapes and the 16→32 middle layer).
// ---------------------------------------------------------------------------------------------

// prettier-ignore
const TILE_CASES: Case[] = [
  { batch: 2, c: 1, h: 28, w: 28, out: 8, k: [5, 5], s: [1, 1], d: [1, 1], pad: P('valid') }, // the small CNN's first layer
  { batch: 1, c: 1, h: 12, w: 12, out: 16, k: [5, 5], s: [1, 1], d: [1, 1], pad: P('same') },
  { batch: 2, c: 16, h: 7, w: 7, out: 32, k: [5, 5], s: [1, 1], d: [1, 1], pad: P('same') }, // K = 400, P = 49
  { batch: 3, c: 2, h: 4, w: 5, out: 17, k: [3, 3], s: [1, 1], d: [1, 1], pad: P('valid') },  // P = 6, 3 panels
  { batch: 1, c: 4, h: 3, w: 3, out: 9, k: [1, 1], s: [1, 1], d: [1, 1], pad: P('valid') },   // K = 4, P = 9
  { batch: 2, c: 3, h: 1, w: 3, out: 7, k: [1, 1], s: [1, 1], d: [1, 1], pad: P('valid') },   // K = 3, P = 3
  { batch: 1, c: 1, h: 2, w: 2, out: 8, k: [2, 2], s: [1, 1], d: [1, 1], pad: P('valid') },   // P = 1, K = 4
  { batch: 2, c: 5, h: 3, w: 4, out: 16, k: [1, 1], s: [1, 1], d: [1, 1], pad: P('same') },   // K = 5
  { batch: 1, c: 1, h: 5, w: 6, out: 1, k: [1, 1], s: [1, 1], d: [1, 1], pad: P('valid') },   // K = 1
  { batch: 2, c: 2, h: 6, w: 5, out: 8, k: [3, 2], s: [1, 1], d: [2, 1], pad: P([2, 1]) },    // P = 2·... odd, dilation
  { batch: 1, c: 3, h: 9, w: 7, out: 9, k: [3, 3], s: [2, 1], d: [1, 1], pad: P('same') },    // stride 2 rows only (forward)
];
// Windows of 64 taps or more, where a sparse dy is scattered (conv_indirect.ts): dilations,
// rows of 1, 3, 4, 5 and 8 taps (the vector and scalar parts of a row), strides (dweight only),
// K = 64 exactly, and the shipped CNN's 16→32 layer.
// prettier-ignore
const SPARSE_CASES: Case[] = [
  { batch: 4, c: 16, h: 14, w: 14, out: 32, k: [5, 5], s: [1, 1], d: [1, 1], pad: P('same') },
  { batch: 4, c: 8, h: 9, w: 7, out: 9, k: [3, 3], s: [1, 1], d: [2, 2], pad: P('same') },   // K = 72, dilated
  { batch: 4, c: 2, h: 10, w: 11, out: 17, k: [5, 8], s: [1, 1], d: [1, 1], pad: P('valid') }, // rows of 8
  { batch: 4, c: 4, h: 8, w: 9, out: 8, k: [4, 4], s: [1, 1], d: [1, 1], pad: P([2, 1]) },   // K = 64, rows of 4
  { batch: 4, c: 64, h: 3, w: 5, out: 7, k: [1, 1], s: [1, 1], d: [1, 1], pad: P('valid') },  // K = 64, 1×1
  { batch: 4, c: 7, h: 6, w: 9, out: 5, k: [3, 4], s: [2, 1], d: [1, 1], pad: P('same') },   // stride: dweight only
  { batch: 5, c: 3, h: 9, w: 9, out: 4, k: [5, 5], s: [1, 1], d: [1, 2], pad: P('same') },   // K = 75, dilated rows
  { batch: 4, c: 16, h: 7, w: 7, out: 32, k: [5, 5], s: [1, 1], d: [1, 1], pad: P('same') },
];
// padding past a window is not something a layer can ask for (geometry.ts refuses it)
const withinWindow = (t: Case) => t.pad.every((p, i) => typeof p !== 'number' || p <= (t.k[i] - 1) * t.d[i]);
const INDIRECT_CASES = [...CASES, ...TILE_CASES].filter(withinWindow);

const ws = (k: RawKernels, g: ConvGeometry) =>
  k.exports.conv2d_indirect_workspace(g.c, g.h, g.w, g.out, g.kh, g.kw, g.sh, g.sw, g.pt, g.pl, g.dh, g.dw, g.oh, g.ow) as number;
const dims = (g: ConvGeometry) => convArgs(g);
const relu = (v: Float64Array) => v.map((a) => (a > 0 ? a : 0));

describe('the indirect test geometry', () => {
  it('puts the tiles at their edges', () => {
    const gs = TILE_CASES.map(geometry);
    for (const out of [1, 7, 8, 9, 16, 17, 32]) expect(gs.some((g) => g.out === out)).toBe(true);
    for (const m of [0, 1, 2, 3]) expect(gs.some((g) => (g.oh * g.ow) % 4 === m)).toBe(true);
    expect(gs.some((g) => g.oh * g.ow === 1)).toBe(true);
    for (const kk of [1, 3, 4, 5, 25, 400]) expect(gs.some((g) => g.c * g.kh * g.kw === kk)).toBe(true);
    for (const c of [1, 2, 4, 16]) expect(gs.some((g) => g.c === c)).toBe(true);
  });
});

describe.each(BUILDS)('conv2d indirect (%s build)', (build) => {
  it.each(INDIRECT_CASES.flatMap((t) => [[label(t), 0, t], [label(t), 1, t]] as const))(
    'forward %s relu=%i writes y and its workspace only', (_, fuse, t) => {
      const k = fresh(build);
      const g = geometry(t);
      const n = sizes(g);
      const rng = new Rng(n.x * 37 + n.w * 5 + n.y + fuse);
      const x = rng.array(n.x);
      const weight = rng.array(n.w);
      const bias = rng.array(g.out);
      const nw = ws(k, g);
      const ptr = { y: put(k, rng.array(n.y, 5, 6)), x: put(k, x), weight: put(k, weight), bias: put(k, bias), work: k.alloc(nw + GUARD) };
      const before = snapshot(k);
      k.exports.conv2d_indirect_forward(ptr.y, ptr.x, ptr.weight, ptr.bias, ptr.work, fuse, ...dims(g));
      expectOnlyWritten(k, before, [[ptr.y, ptr.y + 4 * n.y], [ptr.work, ptr.work + 4 * nw]], 'conv2d_indirect_forward');
      const y = k.read(ptr.y, n.y + GUARD);
      const ref = conv2dRef(x, weight, bias, g);
      const scale = conv2dRef(abs(x), abs(weight), abs(bias), g);
      expectClose(y.subarray(0, n.y), fuse ? relu(ref) : ref, { rtol: RTOL, atol: ATOL, scale, label: 'y' });
      expectGuardIntact(y, n.y, 'y');
    });

  it.each(INDIRECT_CASES.map((t) => [label(t), t] as const))('backward %s accumulates and writes nothing else', (_, t) => {
    const k = fresh(build);
    const g = geometry(t);
    const n = sizes(g);
    const withDx = g.sh === 1 && g.sw === 1;
    const rng = new Rng(n.x * 19 + n.w * 3 + n.y);
    const x = rng.array(n.x);
    const weight = rng.array(n.w);
    expectIndirectBackward(k, g, rng, x, weight, rng.array(n.y), withDx, 'conv2d_indirect_backward');
  });

  it.each(INDIRECT_CASES.filter((t) => t.s[0] === 1 && t.s[1] === 1).map((t) => [label(t), t] as const))(
    'backward %s through the fused ReLU: dy·[y > 0] from the forward output, and nothing else written', (_, t) => {
      const k = fresh(build);
      const g = geometry(t);
      const n = sizes(g);
      const rng = new Rng(n.x * 41 + n.w * 7 + n.y);
      const x = rng.array(n.x);
      const weight = rng.array(n.w);
      const bias = rng.array(g.out);
      const dy = rng.array(n.y);
      const y = expectIndirectBackward(k, g, rng, x, weight, dy, true, 'conv2d_indirect_backward(relu)', bias);
      const masked = dy.map((v, i) => (y[i] > 0 ? v : 0));
      if (n.y > 32) expect(masked.some((v, i) => v === 0 && dy[i] !== 0)).toBe(true); // the mask really cuts something
    });

  // Behind a ReLU and a max-pool most of dy is zero, and a sample whose dy has at most one
  // nonzero in 6 is scattered from its nonzeros instead of run through the dense tiles. Sample 0
  // sits exactly on that limit, sample 1 one past it (dense), sample 2 is all zeros, and further
  // samples are a few percent nonzero; one nonzero of sample 0 is a NaN in the NaN case.
  const sparseDy = (g: ConvGeometry, rng: Rng, nan: boolean) => {
    const per = g.out * g.oh * g.ow;
    const limit = Math.floor(per / 6);
    const dy = new Float64Array(g.batch * per);
    for (let b = 0; b < g.batch; b++) {
      const want = b === 0 ? limit : b === 1 ? limit + 1 : b === 2 ? 0 : Math.max(1, Math.floor(per / 30));
      const cells = Array.from({ length: per }, (_, i) => i);
      for (let i = 0; i < Math.min(want, per); i++) {
        const j = i + rng.int(per - i);
        [cells[i], cells[j]] = [cells[j], cells[i]];
        dy[b * per + cells[i]] = Math.fround(rng.uniform(0.25, 1) * (rng.int(2) ? -1 : 1));
      }
      if (nan && b === 0 && want > 0) dy[cells[0]] = NaN;
    }
    return dy;
  };

  it('the sparse cases reach the scatter path: windows of at least 64 taps', () => {
    expect(SPARSE_CASES.filter((t) => t.c * t.k[0] * t.k[1] >= 64).length).toBeGreaterThanOrEqual(8);
  });

  it.each(SPARSE_CASES.flatMap((t) => [[label(t), 0, t], [label(t), 1, t]] as const))(
    'backward %s relu=%i with a sparse dy (the scatter path beside the dense one) accumulates the same', (_, fuse, t) => {
      const k = fresh(build);
      const g = geometry({ ...t, batch: Math.max(t.batch, 4) });
      const n = sizes(g);
      const withDx = g.sh === 1 && g.sw === 1;
      const rng = new Rng(n.x * 43 + n.w * 11 + n.y + fuse);
      const x = rng.array(n.x);
      const weight = rng.array(n.w);
      const bias = rng.array(g.out, -1, 0.2); // mostly dead units when the ReLU is fused
      const dy = sparseDy(g, rng, false);
      expectIndirectBackward(k, g, rng, x, weight, dy, withDx, 'conv2d_indirect_backward(sparse)', fuse ? bias : undefined);
    });

  it('a NaN in a sparse dy reaches dweight, dbias and dx as on the dense path', () => {
    const k = fresh(build);
    const g = geometry({ ...TILE_CASES[2], batch: 3 });
    const n = sizes(g);
    const rng = new Rng(77);
    const dy = sparseDy(g, rng, true);
    const ptr = {
      x: k.alloc(n.x, rng.array(n.x)), weight: k.alloc(n.w, rng.array(n.w)), dy: k.alloc(n.y, dy),
      work: k.alloc(ws(k, g)), dx: k.alloc(n.x), dw: k.alloc(n.w), db: k.alloc(g.out),
    };
    k.exports.conv2d_indirect_backward(ptr.dx, ptr.dw, ptr.db, ptr.dy, ptr.x, 0, ptr.weight, ptr.work, ...dims(g));
    const f = Math.floor(dy.findIndex(Number.isNaN) / (g.oh * g.ow));
    const dw = k.read(ptr.dw, n.w), db = k.read(ptr.db, g.out);
    const K = n.w / g.out;
    expect(Number.isNaN(db[f])).toBe(true);
    expect(dw.subarray(f * K, (f + 1) * K).some(Number.isNaN)).toBe(true);
    expect(k.read(ptr.dx, n.x).some(Number.isNaN)).toBe(true);
    expect(db.filter(Number.isNaN).length).toBe(1); // the other filters stay finite
  });

  // The dense path drops the pixels where a panel of 8 filters is all zero (compact_panel in
  // conv_indirect.ts). This dy is dense enough for the dense path (each sample over a sixth
  // nonzero) with whole panel rows zero: the first and last pixel of every panel, every pixel
  // of the first panel in sample 1 when there are 24 filters or more (a dead panel), half the
  // others at random; in sample 0 a quarter of the live rows hold one nonzero lane only.
  const panelDy = (g: ConvGeometry, rng: Rng) => {
    const np = g.oh * g.ow;
    const per = g.out * np;
    const dy = new Float64Array(g.batch * per);
    for (let b = 0; b < g.batch; b++) {
      for (let j = 0; j < g.out; j += 8) {
        const lanes = Math.min(8, g.out - j);
        for (let p = 0; p < np; p++) {
          if ((b === 1 && j === 0 && g.out >= 24) || p === 0 || p === np - 1 || rng.int(2) === 0) continue;
          const lone = b === 0 && rng.int(4) === 0 ? rng.int(lanes) : -1;
          for (let f = 0; f < lanes; f++) {
            if (lone < 0 || f === lone) dy[b * per + (j + f) * np + p] = Math.fround(rng.uniform(0.25, 1) * (rng.int(2) ? -1 : 1));
          }
        }
      }
    }
    return dy;
  };
  const PANEL_CASES = [...SPARSE_CASES, ...INDIRECT_CASES].filter((t) => {
    const g = geometry(t);
    return g.sh === 1 && g.sw === 1 && g.oh * g.ow >= 16; // room for rows of every kind
  });

  it.each(PANEL_CASES.map((t) => [label(t), t] as const))(
    'backward %s with whole panel rows of dy zero (the dense path over the live pixels) accumulates the same', (_, t) => {
      const k = fresh(build);
      const g = geometry({ ...t, batch: Math.max(t.batch, 3) });
      const n = sizes(g);
      const rng = new Rng(n.x * 47 + n.w * 13 + n.y);
      const x = rng.array(n.x);
      const weight = rng.array(n.w);
      const dy = panelDy(g, rng);
      const per = g.out * g.oh * g.ow;
      for (let b = 0; b < g.batch; b++) {
        expect(dy.subarray(b * per, (b + 1) * per).filter((v) => v !== 0).length * 6).toBeGreaterThan(per); // dense path
      }
      expectIndirectBackward(k, g, rng, x, weight, dy, true, 'conv2d_indirect_backward(panels)');
    });

  it('a NaN alone in a panel row of a dense dy reaches dweight and dbias', () => {
    const k = fresh(build);
    const g = geometry({ ...SPARSE_CASES[0], batch: 1 });
    const n = sizes(g);
    const rng = new Rng(79);
    const np = g.oh * g.ow;
    const dy = rng.array(n.y).map((v, i) => (Math.floor(i / np) < 8 && i % np === 5 ? 0 : v)); // pixel 5 of panel 0: zero…
    dy[3 * np + 5] = NaN; // …but for a NaN of filter 3
    const ptr = {
      x: k.alloc(n.x, rng.array(n.x)), weight: k.alloc(n.w, rng.array(n.w)), dy: k.alloc(n.y, dy),
      work: k.alloc(ws(k, g)), dx: k.alloc(n.x), dw: k.alloc(n.w), db: k.alloc(g.out),
    };
    k.exports.conv2d_indirect_backward(ptr.dx, ptr.dw, ptr.db, ptr.dy, ptr.x, 0, ptr.weight, ptr.work, ...dims(g));
    const K = n.w / g.out;
    const dw = k.read(ptr.dw, n.w), db = k.read(ptr.db, g.out);
    expect(Number.isNaN(db[3])).toBe(true);
    expect(dw.subarray(3 * K, 4 * K).some(Number.isNaN)).toBe(true);
    expect(dw.subarray(4 * K).some(Number.isNaN)).toBe(false); // the other panels stay finite
  });

  it.each(INDIRECT_CASES.filter((t) => t.s[0] === 1 && t.s[1] === 1 && t.h * t.w * t.c * t.batch <= 400).map((t) => [label(t), t] as const))(
    'gradcheck %s: loss = Σ y·r', (_, t) => {
      const k = fresh(build);
      const g = geometry(t);
      const n = sizes(g);
      const rng = new Rng(n.x * 23 + n.w * 31 + n.y);
      const x = rng.array(n.x);
      const weight = rng.array(n.w);
      const bias = rng.array(g.out);
      const r = rng.array(n.y);
      const nw = ws(k, g);
      const ptr = {
        x: k.alloc(n.x, x), weight: k.alloc(n.w, weight), bias: k.alloc(g.out, bias), y: k.alloc(n.y), work: k.alloc(nw),
        dy: k.alloc(n.y, r), dx: k.alloc(n.x), dw: k.alloc(n.w), db: k.alloc(g.out),
      };
      k.exports.conv2d_indirect_backward(ptr.dx, ptr.dw, ptr.db, ptr.dy, ptr.x, 0, ptr.weight, ptr.work, ...dims(g));
      const dx = k.read(ptr.dx, n.x);
      const dw = k.read(ptr.dw, n.w);
      const db = k.read(ptr.db, g.out);
      const loss = (which: 'x' | 'weight' | 'bias') => (v: Float64Array) => {
        k.write(ptr[which], v);
        k.exports.conv2d_indirect_forward(ptr.y, ptr.x, ptr.weight, ptr.bias, ptr.work, 0, ...dims(g));
        return dot(k.read(ptr.y, n.y), r);
      };
      expectGradClose(loss('x'), x, dx, { label: 'dx' });
      k.write(ptr.x, x);
      expectGradClose(loss('weight'), weight, dw, { label: 'dweight' });
      k.write(ptr.weight, weight);
      expectGradClose(loss('bias'), bias, db, { label: 'dbias' });
    });

  it('the fused ReLU follows relu_forward, NaN included (a NaN logit gives 0, as the separate pass did)', () => {
    const k = fresh(build);
    const g = geometry(TILE_CASES[3]);
    const n = sizes(g);
    const rng = new Rng(77);
    const x = rng.array(n.x);
    x[5] = NaN;
    x[n.x - 1] = Infinity;
    const nw = ws(k, g);
    const ptr = { y: k.alloc(n.y), y2: k.alloc(n.y), x: k.alloc(n.x, x), weight: k.alloc(n.w, rng.array(n.w)), bias: k.alloc(g.out, rng.array(g.out)), work: k.alloc(nw) };
    k.exports.conv2d_indirect_forward(ptr.y, ptr.x, ptr.weight, ptr.bias, ptr.work, 0, ...dims(g));
    k.exports.relu_forward(ptr.y2, ptr.y, n.y, 0);
    const logits = k.read(ptr.y, n.y);
    expect(logits.some((v) => Number.isNaN(v))).toBe(true);
    k.exports.conv2d_indirect_forward(ptr.y, ptr.x, ptr.weight, ptr.bias, ptr.work, 1, ...dims(g));
    expect(Array.from(k.read(ptr.y, n.y))).toEqual(Array.from(k.read(ptr.y2, n.y)));
  });

  it('kernel level: output rows whose windows lie wholly in the padding (empty tap runs) give the bias, and no gradient', () => {
    // padding 4 with a 3×3 window: no layer asks for it (geometry.ts refuses), the kernels still
    // get it right, which exercises the empty-span path of the padding skip
    const t = CASES.find((c) => c.pad[0] === 4)!;
    const k = fresh(build);
    const g = geometry(t);
    const n = sizes(g);
    const rng = new Rng(4242);
    const x = rng.array(n.x);
    const weight = rng.array(n.w);
    const bias = rng.array(g.out);
    const dy = rng.array(n.y);
    const nw = ws(k, g);
    const ptr = {
      y: k.alloc(n.y), x: k.alloc(n.x, x), weight: k.alloc(n.w, weight), bias: k.alloc(g.out, bias), work: k.alloc(nw),
      dy: k.alloc(n.y, dy), dx: k.alloc(n.x), dw: k.alloc(n.w), db: k.alloc(g.out),
    };
    k.exports.conv2d_indirect_forward(ptr.y, ptr.x, ptr.weight, ptr.bias, ptr.work, 0, ...dims(g));
    const scale = conv2dRef(abs(x), abs(weight), abs(bias), g);
    expectClose(k.read(ptr.y, n.y), conv2dRef(x, weight, bias, g), { rtol: RTOL, atol: ATOL, scale, label: 'y' });
    expect(k.read(ptr.y, 1)[0]).toBe(Math.fround(bias[0])); // the corner window sees only padding
    k.exports.conv2d_indirect_backward(ptr.dx, ptr.dw, ptr.db, ptr.dy, ptr.x, 0, ptr.weight, ptr.work, ...dims(g));
    const r = conv2dBackwardRef(dy, x, weight, g);
    const s = conv2dBackwardRef(abs(dy), abs(x), abs(weight), g);
    expectClose(k.read(ptr.dx, n.x), r.dx, { rtol: RTOL, atol: ATOL, scale: s.dx, label: 'dx' });
    expectClose(k.read(ptr.dw, n.w), r.dweight, { rtol: RTOL, atol: ATOL, scale: s.dweight, label: 'dweight' });
    expectClose(k.read(ptr.db, g.out), r.dbias, { rtol: RTOL, atol: ATOL, scale: s.dbias, label: 'dbias' });
  });

  it('the layer plans exactly the workspace the kernels use', () => {
    const k = fresh(build);
    for (const g of [...INDIRECT_CASES, BIG].map(geometry)) {
      expect(indirectWorkspaceFloats(g.c, g.h, g.w, g.out, g.kh, g.kw, g.sh, g.sw, g.dh, g.dw, g.oh, g.ow), label(CASES[0])).toBe(ws(k, g));
    }
  });

  it('the workspace does not grow with the batch', () => {
    const k = fresh(build);
    const g = geometry(TILE_CASES[2]);
    expect(ws(k, { ...g, batch: 1 })).toBe(ws(k, { ...g, batch: 1000 }));
    expect(ws(k, g) * 4).toBeLessThan(1 << 20);
  });
});
