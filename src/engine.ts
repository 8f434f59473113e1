// The engine under a Model: the layers' wasm instance and memory plan — persistent blocks for
// parameters, gradients, optimizer state and a last-good copy; a per-batch plan of inputs,
// targets, activations and gradients — and the forward and backward passes over them. Model
// (the public API) and fit (the training loop) both drive it; neither reaches into the other.
import { assertFinite } from './data';
import { NeuriteError } from './errors';
import type { Cost } from './cost';
import { namedParams, type Layer, type ParamSlot } from './layers/index';
import { CHUNK_FLOATS } from './limits';
import type { LossDef } from './losses';
import { optimizer as makeOptimizer, type Optimizer, type OptimizerSpec } from './optimizers';
import { Rng } from './rng';
import { align16, Kernels } from './wasm';

/** Predictions are computed in chunks of at most this many samples, bounding memory. */
export const MAX_CHUNK = 1024;

/** What a plan is for: each lays out more than the one before (targets, then gradients). */
export type PlanPurpose = 'predict' | 'evaluate' | 'train';
const PURPOSES: readonly PlanPurpose[] = ['predict', 'evaluate', 'train'];

interface Plan {
  batch: number;
  /** inference plans only what inference needs: no targets for predict, no gradients but for training */
  purpose: PlanPurpose;
  x: number;
  target: number;
  gradStart: number;
  gradFloats: number;
}

export interface EngineSpec {
  layers: readonly Layer[];
  inputShape: readonly number[];
  outputShape: readonly number[];
  seed: number;
  cost: Cost;
}

export class Engine {
  readonly layers: readonly Layer[];
  readonly inputSize: number;
  readonly outputSize: number;
  /**
   * the output as loss rows: a sequence output [steps, n] is steps rows of n per sample
   * (softmax, the cross-entropies and accuracy then work per step), anything else one row
   */
  readonly lossRows: number;
  /** values per loss row */
  readonly lossCols: number;
  readonly rng: Rng;
  readonly build: string;
  /** samples per predict/evaluate pass: MAX_CHUNK, fewer when a sample's activations are large */
  readonly chunk: number;
  /** the optimizer kept between fits with the same settings, and its step count */
  trainer?: { key: string; optimizer: Optimizer; step: number };
  /** the loss of the last fit */
  lastLoss?: string;
  private kernels: Kernels | null;
  private readonly params: { ptr: number; floats: number };
  private grads?: { ptr: number; floats: number };
  private good?: { ptr: number; floats: number };
  private plan?: Plan;
  /** where per-row loss weights go (sample and class weights) */
  private weightsAt?: { ptr: number; floats: number };

  /** `given` values (internal layout) replace random initialisation: load never initialises. */
  constructor(module: WebAssembly.Module, spec: EngineSpec, given?: ReadonlyMap<ParamSlot, Float32Array>) {
    this.layers = spec.layers;
    this.inputSize = spec.inputShape.reduce((a, b) => a * b, 1);
    this.outputSize = spec.outputShape.reduce((a, b) => a * b, 1);
    this.lossRows = spec.outputShape.length === 2 ? spec.outputShape[0] : 1;
    this.lossCols = this.outputSize / this.lossRows;
    this.chunk = Math.max(1, Math.min(MAX_CHUNK, Math.floor(CHUNK_FLOATS / spec.cost.activationFloats)));
    this.kernels = new Kernels(module);
    this.build = this.kernels.build;
    this.params = this.allocSlots((p) => { p.ptr = 0; }, (p, ptr) => { p.ptr = ptr; });
    this.rng = new Rng(spec.seed);
    const f32 = this.kernels.f32;
    if (given) for (const [p, v] of given) f32.set(v, p.ptr >> 2);
    else for (const layer of this.layers) layer.initialize(this.rng, (p, v) => f32.set(v, p.ptr >> 2));
  }

  // ---- memory -------------------------------------------------------------------------------

  /** the live kernels, or an error after dispose() */
  get k(): Kernels {
    if (!this.kernels) throw new NeuriteError('DISPOSED', 'this model was disposed');
    return this.kernels;
  }

  private allocSlots(reset: (p: ParamSlot) => void, assign: (p: ParamSlot, ptr: number) => void) {
    const slots = this.layers.flatMap((l) => l.params);
    const floats = slots.reduce((n, p) => n + align16(p.size * 4) / 4, 0);
    const base = this.k.allocPersistent(floats);
    let ptr = base;
    for (const p of slots) {
      reset(p);
      assign(p, ptr);
      ptr += align16(p.size * 4);
    }
    this.plan = undefined;
    return { ptr: base, floats };
  }

