// dense_forward / dense_backward / column_sum against the float64 reference in every build, plus
// a finite-difference check of the whole layer (dx, dwt, dbias) through loss = Σ y·r.
import { describe, it } from 'vitest';
import { BUILDS, RawKernels, type Build, fresh, put } from '../helpers/wasm';
import { Rng, abs, add, denseBackwardRef, denseForwardRef, expectClose, expectGuardIntact, GUARD } from '../helpers/reference';
import { expectGradClose } from '../helpers/gradcheck';

// Dot products: error relative to Σ|terms| (computed by running the reference on |inputs|).
const RTOL = 1e-5;
const ATOL = 1e-6;

// [batch, in, out]: batch 1 (gemv paths) and > 1, odd sizes around the 4×8 tile, a K block
// (in = 300 > 256), an N block (out = 513 > 512), and empty edges.
const SHAPES: [number, number, number][] = [
  [1, 1, 1], [1, 7, 9], [1, 300, 25], [1, 5, 513], [1, 13, 4],
  [2, 3, 5], [4, 8, 8], [5, 17, 9], [13, 33, 31], [65, 13, 7], [3, 300, 9], [2, 9, 513],
  [3, 0, 5], [0, 4, 5],
];


/** Byte-for-byte copy of the whole instance memory. */
const snapshot = (k: RawKernels) => new Int32Array(k.exports.memory.buffer.slice(0));

/** Throws if any 4-byte word outside the allowed [start, end) byte ranges changed. */
function expectOnlyWritten(k: RawKernels, before: Int32Array, allowed: [number, number][], label: string): void {
  const after = new Int32Array(k.exports.memory.buffer);
  for (let w = 0; w < before.length; w++) {
    if (before[w] === after[w]) continue;
    const byte = w * 4;
    if (!allowed.some(([s, e]) => byte >= s && byte < e)) {
      throw new Error(`${label}: wrote byte offset ${byte} outside its outputs (${before[w]} → ${after[w]})`);
    }
  }
}

