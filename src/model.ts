// A sequential model: layers, one wasm instance, and the memory plan that ties them together.
import { checkCost, type Cost } from './cost';
import { applyTemperature, checkTemperature, TEMPERATURE_KEY } from './calibration';
import { assertFinite, toRows, toTargets, type Samples, type Targets } from './data';
import { NeuriteError } from './errors';
import { fit, type FitOptions, type History } from './fit';
import { writeSafetensors } from './io/safetensors';
import { trainingState, TRAINING_KEY } from './io/training-state';
import { createLayer, type Layer, type LayerConfig, type ParamSlot } from './layers/index';
import { floatsOf } from './layers/layer';
import { CHUNK_FLOATS, MAX_CALL_FLOATS } from './limits';
import { matchTensors, type TensorValues } from './load-weights';
import { OperationLock } from './operation';
import { loss as lossDef, type LossDef, type LossName } from './losses';
import { optimizer as makeOptimizer, type Optimizer, type OptimizerSpec } from './optimizers';
import { Embedding } from './layers/embedding';
import { Residual } from './layers/residual';
import { Rng } from './rng';
import { StepRunner, Stream } from './stream';
import { checkTopology } from './topology-check';
import { align16, Kernels } from './wasm';
import { checkKeys, checkOptions } from './options';

export interface SequentialOptions {
  /** per-sample input shape, e.g. [784] */
  inputShape: readonly number[];
  layers: LayerConfig[];
  /** seeds weight initialisation and shuffling; default: a random seed (see model.seed) */
  seed?: number;
}

/** The topology stored in a saved file's `__metadata__.neurite`. */
export interface Topology {
  format: 1;
  inputShape: number[];
  layers: LayerConfig[];
}

export interface SaveOptions {
  /** also store the optimizer state, step count and generator position (default false) */
  training?: boolean;
}

export interface EvaluateOptions {
  /** default: the loss of the last fit, else one chosen from the last activation */
  loss?: LossName;
  /** samples per forward pass (default 256) */
  batchSize?: number;
}

/** Predictions are computed in chunks of at most this many samples, bounding memory. */
export const MAX_CHUNK = 1024;
/** Largest per-sample input accepted from a topology. */
export const MAX_INPUT_SIZE = 1 << 24;

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

export class Model {
  readonly layers: readonly Layer[];
  readonly inputShape: readonly number[];
  readonly outputShape: readonly number[];
  /** the seed used for initialisation and shuffling */
  readonly seed: number;
  /** which wasm build this model runs on */
  readonly build: string;
  private temp = 1;
  /** @internal */ readonly rng: Rng;
  /** @internal */ readonly inputSize: number;
  /** @internal */ readonly outputSize: number;
  /**
   * @internal the output as loss rows: a sequence output [steps, n] is steps rows of n per
   * sample (softmax, the cross-entropies and accuracy then work per step), anything else one row
   */
  readonly lossRows: number;
  /** @internal values per loss row */
  readonly lossCols: number;
  private kernels: Kernels | null;
  private readonly params: { ptr: number; floats: number };
  private grads?: { ptr: number; floats: number };
  private good?: { ptr: number; floats: number };
  private plan?: Plan;
  /** @internal the optimizer kept between fits with the same settings, and its step count */
  trainer?: { key: string; optimizer: Optimizer; step: number };
  /** @internal where per-row loss weights go (sample and class weights) */
  private weightsAt?: { ptr: number; floats: number };
  /** @internal the one-step layers that streams run, made by the first stream() */
  private steps?: StepRunner;
  /** @internal the loss of the last fit */
  lastLoss?: string;
  /** @internal one operation (a fit) at a time */
  readonly lock = new OperationLock();
  /** @internal parameters, floats and operations per sample, as checked against the caps */
  readonly cost: Cost;
  /** samples per predict/evaluate pass: MAX_CHUNK, fewer when a sample's activations are large */
  private readonly chunk: number;

