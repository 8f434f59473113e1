// Finding the ink of one digit in a picture: a drawing, a scan or a phone photo of paper.
//
// What it assumes, in order of the steps:
// 1. Transparency: when the image has an alpha channel and its border is mostly transparent, the
//    ink is whatever is opaque, whatever its colour (white ink on a transparent PNG included).
// 2. The picture is brought to at most WORK px on its longer side (area averaging): a digit that
//    fills less than about a tenth of a large photo loses detail there.
// 3. Polarity: the paper is most of the picture and the ink a minority on one side of it, so the
//    side with the heavier tail away from the local paper level is the ink (dark on light or
//    light on dark); `invert` overrides.
// 4. Lighting: the paper's level is estimated locally (background.ts) and subtracted, so
//    gradients, vignetting and soft shadows are not ink. Sharp-edged shadows leave a line.
// 5. Levels: paper noise is measured (median absolute deviation); what stands out by less than
//    MIN_CONTRAST, or by less than the noise, is paper. The strongest ink (a high percentile, not
//    the maximum, so one speck does not set the scale) becomes 1, as in MNIST.
// 6. Lines: ruled or grid lines run edge to edge along a row or column of pixels, as in a scan
//    square to the page (a line tilted by a pixel over the width is not found whole), and are
//    thinner than LINE_MAX of the picture. A line is told by its whole row: it stands LINE_SIGMAS
//    noise deviations above the paper along 90% of it, even where a shadow fades it below the
//    mask. Lines are erased where the digit does not cross them. A digit must not itself reach
//    across the picture.
// 7. Edges: in a photo (not with alpha), a piece lying along the picture's edge (touching it
//    for more than ALONG_EDGE stroke widths) is a shadow, the page's edge or the table, not ink:
//    the digit must not run along the edge of the photo; crossing it with the tip of a stroke is fine.
//    Pieces of lines that faded out in places (thin, straight slivers along a row or column that
//    fill their box) are dropped too: a perfectly upright 1 thinner than LINE_MAX would be as well.
// 8. Pieces: the biggest piece of ink is (part of) the digit; pieces much smaller than it are
//    specks, and small pieces far from it are dirt. More than six pieces over a tenth of its size
//    are text: too much ink. A piece of the digit stands out by MIN_CONTRAST on average, past the
//    noise and on both sides of it (pixels on lines not counted): what noise and texture leave is
//    fainter, and a shadow's edge is a step, dark on one side only. A biggest piece not much
//    longer than its stroke is thick (a dot, a tap), or shorter than MIN_SIZE (15%) of the
//    picture's shorter side (a speck or two), is too little: the digit must be that big.
import type { GrayImage } from './png';
import { estimateBackground, opening, quantile } from './background';
import { components, eraseLines } from './components';
import { choosePieces, isSliver, isText, standsOut, strokeWidth } from './pieces';
import { resizeArea } from './resize';

/** Longer side of the working copy: enough for a 20 px digit with room around it, fast per stroke. */
export const WORK = 256;
/** Ink must stand out from the paper by this much (in [0, 1]) to be ink at all. */
export const MIN_CONTRAST = 0.1;
const OPENING = 0.25; // the opening's window, as a share of the longer side: wider than a stroke
// Pictures smaller than this are crops or canvases (MNIST's own 28x28 images), not photos of a
// page: the opening's window would be as narrow as a stroke, and a 2 px upright 1 would pass for
// a line, so the photo-only steps (opening, edge and sliver rules) are skipped.
const PHOTO_SIDE = 48;
const PAPER_QUANTILE = 0.3; // the paper side of each background window (ink is bright here)
const MASK_LEVEL = 0.35; // levelled ink above this is "solid" ink for shapes and pieces
const LINE_SIGMAS = 2; // a line stands this many noise deviations above the paper along its length
const LINE_MIN = 0.02; // and at least this much, for noiseless pictures
const LINE_MAX = 0.025; // a line is at most this thick, as a fraction of the picture's side
const TOO_DENSE = 0.35; // more of the picture than this covered by ink is not a digit
const ALONG_EDGE = 1.5; // a piece touching the edge for more than this many stroke widths is not ink

/** Why there is no digit, when there is none. */
export type NoDigitReason = 'no ink' | 'too little ink' | 'too much ink';

export interface InkMap {
  /** width × height levelled ink in [0, 1]: 0 paper, 1 the strongest ink (white on black, as MNIST) */
  ink: Float32Array;
  width: number;
  height: number;
  /** null when a digit was found */
  reason: NoDigitReason | null;
  /** how the ink was told from the paper */
  polarity: 'dark-on-light' | 'light-on-dark' | 'alpha';
}

function clamp01(v: number): number {
  return v > 0 ? (v < 1 ? v : 1) : 0; // NaN lands on 0
}

/** Median of the border's alpha: a transparent frame means "the ink is what is opaque". */
function transparentBorder(alpha: Float32Array, w: number, h: number): boolean {
  let transparent = 0, n = 0;
  const look = (i: number) => { n++; if (!(alpha[i] >= 0.5)) transparent++; };
  for (let x = 0; x < w; x++) { look(x); look((h - 1) * w + x); }
  for (let y = 1; y < h - 1; y++) { look(y * w); look(y * w + w - 1); }
  return transparent * 2 > n;
}

/** The working copy (longer side ≤ WORK) of the signal, values clamped to [0, 1]. */
function workingCopy(data: Float32Array, w: number, h: number): GrayImage {
  const clean = new Float32Array(data.length);
  for (let i = 0; i < data.length; i++) clean[i] = clamp01(data[i]);
  const img = { width: w, height: h, data: clean };
  const long = Math.max(w, h);
  if (long <= WORK) return img;
  return resizeArea(img, Math.max(1, Math.round((w * WORK) / long)), Math.max(1, Math.round((h * WORK) / long)));
}

