// 2-D convolution layer: stride, dilation, valid/same/full/explicit padding, bias, activation.
// Weight layout is PyTorch's (out, in, kh, kw) inside as well as outside. The kernel family is
// chosen per shape in the constructor (see `kernel`); a ReLU is fused into the indirect kernel.
import { activationBackward, activationForward, activationOf, type ActivationDef, type ActivationName } from '../activations';
import { NeuriteError } from '../errors';
import type { Rng } from '../rng';
import type { Kernels } from '../wasm';
import { axis, chw, pair, paddingModes, type ConvGeometry, type Padding, channelsFirstHint } from './geometry';
import { initUniform, biasSlot, paramSlot, type Layer, type LayerBase, type ParamSlot } from './layer';

export interface Conv2dConfig extends LayerBase {
  type: 'conv2d';
  filters: number;
  kernelSize: number | [number, number];
  /** default 1 */
  stride?: number | [number, number];
  /** default 'valid' */
  padding?: Padding;
  /** default 1 (atrous convolution above 1) */
  dilation?: number | [number, number];
  activation?: ActivationName;
  alpha?: number;
  /** add a learned bias per filter (default true); false as nn.Conv2d(bias=False), e.g. before batch normalization */
  useBias?: boolean;
}

export const MAX_FILTERS = 1 << 14;

/** Which kernel family a layer runs (chosen once, in the constructor). */
export type ConvKernel = 'indirect' | 'im2col';
let forcedKernel: ConvKernel | undefined;
/**
 * @internal For the bench only: make layers built from now on use `kernel` (undefined restores
 * the per-shape choice), so the old per-sample im2col path can be timed side by side.
 */
export function forceConvKernel(kernel: ConvKernel | undefined): void { forcedKernel = kernel; }

// plain arithmetic, not `& ~3`: a hostile geometry makes these sizes pass 2^31, where 32-bit
// bitwise operators wrap to a negative workspace that no cap would catch
const up4 = (n: number) => Math.ceil(n / 4) * 4;
const up8 = (n: number) => Math.ceil(n / 8) * 8;
/** Floats of conv2d_indirect_workspace (assembly/conv_indirect.ts), mirrored for the host's memory plan. */
export function indirectWorkspaceFloats(c: number, h: number, w: number, out: number, kh: number, kw: number,
  sh: number, sw: number, dh: number, dw: number, oh: number, ow: number): number {
  const fwd = (c_: number, out_: number, sh_: number, sw_: number, oh_: number, ow_: number) => {
    const hp = (oh_ - 1) * sh_ + (kh - 1) * dh + 1;
    const wp = (ow_ - 1) * sw_ + (kw - 1) * dw + 1;
    return up4(c_ * kh * kw) + up4(oh_ * ow_) + up4(2 * oh_ * ow_) + up4(2 * oh_) + c_ * kh * kw * up8(out_) + up8(out_) + up4(c_ * hp * wp) + 32;
  };
  const hp = (oh - 1) * sh + (kh - 1) * dh + 1;
  const wp = (ow - 1) * sw + (kw - 1) * dw + 1;
  const dwt = up4(c * kh * kw) + up4(oh * ow) + up4(c * hp * wp) + up4(2 * c * kh * kw) + up8(out) * oh * ow + up4(out * oh * ow) + up8(out) + 32
    + up4(c * hp * wp) + 2 * up4(c * kh * kw) + up4(oh * ow + 1) // the sparse path: padded dx, a window, its dx, runs
    + up4(oh * ow) + up4(oh * ow + 1) + up4(2 * c * kh * kw); // the dense path's kept pixels, their prefix counts, spans
  return Math.max(fwd(c, out, sh, sw, oh, ow), dwt + fwd(out, c, 1, 1, h, w));
}

