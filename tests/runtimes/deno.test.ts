// The shared runtime cases under Deno (the npm package `deno`, `deno test`), both as an npm
// package resolved through node_modules with Deno's export conditions and by a local path.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
// @ts-expect-error plain ES module
import { deno, makeConsumer, runDenoCases } from './deno.mjs';
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

  it('neurite/node: the checkpoint store writes, rotates and falls back past a corrupt checkpoint', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'neurite-deno-ckpt-'));
    try {
      const script = join(ROOT, 'tests', 'runtimes', 'deno', 'checkpoints.mjs');
      const run = await deno(['run', `--allow-read=${ROOT},${dir}`, `--allow-write=${dir}`, script, dir]);
      expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
      const r = JSON.parse(run.stdout.trim().split('\n').pop()!);
      expect(r.files).toEqual([r.saved[2], r.saved[1]]); // keep: 2
      expect(r.path).toBe(r.saved[1]);
      expect(r.skipped).toEqual([r.saved[2]]);
      expect(r.reason).toMatch(/SHA-256 mismatch/);
      expect(r.same).toBe(true);
      expect(r.step).toBe(4); // training state restored: 2 fits of 2 steps
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
