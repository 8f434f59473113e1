// How much can per-sensor fine-tuning gain on the gateway's forecasts at all? Two checks that need
// no neural network (not part of npm test):
//  1. the dataset: per mote, readings, span, levels (normal readings, whole mote and by thirds),
//     the quantisation step and how often a reading equals the previous one, how far the readings move in h steps
//     (persistence MAE) and whether those moves persist (correlation of consecutive h-step changes);
//  2. linear forecasters of the h-step change (least absolute deviations, features: the change
//     from 1, 2, 4, 8, 16 and 31 readings back, optionally the level) fitted on the pooled motes 2
//     and 3, on mote 1's or 4's own earlier 60% (shrunk toward the pooled fit by λ), and — as an
//     upper bound that cheats — on the very readings evaluated (the later 40%). Each as `rel`:
//     MAE / persistence MAE, averaged over the two features.
// If even the cheating fit is not 20% below the pooled one, a mote's own data has little to teach
// a forecaster of this form. See scripts/gateway-forecast-experiments.mjs for the LSTM grid.
//   node scripts/gateway-forecast-headroom.mjs
import { events, moteRows } from '../examples/gateway/dataset.mjs';

const W = 32;
const HORIZONS = [1, 6, 12, 24, 60];
const LAGS = [1, 2, 4, 8, 16, 31];
const FEATURES = ['humidity', 'temperature'];
const mean = (a) => a.reduce((x, y) => x + y, 0) / a.length;
const sd = (a) => { const m = mean(a); return Math.sqrt(mean(a.map((v) => (v - m) ** 2))); };
const series = (mote) => moteRows(mote).map((r) => ({ v: [r.humidity, r.temperature], normal: r.label === 0 }));
const allNormal = (s, a, b) => { for (let k = Math.max(0, a); k <= b; k++) if (!s[k].normal) return false; return true; };

// --- 1. the dataset ---
for (const mote of [1, 2, 3, 4]) {
  const rows = moteRows(mote);
  const s = series(mote);
  const normal = rows.filter((r) => r.label === 0);
  const ev = events(rows).map(([a, b]) => `${rows[a].reading}-${rows[b].reading}`);
  console.log(`mote ${mote} (${rows[0].indoor ? 'indoor' : 'outdoor'}): ${rows.length} readings = ${(rows.length * 5 / 3600).toFixed(1)} h; labelled ${rows.length - normal.length} (events ${ev.join(', ') || 'none'})`);
  for (const [j, f] of FEATURES.entries()) {
    const v = normal.map((r) => r[f]);
    const thirds = [0, 1, 2].map((k) => mean(rows.slice(Math.floor(k * rows.length / 3), Math.floor((k + 1) * rows.length / 3)).filter((r) => r.label === 0).map((r) => r[f])).toFixed(2));
    const steps = s.slice(1).map((r, i) => Math.abs(r.v[j] - s[i].v[j]));
    const moved = steps.filter((d) => d > 1e-9);
    const cells = HORIZONS.map((h) => {
      const d = []; const pairs = [];
      for (let t = h; t < s.length; t++) if (allNormal(s, t - h, t)) d.push(Math.abs(s[t].v[j] - s[t - h].v[j]));
      for (let t = 2 * h; t < s.length; t++) if (allNormal(s, t - 2 * h, t)) pairs.push([s[t].v[j] - s[t - h].v[j], s[t - h].v[j] - s[t - 2 * h].v[j]]);
      const a = pairs.map((p) => p[0]); const b = pairs.map((p) => p[1]); const ma = mean(a); const mb = mean(b);
      const r = mean(pairs.map((p) => (p[0] - ma) * (p[1] - mb))) / (sd(a) * sd(b));
      return `h ${h}: ${mean(d).toFixed(4)} (r ${r.toFixed(2)})`;
    });
    console.log(`  ${f.padEnd(11)} ${mean(v).toFixed(2)} ± ${sd(v).toFixed(2)}, by thirds ${thirds.join(' → ')}; step ${Math.min(...moved).toFixed(2)}, unchanged after 5 s ${((1 - moved.length / steps.length) * 100).toFixed(0)}%; persistence MAE ${cells.join(', ')}`);
  }
}

