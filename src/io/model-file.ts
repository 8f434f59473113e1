// The model file, both ways: save writes a safetensors file with the topology (and, when asked,
// the training state) in its metadata; load reads one back — checking the topology against the
// caps and every tensor against the topology before anything is allocated — or a bare PyTorch
// state_dict given its topology.
import { TEMPERATURE_KEY } from '../calibration';
import { NeuriteError } from '../errors';
import { Model, type SaveOptions, type SequentialOptions, type Topology } from '../model';
import { checkOptions } from '../options';
import { findDuplicateKey } from './json-keys';
import { readSafetensors, writeSafetensors } from './safetensors';
import { restoreTraining, splitTensors, trainingState, TRAINING_KEY } from './training-state';

export interface LoadOptions {
  /** topology for a bare safetensors file (one without neurite metadata, e.g. from PyTorch) */
  inputShape?: number[];
  layers?: SequentialOptions['layers'];
}

export function saveModel(model: Model, options: SaveOptions): Uint8Array {
  checkOptions(options, ['training'], 'save');
  if (options.training !== undefined && typeof options.training !== 'boolean') {
    throw new NeuriteError('INVALID_ARGUMENT', 'save: training must be true or false');
  }
  const e = model.engine;
  const w = model.getWeights();
  const tensors = new Map<string, { shape: number[]; data: Float32Array; dtype?: 'F32' | 'I64' }>();
  for (const [name, p] of e.namedParams()) tensors.set(name, { shape: [...p.shape], data: w[name], ...(p.dtype ? { dtype: p.dtype } : {}) });
  const metadata: Record<string, string> = { format: 'pt', neurite: JSON.stringify(model.topology()) };
  if (model.temperature !== 1) metadata[TEMPERATURE_KEY] = String(model.temperature);
  const state = options.training ? trainingState(e) : undefined;
  if (state) {
    for (const [name, t] of state.tensors) tensors.set(name, { shape: [...t.shape], data: t.data });
    metadata[TRAINING_KEY] = state.meta;
  }
  return writeSafetensors(tensors, metadata);
}

export function loadModel(module: WebAssembly.Module, bytes: Uint8Array | ArrayBuffer, options: LoadOptions): Model {
  checkOptions(options, ['inputShape', 'layers'], 'load');
  const data = bytes instanceof ArrayBuffer ? new Uint8Array(bytes) : bytes;
  if (!(data instanceof Uint8Array)) throw new NeuriteError('INVALID_ARGUMENT', 'load: expected a Uint8Array or ArrayBuffer');
  const file = readSafetensors(data);
  let topology: Pick<Topology, 'inputShape' | 'layers'>;
  if (options.layers || options.inputShape) {
    topology = { inputShape: options.inputShape!, layers: options.layers! };
  } else {
    const raw = file.metadata.neurite;
    if (raw === undefined) {
      throw new NeuriteError('MALFORMED_FILE', 'load: the file has no neurite topology in its metadata; pass { inputShape, layers }');
    }
    let parsed: unknown;
    try { parsed = JSON.parse(raw); } catch {
      throw new NeuriteError('MALFORMED_FILE', 'load: the neurite topology in the metadata is not valid JSON');
    }
    // JSON.parse keeps the last of two equal keys, another reader may keep the first
    const dup = findDuplicateKey(raw);
    if (dup !== undefined) throw new NeuriteError('MALFORMED_FILE', `load: the neurite topology has the key ${JSON.stringify(dup)} twice`);
    const t = parsed as Partial<Topology>;
    if (typeof t !== 'object' || t === null || t.format !== 1) {
      // only a primitive is shown: stringifying a hostile value could recurse past the stack
      const f = (t as { format?: unknown } | null)?.format;
      const shown = f === null || ['number', 'string', 'boolean'].includes(typeof f) ? JSON.stringify(f) : typeof f;
      throw new NeuriteError('MALFORMED_FILE', `load: unsupported topology format ${shown} (expected 1)`);
    }
    topology = { inputShape: t.inputShape!, layers: t.layers! };
  }
  // the tensors are matched against the topology (and the topology against the caps) before
  // the model allocates anything; their values replace initialisation
  const { weights, state } = splitTensors(file.tensors);
  const model = new Model(module, { ...topology, seed: 0 }, weights);
  try {
    restoreTraining(model.engine, file.metadata[TRAINING_KEY], state);
    const t = file.metadata[TEMPERATURE_KEY];
    if (t !== undefined) {
      if (!/^\d+(\.\d+)?(e[+-]?\d+)?$/i.test(t)) throw new NeuriteError('MALFORMED_FILE', `load: ${TEMPERATURE_KEY} is not a number: ${JSON.stringify(t.slice(0, 40))}`);
      model.temperature = Number(t);
    }
  } catch (e) {
    model.dispose();
    throw e;
  }
  return model;
}
