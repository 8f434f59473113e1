// Window geometry shared by convolution and pooling: sizes, strides, padding modes, output size.
import { NeuriteError } from '../errors';

export type Padding = 'valid' | 'same' | 'full' | number | [number, number];

/** A positive integer or a pair of them, as [height, width]. */
export function pair(v: unknown, what: string, where: string, min = 1): [number, number] {
  const p = typeof v === 'number' ? [v, v] : v;
  if (!Array.isArray(p) || p.length !== 2 || !p.every((n) => Number.isSafeInteger(n) && n >= min && n <= 1 << 16)) {
    throw new NeuriteError('INVALID_ARGUMENT', `${where}: ${what} must be an integer ≥ ${min} or a pair of them, got ${JSON.stringify(v)}`);
  }
  return p as [number, number];
}

/**
 * A hint for errors when a per-sample shape looks channels-last ([H, W, C] with C of 1, 3 or 4 and
 * H, W larger), the TensorFlow habit: neurite is channels-first (NCHW, as PyTorch).
 */
export function channelsFirstHint(shape: readonly number[]): string {
  const [h, w, c] = shape;
  if (shape.length !== 3 || ![1, 3, 4].includes(c) || h <= c || w <= c) return '';
  return ` (inputShape [${shape.join(', ')}] looks like [height, width, channels]; neurite is channels-first (NCHW): use [${c}, ${h}, ${w}])`;
}

/** Per-sample [C, H, W]; a [H, W] image is one channel. */
export function chw(shape: readonly number[], where: string): [number, number, number] {
  if (shape.length === 3) return shape as unknown as [number, number, number];
  if (shape.length === 2) return [1, shape[0], shape[1]];
  throw new NeuriteError('SHAPE_MISMATCH', `${where}: expects [channels, height, width] or [height, width], got [${shape.join(', ')}]`);
}

/**
 * Padding before the first window and the output length along one axis, for input length n,
 * effective kernel k (dilation included) and stride s. valid → ⌊(n−k)/s⌋+1, same → ⌈n/s⌉,
 * full → n+k−1 at stride 1.
 */
export function axis(mode: 'valid' | 'same' | 'full' | number, n: number, k: number, s: number, where: string): [number, number] {
  let before: number;
  let after: number;
  if (mode === 'valid') [before, after] = [0, 0];
  else if (mode === 'full') [before, after] = [k - 1, k - 1];
  else if (mode === 'same') {
    const total = Math.max((Math.ceil(n / s) - 1) * s + k - n, 0);
    before = Math.floor(total / 2);
    after = total - before;
  } else [before, after] = [mode, mode];
  const out = Math.floor((n + before + after - k) / s) + 1;
  if (!(out >= 1)) {
    throw new NeuriteError('INVALID_ARGUMENT',
      `${where}: the window (${k}) is larger than the padded input (${n + before + after}); use smaller kernels, more padding or a larger input`);
  }
  return [before, out];
}

export function paddingModes(p: unknown, where: string, allowFull: boolean): [Padding, Padding] {
  if (p === 'valid' || p === 'same' || (p === 'full' && allowFull)) return [p, p];
  if (typeof p === 'number' || Array.isArray(p)) {
    const [a, b] = pair(p, 'padding', where, 0);
    return [a, b];
  }
  throw new NeuriteError('INVALID_ARGUMENT',
    `${where}: padding must be 'valid', 'same'${allowFull ? ", 'full'" : ''} or a number of cells, got ${JSON.stringify(p)}`);
}

/** A pooling window's geometry as the kernels take it: h, w, kh, kw, sh, sw, pt, pl, oh, ow. */
export type PoolGeometry = [number, number, number, number, number, number, number, number, number, number];
/** A convolution's geometry as the kernels take it: c, h, w, out, kh, kw, sh, sw, pt, pl, dh, dw, oh, ow. */
export type ConvGeometry = [number, number, number, number, number, number, number, number, number, number, number, number, number, number];