// --- 2. linear headroom ---
function solve(A, b) { // Gaussian elimination with partial pivoting; A is d × d
  const d = b.length; A = A.map((r) => [...r]); b = [...b];
  for (let i = 0; i < d; i++) {
    let p = i; for (let k = i + 1; k < d; k++) if (Math.abs(A[k][i]) > Math.abs(A[p][i])) p = k;
    [A[i], A[p]] = [A[p], A[i]]; [b[i], b[p]] = [b[p], b[i]];
    for (let k = i + 1; k < d; k++) { const f = A[k][i] / A[i][i]; for (let q = i; q < d; q++) A[k][q] -= f * A[i][q]; b[k] -= f * b[i]; }
  }
  const x = new Array(d).fill(0);
  for (let i = d - 1; i >= 0; i--) { let t = b[i]; for (let q = i + 1; q < d; q++) t -= A[i][q] * x[q]; x[i] = t / A[i][i]; }
  return x;
}
const LEVEL = [46.463, 27.864]; // the base model's training mean
function samples(s, h, from, to, level) {
  const X = []; const Y = [];
  for (let t = Math.max(from, W - 1 + h); t < to; t++) {
    if (!allNormal(s, t - h - W + 1, t)) continue;
    const e = t - h; const x = [1];
    for (let j = 0; j < 2; j++) { for (const k of LAGS) x.push(s[e].v[j] - s[e - k].v[j]); if (level) x.push(s[e].v[j] - LEVEL[j]); }
    X.push(x); Y.push([0, 1].map((j) => s[t].v[j] - s[e].v[j]));
  }
  return { X, Y };
}
/** Least absolute deviations by iteratively reweighted least squares, ridge toward `prior` with strength λ. */
function fit(X, Y, lambda = 1e-6, prior) {
  const d = X[0].length;
  return [0, 1].map((j) => {
    const pr = prior ? prior[j] : new Array(d).fill(0);
    let w = [...pr];
    for (let it = 0; it < 15; it++) {
      const A = Array.from({ length: d }, () => new Array(d).fill(0)); const b = new Array(d).fill(0);
      X.forEach((x, i) => {
        const r = Math.abs(Y[i][j] - x.reduce((a, c, q) => a + c * w[q], 0));
        const wt = it === 0 ? 1 : 1 / Math.max(r, 1e-3);
        for (let p = 0; p < d; p++) { b[p] += wt * x[p] * Y[i][j]; for (let q = 0; q < d; q++) A[p][q] += wt * x[p] * x[q]; }
      });
      const scale = A.reduce((a, r, p) => a + r[p], 0) / d;
      for (let p = 0; p < d; p++) { A[p][p] += lambda * scale; b[p] += lambda * scale * pr[p]; }
      w = solve(A, b);
    }
    return w;
  });
}
const mae = (w, { X, Y }) => [0, 1].map((j) => mean(X.map((x, i) => Math.abs((w ? w[j].reduce((a, c, q) => a + c * x[q], 0) : 0) - Y[i][j]))));

console.log('\nlinear forecasters of the h-step change, rel = MAE / persistence MAE (mean of the two features):');
for (const level of [false, true]) {
  for (const h of [6, 24, 60]) {
    const pool = { X: [], Y: [] };
    for (const m of [2, 3]) { const s = series(m); const d = samples(s, h, 0, Math.floor(s.length * 0.8), level); pool.X.push(...d.X); pool.Y.push(...d.Y); }
    const pooled = fit(pool.X, pool.Y);
    const lines = [1, 4].map((m) => {
      const s = series(m); const later = Math.floor(s.length * 0.6);
      const ev = samples(s, h, later, s.length, level); const own = samples(s, h, 0, later, level);
      const p = mae(null, ev);
      const rel = (w) => { const e = mae(w, ev); return ((e[0] / p[0] + e[1] / p[1]) / 2).toFixed(3); };
      return `mote ${m}: pooled ${rel(pooled)}, own earlier data λ 0.01/0.1/1 ${[0.01, 0.1, 1].map((l) => rel(fit(own.X, own.Y, l, pooled))).join('/')}, fitted on the evaluated readings (cheating) ${rel(fit(ev.X, ev.Y))}`;
    });
    console.log(`  h ${h}${level ? ' with level' : ''}: ${lines.join('; ')}`);
  }
}
