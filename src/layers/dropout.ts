// Dropout: in training each value is kept with probability 1 − rate and scaled by 1/(1 − rate)
// (inverted dropout), the mask drawn from the model's seeded RNG; in inference it is the identity.
import { NeuriteError } from '../errors';
import type { Rng } from '../rng';
import type { Kernels } from '../wasm';
import { floatsOf, type Layer, type LayerBase, type ParamSlot } from './layer';

export interface DropoutConfig extends LayerBase {
  type: 'dropout';
  rate: number;
}

export class Dropout implements Layer {
  readonly type = 'dropout';
  trainable = true;
  readonly inputShape: readonly number[];
  readonly outputShape: readonly number[];
  readonly params: ParamSlot[] = [];
  readonly forwardFloats: number;
  readonly gradFloats: number;
  readonly workspaceFloats = 0;
  private readonly rate: number;
  private readonly n: number;
  private mask = 0;
  output = 0;
  outputGrad = 0;
  get logits(): number { return this.output; }
  get logitsGrad(): number { return this.outputGrad; }

  constructor(readonly name: string, cfg: DropoutConfig, inputShape: readonly number[]) {
    if (typeof cfg.rate !== 'number' || !(cfg.rate >= 0 && cfg.rate < 1)) {
      throw new NeuriteError('INVALID_ARGUMENT', `layer ${name} (dropout): rate must be in [0, 1), got ${JSON.stringify(cfg.rate)}`);
    }
    this.rate = cfg.rate;
    this.inputShape = [...inputShape];
    this.outputShape = [...inputShape];
    this.n = floatsOf(inputShape);
    this.forwardFloats = 2 * this.n; // output and mask
    this.gradFloats = this.n;
  }

  config(): DropoutConfig {
    return { type: 'dropout', name: this.name, rate: this.rate };
  }

  initialize(): void {}

  bind(fwd: number, grad: number, batch: number): void {
    this.output = fwd;
    this.mask = fwd + batch * this.n * 4;
    this.outputGrad = grad;
  }

  forward(k: Kernels, x: number, batch: number, training: boolean, rng: Rng): void {
    const n = batch * this.n;
    if (!training || this.rate === 0) {
      k.k.linear_forward(this.output, x, n, 0);
      // only a training pass is followed by backward, which reads the mask
      if (training) k.f32.fill(1, this.mask >> 2, (this.mask >> 2) + n);
      return;
    }
    const f32 = k.f32;
    const keep = 1 - this.rate;
    const scale = 1 / keep;
    const m = this.mask >> 2;
    for (let i = 0; i < n; i++) f32[m + i] = rng.next() < keep ? scale : 0;
    k.k.dropout_forward(this.output, x, this.mask, n);
  }

  backward(k: Kernels, _x: number, dx: number, batch: number): void {
    if (dx !== 0) k.k.dropout_backward(dx, this.outputGrad, this.mask, batch * this.n);
  }
}
