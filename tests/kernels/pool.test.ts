// maxpool2d / avgpool2d forward and backward against the float64 reference in every build (pool
// 2/3, stride 1/2/3, padding valid/same/explicit, odd sizes, one and several planes), finite-
// difference checks, and the residual join (add_forward) and dropout kernels.
import { describe, expect, it } from 'vitest';
import { axis, type Padding } from '../../src/layers/geometry';
import { expectGradClose } from '../helpers/gradcheck';
import { GUARD, Rng, abs, add, avgpool2dBackwardRef, avgpool2dRef, expectClose, expectGuardIntact, maxpool2dBackwardRef, maxpool2dRef, type PoolGeometry } from '../helpers/reference';
import { BUILDS, RawKernels, type Build, put, fresh as freshKernels } from '../helpers/wasm';

interface Case {
  planes: number; h: number; w: number;
  k: [number, number]; s: [number, number];
  pad: [Padding, Padding];
}

const P = (p: Padding): [Padding, Padding] => (Array.isArray(p) ? p : [p, p]);

// prettier-ignore
const CASES: Case[] = [
  { planes: 1, h: 5, w: 5, k: [2, 2], s: [2, 2], pad: P('valid') },
  { planes: 5, h: 7, w: 5, k: [2, 2], s: [2, 2], pad: P('same') },
  { planes: 3, h: 5, w: 5, k: [2, 2], s: [1, 1], pad: P('valid') },
  { planes: 1, h: 7, w: 7, k: [3, 3], s: [3, 3], pad: P('valid') },
  { planes: 5, h: 9, w: 9, k: [3, 3], s: [2, 2], pad: P('same') },
  { planes: 3, h: 7, w: 5, k: [3, 3], s: [1, 1], pad: P('same') },
  { planes: 5, h: 7, w: 5, k: [3, 3], s: [1, 1], pad: P(1) },
  { planes: 1, h: 8, w: 7, k: [3, 3], s: [3, 3], pad: P('same') },
  { planes: 5, h: 7, w: 7, k: [2, 3], s: [1, 2], pad: P([1, 2]) },
  { planes: 5, h: 9, w: 7, k: [3, 3], s: [2, 2], pad: P([2, 0]) },
  { planes: 2, h: 1, w: 7, k: [1, 3], s: [1, 2], pad: P('same') },
  { planes: 3, h: 7, w: 8, k: [2, 2], s: [3, 3], pad: P('valid') }, // stride > window: cells skipped
  { planes: 4, h: 5, w: 7, k: [3, 2], s: [2, 3], pad: P([1, 1]) },
  { planes: 1, h: 1, w: 1, k: [1, 1], s: [1, 1], pad: P('valid') },
  // the 2×2 stride-2 fast path at its SIMD width (4 outputs a step): ow 4, 5, 7, 8, 12, odd sizes
  { planes: 2, h: 8, w: 8, k: [2, 2], s: [2, 2], pad: P('valid') },
  { planes: 3, h: 11, w: 11, k: [2, 2], s: [2, 2], pad: P('valid') },
  { planes: 2, h: 6, w: 15, k: [2, 2], s: [2, 2], pad: P('valid') },
  { planes: 4, h: 9, w: 16, k: [2, 2], s: [2, 2], pad: P('valid') },
  { planes: 2, h: 24, w: 24, k: [2, 2], s: [2, 2], pad: P('valid') },
  { planes: 3, h: 11, w: 12, k: [3, 3], s: [2, 2], pad: P('valid') }, // overlapping windows, 2·OH ≤ H
];

function geometry(t: Case): PoolGeometry {
  const [pt, oh] = axis(t.pad[0] as 'valid', t.h, t.k[0], t.s[0], 'test');
  const [pl, ow] = axis(t.pad[1] as 'valid', t.w, t.k[1], t.s[1], 'test');
  return { planes: t.planes, h: t.h, w: t.w, kh: t.k[0], kw: t.k[1], sh: t.s[0], sw: t.s[1], pt, pl, oh, ow };
}

const label = (t: Case) => `planes${t.planes} ${t.h}×${t.w} pool${t.k.join('×')} s${t.s.join(',')} pad ${JSON.stringify(t.pad)}`;
const cases = () => CASES.map((t) => [label(t), geometry(t)] as const);
const geo = (g: PoolGeometry) => [g.planes, g.h, g.w, g.kh, g.kw, g.sh, g.sw, g.pt, g.pl, g.oh, g.ow];

