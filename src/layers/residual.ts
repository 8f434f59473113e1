// A residual block: y = act(F(x) + shortcut(x)). F is a list of layers; the shortcut is the
// identity when F keeps the shape, else a projection — a 1x1 convolution (stride chosen to match
// the spatial size) for images, a dense layer for flat inputs — as in ResNet.
import { activationBackward, activationForward, activationOf, type ActivationDef, type ActivationName } from '../activations';
import { NeuriteError } from '../errors';
import type { Rng } from '../rng';
import type { Kernels } from '../wasm';
import type { LayerConfig } from './config';
import { floatsOf, type Layer, type LayerBase, type ParamSlot } from './layer';

export interface ResidualConfig extends LayerBase {
  type: 'residual';
  layers: LayerConfig[];
  /** applied after the sum (ResNet uses 'relu'); default 'linear' */
  activation?: ActivationName;
  alpha?: number;
}

export type LayerFactory = (cfg: LayerConfig, index: number, inputShape: readonly number[]) => Layer;

/** n rounded up to a multiple of 4 floats: a part sized so keeps the next one 16-byte aligned at any batch size */
const quad = (n: number): number => Math.ceil(n / 4) * 4;

export class Residual implements Layer {
  readonly type = 'residual';
  readonly inputShape: readonly number[];
  readonly outputShape: readonly number[];
  readonly params: ParamSlot[];
  readonly activation: ActivationDef;
  readonly forwardFloats: number;
  readonly gradFloats: number;
  readonly workspaceFloats: number;
  readonly inner: readonly Layer[];
  readonly shortcut?: Layer;
  private readonly alpha: number;
  private readonly n: number;
  private trainableFlag = true;
  logits = 0;
  output = 0;
  logitsGrad = 0;
  outputGrad = 0;

  constructor(readonly name: string, cfg: ResidualConfig, inputShape: readonly number[], make: LayerFactory) {
    const where = `layer ${name} (residual)`;
    if (!Array.isArray(cfg.layers) || cfg.layers.length === 0) {
      throw new NeuriteError('INVALID_ARGUMENT', `${where}: layers must be a non-empty array`);
    }
    [this.activation, this.alpha] = activationOf(cfg, where);
    if (this.activation.rowwise || this.activation.learned) {
      throw new NeuriteError('UNSUPPORTED', `${where}: the ${this.activation.name} activation cannot follow a residual sum`);
    }
    const inner: Layer[] = [];
    const names = new Set<string>(); // a Set, so a block of many layers is checked in linear time
    let shape = inputShape;
    cfg.layers.forEach((c, i) => {
      let l: Layer;
      try {
        l = make(c, i, shape);
      } catch (e) {
        // an inner layer's name is only unique within its block: name the block too
        if (e instanceof NeuriteError) throw new NeuriteError(e.code, `${where}: ${e.message}`);
        throw e;
      }
      if (names.has(l.name)) throw new NeuriteError('INVALID_ARGUMENT', `${where}: the name ${l.name} is used twice`);
      names.add(l.name);
      inner.push(l);
      shape = l.outputShape;
    });
    this.inner = inner;
    this.inputShape = [...inputShape];
    this.outputShape = [...shape];
    const same = shape.length === inputShape.length && shape.every((d, i) => d === inputShape[i]);
    if (!same) this.shortcut = make(this.projection(inputShape, shape, where), 0, inputShape);
    // PyTorch-style nested names: <block>.<inner layer>.<param>, <block>.shortcut.<param>
    this.params = [];
    for (const l of inner) for (const p of l.params) { p.name = `${l.name}.${p.name}`; this.params.push(p); }
    if (this.shortcut) for (const p of this.shortcut.params) { p.name = `shortcut.${p.name}`; this.params.push(p); }
    this.n = floatsOf(shape);
    const parts = [...inner, ...(this.shortcut ? [this.shortcut] : [])];
    const separate = this.activation.name !== 'linear';
    // exactly what bind() lays out: each part, then the sum (and the activation's output)
    this.forwardFloats = parts.reduce((s, l) => s + quad(l.forwardFloats), 0) + quad(this.n) + (separate ? this.n : 0);
    this.gradFloats = parts.reduce((s, l) => s + quad(l.gradFloats), 0) + quad(this.n) + (separate ? this.n : 0);
    // a loop, not Math.max(...spread): a spread of many layers overflows the argument stack
    this.workspaceFloats = parts.reduce((m, l) => Math.max(m, l.workspaceFloats), 0);
  }

