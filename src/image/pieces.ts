// Which pieces of an ink mask make the digit: the rules that tell a digit's strokes from specks,
// dirt, fragments of lines and writing (ink.ts says what they assume, step 8).
import type { Component } from './components';
import type { NoDigitReason } from './ink';

const SPECK = 0.06; // pieces under this share of the biggest piece are specks
const NEAR = 0.35; // pieces under BIG must lie within this many digit-sizes of the digit's box
const BIG = 0.3; // pieces over this share of the biggest are part of the digit wherever they are
const TEXT_PIECES = 6; // more pieces than this of TEXT_SHARE of the biggest is writing, not a digit
const TEXT_SHARE = 0.1; // a tenth: where letters touch, a piece of writing is several letters
const SLIVER = 6; // a line fragment is at least this many times longer than thick
const MIN_ELONGATION = 2.5; // a digit's longer side is at least this many stroke widths
const MIN_SIZE = 0.15; // and at least this share of the picture's shorter side

/** A piece of a ruled or grid line: thin, long, straight along a row or column (fills its box). */
export function isSliver(c: Component, lineMax: number): boolean {
  const bw = c.x1 - c.x0 + 1, bh = c.y1 - c.y0 + 1;
  const thin = Math.min(bw, bh), long = Math.max(bw, bh);
  return thin <= lineMax && long >= SLIVER * thin && c.area >= 0.6 * bw * bh;
}

/** A piece's stroke width: its area over half its perimeter (exact for a long straight stroke). */
export function strokeWidth(c: Component): number {
  return Math.max(1, (2 * c.area) / Math.max(1, c.edge));
}

/** The maps a piece was cut from. */
export interface PieceMaps {
  /** each pixel's piece (0: none) */
  labels: Int32Array;
  /** the signal, ink bright */
  v: Float32Array;
  /** the signal levelled: the paper's local level subtracted */
  r: Float32Array;
  /** the paper's noise floor in `r` */
  floor: number;
  /** pixels on a ruled or grid line */
  onLine: Uint8Array;
  width: number;
}

const ACROSS: [number, number][] = [[1, 0], [0, 1], [1, 1], [1, -1]];

/**
 * Whether a piece stands out from the paper as ink does, by `minContrast` on average over its
 * pixels, in two ways:
 * - past the noise: levelled, above the noise floor. What noise, texture or a shadow's edge leave
 *   above the mask's level is fainter (that level is a share of the strongest ink, so on a
 *   blank page it is a share of the noise).
 * - on both sides: in the signal itself, above the higher of the two pixels a stroke width and
 *   one away, across the piece (the best of four directions: a stroke stands out across itself,
 *   whichever way it runs). A shadow's edge is a step in the paper, as dark as the shadow on one
 *   side; only the paper's estimate, lagging under the step, made it look like ink.
 * Pixels on a printed line are the line's, not the piece's, and do not count.
 */
export function standsOut(c: Component, m: PieceMaps, minContrast: number): boolean {
  const { labels, v, r, floor, onLine, width: w } = m;
  const h = labels.length / w;
  const step = Math.ceil(strokeWidth(c)) + 1;
  const across = [0, 0, 0, 0];
  let above = 0, n = 0;
  for (let y = c.y0; y <= c.y1; y++) {
    for (let x = c.x0; x <= c.x1; x++) {
      const i = y * w + x;
      if (labels[i] !== c.label || onLine[i]) continue;
      above += r[i] - floor;
      n++;
      for (let d = 0; d < ACROSS.length; d++) {
        const dx = ACROSS[d][0] * step, dy = ACROSS[d][1] * step;
        const a = Math.min(h - 1, Math.max(0, y + dy)) * w + Math.min(w - 1, Math.max(0, x + dx));
        const b = Math.min(h - 1, Math.max(0, y - dy)) * w + Math.min(w - 1, Math.max(0, x - dx));
        across[d] += v[i] - Math.max(v[a], v[b]);
      }
    }
  }
  return n > 0 && above >= minContrast * n && Math.max(...across) >= minContrast * n;
}

/**
 * Many pieces not far below the biggest one's size: lines of writing, not one digit. Measured
 * against a tenth of the biggest, not a third as the digit's own pieces are, because touching
 * letters make a few pieces of writing several times the size of the others.
 */
export function isText(all: Component[]): boolean {
  let biggest = 0;
  for (const c of all) biggest = Math.max(biggest, c.area);
  return all.filter((c) => c.area >= TEXT_SHARE * biggest).length > TEXT_PIECES;
}

interface Choice {
  pieces: Component[];
  area: number;
  reason: NoDigitReason | null;
}

/**
 * Which pieces make the digit (which are not writing: see isText), or why none do, in a picture
 * whose shorter side is `side`.
 */
export function choosePieces(all: Component[], side: number): Choice {
  const sorted = [...all].sort((a, b) => b.area - a.area);
  const biggest = sorted[0];
  const big = sorted.filter((c) => c.area >= BIG * biggest.area);
  // the digit's box from the big pieces; smaller pieces count only near it
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  for (const c of big) { x0 = Math.min(x0, c.x0); y0 = Math.min(y0, c.y0); x1 = Math.max(x1, c.x1); y1 = Math.max(y1, c.y1); }
  const reach = NEAR * Math.max(x1 - x0 + 1, y1 - y0 + 1);
  const pieces = sorted.filter((c) => c.area >= BIG * biggest.area || (c.area >= SPECK * biggest.area
    && c.x1 >= x0 - reach && c.x0 <= x1 + reach && c.y1 >= y0 - reach && c.y0 <= y1 + reach));
  let area = 0;
  for (const c of pieces) area += c.area;
  // The biggest piece must be a stroke, not a blot: a dot, a tap or a scatter of specks is too
  // little. Its stroke width ≈ area / half the perimeter, for a stroke much longer than wide.
  // And it must be big enough to hold a digit's shape: two specks run together are as elongated
  // as a short stroke, but specks are a few hundredths of the picture, a digit a good part of it.
  const stroke = strokeWidth(biggest);
  const long = Math.max(biggest.x1 - biggest.x0 + 1, biggest.y1 - biggest.y0 + 1);
  if (long < 4 || long < MIN_ELONGATION * stroke || long < MIN_SIZE * side) {
    return { pieces: [], area, reason: 'too little ink' };
  }
  return { pieces, area, reason: null };
}
