// Resampling a grayscale image, and the shape check every image helper starts with.

import { NeuriteError } from '../errors';
import type { GrayImage } from './png';

// Target sizes are bounded before anything is allocated: a resize to 2^31 x 1 must fail with a
// NeuriteError, not take the process down. The intermediate (target width x source height) and
// the result are both held in memory.
const MAX_RESIZE_PIXELS = 2 ** 26;

/** Throws INVALID_ARGUMENT unless img is { width, height, data: Float32Array(width*height), alpha? }. */
export function checkImage(img: GrayImage): void {
  const { width, height, data } = img ?? ({} as GrayImage);
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new NeuriteError('INVALID_ARGUMENT', `image dimensions must be positive integers, got ${width}x${height}`);
  }
  if (!(data instanceof Float32Array) || data.length !== width * height) {
    throw new NeuriteError('INVALID_ARGUMENT', `image data must be a Float32Array of ${width}*${height} values`);
  }
  const { alpha } = img;
  if (alpha !== undefined && (!(alpha instanceof Float32Array) || alpha.length !== width * height)) {
    throw new NeuriteError('INVALID_ARGUMENT', `image alpha, when given, must be a Float32Array of ${width}*${height} values`);
  }
}

interface Taps {
  offsets: Int32Array; // taps of output i are [offsets[i], offsets[i + 1])
  index: Int32Array;
  weight: Float64Array; // doubles, so weights of a constant area sum to exactly 1 after rounding
}

/**
 * Resampling weights along one axis. Shrinking averages the exact area each
 * output pixel covers (a box filter: no aliasing, thin strokes turn grey
 * instead of vanishing); enlarging interpolates linearly between pixel centres.
 */
function axisTaps(srcLen: number, dstLen: number): Taps {
  const scale = srcLen / dstLen;
  const offsets = new Int32Array(dstLen + 1);
  const index: number[] = [];
  const weight: number[] = [];
  for (let i = 0; i < dstLen; i++) {
    offsets[i] = index.length;
    if (dstLen < srcLen) {
      const lo = i * scale, hi = (i + 1) * scale;
      for (let s = Math.floor(lo); s < Math.min(srcLen, Math.ceil(hi)); s++) {
        const overlap = Math.min(hi, s + 1) - Math.max(lo, s);
        if (overlap > 0) {
          index.push(s);
          weight.push(overlap / scale);
        }
      }
    } else {
      const pos = Math.min(srcLen - 1, Math.max(0, (i + 0.5) * scale - 0.5));
      const s = Math.floor(pos), f = pos - s;
      index.push(s);
      weight.push(1 - f);
      if (f > 0) {
        index.push(s + 1);
        weight.push(f);
      }
    }
  }
  offsets[dstLen] = index.length;
  return { offsets, index: Int32Array.from(index), weight: Float64Array.from(weight) };
}

/**
 * Resizes with area averaging when shrinking and bilinear interpolation when
 * enlarging (chosen per axis). Separable, so cost is O(pixels), not O(pixels * scale^2).
 */
export function resizeArea(src: GrayImage, width: number, height: number): GrayImage {
  checkImage(src);
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new NeuriteError('INVALID_ARGUMENT', `target size must be positive integers, got ${width}x${height}`);
  }
  const sw = src.width, sh = src.height;
  if (width * height > MAX_RESIZE_PIXELS || width * sh > MAX_RESIZE_PIXELS || sw * height > MAX_RESIZE_PIXELS) {
    throw new NeuriteError('TOO_LARGE', `resizing ${sw}x${sh} to ${width}x${height} needs more than ${MAX_RESIZE_PIXELS} pixels`);
  }
  const tx = axisTaps(sw, width);
  const ty = axisTaps(sh, height);
  const tmp = new Float64Array(width * sh); // horizontal pass, kept in double precision
  for (let y = 0; y < sh; y++) {
    for (let x = 0; x < width; x++) {
      let acc = 0;
      for (let t = tx.offsets[x]; t < tx.offsets[x + 1]; t++) acc += tx.weight[t] * src.data[y * sw + tx.index[t]];
      tmp[y * width + x] = acc;
    }
  }
  const out = new Float32Array(width * height); // vertical pass
  const acc = new Float64Array(width); // summing in float32 would turn a solid 1 into 0.99999988
  for (let y = 0; y < height; y++) {
    acc.fill(0);
    for (let t = ty.offsets[y]; t < ty.offsets[y + 1]; t++) {
      const w = ty.weight[t], row = ty.index[t] * width;
      for (let x = 0; x < width; x++) acc[x] += w * tmp[row + x];
    }
    out.set(acc, y * width);
  }
  return { width, height, data: out };
}

