// Streaming inference: one step at a time with the recurrent state carried between calls, many
// independent streams per model (one per sensor, say). Each stream's output after t steps
// equals what predict gives for the sequence of those t steps.
//
// The model's layers are built for its fixed number of steps; a stream runs a one-step copy of
// them ("step layers") that reads the model's own parameters — no weights are copied, so a fit
// between two steps is seen by the next one. Step buffers and each stream's state live in the
// model's memory.
import { NeuriteError } from './errors';
import { applyTemperature } from './calibration';
import { assertFinite } from './data';
import { createLayer, type Layer } from './layers/index';
import { floatsOf } from './layers/layer';
import { Recurrent } from './layers/recurrent';
import type { Model } from './model';

/** Layer types that work one step at a time. */
const STEPPABLE = new Set(['dense', 'embedding', 'dropout', 'activation', 'simpleRnn', 'lstm', 'gru']);

/** The one-step copy of a model's layers, shared by all of its streams. */
export class StepRunner {
  readonly layers: Layer[];
  readonly stepInput: number;
  readonly stepOutput: number;
  /** floats of state one stream carries: h (and c for an LSTM) of every recurrent layer */
  readonly stateFloats: number;
  private readonly input: number;
  private readonly free: number[] = [];

  constructor(private readonly model: Model) {
    const shape = model.inputShape;
    if (shape.length !== 1 && shape.length !== 2) {
      throw new NeuriteError('UNSUPPORTED', `stream: the model's input [${shape.join(', ')}] is not a sequence ([steps, features], or [steps] of ids)`);
    }
    const bad = model.layers.find((l) => !STEPPABLE.has(l.type));
    if (bad) {
      throw new NeuriteError('UNSUPPORTED',
        `stream: layer ${bad.name} (${bad.type}) does not run one step at a time; streams take ${[...STEPPABLE].join(', ')} layers`);
    }
    if (shape.length === 1 && model.layers[0].type !== 'embedding') {
      throw new NeuriteError('UNSUPPORTED', 'stream: a flat input is only a sequence when an embedding reads it as ids');
    }
    let s: readonly number[] = shape.length === 2 ? [1, shape[1]] : [1];
    this.layers = model.topology().layers.map((cfg, i) => {
      const l = createLayer(cfg, i, s);
      s = l.outputShape;
      // read the model's parameters in place
      l.params.forEach((p, j) => { p.ptr = model.layers[i].params[j].ptr; });
      l.trainable = false;
      return l;
    });
    this.stepInput = floatsOf(shape.length === 2 ? [shape[1]] : [1]);
    this.stepOutput = floatsOf(s);
    this.stateFloats = this.layers.reduce((n, l) => n + (l instanceof Recurrent ? (l.type === 'lstm' ? 2 : 1) * l.units : 0), 0);
    const fwd = this.layers.reduce((n, l) => n + Math.ceil(l.forwardFloats / 4) * 4, 0);
    const grad = this.layers.reduce((n, l) => n + Math.ceil(l.gradFloats / 4) * 4, 0);
    const work = this.layers.reduce((n, l) => Math.max(n, l.workspaceFloats), 0);
    this.input = model.engine.reserve(Math.ceil(this.stepInput / 4) * 4 + fwd + grad + work);
    let f = this.input + Math.ceil(this.stepInput / 4) * 16;
    let g = f + fwd * 4;
    const w = g + grad * 4;
    for (const l of this.layers) {
      l.bind(f, g, 1, w);
      f += Math.ceil(l.forwardFloats / 4) * 16;
      g += Math.ceil(l.gradFloats / 4) * 16;
    }
  }

  /** A zeroed state block, reusing one a disposed stream gave back. */
  takeState(): number {
    const ptr = this.free.pop() ?? this.model.engine.reserve(this.stateFloats);
    this.model.engine.k.f32.fill(0, ptr >> 2, (ptr >> 2) + this.stateFloats);
    return ptr;
  }

  giveBack(ptr: number): void {
    this.free.push(ptr);
  }

  /** One step of one stream: x (stepInput) in, the state at `state` advanced, output returned. */
  step(state: number, x: ArrayLike<number>): Float32Array {
    const k = this.model.engine.k;
    const f32 = k.f32;
    f32.set(x, this.input >> 2);
    let at = state;
    let inp = this.input;
    for (const l of this.layers) {
      if (l instanceof Recurrent) {
        l.h0 = at;
        l.c0 = l.type === 'lstm' ? at + l.units * 4 : 0;
      }
      l.forward(k, inp, 1, false, this.model.engine.rng);
      if (l instanceof Recurrent) {
        const last = l.finalState();
        f32.copyWithin(at >> 2, last.h >> 2, (last.h >> 2) + l.units);
        at += l.units * 4;
        if (l.type === 'lstm') {
          f32.copyWithin(at >> 2, last.c >> 2, (last.c >> 2) + l.units);
          at += l.units * 4;
        }
      }
      inp = l.output;
    }
    const out = this.layers[this.layers.length - 1].output >> 2;
    return f32.slice(out, out + this.stepOutput);
  }
}

/** One sequence fed step by step. Get one from `model.stream()`. */
export class Stream {
  private state: number;
  private steps = 0;

  constructor(private readonly runner: StepRunner, private readonly model: Model) {
    this.state = runner.takeState();
  }

  /** Steps fed since the start or the last reset. */
  get length(): number { return this.steps; }

  /**
   * Feed one step — `features` values, or one id for a model that starts with an embedding —
   * and get the model's output for the sequence so far (a copy).
   */
  next(x: ArrayLike<number>): Float32Array {
    this.live();
    const n = this.runner.stepInput;
    if (!x || typeof x.length !== 'number' || x.length !== n) {
      throw new NeuriteError('SHAPE_MISMATCH', `stream.next: expected ${n} value${n === 1 ? '' : 's'} for one step, got ${x?.length}`);
    }
    const v = x instanceof Float32Array ? x : Float32Array.from(x);
    assertFinite(v, n, 'stream.next');
    this.runner.layers[0].checkInput?.(v, 'stream.next');
    const y = this.runner.step(this.state, v);
    this.steps++;
    // what predict returns: a calibrated model's temperature applies here too
    return applyTemperature(y, y.length, this.model.temperature);
  }

  /** Forget the carried state: the next step starts a new sequence. */
  reset(): void {
    this.live();
    const f32 = this.model.engine.k.f32;
    f32.fill(0, this.state >> 2, (this.state >> 2) + this.runner.stateFloats);
    this.steps = 0;
  }

  /** Give the stream's state back to the model for reuse; later calls throw DISPOSED. */
  dispose(): void {
    if (this.state < 0) return;
    this.runner.giveBack(this.state);
    this.state = -1;
  }

  private live(): void {
    if (this.state < 0) throw new NeuriteError('DISPOSED', 'this stream was disposed');
  }
}
