// The recurrent kernels (simple RNN, LSTM, GRU), seq_transpose and embedding against float64
// references in every build: forward states, and backward through time against central
// differences of the float64 forward. Shapes cover T = 1, 2, 37; units 1, around the 4-lane
// SIMD tile and the 8-wide GEMM tile; batch 1 and odd; with and without an initial state.
import { describe, expect, it } from 'vitest';
import { BUILDS, fresh, put, type RawKernels } from '../helpers/wasm';
import { Rng, expectClose, expectGuardIntact, GUARD } from '../helpers/reference';
import { GATES, recurrentBackwardRef, recurrentForwardRef, type Cell, type RecurrentParams, type RecurrentProblem } from '../helpers/recurrent-reference';

// [batch, steps, inp, units]
const FORWARD_SHAPES: [number, number, number, number][] = [
  [1, 1, 1, 1], [1, 2, 3, 3], [3, 37, 2, 4], [2, 5, 3, 5], [5, 3, 4, 7], [1, 4, 2, 8], [3, 2, 5, 9], [7, 6, 9, 16], [2, 3, 1, 33],
];
const BACKWARD_SHAPES: [number, number, number, number][] = [
  [1, 1, 1, 1], [1, 2, 3, 3], [3, 37, 2, 4], [2, 5, 3, 5], [3, 3, 2, 9],
];
const CELLS: Cell[] = ['rnn', 'lstm', 'gru'];

function problem(cell: Cell, shape: [number, number, number, number], withState: boolean, act = 0) {
  const [batch, steps, inp, units] = shape;
  const p: RecurrentProblem = { cell, batch, steps, inp, units, act };
  const rng = new Rng(batch * 7919 + steps * 131 + inp * 17 + units + GATES[cell] * 1_000_003 + (withState ? 1 : 0));
  const G = GATES[cell] * units;
  const w: RecurrentParams = {
    x: rng.array(steps * batch * inp),
    wih: rng.array(inp * G, -0.8, 0.8),
    whh: rng.array(units * G, -0.6, 0.6),
    bih: rng.array(G, -0.5, 0.5),
    bhh: rng.array(G, -0.5, 0.5),
    h0: withState ? rng.array(batch * units) : undefined,
    c0: withState ? rng.array(batch * units) : undefined,
  };
  return { p, w, rng, G };
}

interface Run { h: number; c: number; gates: number; hgates: number; ptrs: Record<string, number> }

function runForward(k: RawKernels, p: RecurrentProblem, w: RecurrentParams): Run {
  const { batch: B, steps: T, inp: F, units: u, cell } = p;
  const G = GATES[cell] * u;
  const ptrs = {
    x: put(k, w.x), wih: put(k, w.wih), whh: put(k, w.whh), bih: put(k, w.bih), bhh: put(k, w.bhh),
    h0: w.h0 ? put(k, w.h0) : 0, c0: w.c0 ? put(k, w.c0) : 0,
  };
  const stale = new Float64Array(T * B * G).fill(7.5); // outputs must be overwritten
  const h = put(k, stale.subarray(0, T * B * u));
  const c = put(k, stale.subarray(0, T * B * u));
  const gates = put(k, stale);
  const hgates = put(k, stale);
  const e = k.exports;
  if (cell === 'lstm') e.lstm_forward(h, c, gates, ptrs.x, ptrs.wih, ptrs.whh, ptrs.bih, ptrs.bhh, ptrs.h0, ptrs.c0, B, T, F, u, k.scratch);
  else if (cell === 'gru') e.gru_forward(h, gates, hgates, ptrs.x, ptrs.wih, ptrs.whh, ptrs.bih, ptrs.bhh, ptrs.h0, B, T, F, u, k.scratch);
  else e.rnn_forward(h, ptrs.x, ptrs.wih, ptrs.whh, ptrs.bih, ptrs.bhh, ptrs.h0, B, T, F, u, p.act ?? 0, k.scratch);
  return { h, c, gates, hgates, ptrs };
}

