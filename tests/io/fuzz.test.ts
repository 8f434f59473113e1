// A fixed-seed slice of the fuzzer (npm run fuzz) inside npm test: mutated model files and
// images against the built package, each case a NeuriteError or a finite result, none over
// 1 s (in wall and CPU time: see scripts/fuzz/run.mjs) or 256 MiB. The same seed gives the same
// cases, so a failure here replays with `npm run fuzz -- --seed 20261201 --cases 3000 --save dir`.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = join(__dirname, '../..');
const load = (file: string) => import(pathToFileURL(join(ROOT, file)).href);

describe('fuzz (fixed seed)', () => {
  it('3,000 mutated model files and images: typed errors or finite results, each ≤ 1 s and ≤ 256 MiB', async () => {
    const { init, NeuriteError } = await load('dist/node.js');
    const image = await load('dist/image.js');
    const { fuzz, LIMIT_MS, LIMIT_BYTES } = await load('scripts/fuzz/run.mjs');
    const summary = await fuzz({ lib: { nn: await init(), NeuriteError, image }, seed: 20261201, cases: 3000 });
    console.log(`fuzz: ${summary.cases} cases in ${summary.seconds} s; slowest ${summary.slowest.ms} ms (${summary.slowest.what}); `
      + `max growth ${summary.maxMemory.mib} MiB (${summary.maxMemory.what})`);
    expect(LIMIT_MS).toBe(1000);
    expect(LIMIT_BYTES).toBe(256 * 2 ** 20);
    expect(summary.findings).toEqual([]);
    // the cases reach every path: loads that succeed and go on to predict and fit, decodes that
    // succeed, and refusals of each kind
    const o = summary.outcomes as Record<string, number>;
    expect(o['model ok']).toBeGreaterThan(100);
    // a decoded image either frames a digit or is told to have none (noise rarely looks like ink)
    expect((o['image ok'] ?? 0) + (o['image error NO_DIGIT'] ?? 0)).toBeGreaterThan(100);
    for (const code of ['MALFORMED_FILE', 'SHAPE_MISMATCH', 'INVALID_ARGUMENT', 'TOO_LARGE', 'NON_FINITE', 'DIVERGED']) {
      expect(o[`model error ${code}`], code).toBeGreaterThan(0);
    }
  });
});
