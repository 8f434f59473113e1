// The table of activations: which kernel pair each name calls and its default parameter.
import { NeuriteError } from './errors';
import type { KernelExports, Kernels } from './wasm';
import { closest } from './options';

/** Every activation by name. */
export type ActivationName =
  | 'linear' | 'step' | 'sigmoid' | 'tanh' | 'relu' | 'leakyRelu' | 'prelu' | 'elu' | 'swish' | 'gelu' | 'softmax';

export interface ActivationDef {
  /** name as written in a topology */
  readonly name: ActivationName;
  /** the element-wise kernels (absent for linear, and for softmax and PReLU, which have their own) */
  readonly forward?: (k: KernelExports) => ElementwiseForward;
  readonly backward?: (k: KernelExports) => ElementwiseBackward;
  /** whether it has a backward (step does not) */
  readonly differentiable: boolean;
  /** the activation's own parameter (leaky slope, ELU alpha, swish beta), if it has one */
  readonly defaultAlpha?: number;
  /** row-wise over the output units rather than element-wise */
  readonly rowwise?: boolean;
  /** learned per-unit parameter (PReLU) */
  readonly learned?: boolean;
  /** initializer family for the layer feeding it */
  readonly init: 'glorot' | 'he';
}

type ElementwiseForward = (y: number, x: number, n: number, alpha: number) => void;
type ElementwiseBackward = (dx: number, dy: number, x: number, y: number, n: number, alpha: number) => void;

// Element-wise kernels, as references into an instance's exports: a misspelt kernel is a compile
// error. linear needs no call; softmax and PReLU have their own (row-wise, per-unit) kernels.
export const ACTIVATIONS: ReadonlyMap<string, ActivationDef> = new Map(([
  { name: 'linear', differentiable: true, init: 'glorot' },
  { name: 'step', forward: (k) => k.step_forward, differentiable: false, init: 'glorot' },
  { name: 'sigmoid', forward: (k) => k.sigmoid_forward, backward: (k) => k.sigmoid_backward, differentiable: true, init: 'glorot' },
  { name: 'tanh', forward: (k) => k.tanh_forward, backward: (k) => k.tanh_backward, differentiable: true, init: 'glorot' },
  { name: 'relu', forward: (k) => k.relu_forward, backward: (k) => k.relu_backward, differentiable: true, init: 'he' },
  { name: 'leakyRelu', forward: (k) => k.leaky_relu_forward, backward: (k) => k.leaky_relu_backward, differentiable: true, defaultAlpha: 0.01, init: 'he' },
  { name: 'prelu', differentiable: true, defaultAlpha: 0.25, learned: true, init: 'he' },
  { name: 'elu', forward: (k) => k.elu_forward, backward: (k) => k.elu_backward, differentiable: true, defaultAlpha: 1, init: 'he' },
  { name: 'swish', forward: (k) => k.swish_forward, backward: (k) => k.swish_backward, differentiable: true, defaultAlpha: 1, init: 'he' },
  { name: 'gelu', forward: (k) => k.gelu_forward, backward: (k) => k.gelu_backward, differentiable: true, init: 'he' },
  { name: 'softmax', differentiable: true, rowwise: true, init: 'glorot' },
] as ActivationDef[]).map((a) => [a.name, a]));

/** The activation and its parameter from a layer config `{ activation?, alpha? }`. */
export function activationOf(cfg: { activation?: unknown; alpha?: unknown }, where: string): [ActivationDef, number] {
  const def = activation(cfg.activation ?? 'linear', where);
  const a = cfg.alpha ?? def.defaultAlpha ?? 0;
  if (typeof a !== 'number' || !Number.isFinite(a)) throw new NeuriteError('INVALID_ARGUMENT', `${where}: alpha must be a finite number`);
  return [def, a];
}

export function activation(name: unknown, where: string): ActivationDef {
  const def = typeof name === 'string' ? ACTIVATIONS.get(name) : undefined;
  if (!def) {
    const near = typeof name === 'string' ? closest(name, [...ACTIVATIONS.keys()]) : undefined;
    throw new NeuriteError('UNKNOWN_NAME',
      `${where}: unknown activation ${JSON.stringify(name)}${near ? ` (did you mean ${JSON.stringify(near)}?)` : ''}; known: ${[...ACTIVATIONS.keys()].join(', ')}`);
  }
  return def;
}

/**
 * y = f(x) for `rows` samples of `cols` values. `learned` is the PReLU slope block (one per
 * column). Linear layers alias y and x and call nothing.
 */
export function activationForward(k: Kernels, def: ActivationDef, alpha: number, y: number, x: number,
  rows: number, cols: number, learned = 0): void {
  if (def.name === 'linear') return;
  if (def.learned) k.k.prelu_forward(y, x, learned, rows, cols);
  else if (def.rowwise) k.k.softmax_forward(y, x, rows, cols);
  else def.forward!(k.k)(y, x, rows * cols, alpha);
}

/** dx += f'(x)·dy; `dlearned` receives the PReLU slopes' gradient. */
export function activationBackward(k: Kernels, def: ActivationDef, alpha: number, dx: number, dy: number,
  x: number, y: number, rows: number, cols: number, where: string, learned = 0, dlearned = 0): void {
  if (def.name === 'linear') return;
  if (!def.differentiable) {
    throw new NeuriteError('UNSUPPORTED', `${where}: the ${def.name} activation has no gradient; it cannot be trained by back-propagation (use the perceptron rule, or a differentiable activation)`);
  }
  if (def.learned) k.k.prelu_backward(dx, dlearned, dy, x, learned, rows, cols);
  else if (def.rowwise) k.k.softmax_backward(dx, dy, y, rows, cols);
  else def.backward!(k.k)(dx, dy, x, y, rows * cols, alpha);
}
