// Max and average pooling over each channel.
import { NeuriteError } from '../errors';
import type { Rng } from '../rng';
import type { Kernels } from '../wasm';
import { axis, chw, pair, paddingModes, type Padding, type PoolGeometry, channelsFirstHint } from './geometry';
import type { Layer, LayerBase, ParamSlot } from './layer';

export interface Pool2dConfig extends LayerBase {
  type: 'maxPool2d' | 'avgPool2d';
  poolSize: number | [number, number];
  /** default poolSize */
  stride?: number | [number, number];
  /** default 'valid' */
  padding?: Padding;
}

export class Pool2d implements Layer {
  readonly type: 'maxPool2d' | 'avgPool2d';
  trainable = true;
  readonly inputShape: readonly number[];
  readonly outputShape: readonly number[];
  readonly params: ParamSlot[] = [];
  readonly forwardFloats: number;
  readonly gradFloats: number;
  readonly workspaceFloats = 0;
  private readonly cfg: Pool2dConfig;
  private readonly planes: number;
  private readonly geo: PoolGeometry;
  private argmax = 0;
  output = 0;
  outputGrad = 0;
  get logits(): number { return this.output; }
  get logitsGrad(): number { return this.outputGrad; }

  constructor(readonly name: string, cfg: Pool2dConfig, inputShape: readonly number[]) {
    this.type = cfg.type;
    const where = `layer ${name} (${cfg.type})${channelsFirstHint(inputShape)}`;
    const [c, h, w] = chw(inputShape, where);
    const [kh, kw] = pair(cfg.poolSize, 'poolSize', where);
    const [sh, sw] = pair(cfg.stride ?? cfg.poolSize, 'stride', where);
    const [ph, pw] = paddingModes(cfg.padding ?? 'valid', where, false);
    if ((typeof ph === 'number' && ph >= kh) || (typeof pw === 'number' && pw >= kw)) {
      throw new NeuriteError('INVALID_ARGUMENT', `${where}: padding must be smaller than the pool window`);
    }
    const [pt, oh] = axis(ph as 'valid', h, kh, sh, where);
    const [pl, ow] = axis(pw as 'valid', w, kw, sw, where);
    this.cfg = cfg;
    this.planes = c;
    this.inputShape = [...inputShape];
    this.outputShape = [c, oh, ow];
    this.geo = [h, w, kh, kw, sh, sw, pt, pl, oh, ow];
    const n = c * oh * ow;
    // max pooling keeps where each maximum came from (i32, one per output)
    this.forwardFloats = cfg.type === 'maxPool2d' ? 2 * n : n;
    this.gradFloats = n;
  }

  config(): Pool2dConfig {
    const c: Pool2dConfig = { type: this.type, name: this.name, poolSize: this.cfg.poolSize };
    if (this.cfg.stride !== undefined) c.stride = this.cfg.stride;
    if (this.cfg.padding !== undefined) c.padding = this.cfg.padding;
    return c;
  }

  initialize(): void {}

  bind(fwd: number, grad: number, batch: number, _workspace: number): void {
    this.output = fwd;
    this.argmax = fwd + batch * this.planes * this.geo[8] * this.geo[9] * 4;
    this.outputGrad = grad;
  }

  forward(k: Kernels, x: number, batch: number, training: boolean, _rng: Rng): void {
    // only a training pass is followed by backward, the one reader of the argmax: skip it otherwise
    if (this.type === 'maxPool2d') k.k.maxpool2d_forward(this.output, training ? this.argmax : 0, x, batch * this.planes, ...this.geo);
    else k.k.avgpool2d_forward(this.output, x, batch * this.planes, ...this.geo);
  }

  backward(k: Kernels, _x: number, dx: number, batch: number): void {
    if (dx === 0) return;
    const [h, w, , , , , , , oh, ow] = this.geo;
    if (this.type === 'maxPool2d') k.k.maxpool2d_backward(dx, this.outputGrad, this.argmax, batch * this.planes, h, w, oh, ow);
    else k.k.avgpool2d_backward(dx, this.outputGrad, batch * this.planes, ...this.geo);
  }
}
