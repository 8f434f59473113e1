// Fully connected layer with a fused bias and an optional activation.
import { activationBackward, activationForward, activationOf, type ActivationDef, type ActivationName } from '../activations';
import { NeuriteError } from '../errors';
import type { Rng } from '../rng';
import type { Kernels } from '../wasm';
import { initUniform, biasSlot, paramSlot, transpose, type Layer, type LayerBase, type ParamSlot } from './layer';

export interface DenseConfig extends LayerBase {
  type: 'dense';
  units: number;
  /** default 'linear' */
  activation?: ActivationName;
  /** leakyRelu slope, ELU alpha, swish beta, PReLU initial slope */
  alpha?: number;
  /** add a learned bias (default true); false leaves it out, as nn.Linear(bias=False) */
  useBias?: boolean;
}

/** Largest layer width accepted from a topology: bounds memory taken on an untrusted file. */
export const MAX_UNITS = 1 << 20;

export class Dense implements Layer {
  readonly type = 'dense';
  trainable = true;
  readonly inputShape: readonly number[];
  readonly outputShape: readonly number[];
  readonly params: ParamSlot[];
  readonly activation: ActivationDef;
  readonly forwardFloats: number;
  readonly gradFloats: number;
  readonly workspaceFloats = 0;
  private readonly inp: number;
  private readonly steps: number;
  private readonly units: number;
  private readonly alpha: number;
  private readonly weight: ParamSlot;
  private readonly bias?: ParamSlot;
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
    if (inputShape.length !== 1 && inputShape.length !== 2) {
      throw new NeuriteError('SHAPE_MISMATCH',
        `${where}: expects a flat input or a sequence [steps, features], got shape [${inputShape.join(', ')}] (put a flatten layer before it)`);
    }
    [this.activation, this.alpha] = activationOf(cfg, where);
    // on a sequence [steps, n] it applies to the last axis at every step, as nn.Linear does
    this.steps = inputShape.length === 2 ? inputShape[0] : 1;
    this.inp = inputShape[inputShape.length - 1];
    this.units = cfg.units;
    this.inputShape = [...inputShape];
    this.outputShape = inputShape.length === 2 ? [this.steps, this.units] : [this.units];
    const [inp, out] = [this.inp, this.units];
    // kept transposed, wt(in,out), so that forward is a row-major GEMM
    this.weight = paramSlot('weight', [out, inp], {
      toTorch: (w) => transpose(w, inp, out),
      fromTorch: (w) => transpose(w, out, inp),
    });
    this.bias = biasSlot(cfg.useBias, out, where);
    this.params = this.bias ? [this.weight, this.bias] : [this.weight];
    if (this.activation.learned) {
      this.prelu = paramSlot('alpha', [out]);
      this.params.push(this.prelu);
    }
    const separate = this.activation.name !== 'linear';
    this.forwardFloats = (separate ? 2 * out : out) * this.steps;
    this.gradFloats = (separate ? 2 * out : out) * this.steps;
  }

  config(): DenseConfig {
    const c: DenseConfig = { type: 'dense', name: this.name, units: this.units, activation: this.activation.name };
    if (this.activation.defaultAlpha !== undefined && this.alpha !== this.activation.defaultAlpha) c.alpha = this.alpha;
    if (!this.bias) c.useBias = false;
    return c;
  }

  initialize(rng: Rng, set: (slot: ParamSlot, values: Float32Array) => void): void {
    set(this.weight, initUniform(rng, this.weight.size, this.inp, this.units, this.activation.init === 'he'));
    if (this.bias) set(this.bias, new Float32Array(this.bias.size));
    if (this.prelu) set(this.prelu, new Float32Array(this.prelu.size).fill(this.alpha));
  }

  bind(fwd: number, grad: number, batch: number, _workspace: number): void {
    const bytes = batch * this.steps * this.units * 4;
    this.logits = fwd;
    this.logitsGrad = grad;
    const separate = this.activation.name !== 'linear';
    this.output = separate ? fwd + bytes : fwd;
    this.outputGrad = separate ? grad + bytes : grad;
  }

  forward(k: Kernels, x: number, samples: number, _training: boolean, _rng: Rng): void {
    const batch = samples * this.steps; // every step of every sample is one row
    k.k.dense_forward(this.logits, x, this.weight.ptr, this.bias?.ptr ?? 0, batch, this.inp, this.units, k.scratch);
    activationForward(k, this.activation, this.alpha, this.output, this.logits, batch, this.units, this.prelu?.ptr);
  }

  backward(k: Kernels, x: number, dx: number, samples: number, fromLogits: boolean): void {
    const batch = samples * this.steps;
    if (!fromLogits) {
      activationBackward(k, this.activation, this.alpha, this.logitsGrad, this.outputGrad, this.logits, this.output,
        batch, this.units, `layer ${this.name}`, this.prelu?.ptr, this.prelu?.grad);
    }
    k.k.dense_backward(dx, this.weight.grad, this.bias?.grad ?? 0, this.logitsGrad, x, this.weight.ptr, batch, this.inp, this.units, k.scratch);
  }
}
