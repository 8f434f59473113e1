// The table of activations: which kernel pair each name calls and its default parameter.
import { NeuriteError } from './errors';

export interface ActivationDef {
  /** name as written in a topology */
  readonly name: string;
  /** kernel prefix in the wasm ABI: `<kernel>_forward`, `<kernel>_backward` */
  readonly kernel: string;
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

export const ACTIVATIONS: ReadonlyMap<string, ActivationDef> = new Map(([
  { name: 'linear', kernel: 'linear', differentiable: true, init: 'glorot' },
  { name: 'step', kernel: 'step', differentiable: false, init: 'glorot' },
  { name: 'sigmoid', kernel: 'sigmoid', differentiable: true, init: 'glorot' },
  { name: 'tanh', kernel: 'tanh', differentiable: true, init: 'glorot' },
  { name: 'relu', kernel: 'relu', differentiable: true, init: 'he' },
  { name: 'leakyRelu', kernel: 'leaky_relu', differentiable: true, defaultAlpha: 0.01, init: 'he' },
  { name: 'prelu', kernel: 'prelu', differentiable: true, defaultAlpha: 0.25, learned: true, init: 'he' },
  { name: 'elu', kernel: 'elu', differentiable: true, defaultAlpha: 1, init: 'he' },
  { name: 'swish', kernel: 'swish', differentiable: true, defaultAlpha: 1, init: 'he' },
  { name: 'gelu', kernel: 'gelu', differentiable: true, init: 'he' },
  { name: 'softmax', kernel: 'softmax', differentiable: true, rowwise: true, init: 'glorot' },
] as ActivationDef[]).map((a) => [a.name, a]));

export function activation(name: unknown, where: string): ActivationDef {
  const def = typeof name === 'string' ? ACTIVATIONS.get(name) : undefined;
  if (!def) {
    throw new NeuriteError('UNKNOWN_NAME',
      `${where}: unknown activation ${JSON.stringify(name)} (known: ${[...ACTIVATIONS.keys()].join(', ')})`);
  }
  return def;
}