  /**
   * `weights` (PyTorch names and layouts, as in a file) replace random initialisation: they are
   * matched against the topology before anything is allocated.
   */
  constructor(module: WebAssembly.Module, options: SequentialOptions, weights?: ReadonlyMap<string, TensorValues>) {
    if (typeof options !== 'object' || options === null) {
      throw new NeuriteError('INVALID_ARGUMENT', 'sequential: expected { inputShape, layers }');
    }
    checkKeys(options, ['inputShape', 'layers', 'seed'], 'sequential');
    // bounded before anything below recurses into it, stringifies it or builds from it
    checkTopology(options.inputShape, options.layers);
    const shape = options.inputShape;
    if (!Array.isArray(shape) || shape.length === 0 || !shape.every((d) => Number.isSafeInteger(d) && d > 0)
      || floatsOf(shape) > MAX_INPUT_SIZE) {
      throw new NeuriteError('INVALID_ARGUMENT',
        `sequential: inputShape must be a non-empty array of positive integers (at most ${MAX_INPUT_SIZE} values), got ${JSON.stringify(shape)}`);
    }
    if (!Array.isArray(options.layers) || options.layers.length === 0) {
      throw new NeuriteError('INVALID_ARGUMENT', 'sequential: layers must be a non-empty array');
    }
    const seed = options.seed ?? Math.floor(Math.random() * 2 ** 31);
    if (!Number.isSafeInteger(seed)) throw new NeuriteError('INVALID_ARGUMENT', `sequential: seed must be an integer, got ${seed}`);
    this.seed = seed;
    this.inputShape = [...shape];
    const layers: Layer[] = [];
    const names = new Set<string>();
    let s: readonly number[] = this.inputShape;
    options.layers.forEach((cfg, i) => {
      const layer = createLayer(cfg, i, s);
      if (names.has(layer.name)) throw new NeuriteError('INVALID_ARGUMENT', `layer ${i}: the name ${layer.name} is used twice`);
      names.add(layer.name);
      layers.push(layer);
      s = layer.outputShape;
    });
    this.layers = layers;
    this.outputShape = s;
    this.inputSize = floatsOf(this.inputShape);
    this.outputSize = floatsOf(this.outputShape);
    this.lossRows = this.outputShape.length === 2 ? this.outputShape[0] : 1;
    this.lossCols = this.outputSize / this.lossRows;
    layers.forEach((l, i) => {
      const nested = l instanceof Residual ? l.inner.some((m) => m instanceof Embedding) : false;
      if ((l instanceof Embedding && i > 0) || nested) {
        throw new NeuriteError('INVALID_ARGUMENT', `layer ${l.name}: an embedding takes the model's input ids, so it must be the first layer`);
      }
    });
    this.cost = checkCost(layers, this.inputSize);
    this.chunk = Math.max(1, Math.min(MAX_CHUNK, Math.floor(CHUNK_FLOATS / this.cost.activationFloats)));
    const given = weights && matchTensors(this.namedParams(), weights);

    this.kernels = new Kernels(module);
    this.build = this.kernels.build;
    this.params = this.allocSlots((p) => { p.ptr = 0; }, (p, ptr) => { p.ptr = ptr; });
    this.rng = new Rng(seed);
    const f32 = this.kernels.f32;
    if (given) for (const [p, v] of given) f32.set(v, p.ptr >> 2);
    else for (const layer of layers) layer.initialize(this.rng, (p, v) => f32.set(v, p.ptr >> 2));
  }

  // ---- memory -------------------------------------------------------------------------------

  /** @internal the live kernels, or an error after dispose() */
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

  /** @internal `floats` of model memory for the model's lifetime (the batch plan is re-made after) */
  reserve(floats: number): number {
    const ptr = this.k.allocPersistent(floats);
    this.plan = undefined;
    return ptr;
  }

  /** @internal gradients and optimizer state, allocated the first time a fit needs them */
  prepareTraining(spec: OptimizerSpec | undefined): Optimizer {
    this.ensureGrads();
    const key = JSON.stringify(spec ?? 'adam');
    if (this.trainer?.key !== key) {
      const opt = makeOptimizer(spec);
      for (const p of this.layers.flatMap((l) => l.params)) p.state = [];
      for (let s = 0; s < opt.slots; s++) this.allocSlots(() => {}, (p, ptr) => { p.state.push(ptr); });
      this.trainer = { key, optimizer: opt, step: 0 };
    }
    return this.trainer.optimizer;
  }

  private ensureGrads(): void {
    if (!this.grads) this.grads = this.allocSlots(() => {}, (p, ptr) => { p.grad = ptr; });
    if (!this.good) {
      this.good = { ptr: this.k.allocPersistent(this.params.floats), floats: this.params.floats };
      this.plan = undefined;
    }
  }

  /**
   * @internal buffers for a batch: input, every layer's outputs, and as `purpose` needs, targets
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

  /** @internal forward through every layer on the planned batch */
  forwardPass(batch: number, training: boolean): void {
    const k = this.k;
    let x = this.plan!.x;
    for (const l of this.layers) {
      l.forward(k, x, batch, training, this.rng);
      x = l.output;
    }
  }

