// What init() resolves to: one compiled module, and the factories that give each model its own
// instance of it.
import { TEMPERATURE_KEY } from './calibration';
import { NeuriteError } from './errors';
import { findDuplicateKey } from './io/json-keys';
import { readSafetensors } from './io/safetensors';
import { restoreTraining, splitTensors, TRAINING_KEY } from './io/training-state';
import { Model, type SequentialOptions, type Topology } from './model';
import { Perceptron, type PerceptronOptions } from './perceptron';
import { Kernels, type BuildName } from './wasm';
import { checkOptions } from './options';

export interface LoadOptions {
  /** topology for a bare safetensors file (one without neurite metadata, e.g. from PyTorch) */
  inputShape?: number[];
  layers?: SequentialOptions['layers'];
}

export class Neurite {
  /** which build runs: 'relaxed', 'simd' or 'scalar' */
  readonly build: BuildName;

  constructor(readonly module: WebAssembly.Module) {
    // read the build from the module itself, so a caller-supplied module is reported truthfully
    this.build = new Kernels(module).build;
  }

  /** A new model: layers applied in order to inputs of `inputShape`. */
  sequential(options: SequentialOptions): Model {
    return new Model(this.module, options);
  }

  /** A single threshold unit trained by Rosenblatt's rule. */
  perceptron(options: PerceptronOptions): Perceptron {
    return new Perceptron(this.module, options);
  }

  /**
   * A model from safetensors bytes. The topology comes from the file's metadata, or from
   * `options` for a bare file; every tensor must match it exactly.
   */
  load(bytes: Uint8Array | ArrayBuffer, options: LoadOptions = {}): Model {
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
    const model = new Model(this.module, { ...topology, seed: 0 }, weights);
    try {
      restoreTraining(model, file.metadata[TRAINING_KEY], state);
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
}
