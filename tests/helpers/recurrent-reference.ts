// Float64 references for the recurrent kernels, written the plain way (batch-first loops, one
// step at a time, PyTorch's equations), in the kernels' internal weight layout: wih(inp, G·u),
// whh(u, G·u), gate blocks along the columns.

export type Cell = 'lstm' | 'gru' | 'rnn';
export const GATES: Record<Cell, number> = { lstm: 4, gru: 3, rnn: 1 };
export const RNN_ACTS = ['tanh', 'sigmoid', 'relu'] as const;

export interface RecurrentProblem {
  cell: Cell;
  batch: number;
  steps: number;
  inp: number;
  units: number;
  /** simple RNN activation code: 0 tanh, 1 sigmoid, 2 relu */
  act?: number;
}

export interface RecurrentParams {
  /** x is time-major (steps, batch, inp) as the kernels take it */
  x: ArrayLike<number>;
  wih: ArrayLike<number>;
  whh: ArrayLike<number>;
  bih: ArrayLike<number>;
  bhh: ArrayLike<number>;
  /** (batch, units) or absent for zeros */
  h0?: ArrayLike<number>;
  c0?: ArrayLike<number>;
}

const sig = (v: number): number => 1 / (1 + Math.exp(-v));

/** Every step's hidden state, time-major (steps, batch, units), and the LSTM's cell states. */
export function recurrentForwardRef(p: RecurrentProblem, w: RecurrentParams): { h: Float64Array; c: Float64Array } {
  const { cell, batch: B, steps: T, inp: F, units: u } = p;
  const G = GATES[cell] * u;
  const h = new Float64Array(T * B * u);
  const c = new Float64Array(T * B * u);
  const act = [Math.tanh, sig, (v: number) => Math.max(v, 0)][p.act ?? 0];
  for (let t = 0; t < T; t++) {
    for (let b = 0; b < B; b++) {
      const xg = new Float64Array(G);
      const hg = new Float64Array(G);
      for (let j = 0; j < G; j++) {
        let sx = w.bih[j];
        for (let i = 0; i < F; i++) sx += w.x[(t * B + b) * F + i] * w.wih[i * G + j];
        let sh = w.bhh[j];
        for (let i = 0; i < u; i++) {
          const hp = t > 0 ? h[((t - 1) * B + b) * u + i] : (w.h0 ? w.h0[b * u + i] : 0);
          sh += hp * w.whh[i * G + j];
        }
        xg[j] = sx;
        hg[j] = sh;
      }
      for (let j = 0; j < u; j++) {
        const o = (t * B + b) * u + j;
        const hp = t > 0 ? h[o - B * u] : (w.h0 ? w.h0[b * u + j] : 0);
        if (cell === 'rnn') {
          h[o] = act(xg[j] + hg[j]);
        } else if (cell === 'lstm') {
          const cp = t > 0 ? c[o - B * u] : (w.c0 ? w.c0[b * u + j] : 0);
          const [i, f, g, og] = [0, 1, 2, 3].map((k) => xg[k * u + j] + hg[k * u + j]);
          c[o] = sig(f) * cp + sig(i) * Math.tanh(g);
          h[o] = sig(og) * Math.tanh(c[o]);
        } else {
          const r = sig(xg[j] + hg[j]);
          const z = sig(xg[u + j] + hg[u + j]);
          const n = Math.tanh(xg[2 * u + j] + r * hg[2 * u + j]);
          h[o] = (1 - z) * n + z * hp;
        }
      }
    }
  }
  return { h, c };
}

/**
 * Float64 gradients of L = Σ dh·h (dh time-major, one weight per hidden value of every step)
 * by central differences of the float64 forward: a reference for the backward kernels that
 * shares no code with them.
 */
export function recurrentBackwardRef(p: RecurrentProblem, w: RecurrentParams, dh: ArrayLike<number>): Record<'x' | 'wih' | 'whh' | 'bih' | 'bhh', Float64Array> {
  const loss = (q: RecurrentParams): number => {
    const { h } = recurrentForwardRef(p, q);
    let s = 0;
    for (let i = 0; i < h.length; i++) s += dh[i] * h[i];
    return s;
  };
  const out = {} as Record<'x' | 'wih' | 'whh' | 'bih' | 'bhh', Float64Array>;
  for (const key of ['x', 'wih', 'whh', 'bih', 'bhh'] as const) {
    const v = Float64Array.from(w[key]);
    const g = new Float64Array(v.length);
    const eps = 1e-6;
    for (let i = 0; i < v.length; i++) {
      const keep = v[i];
      v[i] = keep + eps;
      const up = loss({ ...w, [key]: v });
      v[i] = keep - eps;
      const down = loss({ ...w, [key]: v });
      v[i] = keep;
      g[i] = (up - down) / (2 * eps);
    }
    out[key] = g;
  }
  return out;
}
