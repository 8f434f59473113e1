// The gateway's figures (not part of npm test):
//  1. forecast MAE on motes 1 and 4's later normal readings (the last 40%), base model vs the
//     per-sensor copy fine-tuned the gateway's way (LSTM frozen, Adam 1e-3 on the dense head,
//     MAE loss, rounds of 200 readings over a ring of 1,024) on the earlier readings;
//  2. anomalies vs the dataset's labels with the gateway's score and threshold, streaming as the
//     gateway does (fine-tuned weights picked up after each round);
//  3. a live run (scripts/gateway-live.mjs, also runnable alone): the gateway process against
//     mosquitto and aedes: readings/s while fine-tuning, RSS, latency reading → score.
//   node --experimental-wasm-relaxed-simd scripts/gateway-report.mjs [--live SECONDS (40; 0: none)]
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { init } from '../dist/node.js';
import { events, moteRows } from '../examples/gateway/dataset.mjs';
import { readSensorMeta, windows, toForecast, anomalyScore, toInput } from '../examples/gateway/forecast.mjs';
import { DEFAULTS } from '../examples/gateway/gateway.mjs';

const { values: args } = parseArgs({ options: { live: { type: 'string', default: '40' } } });
const bytes = new Uint8Array(readFileSync('models/sensor-lstm.safetensors'));
const meta = readSensorMeta(bytes);
const nn = await init();
const W = meta.window;

function auc(pos, neg) {
  const all = [...pos.map((s) => [s, 1]), ...neg.map((s) => [s, 0])].sort((a, b) => a[0] - b[0]);
  let rank = 0; let sum = 0;
  for (let i = 0; i < all.length;) {
    let j = i; while (j < all.length && all[j][0] === all[i][0]) j++;
    const r = (i + j + 1) / 2; for (let k = i; k < j; k++) if (all[k][1]) sum += r;
    rank = j; i = j;
  }
  return (sum - (pos.length * (pos.length + 1)) / 2) / (pos.length * neg.length);
}

const totals = { tp: 0, fp: 0, fn: 0, normal: 0, pos: [], neg: [], events: [] };
for (const mote of [1, 4]) {
  const rows = moteRows(mote);
  const s = rows.map((r) => [r.humidity, r.temperature]);
  const base = nn.load(bytes);
  const tuned = nn.load(bytes);
  tuned.layers[0].trainable = false;
  // stream through the mote as the gateway does: score, then feed the fine-tuning ring
  const ring = [];
  const input = new Float32Array(W * 2);
  const err = { base: [0, 0], tuned: [0, 0], n: 0 };
  const later = Math.floor(rows.length * 0.6);
  let fresh = 0;
  const flagged = new Array(rows.length).fill(false);
  for (let i = 0; i < rows.length; i++) {
    let anomaly = false;
    if (i >= W) {
      toInput(s.slice(i - W, i).flat(), meta, input);
      const fT = toForecast(tuned.predict(input), s[i - 1], meta);
      const score = anomalyScore(s[i], fT, meta);
      anomaly = score > meta.threshold;
      flagged[i] = anomaly;
      (rows[i].label ? totals.pos : totals.neg).push(score);
      if (rows[i].label) { if (anomaly) totals.tp++; else totals.fn++; } else { totals.normal++; if (anomaly) totals.fp++; }
      const normalWindow = rows.slice(i - W, i + 1).every((r) => r.label === 0);
      if (i >= later && normalWindow) {
        const fB = toForecast(base.predict(input), s[i - 1], meta);
        for (let j = 0; j < 2; j++) { err.base[j] += Math.abs(fB[j] - s[i][j]); err.tuned[j] += Math.abs(fT[j] - s[i][j]); }
        err.n++;
      }
    }
    ring.push({ v: s[i], normal: !anomaly });
    if (ring.length > DEFAULTS.buffer) ring.shift();
    if (++fresh >= DEFAULTS.roundEvery) {
      fresh = 0;
      const { x, y, idx } = windows(ring.map((r) => r.v), meta, (k) => ring.slice(k - W, k + 1).every((r) => r.normal));
      if (idx.length >= 32) await tuned.fit(x, y, { epochs: DEFAULTS.epochs, batchSize: 32, loss: 'mae', optimizer: { type: 'adam', learningRate: DEFAULTS.learningRate } });
    }
  }
  const mb = err.base.map((v) => v / err.n); const mt = err.tuned.map((v) => v / err.n);
  const rel = 1 - (mt[0] / meta.residualScale[0] + mt[1] / meta.residualScale[1]) / (mb[0] / meta.residualScale[0] + mb[1] / meta.residualScale[1]);
  console.log(`mote ${mote}: MAE on ${err.n} later normal readings  base humidity ${mb[0].toFixed(4)} temperature ${mb[1].toFixed(4)}  fine-tuned ${mt[0].toFixed(4)} ${mt[1].toFixed(4)}  (${(rel * 100).toFixed(1)}% lower, in residual units)`);
  for (const [a, b] of events(rows)) {
    const hit = flagged.slice(a, a + 4).some(Boolean);
    totals.events.push(hit);
    console.log(`mote ${mote}: event at reading ${rows[a].reading}-${rows[b].reading} (${b - a + 1} readings): ${hit ? `flagged at reading ${rows[a + flagged.slice(a, a + 4).indexOf(true)].reading}` : 'NOT flagged within 3 readings'}; ${flagged.slice(a, b + 1).filter(Boolean).length} of its readings flagged`);
  }
}
const precision = totals.tp / (totals.tp + totals.fp);
const recall = totals.tp / (totals.tp + totals.fn);
console.log(`anomalies: events flagged within 3 readings ${totals.events.filter(Boolean).length}/${totals.events.length}; false alarms ${totals.fp} in ${totals.normal} normal readings (${((totals.fp / totals.normal) * 1000).toFixed(2)} per 1,000); per-reading precision ${precision.toFixed(3)} recall ${recall.toFixed(3)} ROC AUC ${auc(totals.pos, totals.neg).toFixed(3)}`);

// --- live ---
// scripts/gateway-live.mjs: mosquitto and aedes started here, readings/s while fine-tuning, RSS,
// latency publish → score at 50/s and at full rate; it kills its children however it ends
if (Number(args.live) > 0) {
  const { liveFigures } = await import('./gateway-live.mjs');
  await liveFigures({ seconds: Number(args.live) });
}
process.exit(0);
