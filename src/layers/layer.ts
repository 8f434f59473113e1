// What every layer type provides to the model. A layer owns no memory: the model gives it
// pointers (parameters in the persistent block, buffers in the per-batch plan) and the layer
// says which kernels to call on them.
import type { ActivationDef } from '../activations';
import { NeuriteError } from '../errors';
import type { Rng } from '../rng';
import type { Kernels } from '../wasm';
import type { LayerConfig } from './config';

/** One parameter tensor. `shape` is PyTorch's; the internal layout may differ (see toTorch). */
export interface ParamSlot {
  /** relative to the layer (a residual block prefixes its inner layers' names) */
  name: string;
  readonly shape: readonly number[];
  readonly size: number;
  /** byte pointers, set by the model: value, gradient, optimizer state buffers */
  ptr: number;
  grad: number;
  state: number[];
  /**
   * a buffer, not a learned parameter (BatchNorm's running statistics): saved and loaded with the
   * weights, but it has no gradient and no optimizer moves it
   */
  buffer?: boolean;
  /** the dtype in a model file: I64 for PyTorch's counters (num_batches_tracked); default F32 */
  dtype?: 'I64';
  /** internal layout → PyTorch layout (default: identical) */
  toTorch?(internal: Float32Array): Float32Array;
  /** PyTorch layout → internal layout (default: identical) */
  fromTorch?(torch: Float32Array): Float32Array;
}

/** What every layer config has; each layer type's config extends it (see ./config). */
export interface LayerBase {
  type: string;
  /** default `<type>_<index>`; 1-128 characters of [A-Za-z0-9_-] */
  name?: string;
}

export interface Layer {
  readonly type: string;
  readonly name: string;
  /** false freezes the layer's parameters (its gradients still flow to earlier layers) */
  trainable: boolean;
  /** per-sample shapes */
  readonly inputShape: readonly number[];
  readonly outputShape: readonly number[];
  readonly params: readonly ParamSlot[];
  /** the activation applied at the layer's end, if any (the loss may fuse with it) */
  readonly activation?: ActivationDef;

  /** throws a typed error for input the layer cannot take (only a first layer is asked) */
  checkInput?(x: Float32Array, what: string): void;

  /** the topology entry that rebuilds this layer */
  config(): LayerConfig;
  /** write initial values of every parameter (internal layout) through `set` */
  initialize(rng: Rng, set: (slot: ParamSlot, values: Float32Array) => void): void;

  /** floats per sample of forward buffers and of gradient buffers the layer needs */
  readonly forwardFloats: number;
  readonly gradFloats: number;
  /** floats of scratch the layer needs while it runs (shared by all layers; not per sample) */
  readonly workspaceFloats: number;
  /**
   * Take buffers for a batch: forward ones from `fwd`, gradient ones from `grad`, scratch at
   * `workspace` (byte pointers).
   */
  bind(fwd: number, grad: number, batch: number, workspace: number): void;

  /** output of the last forward pass, and where the gradient of that output goes */
  readonly output: number;
  readonly outputGrad: number;
  /** pre-activation output and its gradient (equal to output/outputGrad without activation) */
  readonly logits: number;
  readonly logitsGrad: number;

  /** `rng` draws anything random in training (dropout masks) */
  forward(k: Kernels, x: number, batch: number, training: boolean, rng: Rng): void;
  /**
   * Accumulate parameter gradients and, when dx != 0, the input gradient. With
   * `fromLogits` the gradient already sits in logitsGrad (a fused loss put it there).
   */
  backward(k: Kernels, x: number, dx: number, batch: number, fromLogits: boolean): void;
}

export const floatsOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

export function paramSlot(name: string, shape: number[], extra: Partial<ParamSlot> = {}): ParamSlot {
  return { name, shape, size: floatsOf(shape), ptr: 0, grad: 0, state: [], ...extra };
}

/** The bias of a layer of `units` outputs, or none when the config says `useBias: false`. */
export function biasSlot(useBias: unknown, units: number, where: string): ParamSlot | undefined {
  if (useBias !== undefined && typeof useBias !== 'boolean') throw new NeuriteError('INVALID_ARGUMENT', `${where}: useBias must be true or false`);
  return useBias === false ? undefined : paramSlot('bias', [units]);
}

/** src(rows, cols) → (cols, rows): PyTorch keeps (out, in) weights, the kernels read (in, out) */
export function transpose(src: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(src.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = src[r * cols + c];
  return out;
}

/** Uniform initial weights: Glorot for saturating activations, He for the ReLU family. */
export function initUniform(rng: Rng, n: number, fanIn: number, fanOut: number, he: boolean): Float32Array {
  const limit = he ? Math.sqrt(6 / fanIn) : Math.sqrt(6 / (fanIn + fanOut));
  const w = new Float32Array(n);
  for (let i = 0; i < n; i++) w[i] = rng.uniform(-limit, limit);
  return w;
}

/**
 * A (rows, cols) matrix whose rows (rows ≤ cols) or columns (rows > cols) are orthonormal: Gram–
 * Schmidt on a standard normal draw, signs fixed as Keras's Orthogonal initializer does. Keeps
 * a recurrent weight's repeated products from exploding or vanishing at the start.
 */
export function initOrthogonal(rng: Rng, rows: number, cols: number): Float32Array {
  const tall = rows > cols;
  const [n, m] = tall ? [rows, cols] : [cols, rows]; // m orthonormal vectors of length n
  const q = new Float64Array(n * m);
  for (let i = 0; i < q.length; i++) q[i] = rng.normal();
  for (let j = 0; j < m; j++) {
    const v = q.subarray(j * n, j * n + n);
    // twice, for vectors that are orthogonal to working precision
    for (let pass = 0; pass < 2; pass++) {
      for (let i = 0; i < j; i++) {
        const u = q.subarray(i * n, i * n + n);
        let d = 0;
        for (let r = 0; r < n; r++) d += u[r] * v[r];
        for (let r = 0; r < n; r++) v[r] -= d * u[r];
      }
    }
    let norm = 0;
    for (let r = 0; r < n; r++) norm += v[r] * v[r];
    norm = Math.sqrt(norm) || 1;
    for (let r = 0; r < n; r++) v[r] /= norm;
  }
  const out = new Float32Array(rows * cols);
  for (let j = 0; j < m; j++) {
    for (let r = 0; r < n; r++) {
      if (tall) out[r * cols + j] = q[j * n + r];
      else out[j * cols + r] = q[j * n + r];
    }
  }
  return out;
}
