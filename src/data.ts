// Turning what callers pass (typed arrays, nested arrays, class indices) into the flat float32
// rows the kernels read, with every check done before anything touches a model.
import { NeuriteError } from './errors';
import { MAX_CALL_FLOATS } from './limits';

/** Samples: a flat Float32Array (batch inferred), a flat number[] or rows of numbers. */
export type Samples = Float32Array | ArrayLike<number> | ArrayLike<ArrayLike<number>>;
/** Targets: rows/flat floats of the output width, or one class index per sample. */
export type Targets = Samples | Int32Array | Uint8Array | Uint16Array;

function isNested(x: ArrayLike<unknown>): x is ArrayLike<ArrayLike<number>> {
  return x.length > 0 && typeof x[0] === 'object' && x[0] !== null;
}

/**
 * A real array or typed array. Any other object with a `length` (`{ length: 2 ** 32 }`) would
 * have us spin through billions of missing elements before saying anything.
 */
function isArray(x: unknown): x is ArrayLike<unknown> {
  return Array.isArray(x) || (ArrayBuffer.isView(x) && !(x instanceof DataView));
}

/** Flatten rows of `width` floats; `what` names the argument in errors. */
export function toRows(x: Samples, width: number, what: string): Float32Array {
  if (!isArray(x)) {
    throw new NeuriteError('INVALID_ARGUMENT', `${what}: expected a Float32Array, an array of numbers or an array of rows`);
  }
  const floats = isNested(x) ? x.length * width : x.length;
  if (floats > MAX_CALL_FLOATS) {
    throw new NeuriteError('TOO_LARGE', `${what}: ${floats} values; at most ${MAX_CALL_FLOATS} per call`);
  }
  let flat: Float32Array;
  if (isNested(x)) {
    flat = new Float32Array(x.length * width);
    for (let r = 0; r < x.length; r++) {
      const row = x[r];
      if (!isArray(row) || row.length !== width) {
        throw new NeuriteError('SHAPE_MISMATCH', `${what}: row ${r} has ${row?.length ?? 0} values, the model takes ${width}`);
      }
      flat.set(row, r * width);
    }
  } else {
    flat = x instanceof Float32Array ? x : Float32Array.from(x as ArrayLike<number>);
    if (flat.length % width !== 0) {
      throw new NeuriteError('SHAPE_MISMATCH',
        `${what}: ${flat.length} values is not a whole number of samples of ${width} (the model's input size)`);
    }
  }
  return flat;
}

/** Index of the first NaN/±Infinity, or −1. */
export function firstNonFinite(a: ArrayLike<number>): number {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return i;
  return -1;
}

export function assertFinite(a: ArrayLike<number>, width: number, what: string): void {
  const i = firstNonFinite(a);
  if (i >= 0) {
    throw new NeuriteError('NON_FINITE', `${what}: sample ${Math.floor(i / width)} has a non-finite value (${a[i]}) at position ${i % width}`);
  }
}

/**
 * Targets as rows of `width` floats for `batch` samples. When the output is a sequence of
 * `width / classes` steps of `classes` values (classes > 1), one integer per step — flat, or one
 * row of steps per sample — means class indices, expanded to one-hot; for a plain output
 * (classes = width) that is one index per sample.
 */
export function toTargets(y: Targets, batch: number, width: number, what = 'y', classes = width): Float32Array {
  if (!isArray(y)) {
    throw new NeuriteError('INVALID_ARGUMENT', `${what}: expected a typed array or an array of rows`);
  }
  const steps = width / classes;
  let labels: ArrayLike<number> | null = null;
  if (classes > 1 && !isNested(y) && y.length === batch * steps) labels = y as ArrayLike<number>;
  else if (classes > 1 && steps > 1 && isNested(y) && y.length === batch && y[0].length === steps) labels = toRows(y, steps, what);
  if (labels) {
    const out = new Float32Array(batch * width);
    for (let i = 0; i < batch * steps; i++) {
      const c = labels[i];
      if (!Number.isInteger(c) || c < 0 || c >= classes) {
        const at = steps > 1 ? `sample ${Math.floor(i / steps)}, step ${i % steps}` : `label ${i}`;
        throw new NeuriteError('LABEL_OUT_OF_RANGE', `${what}: ${at} is ${c}; class indices must be integers in [0, ${classes - 1}]`);
      }
      out[i * classes + c] = 1;
    }
    return out;
  }
  const rows = toRows(y as Samples, width, what);
  if (rows.length !== batch * width) {
    throw new NeuriteError('SHAPE_MISMATCH', `${what}: ${rows.length / width} target rows for ${batch} samples`);
  }
  assertFinite(rows, width, what);
  return rows;
}
