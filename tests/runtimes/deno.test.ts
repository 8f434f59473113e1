// The shared runtime cases under Deno (the npm package `deno`, `deno test`), both as an npm
// package resolved through node_modules with Deno's export conditions and by a local path.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
// @ts-expect-error plain ES module
import { makeConsumer, runDenoCases } from './deno.mjs';
// @ts-expect-error plain ES module
import { describeResult, nodeReference, ROOT } from './fixtures.mjs';
import { expectSharedCases } from './expect';

describe('Deno', () => {
  const consumer = makeConsumer();
  afterAll(() => consumer.dispose());

  it("import 'neurite' from a project that has it in node_modules", async () => {
    const run = await runDenoCases({ entry: consumer.entry, label: 'npm package', cwd: consumer.dir, readDirs: [consumer.dir] });
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
    console.log(describeResult(`Deno ${run.result?.deno} (npm package)`, run.result));
    // Deno's "deno" condition (listed before "node") leads to the browser/Deno entry
    expect(run.result.resolvedFrom).toMatch(/\/node_modules\/neurite\/dist\/index\.js$/);
    expectSharedCases(run.result, await nodeReference(), 'relaxed');
  });

  it('import from a local path to dist/index.js', async () => {
    const entry = pathToFileURL(join(ROOT, 'dist', 'index.js')).href;
    const run = await runDenoCases({ entry, label: 'local path' });
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
    console.log(describeResult(`Deno ${run.result?.deno} (local path)`, run.result));
    expectSharedCases(run.result, await nodeReference(), 'relaxed');
  });
});