  /** `floats` of model memory for the model's lifetime (the batch plan is re-made after) */
  reserve(floats: number): number {
    const ptr = this.k.allocPersistent(floats);
    this.plan = undefined;
    return ptr;
  }

  /** gradients and optimizer state, allocated the first time a fit needs them */
  prepareTraining(spec: OptimizerSpec | undefined): Optimizer {
    this.prepareGradients();
    const key = JSON.stringify(spec ?? 'adam');
    if (this.trainer?.key !== key) {
      const opt = makeOptimizer(spec);
      for (const p of this.layers.flatMap((l) => l.params)) p.state = [];
      for (let s = 0; s < opt.slots; s++) this.allocSlots(() => {}, (p, ptr) => { p.state.push(ptr); });
      this.trainer = { key, optimizer: opt, step: 0 };
    }
    return this.trainer.optimizer;
  }

  /** gradient buffers (and the last-good copy), allocated the first time they are needed */
  prepareGradients(): void {
    if (!this.grads) this.grads = this.allocSlots(() => {}, (p, ptr) => { p.grad = ptr; });
    if (!this.good) this.good = { ptr: this.reserve(this.params.floats), floats: this.params.floats };
  }

  /**
   * buffers for a batch: input, every layer's outputs, and as `purpose` needs, targets
   * and the layers' gradients (an inference plan binds no gradient buffer: backward must not run)
   */
  ensurePlan(batch: number, purpose: PlanPurpose = 'predict'): Plan {
    const k = this.k;
    const level = PURPOSES.indexOf(purpose);
    if (this.plan && this.plan.batch === batch && PURPOSES.indexOf(this.plan.purpose) >= level) return this.plan;
    const training = purpose === 'train';
    const workspace = align16(this.layers.reduce((m, l) => Math.max(m, l.workspaceFloats), 0) * 4);
    const fwdFloats = this.layers.reduce((n, l) => n + align16(l.forwardFloats * batch * 4) / 4, 0);
    const gradFloats = training ? this.layers.reduce((n, l) => n + align16(l.gradFloats * batch * 4) / 4, 0) : 0;
    const xBytes = align16(this.inputSize * batch * 4);
    const tBytes = purpose === 'predict' ? 0 : align16(this.outputSize * batch * 4);
    const base = k.planTransient(xBytes + tBytes + (fwdFloats + gradFloats) * 4 + workspace);
    const gradStart = base + xBytes + tBytes + fwdFloats * 4;
    const work = gradStart + gradFloats * 4;
    let fwd = base + xBytes + tBytes;
    let grad = gradStart;
    for (const l of this.layers) {
      l.bind(fwd, training ? grad : 0, batch, work);
      fwd += align16(l.forwardFloats * batch * 4);
      if (training) grad += align16(l.gradFloats * batch * 4);
    }
    this.plan = { batch, purpose, x: base, target: base + xBytes, gradStart, gradFloats };
    return this.plan;
  }

  // ---- passes -------------------------------------------------------------------------------

  /** forward through every layer on the planned batch */
  forwardPass(batch: number, training: boolean): void {
    const k = this.k;
    let x = this.plan!.x;
    for (const l of this.layers) {
      l.forward(k, x, batch, training, this.rng);
      x = l.output;
    }
  }

  /** whether the loss runs fused with the last activation */
  fusedWith(def: LossDef): boolean {
    return !!def.fused && this.layers[this.layers.length - 1].activation?.name === def.fused.activation;
  }

  /** batch-mean loss of the planned batch against plan.target */
  lossValue(def: LossDef, batch: number, weights?: Float32Array): number {
    const last = this.layers[this.layers.length - 1];
    const fused = this.fusedWith(def);
    const kernel = (fused ? def.fused!.kernels : def.kernels)(this.k.k).forward;
    const p = fused ? last.logits : last.output;
    const rows = batch * this.lossRows;
    const cols = this.lossCols;
    if (!weights) return kernel(p, this.plan!.target, rows, cols);
    // weighted as Keras weighs: Σ w_r·loss_r over the rows, divided by the row count
    let s = 0;
    for (let r = 0; r < rows; r++) if (weights[r] !== 0) s += weights[r] * kernel(p + r * cols * 4, this.plan!.target + r * cols * 4, 1, cols);
    return s / rows;
  }