describe.each(BUILDS)('dense (%s build)', (build) => {
  it('bias pointer 0 means no bias: forward is x·wt, backward leaves the bias gradient alone', () => {
    const k = fresh(build);
    const rng = new Rng(77);
    const [batch, inp, out] = [3, 5, 9];
    const x = rng.array(batch * inp);
    const wt = rng.array(inp * out);
    const yp = put(k, rng.array(batch * out, 5, 6));
    k.exports.dense_forward(yp, put(k, x), put(k, wt), 0, batch, inp, out, k.scratch);
    expectClose(k.read(yp, batch * out), denseForwardRef(x, wt, new Float64Array(out), batch, inp, out), { rtol: RTOL, atol: ATOL, label: 'y' });
    const dy = rng.array(batch * out);
    const dwt = put(k, new Float64Array(inp * out));
    const [dyp, xp, wtp] = [put(k, dy), put(k, x), put(k, wt)];
    const before = snapshot(k);
    k.exports.dense_backward(0, dwt, 0, dyp, xp, wtp, batch, inp, out, k.scratch);
    const ref = denseBackwardRef(dy, x, wt, batch, inp, out);
    expectClose(k.read(dwt, inp * out), ref.dwt, { rtol: RTOL, atol: ATOL, label: 'dwt' });
    // nothing but dwt and the gemm scratch was written: no bias gradient at address 0
    expectOnlyWritten(k, before, [[dwt, dwt + inp * out * 4], [k.scratch, k.scratch + k.exports.gemm_scratch_bytes()]], 'no-bias backward');
  });

  it.each(SHAPES)('forward batch=%i in=%i out=%i', (batch, inp, out) => {
    const k = fresh(build);
    const rng = new Rng(batch * 10007 + inp * 101 + out);
    const x = rng.array(batch * inp);
    const wt = rng.array(inp * out);
    const bias = rng.array(out);
    const y0 = rng.array(batch * out, 5, 6); // stale contents: must be overwritten
    const yp = put(k, y0);
    k.exports.dense_forward(yp, put(k, x), put(k, wt), put(k, bias), batch, inp, out, k.scratch);
    const y = k.read(yp, y0.length + GUARD);
    const scale = denseForwardRef(abs(x), abs(wt), abs(bias), batch, inp, out);
    expectClose(y.subarray(0, y0.length), denseForwardRef(x, wt, bias, batch, inp, out), { rtol: RTOL, atol: ATOL, scale, label: 'y' });
    expectGuardIntact(y, y0.length, 'y');
  });

  it.each(SHAPES)('backward batch=%i in=%i out=%i accumulates and writes nothing else', (batch, inp, out) => {
    const k = fresh(build);
    const rng = new Rng(batch * 7919 + inp * 31 + out);
    const x = rng.array(batch * inp);
    const wt = rng.array(inp * out);
    const dy = rng.array(batch * out);
    // gradients are accumulated: start from non-zero buffers
    const dx0 = rng.array(batch * inp, -3, 3);
    const dwt0 = rng.array(inp * out, -3, 3);
    const db0 = rng.array(out, -3, 3);
    const ptr = {
      x: k.alloc(x.length, x), wt: k.alloc(wt.length, wt), dy: k.alloc(dy.length, dy),
      dx: k.alloc(dx0.length, dx0), dwt: k.alloc(dwt0.length, dwt0), db: k.alloc(out, db0),
    };
    const before = snapshot(k);
    k.exports.dense_backward(ptr.dx, ptr.dwt, ptr.db, ptr.dy, ptr.x, ptr.wt, batch, inp, out, k.scratch);
    expectOnlyWritten(k, before, [
      [ptr.dx, ptr.dx + 4 * dx0.length], [ptr.dwt, ptr.dwt + 4 * dwt0.length], [ptr.db, ptr.db + 4 * out],
      [k.scratch, k.scratch + k.exports.gemm_scratch_bytes()],
    ], 'dense_backward');

    const g = denseBackwardRef(dy, x, wt, batch, inp, out);
    const s = denseBackwardRef(abs(dy), abs(x), abs(wt), batch, inp, out);
    expectClose(k.read(ptr.dx, dx0.length), add(dx0, g.dx), { rtol: RTOL, atol: ATOL, scale: add(abs(dx0), s.dx), label: 'dx' });
    expectClose(k.read(ptr.dwt, dwt0.length), add(dwt0, g.dwt), { rtol: RTOL, atol: ATOL, scale: add(abs(dwt0), s.dwt), label: 'dwt' });
    expectClose(k.read(ptr.db, out), add(db0, g.dbias), { rtol: RTOL, atol: ATOL, scale: add(abs(db0), s.dbias), label: 'dbias' });
  });

  it.each(SHAPES)('backward batch=%i in=%i out=%i with dx = 0 skips the input gradient', (batch, inp, out) => {
    const k = fresh(build);
    const rng = new Rng(batch * 503 + inp * 17 + out);
    const x = rng.array(batch * inp);
    const wt = rng.array(inp * out);
    const dy = rng.array(batch * out);
    const dwt0 = rng.array(inp * out, -3, 3);
    const db0 = rng.array(out, -3, 3);
    const ptr = {
      x: k.alloc(x.length, x), wt: k.alloc(wt.length, wt), dy: k.alloc(dy.length, dy),
      dwt: k.alloc(dwt0.length, dwt0), db: k.alloc(out, db0),
    };
    const before = snapshot(k);
    k.exports.dense_backward(0, ptr.dwt, ptr.db, ptr.dy, ptr.x, ptr.wt, batch, inp, out, k.scratch);
    // in particular nothing at address 0 (where a dx would have gone)
    expectOnlyWritten(k, before, [
      [ptr.dwt, ptr.dwt + 4 * dwt0.length], [ptr.db, ptr.db + 4 * out],
      [k.scratch, k.scratch + k.exports.gemm_scratch_bytes()],
    ], 'dense_backward(dx = 0)');
    const g = denseBackwardRef(dy, x, wt, batch, inp, out);
    const s = denseBackwardRef(abs(dy), abs(x), abs(wt), batch, inp, out);
    expectClose(k.read(ptr.dwt, dwt0.length), add(dwt0, g.dwt), { rtol: RTOL, atol: ATOL, scale: add(abs(dwt0), s.dwt), label: 'dwt' });
    expectClose(k.read(ptr.db, out), add(db0, g.dbias), { rtol: RTOL, atol: ATOL, scale: add(abs(db0), s.dbias), label: 'dbias' });
  });

  it.each([[1, 3, 5], [1, 7, 1], [3, 5, 9], [4, 9, 4], [2, 1, 13]])(
    'gradcheck of the whole layer batch=%i in=%i out=%i: loss = Σ y·r',
    (batch, inp, out) => {
      const k = fresh(build);
      const rng = new Rng(batch * 131 + inp * 7 + out);
      const x = rng.array(batch * inp);
      const wt = rng.array(inp * out);
      const bias = rng.array(out);
      const r = rng.array(batch * out);
      const ptr = {
        x: k.alloc(x.length, x), wt: k.alloc(wt.length, wt), bias: k.alloc(out, bias), y: k.alloc(batch * out),
        dy: k.alloc(r.length, r), dx: k.alloc(x.length), dwt: k.alloc(wt.length), db: k.alloc(out),
      };
      k.exports.dense_backward(ptr.dx, ptr.dwt, ptr.db, ptr.dy, ptr.x, ptr.wt, batch, inp, out, k.scratch);
      const dx = k.read(ptr.dx, x.length);
      const dwt = k.read(ptr.dwt, wt.length);
      const db = k.read(ptr.db, out);

      /** loss(x, wt, bias) with `which` replaced by v, evaluated by the kernel */
      const loss = (which: 'x' | 'wt' | 'bias') => (v: Float64Array) => {
        k.write(ptr[which], v);
        k.exports.dense_forward(ptr.y, ptr.x, ptr.wt, ptr.bias, batch, inp, out, k.scratch);
        const y = k.read(ptr.y, batch * out);
        let s = 0;
        for (let i = 0; i < y.length; i++) s += y[i] * r[i];
        return s;
      };
      expectGradClose(loss('x'), x, dx, { label: 'dx' });
      k.write(ptr.x, x);
      expectGradClose(loss('wt'), wt, dwt, { label: 'dwt' });
      k.write(ptr.wt, wt);
      expectGradClose(loss('bias'), bias, db, { label: 'dbias' });
    },
  );

  it.each([0, 1, 3, 4, 5, 12, 13, 37])('column_sum accumulates over rows, cols=%i', (cols) => {
    const k = fresh(build);
    for (const rows of [0, 1, 3, 6]) {
      const rng = new Rng(rows * 100 + cols);
      const m = rng.mixed(rows * cols, [0, -1, 1e4, -2.5, 1e-3]);
      const s0 = rng.array(cols, -3, 3);
      const sp = put(k, s0);
      k.exports.column_sum(sp, put(k, m), rows, cols);
      const expected = Float64Array.from(s0);
      const scale = abs(s0);
      for (let r = 0; r < rows; r++) {
        for (let j = 0; j < cols; j++) {
          expected[j] += m[r * cols + j];
          scale[j] += Math.abs(m[r * cols + j]);
        }
      }
      const s = k.read(sp, cols + GUARD);
      expectClose(s.subarray(0, cols), expected, { rtol: 1e-6, atol: 1e-7, scale, label: `column_sum rows=${rows}` });
      expectGuardIntact(s, cols, 'column_sum');
    }
  });
});
