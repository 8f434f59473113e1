// What `save({ training: true })` adds to a model file so that `load` + `fit` continues exactly
// where training stopped: the optimizer's state buffers (momentum, Adam's moments…) as tensors
// `__optimizer__.<slot>.<parameter name>` in the parameter's PyTorch layout, and in the metadata
// key `neurite.training` the optimizer settings, its step count (which also places the
// learning-rate schedule), the loss, and the generator's position (shuffling, dropout masks).
import { NeuriteError } from '../errors';
import type { Engine } from '../engine';
import { loss as lossDef } from '../losses';
import { optimizer as makeOptimizer, type OptimizerSpec } from '../optimizers';
import type { TensorValues } from '../load-weights';
import { findDuplicateKey } from './json-keys';

export const OPTIMIZER_PREFIX = '__optimizer__.';
export const TRAINING_KEY = 'neurite.training';

interface TrainingMeta {
  format: 1;
  /** the optimizer spec as JSON, exactly as fit keyed it */
  optimizer: string;
  step: number;
  loss?: string;
  rng: number;
}

const malformed = (what: string) => new NeuriteError('MALFORMED_FILE', `load: training state: ${what}`);

/** The tensors and the metadata entry that save({ training: true }) adds; none before a fit. */
export function trainingState(model: Engine): { tensors: Map<string, TensorValues>; meta: string } | undefined {
  const trainer = model.trainer;
  if (!trainer) return undefined;
  const f32 = model.k.f32;
  const tensors = new Map<string, TensorValues>();
  for (const [name, p] of model.namedParams()) {
    p.state.forEach((ptr, s) => {
      const v = f32.slice(ptr >> 2, (ptr >> 2) + p.size);
      tensors.set(`${OPTIMIZER_PREFIX}${s}.${name}`, { shape: [...p.shape], data: p.toTorch ? p.toTorch(v) : v });
    });
  }
  const meta: TrainingMeta = { format: 1, optimizer: trainer.key, step: trainer.step, loss: model.lastLoss, rng: model.rng.state };
  return { tensors, meta: JSON.stringify(meta) };
}

/** A file's tensors split into the model's parameters and the optimizer state. */
export function splitTensors(tensors: ReadonlyMap<string, TensorValues>): { weights: Map<string, TensorValues>; state: Map<string, TensorValues> } {
  const weights = new Map<string, TensorValues>();
  const state = new Map<string, TensorValues>();
  for (const [name, t] of tensors) (name.startsWith(OPTIMIZER_PREFIX) ? state : weights).set(name, t);
  return { weights, state };
}

/**
 * Put a saved training state back into a freshly loaded model. Everything is checked before the
 * optimizer's memory is touched; a bad state is MALFORMED_FILE.
 */
export function restoreTraining(model: Engine, raw: string | undefined, state: ReadonlyMap<string, TensorValues>): void {
  if (raw === undefined) {
    if (state.size > 0) throw malformed(`the file has optimizer tensors but no ${TRAINING_KEY} metadata`);
    return;
  }
  if (raw.length > 1 << 16) throw malformed('the metadata is too long');
  let meta: TrainingMeta;
  try { meta = JSON.parse(raw); } catch { throw malformed('the metadata is not valid JSON'); }
  if (findDuplicateKey(raw) !== undefined) throw malformed('the metadata repeats a key');
  if (typeof meta !== 'object' || meta === null || meta.format !== 1 || typeof meta.optimizer !== 'string'
    || !Number.isSafeInteger(meta.step) || meta.step < 0 || !Number.isInteger(meta.rng) || meta.rng < 0 || meta.rng >= 2 ** 32
    || (meta.loss !== undefined && typeof meta.loss !== 'string')) {
    throw malformed('expected { format: 1, optimizer, step, rng, loss? }');
  }
  if (meta.loss !== undefined) lossDef(meta.loss);
  let spec: OptimizerSpec;
  try { spec = JSON.parse(meta.optimizer); } catch { throw malformed('the optimizer settings are not valid JSON'); }
  const slots = makeOptimizer(spec).slots; // validates the settings
  const values: Array<[number, number, Float32Array]> = []; // param index, slot, values
  const params = [...model.namedParams()];
  let expected = 0;
  params.forEach(([name, p], i) => {
    for (let s = 0; s < slots; s++) {
      const key = `${OPTIMIZER_PREFIX}${s}.${name}`;
      const t = state.get(key);
      if (!t) throw malformed(`no tensor ${key}`);
      if (t.shape.length !== p.shape.length || t.shape.some((d, j) => d !== p.shape[j])) throw malformed(`${key} has the wrong shape`);
      const bad = t.data.findIndex((v) => !Number.isFinite(v));
      if (bad >= 0) throw new NeuriteError('NON_FINITE', `load: training state: ${key}[${bad}] is ${t.data[bad]}`);
      values.push([i, s, p.fromTorch ? p.fromTorch(t.data) : t.data]);
      expected++;
    }
  });
  if (state.size !== expected) throw malformed(`${state.size - expected} optimizer tensors the model has no use for`);
  if (meta.loss !== undefined) model.lastLoss = meta.loss;
  model.prepareTraining(spec);
  const f32 = model.k.f32;
  for (const [i, s, v] of values) f32.set(v, params[i][1].state[s] >> 2);
  model.trainer!.step = meta.step;
  model.rng.state = meta.rng;
}
