// What a built topology will cost, checked against the caps before the model allocates or
// initialises anything: parameters, floats per sample of an inference pass, and operations per
// sample. Layers only describe shapes at this point, so these checks are cheap and exact.
import { NeuriteError } from './errors';
import { pair } from './layers/geometry';
import { floatsOf, type Layer } from './layers/layer';
import type { Pool2dConfig } from './layers/pool2d';
import { Recurrent } from './layers/recurrent';
import { Residual } from './layers/residual';
import { MAX_ACTIVATION_FLOATS, MAX_OPERATIONS, MAX_PARAMETERS } from './limits';

export interface Cost {
  parameters: number;
  /** floats one sample needs in an inference pass (input, outputs, the largest scratch) */
  activationFloats: number;
  /** multiply-adds, or window reads for pooling, of one sample's forward pass */
  operations: number;
}

/** Operations of one layer by itself (a residual block's parts are counted as layers). */
function operationsOf(l: Layer): number {
  const out = floatsOf(l.outputShape);
  if (l.type === 'maxPool2d' || l.type === 'avgPool2d') {
    const [kh, kw] = pair((l.config() as Pool2dConfig).poolSize, 'poolSize', l.name);
    return out * kh * kw;
  }
  // a weight is used once per output position: once per step for dense and recurrent layers,
  // oh·ow times for a convolution
  const positions = l instanceof Recurrent ? l.steps
    : l.type === 'dense' ? out / l.outputShape[l.outputShape.length - 1]
      : out / Math.max(1, l.outputShape[0]);
  if (l.type === 'embedding') return out; // a gather: no weight is used more than once
  const weights = l instanceof Residual ? 0 : l.params.reduce((n, p) => n + p.size, 0);
  return weights * positions + out;
}

/** The cost of a model with these top-level layers on inputs of `inputSize` floats. */
export function costOf(layers: readonly Layer[], inputSize: number): Cost {
  let parameters = 0;
  let activationFloats = inputSize;
  let workspace = 0;
  for (const l of layers) {
    for (const p of l.params) parameters += p.size;
    activationFloats += l.forwardFloats;
    if (l.workspaceFloats > workspace) workspace = l.workspaceFloats;
  }
  activationFloats += workspace;
  let operations = 0;
  const stack: Layer[] = [...layers];
  while (stack.length > 0) {
    const l = stack.pop()!;
    operations += operationsOf(l);
    if (l instanceof Residual) {
      stack.push(...l.inner);
      if (l.shortcut) stack.push(l.shortcut);
    }
  }
  return { parameters, activationFloats, operations };
}

/** Refuse a model past any cap with TOO_LARGE, naming the cap. */
export function checkCost(layers: readonly Layer[], inputSize: number): Cost {
  const c = costOf(layers, inputSize);
  const over = (what: string, have: number, cap: number) => new NeuriteError('TOO_LARGE',
    `the model would have ${have.toExponential(3)} ${what}; the bound is ${cap}`);
  if (!(c.parameters <= MAX_PARAMETERS)) throw over('parameters', c.parameters, MAX_PARAMETERS);
  if (!(c.activationFloats <= MAX_ACTIVATION_FLOATS)) throw over('activation floats per sample', c.activationFloats, MAX_ACTIVATION_FLOATS);
  if (!(c.operations <= MAX_OPERATIONS)) throw over('operations per sample', c.operations, MAX_OPERATIONS);
  return c;
}
