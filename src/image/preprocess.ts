// Turns an arbitrary grayscale image of one digit into a 28x28 MNIST input.
//
// MNIST was made like this (LeCun et al.): each bilevel NIST digit was scaled,
// keeping its aspect ratio, so its longer side fills a 20x20 box, with
// anti-aliasing producing grey edges; then it was placed in a 28x28 field so
// that its centre of mass sits at the centre. Measured on the t10k set, the
// centre of mass in pixel-index coordinates is within 0.5 px of (14, 14) in
// every image (never more), i.e. MNIST translated by whole pixels. We do the
// same, so a real MNIST digit passes through unchanged.
//
// Pure and allocation-light so a web page can run it on every canvas stroke.

import { NeuriteError } from '../errors';
import type { GrayImage } from './png';

export interface MnistOptions {
  /**
   * 'auto' (default): invert when the border is on average brighter than 0.5,
   * i.e. dark ink on light paper. true: always invert. false: never (the image
   * is already white-on-black like MNIST).
   */
  invert?: boolean | 'auto';
}

const FIELD = 28;
const BOX = 20;
const TARGET = 14; // MNIST's centre of mass, in pixel-index coordinates
// After levelling, pixels above this count as ink for the bounding box. Low
// enough to keep anti-aliased edges (MNIST's own box includes them: 9996 of
// 10000 test digits still span exactly 20 px at this threshold), high enough
// to ignore paper texture and JPEG-ish noise.
const INK_THRESHOLD = 0.1;
// Below this contrast between the darkest ink and the background there is no
// digit, just paper; return an empty field rather than amplify noise.
const MIN_CONTRAST = 0.1;

function checkImage(img: GrayImage): void {
  const { width, height, data } = img ?? ({} as GrayImage);
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new NeuriteError('INVALID_ARGUMENT', `image dimensions must be positive integers, got ${width}x${height}`);
  }
  if (!(data instanceof Float32Array) || data.length !== width * height) {
    throw new NeuriteError('INVALID_ARGUMENT', `image data must be a Float32Array of ${width}*${height} values`);
  }
}

function clamp01(v: number): number {
  return v > 0 ? (v < 1 ? v : 1) : 0; // NaN lands on 0
}

/** Border pixels in a fixed order (each once). */
function borderValues(data: Float32Array, w: number, h: number): Float32Array {
  if (w <= 2 || h <= 2) return data.slice();
  const out = new Float32Array(2 * w + 2 * (h - 2));
  let n = 0;
  for (let x = 0; x < w; x++) {
    out[n++] = data[x];
    out[n++] = data[(h - 1) * w + x];
  }
  for (let y = 1; y < h - 1; y++) {
    out[n++] = data[y * w];
    out[n++] = data[y * w + w - 1];
  }
  return out;
}

/**
 * Centre of mass in pixel-index coordinates (pixel (i, j) is at x = i, y = j,
 * as in scipy.ndimage). An empty image returns its geometric centre.
 */
export function centerOfMass(data: Float32Array, width: number, height: number): [x: number, y: number] {
  let total = 0, sx = 0, sy = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const v = data[y * width + x];
      total += v;
      sx += v * x;
      sy += v * y;
    }
  }
  if (!(total > 0)) return [(width - 1) / 2, (height - 1) / 2];
  return [sx / total, sy / total];
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

/**
 * Returns 784 values in [0, 1]: the digit white (1) on black (0), its longer
 * side scaled to 20 px, its centre of mass moved (by whole pixels, like MNIST)
 * to (14, 14). An image with no visible ink returns all zeros.
 */
export function toMnist(img: GrayImage, opts?: MnistOptions): Float32Array {
  checkImage(img);
  const invertOpt = opts?.invert ?? 'auto';
  if (invertOpt !== 'auto' && typeof invertOpt !== 'boolean') {
    throw new NeuriteError('INVALID_ARGUMENT', `invert must be true, false or 'auto', got ${String(invertOpt)}`);
  }
  const { width: w, height: h } = img;
  const out = new Float32Array(FIELD * FIELD);

  // (a) Polarity: MNIST is white ink on black.
  const border = borderValues(img.data, w, h).map(clamp01);
  const invert = invertOpt === 'auto' ? border.reduce((a, b) => a + b, 0) / border.length > 0.5 : invertOpt;
  const ink = new Float32Array(w * h);
  let peak = 0;
  for (let i = 0; i < ink.length; i++) {
    const v = clamp01(img.data[i]);
    ink[i] = invert ? 1 - v : v;
    if (ink[i] > peak) peak = ink[i];
  }

  // Levelling: grey paper (a photo, a scan) becomes 0 and the strongest ink 1,
  // as in MNIST where the background is exactly 0 and strokes reach 1. The
  // median of the border is the paper level, robust to ink touching the edge.
  const paper = (invert ? border.map((v) => 1 - v) : border).sort()[border.length >> 1];
  if (peak - paper < MIN_CONTRAST) return out;
  const gain = 1 / (peak - paper);
  for (let i = 0; i < ink.length; i++) ink[i] = clamp01((ink[i] - paper) * gain);

  // (b) Bounding box of the ink.
  let x0 = w, y0 = h, x1 = -1, y1 = -1;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if (ink[y * w + x] > INK_THRESHOLD) {
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        if (y > y1) y1 = y;
      }
    }
  }
  if (x1 < 0) return out;
  const cw = x1 - x0 + 1, ch = y1 - y0 + 1;
  const crop = new Float32Array(cw * ch);
  for (let y = 0; y < ch; y++) crop.set(ink.subarray((y0 + y) * w + x0, (y0 + y) * w + x1 + 1), y * cw);

  // (c) Longer side to 20 px, aspect ratio kept.
  const sw = cw >= ch ? BOX : Math.max(1, Math.round((BOX * cw) / ch));
  const sh = ch >= cw ? BOX : Math.max(1, Math.round((BOX * ch) / cw));
  const small = resizeArea({ width: cw, height: ch, data: crop }, sw, sh);

  // (d) Whole-pixel shift putting the centre of mass at (14, 14); whatever
  // falls outside the field (only for very lopsided shapes) is dropped.
  const [cx, cy] = centerOfMass(small.data, sw, sh);
  const ox = Math.round(TARGET - cx), oy = Math.round(TARGET - cy);
  for (let y = 0; y < sh; y++) {
    const fy = y + oy;
    if (fy < 0 || fy >= FIELD) continue;
    for (let x = 0; x < sw; x++) {
      const fx = x + ox;
      if (fx >= 0 && fx < FIELD) out[fy * FIELD + fx] = clamp01(small.data[y * sw + x]);
    }
  }
  return out;
}