  /** zero gradients, then back-propagate the loss through the layers that need it */
  backwardPass(def: LossDef, batch: number, weights?: Float32Array): void {
    const k = this.k;
    const plan = this.plan!;
    k.k.fill_zero(this.grads!.ptr, this.grads!.floats);
    k.k.fill_zero(plan.gradStart, plan.gradFloats);
    const layers = this.layers;
    const last = layers[layers.length - 1];
    const fused = this.fusedWith(def);
    const [rows, cols] = [batch * this.lossRows, this.lossCols];
    if (fused) def.fused!.kernels(k.k).backward(last.logitsGrad, last.output, plan.target, rows, cols);
    else def.kernels(k.k).backward(last.outputGrad, last.output, plan.target, rows, cols);
    if (weights) {
      // each row's gradient scales with its weight
      const w = this.weightsAt!.ptr;
      k.f32.set(weights.subarray(0, rows), w >> 2);
      k.k.scale_rows(fused ? last.logitsGrad : last.outputGrad, w, rows, cols);
    }
    const first = this.firstTrainable();
    for (let i = layers.length - 1; i >= first; i--) {
      const x = i > 0 ? layers[i - 1].output : plan.x;
      const dx = i > first ? layers[i - 1].outputGrad : 0; // nothing before `first` learns
      layers[i].backward(k, x, dx, batch, fused && i === layers.length - 1);
    }
  }

  /**
   * room for `rows` per-row loss weights, reserved before a weighted fit plans its
   * batches (reserving memory voids the batch plan, so never mid-step)
   */
  reserveLossWeights(rows: number): void {
    if (!this.weightsAt || this.weightsAt.floats < rows) this.weightsAt = { ptr: this.reserve(rows), floats: rows };
  }

  /** index of the first layer with trainable parameters (layers.length if none) */
  firstTrainable(): number {
    const i = this.layers.findIndex((l) => l.trainable && l.params.length > 0);
    return i < 0 ? this.layers.length : i;
  }

  /** count of non-finite values among gradients / parameters */
  nonFiniteGrads(): number { return this.k.k.count_nonfinite(this.grads!.ptr, this.grads!.floats); }
  nonFiniteParams(): number { return this.k.k.count_nonfinite(this.params.ptr, this.params.floats); }
  /**
   * keep a copy of the parameters whose loss was just seen to be finite, so a step
   * that leads to a non-finite loss can be undone
   */
  keepGood(): void {
    const f32 = this.k.f32;
    f32.copyWithin(this.good!.ptr >> 2, this.params.ptr >> 2, (this.params.ptr >> 2) + this.params.floats);
  }
  /** a copy of every parameter (internal layout), for restoreParams */
  snapshotParams(): Float32Array {
    return this.k.f32.slice(this.params.ptr >> 2, (this.params.ptr >> 2) + this.params.floats);
  }
  restoreParams(snapshot: Float32Array): void {
    this.k.f32.set(snapshot, this.params.ptr >> 2);
  }
  restoreGood(): void {
    const f32 = this.k.f32;
    f32.copyWithin(this.params.ptr >> 2, this.good!.ptr >> 2, (this.good!.ptr >> 2) + this.params.floats);
  }

  /** copy samples `idx[from..to)` of x (and their targets) into the planned batch */
  loadBatch(x: Float32Array, t: Float32Array | null, idx: ArrayLike<number> | null, from: number, to: number): void {
    const plan = this.plan!;
    const f32 = this.k.f32;
    const w = this.inputSize;
    const o = this.outputSize;
    if (!idx) {
      f32.set(x.subarray(from * w, to * w), plan.x >> 2);
      if (t) f32.set(t.subarray(from * o, to * o), plan.target >> 2);
      return;
    }
    for (let r = 0; r < to - from; r++) {
      const s = idx[from + r];
      f32.set(x.subarray(s * w, s * w + w), (plan.x >> 2) + r * w);
      if (t) f32.set(t.subarray(s * o, s * o + o), (plan.target >> 2) + r * o);
    }
  }