  /** @internal whether the loss runs fused with the last activation */
  fusedWith(def: LossDef): boolean {
    return !!def.fused && this.layers[this.layers.length - 1].activation?.name === def.fused.activation;
  }

  /** @internal batch-mean loss of the planned batch against plan.target */
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

  /** @internal zero gradients, then back-propagate the loss through the layers that need it */
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
   * @internal room for `rows` per-row loss weights, reserved before a weighted fit plans its
   * batches (reserving memory voids the batch plan, so never mid-step)
   */
  reserveLossWeights(rows: number): void {
    if (!this.weightsAt || this.weightsAt.floats < rows) this.weightsAt = { ptr: this.reserve(rows), floats: rows };
  }

  /** @internal index of the first layer with trainable parameters (layers.length if none) */
  firstTrainable(): number {
    const i = this.layers.findIndex((l) => l.trainable && l.params.length > 0);
    return i < 0 ? this.layers.length : i;
  }

  /** @internal count of non-finite values among gradients / parameters */
  nonFiniteGrads(): number { return this.k.k.count_nonfinite(this.grads!.ptr, this.grads!.floats); }
  nonFiniteParams(): number { return this.k.k.count_nonfinite(this.params.ptr, this.params.floats); }
  /**
   * @internal keep a copy of the parameters whose loss was just seen to be finite, so a step
   * that leads to a non-finite loss can be undone
   */
  keepGood(): void {
    const f32 = this.k.f32;
    f32.copyWithin(this.good!.ptr >> 2, this.params.ptr >> 2, (this.params.ptr >> 2) + this.params.floats);
  }
  /** @internal a copy of every parameter (internal layout), for restoreParams */
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

  /** @internal copy samples `idx[from..to)` of x (and their targets) into the planned batch */
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

  // ---- public API ---------------------------------------------------------------------------

  /**
   * Outputs for a batch of samples, row after row (batch × outputs). `x` is a flat
   * Float32Array (batch inferred from its length) or an array of rows.
   */
  predict(x: Samples): Float32Array {
    const k = this.k;
    const rows = toRows(x, this.inputSize, 'predict');
    const n = rows.length / this.inputSize;
    if (n * this.outputSize > MAX_CALL_FLOATS) {
      throw new NeuriteError('TOO_LARGE', `predict: ${n} samples would give ${n * this.outputSize} outputs; at most ${MAX_CALL_FLOATS} per call`);
    }
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
    return applyTemperature(out, this.lossCols, this.temp);
  }

  /**
   * Divides the logits of a softmax output by this before predict returns them (temperature
   * scaling, fitted on held-out data so confidence matches accuracy); 1 = as trained. Saved in
   * the file's metadata. evaluate and fit work on the uncalibrated outputs.
   */
  get temperature(): number {
    return this.temp;
  }

  set temperature(t: number) {
    checkTemperature(t, 'temperature');
    const last = this.layers[this.layers.length - 1].config() as { activation?: string };
    if (t !== 1 && last.activation !== 'softmax') {
      throw new NeuriteError('UNSUPPORTED', 'temperature: only a model whose last layer is a softmax can be calibrated');
    }
    this.temp = t;
  }