describe.each(BUILDS)('recurrent kernels (%s build)', (build) => {
  for (const cell of CELLS) {
    it.each(FORWARD_SHAPES)(`${cell} forward batch=%i steps=%i inp=%i units=%i`, (...shape) => {
      for (const withState of [false, true]) {
        const acts = cell === 'rnn' ? [0, 1, 2] : [0];
        for (const act of acts) {
          const k = fresh(build);
          const { p, w } = problem(cell, shape, withState, act);
          if (cell !== 'lstm') w.c0 = undefined;
          const run = runForward(k, p, w);
          const n = p.steps * p.batch * p.units;
          const ref = recurrentForwardRef(p, w);
          const label = `${cell} state=${withState} act=${act}`;
          const h = k.read(run.h, n + GUARD);
          expectClose(h.subarray(0, n), ref.h, { rtol: 2e-5, atol: 2e-6, label: `${label} h` });
          expectGuardIntact(h, n, `${label} h`);
          if (cell === 'lstm') expectClose(k.read(run.c, n), ref.c, { rtol: 2e-5, atol: 2e-6, label: `${label} c` });
        }
      }
    });

    it.each(BACKWARD_SHAPES)(`${cell} backward through time batch=%i steps=%i inp=%i units=%i`, (...shape) => {
      for (const withState of [false, true]) {
        const k = fresh(build);
        const { p, w, rng, G } = problem(cell, shape, withState, 0);
        if (cell !== 'lstm') w.c0 = undefined;
        const { batch: B, steps: T, inp: F, units: u } = p;
        const run = runForward(k, p, w);
        const dhUp = rng.array(T * B * u);
        const ref = recurrentBackwardRef(p, w, dhUp);
        // the backward accumulates: start every gradient from a known non-zero value
        const start = { x: rng.array(T * B * F), wih: rng.array(F * G), whh: rng.array(u * G), bih: rng.array(G), bhh: rng.array(G) };
        const d = {
          x: put(k, start.x), wih: put(k, start.wih), whh: put(k, start.whh), bih: put(k, start.bih), bhh: put(k, start.bhh),
        };
        const dh = put(k, dhUp);
        const dgates = put(k, new Float64Array(T * B * G));
        const dhgates = put(k, new Float64Array(T * B * G));
        const dc = put(k, new Float64Array(B * u).fill(3)); // scratch: must be reset by the kernel
        const e = k.exports;
        const P = run.ptrs;
        if (cell === 'lstm') {
          e.lstm_backward(d.x, d.wih, d.whh, d.bih, d.bhh, dgates, dh, dc, P.x, run.h, run.c, run.gates, P.wih, P.whh, P.h0, P.c0, B, T, F, u, k.scratch);
        } else if (cell === 'gru') {
          e.gru_backward(d.x, d.wih, d.whh, d.bih, d.bhh, dgates, dhgates, dh, P.x, run.h, run.gates, run.hgates, P.wih, P.whh, P.h0, B, T, F, u, k.scratch);
        } else {
          e.rnn_backward(d.x, d.wih, d.whh, d.bih, d.bhh, dgates, dh, P.x, run.h, P.wih, P.whh, P.h0, B, T, F, u, 0, k.scratch);
        }
        for (const key of ['x', 'wih', 'whh', 'bih', 'bhh'] as const) {
          const n = start[key].length;
          const got = k.read(d[key], n + GUARD);
          const want = ref[key].map((g, i) => g + start[key][i]);
          expectClose(got.subarray(0, n), want, { rtol: 1e-4, atol: 5e-5, label: `${cell} state=${withState} d${key}` });
          expectGuardIntact(got, n, `d${key}`);
        }
      }
    });
  }

  it('backward with dx = 0 leaves the input gradient alone and still gives the weight gradients', () => {
    const k = fresh(build);
    const { p, w, rng, G } = problem('lstm', [2, 4, 3, 5], false);
    const { batch: B, steps: T, inp: F, units: u } = p;
    const run = runForward(k, p, w);
    const dhUp = rng.array(T * B * u);
    const ref = recurrentBackwardRef(p, w, dhUp);
    const dwih = put(k, new Float64Array(F * G));
    const z = () => put(k, new Float64Array(Math.max(u * G, G)));
    k.exports.lstm_backward(0, dwih, z(), z(), z(), put(k, new Float64Array(T * B * G)), put(k, dhUp), z(),
      run.ptrs.x, run.h, run.c, run.gates, run.ptrs.wih, run.ptrs.whh, 0, 0, B, T, F, u, k.scratch);
    expectClose(k.read(dwih, F * G), ref.wih, { rtol: 1e-4, atol: 5e-5, label: 'dwih' });
  });

  it('seq_transpose swaps the two leading axes, overwriting or accumulating', () => {
    const k = fresh(build);
    const rng = new Rng(5);
    for (const [a, b, n] of [[1, 1, 1], [3, 5, 7], [4, 2, 8], [37, 3, 2]]) {
      const src = rng.array(a * b * n);
      const base = rng.array(a * b * n);
      const want = new Float64Array(a * b * n);
      for (let i = 0; i < a; i++) for (let j = 0; j < b; j++) for (let m = 0; m < n; m++) want[(j * a + i) * n + m] = src[(i * b + j) * n + m];
      const s = put(k, src);
      const d0 = put(k, base);
      k.exports.seq_transpose(d0, s, a, b, n, 0);
      const got = k.read(d0, a * b * n + GUARD);
      expectClose(got.subarray(0, a * b * n), want, { rtol: 0, atol: 0, label: 'overwrite' });
      expectGuardIntact(got, a * b * n, 'dst');
      const d1 = put(k, base);
      k.exports.seq_transpose(d1, s, a, b, n, 1);
      expectClose(k.read(d1, a * b * n), want.map((v, i) => v + base[i]), { rtol: 1e-6, atol: 1e-6, label: 'accumulate' });
    }
  });

  it('embedding gathers rows forward and adds rows back, repeated ids summing', () => {
    const k = fresh(build);
    const rng = new Rng(11);
    const [vocab, dim, rows] = [6, 5, 9];
    const weight = rng.array(vocab * dim);
    const ids = [0, 5, 2, 2, 3, 5, 5, 1, 0];
    const y = put(k, new Float64Array(rows * dim).fill(9));
    k.exports.embedding_forward(y, put(k, ids), put(k, weight), rows, dim);
    const want = new Float64Array(rows * dim);
    ids.forEach((id, r) => { for (let j = 0; j < dim; j++) want[r * dim + j] = weight[id * dim + j]; });
    expectClose(k.read(y, rows * dim), want, { rtol: 0, atol: 0, label: 'forward' });
    const dy = rng.array(rows * dim);
    const g0 = rng.array(vocab * dim);
    const dw = put(k, g0);
    k.exports.embedding_backward(dw, put(k, dy), put(k, ids), rows, dim);
    const wantG = Float64Array.from(g0);
    ids.forEach((id, r) => { for (let j = 0; j < dim; j++) wantG[id * dim + j] += dy[r * dim + j]; });
    const got = k.read(dw, vocab * dim + GUARD);
    expectClose(got.subarray(0, vocab * dim), wantG, { rtol: 1e-6, atol: 1e-6, label: 'backward' });
    expectGuardIntact(got, vocab * dim, 'dweight');
  });

  it('the clipping helpers: sum_squares, scale, clip_values', () => {
    const k = fresh(build);
    const v = new Rng(3).array(37, -3, 3);
    const p = put(k, v);
    expect(k.exports.sum_squares(p, 37)).toBeCloseTo(Array.from(new Float32Array(v)).reduce((s, a) => s + a * a, 0), 5);
    k.exports.scale(p, 37, 0.5);
    expectClose(k.read(p, 37), v.map((a) => a * 0.5), { rtol: 1e-6, atol: 1e-7, label: 'scale' });
    k.exports.clip_values(p, 37, 1);
    const got = k.read(p, 37 + GUARD);
    expectClose(got.subarray(0, 37), v.map((a) => Math.min(Math.max(a * 0.5, -1), 1)), { rtol: 1e-6, atol: 1e-7, label: 'clip' });
    expectGuardIntact(got, 37, 'clip');
  });
});
