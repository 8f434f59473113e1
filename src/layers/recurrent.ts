// Recurrent layers: simpleRnn, lstm and gru on per-sample input [steps, features], batch-first
// outside, time-major inside (assembly/recurrent.ts). Parameters carry PyTorch's single-layer
// names and layouts (weight_ih_l0 [gates·units, features], weight_hh_l0 [gates·units, units],
// bias_ih_l0, bias_hh_l0, gates in PyTorch's order); initialisation is Keras's (Glorot-uniform
// input weights, orthogonal recurrent weights, LSTM forget-gate bias 1).
import { NeuriteError } from '../errors';
import type { Rng } from '../rng';
import type { Kernels } from '../wasm';
import { initOrthogonal, initUniform, paramSlot, transpose, type Layer, type LayerBase, type ParamSlot } from './layer';

export interface RecurrentConfig extends LayerBase {
  type: 'simpleRnn' | 'lstm' | 'gru';
  units: number;
  /** output every step's hidden state [steps, units] instead of the last one [units] (default false) */
  returnSequences?: boolean;
  /** simpleRnn only: 'tanh' (default), 'sigmoid' or 'relu' */
  activation?: 'tanh' | 'sigmoid' | 'relu';
}

/** Widest recurrent layer accepted from a topology. */
export const MAX_RECURRENT_UNITS = 1 << 14;

const GATES = { simpleRnn: 1, lstm: 4, gru: 3 } as const;
const RNN_ACTIVATIONS = ['tanh', 'sigmoid', 'relu'] as const; // codes 0, 1, 2 in the kernels

/** n rounded up to 4 floats, so every part of a per-sample buffer stays 16-byte aligned */
const quad = (n: number): number => Math.ceil(n / 4) * 4;

export class Recurrent implements Layer {
  readonly type: RecurrentConfig['type'];
  trainable = true;
  readonly inputShape: readonly number[];
  readonly outputShape: readonly number[];
  readonly params: ParamSlot[];
  readonly forwardFloats: number;
  readonly gradFloats: number;
  readonly workspaceFloats = 0;
  readonly units: number;
  readonly steps: number;
  readonly features: number;
  readonly returnSequences: boolean;
  private readonly act: number;
  private readonly wih: ParamSlot;
  private readonly whh: ParamSlot;
  private readonly bih: ParamSlot;
  private readonly bhh: ParamSlot;
  /** state before the first step, (batch, units) each; 0 is zeros. Streams set these. */
  h0 = 0;
  c0 = 0;
  // forward buffers (time-major unless said)
  private xt = 0;
  /** every step's hidden state (steps·batch, units), and the LSTM's cell state */
  h = 0;
  c = 0;
  private gates = 0;
  private hgates = 0;
  output = 0;
  // gradient buffers
  outputGrad = 0;
  private dh = 0;
  private dgates = 0;
  private dhgates = 0;
  private dxt = 0;
  private dc = 0;
  private batch = 0;
  get logits(): number { return this.output; }
  get logitsGrad(): number { return this.outputGrad; }

  constructor(readonly name: string, cfg: RecurrentConfig, inputShape: readonly number[]) {
    const where = `layer ${name} (${cfg.type})`;
    this.type = cfg.type;
    if (!Number.isSafeInteger(cfg.units) || cfg.units < 1 || cfg.units > MAX_RECURRENT_UNITS) {
      throw new NeuriteError('INVALID_ARGUMENT', `${where}: units must be an integer in [1, ${MAX_RECURRENT_UNITS}], got ${JSON.stringify(cfg.units)}`);
    }
    if (cfg.returnSequences !== undefined && typeof cfg.returnSequences !== 'boolean') {
      throw new NeuriteError('INVALID_ARGUMENT', `${where}: returnSequences must be true or false`);
    }
    if (inputShape.length !== 2) {
      throw new NeuriteError('SHAPE_MISMATCH',
        `${where}: expects a sequence [steps, features] per sample, got [${inputShape.join(', ')}] (for one feature use inputShape [steps, 1])`);
    }
    let act = 0;
    if (cfg.type === 'simpleRnn') {
      act = RNN_ACTIVATIONS.indexOf((cfg.activation ?? 'tanh') as typeof RNN_ACTIVATIONS[number]);
      if (act < 0) {
        throw new NeuriteError('UNKNOWN_NAME', `${where}: activation must be one of ${RNN_ACTIVATIONS.join(', ')}, got ${JSON.stringify(cfg.activation)}`);
      }
    } else if (cfg.activation !== undefined) {
      throw new NeuriteError('INVALID_ARGUMENT', `${where}: the ${cfg.type} cell's activations are fixed (sigmoid gates, tanh); activation applies to simpleRnn only`);
    }
    this.act = act;
    [this.steps, this.features] = inputShape;
    this.units = cfg.units;
    this.returnSequences = cfg.returnSequences ?? false;
    this.inputShape = [...inputShape];
    this.outputShape = this.returnSequences ? [this.steps, this.units] : [this.units];

    const [T, F, u] = [this.steps, this.features, this.units];
    const G = GATES[this.type] * u;
    // kept transposed, (in, G·u), so the projections are row-major GEMMs
    this.wih = paramSlot('weight_ih_l0', [G, F], { toTorch: (w) => transpose(w, F, G), fromTorch: (w) => transpose(w, G, F) });
    this.whh = paramSlot('weight_hh_l0', [G, u], { toTorch: (w) => transpose(w, u, G), fromTorch: (w) => transpose(w, G, u) });
    this.bih = paramSlot('bias_ih_l0', [G]);
    this.bhh = paramSlot('bias_hh_l0', [G]);
    this.params = [this.wih, this.whh, this.bih, this.bhh];

    const lstm = this.type === 'lstm';
    const gru = this.type === 'gru';
    this.forwardFloats = quad(T * F) + quad(T * u) + (lstm ? quad(T * u) : 0) + (this.type === 'simpleRnn' ? 0 : quad(T * G))
      + (gru ? quad(T * G) : 0) + (this.returnSequences ? quad(T * u) : 0);
    this.gradFloats = quad(this.returnSequences ? T * u : u) + quad(T * u) + quad(T * G) + (gru ? quad(T * G) : 0)
      + quad(T * F) + (lstm ? quad(u) : 0);
  }