  /**
   * Raw outputs for `rows` (already checked to be a whole number of samples), in chunks; a
   * non-finite input or output is an error, never a silent NaN.
   */
  infer(rows: Float32Array): Float32Array {
    const k = this.k;
    const n = rows.length / this.inputSize;
    this.layers[0].checkInput?.(rows, 'predict');
    const out = new Float32Array(n * this.outputSize);
    const last = this.layers[this.layers.length - 1];
    for (let from = 0; from < n; from += this.chunk) {
      const b = Math.min(this.chunk, n - from);
      const plan = this.ensurePlan(b);
      this.loadBatch(rows, null, null, from, from + b);
      if (k.k.count_nonfinite(plan.x, b * this.inputSize) > 0) assertFinite(rows, this.inputSize, 'predict');
      this.forwardPass(b, false);
      // finite weights can still overflow float32 (3e38 · 2): never hand back NaN without a word
      if (k.k.count_nonfinite(last.output, b * this.outputSize) > 0) {
        const o = k.f32.subarray(last.output >> 2, (last.output >> 2) + b * this.outputSize);
        const i = o.findIndex((v) => !Number.isFinite(v));
        throw new NeuriteError('NON_FINITE', `predict: the output for sample ${from + Math.floor(i / this.outputSize)} is ${o[i]}: the weights or inputs overflow float32`);
      }
      out.set(k.f32.subarray(last.output >> 2, (last.output >> 2) + b * this.outputSize), from * this.outputSize);
    }
    return out;
  }

  /** Mean loss (and accuracy for classification losses) of rows against targets t. */
  evaluateRows(rows: Float32Array, t: Float32Array, def: LossDef, bs: number): { loss: number; accuracy?: number } {
    const n = rows.length / this.inputSize;
    let total = 0;
    let correct = 0;
    for (let from = 0; from < n; from += Math.min(bs, this.chunk)) {
      const b = Math.min(bs, this.chunk, n - from);
      this.ensurePlan(b, 'evaluate');
      this.loadBatch(rows, t, null, from, from + b);
      this.forwardPass(b, false);
      total += this.lossValue(def, b) * b;
      if (def.classification) correct += this.countCorrect(b);
    }
    if (!Number.isFinite(total)) throw new NeuriteError('NON_FINITE', `evaluate: the loss is ${total / n}: the weights or inputs overflow float32`);
    return def.classification ? { loss: total / n, accuracy: correct / (n * this.lossRows) } : { loss: total / n };
  }

  /** every value finite, and whatever the first layer demands of its input (embedding ids) */
  checkSamples(rows: Float32Array, what: string): void {
    assertFinite(rows, this.inputSize, what);
    this.layers[0].checkInput?.(rows, what);
  }

  /** loss rows (samples, or steps of samples) of the planned batch whose predicted class matches the target */
  countCorrect(samples: number): number {
    const f32 = this.k.f32;
    const o = this.lossCols;
    const batch = samples * this.lossRows;
    const y = this.layers[this.layers.length - 1].output >> 2;
    const t = this.plan!.target >> 2;
    let correct = 0;
    for (let r = 0; r < batch; r++) {
      if (o === 1) {
        if ((f32[y + r] >= 0.5) === (f32[t + r] >= 0.5)) correct++;
        continue;
      }
      let bp = 0;
      let bt = 0;
      for (let j = 1; j < o; j++) {
        if (f32[y + r * o + j] > f32[y + r * o + bp]) bp = j;
        if (f32[t + r * o + j] > f32[t + r * o + bt]) bt = j;
      }
      if (bp === bt) correct++;
    }
    return correct;
  }

  /** the loss used when none is named */
  defaultLoss(): string {
    const act = this.layers[this.layers.length - 1].activation?.name;
    if (act === 'softmax') return 'categoricalCrossentropy';
    if (act === 'sigmoid') return 'binaryCrossentropy';
    return 'mse';
  }

  /** every parameter slot under its full PyTorch-style name, in layer order */
  namedParams(): Map<string, ParamSlot> {
    return namedParams(this.layers);
  }

  /** Copies of the values (or gradients) of every parameter, converted to PyTorch layout. */
  readParams(which: 'ptr' | 'grad'): Record<string, Float32Array> {
    const f32 = this.k.f32;
    const out: Record<string, Float32Array> = {};
    for (const [name, p] of this.namedParams()) {
      if (which === 'grad' && p.buffer) continue; // running statistics have no gradient
      const v = f32.slice(p[which] >> 2, (p[which] >> 2) + p.size);
      out[name] = p.toTorch ? p.toTorch(v) : v;
    }
    return out;
  }


  /** Write checked values (internal layout) into their parameter slots. */
  writeParams(values: Iterable<[ParamSlot, Float32Array]>): void {
    const f32 = this.k.f32;
    for (const [p, v] of values) f32.set(v, p.ptr >> 2);
  }

  /** Drop the instance and its memory: any later use is DISPOSED. */
  dispose(): void {
    this.kernels = null;
    this.plan = undefined;
  }
}
