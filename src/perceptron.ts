// Rosenblatt's perceptron: one threshold unit trained by the perceptron rule
//   w ← w + η·(t − y)·x,  b ← b + η·(t − y)
// which converges whenever the classes are linearly separable, and never otherwise.
import { toRows } from './data';
import { assertFinite } from './data';
import { NeuriteError } from './errors';
import { Rng } from './rng';
import { Kernels } from './wasm';
import { checkOptions } from './options';

export interface PerceptronOptions {
  /** number of inputs */
  inputs: number;
  /** η (default 1) */
  learningRate?: number;
  /** seeds the small random initial weights (default: zero weights) */
  seed?: number;
}

export interface PerceptronResult {
  /** every sample classified correctly in the last epoch */
  converged: boolean;
  /** epochs run */
  epochs: number;
  /** misclassified samples in each epoch */
  errors: number[];
}

export class Perceptron {
  readonly inputs: number;
  readonly learningRate: number;
  private readonly k: Kernels;
  private readonly w: number;   // (inputs) as a 1-unit dense weight, wt(in,1)
  private readonly b: number;   // (1)
  private readonly x: number;   // (inputs) the current sample
  private readonly z: number;   // (1)
  private readonly y: number;   // (1)

  constructor(module: WebAssembly.Module, options: PerceptronOptions) {
    checkOptions(options, ['inputs', 'learningRate', 'seed'], 'perceptron');
    const n = options?.inputs;
    if (!Number.isSafeInteger(n) || n < 1 || n > 1 << 24) {
      throw new NeuriteError('INVALID_ARGUMENT', `perceptron: inputs must be a positive integer, got ${JSON.stringify(n)}`);
    }
    const lr = options.learningRate ?? 1;
    if (!Number.isFinite(lr) || lr <= 0) throw new NeuriteError('INVALID_ARGUMENT', 'perceptron: learningRate must be a positive number');
    this.inputs = n;
    this.learningRate = lr;
    this.k = new Kernels(module);
    this.w = this.k.allocPersistent(n);
    this.b = this.k.allocPersistent(1);
    this.x = this.k.allocPersistent(n);
    this.z = this.k.allocPersistent(1);
    this.y = this.k.allocPersistent(1);
    if (options.seed !== undefined) {
      const rng = new Rng(options.seed);
      const w = new Float32Array(n);
      for (let i = 0; i < n; i++) w[i] = rng.uniform(-0.05, 0.05);
      this.k.write(this.w, w);
    }
  }

  get weights(): Float32Array { return this.k.read(this.w, this.inputs); }
  get bias(): number { return this.k.read(this.b, 1)[0]; }

  private classify(rows: Float32Array, i: number): number {
    this.k.f32.set(rows.subarray(i * this.inputs, (i + 1) * this.inputs), this.x >> 2);
    this.k.k.dense_forward(this.z, this.x, this.w, this.b, 1, this.inputs, 1, this.k.scratch);
    this.k.k.step_forward(this.y, this.z, 1, 0);
    return this.k.f32[this.y >> 2];
  }

  /** 1 or 0 for each sample. */
  predict(x: Float32Array | ArrayLike<ArrayLike<number>> | ArrayLike<number>): Float32Array {
    const rows = toRows(x, this.inputs, 'perceptron.predict');
    assertFinite(rows, this.inputs, 'perceptron.predict');
    const out = new Float32Array(rows.length / this.inputs);
    for (let i = 0; i < out.length; i++) out[i] = this.classify(rows, i);
    return out;
  }

  /** Apply the perceptron rule sample by sample until an epoch makes no mistake. */
  train(x: Float32Array | ArrayLike<ArrayLike<number>> | ArrayLike<number>, y: ArrayLike<number>,
    options: { maxEpochs?: number } = {}): PerceptronResult {
    checkOptions(options, ['maxEpochs'], 'perceptron.train');
    const rows = toRows(x, this.inputs, 'perceptron.train: x');
    assertFinite(rows, this.inputs, 'perceptron.train: x');
    const count = rows.length / this.inputs;
    if (!y || y.length !== count) throw new NeuriteError('SHAPE_MISMATCH', `perceptron.train: ${y?.length} labels for ${count} samples`);
    for (let i = 0; i < count; i++) {
      if (y[i] !== 0 && y[i] !== 1) throw new NeuriteError('LABEL_OUT_OF_RANGE', `perceptron.train: label ${i} is ${y[i]}; labels are 0 or 1`);
    }
    const maxEpochs = options.maxEpochs ?? 100;
    if (!Number.isSafeInteger(maxEpochs) || maxEpochs < 1) throw new NeuriteError('INVALID_ARGUMENT', 'perceptron.train: maxEpochs must be a positive integer');
    const errors: number[] = [];
    const one = this.k.allocPersistent(1);
    this.k.f32[one >> 2] = 1;
    for (let e = 0; e < maxEpochs; e++) {
      let mistakes = 0;
      for (let i = 0; i < count; i++) {
        const err = y[i] - this.classify(rows, i);
        if (err === 0) continue;
        mistakes++;
        this.k.k.axpy(this.w, this.x, this.inputs, this.learningRate * err);
        this.k.k.axpy(this.b, one, 1, this.learningRate * err);
      }
      errors.push(mistakes);
      if (mistakes === 0) return { converged: true, epochs: e + 1, errors };
    }
    return { converged: false, epochs: maxEpochs, errors };
  }
}
