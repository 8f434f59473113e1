export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * Median ms of `reps` timed runs of fn, each run repeating it `inner` times. It first runs fn
 * for at least `warmMs`: engines compile wasm with a baseline compiler and swap in optimised
 * code only once a function is hot, and that must happen before the clock starts.
 */
export function time(fn: () => void, reps: number, inner = 1, warmMs = 250): number {
  const warm = performance.now();
  do fn(); while (performance.now() - warm < warmMs);
  const t: number[] = [];
  for (let r = 0; r < reps; r++) {
    const s = performance.now();
    for (let i = 0; i < inner; i++) fn();
    t.push((performance.now() - s) / inner);
  }
  return median(t);
}

/** One table row: each cell right-aligned to its column width. */
export const row = (cells: (string | number)[], widths: number[]): string =>
  cells.map((c, i) => String(c).padStart(widths[i])).join('  ');