export class Conv2d implements Layer {
  readonly type = 'conv2d';
  trainable = true;
  readonly inputShape: readonly number[];
  readonly outputShape: readonly number[];
  readonly params: ParamSlot[];
  readonly activation: ActivationDef;
  readonly forwardFloats: number;
  readonly gradFloats: number;
  readonly workspaceFloats: number;
  private readonly alpha: number;
  private readonly weight: ParamSlot;
  private readonly bias?: ParamSlot;
  /** c, h, w, out, kh, kw, sh, sw, pt, pl, dh, dw, oh, ow as the kernels take them */
  private readonly dims: ConvGeometry;
  private readonly cfg: Conv2dConfig;
  /**
   * The kernel family for this shape. 'indirect' (no im2col, O(one sample) workspace) wherever
   * its input gradient applies, stride 1; 'im2col' (per-sample im2col + GEMM, col2im) otherwise.
   */
  readonly kernel: ConvKernel;
  /** ReLU runs inside the indirect kernels (forward's store, backward's dy): one buffer each, no separate pass */
  private readonly fusedRelu: boolean;
  private workspace = 0;
  logits = 0;
  output = 0;
  logitsGrad = 0;
  outputGrad = 0;

  constructor(readonly name: string, cfg: Conv2dConfig, inputShape: readonly number[]) {
    const where = `layer ${name} (conv2d)${channelsFirstHint(inputShape)}`;
    if (!Number.isSafeInteger(cfg.filters) || cfg.filters < 1 || cfg.filters > MAX_FILTERS) {
      throw new NeuriteError('INVALID_ARGUMENT', `${where}: filters must be an integer in [1, ${MAX_FILTERS}], got ${JSON.stringify(cfg.filters)}`);
    }
    const [c, h, w] = chw(inputShape, where);
    const [kh, kw] = pair(cfg.kernelSize, 'kernelSize', where);
    const [sh, sw] = pair(cfg.stride ?? 1, 'stride', where);
    const [dh, dw] = pair(cfg.dilation ?? 1, 'dilation', where);
    const [ph, pw] = paddingModes(cfg.padding ?? 'valid', where, true);
    // dilation spreads the kernel: effective size K' = K + (K−1)(D−1)
    const [keh, kew] = [kh + (kh - 1) * (dh - 1), kw + (kw - 1) * (dw - 1)];
    // a side padded by a whole window or more only adds outputs that see nothing but zeros, and
    // is how a tiny file asks for a huge activation: explicit padding stays below the window
    // ('full' is exactly K'−1). Pooling has the same rule (pool2d.ts).
    for (const [p, k] of [[ph, keh], [pw, kew]] as const) {
      if (typeof p === 'number' && p > k - 1) {
        throw new NeuriteError('INVALID_ARGUMENT', `${where}: padding ${p} must be smaller than the window (${k}, dilation included)`);
      }
    }
    const [pt, oh] = axis(ph as 'valid', h, keh, sh, where);
    const [pl, ow] = axis(pw as 'valid', w, kew, sw, where);
    [this.activation, this.alpha] = activationOf(cfg, where);
    if (this.activation.rowwise || this.activation.learned) {
      throw new NeuriteError('UNSUPPORTED', `${where}: the ${this.activation.name} activation is for dense layers`);
    }
    const out = cfg.filters;
    this.cfg = cfg;
    this.inputShape = [...inputShape];
    this.outputShape = [out, oh, ow];
    this.dims = [c, h, w, out, kh, kw, sh, sw, pt, pl, dh, dw, oh, ow];
    this.weight = paramSlot('weight', [out, c, kh, kw]);
    this.bias = biasSlot(cfg.useBias, out, where);
    this.params = this.bias ? [this.weight, this.bias] : [this.weight];
    const n = out * oh * ow;
    this.kernel = forcedKernel ?? (sh === 1 && sw === 1 ? 'indirect' : 'im2col');
    this.fusedRelu = this.kernel === 'indirect' && this.activation.name === 'relu';
    const separate = this.activation.name !== 'linear';
    // a fused ReLU keeps only its output, and its backward runs inside the kernel too
    // (relu'(logits) = [output > 0]): one forward buffer, one gradient buffer
    this.forwardFloats = separate && !this.fusedRelu ? 2 * n : n;
    this.gradFloats = this.forwardFloats;
    this.workspaceFloats = this.kernel === 'indirect'
      ? indirectWorkspaceFloats(c, h, w, out, kh, kw, sh, sw, dh, dw, oh, ow)
      : c * kh * kw * oh * ow;
  }

