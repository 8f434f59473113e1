// The training loop: mini-batches, shuffling, callbacks, cancellation, and a guard that stops
// a diverging run before it can spoil the weights.
import { toRows, toTargets, type Samples, type Targets } from './data';
import { NeuriteError } from './errors';
import { checkEarlyStopping, checkFitOptions, checkValidationData, lossRowWeights, splitValidation, type EarlyStopping } from './fit-options';
import { DivergenceGuard } from './guard';
import { loss as lossDef, type LossName } from './losses';
import type { Engine } from './engine';
import type { OptimizerSpec } from './optimizers';

export interface FitOptions {
  /** passes over the data (default 1) */
  epochs?: number;
  /** samples per step (default 32): 1 is stochastic, the data size is full-batch gradient descent */
  batchSize?: number;
  /** default: categoricalCrossentropy after softmax, binaryCrossentropy after sigmoid, else mse */
  loss?: LossName;
  /** default { type: 'adam', learningRate: 0.001 } */
  optimizer?: OptimizerSpec;
  /** reshuffle the samples every epoch (default true) */
  shuffle?: boolean;
  /** evaluated after every epoch into valLoss / valAccuracy */
  validationData?: [Samples, Targets];
  /** hold out this last fraction of the samples (taken before shuffling) as validationData */
  validationSplit?: number;
  /** a weight per sample (≥ 0): its loss counts that much (Keras's sample_weight) */
  sampleWeight?: ArrayLike<number>;
  /** a weight per class index, e.g. { 0: 1, 1: 5 } (unlisted classes weigh 1); classification losses */
  classWeight?: Record<number, number> | ArrayLike<number>;
  /** stop when the validation loss (else the training loss) stops improving */
  earlyStopping?: EarlyStopping;
  onBatchEnd?: (batch: number, logs: { loss: number; epoch: number }) => void | Promise<void>;
  /** returning false (or a promise of false) stops training after this epoch */
  onEpochEnd?: (epoch: number, logs: EpochLogs) => void | boolean | Promise<void | boolean>;
  /** aborting stops training between steps with a NeuriteError('ABORTED') */
  signal?: AbortSignal;
  /** the loop gives the event loop a turn at least this often, in ms (default 16) */
  yieldEvery?: number;
  /** rescale the gradients when their global L2 norm (over every trainable parameter) is above this */
  clipNorm?: number;
  /** clamp every gradient value to [−clipValue, clipValue] (applied before clipNorm) */
  clipValue?: number;
}

export interface EpochLogs {
  loss: number;
  accuracy?: number;
  valLoss?: number;
  valAccuracy?: number;
}

/** Per-epoch figures, Keras style: history.loss[e] is epoch e's mean training loss. */
export interface History {
  epochs: number;
  loss: number[];
  accuracy: number[];
  valLoss: number[];
  valAccuracy: number[];
  /** why training ended before `epochs`, if it did */
  stopped?: 'earlyStopping' | 'onEpochEnd';
}

function positiveNumber(v: unknown, what: string): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) {
    throw new NeuriteError('INVALID_ARGUMENT', `fit: ${what} must be a positive finite number, got ${JSON.stringify(v)}`);
  }
  return v;
}

function positiveInt(v: unknown, dflt: number, what: string): number {
  if (v === undefined) return dflt;
  if (!Number.isSafeInteger(v) || (v as number) < 1) {
    throw new NeuriteError('INVALID_ARGUMENT', `fit: ${what} must be a positive integer, got ${JSON.stringify(v)}`);
  }
  return v as number;
}

// A macrotask turn that browsers do not clamp to 4 ms the way nested setTimeout is.
function yieldToEventLoop(): Promise<void> {
  const g = globalThis as { setImmediate?: (f: () => void) => void };
  if (typeof g.setImmediate === 'function') return new Promise((r) => g.setImmediate!(r));
  if (typeof MessageChannel === 'function') {
    return new Promise((r) => {
      const ch = new MessageChannel();
      ch.port1.onmessage = () => { ch.port1.close(); r(); };
      ch.port2.postMessage(0);
    });
  }
  return new Promise((r) => setTimeout(r, 0));
}

