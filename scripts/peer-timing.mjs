// Timing for the side-by-side peer scripts (bench-peers-*.mjs): medians of repeated runs, each
// after a warm-up of the same size.
export const median = (a) => { const s = [...a].sort((x, y) => x - y); return s[s.length >> 1]; };

/** Milliseconds per call of `fn`: the median over `reps` runs of `inner` calls. */
export function time(fn, reps, inner) {
  for (let i = 0; i < inner; i++) fn();
  const t = [];
  for (let r = 0; r < reps; r++) {
    const s = performance.now();
    for (let i = 0; i < inner; i++) fn();
    t.push((performance.now() - s) / inner);
  }
  return median(t);
}

/** The same for an async `fn`. */
export async function atime(fn, reps, inner = 1) {
  for (let i = 0; i < inner; i++) await fn();
  const t = [];
  for (let r = 0; r < reps; r++) {
    const s = performance.now();
    for (let i = 0; i < inner; i++) await fn();
    t.push((performance.now() - s) / inner);
  }
  return median(t);
}
