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
 * Erases ruled and grid lines from `mask` (and marks them in `erased`), where a line is a row
 * (or column) of ink running across at least EDGE_TO_EDGE of the image, gaps of up to `gap`
 * pixels bridged, and thin: at most `maxThickness` pixels thick. Only the pixels of the line
 * itself go: where a digit's stroke crosses it, the ink there is thicker than the line and stays.
 * Done for rows on (w, h, stride 1, step w) and for columns with the axes swapped.
 */
const EDGE_TO_EDGE = 0.9;

function eraseLinesAlong(
  find: Uint8Array, mask: Uint8Array, erased: Uint8Array, along: number, across: number, stepAlong: number, stepAcross: number,
  gap: number, maxThickness: number,
): void {
  const thickness = new Int32Array(along);
  for (let r = 0; r < across; r++) {
    const base = r * stepAcross;
    // the longest bridged run in this row
    let best0 = -1, best1 = -1, run0 = -1, last = -1;
    for (let i = 0; i < along; i++) {
      if (!find[base + i * stepAlong]) continue;
      if (run0 < 0 || i - last > gap + 1) run0 = i;
      last = i;
      if (last - run0 > best1 - best0) { best0 = run0; best1 = last; }
    }
    if (best0 < 0 || best1 - best0 + 1 < EDGE_TO_EDGE * along) continue;
    // thickness across the line at each of its pixels
    let n = 0;
    for (let i = best0; i <= best1; i++) {
      const p = base + i * stepAlong;
      if (!mask[p] && !erased[p]) { thickness[i] = 0; continue; }
      let t = 1;
      for (let k = r - 1; k >= 0 && (mask[k * stepAcross + i * stepAlong] || erased[k * stepAcross + i * stepAlong]); k--) t++;
      for (let k = r + 1; k < across && (mask[k * stepAcross + i * stepAlong] || erased[k * stepAcross + i * stepAlong]); k++) t++;
      thickness[i] = t;
      n++;
    }
    // the line's own thickness: the median along it (where a digit crosses is the minority)
    const ts = Array.from(thickness.subarray(best0, best1 + 1)).filter((t) => t > 0).sort((a, b) => a - b);
    const lineT = ts[ts.length >> 1];
    if (n === 0 || lineT > maxThickness) continue;
    // anti-aliasing makes a 1 px line 1 or 2 px thick in the mask; a thicker line keeps its
    // thickness, and allowing more would erase a thin pen stroke lying along it
    const slack = lineT <= 1 ? 1 : 0;
    for (let i = best0; i <= best1; i++) {
      const p = base + i * stepAlong;
      if (thickness[i] > 0 && thickness[i] <= lineT + slack) {
        erased[p] = 1;
        mask[p] = 0;
      }
    }
  }
}

/**
 * Erases horizontal and vertical lines (see eraseLinesAlong) from `mask`; returns the erased
 * pixels. Lines are looked for in `find`, a fainter mask: a printed line is faint in places
 * (lighting, noise) and must still read as one line from edge to edge.
 */
export function eraseLines(find: Uint8Array, mask: Uint8Array, w: number, h: number, maxThickness: number): Uint8Array {
  const erased = new Uint8Array(w * h);
  eraseLinesAlong(find, mask, erased, w, h, 1, w, Math.max(2, Math.round(w / 64)), maxThickness); // rows
  eraseLinesAlong(find, mask, erased, h, w, w, 1, Math.max(2, Math.round(h / 64)), maxThickness); // columns
  return erased;
}
