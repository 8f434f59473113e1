// The fine-tuning worker thread: ingestion and scoring never wait for training. It keeps, per
// sensor, a bounded ring of recent readings with their normal/anomalous flag, and every
// `roundEvery` new readings fine-tunes that sensor's own copy of the base model on the windows
// made only of normal readings — the LSTM frozen, the dense head trained by Adam — then
// checkpoints it through CheckpointStore (with its optimizer state, so the next round continues
// where this one stopped, even after a restart) and sends the new weights to the scorer.
import { parentPort, workerData } from 'node:worker_threads';
import { readFileSync } from 'node:fs';
import { init } from '../../dist/node.js';
import { CheckpointStore } from '../../dist/node-files.js';
import { readSensorMeta, windows } from './forecast.mjs';
import { sensorDir } from './sensor-state.mjs';

const { stateDir, modelPath, roundEvery, buffer, keep, epochs, learningRate } = workerData;
const base = new Uint8Array(readFileSync(modelPath));
const meta = readSensorMeta(base);
const nn = await init();
const OPTIMIZER = { type: 'adam', learningRate };

/** @type {Map<string, { ring: { v: number[], normal: boolean }[], fresh: number, model?: object, store: CheckpointStore }>} */
const sensors = new Map();
const queue = [];
let busy = false;

const log = (text) => parentPort.postMessage({ type: 'log', text });

async function modelFor(id, s) {
  if (s.model) return s.model;
  const { model, path, skipped } = await s.store.load(nn);
  for (const k of skipped) log(`sensor ${id}: skipped checkpoint ${k.path}: ${k.reason}`);
  s.model = model ?? nn.load(base);
  if (path) log(`sensor ${id}: fine-tuning resumes from ${path}`);
  s.model.layers[0].trainable = false; // the LSTM stays the base model's; the head adapts
  return s.model;
}

async function round(id) {
  const s = sensors.get(id);
  s.fresh = 0;
  const series = s.ring.map((r) => r.v);
  const normal = (i) => { for (let j = i - meta.window; j <= i; j++) if (!s.ring[j].normal) return false; return true; };
  const { x, y, idx } = windows(series, meta, normal);
  if (idx.length < 32) return;
  const model = await modelFor(id, s);
  const t0 = performance.now();
  const h = await model.fit(x, y, { epochs, batchSize: 32, loss: 'mae', optimizer: OPTIMIZER });
  const c = await s.store.save(model);
  parentPort.postMessage({ type: 'weights', sensor: id, weights: model.getWeights(), checkpoint: c.path,
    sequence: c.sequence, samples: idx.length, loss: h.loss.at(-1), ms: performance.now() - t0, at: Date.now() });
}

async function drain() {
  if (busy) return;
  busy = true;
  try {
    while (queue.length) {
      const id = queue.shift();
      try { await round(id); } catch (e) { log(`sensor ${id}: fine-tuning round failed: ${e.code ?? ''} ${e.message}`); }
    }
  } finally { busy = false; }
}

parentPort.on('message', (m) => {
  if (m.type !== 'reading') return;
  let s = sensors.get(m.sensor);
  if (!s) {
    s = { ring: [], fresh: 0, store: new CheckpointStore(sensorDir(stateDir, m.sensor), { keep }) };
    sensors.set(m.sensor, s);
  }
  s.ring.push({ v: m.values, normal: m.normal });
  if (s.ring.length > buffer) s.ring.shift(); // bounded: memory does not grow with uptime
  if (++s.fresh >= roundEvery && !queue.includes(m.sensor)) {
    queue.push(m.sensor);
    drain();
  }
});
parentPort.postMessage({ type: 'ready' });
