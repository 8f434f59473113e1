// The table of losses and how each pairs with the last activation.
import { NeuriteError } from './errors';
import type { KernelExports } from './wasm';
import { closest } from './options';

/** Every loss by name. */
export type LossName = 'mse' | 'mae' | 'mape' | 'msle' | 'sse' | 'huber' | 'binaryCrossentropy' | 'categoricalCrossentropy';

export interface LossKernels {
  forward(p: number, t: number, rows: number, cols: number): number;
  backward(dp: number, p: number, t: number, rows: number, cols: number): void;
}

export interface LossDef {
  readonly name: LossName;
  /** forward(p, t, rows, cols) returns the mean loss; backward(dp, p, t, rows, cols) adds dL/dp */
  readonly kernels: (k: KernelExports) => LossKernels;
  /** when the model ends in this activation, a fused pair from the logits replaces both */
  readonly fused?: { activation: string; kernels: (k: KernelExports) => LossKernels };
  /** classification losses report accuracy */
  readonly classification: boolean;
}

export const LOSSES: ReadonlyMap<string, LossDef> = new Map(([
  { name: 'mse', kernels: (k) => ({ forward: k.mse_forward, backward: k.mse_backward }), classification: false },
  { name: 'mae', kernels: (k) => ({ forward: k.mae_forward, backward: k.mae_backward }), classification: false },
  { name: 'mape', kernels: (k) => ({ forward: k.mape_forward, backward: k.mape_backward }), classification: false },
  { name: 'msle', kernels: (k) => ({ forward: k.msle_forward, backward: k.msle_backward }), classification: false },
  { name: 'sse', kernels: (k) => ({ forward: k.sse_forward, backward: k.sse_backward }), classification: false },
  { name: 'huber', kernels: (k) => ({ forward: k.huber_forward, backward: k.huber_backward }), classification: false },
  {
    name: 'binaryCrossentropy', kernels: (k) => ({ forward: k.binary_crossentropy_forward, backward: k.binary_crossentropy_backward }), classification: true,
    fused: { activation: 'sigmoid', kernels: (k) => ({ forward: k.sigmoid_binary_crossentropy_forward, backward: k.sigmoid_binary_crossentropy_backward }) },
  },
  {
    name: 'categoricalCrossentropy', kernels: (k) => ({ forward: k.categorical_crossentropy_forward, backward: k.categorical_crossentropy_backward }), classification: true,
    fused: { activation: 'softmax', kernels: (k) => ({ forward: k.softmax_crossentropy_forward, backward: k.softmax_crossentropy_backward }) },
  },
] as LossDef[]).map((l) => [l.name, l]));

export function loss(name: unknown): LossDef {
  const def = typeof name === 'string' ? LOSSES.get(name) : undefined;
  if (!def) {
    const near = typeof name === 'string' ? closest(name, [...LOSSES.keys()]) : undefined;
    throw new NeuriteError('UNKNOWN_NAME', `unknown loss ${JSON.stringify(name)}${near ? ` (did you mean ${JSON.stringify(near)}?)` : ''}; known: ${[...LOSSES.keys()].join(', ')}`);
  }
  return def;
}