  config(): Conv2dConfig {
    const c: Conv2dConfig = { type: 'conv2d', name: this.name, filters: this.cfg.filters, kernelSize: this.cfg.kernelSize };
    for (const k of ['stride', 'padding', 'dilation'] as const) if (this.cfg[k] !== undefined) (c as unknown as Record<string, unknown>)[k] = this.cfg[k];
    c.activation = this.activation.name;
    if (this.activation.defaultAlpha !== undefined && this.alpha !== this.activation.defaultAlpha) c.alpha = this.alpha;
    if (!this.bias) c.useBias = false;
    return c;
  }

  initialize(rng: Rng, set: (slot: ParamSlot, values: Float32Array) => void): void {
    const [c, , , out, kh, kw] = this.dims;
    set(this.weight, initUniform(rng, this.weight.size, c * kh * kw, out * kh * kw, this.activation.init === 'he'));
    if (this.bias) set(this.bias, new Float32Array(this.bias.size));
  }

  bind(fwd: number, grad: number, batch: number, workspace: number): void {
    const bytes = batch * this.outputShape[0] * this.outputShape[1] * this.outputShape[2] * 4;
    const separate = this.activation.name !== 'linear';
    this.logits = fwd;
    this.logitsGrad = grad;
    this.output = separate && !this.fusedRelu ? fwd + bytes : fwd;
    this.outputGrad = separate && !this.fusedRelu ? grad + bytes : grad;
    this.workspace = workspace;
  }

  forward(k: Kernels, x: number, batch: number, _training: boolean, _rng: Rng): void {
    if (this.kernel === 'indirect') {
      k.k.conv2d_indirect_forward(this.logits, x, this.weight.ptr, (this.bias?.ptr ?? 0), this.workspace, this.fusedRelu ? 1 : 0, batch, ...this.dims);
      if (this.fusedRelu) return;
    } else {
      k.k.conv2d_im2col_forward(this.logits, x, this.weight.ptr, (this.bias?.ptr ?? 0), this.workspace, batch, ...this.dims, k.scratch);
    }
    const [out, oh, ow] = this.outputShape;
    activationForward(k, this.activation, this.alpha, this.output, this.logits, batch, out * oh * ow);
  }

  backward(k: Kernels, x: number, dx: number, batch: number, fromLogits: boolean): void {
    const [out, oh, ow] = this.outputShape;
    if (this.fusedRelu) {
      // the kernel takes dy through the ReLU itself, from the output's sign
      k.k.conv2d_indirect_backward(dx, this.weight.grad, (this.bias?.grad ?? 0), this.outputGrad, x, this.output, this.weight.ptr,
        this.workspace, batch, ...this.dims);
      return;
    }
    if (!fromLogits) {
      activationBackward(k, this.activation, this.alpha, this.logitsGrad, this.outputGrad, this.logits, this.output,
        batch, out * oh * ow, `layer ${this.name}`);
    }
    if (this.kernel === 'indirect') {
      k.k.conv2d_indirect_backward(dx, this.weight.grad, (this.bias?.grad ?? 0), this.logitsGrad, x, 0, this.weight.ptr, this.workspace,
        batch, ...this.dims);
    } else {
      k.k.conv2d_im2col_backward(dx, this.weight.grad, (this.bias?.grad ?? 0), this.logitsGrad, x, this.weight.ptr, this.workspace,
        batch, ...this.dims, k.scratch);
    }
  }
}
