// Embedding: integer ids in, one learned vector per id out. Per-sample input [steps] of ids
// (carried as float32, checked to be integers in range before any kernel runs), output
// [steps, outputDim]. PyTorch's name and layout: weight [inputDim, outputDim].
import { NeuriteError } from '../errors';
import type { Rng } from '../rng';
import type { Kernels } from '../wasm';
import { paramSlot, type Layer, type LayerBase, type ParamSlot } from './layer';

export interface EmbeddingConfig extends LayerBase {
  type: 'embedding';
  /** vocabulary size: ids are integers in [0, inputDim) */
  inputDim: number;
  /** length of each vector */
  outputDim: number;
}

/** Largest vocabulary × width accepted from a topology. */
export const MAX_EMBEDDING_VALUES = 1 << 26;

export class Embedding implements Layer {
  readonly type = 'embedding';
  trainable = true;
  readonly inputShape: readonly number[];
  readonly outputShape: readonly number[];
  readonly params: ParamSlot[];
  readonly forwardFloats: number;
  readonly gradFloats: number;
  readonly workspaceFloats = 0;
  readonly inputDim: number;
  readonly outputDim: number;
  private readonly steps: number;
  private readonly weight: ParamSlot;
  output = 0;
  outputGrad = 0;
  get logits(): number { return this.output; }
  get logitsGrad(): number { return this.outputGrad; }

  constructor(readonly name: string, cfg: EmbeddingConfig, inputShape: readonly number[]) {
    const where = `layer ${name} (embedding)`;
    for (const key of ['inputDim', 'outputDim'] as const) {
      if (!Number.isSafeInteger(cfg[key]) || cfg[key] < 1) {
        throw new NeuriteError('INVALID_ARGUMENT', `${where}: ${key} must be a positive integer, got ${JSON.stringify(cfg[key])}`);
      }
    }
    if (cfg.inputDim * cfg.outputDim > MAX_EMBEDDING_VALUES) {
      throw new NeuriteError('TOO_LARGE', `${where}: inputDim × outputDim is over ${MAX_EMBEDDING_VALUES}`);
    }
    if (inputShape.length !== 1) {
      throw new NeuriteError('SHAPE_MISMATCH', `${where}: expects [steps] integer ids per sample, got [${inputShape.join(', ')}]`);
    }
    this.inputDim = cfg.inputDim;
    this.outputDim = cfg.outputDim;
    this.steps = inputShape[0];
    this.inputShape = [this.steps];
    this.outputShape = [this.steps, this.outputDim];
    this.weight = paramSlot('weight', [this.inputDim, this.outputDim]);
    this.params = [this.weight];
    this.forwardFloats = this.steps * this.outputDim;
    this.gradFloats = this.steps * this.outputDim;
  }

  config(): EmbeddingConfig {
    return { type: 'embedding', name: this.name, inputDim: this.inputDim, outputDim: this.outputDim };
  }

  initialize(rng: Rng, set: (slot: ParamSlot, values: Float32Array) => void): void {
    // Keras's default: small uniform values
    const w = new Float32Array(this.weight.size);
    for (let i = 0; i < w.length; i++) w[i] = rng.uniform(-0.05, 0.05);
    set(this.weight, w);
  }

  /** Every id must be an integer in [0, inputDim): the kernel indexes memory with it. */
  checkInput(x: Float32Array, what: string): void {
    for (let i = 0; i < x.length; i++) {
      const id = x[i];
      if (!Number.isInteger(id) || id < 0 || id >= this.inputDim) {
        throw new NeuriteError('INVALID_ARGUMENT',
          `${what}: sample ${Math.floor(i / this.steps)}, step ${i % this.steps}: id ${id} is not an integer in [0, ${this.inputDim}) (layer ${this.name})`);
      }
    }
  }

  bind(fwd: number, grad: number): void {
    this.output = fwd;
    this.outputGrad = grad;
  }

  forward(k: Kernels, x: number, batch: number): void {
    k.k.embedding_forward(this.output, x, this.weight.ptr, batch * this.steps, this.outputDim);
  }

  backward(k: Kernels, x: number, _dx: number, batch: number): void {
    // ids have no gradient: nothing flows further back
    k.k.embedding_backward(this.weight.grad, this.outputGrad, x, batch * this.steps, this.outputDim);
  }
}