  config(): RecurrentConfig {
    const c: RecurrentConfig = { type: this.type, name: this.name, units: this.units, returnSequences: this.returnSequences };
    if (this.type === 'simpleRnn') c.activation = RNN_ACTIVATIONS[this.act];
    return c;
  }

  initialize(rng: Rng, set: (slot: ParamSlot, values: Float32Array) => void): void {
    const u = this.units;
    const G = GATES[this.type] * u;
    set(this.wih, initUniform(rng, this.wih.size, this.features, G, false));
    set(this.whh, initOrthogonal(rng, u, G));
    const bias = new Float32Array(G);
    if (this.type === 'lstm') bias.fill(1, u, 2 * u); // forget gate: remember by default
    set(this.bih, bias);
    set(this.bhh, new Float32Array(G));
  }

  bind(fwd: number, grad: number, batch: number, _workspace: number): void {
    const [T, F, u] = [this.steps, this.features, this.units];
    const G = GATES[this.type] * u;
    const lstm = this.type === 'lstm';
    const gru = this.type === 'gru';
    const take = (floats: number): number => { const p = fwd; fwd += quad(floats) * batch * 4; return p; };
    this.batch = batch;
    this.xt = take(T * F);
    this.h = take(T * u);
    this.c = lstm ? take(T * u) : 0;
    this.gates = this.type === 'simpleRnn' ? 0 : take(T * G);
    this.hgates = gru ? take(T * G) : 0;
    // the last step's rows of h are already the (batch, units) output
    this.output = this.returnSequences ? take(T * u) : this.h + (T - 1) * batch * u * 4;
    const g = (floats: number): number => { const p = grad; grad += quad(floats) * batch * 4; return p; };
    this.outputGrad = g(this.returnSequences ? T * u : u);
    this.dh = g(T * u);
    this.dgates = g(T * G);
    this.dhgates = gru ? g(T * G) : 0;
    this.dxt = g(T * F);
    this.dc = lstm ? g(u) : 0;
  }

  forward(k: Kernels, x: number, batch: number, _training: boolean, _rng: Rng): void {
    const [T, F, u] = [this.steps, this.features, this.units];
    const K = k.k;
    K.seq_transpose(this.xt, x, batch, T, F, 0);
    const [wih, whh, bih, bhh] = [this.wih.ptr, this.whh.ptr, this.bih.ptr, this.bhh.ptr];
    if (this.type === 'lstm') {
      K.lstm_forward(this.h, this.c, this.gates, this.xt, wih, whh, bih, bhh, this.h0, this.c0, batch, T, F, u, k.scratch);
    } else if (this.type === 'gru') {
      K.gru_forward(this.h, this.gates, this.hgates, this.xt, wih, whh, bih, bhh, this.h0, batch, T, F, u, k.scratch);
    } else {
      K.rnn_forward(this.h, this.xt, wih, whh, bih, bhh, this.h0, batch, T, F, u, this.act, k.scratch);
    }
    if (this.returnSequences) K.seq_transpose(this.output, this.h, T, batch, u, 0);
  }

  backward(k: Kernels, _x: number, dx: number, batch: number, _fromLogits: boolean): void {
    const [T, F, u] = [this.steps, this.features, this.units];
    const K = k.k;
    // dh starts as dL/dh_t from above: every step, or only the last
    if (this.returnSequences) K.seq_transpose(this.dh, this.outputGrad, batch, T, u, 1);
    else K.axpy(this.dh + (T - 1) * batch * u * 4, this.outputGrad, batch * u, 1);
    const dxt = dx !== 0 ? this.dxt : 0;
    const [wih, whh, bih, bhh] = [this.wih, this.whh, this.bih, this.bhh];
    if (this.type === 'lstm') {
      K.lstm_backward(dxt, wih.grad, whh.grad, bih.grad, bhh.grad, this.dgates, this.dh, this.dc,
        this.xt, this.h, this.c, this.gates, wih.ptr, whh.ptr, this.h0, this.c0, batch, T, F, u, k.scratch);
    } else if (this.type === 'gru') {
      K.gru_backward(dxt, wih.grad, whh.grad, bih.grad, bhh.grad, this.dgates, this.dhgates, this.dh,
        this.xt, this.h, this.gates, this.hgates, wih.ptr, whh.ptr, this.h0, batch, T, F, u, k.scratch);
    } else {
      K.rnn_backward(dxt, wih.grad, whh.grad, bih.grad, bhh.grad, this.dgates, this.dh,
        this.xt, this.h, wih.ptr, whh.ptr, this.h0, batch, T, F, u, this.act, k.scratch);
    }
    if (dx !== 0) K.seq_transpose(dx, this.dxt, T, batch, F, 1);
  }

  /** Where the state after the last step sits: h (and c) rows of step steps−1, (batch, units). */
  finalState(): { h: number; c: number } {
    const last = (this.steps - 1) * this.batch * this.units * 4;
    return { h: this.h + last, c: this.c ? this.c + last : 0 };
  }
}
