export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Median ms of `reps` timed runs of fn (after one warm-up call), each run repeating it `inner` times. */
export function time(fn: () => void, reps: number, inner = 1): number {
  fn();
  const t: number[] = [];
  for (let r = 0; r < reps; r++) {
    const s = performance.now();
    for (let i = 0; i < inner; i++) fn();
    t.push((performance.now() - s) / inner);
  }
  return median(t);
}
