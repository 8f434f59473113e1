// Batch normalization, PyTorch's BatchNorm1d (after a dense layer, input [C]) and BatchNorm2d
// (after a convolution, input [C, H, W]), with PyTorch's names, conventions and defaults:
// weight (γ, starts at 1), bias (β, 0), the buffers running_mean (0), running_var (1) and
// num_batches_tracked (an I64 counter); eps 1e-5; momentum 0.1 meaning
// running ← (1 − momentum)·running + momentum·batch statistic. Training uses the batch's
// statistics and moves the running ones; inference uses the running ones. A frozen layer
// (trainable = false) runs as in inference, as Keras does, so fine-tuning leaves it alone.
import { activationBackward, activationForward, activationOf, type ActivationDef, type ActivationName } from '../activations';
import { NeuriteError } from '../errors';
import type { Rng } from '../rng';
import type { Kernels } from '../wasm';
import { floatsOf, paramSlot, type Layer, type LayerBase, type ParamSlot } from './layer';

export interface BatchNormalizationConfig extends LayerBase {
  type: 'batchNormalization';
  /** how far each training batch moves the running statistics (default 0.1, PyTorch's) */
  momentum?: number;
  /** added to the variance (default 1e-5, PyTorch's) */
  epsilon?: number;
  /** applied after the normalization (default 'linear') */
  activation?: ActivationName;
  alpha?: number;
}

export class BatchNormalization implements Layer {
  readonly type = 'batchNormalization';
  trainable = true;
  readonly inputShape: readonly number[];
  readonly outputShape: readonly number[];
  readonly params: ParamSlot[];
  readonly activation: ActivationDef;
  readonly forwardFloats: number;
  readonly gradFloats: number;
  readonly workspaceFloats = 0;
  private readonly alpha: number;
  private readonly momentum: number;
  private readonly eps: number;
  private readonly c: number;
  private readonly s: number;
  private readonly weight: ParamSlot;
  private readonly bias: ParamSlot;
  private readonly runningMean: ParamSlot;
  private readonly runningVar: ParamSlot;
  private readonly tracked: ParamSlot;
  private mean = 0;
  private invstd = 0;
  /** whether the last forward used the batch's statistics (backward needs to know) */
  private batchStats = false;
  logits = 0;
  output = 0;
  logitsGrad = 0;
  outputGrad = 0;

  constructor(readonly name: string, cfg: BatchNormalizationConfig, inputShape: readonly number[]) {
    const where = `layer ${name} (batchNormalization)`;
    if (inputShape.length !== 1 && inputShape.length !== 3) {
      throw new NeuriteError('UNSUPPORTED',
        `${where}: normalizes channels of [C] (after dense) or [C, H, W] (after conv2d) inputs, got [${inputShape.join(', ')}]`);
    }
    const momentum = cfg.momentum ?? 0.1;
    const eps = cfg.epsilon ?? 1e-5;
    if (typeof momentum !== 'number' || !(momentum >= 0 && momentum <= 1)) {
      throw new NeuriteError('INVALID_ARGUMENT', `${where}: momentum must be in [0, 1], got ${JSON.stringify(cfg.momentum)}`);
    }
    if (typeof eps !== 'number' || !(eps > 0 && eps < 1)) {
      throw new NeuriteError('INVALID_ARGUMENT', `${where}: epsilon must be in (0, 1), got ${JSON.stringify(cfg.epsilon)}`);
    }
    [this.activation, this.alpha] = activationOf(cfg, where);
    if (this.activation.rowwise || this.activation.learned) {
      throw new NeuriteError('UNSUPPORTED', `${where}: the ${this.activation.name} activation is for dense layers`);
    }
    this.momentum = momentum;
    this.eps = eps;
    this.c = inputShape[0];
    this.s = floatsOf(inputShape) / this.c;
    this.inputShape = [...inputShape];
    this.outputShape = [...inputShape];
    const c = this.c;
    this.weight = paramSlot('weight', [c]);
    this.bias = paramSlot('bias', [c]);
    this.runningMean = paramSlot('running_mean', [c], { buffer: true });
    this.runningVar = paramSlot('running_var', [c], { buffer: true });
    this.tracked = paramSlot('num_batches_tracked', [], { buffer: true, dtype: 'I64' });
    this.params = [this.weight, this.bias, this.runningMean, this.runningVar, this.tracked];
    const n = floatsOf(inputShape);
    const separate = this.activation.name !== 'linear';
    // outputs (and logits), plus the batch's mean and 1/std: 2C floats, allotted per sample
    // so the plan stays per-sample; a batch uses the first 2C
    this.forwardFloats = (separate ? 2 * n : n) + 2 * c;
    this.gradFloats = separate ? 2 * n : n;
  }

