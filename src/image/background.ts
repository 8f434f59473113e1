// The paper under the ink: a smooth estimate of the background, so gradients, shadows and
// uneven lighting are subtracted before anything is called ink.
//
// The image is cut into a GRID×GRID lattice; each lattice point takes a low percentile of the
// pixels in a window two cells wide around it (in "ink is bright" space the paper is the dark
// side, so a low percentile is paper even where a stroke crosses the window), a 3×3 median over
// the lattice then replaces points whose window was mostly ink (the inside of a bold 0), and the
// lattice is interpolated bilinearly back to every pixel. Windows are a third of the image wide:
// far wider than any pen stroke of a digit that fills a good part of the picture, narrow enough
// to follow a lamp's fall-off.
//
// A lattice cannot follow the edge of a shadow, so the estimate is the larger of it and a
// morphological opening (a sliding minimum, then a sliding maximum, over a square a quarter of
// the image wide): the opening keeps every ramp and every shape wider than its window, so a
// shadow's edge stays paper, while pen strokes, narrower than the window, are taken away.

const GRID = 10; // lattice points per side, at most
const CELL = 9; // px per lattice cell, at least
const BINS = 256; // percentiles from a histogram: O(pixels), no sorting on every pen stroke

/** The q-quantile (0..1) of data[i] over a rectangle, from a histogram of BINS levels in [0, 1]. */
function windowQuantile(data: Float32Array, w: number, x0: number, y0: number, x1: number, y1: number, q: number, hist: Uint32Array): number {
  hist.fill(0);
  let n = 0;
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      const v = data[y * w + x];
      hist[v <= 0 ? 0 : v >= 1 ? BINS - 1 : (v * BINS) | 0]++;
      n++;
    }
  }
  const want = q * n;
  let seen = 0;
  for (let b = 0; b < BINS; b++) {
    seen += hist[b];
    if (seen > want) return (b + 0.5) / BINS;
  }
  return 1;
}

function median9(v: number[]): number {
  return v.sort((a, b) => a - b)[v.length >> 1];
}

/**
 * A smooth background under `data` (values in [0, 1], ink bright): the q-quantile of each
 * lattice window, median-filtered, interpolated to every pixel.
 */
export function estimateBackground(data: Float32Array, w: number, h: number, q: number): Float32Array {
  // small pictures get fewer, wider windows: at least CELL px a cell, so a window stays several
  // strokes wide even in a 28x28 MNIST digit
  const gx = Math.max(1, Math.min(GRID, Math.floor(w / CELL))), gy = Math.max(1, Math.min(GRID, Math.floor(h / CELL)));
  const hist = new Uint32Array(BINS);
  const raw = new Float64Array(gx * gy);
  for (let j = 0; j < gy; j++) {
    const cy = ((j + 0.5) * h) / gy, ry = h / gy; // window: the cell and half a cell each side
    const y0 = Math.max(0, Math.floor(cy - ry)), y1 = Math.min(h, Math.ceil(cy + ry));
    for (let i = 0; i < gx; i++) {
      const cx = ((i + 0.5) * w) / gx, rx = w / gx;
      const x0 = Math.max(0, Math.floor(cx - rx)), x1 = Math.min(w, Math.ceil(cx + rx));
      raw[j * gx + i] = windowQuantile(data, w, x0, y0, x1, y1, q, hist);
    }
  }
  const grid = new Float64Array(gx * gy);
  for (let j = 0; j < gy; j++) {
    for (let i = 0; i < gx; i++) {
      const around: number[] = [];
      for (let b = Math.max(0, j - 1); b <= Math.min(gy - 1, j + 1); b++) {
        for (let a = Math.max(0, i - 1); a <= Math.min(gx - 1, i + 1); a++) around.push(raw[b * gx + a]);
      }
      grid[j * gx + i] = median9(around);
    }
  }
  // bilinear between lattice points (at cell centres), held constant beyond the outer ones
  const out = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    const fy = Math.min(gy - 1, Math.max(0, ((y + 0.5) * gy) / h - 0.5));
    const j0 = Math.floor(fy), j1 = Math.min(gy - 1, j0 + 1), ty = fy - j0;
    for (let x = 0; x < w; x++) {
      const fx = Math.min(gx - 1, Math.max(0, ((x + 0.5) * gx) / w - 0.5));
      const i0 = Math.floor(fx), i1 = Math.min(gx - 1, i0 + 1), tx = fx - i0;
      const top = grid[j0 * gx + i0] * (1 - tx) + grid[j0 * gx + i1] * tx;
      const bottom = grid[j1 * gx + i0] * (1 - tx) + grid[j1 * gx + i1] * tx;
      out[y * w + x] = top * (1 - ty) + bottom * ty;
    }
  }
  return out;
}

/** The q-quantile of a whole array (histogram of `bins` levels over [lo, hi]). */
export function quantile(values: Float32Array, q: number, lo: number, hi: number, bins = 1024): number {
  if (values.length === 0) return lo;
  const hist = new Uint32Array(bins);
  const scale = bins / (hi - lo);
  for (let i = 0; i < values.length; i++) {
    const b = Math.floor((values[i] - lo) * scale);
    hist[b < 0 ? 0 : b >= bins ? bins - 1 : b]++;
  }
  const want = q * values.length;
  let seen = 0;
  for (let b = 0; b < bins; b++) {
    seen += hist[b];
    if (seen > want) return lo + (b + 0.5) / scale;
  }
  return hi;
}

/** Sliding minimum (or maximum) over `k` samples centred on each, along rows or columns, in place. */
function slide(data: Float32Array, w: number, h: number, k: number, rows: boolean, max: boolean): void {
  const n = rows ? w : h, lines = rows ? h : w, step = rows ? 1 : w;
  const line = new Float32Array(n);
  const queue = new Int32Array(n); // indices of a monotonic deque
  const half = k >> 1;
  for (let l = 0; l < lines; l++) {
    const base = rows ? l * w : l;
    for (let i = 0; i < n; i++) line[i] = data[base + i * step];
    let head = 0, tail = 0;
    for (let i = 0, next = 0; i < n; i++) {
      // the window of output i is [i - half, i + half]; feed samples up to its right end
      for (; next <= Math.min(n - 1, i + half); next++) {
        const v = line[next];
        while (tail > head && (max ? line[queue[tail - 1]] <= v : line[queue[tail - 1]] >= v)) tail--;
        queue[tail++] = next;
      }
      while (queue[head] < i - half) head++;
      data[base + i * step] = line[queue[head]];
    }
  }
}

/** Grey-level opening (erosion then dilation) with a k x k square: removes bright shapes narrower than k. */
export function opening(data: Float32Array, w: number, h: number, k: number): Float32Array {
  const out = data.slice();
  slide(out, w, h, k, true, false);
  slide(out, w, h, k, false, false);
  slide(out, w, h, k, true, true);
  slide(out, w, h, k, false, true);
  return out;
}
