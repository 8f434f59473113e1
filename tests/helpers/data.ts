// Small seeded data sets for training tests.
import { mulberry32 } from './reference';

/** Three Gaussian-ish blobs in 2-D, labels 0..2; deterministic for a seed. */
export function blobs(n: number, seed = 1): { x: number[][]; labels: number[]; onehot: number[][] } {
  const rand = mulberry32(seed);
  const centres = [[-1, -1], [1, -0.5], [0, 1.2]];
  const x: number[][] = [];
  const labels: number[] = [];
  for (let i = 0; i < n; i++) {
    const c = i % 3;
    x.push([centres[c][0] + (rand() - 0.5) * 1.2, centres[c][1] + (rand() - 0.5) * 1.2]);
    labels.push(c);
  }
  return { x, labels, onehot: labels.map((c) => [0, 1, 2].map((j) => (j === c ? 1 : 0))) };
}
