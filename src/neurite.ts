// What init() resolves to: one compiled module, and the factories that give each model its own
// instance of it.
import { loadModel, type LoadOptions } from './io/model-file';
import { Model, type SequentialOptions } from './model';
import { Perceptron, type PerceptronOptions } from './perceptron';
import { Kernels, type BuildName } from './wasm';

export type { LoadOptions };

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
    return loadModel(this.module, bytes, options);
  }
}
