// The shared runtime cases in workerd (Cloudflare Workers' runtime) through miniflare, on the
// package's workerd entry: the .wasm builds imported as compiled modules.
import { describe, expect, it } from 'vitest';
// @ts-expect-error plain ES module
import { describeResult, nodeReference } from './fixtures.mjs';
// @ts-expect-error plain ES module
import { runWorkerdCases } from './workerd.mjs';
import { expectSharedCases } from './expect';

describe('workerd', () => {
  it('runs the shared cases on dist/workerd.js', async () => {
    const result = await runWorkerdCases();
    console.log(`${describeResult('workerd (miniflare)', result)} (first request; workerd itself started in ${result.startMs.toFixed(0)} ms)`);
    const reference = await nodeReference();
    expect(result.cold.build).toBe('relaxed');
    for (let j = 0; j < 10; j++) expect(Math.abs(result.cold.probabilities[j] - reference.probabilities[0][j])).toBeLessThan(1e-4);
    expectSharedCases(result, reference, 'relaxed');
  });
});
