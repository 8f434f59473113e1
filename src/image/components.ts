// Shapes in a binary ink mask: ruled and grid lines to erase, connected pieces to keep or drop.

/** A connected piece of the mask (8-connected). */
export interface Component {
  label: number;
  area: number;
  x0: number;
  y0: number;
  x1: number; // inclusive
  y1: number;
  /** mask pixels of this piece with a 4-neighbour outside the mask: a perimeter for stroke width */
  edge: number;
  /** pixels of this piece on the image's border */
  border: number;
}

/** Labels 8-connected pieces of `mask` (nonzero = ink) into `labels` (0 = none, 1.. = piece). */
export function components(mask: Uint8Array, w: number, h: number, labels: Int32Array): Component[] {
  labels.fill(0);
  const out: Component[] = [];
  const stack = new Int32Array(w * h); // each pixel is pushed at most once
  for (let start = 0; start < mask.length; start++) {
    if (!mask[start] || labels[start]) continue;
    const c: Component = { label: out.length + 1, area: 0, x0: w, y0: h, x1: -1, y1: -1, edge: 0, border: 0 };
    let top = 0;
    stack[top++] = start;
    labels[start] = c.label;
    while (top > 0) {
      const p = stack[--top];
      const x = p % w, y = (p - x) / w;
      c.area++;
      if (x < c.x0) c.x0 = x;
      if (x > c.x1) c.x1 = x;
      if (y < c.y0) c.y0 = y;
      if (y > c.y1) c.y1 = y;
      const onBorder = x === 0 || y === 0 || x === w - 1 || y === h - 1;
      if (onBorder) c.border++;
      if (onBorder || !mask[p - 1] || !mask[p + 1] || !mask[p - w] || !mask[p + w]) c.edge++;
      for (let dy = -1; dy <= 1; dy++) {
        const yy = y + dy;
        if (yy < 0 || yy >= h) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const xx = x + dx;
          if (xx < 0 || xx >= w) continue;
          const q = yy * w + xx;
          if (mask[q] && !labels[q]) {
            labels[q] = c.label;
            stack[top++] = q;
          }
        }
      }
    }
    out.push(c);
  }
  return out;
}

/**
 * Ruled and grid lines, found in the levelled signal rather than in a thresholded mask: a line is
 * a band of at most `maxThickness` rows (or columns) each of which stands `rise` above the paper
 * along at least EDGE_TO_EDGE of its length. Printed lines run edge to edge but fade in a shadow
 * or under noise, so a mask shows only stretches of them; along the whole row the line still
 * stands out, and the ink of a digit, covering far less of a row, cannot lift its low percentile.
 */
const EDGE_TO_EDGE = 0.9;

/** The k-th smallest of `a`, reordered in place: quickselect, linear on average (sorting each row took 5 ms a picture). */
function select(a: Float32Array, k: number): number {
  let lo = 0, hi = a.length - 1;
  while (hi > lo) {
    const pivot = a[(lo + hi) >> 1];
    let i = lo, j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) { const t = a[i]; a[i] = a[j]; a[j] = t; i++; j--; }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else break;
  }
  return a[k];
}

/** Each row's (1 - EDGE_TO_EDGE)-quantile of `r` (rows along `along`). */
function rowLevels(r: Float32Array, along: number, across: number, stepAlong: number, stepAcross: number): Float32Array {
  const levels = new Float32Array(across);
  const line = new Float32Array(along);
  const at = Math.floor((1 - EDGE_TO_EDGE) * (along - 1));
  for (let k = 0; k < across; k++) {
    for (let i = 0; i < along; i++) line[i] = r[k * stepAcross + i * stepAlong];
    levels[k] = select(line, at);
  }
  return levels;
}

/**
 * Erases the lines along one axis (rows: stride 1, step w; columns: the axes swapped). A band of
 * rows standing `rise` above `paper` is the line, with a row either side that stands half as
 * high (its anti-aliased rim); a run of mask pixels across the line that stays inside it is the
 * line and goes, while where a digit's stroke crosses, the ink runs on past the line and stays.
 */
function eraseLinesAlong(
  r: Float32Array, paper: number, rise: number, mask: Uint8Array, found: Lines,
  along: number, across: number, stepAlong: number, stepAcross: number, maxThickness: number,
): void {
  const { erased, onLine } = found;
  const levels = rowLevels(r, along, across, stepAlong, stepAcross);
  const stands = (k: number, by: number) => k >= 0 && k < across && levels[k] - paper > by;
  for (let k = 0; k < across; k++) {
    if (!stands(k, rise)) continue;
    const b0 = k;
    while (stands(k + 1, rise)) k++;
    if (k - b0 + 1 > maxThickness) continue; // a wide band is not a printed line
    const lo = stands(b0 - 1, rise / 2) ? b0 - 1 : b0, hi = stands(k + 1, rise / 2) ? k + 1 : k;
    for (let i = 0; i < along; i++) {
      const col = i * stepAlong;
      for (let t = lo; t <= hi; t++) onLine[t * stepAcross + col] = 1;
      for (let t = lo; t <= hi; t++) {
        if (!mask[t * stepAcross + col]) continue;
        let s = t, e = t;
        while (s > 0 && mask[(s - 1) * stepAcross + col]) s--;
        while (e < across - 1 && mask[(e + 1) * stepAcross + col]) e++;
        if (s >= lo && e <= hi) {
          for (let u = s; u <= e; u++) { mask[u * stepAcross + col] = 0; erased[u * stepAcross + col] = 1; }
        }
        t = e;
      }
    }
  }
}

/** Where the lines are: the pixels erased from the mask, and every pixel of a line's band. */
export interface Lines {
  erased: Uint8Array;
  /** on a line, erased or not (where a digit's stroke crosses it too) */
  onLine: Uint8Array;
}

/**
 * Erases horizontal and vertical lines (see eraseLinesAlong) from `mask`, where `r` is the
 * levelled signal (ink bright), `paper` its level on bare paper and `rise` how far above it a
 * line stands. Rows go first, so where a grid's lines cross, what is left is a short run inside
 * a column line and goes with it.
 */
export function eraseLines(
  r: Float32Array, paper: number, rise: number, mask: Uint8Array, w: number, h: number, maxThickness: number,
): Lines {
  const found = { erased: new Uint8Array(w * h), onLine: new Uint8Array(w * h) };
  eraseLinesAlong(r, paper, rise, mask, found, w, h, 1, w, maxThickness); // rows
  eraseLinesAlong(r, paper, rise, mask, found, h, w, w, 1, maxThickness); // columns
  return found;
}
