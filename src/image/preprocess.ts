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
// Before framing, ink.ts finds the ink in the picture (paper, lighting, ruled lines and specks
// left out) and says when there is no digit. Pure, and fast enough (a few ms for a 224x224
// canvas) for a web page to run it on every pen stroke.

import { NeuriteError } from '../errors';
import { findInk, type InkMap, type NoDigitReason } from './ink';
import type { GrayImage } from './png';
import { checkImage, resizeArea } from './resize';

export { resizeArea } from './resize';

export interface MnistOptions {
  /**
   * 'auto' (default): tell dark-on-light from light-on-dark by which side of the paper's level
   * the ink lies on. true: the ink is dark (invert it). false: the ink is light (MNIST's
   * polarity). Ignored when the image's alpha says what the ink is (see ink.ts).
   */
  invert?: boolean | 'auto';
}

/** What findDigit makes of an image. */
export interface DigitResult {
  /** 784 values in [0, 1], white digit on black, MNIST-framed; all zeros when `reason` is set */
  pixels: Float32Array;
  /** null when a digit was found, else why not: 'no ink', 'too little ink' or 'too much ink' */
  reason: NoDigitReason | null;
  /** how the ink was told from the paper: 'dark-on-light', 'light-on-dark' or 'alpha' */
  polarity: InkMap['polarity'];
}

const FIELD = 28;
const BOX = 20;
const TARGET = 14; // MNIST's centre of mass, in pixel-index coordinates
// Levelled ink above this counts for the bounding box. Low enough to keep anti-aliased edges
// (MNIST's own box includes them: 9996 of 10000 test digits still span exactly 20 px at this
// threshold), high enough to leave out what levelling left of the paper.
const INK_THRESHOLD = 0.1;

function clamp01(v: number): number {
  return v > 0 ? (v < 1 ? v : 1) : 0; // NaN lands on 0
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

/**
 * The digit in an image, the MNIST way: its ink found (paper, lighting, lines and specks left
 * out; see ink.ts for what that assumes), white (1) on black (0), the longer side scaled to
 * 20 px, the centre of mass moved by whole pixels to (14, 14). When there is no digit — no ink,
 * too little (a speck, a dot) or too much (a page of text) — `reason` says so and the pixels are
 * all zeros. Throws INVALID_ARGUMENT for a malformed image only.
 */
export function findDigit(img: GrayImage, opts?: MnistOptions): DigitResult {
  checkImage(img);
  const invert = opts?.invert ?? 'auto';
  if (invert !== 'auto' && typeof invert !== 'boolean') {
    throw new NeuriteError('INVALID_ARGUMENT', `invert must be true, false or 'auto', got ${String(invert)}`);
  }
  const found = findInk(img, invert);
  const pixels = found.reason ? new Float32Array(FIELD * FIELD) : frame(found.ink, found.width, found.height);
  return { pixels, reason: found.reason, polarity: found.polarity };
}

/**
 * 784 values in [0, 1] for `model.predict`: findDigit's pixels. When there is no digit it throws
 * NeuriteError('NO_DIGIT') saying why ("no digit found: too little ink"), so a blank image is
 * never answered with a guess.
 */
export function toMnist(img: GrayImage, opts?: MnistOptions): Float32Array {
  const { pixels, reason } = findDigit(img, opts);
  if (reason) throw new NeuriteError('NO_DIGIT', `no digit found: ${reason}`);
  return pixels;
}

/** Crop levelled ink to its box, scale the longer side to 20 px, centre by mass in 28x28. */
function frame(ink: Float32Array, w: number, h: number): Float32Array {
  const out = new Float32Array(FIELD * FIELD);
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
