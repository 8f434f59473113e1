// Every argument of fit that the loop would otherwise only trip over later (an epoch in, or in
// a callback after weights changed), checked before the first step: a fit that fails on its
// arguments changes nothing.
import { toRows, toTargets, type Samples, type Targets } from './data';
import { NeuriteError } from './errors';
import type { FitOptions } from './fit';
import type { Engine } from './engine';
import { checkKeys, checkOptions } from './options';

const invalid = (message: string) => new NeuriteError('INVALID_ARGUMENT', `fit: ${message}`);

/** Every option fit takes: any other key is refused, with the closest one named. */
export const FIT_OPTIONS = [
  'epochs', 'batchSize', 'loss', 'optimizer', 'shuffle', 'validationData', 'validationSplit', 'sampleWeight', 'classWeight',
  'earlyStopping', 'onBatchEnd', 'onEpochEnd', 'signal', 'yieldEvery', 'clipNorm', 'clipValue',
] as const;

/** The options that have no other check, refused if ill-typed. */
export function checkFitOptions(options: FitOptions): void {
  checkOptions(options, FIT_OPTIONS, 'fit');
  for (const cb of ['onBatchEnd', 'onEpochEnd'] as const) {
    if (options[cb] !== undefined && typeof options[cb] !== 'function') throw invalid(`${cb} must be a function`);
  }
  if (options.shuffle !== undefined && typeof options.shuffle !== 'boolean') throw invalid('shuffle must be true or false');
  const y = options.yieldEvery;
  if (y !== undefined && !(typeof y === 'number' && y >= 0 && y !== Infinity)) throw invalid('yieldEvery must be a number of ms ≥ 0');
  const s = options.signal as { aborted?: unknown } | undefined;
  if (s !== undefined && (typeof s !== 'object' || s === null || typeof s.aborted !== 'boolean')) {
    throw invalid('signal must be an AbortSignal');
  }
}

/** validationData as checked rows and targets, or undefined when there is none. */
export function checkValidationData(model: Engine, validation: unknown): [Float32Array, Float32Array] | undefined {
  if (validation === undefined) return undefined;
  if (!Array.isArray(validation) || validation.length !== 2) throw invalid('validationData must be [x, y]');
  const rows = toRows(validation[0] as Samples, model.inputSize, 'fit: validationData x');
  model.checkSamples(rows, 'fit: validationData x');
  const n = rows.length / model.inputSize;
  if (n === 0) throw invalid('validationData has no samples');
  return [rows, toTargets(validation[1] as Targets, n, model.outputSize, 'fit: validationData y', model.lossCols)];
}

/**
 * validationSplit: the last fraction of the samples, taken before any shuffling (as Keras does),
 * held out for validation. Returns the training part and the validation part.
 */
export function splitValidation(rows: Float32Array, targets: Float32Array, n: number, model: Engine, split: unknown,
  hasValidationData: boolean): { rows: Float32Array; targets: Float32Array; n: number; validation?: [Float32Array, Float32Array] } {
  if (split === undefined) return { rows, targets, n };
  if (typeof split !== 'number' || !(split >= 0 && split < 1)) throw invalid(`validationSplit must be a fraction in [0, 1), got ${JSON.stringify(split)}`);
  if (hasValidationData) throw invalid('give validationData or validationSplit, not both');
  const train = Math.floor(n * (1 - split));
  if (split > 0 && (train < 1 || train === n)) throw invalid(`validationSplit ${split} of ${n} samples leaves ${n - train} for validation and ${train} for training; each needs at least one`);
  if (train === n) return { rows, targets, n };
  const [w, o] = [model.inputSize, model.outputSize];
  return {
    rows: rows.subarray(0, train * w), targets: targets.subarray(0, train * o), n: train,
    validation: [rows.subarray(train * w), targets.subarray(train * o)],
  };
}

/**
 * One weight per loss row (a sample, or a step of a sequence output): sampleWeight[sample] ×
 * classWeight[the row's class]; undefined when neither is given. Classes are read from the
 * one-hot (or 0/1) targets.
 */
export function lossRowWeights(model: Engine, targets: Float32Array, n: number, sampleWeight: unknown, classWeight: unknown,
  classification: boolean): Float32Array | undefined {
  if (sampleWeight === undefined && classWeight === undefined) return undefined;
  const R = model.lossRows;
  const C = model.lossCols;
  const w = new Float32Array(n * R).fill(1);
  if (sampleWeight !== undefined) {
    const sw = sampleWeight as ArrayLike<number>;
    if (typeof sw !== 'object' || sw === null || typeof sw.length !== 'number') throw invalid('sampleWeight must be an array of numbers, one per sample');
    if (sw.length < n) throw invalid(`sampleWeight has ${sw.length} values for ${n} samples`);
    for (let i = 0; i < n; i++) {
      const v = sw[i];
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw invalid(`sampleWeight[${i}] must be a finite number ≥ 0, got ${JSON.stringify(v)}`);
      for (let r = 0; r < R; r++) w[i * R + r] = v;
    }
  }
  if (classWeight !== undefined) {
    if (!classification) throw invalid('classWeight needs a classification loss (binaryCrossentropy or categoricalCrossentropy)');
    if (typeof classWeight !== 'object' || classWeight === null) throw invalid('classWeight must map class indices to weights, e.g. { 0: 1, 1: 5 }');
    const classes = C === 1 ? 2 : C;
    const cw = new Float64Array(classes).fill(1);
    for (const [key, v] of Object.entries(classWeight)) {
      const c = Number(key);
      if (!Number.isInteger(c) || c < 0 || c >= classes) throw new NeuriteError('LABEL_OUT_OF_RANGE', `fit: classWeight has class ${JSON.stringify(key)}; classes are 0..${classes - 1}`);
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw invalid(`classWeight[${c}] must be a finite number ≥ 0, got ${JSON.stringify(v)}`);
      cw[c] = v;
    }
    for (let r = 0; r < n * R; r++) {
      let c = 0;
      if (C === 1) c = targets[r] >= 0.5 ? 1 : 0;
      else for (let j = 1; j < C; j++) if (targets[r * C + j] > targets[r * C + c]) c = j;
      w[r] *= cw[c];
    }
  }
  return w;
}

export interface EarlyStopping {
  /** epochs in a row without improvement that stop training (default 0, like 1: the first one stops) */
  patience?: number;
  /** the smallest decrease that counts as an improvement (default 0) */
  minDelta?: number;
  /** put back the weights of the best epoch when training ends (default false) */
  restoreBestWeights?: boolean;
}

export function checkEarlyStopping(e: unknown): Required<EarlyStopping> | undefined {
  if (e === undefined) return undefined;
  if (typeof e !== 'object' || e === null) throw invalid('earlyStopping must be { patience?, minDelta?, restoreBestWeights? }');
  checkKeys(e, ['patience', 'minDelta', 'restoreBestWeights'], 'fit: earlyStopping');
  const { patience = 0, minDelta = 0, restoreBestWeights = false } = e as EarlyStopping;
  if (!Number.isSafeInteger(patience) || patience < 0) throw invalid(`earlyStopping.patience must be an integer ≥ 0, got ${JSON.stringify(patience)}`);
  if (typeof minDelta !== 'number' || !Number.isFinite(minDelta) || minDelta < 0) throw invalid('earlyStopping.minDelta must be a finite number ≥ 0');
  if (typeof restoreBestWeights !== 'boolean') throw invalid('earlyStopping.restoreBestWeights must be true or false');
  return { patience, minDelta, restoreBestWeights };
}