/** Dark ink on light paper? Compares the tails on either side of the local paper level. */
function inkIsDark(s: Float32Array, w: number, h: number): boolean {
  const mid = estimateBackground(s, w, h, 0.5);
  const diff = new Float32Array(s.length);
  for (let i = 0; i < s.length; i++) diff[i] = s[i] - mid[i];
  const abs = diff.map(Math.abs);
  const tau = Math.max(0.03, 3 * 1.4826 * quantile(abs, 0.5, 0, 1));
  let light = 0, dark = 0;
  for (let i = 0; i < diff.length; i++) {
    if (diff[i] > tau) light += diff[i] - tau;
    else if (diff[i] < -tau) dark += -diff[i] - tau;
  }
  return dark > light;
}

/**
 * The digit's ink in `img`, levelled and cleaned (lines, specks and dirt removed), at a working
 * size of at most WORK px; `reason` says why there is no digit when there is none.
 */
export function findInk(img: GrayImage, invert: boolean | 'auto'): InkMap {
  const { width: w0, height: h0 } = img;
  const alphaInk = img.alpha instanceof Float32Array && img.alpha.length === img.data.length && transparentBorder(img.alpha, w0, h0);
  const work = workingCopy(alphaInk ? img.alpha! : img.data, w0, h0);
  const { width: w, height: h } = work;
  const s = work.data;
  const dark = alphaInk ? false : invert === 'auto' ? inkIsDark(s, w, h) : invert;
  const polarity = alphaInk ? 'alpha' : dark ? 'dark-on-light' : 'light-on-dark';
  const none = (reason: NoDigitReason): InkMap => ({ ink: new Float32Array(w * h), width: w, height: h, reason, polarity });

  const photo = !alphaInk && Math.min(w, h) >= PHOTO_SIDE;
  // ink bright, paper dark; the paper's local level subtracted
  const v = dark ? s.map((x) => 1 - x) : s;
  const paper = estimateBackground(v, w, h, PAPER_QUANTILE);
  if (photo) {
    const open = opening(v, w, h, Math.round(OPENING * Math.max(w, h)));
    for (let i = 0; i < paper.length; i++) if (open[i] > paper[i]) paper[i] = open[i];
  }
  const r = new Float32Array(w * h);
  for (let i = 0; i < r.length; i++) r[i] = v[i] - paper[i];
  // paper noise: the spread of the residual around its middle (ink is a minority)
  const middle = quantile(r, 0.5, -1, 1);
  const spread = new Float32Array(r.length);
  for (let i = 0; i < r.length; i++) spread[i] = Math.abs(r[i] - middle);
  const sigma = 1.4826 * quantile(spread, 0.5, 0, 1);
  const floor = middle + 3 * sigma;
  let count = 0;
  for (let i = 0; i < r.length; i++) if (r[i] - floor >= MIN_CONTRAST) count++;
  if (count === 0) return none('no ink');
  const strong = new Float32Array(count);
  let top = -Infinity;
  count = 0;
  for (let i = 0; i < r.length; i++) {
    if (r[i] - floor >= MIN_CONTRAST) {
      strong[count++] = r[i];
      if (r[i] > top) top = r[i];
    }
  }
  // a histogram bin's centre can lie past the real maximum: solid ink must still reach exactly 1
  const peak = Math.min(top, quantile(strong, 0.95, 0, 2));
  if (peak - floor < MIN_CONTRAST) return none('no ink');
  const gain = 1 / (peak - floor);
  const ink = new Float32Array(w * h);
  const mask = new Uint8Array(w * h);
  for (let i = 0; i < ink.length; i++) {
    ink[i] = clamp01((r[i] - floor) * gain);
    mask[i] = ink[i] > MASK_LEVEL ? 1 : 0;
  }

  const lineMax = Math.max(2, Math.round(LINE_MAX * Math.min(w, h)));
  const { erased, onLine } = eraseLines(r, middle, Math.max(LINE_SIGMAS * sigma, LINE_MIN), mask, w, h, lineMax);
  const labels = new Int32Array(w * h);
  const pieces = components(mask, w, h, labels);
  if (pieces.length === 0) return none('no ink');
  // in a photo, what lies along the picture's edge is shadow, the page's edge or the table
  // and what is left of a line where it faded (a thin, straight, axis-aligned sliver) is no ink
  const inside = !photo ? pieces : pieces.filter((c) => c.border <= ALONG_EDGE * strokeWidth(c) + 2 && !isSliver(c, lineMax));
  if (inside.length === 0) return none('no ink');
  if (isText(inside)) return none('too much ink');
  const maps = { labels, v, r, floor, onLine, width: w };
  const standing = inside.filter((c) => standsOut(c, maps, MIN_CONTRAST));
  if (standing.length === 0) return none('no ink');
  const keep = choosePieces(standing, Math.min(w, h));
  if (keep.reason) return none(keep.reason);
  if (keep.area > TOO_DENSE * w * h) return none('too much ink');

  // keep the soft ink of the chosen pieces and the anti-aliased rim one pixel around them
  const kept = new Uint8Array(pieces.length + 1);
  for (const c of keep.pieces) kept[c.label] = 1;
  const out = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      if (erased[i]) continue;
      let near = false;
      for (let dy = -1; dy <= 1 && !near; dy++) {
        const yy = y + dy;
        if (yy < 0 || yy >= h) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const xx = x + dx;
          if (xx >= 0 && xx < w && kept[labels[yy * w + xx]]) { near = true; break; }
        }
      }
      if (near) out[i] = ink[i];
    }
  }
  return { ink: out, width: w, height: h, reason: null, polarity };
}
