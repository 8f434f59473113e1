// A sequential model: the public API over an Engine (the wasm instance, the memory plan and the
// passes). Building and checking a topology happens here; training is fit.ts; the model file,
// save and load, is io/model-file.ts.
import { applyTemperature, checkTemperature } from './calibration';
import { checkCost, type Cost } from './cost';
import { toRows, toTargets, type Samples, type Targets } from './data';
import { Engine, MAX_CHUNK } from './engine';
import { NeuriteError } from './errors';
import { fit, type FitOptions, type History } from './fit';
import { saveModel } from './io/model-file';
import { Embedding } from './layers/embedding';
import { createLayer, namedParams, type Layer, type LayerConfig, type ParamSlot } from './layers/index';
import { floatsOf } from './layers/layer';
import { Residual } from './layers/residual';
import { MAX_CALL_FLOATS } from './limits';
import { matchTensors, type TensorValues } from './load-weights';
import { loss as lossDef, type LossName } from './losses';
import { OperationLock } from './operation';
import { checkKeys, checkOptions } from './options';
import { StepRunner, Stream } from './stream';
import { checkTopology } from './topology-check';

export { MAX_CHUNK } from './engine';

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

/** Largest per-sample input accepted from a topology. */
export const MAX_INPUT_SIZE = 1 << 24;

export class Model {
  readonly layers: readonly Layer[];
  readonly inputShape: readonly number[];
  readonly outputShape: readonly number[];
  /** the seed used for initialisation and shuffling */
  readonly seed: number;
  /** which wasm build this model runs on */
  readonly build: string;
  /** @internal the instance, memory plan and passes */
  readonly engine: Engine;
  /** @internal one operation (a fit) at a time */
  readonly lock = new OperationLock();
  /** @internal parameters, floats and operations per sample, as checked against the caps */
  readonly cost: Cost;
  private temp = 1;
  /** the one-step layers that streams run, made by the first stream() */
  private steps?: StepRunner;

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
    layers.forEach((l, i) => {
      const nested = l instanceof Residual ? l.inner.some((m) => m instanceof Embedding) : false;
      if ((l instanceof Embedding && i > 0) || nested) {
        throw new NeuriteError('INVALID_ARGUMENT', `layer ${l.name}: an embedding takes the model's input ids, so it must be the first layer`);
      }
    });
    this.cost = checkCost(layers, floatsOf(this.inputShape));
    const given = weights && matchTensors(namedParams(layers), weights);
    this.engine = new Engine(module, { layers, inputShape: this.inputShape, outputShape: this.outputShape, seed, cost: this.cost }, given);
    this.build = this.engine.build;
  }

  /**
   * Outputs for a batch of samples, row after row (batch × outputs). `x` is a flat
   * Float32Array (batch inferred from its length) or an array of rows.
   */
  predict(x: Samples): Float32Array {
    const e = this.engine;
    const rows = toRows(x, e.inputSize, 'predict');
    const n = rows.length / e.inputSize;
    if (n * e.outputSize > MAX_CALL_FLOATS) {
      throw new NeuriteError('TOO_LARGE', `predict: ${n} samples would give ${n * e.outputSize} outputs; at most ${MAX_CALL_FLOATS} per call`);
    }
    return applyTemperature(e.infer(rows), e.lossCols, this.temp);
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
    const e = this.engine;
    const rows = toRows(x, e.inputSize, 'evaluate: x');
    e.checkSamples(rows, 'evaluate: x');
    const n = rows.length / e.inputSize;
    const t = toTargets(y, n, e.outputSize, 'evaluate: y', e.lossCols);
    const def = lossDef(options.loss ?? e.lastLoss ?? e.defaultLoss());
    const bs = options.batchSize ?? 256;
    if (!Number.isSafeInteger(bs) || bs < 1) throw new NeuriteError('INVALID_ARGUMENT', 'evaluate: batchSize must be a positive integer');
    return e.evaluateRows(rows, t, def, bs);
  }

  /** Train on (x, y); resolves with per-epoch history. See FitOptions. */
  fit(x: Samples, y: Targets, options: FitOptions = {}): Promise<History> {
    return this.lock.run('fit', () => fit(this.engine, x, y, options));
  }

  /**
   * Gradients of the batch-mean loss over (x, y) with respect to every parameter, by PyTorch
   * name and layout, without changing the model: what one training step would follow.
   */
  gradients(x: Samples, y: Targets, options: { loss?: LossName } = {}): Record<string, Float32Array> {
    checkOptions(options, ['loss'], 'gradients');
    const e = this.engine;
    const rows = toRows(x, e.inputSize, 'gradients: x');
    e.checkSamples(rows, 'gradients: x');
    const n = rows.length / e.inputSize;
    if (n === 0 || n > MAX_CHUNK) throw new NeuriteError('INVALID_ARGUMENT', `gradients: between 1 and ${MAX_CHUNK} samples`);
    const t = toTargets(y, n, e.outputSize, 'gradients: y', e.lossCols);
    const def = lossDef(options.loss ?? e.lastLoss ?? e.defaultLoss());
    e.prepareGradients();
    e.ensurePlan(n, 'train');
    e.loadBatch(rows, t, null, 0, n);
    // a training pass moves BatchNorm's running statistics: put them back after
    const before = e.snapshotParams();
    e.forwardPass(n, true);
    const all = this.layers.map((l) => l.trainable);
    // every layer, frozen or not, so the caller sees each parameter's gradient
    for (const l of this.layers) l.trainable = true;
    try {
      e.backwardPass(def, n);
    } finally {
      this.layers.forEach((l, i) => { l.trainable = all[i]; });
      e.restoreParams(before);
    }
    return e.readParams('grad');
  }

  /** Every parameter (and buffer) by PyTorch name and layout: 'dense_0.weight' is [out, in]. Copies. */
  getWeights(): Record<string, Float32Array> {
    return this.engine.readParams('ptr');
  }

  /**
   * Replace parameters by PyTorch name and layout. Everything is checked before anything is
   * written, so a bad record leaves the model as it was. With `strict`, every parameter must be
   * given.
   */
  setWeights(record: Record<string, ArrayLike<number>>, options: { strict?: boolean } = {}): void {
    this.lock.check('setWeights');
    checkOptions(options, ['strict'], 'setWeights');
    if (typeof record !== 'object' || record === null) throw new NeuriteError('INVALID_ARGUMENT', 'setWeights: expected a record of name → Float32Array');
    const slots = this.engine.namedParams();
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
    this.engine.writeParams(pending);
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
    return saveModel(this, options);
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

  /** Number of learnable values (BatchNorm's running statistics are buffers, not counted). */
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
    this.engine.dispose();
  }
}
