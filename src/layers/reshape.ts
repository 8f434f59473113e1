// flatten and reshape: the same values under a new per-sample shape (a copy, so each layer keeps
// its own output buffer and the memory plan stays one rule for every layer).
import { NeuriteError } from '../errors';
import type { Rng } from '../rng';
import type { Kernels } from '../wasm';
import { floatsOf, type Layer, type LayerBase, type ParamSlot } from './layer';

export interface ReshapeConfig extends LayerBase {
  type: 'flatten' | 'reshape';
  /** reshape only: the new per-sample shape */
  targetShape?: number[];
}

export class Reshape implements Layer {
  readonly type: 'flatten' | 'reshape';
  trainable = true;
  readonly inputShape: readonly number[];
  readonly outputShape: readonly number[];
  readonly params: ParamSlot[] = [];
  readonly forwardFloats: number;
  readonly gradFloats: number;
  readonly workspaceFloats = 0;
  output = 0;
  outputGrad = 0;
  get logits(): number { return this.output; }
  get logitsGrad(): number { return this.outputGrad; }

  constructor(readonly name: string, cfg: ReshapeConfig, inputShape: readonly number[]) {
    this.type = cfg.type;
    const n = floatsOf(inputShape);
    if (cfg.type === 'flatten') {
      this.outputShape = [n];
    } else {
      const t = cfg.targetShape;
      if (!Array.isArray(t) || t.length === 0 || !t.every((d) => Number.isSafeInteger(d) && d > 0) || floatsOf(t) !== n) {
        throw new NeuriteError('SHAPE_MISMATCH',
          `layer ${name} (reshape): targetShape ${JSON.stringify(t)} must be positive integers holding the ${n} values of [${inputShape.join(', ')}]`);
      }
      this.outputShape = [...t];
    }
    this.inputShape = [...inputShape];
    this.forwardFloats = n;
    this.gradFloats = n;
  }

  config(): ReshapeConfig {
    return this.type === 'flatten'
      ? { type: 'flatten', name: this.name }
      : { type: 'reshape', name: this.name, targetShape: [...this.outputShape] };
  }

  initialize(): void {}

  bind(fwd: number, grad: number): void {
    this.output = fwd;
    this.outputGrad = grad;
  }

  forward(k: Kernels, x: number, batch: number, _training: boolean, _rng: Rng): void {
    k.k.linear_forward(this.output, x, batch * this.forwardFloats, 0);
  }

  backward(k: Kernels, _x: number, dx: number, batch: number): void {
    if (dx !== 0) k.k.linear_backward(dx, this.outputGrad, 0, 0, batch * this.gradFloats, 0);
  }
}
