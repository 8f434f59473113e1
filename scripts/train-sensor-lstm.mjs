// Trains the gateway's base forecaster with neurite itself and writes
// models/sensor-lstm.safetensors: an LSTM over the last 32 readings (humidity, temperature) of a
// TelosB mote that predicts the next one, trained on motes 2 and 3 of the Suthaharan single-hop
// sensor network data (motes 1 and 4, which carry the labelled events, are kept for the gateway
// and its report). Deterministic: the seed fixes initialisation and shuffling.
//   node --experimental-wasm-relaxed-simd scripts/train-sensor-lstm.mjs [--epochs 8] [--out file]
import { parseArgs } from 'node:util';
import { init, writeSafetensors, readSafetensors } from '../dist/node.js';
import { writeFileAtomicSync } from '../dist/atomic-write.js';
import { moteRows } from '../examples/gateway/dataset.mjs';
import { SENSOR_KEY, windows, toForecast, anomalyScore } from '../examples/gateway/forecast.mjs';

const { values: args } = parseArgs({ options: {
  epochs: { type: 'string', default: '8' },
  out: { type: 'string', default: 'models/sensor-lstm.safetensors' },
} });

const FEATURES = ['humidity', 'temperature'];
const WINDOW = 32;
const TRAIN_FRACTION = 0.8; // chronological: each mote's first 80% trains, its last 20% validates

const series = (mote) => moteRows(mote).map((r) => [r.humidity, r.temperature]);
const motes = [2, 3].map(series);
const cut = (s) => Math.floor(s.length * TRAIN_FRACTION);
const train = motes.map((s) => s.slice(0, cut(s)));
const valid = motes.map((s) => s.slice(cut(s) - WINDOW)); // the window before the first target

// normalisation from the training part only
const all = train.flat();
const mean = FEATURES.map((_, j) => all.reduce((a, r) => a + r[j], 0) / all.length);
const std = FEATURES.map((_, j) => Math.sqrt(all.reduce((a, r) => a + (r[j] - mean[j]) ** 2, 0) / all.length));
const deltas = train.flatMap((s) => s.slice(1).map((r, i) => r.map((v, j) => v - s[i][j])));
const deltaStd = FEATURES.map((_, j) => Math.sqrt(deltas.reduce((a, d) => a + d[j] ** 2, 0) / deltas.length));
const meta = { format: 1, features: FEATURES, window: WINDOW, mean, std, deltaStd, residualScale: [1, 1], threshold: 1 };

function concat(parts) {
  const x = new Float32Array(parts.reduce((n, p) => n + p.x.length, 0));
  const y = new Float32Array(parts.reduce((n, p) => n + p.y.length, 0));
  let a = 0; let b = 0;
  for (const p of parts) { x.set(p.x, a); y.set(p.y, b); a += p.x.length; b += p.y.length; }
  return { x, y };
}
const tr = concat(train.map((s) => windows(s, meta)));
const va = concat(valid.map((s) => windows(s, meta)));

const nn = await init();
const model = nn.sequential({ inputShape: [WINDOW, FEATURES.length], seed: 1, layers: [
  { type: 'lstm', units: 32 },
  { type: 'dense', units: 16, activation: 'tanh' },
  { type: 'dense', units: FEATURES.length },
] });
const epochs = Number(args.epochs);
const steps = epochs * Math.ceil(tr.y.length / FEATURES.length / 32);
const t0 = performance.now();
await model.fit(tr.x, tr.y, {
  epochs, batchSize: 32, loss: 'mae', clipNorm: 1,
  optimizer: { type: 'adam', learningRate: 2e-3, schedule: { type: 'cosine', decaySteps: steps, alpha: 0.05 } },
  validationData: [va.x, va.y],
  onEpochEnd: (e, l) => console.log(`epoch ${String(e + 1).padStart(2)}/${epochs}  loss ${l.loss.toFixed(4)}  val loss ${l.valLoss.toFixed(4)}  ${((performance.now() - t0) / 1000).toFixed(1)} s`),
});

// forecast errors on the held-out part: the anomaly score's unit, and the comparison with
// "the next reading equals the last one" (persistence)
function errors(s) {
  const { x, idx } = windows(s, meta);
  const out = model.predict(x);
  return idx.map((i, k) => ({ i, forecast: toForecast(out.subarray(k * 2, k * 2 + 2), s[i - 1], meta), actual: s[i] }));
}
const held = valid.flatMap(errors);
const mae = FEATURES.map((_, j) => held.reduce((a, e) => a + Math.abs(e.forecast[j] - e.actual[j]), 0) / held.length);
const persistence = valid.flatMap((s) => s.slice(WINDOW).map((r, i) => r.map((v, j) => Math.abs(v - s[WINDOW + i - 1][j]))));
const pMae = FEATURES.map((_, j) => persistence.reduce((a, d) => a + d[j], 0) / persistence.length);
meta.residualScale = mae;
const scores = held.map((e) => anomalyScore(e.actual, e.forecast, meta)).sort((a, b) => a - b);
// the alarm threshold: 2.5 times the held-out 99.9th percentile of normal scores, so that a
// normal reading alarms well under once per 1,000 (the events open with jumps of 50+ MAEs)
meta.threshold = Math.round(scores[Math.floor(scores.length * 0.999)] * 2.5);
console.log(`held-out MAE  humidity ${mae[0].toFixed(4)}  temperature ${mae[1].toFixed(4)}  (persistence ${pMae[0].toFixed(4)}, ${pMae[1].toFixed(4)})`);
console.log(`held-out score  p50 ${scores[scores.length >> 1].toFixed(2)}  p99.9 ${scores[Math.floor(scores.length * 0.999)].toFixed(2)}  max ${scores[scores.length - 1].toFixed(2)}  → threshold ${meta.threshold}`);

// the file: the model with the sensor metadata beside the topology
const file = readSafetensors(model.save());
const tensors = new Map([...file.tensors].map(([k, t]) => [k, { shape: [...t.shape], data: t.data }]));
writeFileAtomicSync(args.out, writeSafetensors(tensors, { ...file.metadata, [SENSOR_KEY]: JSON.stringify(meta) }));
console.log(`wrote ${args.out} (${model.parameterCount} parameters)  ${JSON.stringify(meta)}`);