const now = (): number => (typeof performance !== 'undefined' ? performance.now() : Date.now());

export async function fit(model: Engine, x: Samples, y: Targets, options: FitOptions): Promise<History> {
  checkFitOptions(options);
  const epochs = positiveInt(options.epochs, 1, 'epochs');
  const allRows = toRows(x, model.inputSize, 'fit: x');
  model.checkSamples(allRows, 'fit: x');
  const all = allRows.length / model.inputSize;
  if (all === 0) throw new NeuriteError('INVALID_ARGUMENT', 'fit: no samples');
  const allTargets = toTargets(y, all, model.outputSize, 'fit: y', model.lossCols);
  const split = splitValidation(allRows, allTargets, all, model, options.validationSplit, options.validationData !== undefined);
  const { rows, targets, n } = split;
  const batchSize = Math.min(positiveInt(options.batchSize, 32, 'batchSize'), n);
  const def = lossDef(options.loss ?? model.lastLoss ?? model.defaultLoss());
  const clipNorm = positiveNumber(options.clipNorm, 'clipNorm');
  const clipValue = positiveNumber(options.clipValue, 'clipValue');
  const validation = split.validation ?? checkValidationData(model, options.validationData);
  const weights = lossRowWeights(model, targets, n, options.sampleWeight, options.classWeight, def.classification);
  const stopping = checkEarlyStopping(options.earlyStopping);
  // refuse before any step if back-propagation would have to pass through a step activation
  const first = model.firstTrainable();
  for (let i = first; i < model.layers.length; i++) {
    const a = model.layers[i].activation;
    const fusedHere = i === model.layers.length - 1 && model.fusedWith(def);
    if (a && !a.differentiable && !fusedHere) {
      throw new NeuriteError('UNSUPPORTED',
        `fit: layer ${model.layers[i].name} uses the ${a.name} activation, which has no gradient; train it with the perceptron rule or use a differentiable activation`);
    }
  }
  const opt = model.prepareTraining(options.optimizer);
  const R = model.lossRows;
  const batchWeights = weights ? new Float32Array(batchSize * R) : undefined;
  if (weights) model.reserveLossWeights(batchSize * R);
  let best = Infinity;
  let bestWeights: Float32Array | undefined;
  let wait = 0;
  const trainer = model.trainer!;
  model.lastLoss = def.name;
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  const shuffle = options.shuffle ?? true;
  const yieldEvery = options.yieldEvery ?? 16;
  const history: History = { epochs: 0, loss: [], accuracy: [], valLoss: [], valAccuracy: [] };
  let lastYield = now();
  const stepsAtStart = trainer.step;
  const guard = new DivergenceGuard();

  for (let epoch = 0; epoch < epochs; epoch++) {
    // each epoch's order depends only on the generator's state, not on earlier epochs' orders,
    // so a fit resumed from a checkpoint shuffles exactly as the uninterrupted one
    if (shuffle) {
      for (let i = 0; i < n; i++) order[i] = i;
      model.rng.shuffle(order);
    }
    let lossSum = 0;
    let correct = 0;
    let batchIndex = 0;
    for (let from = 0; from < n; from += batchSize, batchIndex++) {
      if (options.signal?.aborted) {
        // the weights are those of the last completed step; the error carries the history so far
        throw Object.assign(new NeuriteError('ABORTED', `fit: aborted in epoch ${epoch}, before batch ${batchIndex}`), { history });
      }
      const b = Math.min(batchSize, n - from);
      model.ensurePlan(b, 'train');
      model.loadBatch(rows, targets, shuffle ? order : null, from, from + b);
      model.forwardPass(b, true);
      if (batchWeights) {
        for (let r = 0; r < b; r++) {
          const s0 = (shuffle ? order[from + r] : from + r) * R;
          batchWeights.set(weights!.subarray(s0, s0 + R), r * R);
        }
      }
      const loss = model.lossValue(def, b, batchWeights);
      // the previous step led here: undo it (with its update applied, the loss is not finite or exploded)
      const why = guard.check(loss);
      if (why) diverged(model, trainer.step > stepsAtStart, why, epoch, batchIndex);
      model.backwardPass(def, b, batchWeights);
      if (model.nonFiniteGrads() > 0) diverged(model, trainer.step > stepsAtStart, 'a gradient became non-finite', epoch, batchIndex);
      model.keepGood();
      if (clipValue !== undefined || clipNorm !== undefined) clipGradients(model, first, clipValue, clipNorm);
      if (def.classification) correct += model.countCorrect(b);
      trainer.step++;
      for (let i = first; i < model.layers.length; i++) {
        const layer = model.layers[i];
        if (!layer.trainable) continue;
        for (const p of layer.params) if (!p.buffer) opt.update(model.k, p.ptr, p.grad, p.state, p.size, trainer.step);
      }
      if (model.nonFiniteParams() > 0) diverged(model, true, 'a weight overflowed', epoch, batchIndex);
      lossSum += loss * b;
      if (options.onBatchEnd) await options.onBatchEnd(batchIndex, { loss, epoch });
      if (now() - lastYield >= yieldEvery) {
        await yieldToEventLoop();
        lastYield = now();
      }
    }
    const logs: EpochLogs = { loss: lossSum / n };
    history.loss.push(logs.loss);
    if (def.classification) history.accuracy.push((logs.accuracy = correct / (n * model.lossRows)));
    if (validation) {
      const v = model.evaluateRows(validation[0], validation[1], def, 256);
      history.valLoss.push((logs.valLoss = v.loss));
      if (v.accuracy !== undefined) history.valAccuracy.push((logs.valAccuracy = v.accuracy));
    }
    history.epochs++;
    if (stopping) {
      const watched = validation ? logs.valLoss! : logs.loss;
      if (watched < best - stopping.minDelta) {
        best = watched;
        wait = 0;
        if (stopping.restoreBestWeights) bestWeights = model.snapshotParams();
      } else if (++wait >= Math.max(1, stopping.patience)) {
        history.stopped = 'earlyStopping';
      }
    }
    if (options.onEpochEnd && (await options.onEpochEnd(epoch, logs)) === false) history.stopped ??= 'onEpochEnd';
    if (history.stopped) break;
  }
  if (bestWeights) model.restoreParams(bestWeights);
  return history;
}