  private projection(from: readonly number[], to: readonly number[], where: string): LayerConfig {
    if (from.length === 1 && to.length === 1) return { type: 'dense', name: 'shortcut', units: to[0] };
    if (from.length === 3 && to.length === 3) {
      const [, h, w] = from;
      const [c2, h2, w2] = to;
      const sh = Math.round(h / h2);
      const sw = Math.round(w / w2);
      if (Math.ceil(h / sh) === h2 && Math.ceil(w / sw) === w2) {
        // 'same' padding with stride s gives ⌈n/s⌉, so a 1x1 window lands on every s-th cell
        return { type: 'conv2d', name: 'shortcut', filters: c2, kernelSize: 1, stride: [sh, sw], padding: 'same' };
      }
    }
    throw new NeuriteError('SHAPE_MISMATCH',
      `${where}: no projection maps [${from.join(', ')}] onto the block's output [${to.join(', ')}]`);
  }

  get trainable(): boolean { return this.trainableFlag; }
  set trainable(v: boolean) {
    this.trainableFlag = v;
    for (const l of this.inner) l.trainable = v;
    if (this.shortcut) this.shortcut.trainable = v;
  }

  config(): ResidualConfig {
    const c: ResidualConfig = { type: 'residual', name: this.name, layers: this.inner.map((l) => l.config()) };
    if (this.activation.name !== 'linear') c.activation = this.activation.name;
    if (this.activation.defaultAlpha !== undefined && this.alpha !== this.activation.defaultAlpha) c.alpha = this.alpha;
    return c;
  }

  initialize(rng: Rng, set: (slot: ParamSlot, values: Float32Array) => void): void {
    for (const l of this.inner) l.initialize(rng, set);
    this.shortcut?.initialize(rng, set);
  }

  bind(fwd: number, grad: number, batch: number, workspace: number): void {
    for (const l of [...this.inner, ...(this.shortcut ? [this.shortcut] : [])]) {
      l.bind(fwd, grad, batch, workspace);
      fwd += quad(l.forwardFloats) * batch * 4;
      grad += quad(l.gradFloats) * batch * 4;
    }
    const bytes = quad(this.n) * batch * 4;
    const separate = this.activation.name !== 'linear';
    this.logits = fwd;
    this.logitsGrad = grad;
    this.output = separate ? fwd + bytes : fwd;
    this.outputGrad = separate ? grad + bytes : grad;
  }

  forward(k: Kernels, x: number, batch: number, training: boolean, rng: Rng): void {
    let h = x;
    for (const l of this.inner) {
      l.forward(k, h, batch, training, rng);
      h = l.output;
    }
    let s = x;
    if (this.shortcut) {
      this.shortcut.forward(k, x, batch, training, rng);
      s = this.shortcut.output;
    }
    k.k.add_forward(this.logits, h, s, batch * this.n);
    activationForward(k, this.activation, this.alpha, this.output, this.logits, batch, this.n);
  }

  backward(k: Kernels, x: number, dx: number, batch: number, fromLogits: boolean): void {
    const n = batch * this.n;
    if (!fromLogits) {
      activationBackward(k, this.activation, this.alpha, this.logitsGrad, this.outputGrad, this.logits, this.output,
        batch, this.n, `layer ${this.name}`);
    }
    // the sum passes its gradient unchanged to both branches
    const last = this.inner[this.inner.length - 1];
    k.k.linear_backward(last.outputGrad, this.logitsGrad, 0, 0, n, 0);
    for (let i = this.inner.length - 1; i >= 0; i--) {
      const xi = i > 0 ? this.inner[i - 1].output : x;
      const dxi = i > 0 ? this.inner[i - 1].outputGrad : dx;
      this.inner[i].backward(k, xi, dxi, batch, false);
    }
    if (this.shortcut) {
      k.k.linear_backward(this.shortcut.outputGrad, this.logitsGrad, 0, 0, n, 0);
      this.shortcut.backward(k, x, dx, batch, false);
    } else if (dx !== 0) {
      k.k.linear_backward(dx, this.logitsGrad, 0, 0, n, 0);
    }
  }
}
