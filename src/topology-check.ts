// The first look at a topology, before any layer is built: its size and its shape as data.
// Everything after this (building layers, their names, their error messages) recurses or
// stringifies, so it must only ever see a topology already known to be bounded. Both walks here
// are iterative and linear, so a 1,000-deep or 200,000-layer file cannot overflow the stack.
import { NeuriteError } from './errors';
import {
  MAX_LAYERS, MAX_NESTING, MAX_RANK, MAX_TOPOLOGY_DEPTH, MAX_TOPOLOGY_VALUES,
} from './limits';

function tooLarge(message: string): NeuriteError {
  return new NeuriteError('TOO_LARGE', `topology: ${message}`);
}

/**
 * Every value reachable from `root`, counted and measured in depth without recursion. A cycle
 * (possible from code, not from JSON) shows up as unbounded depth and is refused the same way.
 */
function checkValues(root: unknown): void {
  const stack: Array<[unknown, number]> = [[root, 0]];
  let values = 0;
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (++values > MAX_TOPOLOGY_VALUES) throw tooLarge(`more than ${MAX_TOPOLOGY_VALUES} values`);
    if (typeof v !== 'object' || v === null) continue;
    if (depth >= MAX_TOPOLOGY_DEPTH) throw tooLarge(`values nested more than ${MAX_TOPOLOGY_DEPTH} deep`);
    const children = Array.isArray(v) ? v : Object.values(v);
    for (const c of children) stack.push([c, depth + 1]);
  }
}

/** Layers counted and residual nesting measured, inner blocks included, without recursion. */
function checkLayers(layers: readonly unknown[]): void {
  const stack: Array<[readonly unknown[], number]> = [[layers, 0]];
  let count = 0;
  while (stack.length > 0) {
    const [list, nesting] = stack.pop()!;
    count += list.length;
    if (count > MAX_LAYERS) throw tooLarge(`more than ${MAX_LAYERS} layers (residual blocks' inner layers included)`);
    for (const cfg of list) {
      if (typeof cfg !== 'object' || cfg === null) continue; // createLayer names the bad entry
      const { type, layers: inner, targetShape } = cfg as Record<string, unknown>;
      if (Array.isArray(targetShape) && targetShape.length > MAX_RANK) {
        throw tooLarge(`a targetShape has ${targetShape.length} entries; at most ${MAX_RANK}`);
      }
      if (type !== 'residual' || !Array.isArray(inner)) continue;
      if (nesting + 1 > MAX_NESTING) throw tooLarge(`residual blocks nested more than ${MAX_NESTING} deep`);
      stack.push([inner, nesting + 1]);
    }
  }
}

/**
 * Refuse a topology whose size alone is out of bounds: too many values or layers, too deep, a
 * shape of too many dimensions. Types and values of each field are the layers' own business.
 */
export function checkTopology(inputShape: unknown, layers: unknown): void {
  // layers first, for the message that names the cause (nesting) rather than its symptom (depth)
  if (Array.isArray(layers)) checkLayers(layers);
  checkValues([inputShape, layers]);
  if (Array.isArray(inputShape) && inputShape.length > MAX_RANK) {
    throw tooLarge(`inputShape has ${inputShape.length} entries; at most ${MAX_RANK}`);
  }
}
