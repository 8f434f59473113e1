// Options objects are checked against the keys they may hold: a misspelt or unsupported option
// is an error naming the key and the closest valid one, never silently ignored.
import { NeuriteError } from './errors';

/** Levenshtein distance, bounded inputs (option names are short). */
function distance(a: string, b: string): number {
  const x = a.toLowerCase().slice(0, 64);
  const y = b.toLowerCase().slice(0, 64);
  let prev = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    const cur = [i];
    for (let j = 1; j <= y.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x[i - 1] === y[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[y.length];
}

/** The candidate closest to `name`, if it is plausibly what was meant. */
export function closest(name: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = distance(name, c);
    if (d < bestD) { best = c; bestD = d; }
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(best.length / 3)) ? best : undefined;
}

const shown = (k: string) => JSON.stringify(k.length > 60 ? `${k.slice(0, 60)}…` : k);

/**
 * Throws INVALID_ARGUMENT for the first key of `options` that is not in `allowed`:
 * "fit: unknown option "epoch" (did you mean "epochs"?; known: …)".
 */
export function checkKeys(options: object, allowed: readonly string[], where: string): void {
  for (const key of Object.keys(options)) {
    if (allowed.includes(key)) continue;
    const near = closest(key, allowed);
    throw new NeuriteError('INVALID_ARGUMENT',
      `${where}: unknown option ${shown(key)}${near ? ` (did you mean ${JSON.stringify(near)}?)` : ''}; known: ${allowed.join(', ')}`);
  }
}

/** checkKeys for an optional options argument that must be a plain object when given. */
export function checkOptions(options: unknown, allowed: readonly string[], where: string): void {
  if (options === undefined) return;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new NeuriteError('INVALID_ARGUMENT', `${where}: options must be an object`);
  }
  checkKeys(options, allowed, where);
}
