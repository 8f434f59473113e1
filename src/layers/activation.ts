// A layer that only applies an activation, to any shape (Keras's Activation). Softmax works
// over the last axis. The learned PReLU slope needs a layer with units: use it on dense.
import { activationBackward, activationForward, activationOf, type ActivationDef, type ActivationName } from '../activations';
import { NeuriteError } from '../errors';
import type { Rng } from '../rng';
import type { Kernels } from '../wasm';
import { floatsOf, type Layer, type LayerBase, type ParamSlot } from './layer';

export interface ActivationConfig extends LayerBase {
  type: 'activation';
  activation: ActivationName;
  /** leakyRelu slope, ELU alpha, swish beta */
  alpha?: number;
}

export class Activation implements Layer {
  readonly type = 'activation';
  trainable = true;
  readonly inputShape: readonly number[];
  readonly outputShape: readonly number[];
  readonly params: ParamSlot[] = [];
  readonly activation: ActivationDef;
  readonly forwardFloats: number;
  readonly gradFloats: number;
  readonly workspaceFloats = 0;
  private readonly alpha: number;
  private readonly n: number;
  /** softmax rows: the last axis */
  private readonly cols: number;
  logits = 0;
  output = 0;
  logitsGrad = 0;
  outputGrad = 0;

  constructor(readonly name: string, cfg: ActivationConfig, inputShape: readonly number[]) {
    const where = `layer ${name} (activation)`;
    if (cfg.activation === undefined) throw new NeuriteError('INVALID_ARGUMENT', `${where}: activation is required, e.g. 'relu'`);
    [this.activation, this.alpha] = activationOf(cfg, where);
    if (this.activation.learned) {
      throw new NeuriteError('UNSUPPORTED', `${where}: ${this.activation.name} learns a slope per unit; use it as a dense layer's activation`);
    }
    this.inputShape = [...inputShape];
    this.outputShape = [...inputShape];
    this.n = floatsOf(inputShape);
    this.cols = inputShape[inputShape.length - 1];
    // the input itself is the pre-activation (logits): only the output is the layer's own
    this.forwardFloats = this.n;
    // dL/doutput, and dL/dlogits where a fused loss (softmax + cross-entropy) puts it
    this.gradFloats = 2 * this.n;
  }

  config(): ActivationConfig {
    const c: ActivationConfig = { type: 'activation', name: this.name, activation: this.activation.name };
    if (this.activation.defaultAlpha !== undefined && this.alpha !== this.activation.defaultAlpha) c.alpha = this.alpha;
    return c;
  }

  initialize(): void {}

  bind(fwd: number, grad: number, batch: number): void {
    this.output = fwd;
    this.outputGrad = grad;
    this.logitsGrad = grad + batch * this.n * 4;
  }

  forward(k: Kernels, x: number, batch: number, _training: boolean, _rng: Rng): void {
    // the fused losses read the logits: they are this layer's input
    this.logits = x;
    if (this.activation.name === 'linear') { k.k.linear_forward(this.output, x, batch * this.n, 0); return; }
    const rows = batch * this.n / this.cols;
    activationForward(k, this.activation, this.alpha, this.output, x, rows, this.cols);
  }

  backward(k: Kernels, x: number, dx: number, batch: number, fromLogits: boolean): void {
    if (dx === 0) return;
    if (fromLogits) {
      // a fused loss left dL/dlogits, which is dL/dx
      k.k.axpy(dx, this.logitsGrad, batch * this.n, 1);
      return;
    }
    if (this.activation.name === 'linear') { k.k.axpy(dx, this.outputGrad, batch * this.n, 1); return; }
    const rows = batch * this.n / this.cols;
    activationBackward(k, this.activation, this.alpha, dx, this.outputGrad, x, this.output, rows, this.cols, `layer ${this.name}`);
  }
}