  /** The mean loss over (x, y) and, for classification losses, the accuracy. */
  evaluate(x: Samples, y: Targets, options: EvaluateOptions = {}): { loss: number; accuracy?: number } {
    checkOptions(options, ['loss', 'batchSize'], 'evaluate');
    const rows = toRows(x, this.inputSize, 'evaluate: x');
    this.checkSamples(rows, 'evaluate: x');
    const n = rows.length / this.inputSize;
    const t = toTargets(y, n, this.outputSize, 'evaluate: y', this.lossCols);
    const def = lossDef(options.loss ?? this.lastLoss ?? this.defaultLoss());
    const bs = options.batchSize ?? 256;
    if (!Number.isSafeInteger(bs) || bs < 1) throw new NeuriteError('INVALID_ARGUMENT', 'evaluate: batchSize must be a positive integer');
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

  /** @internal every value finite, and whatever the first layer demands of its input (embedding ids) */
  checkSamples(rows: Float32Array, what: string): void {
    assertFinite(rows, this.inputSize, what);
    this.layers[0].checkInput?.(rows, what);
  }

  /** @internal loss rows (samples, or steps of samples) of the planned batch whose predicted class matches the target */
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

  /** @internal the loss used when none is named */
  defaultLoss(): string {
    const act = this.layers[this.layers.length - 1].activation?.name;
    if (act === 'softmax') return 'categoricalCrossentropy';
    if (act === 'sigmoid') return 'binaryCrossentropy';
    return 'mse';
  }

  /** Train on (x, y); resolves with per-epoch history. See FitOptions. */
  fit(x: Samples, y: Targets, options: FitOptions = {}): Promise<History> {
    return this.lock.run('fit', () => fit(this, x, y, options));
  }

  /**
   * Gradients of the batch-mean loss over (x, y) with respect to every parameter, by PyTorch
   * name and layout, without changing the model: what one training step would follow.
   */
  gradients(x: Samples, y: Targets, options: { loss?: LossName } = {}): Record<string, Float32Array> {
    checkOptions(options, ['loss'], 'gradients');
    const rows = toRows(x, this.inputSize, 'gradients: x');
    this.checkSamples(rows, 'gradients: x');
    const n = rows.length / this.inputSize;
    if (n === 0 || n > MAX_CHUNK) throw new NeuriteError('INVALID_ARGUMENT', `gradients: between 1 and ${MAX_CHUNK} samples`);
    const t = toTargets(y, n, this.outputSize, 'gradients: y', this.lossCols);
    const def = lossDef(options.loss ?? this.lastLoss ?? this.defaultLoss());
    this.ensureGrads();
    this.ensurePlan(n, 'train');
    this.loadBatch(rows, t, null, 0, n);
    // a training pass moves BatchNorm's running statistics: put them back after
    const before = this.snapshotParams();
    this.forwardPass(n, true);
    const all = this.layers.map((l) => l.trainable);
    // every layer, frozen or not, so the caller sees each parameter's gradient
    for (const l of this.layers) l.trainable = true;
    try {
      this.backwardPass(def, n);
    } finally {
      this.layers.forEach((l, i) => { l.trainable = all[i]; });
      this.restoreParams(before);
    }
    return this.readParams('grad');
  }

  /** Every parameter by PyTorch name and layout: 'dense_0.weight' is [out, in]. Copies. */
  getWeights(): Record<string, Float32Array> {
    return this.readParams('ptr');
  }

  /** @internal every parameter slot under its full PyTorch-style name, in layer order */
  namedParams(): Map<string, ParamSlot> {
    return new Map(this.layers.flatMap((l) => l.params.map((p): [string, ParamSlot] => [`${l.name}.${p.name}`, p])));
  }

  /** Copies of the values (or gradients) of every parameter, converted to PyTorch layout. */
  private readParams(which: 'ptr' | 'grad'): Record<string, Float32Array> {
    const f32 = this.k.f32;
    const out: Record<string, Float32Array> = {};
    for (const [name, p] of this.namedParams()) {
      if (which === 'grad' && p.buffer) continue; // running statistics have no gradient
      const v = f32.slice(p[which] >> 2, (p[which] >> 2) + p.size);
      out[name] = p.toTorch ? p.toTorch(v) : v;
    }
    return out;
  }

  /**
   * Replace parameters by PyTorch name and layout. Everything is checked before anything is
   * written, so a bad record leaves the model as it was. With `strict`, every parameter must be
   * given.
   */
  setWeights(record: Record<string, ArrayLike<number>>, options: { strict?: boolean } = {}): void {
    this.lock.check('setWeights');
    checkOptions(options, ['strict'], 'setWeights');
    const f32 = this.k.f32;
    if (typeof record !== 'object' || record === null) throw new NeuriteError('INVALID_ARGUMENT', 'setWeights: expected a record of name → Float32Array');
    const slots = this.namedParams();
    const pending: Array<[ParamSlot, Float32Array]> = [];
    for (const [name, value] of Object.entries(record)) {
      const p = slots.get(name);
      if (!p) {
        throw new NeuriteError('SHAPE_MISMATCH', `setWeights: the model has no parameter ${JSON.stringify(name)} (it has: ${[...slots.keys()].join(', ')})`);
      }
      if (!value || typeof value.length !== 'number' || value.length !== p.size) {
        throw new NeuriteError('SHAPE_MISMATCH',
          `setWeights: ${name} has ${value?.length} values; its shape [${p.shape.join(', ')}] needs ${p.size}`);
      }
      const v = value instanceof Float32Array ? value : Float32Array.from(value);
      const bad = v.findIndex((e) => !Number.isFinite(e));
      if (bad >= 0) throw new NeuriteError('NON_FINITE', `setWeights: ${name}[${bad}] is ${v[bad]}`);
      pending.push([p, p.fromTorch ? p.fromTorch(v) : v]);
    }
    if (options.strict) {
      const missing = [...slots.keys()].filter((n) => !(n in record));
      if (missing.length) throw new NeuriteError('SHAPE_MISMATCH', `setWeights: missing ${missing.join(', ')}`);
    }
    for (const [p, v] of pending) f32.set(v, p.ptr >> 2);
  }

  /** The topology that rebuilds this model. */
  topology(): Topology {
    return { format: 1, inputShape: [...this.inputShape], layers: this.layers.map((l) => l.config()) };
  }

  /**
   * The model as a safetensors file, topology in `__metadata__.neurite`. With `training`, the
   * optimizer's state, step count and the generator's position go in too, so that `load` + `fit`
   * (with the same optimizer settings) continues exactly where this model's training stopped.
   */
  save(options: SaveOptions = {}): Uint8Array {
    checkOptions(options, ['training'], 'save');
    if (options.training !== undefined && typeof options.training !== 'boolean') {
      throw new NeuriteError('INVALID_ARGUMENT', 'save: training must be true or false');
    }
    const w = this.getWeights();
    const tensors = new Map<string, { shape: readonly number[]; data: Float32Array }>();
    for (const [name, p] of this.namedParams()) tensors.set(name, { shape: [...p.shape], data: w[name], ...(p.dtype ? { dtype: p.dtype } : {}) });
    const metadata: Record<string, string> = { format: 'pt', neurite: JSON.stringify(this.topology()) };
    if (this.temp !== 1) metadata[TEMPERATURE_KEY] = String(this.temp);
    const state = options.training ? trainingState(this) : undefined;
    if (state) {
      for (const [name, t] of state.tensors) tensors.set(name, t);
      metadata[TRAINING_KEY] = state.meta;
    }
    return writeSafetensors(tensors as Map<string, { shape: number[]; data: Float32Array }>, metadata);
  }

  /**
   * A table of the layers, their output shapes and parameter counts, as Keras prints it; a
   * residual block's inner layers are listed under it.
   */
  summary(): string {
    const rows: [string, string, string][] = [['Layer (type)', 'Output shape', 'Params']];
    const count = (l: Layer) => l.params.reduce((n, p) => n + (p.buffer ? 0 : p.size), 0);
    const walk = (ls: readonly Layer[], indent: string) => {
      for (const l of ls) {
        rows.push([`${indent}${l.name} (${l.type})`, `[${l.outputShape.join(', ')}]`, count(l).toLocaleString('en-US')]);
        if (l instanceof Residual) walk([...l.inner, ...(l.shortcut ? [l.shortcut] : [])], `${indent}  `);
      }
    };
    walk(this.layers, '');
    const w = [0, 1, 2].map((i) => Math.max(...rows.map((r) => r[i].length)));
    const line = (r: [string, string, string]) => `${r[0].padEnd(w[0])}  ${r[1].padEnd(w[1])}  ${r[2].padStart(w[2])}`;
    const rule = '─'.repeat(w[0] + w[1] + w[2] + 4);
    const trainable = this.layers.filter((l) => l.trainable).reduce((n, l) => n + count(l), 0);
    return [
      `input [${this.inputShape.join(', ')}]`, rule, line(rows[0]), rule, ...rows.slice(1).map(line), rule,
      `Total params: ${this.parameterCount.toLocaleString('en-US')}`,
      `Trainable params: ${trainable.toLocaleString('en-US')}`,
      `Frozen params: ${(this.parameterCount - trainable).toLocaleString('en-US')}`,
    ].join('\n');
  }

  /** Number of learnable values. */
  get parameterCount(): number {
    return this.layers.reduce((n, l) => n + l.params.reduce((m, p) => m + (p.buffer ? 0 : p.size), 0), 0);
  }

  /**
   * A stream: feed a sequence one step at a time with `next(x_t)`, the recurrent state carried
   * between calls; its output after t steps equals predict on those t steps. Many independent
   * streams can run on one model; `dispose()` a stream to let a new one reuse its state memory.
   */
  stream(): Stream {
    this.steps ??= new StepRunner(this);
    return new Stream(this.steps, this);
  }

  /** Release the model's wasm instance and memory; any later call throws DISPOSED. */
  dispose(): void {
    this.lock.check('dispose');
    this.kernels = null;
    this.plan = undefined;
  }
}
