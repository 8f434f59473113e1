// Every argument of fit that the loop would otherwise only trip over later (an epoch in, or in
// a callback after weights changed), checked before the first step: a fit that fails on its
// arguments changes nothing.
import { toRows, toTargets, type Samples, type Targets } from './data';
import { NeuriteError } from './errors';
import type { FitOptions } from './fit';
import type { Model } from './model';

const invalid = (message: string) => new NeuriteError('INVALID_ARGUMENT', `fit: ${message}`);

/** The options that have no other check, refused if ill-typed. */
export function checkFitOptions(options: FitOptions): void {
  if (typeof options !== 'object' || options === null) throw invalid('options must be an object');
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
export function checkValidationData(model: Model, validation: unknown): [Float32Array, Float32Array] | undefined {
  if (validation === undefined) return undefined;
  if (!Array.isArray(validation) || validation.length !== 2) throw invalid('validationData must be [x, y]');
  const rows = toRows(validation[0] as Samples, model.inputSize, 'fit: validationData x');
  model.checkSamples(rows, 'fit: validationData x');
  const n = rows.length / model.inputSize;
  if (n === 0) throw invalid('validationData has no samples');
  return [rows, toTargets(validation[1] as Targets, n, model.outputSize, 'fit: validationData y', model.lossCols)];
}
