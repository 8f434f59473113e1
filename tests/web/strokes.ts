// Hand-written digits as pen paths, the way a person draws them: each digit is a list of strokes,
// each stroke a list of points in pad units (0..1, y down). Curves are sampled densely enough
// that the mouse moves between points look like one continuous stroke.

export type Point = [x: number, y: number];
export type Stroke = Point[];

/** Points along an elliptical arc; angles in degrees, 0 = right, 90 = down (screen y). */
export function arc(cx: number, cy: number, rx: number, ry: number, from: number, to: number, steps = 24): Stroke {
  const out: Stroke = [];
  for (let i = 0; i <= steps; i++) {
    const a = ((from + ((to - from) * i) / steps) * Math.PI) / 180;
    out.push([cx + rx * Math.cos(a), cy + ry * Math.sin(a)]);
  }
  return out;
}

/** A straight segment as a few points (so the mouse moves in small steps). */
export function line(a: Point, b: Point, steps = 6): Stroke {
  return Array.from({ length: steps + 1 }, (_, i): Point => [a[0] + ((b[0] - a[0]) * i) / steps, a[1] + ((b[1] - a[1]) * i) / steps]);
}

/** Joins pieces into one stroke, dropping the repeated joint points. */
export function path(...pieces: Stroke[]): Stroke {
  const out: Stroke = [];
  for (const p of pieces) for (const pt of p) if (!out.length || out[out.length - 1][0] !== pt[0] || out[out.length - 1][1] !== pt[1]) out.push(pt);
  return out;
}

/** Moves and scales a digit about the pad's centre: where and how big people draw varies. */
export function place(strokes: Stroke[], scale: number, dx: number, dy: number): Stroke[] {
  return strokes.map((s) => s.map(([x, y]): Point => [0.5 + (x - 0.5) * scale + dx, 0.5 + (y - 0.5) * scale + dy]));
}

/** One way to write each digit; the shipped MLP reads every one right, at several sizes and places. */
export const DIGITS: Record<number, Stroke[]> = {
  0: [arc(0.5, 0.5, 0.19, 0.3, -100, 275, 40)],
  1: [line([0.52, 0.2], [0.48, 0.8], 10)],
  2: [path(arc(0.5, 0.36, 0.17, 0.15, 190, 370, 20), line([0.665, 0.39], [0.3, 0.8], 8), line([0.3, 0.8], [0.72, 0.8], 6))],
  3: [path(arc(0.48, 0.34, 0.16, 0.14, 210, 450, 24), arc(0.48, 0.64, 0.18, 0.16, 270, 510, 24))],
  4: [path(line([0.5, 0.2], [0.3, 0.6], 8), line([0.3, 0.6], [0.74, 0.6], 8)), line([0.6, 0.34], [0.6, 0.82], 8)],
  5: [path(line([0.68, 0.2], [0.38, 0.2], 5), line([0.38, 0.2], [0.35, 0.46], 5), arc(0.5, 0.62, 0.18, 0.17, -140, 150, 24))],
  6: [path(arc(0.62, 0.55, 0.3, 0.37, 250, 180, 12), arc(0.5, 0.64, 0.18, 0.16, 180, 540, 30))],
  7: [path(line([0.3, 0.22], [0.72, 0.22], 8), line([0.72, 0.22], [0.44, 0.82], 10))],
  8: [path(arc(0.5, 0.34, 0.14, 0.14, -30, -330, 24), arc(0.5, 0.65, 0.17, 0.16, -90, 270, 30))],
  9: [path(arc(0.5, 0.36, 0.16, 0.15, -10, 350, 30), line([0.66, 0.36], [0.62, 0.82], 8))],
};

/**
 * A 1 written with a long flag, as many people in Europe write it. The shipped MLP, trained on
 * American MNIST 1s (plain bars), reads it as a 7: the page's reason to exist.
 */
export const FLAGGED_ONE: Stroke[] = [path(line([0.34, 0.36], [0.58, 0.18], 5), line([0.58, 0.18], [0.58, 0.82], 10))];
