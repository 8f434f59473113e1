// The table of optimizers: defaults, how many state buffers each keeps per parameter, and the
// kernel call for one step. The kernels are element-wise, so one call updates a whole tensor.
import { NeuriteError } from './errors';
import { schedule, type Schedule, type ScheduleSpec } from './schedules';
import type { Kernels } from './wasm';
import { checkKeys, closest } from './options';

export type OptimizerName = 'sgd' | 'momentum' | 'adagrad' | 'rmsprop' | 'adam';

export interface OptimizerOptions {
  type: OptimizerName;
  /** base learning rate; default per optimizer (sgd/momentum/adagrad 0.01, rmsprop/adam 0.001) */
  learningRate?: number;
  /** learning-rate decay over optimizer steps; default constant */
  schedule?: ScheduleSpec;
  /** momentum: the velocity's decay μ (default 0.9) */
  momentum?: number;
  /** momentum: Nesterov's look-ahead form (default false) */
  nesterov?: boolean;
  /** adam: β₁, β₂ (defaults 0.9, 0.999) */
  beta1?: number;
  beta2?: number;
  /** rmsprop: the squared-gradient average's decay ρ (default 0.9) */
  rho?: number;
  /** adagrad/rmsprop/adam: the denominator's ε (defaults 1e-10, 1e-7, 1e-8) */
  epsilon?: number;
  /**
   * decoupled weight decay (AdamW's, for every optimizer): before each step the weights shrink
   * by lr·weightDecay·w, apart from the gradient (default 0)
   */
  weightDecay?: number;
}

export type OptimizerSpec = OptimizerName | OptimizerOptions;

export interface Optimizer {
  readonly type: OptimizerName;
  /** state buffers per parameter tensor, each the tensor's size */
  readonly slots: number;
  readonly learningRate: Schedule;
  /** one step at optimizer step t (1-based) */
  update(k: Kernels, param: number, grad: number, state: readonly number[], n: number, t: number): void;
}

/** The options each optimizer takes besides type, learningRate, schedule and weightDecay. */
const OPTIMIZER_OPTIONS: Record<OptimizerName, readonly string[]> = {
  sgd: [], momentum: ['momentum', 'nesterov'], adagrad: ['epsilon'], rmsprop: ['rho', 'epsilon'], adam: ['beta1', 'beta2', 'epsilon'],
};

const DEFAULT_LR: Record<OptimizerName, number> = { sgd: 0.01, momentum: 0.01, adagrad: 0.01, rmsprop: 0.001, adam: 0.001 };

function num(v: unknown, dflt: number, what: string, lo = -Infinity, hi = Infinity): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < lo || v > hi) {
    throw new NeuriteError('INVALID_ARGUMENT', `optimizer: ${what} must be a finite number in [${lo}, ${hi}], got ${JSON.stringify(v)}`);
  }
  return v;
}

export function optimizer(spec: OptimizerSpec | undefined): Optimizer {
  const o: OptimizerOptions = typeof spec === 'string' ? { type: spec } : (spec ?? { type: 'adam' });
  if (typeof o !== 'object' || !(o.type in DEFAULT_LR)) {
    const t = (o as { type?: unknown })?.type ?? o;
    const near = typeof t === 'string' ? closest(t, Object.keys(DEFAULT_LR)) : undefined;
    throw new NeuriteError('UNKNOWN_NAME',
      `unknown optimizer ${JSON.stringify(t)}${near ? ` (did you mean ${JSON.stringify(near)}?)` : ''}; known: ${Object.keys(DEFAULT_LR).join(', ')}`);
  }
  checkKeys(o, ['type', 'learningRate', 'schedule', 'weightDecay', ...OPTIMIZER_OPTIONS[o.type]], `optimizer ${o.type}`);
  const lr0 = num(o.learningRate, DEFAULT_LR[o.type], 'learningRate', 0);
  const lr = schedule(lr0, o.schedule);
  const wd = num(o.weightDecay, 0, 'weightDecay', 0);
  const opt = rule(o, lr);
  if (wd === 0) return opt;
  return {
    ...opt,
    update: (k, p, g, s, n, t) => {
      k.k.scale(p, n, 1 - lr(t - 1) * wd);
      opt.update(k, p, g, s, n, t);
    },
  };
}

function rule(o: OptimizerOptions, lr: Schedule): Optimizer {
  switch (o.type) {
    case 'sgd':
      return { type: o.type, slots: 0, learningRate: lr, update: (k, p, g, _s, n, t) => k.k.sgd_update(p, g, n, lr(t - 1)) };
    case 'momentum': {
      const mu = num(o.momentum, 0.9, 'momentum', 0, 1);
      const nesterov = o.nesterov ? 1 : 0;
      return {
        type: o.type, slots: 1, learningRate: lr,
        update: (k, p, g, s, n, t) => k.k.momentum_update(p, g, s[0], n, lr(t - 1), mu, nesterov),
      };
    }
    case 'adagrad': {
      const eps = num(o.epsilon, 1e-10, 'epsilon', 0);
      return { type: o.type, slots: 1, learningRate: lr, update: (k, p, g, s, n, t) => k.k.adagrad_update(p, g, s[0], n, lr(t - 1), eps) };
    }
    case 'rmsprop': {
      const rho = num(o.rho, 0.9, 'rho', 0, 1);
      const eps = num(o.epsilon, 1e-7, 'epsilon', 0);
      return { type: o.type, slots: 1, learningRate: lr, update: (k, p, g, s, n, t) => k.k.rmsprop_update(p, g, s[0], n, lr(t - 1), rho, eps) };
    }
    case 'adam': {
      const b1 = num(o.beta1, 0.9, 'beta1', 0, 0.999999);
      const b2 = num(o.beta2, 0.999, 'beta2', 0, 0.999999999);
      const eps = num(o.epsilon, 1e-8, 'epsilon', 0);
      return {
        type: o.type, slots: 2, learningRate: lr,
        update: (k, p, g, s, n, t) => k.k.adam_update(p, g, s[0], s[1], n, lr(t - 1), b1, b2, eps, 1 - b1 ** t, 1 - b2 ** t),
      };
    }
  }
}
