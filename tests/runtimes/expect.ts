// The checks every runtime's result must pass, against Node's reference result.
import { expect } from 'vitest';
// @ts-expect-error plain ES module shared with the other runtimes
import { DIGITS, maxProbabilityDiff } from './cases.mjs';

export interface CasesResult {
  build: string;
  count: number;
  labels: number[];
  predictions: number[];
  probabilities: number[][];
  accuracy: number;
  fit: { lossBefore: number; lossAfter: number; epochLosses: number[] };
  roundTrip: { exact: boolean; bytes: number };
  recurrent: { lossBefore: number; lossAfter: number; outputs: number[]; streamDiff: number; exact: boolean };
  initMs: number;
  coldStartMs: number | null;
}

/** Checks `result` on its own and against Node's `reference` (same build → same fit trajectory). */
export function expectSharedCases(result: CasesResult | null, reference: CasesResult, build?: string): void {
  expect(result, 'the runtime produced no result').toBeTruthy();
  const r = result!;
  expect(['relaxed', 'simd', 'scalar']).toContain(r.build);
  if (build) expect(r.build).toBe(build);
  expect(r.count).toBe(DIGITS);
  expect(r.labels).toEqual(reference.labels);
  // the shipped model: the same answers as Node, to 1e-4, and right on (nearly) all of them
  expect(r.predictions).toEqual(reference.predictions);
  expect(maxProbabilityDiff(r, reference)).toBeLessThan(1e-4);
  expect(r.accuracy).toBeGreaterThanOrEqual(0.95);
  // a short fit lowers the loss, as it does in Node
  expect(r.fit.lossAfter).toBeLessThan(r.fit.lossBefore * 0.5);
  expect(Math.abs(r.fit.lossBefore - reference.fit.lossBefore)).toBeLessThan(1e-4);
  expect(Math.abs(r.fit.lossAfter - reference.fit.lossAfter)).toBeLessThan(r.build === reference.build ? 1e-4 : 1e-2);
  // save → load is bit-exact
  expect(r.roundTrip.exact).toBe(true);
  expect(r.roundTrip.bytes).toBe(reference.roundTrip.bytes);
  // recurrent nets train, stream and round-trip here too, and follow Node's trajectory
  const rec = r.recurrent;
  expect(rec.lossAfter).toBeLessThan(rec.lossBefore * 0.5);
  expect(Math.abs(rec.lossBefore - reference.recurrent.lossBefore)).toBeLessThan(1e-5);
  const tol = r.build === reference.build ? 1e-4 : 1e-2;
  rec.outputs.forEach((v, i) => expect(Math.abs(v - reference.recurrent.outputs[i])).toBeLessThan(tol));
  expect(rec.streamDiff).toBeLessThan(1e-5);
  expect(rec.exact).toBe(true);
}
