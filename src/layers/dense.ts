// Fully connected layer with a fused bias and an optional activation.
import { activation, type ActivationDef } from '../activations';
import { NeuriteError } from '../errors';
import type { Rng } from '../rng';
import type { Kernels } from '../wasm';
import { floatsOf, type Layer, type LayerConfig, type ParamSlot } from './layer';

export interface DenseConfig extends LayerConfig {
  type: 'dense';
  units: number;
  /** default 'linear' */
  activation?: string;
  /** leakyRelu slope, ELU alpha, swish beta, PReLU initial slope */
  alpha?: number;
}

/** Largest layer width accepted from a topology: bounds memory taken on an untrusted file. */
export const MAX_UNITS = 1 << 20;

function transpose(src: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(src.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = src[r * cols + c];
  return out;
}

function slot(name: string, shape: number[], extra: Partial<ParamSlot> = {}): ParamSlot {
  return { name, shape, size: floatsOf(shape), ptr: 0, grad: 0, state: [], ...extra };
}

export class Dense implements Layer {
  readonly type = 'dense';
  trainable = true;
  readonly inputShape: readonly number[];
  readonly outputShape: readonly number[];
  readonly params: ParamSlot[];
  readonly activation: ActivationDef;
  readonly forwardFloats: number;
  readonly gradFloats: number;
  private readonly inp: number;
  private readonly units: number;
  private readonly alpha: number;
  private readonly weight: ParamSlot;
  private readonly bias: ParamSlot;
  private readonly prelu?: ParamSlot;
  logits = 0;
  output = 0;
  logitsGrad = 0;
  outputGrad = 0;

  constructor(readonly name: string, cfg: DenseConfig, inputShape: readonly number[]) {
    const where = `layer ${name} (dense)`;
    if (!Number.isSafeInteger(cfg.units) || cfg.units < 1 || cfg.units > MAX_UNITS) {
      throw new NeuriteError('INVALID_ARGUMENT', `${where}: units must be an integer in [1, ${MAX_UNITS}], got ${JSON.stringify(cfg.units)}`);
    }
    if (inputShape.length !== 1) {
      throw new NeuriteError('SHAPE_MISMATCH', `${where}: expects a flat input, got shape [${inputShape.join(', ')}]`);
    }
    this.activation = activation(cfg.activation ?? 'linear', where);
    const a = cfg.alpha ?? this.activation.defaultAlpha ?? 0;
    if (typeof a !== 'number' || !Number.isFinite(a)) throw new NeuriteError('INVALID_ARGUMENT', `${where}: alpha must be a finite number`);
    this.alpha = a;
    this.inp = inputShape[0];
    this.units = cfg.units;
    this.inputShape = [this.inp];
    this.outputShape = [this.units];
    const [inp, out] = [this.inp, this.units];
    // kept transposed, wt(in,out), so that forward is a row-major GEMM
    this.weight = slot('weight', [out, inp], {
      toTorch: (w) => transpose(w, inp, out),
      fromTorch: (w) => transpose(w, out, inp),
    });
    this.bias = slot('bias', [out]);
    this.params = [this.weight, this.bias];
    if (this.activation.learned) {
      this.prelu = slot('alpha', [out]);
      this.params.push(this.prelu);
    }
    const separate = this.activation.name !== 'linear';
    this.forwardFloats = separate ? 2 * out : out;
    this.gradFloats = separate ? 2 * out : out;
  }

  config(): DenseConfig {
    const c: DenseConfig = { type: 'dense', name: this.name, units: this.units, activation: this.activation.name };
    if (this.activation.defaultAlpha !== undefined && this.alpha !== this.activation.defaultAlpha) c.alpha = this.alpha;
    return c;
  }

  initialize(rng: Rng, set: (slot: ParamSlot, values: Float32Array) => void): void {
    const fanIn = this.inp;
    const fanOut = this.units;
    // Glorot uniform for saturating activations, He uniform for the ReLU family
    const limit = this.activation.init === 'he' ? Math.sqrt(6 / fanIn) : Math.sqrt(6 / (fanIn + fanOut));
    const w = new Float32Array(this.weight.size);
    for (let i = 0; i < w.length; i++) w[i] = rng.uniform(-limit, limit);
    set(this.weight, w);
    set(this.bias, new Float32Array(this.bias.size));
    if (this.prelu) set(this.prelu, new Float32Array(this.prelu.size).fill(this.alpha));
  }

  bind(fwd: number, grad: number, batch: number): void {
    const bytes = batch * this.units * 4;
    this.logits = fwd;
    this.logitsGrad = grad;
    const separate = this.activation.name !== 'linear';
    this.output = separate ? fwd + bytes : fwd;
    this.outputGrad = separate ? grad + bytes : grad;
  }

  forward(k: Kernels, x: number, batch: number, _training: boolean): void {
    k.k.dense_forward(this.logits, x, this.weight.ptr, this.bias.ptr, batch, this.inp, this.units, k.scratch);
    const n = batch * this.units;
    const act = this.activation;
    if (act.name === 'linear') return;
    if (act.learned) k.k.prelu_forward(this.output, this.logits, this.prelu!.ptr, batch, this.units);
    else if (act.rowwise) k.k.softmax_forward(this.output, this.logits, batch, this.units);
    else k.k[`${act.kernel}_forward`](this.output, this.logits, n, this.alpha);
  }

  backward(k: Kernels, x: number, dx: number, batch: number, fromLogits: boolean): void {
    const act = this.activation;
    if (!fromLogits && act.name !== 'linear') {
      if (!act.differentiable) {
        throw new NeuriteError('UNSUPPORTED', `layer ${this.name}: the ${act.name} activation has no gradient; it cannot be trained by back-propagation (use the perceptron rule, or a differentiable activation)`);
      }
      if (act.learned) k.k.prelu_backward(this.logitsGrad, this.prelu!.grad, this.outputGrad, this.logits, this.prelu!.ptr, batch, this.units);
      else if (act.rowwise) k.k.softmax_backward(this.logitsGrad, this.outputGrad, this.output, batch, this.units);
      else k.k[`${act.kernel}_backward`](this.logitsGrad, this.outputGrad, this.logits, this.output, batch * this.units, this.alpha);
    }
    k.k.dense_backward(dx, this.weight.grad, this.bias.grad, this.logitsGrad, x, this.weight.ptr, batch, this.inp, this.units, k.scratch);
  }
}