/** Distinct values at least 0.05 apart (a shuffled ramp): no ties for the max, and a ±0.01
 * finite-difference step never changes which cell wins. */
function distinct(n: number, rng: Rng): Float64Array {
  const v = Float64Array.from({ length: n }, (_, i) => Math.fround((i - n / 2) * 0.05));
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [v[i], v[j]] = [v[j], v[i]];
  }
  return v;
}

// memory is snapshotted whole in these tests: keep it small
const fresh = (build: Build): RawKernels => freshKernels(build, 16);
const i32 = (k: RawKernels, ptr: number, n: number) => new Int32Array(k.exports.memory.buffer).slice(ptr >> 2, (ptr >> 2) + n);
const snapshot = (k: RawKernels) => new Int32Array(k.exports.memory.buffer.slice(0));

function expectOnlyWritten(k: RawKernels, before: Int32Array, allowed: [number, number][], what: string): void {
  const after = new Int32Array(k.exports.memory.buffer);
  for (let i = 0; i < before.length; i++) {
    if (before[i] === after[i]) continue;
    if (!allowed.some(([s, e]) => i * 4 >= s && i * 4 < e)) {
      throw new Error(`${what}: wrote byte offset ${i * 4} outside its outputs (${before[i]} → ${after[i]})`);
    }
  }
}

const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
};

describe('the test geometry', () => {
  it('covers pool 2 and 3, stride 1/2/3, every padding mode, one and several planes', () => {
    const gs = CASES.map(geometry);
    for (const k of [2, 3]) expect(gs.some((g) => g.kh === k && g.kw === k)).toBe(true);
    for (const s of [1, 2, 3]) expect(gs.some((g) => g.sh === s)).toBe(true);
    for (const p of ['valid', 'same']) expect(CASES.some((t) => t.pad[0] === p)).toBe(true);
    expect(CASES.some((t) => typeof t.pad[0] === 'number' && t.pad[0] > 0)).toBe(true);
    expect(gs.some((g) => g.planes === 1) && gs.some((g) => g.planes > 1)).toBe(true);
    // 'same' really pads (⌈M/S⌉ outputs) somewhere, so in-bounds counting matters
    expect(gs.some((g, i) => CASES[i].pad[0] === 'same' && g.pt > 0)).toBe(true);
  });
});

