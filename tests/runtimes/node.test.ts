// The shared runtime cases in Node: in this process (the reference the other runtimes are held
// to), and in fresh processes that import the package by its name, as an application does.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error plain ES module shared with the other runtimes
import { describeResult, nodeReference, ROOT } from './fixtures.mjs';
import { expectSharedCases, type CasesResult } from './expect';

function runFresh(flags: string[]): CasesResult & { node: string } {
  const child = spawnSync(process.execPath, [...flags, join(ROOT, 'tests/runtimes/node/main.mjs')], {
    cwd: ROOT, encoding: 'utf8', timeout: 60_000,
  });
  expect(child.status, child.stderr).toBe(0);
  return JSON.parse(child.stdout);
}

describe('Node', () => {
  it('runs the shared cases in-process on dist/node.js (the reference)', async () => {
    const ref: CasesResult = await nodeReference();
    console.log(describeResult(`Node ${process.version} (in-process, --experimental-wasm-relaxed-simd)`, ref));
    expectSharedCases(ref, ref, 'relaxed');
    expect(ref.accuracy).toBe(1); // the first 64 test digits are all read right
  });

  it("import 'neurite' in a fresh process with relaxed SIMD enabled picks the relaxed build", async () => {
    const result = runFresh(['--experimental-wasm-relaxed-simd']);
    console.log(describeResult(`Node ${result.node} (fresh process, relaxed SIMD flag)`, result));
    expectSharedCases(result, await nodeReference(), 'relaxed');
  });

  it("import 'neurite' in a fresh process without the flag picks what the engine validates", async () => {
    const result = runFresh([]);
    console.log(describeResult(`Node ${result.node} (fresh process, no flag)`, result));
    // Node 20 validates relaxed SIMD only behind the flag; later Node versions ship it
    expectSharedCases(result, await nodeReference(), process.versions.node.startsWith('20.') ? 'simd' : undefined);
  });
});
