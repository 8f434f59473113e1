// Temperature scaling (Guo et al., "On Calibration of Modern Neural Networks", 2017): one
// number T that divides a classifier's logits, fitted on held-out data so that its confidence
// matches how often it is right. It never changes which class wins, so accuracy is untouched.
//
// The shipped models end in a softmax, so this works on probabilities: softmax(z / T) is
// p^(1/T) renormalised, computed through logs so tiny probabilities neither underflow nor NaN.
import { NeuriteError } from './errors';

/** The metadata key of a saved model file that holds its temperature (a decimal string). */
export const TEMPERATURE_KEY = 'neurite.temperature';

/** Checks a temperature read from a file or given by a caller. */
export function checkTemperature(t: unknown, where: string): number {
  if (typeof t !== 'number' || !Number.isFinite(t) || t <= 0 || t > 1000) {
    throw new NeuriteError('INVALID_ARGUMENT', `${where}: temperature must be a finite number in (0, 1000], got ${String(t)}`);
  }
  return t;
}

/** In place: each row of `classes` probabilities becomes softmax(log p / t). */
export function applyTemperature(probs: Float32Array, classes: number, t: number): Float32Array {
  if (t === 1) return probs;
  const logs = new Float64Array(classes);
  for (let row = 0; row < probs.length; row += classes) {
    let max = -Infinity;
    for (let c = 0; c < classes; c++) {
      logs[c] = Math.log(Math.max(probs[row + c], 1e-45)) / t; // 1e-45: the smallest f32 above 0
      if (logs[c] > max) max = logs[c];
    }
    let sum = 0;
    for (let c = 0; c < classes; c++) sum += (logs[c] = Math.exp(logs[c] - max));
    for (let c = 0; c < classes; c++) probs[row + c] = logs[c] / sum;
  }
  return probs;
}

/** Mean negative log-likelihood of the labels under probabilities scaled by temperature t. */
function nll(probs: Float32Array, labels: ArrayLike<number>, classes: number, t: number): number {
  const p = applyTemperature(probs.slice(), classes, t);
  let total = 0;
  for (let i = 0; i < labels.length; i++) total -= Math.log(Math.max(p[i * classes + labels[i]], 1e-45));
  return total / labels.length;
}

/** The temperature minimising the NLL of `labels` (golden-section search on log T in [1/20, 20]). */
export function fitTemperature(probs: Float32Array, labels: ArrayLike<number>, classes: number): number {
  if (labels.length === 0 || probs.length !== labels.length * classes) {
    throw new NeuriteError('SHAPE_MISMATCH', `fitTemperature: ${probs.length} probabilities for ${labels.length} labels of ${classes} classes`);
  }
  let lo = Math.log(1 / 20), hi = Math.log(20);
  const g = (Math.sqrt(5) - 1) / 2;
  let a = hi - g * (hi - lo), b = lo + g * (hi - lo);
  let fa = nll(probs, labels, classes, Math.exp(a)), fb = nll(probs, labels, classes, Math.exp(b));
  for (let i = 0; i < 60; i++) { // the NLL is convex in 1/T: the bracket shrinks to ~1e-12
    if (fa < fb) { hi = b; b = a; fb = fa; a = hi - g * (hi - lo); fa = nll(probs, labels, classes, Math.exp(a)); }
    else { lo = a; a = b; fa = fb; b = lo + g * (hi - lo); fb = nll(probs, labels, classes, Math.exp(b)); }
  }
  return Math.exp((lo + hi) / 2);
}

/**
 * Expected calibration error: samples put in `bins` equal-width bins by their top probability;
 * the mean over samples of |accuracy − mean confidence| of their bin (15 bins, as Guo et al.).
 */
export function expectedCalibrationError(probs: Float32Array, labels: ArrayLike<number>, classes: number, bins = 15): number {
  const count = new Float64Array(bins), right = new Float64Array(bins), conf = new Float64Array(bins);
  for (let i = 0; i < labels.length; i++) {
    let best = 0;
    for (let c = 1; c < classes; c++) if (probs[i * classes + c] > probs[i * classes + best]) best = c;
    const p = probs[i * classes + best];
    const b = Math.min(bins - 1, Math.floor(p * bins));
    count[b]++;
    conf[b] += p;
    if (best === labels[i]) right[b]++;
  }
  let ece = 0;
  for (let b = 0; b < bins; b++) if (count[b] > 0) ece += Math.abs(right[b] - conf[b]);
  return ece / labels.length;
}
