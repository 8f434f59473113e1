// writeFileAtomic: a reader sees the old file or the whole new one, never a torn mix, and a
// failed write leaves neither a changed target nor a stray temporary file.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { writeFileAtomic, writeFileAtomicSync } from '../../src/node/atomic-write';

const dir = mkdtempSync(join(tmpdir(), 'neurite-atomic-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('writeFileAtomic', () => {
  for (const [name, write] of [
    ['async', writeFileAtomic],
    ['sync', async (p: string, b: Uint8Array) => writeFileAtomicSync(p, b)],
  ] as const) {
    it(`${name}: creates, then replaces, leaving only the target in the directory`, async () => {
      const sub = join(dir, name);
      mkdirSync(sub);
      const target = join(sub, 'model.safetensors');
      await write(target, new Uint8Array([1, 2, 3]));
      expect(Array.from(readFileSync(target))).toEqual([1, 2, 3]);
      const big = new Uint8Array(3 << 20).fill(7);
      await write(target, big);
      expect(readFileSync(target).equals(big)).toBe(true);
      expect(readdirSync(sub)).toEqual(['model.safetensors']);
    });

    it(`${name}: a write that fails changes nothing and leaves no temporary file`, async () => {
      const sub = join(dir, `${name}-fail`);
      mkdirSync(sub);
      // renaming a file over a non-empty directory fails after the temporary file is written
      const target = join(sub, 'taken');
      mkdirSync(target);
      writeFileSync(join(target, 'inside'), 'kept');
      await expect(write(target, new Uint8Array(10))).rejects.toThrow();
      expect(statSync(target).isDirectory()).toBe(true);
      expect(readdirSync(sub)).toEqual(['taken']);
      await expect(write(join(sub, 'missing-dir', 'f'), new Uint8Array(1))).rejects.toThrow();
    });
  }

  it('a writer killed mid-way leaves the old file or the new one, whole', async () => {
    const target = join(dir, 'killed.bin');
    const size = 32 << 20;
    writeFileSync(target, new Uint8Array(size).fill(1));
    // a child rewrites the file with 2s, then 3s, … as fast as it can; it is killed at a random moment
    const helper = pathToFileURL(join(__dirname, '../../dist/atomic-write.js')).href;
    const child = spawn(process.execPath, ['--input-type=module', '-e', `
      import { writeFileAtomicSync } from ${JSON.stringify(helper)};
      const bytes = new Uint8Array(${size});
      for (let v = 2; ; v = v === 250 ? 2 : v + 1) { bytes.fill(v); writeFileAtomicSync(${JSON.stringify(target)}, bytes); process.stdout.write('.'); }
    `], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    await new Promise((r) => setTimeout(r, 50 + Math.random() * 150));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const after = readFileSync(target);
    expect(after.length).toBe(size);
    expect(after.every((b) => b === after[0])).toBe(true);
  });
});
