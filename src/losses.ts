// The table of losses and how each pairs with the last activation.
import { NeuriteError } from './errors';
import { closest } from './options';

/** Every loss by name. */
export type LossName = 'mse' | 'mae' | 'mape' | 'msle' | 'sse' | 'huber' | 'binaryCrossentropy' | 'categoricalCrossentropy';

export interface LossDef {
  readonly name: LossName;
  /** kernel prefix: `<kernel>_forward` returns the batch-mean loss, `<kernel>_backward` adds dL/dp */
  readonly kernel: string;
  /** when the model ends in this activation, a fused kernel from the logits replaces both */
  readonly fused?: { activation: string; kernel: string };
  /** classification losses report accuracy */
  readonly classification: boolean;
}

export const LOSSES: ReadonlyMap<string, LossDef> = new Map(([
  { name: 'mse', kernel: 'mse', classification: false },
  { name: 'mae', kernel: 'mae', classification: false },
  { name: 'mape', kernel: 'mape', classification: false },
  { name: 'msle', kernel: 'msle', classification: false },
  { name: 'sse', kernel: 'sse', classification: false },
  { name: 'huber', kernel: 'huber', classification: false },
  {
    name: 'binaryCrossentropy', kernel: 'binary_crossentropy', classification: true,
    fused: { activation: 'sigmoid', kernel: 'sigmoid_binary_crossentropy' },
  },
  {
    name: 'categoricalCrossentropy', kernel: 'categorical_crossentropy', classification: true,
    fused: { activation: 'softmax', kernel: 'softmax_crossentropy' },
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