describe.each(BUILDS)('pooling (%s build)', (build) => {
  it.each(cases())('maxpool forward %s: the max and where it came from', (_, g) => {
    const k = fresh(build);
    const n = g.planes * g.oh * g.ow;
    const rng = new Rng(n * 7 + g.h);
    const x = distinct(g.planes * g.h * g.w, rng);
    const ptr = { y: put(k, rng.array(n, 5, 6)), idx: put(k, new Float64Array(n).fill(77)), x: put(k, x) };
    const before = snapshot(k);
    k.exports.maxpool2d_forward(ptr.y, ptr.idx, ptr.x, ...geo(g));
    expectOnlyWritten(k, before, [[ptr.y, ptr.y + 4 * n], [ptr.idx, ptr.idx + 4 * n]], 'maxpool2d_forward');
    const ref = maxpool2dRef(x, g);
    const y = k.read(ptr.y, n + GUARD);
    expect(Array.from(y.subarray(0, n))).toEqual(Array.from(ref.y)); // a copy of one input: exact
    expectGuardIntact(y, n, 'y');
    expect(Array.from(i32(k, ptr.idx, n))).toEqual(Array.from(ref.idx));
  });

  it.each(cases())('maxpool forward %s with idx = 0 (inference): the same max, no indices written', (_, g) => {
    const k = fresh(build);
    const n = g.planes * g.oh * g.ow;
    const rng = new Rng(n * 7 + g.h);
    const x = distinct(g.planes * g.h * g.w, rng);
    const ptr = { y: put(k, rng.array(n, 5, 6)), x: put(k, x) };
    const before = snapshot(k);
    k.exports.maxpool2d_forward(ptr.y, 0, ptr.x, ...geo(g));
    expectOnlyWritten(k, before, [[ptr.y, ptr.y + 4 * n]], 'maxpool2d_forward(idx = 0)');
    const y = k.read(ptr.y, n + GUARD);
    expect(Array.from(y.subarray(0, n))).toEqual(Array.from(maxpool2dRef(x, g).y));
    expectGuardIntact(y, n, 'y');
  });

  it('maxpool 2×2 ties and NaN: the first of equal values wins, a NaN after the first cell never does, with or without indices', () => {
    const k = fresh(build);
    // 4 planes of 2×8 (4 windows each): ties, a NaN in each position, all equal
    const N = NaN;
    const planes = [
      [1, 1, 1, 1, 2, 2, 3, 0, 1, 1, 0, 3, 2, 2, 3, 3],
      [N, 1, 1, N, 1, 1, 1, 1, 1, 1, 1, 1, N, 1, 1, N],
      [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
      [-1, -2, -3, -4, -5, -6, -7, -8, -9, -1, -2, -3, -4, -5, -6, -7],
    ].flat();
    const g: PoolGeometry = { planes: 4, h: 2, w: 8, kh: 2, kw: 2, sh: 2, sw: 2, pt: 0, pl: 0, oh: 1, ow: 4 };
    const x = k.alloc(64, planes);
    const y = k.alloc(16);
    const idx = k.alloc(16);
    const ref = maxpool2dRef(planes, g);
    k.exports.maxpool2d_forward(y, idx, x, ...geo(g));
    expect(Array.from(k.read(y, 16))).toEqual(Array.from(ref.y));
    expect(Array.from(i32(k, idx, 16))).toEqual(Array.from(ref.idx));
    k.exports.maxpool2d_forward(y, 0, x, ...geo(g));
    expect(Array.from(k.read(y, 16))).toEqual(Array.from(ref.y));
  });

  it.each(cases())('maxpool backward %s routes dy to the argmax and accumulates', (_, g) => {
    const k = fresh(build);
    const n = g.planes * g.oh * g.ow;
    const nx = g.planes * g.h * g.w;
    const rng = new Rng(n * 11 + g.w);
    const x = distinct(nx, rng);
    const dy = rng.array(n);
    const dx0 = rng.array(nx, -3, 3);
    const ptr = { y: k.alloc(n), idx: k.alloc(n), x: k.alloc(nx, x), dy: k.alloc(n, dy), dx: put(k, dx0) };
    k.exports.maxpool2d_forward(ptr.y, ptr.idx, ptr.x, ...geo(g));
    const before = snapshot(k);
    k.exports.maxpool2d_backward(ptr.dx, ptr.dy, ptr.idx, g.planes, g.h, g.w, g.oh, g.ow);
    expectOnlyWritten(k, before, [[ptr.dx, ptr.dx + 4 * nx]], 'maxpool2d_backward');
    const ref = maxpool2dBackwardRef(dy, x, g);
    const scale = add(abs(dx0), maxpool2dBackwardRef(abs(dy), x, g));
    expectClose(k.read(ptr.dx, nx), add(dx0, ref), { rtol: 1e-6, atol: 1e-7, scale, label: 'dx' });
    // cells that are nobody's maximum get nothing
    const got = k.read(ptr.dx, nx);
    const winners = new Set(Array.from(maxpool2dRef(x, g).idx, (c, o) => Math.floor(o / (g.oh * g.ow)) * g.h * g.w + c));
    for (let i = 0; i < nx; i++) if (!winners.has(i)) expect(got[i]).toBe(Math.fround(dx0[i]));
  });

  it.each(cases())('avgpool forward %s: the mean over in-bounds cells', (_, g) => {
    const k = fresh(build);
    const n = g.planes * g.oh * g.ow;
    const rng = new Rng(n * 13 + g.h);
    const x = rng.array(g.planes * g.h * g.w);
    const ptr = { y: put(k, rng.array(n, 5, 6)), x: put(k, x) };
    const before = snapshot(k);
    k.exports.avgpool2d_forward(ptr.y, ptr.x, ...geo(g));
    expectOnlyWritten(k, before, [[ptr.y, ptr.y + 4 * n]], 'avgpool2d_forward');
    const y = k.read(ptr.y, n + GUARD);
    expectClose(y.subarray(0, n), avgpool2dRef(x, g), { rtol: 1e-6, atol: 1e-7, scale: avgpool2dRef(abs(x), g), label: 'y' });
    expectGuardIntact(y, n, 'y');
  });

  it.each(cases())('avgpool backward %s spreads dy over in-bounds cells and accumulates', (_, g) => {
    const k = fresh(build);
    const n = g.planes * g.oh * g.ow;
    const nx = g.planes * g.h * g.w;
    const rng = new Rng(n * 17 + g.w);
    const dy = rng.array(n);
    const dx0 = rng.array(nx, -3, 3);
    const ptr = { dy: k.alloc(n, dy), dx: put(k, dx0) };
    const before = snapshot(k);
    k.exports.avgpool2d_backward(ptr.dx, ptr.dy, ...geo(g));
    expectOnlyWritten(k, before, [[ptr.dx, ptr.dx + 4 * nx]], 'avgpool2d_backward');
    const scale = add(abs(dx0), avgpool2dBackwardRef(abs(dy), g));
    expectClose(k.read(ptr.dx, nx), add(dx0, avgpool2dBackwardRef(dy, g)), { rtol: 1e-6, atol: 1e-7, scale, label: 'dx' });
  });

  it.each(cases())('gradcheck %s: loss = Σ y·r for avg, and for max on distinct values', (_, g) => {
    const k = fresh(build);
    const n = g.planes * g.oh * g.ow;
    const nx = g.planes * g.h * g.w;
    const rng = new Rng(n * 19 + nx);
    const r = rng.array(n);
    const ptr = { x: k.alloc(nx), y: k.alloc(n), idx: k.alloc(n), dy: k.alloc(n, r), dx: k.alloc(nx) };

    const xa = rng.array(nx);
    k.exports.avgpool2d_backward(ptr.dx, ptr.dy, ...geo(g));
    const avgLoss = (v: Float64Array) => {
      k.write(ptr.x, v);
      k.exports.avgpool2d_forward(ptr.y, ptr.x, ...geo(g));
      return dot(k.read(ptr.y, n), r);
    };
    expectGradClose(avgLoss, xa, k.read(ptr.dx, nx), { label: 'avgpool dx' });

    const xm = distinct(nx, rng);
    k.write(ptr.x, xm);
    k.write(ptr.dx, new Float64Array(nx));
    k.exports.maxpool2d_forward(ptr.y, ptr.idx, ptr.x, ...geo(g));
    k.exports.maxpool2d_backward(ptr.dx, ptr.dy, ptr.idx, g.planes, g.h, g.w, g.oh, g.ow);
    const maxLoss = (v: Float64Array) => {
      k.write(ptr.x, v);
      k.exports.maxpool2d_forward(ptr.y, ptr.idx, ptr.x, ...geo(g));
      return dot(k.read(ptr.y, n), r);
    };
    expectGradClose(maxLoss, xm, k.read(ptr.dx, nx), { label: 'maxpool dx' });
  });

  it('padding never wins a max and never counts in a mean (worked examples)', () => {
    const k = fresh(build);
    // x = [[1, 2], [3, 4]] (and its negation), pool 2, stride 1, padding 1: a 3×3 output
    const g: PoolGeometry = { planes: 1, h: 2, w: 2, kh: 2, kw: 2, sh: 1, sw: 1, pt: 1, pl: 1, oh: 3, ow: 3 };
    const y = k.alloc(9);
    const idx = k.alloc(9);
    k.exports.avgpool2d_forward(y, k.alloc(4, [1, 2, 3, 4]), ...geo(g));
    expect(Array.from(k.read(y, 9))).toEqual([1, 1.5, 2, 2, 2.5, 3, 3, 3.5, 4]);
    k.exports.maxpool2d_forward(y, idx, k.alloc(4, [-1, -2, -3, -4]), ...geo(g));
    expect(Array.from(k.read(y, 9))).toEqual([-1, -1, -2, -1, -1, -2, -3, -3, -4]);
    expect(Array.from(i32(k, idx, 9))).toEqual([0, 0, 1, 0, 0, 1, 2, 2, 3]);
    // a 3×3 'same' mean of ones is 1 everywhere, corners included (not 4/9)
    const g3: PoolGeometry = { planes: 2, h: 3, w: 3, kh: 3, kw: 3, sh: 1, sw: 1, pt: 1, pl: 1, oh: 3, ow: 3 };
    const y3 = k.alloc(18);
    k.exports.avgpool2d_forward(y3, k.alloc(18, new Float64Array(18).fill(1)), ...geo(g3));
    expect(Array.from(k.read(y3, 18))).toEqual(new Array(18).fill(1));
    // and its backward gives a corner cell 1/4 + 1/6 + 1/6 + 1/9 of a unit dy
    const dx = k.alloc(18);
    k.exports.avgpool2d_backward(dx, k.alloc(18, new Float64Array(18).fill(1)), ...geo(g3));
    expect(k.read(dx, 1)[0]).toBeCloseTo(1 / 4 + 1 / 6 + 1 / 6 + 1 / 9, 6);
  });

  it('a window wholly in the padding gives 0, index −1, and no gradient', () => {
    const k = fresh(build);
    // top padding 2 with a 2-row window: the first output row sees only padding
    const g: PoolGeometry = { planes: 2, h: 3, w: 3, kh: 2, kw: 2, sh: 1, sw: 1, pt: 2, pl: 0, oh: 4, ow: 2 };
    const x = distinct(18, new Rng(3)).map((v) => Math.fround(v - 10)); // all negative: a 0 can only come from the empty window
    const ptr = { x: k.alloc(18, x), y: k.alloc(16), idx: k.alloc(16), dy: k.alloc(16, new Float64Array(16).fill(1)), dx: k.alloc(18) };
    k.exports.maxpool2d_forward(ptr.y, ptr.idx, ptr.x, ...geo(g));
    const ref = maxpool2dRef(x, g);
    expect(Array.from(k.read(ptr.y, 16))).toEqual(Array.from(ref.y));
    expect(Array.from(i32(k, ptr.idx, 16))).toEqual(Array.from(ref.idx));
    expect(Array.from(i32(k, ptr.idx, 2))).toEqual([-1, -1]);
    k.exports.maxpool2d_backward(ptr.dx, ptr.dy, ptr.idx, g.planes, g.h, g.w, g.oh, g.ow);
    expectClose(k.read(ptr.dx, 18), maxpool2dBackwardRef(new Float64Array(16).fill(1), x, g), { label: 'max dx' });
    k.exports.avgpool2d_forward(ptr.y, ptr.x, ...geo(g));
    expectClose(k.read(ptr.y, 16), avgpool2dRef(x, g), { label: 'avg y' });
    expect(Array.from(k.read(ptr.y, 2))).toEqual([0, 0]);
    k.write(ptr.dx, new Float64Array(18));
    k.exports.avgpool2d_backward(ptr.dx, ptr.dy, ...geo(g));
    expectClose(k.read(ptr.dx, 18), avgpool2dBackwardRef(new Float64Array(16).fill(1), g), { label: 'avg dx' });
  });
});

const LENGTHS = [0, 1, 3, 4, 5, 8, 13, 37];

describe.each(BUILDS)('residual join and dropout kernels (%s build)', (build) => {
  it.each(LENGTHS)('add_forward n=%i: y = a + b, nothing past n', (n) => {
    const k = fresh(build);
    const rng = new Rng(n + 1);
    const a = rng.mixed(n, [0, -1, 1e4, -2.5, 1e-3]);
    const b = rng.array(n, -4, 4);
    const yp = put(k, rng.array(n, 5, 6));
    k.exports.add_forward(yp, put(k, a), put(k, b), n);
    const y = k.read(yp, n + GUARD);
    expect(Array.from(y.subarray(0, n))).toEqual(Array.from(a, (v, i) => Math.fround(v + b[i]))); // one f32 add: exact
    expectGuardIntact(y, n, 'y');
  });

  it.each(LENGTHS)('dropout_forward / dropout_backward n=%i: y = x·mask, dx += dy·mask', (n) => {
    const k = fresh(build);
    const rng = new Rng(n + 100);
    const keep = Math.fround(1 / (1 - 0.25));
    const mask = Float64Array.from({ length: n }, () => (rng.uniform() < 0.75 ? keep : 0));
    const x = rng.array(n, -4, 4);
    const dy = rng.array(n, -4, 4);
    const dx0 = rng.array(n, -3, 3);
    const ptr = { y: put(k, rng.array(n, 5, 6)), x: put(k, x), mask: put(k, mask), dy: put(k, dy), dx: put(k, dx0) };
    k.exports.dropout_forward(ptr.y, ptr.x, ptr.mask, n);
    const y = k.read(ptr.y, n + GUARD);
    expect(Array.from(y.subarray(0, n))).toEqual(Array.from(x, (v, i) => Math.fround(v * mask[i])));
    expectGuardIntact(y, n, 'y');
    k.exports.dropout_backward(ptr.dx, ptr.dy, ptr.mask, n);
    const dx = k.read(ptr.dx, n + GUARD);
    expectClose(dx.subarray(0, n), Float64Array.from(dx0, (v, i) => v + dy[i] * mask[i]), { rtol: 1e-6, atol: 1e-7, label: 'dx' });
    expectGuardIntact(dx, n, 'dx');
    // dropped cells neither pass values forward nor gradients back
    for (let i = 0; i < n; i++) if (mask[i] === 0) { expect(y[i] === 0).toBe(true); expect(dx[i]).toBe(Math.fround(dx0[i])); }
  });
});
