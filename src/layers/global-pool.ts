// Global average pooling: [C, H, W] → [C], each channel's mean (the head of every modern CNN,
// in place of flatten + a large dense layer). The average-pool kernels with the whole plane as
// the window.
import type { Rng } from '../rng';
import type { Kernels } from '../wasm';
import { chw, channelsFirstHint, type PoolGeometry } from './geometry';
import type { Layer, LayerBase, ParamSlot } from './layer';

export interface GlobalAvgPool2dConfig extends LayerBase {
  type: 'globalAvgPool2d';
}

export class GlobalAvgPool2d implements Layer {
  readonly type = 'globalAvgPool2d';
  trainable = true;
  readonly inputShape: readonly number[];
  readonly outputShape: readonly number[];
  readonly params: ParamSlot[] = [];
  readonly forwardFloats: number;
  readonly gradFloats: number;
  readonly workspaceFloats = 0;
  private readonly planes: number;
  private readonly geo: PoolGeometry;
  output = 0;
  outputGrad = 0;
  get logits(): number { return this.output; }
  get logitsGrad(): number { return this.outputGrad; }

  constructor(readonly name: string, _cfg: GlobalAvgPool2dConfig, inputShape: readonly number[]) {
    const [c, h, w] = chw(inputShape, `layer ${name} (globalAvgPool2d)${channelsFirstHint(inputShape)}`);
    this.planes = c;
    this.inputShape = [...inputShape];
    this.outputShape = [c];
    this.geo = [h, w, h, w, h, w, 0, 0, 1, 1];
    this.forwardFloats = c;
    this.gradFloats = c;
  }

  config(): GlobalAvgPool2dConfig {
    return { type: 'globalAvgPool2d', name: this.name };
  }

  initialize(): void {}

  bind(fwd: number, grad: number): void {
    this.output = fwd;
    this.outputGrad = grad;
  }

  forward(k: Kernels, x: number, batch: number, _training: boolean, _rng: Rng): void {
    k.k.avgpool2d_forward(this.output, x, batch * this.planes, ...this.geo);
  }

  backward(k: Kernels, _x: number, dx: number, batch: number): void {
    if (dx !== 0) k.k.avgpool2d_backward(dx, this.outputGrad, batch * this.planes, ...this.geo);
  }
}
