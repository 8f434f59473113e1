// What turns raw readings into the model's input and its output back into a forecast, shared by
// the training script, the gateway, its fine-tuning worker and the report so that they cannot
// disagree. The model sees the last `window` readings as z-scores (per-feature mean and std of
// the training motes) and predicts the change to the next reading in units of the typical
// change (`deltaStd`): slow sensors make "same as last time" a strong forecast, so the network
// spends its capacity on how the reading moves rather than on where it is.
import { readSafetensors } from '../../dist/node.js';

export const SENSOR_KEY = 'neurite.sensor';

/**
 * @typedef {{ format: 1, features: string[], window: number, mean: number[], std: number[],
 *   deltaStd: number[], residualScale: number[], threshold: number }} SensorMeta
 */

export class ModelMetaError extends Error {
  constructor(message) { super(message); this.name = 'ModelMetaError'; }
}

/** The sensor metadata of a model file, checked: the gateway refuses a file it cannot use. */
export function readSensorMeta(bytes) {
  const raw = readSafetensors(bytes).metadata[SENSOR_KEY];
  if (raw === undefined) throw new ModelMetaError(`the model file has no ${SENSOR_KEY} metadata`);
  const m = JSON.parse(raw);
  const n = m.features?.length;
  const vec = (v) => Array.isArray(v) && v.length === n && v.every(Number.isFinite);
  if (m.format !== 1 || !(n > 0) || !m.features.every((f) => typeof f === 'string')
    || !Number.isInteger(m.window) || m.window < 2 || m.window > 64
    || !vec(m.mean) || !vec(m.std) || !vec(m.deltaStd) || !vec(m.residualScale) || !(m.threshold > 0)) {
    throw new ModelMetaError(`${SENSOR_KEY}: expected { format: 1, features, window (2-64), mean, std, deltaStd, residualScale, threshold }`);
  }
  return m;
}

/** Model input for one window: `readings` holds window × features raw values, oldest first. */
export function toInput(readings, meta, out = new Float32Array(readings.length)) {
  const f = meta.features.length;
  for (let i = 0; i < readings.length; i++) out[i] = (readings[i] - meta.mean[i % f]) / meta.std[i % f];
  return out;
}

/** The forecast (raw units) from the model's output and the window's last reading. */
export function toForecast(output, last, meta) {
  return meta.features.map((_, j) => last[j] + output[j] * meta.deltaStd[j]);
}

/** Training target for a window whose last reading is `last` and next one is `next`. */
export function toTarget(last, next, meta) {
  return meta.features.map((_, j) => (next[j] - last[j]) / meta.deltaStd[j]);
}

/**
 * How far a reading is from its forecast: the root mean square over features of the error in
 * units of the typical forecast error (`residualScale`, measured on held-out normal readings).
 */
export function anomalyScore(reading, forecast, meta) {
  let s = 0;
  for (let j = 0; j < reading.length; j++) {
    const z = (reading[j] - forecast[j]) / meta.residualScale[j];
    s += z * z;
  }
  return Math.sqrt(s / reading.length);
}

/**
 * Sliding windows over a series of readings (rows of features): x (n × window × features,
 * z-scored) and y (n × features, scaled changes) for every reading that has a full window before it.
 * `use(i)` picks which target readings count (e.g. only normal ones).
 */
export function windows(series, meta, use = () => true) {
  const w = meta.window;
  const f = meta.features.length;
  const idx = [];
  for (let i = w; i < series.length; i++) if (use(i)) idx.push(i);
  const x = new Float32Array(idx.length * w * f);
  const y = new Float32Array(idx.length * f);
  const flat = new Float32Array(w * f);
  idx.forEach((i, k) => {
    for (let t = 0; t < w; t++) for (let j = 0; j < f; j++) flat[t * f + j] = series[i - w + t][j];
    toInput(flat, meta, x.subarray(k * w * f, (k + 1) * w * f));
    y.set(toTarget(series[i - 1], series[i], meta), k * f);
  });
  return { x, y, idx };
}