// The remedy for exploding gradients (back-propagation through time is known for them): clamp
// each value, then scale all of them together when their global norm is too large, as
// torch.nn.utils.clip_grad_value_ and clip_grad_norm_ do.
function clipGradients(model: Engine, first: number, clipValue: number | undefined, clipNorm: number | undefined): void {
  const k = model.k.k;
  const params = model.layers.slice(first).filter((l) => l.trainable).flatMap((l) => l.params).filter((p) => !p.buffer);
  if (clipValue !== undefined) for (const p of params) k.clip_values(p.grad, p.size, clipValue);
  if (clipNorm === undefined) return;
  let sq = 0;
  for (const p of params) sq += k.sum_squares(p.grad, p.size);
  const norm = Math.sqrt(sq);
  if (norm > clipNorm) for (const p of params) k.scale(p.grad, p.size, clipNorm / norm);
}

// The weights go back to the last ones whose loss and gradients were finite. Before the first
// step of this fit there is nothing to undo: the weights are as the caller left them.
function diverged(model: Engine, undo: boolean, what: string, epoch: number, batch: number): never {
  if (undo) model.restoreGood();
  throw new NeuriteError('DIVERGED',
    `fit: training diverged in epoch ${epoch}, batch ${batch}: ${what}. The weights are the last good ones; try a smaller learning rate.`);
}