  config(): BatchNormalizationConfig {
    const c: BatchNormalizationConfig = { type: 'batchNormalization', name: this.name };
    if (this.momentum !== 0.1) c.momentum = this.momentum;
    if (this.eps !== 1e-5) c.epsilon = this.eps;
    if (this.activation.name !== 'linear') c.activation = this.activation.name;
    if (this.activation.defaultAlpha !== undefined && this.alpha !== this.activation.defaultAlpha) c.alpha = this.alpha;
    return c;
  }

  initialize(_rng: Rng, set: (slot: ParamSlot, values: Float32Array) => void): void {
    set(this.weight, new Float32Array(this.c).fill(1));
    set(this.bias, new Float32Array(this.c));
    set(this.runningMean, new Float32Array(this.c));
    set(this.runningVar, new Float32Array(this.c).fill(1));
    set(this.tracked, new Float32Array(1));
  }

  bind(fwd: number, grad: number, batch: number): void {
    const bytes = batch * floatsOf(this.inputShape) * 4;
    const separate = this.activation.name !== 'linear';
    this.logits = fwd;
    this.output = separate ? fwd + bytes : fwd;
    this.mean = fwd + (separate ? 2 : 1) * bytes;
    this.invstd = this.mean + this.c * 4;
    this.logitsGrad = grad;
    this.outputGrad = separate ? grad + bytes : grad;
  }

  forward(k: Kernels, x: number, batch: number, training: boolean, _rng: Rng): void {
    const [w, b, rm, rv] = [this.weight.ptr, this.bias.ptr, this.runningMean.ptr, this.runningVar.ptr];
    this.batchStats = training && this.trainable;
    if (this.batchStats) {
      if (batch * this.s < 2) {
        throw new NeuriteError('INVALID_ARGUMENT',
          `layer ${this.name} (batchNormalization): training needs more than one value per channel (a batch of one sample of one position); use a larger batchSize`);
      }
      k.k.batchnorm_forward_train(this.logits, this.mean, this.invstd, x, w, b, rm, rv, batch, this.c, this.s, this.momentum, this.eps);
      const f32 = k.f32;
      f32[this.tracked.ptr >> 2] += 1;
    } else {
      k.k.batchnorm_forward_eval(this.logits, x, w, b, rm, rv, batch, this.c, this.s, this.eps);
    }
    activationForward(k, this.activation, this.alpha, this.output, this.logits, batch, this.c * this.s);
  }

  backward(k: Kernels, x: number, dx: number, batch: number, fromLogits: boolean): void {
    if (!fromLogits) {
      activationBackward(k, this.activation, this.alpha, this.logitsGrad, this.outputGrad, this.logits, this.output,
        batch, this.c * this.s, `layer ${this.name}`);
    }
    if (this.batchStats) {
      k.k.batchnorm_backward(dx, this.weight.grad, this.bias.grad, this.logitsGrad, x, this.mean, this.invstd, this.weight.ptr,
        batch, this.c, this.s);
      return;
    }
    // with the running statistics the layer is a fixed affine map per channel: dx = dy·γ/√(var+ε)
    if (dx === 0) return;
    const f32 = k.f32;
    const n = this.c * this.s;
    for (let ch = 0; ch < this.c; ch++) {
      const g = f32[(this.weight.ptr >> 2) + ch] / Math.sqrt(f32[(this.runningVar.ptr >> 2) + ch] + this.eps);
      for (let bi = 0; bi < batch; bi++) {
        const o = bi * n + ch * this.s;
        k.k.axpy(dx + o * 4, this.logitsGrad + o * 4, this.s, g);
      }
    }
  }
}
