// The checkpoint store on real files: rotation, checksums, fallback past torn and bit-flipped
// checkpoints, stray temp files, and a writer SIGKILLed at random moments that never leaves a
// corrupt checkpoint behind.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { CheckpointStore, verifyChecksum } from '../../src/node/index';
import { runtime } from '../helpers/neurite';

const dirs: string[] = [];
const tempDir = () => { const d = mkdtempSync(join(tmpdir(), 'neurite-ckpt-')); dirs.push(d); return d; };
afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }); });

async function trainedModel(seed: number) {
  const nn = await runtime('relaxed');
  const m = nn.sequential({ inputShape: [5, 2], seed, layers: [{ type: 'lstm', units: 4 }, { type: 'dense', units: 1 }] });
  await m.fit(new Float32Array(16 * 10).map((_, i) => Math.sin(i)), new Float32Array(16).fill(0.5), { epochs: 1, batchSize: 8, loss: 'mse' });
  return { nn, m };
}

describe('CheckpointStore', () => {
  it('keeps the newest N, each with a verifying SHA-256, and loads the newest', async () => {
    const dir = tempDir();
    const { nn, m } = await trainedModel(1);
    const store = new CheckpointStore(dir, { keep: 3 });
    const saved = [];
    for (let i = 0; i < 5; i++) {
      await m.fit(new Float32Array(8 * 10).fill(i / 10), new Float32Array(8).fill(1), { epochs: 1, loss: 'mse' });
      saved.push(await store.save(m));
    }
    expect(saved.map((c) => c.sequence)).toEqual([1, 2, 3, 4, 5]);
    const files = await store.list();
    expect(files.map((f) => f.sequence)).toEqual([5, 4, 3]);
    for (const f of files) expect(await verifyChecksum(new Uint8Array(readFileSync(f.path)))).toBeUndefined();
    const { model, path, skipped } = await store.load(nn);
    expect(path).toBe(saved[4].path);
    expect(skipped).toEqual([]);
    const x = new Float32Array(10).fill(0.3);
    expect(Array.from(model!.predict(x))).toEqual(Array.from(m.predict(x)));
    // training state came along: the same step count
    expect(model!.engine.trainer!.step).toBe(m.engine.trainer!.step);
    // a new store on the same directory continues the numbering
    expect((await new CheckpointStore(dir, { keep: 3 }).save(m)).sequence).toBe(6);
  });

  it('falls back past a truncated, a bit-flipped and an empty newest checkpoint, saying which it skipped and why', async () => {
    const dir = tempDir();
    const { nn, m } = await trainedModel(2);
    const store = new CheckpointStore(dir, { keep: 5 });
    const first = await store.save(m);
    const a = await store.save(m);
    const b = await store.save(m);
    const c = await store.save(m);
    truncateSync(c.path, Math.floor(c.bytes.length / 2)); // power lost after the rename
    const flipped = new Uint8Array(b.bytes);
    flipped[flipped.length - 3] ^= 0x10; // one bit in the tensor data
    writeFileSync(b.path, flipped);
    writeFileSync(a.path, new Uint8Array(0));
    const { checkpoint, skipped } = await store.latest();
    expect(checkpoint?.path).toBe(first.path);
    expect(skipped.map((s) => s.path)).toEqual([c.path, b.path, a.path]);
    expect(skipped[1].reason).toMatch(/SHA-256 mismatch/);
    const loaded = await store.load(nn);
    expect(loaded.path).toBe(first.path);
    expect(loaded.skipped).toHaveLength(3);
    // nothing that verifies: no model, every file named
    writeFileSync(first.path, new Uint8Array([1, 2, 3]));
    const none = await store.load(nn);
    expect(none.model).toBeUndefined();
    expect(none.skipped).toHaveLength(4);
  });

  it('refuses bad options; an empty or missing directory has no checkpoint', async () => {
    expect(() => new CheckpointStore('x', { keep: 0 })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => new CheckpointStore('x', { name: '../evil' })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => new CheckpointStore('x', { kep: 2 } as never)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(await new CheckpointStore(join(tempDir(), 'absent')).latest()).toEqual({ skipped: [] });
  });

  it('a writer SIGKILLed at 10 random moments never leaves a corrupt checkpoint, and always leaves one', async () => {
    const dir = tempDir();
    const script = fileURLToPath(new URL('./checkpoint-writer.mjs', import.meta.url));
    const { nn } = await trainedModel(3);
    let seen = 0;
    for (let round = 0; round < 10; round++) {
      const child = spawn(process.execPath, ['--experimental-wasm-relaxed-simd', script, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
      // wait until it has written at least one checkpoint in this round, then kill it mid-work
      await new Promise<void>((resolve, reject) => {
        let buf = '';
        child.stdout!.on('data', (d) => {
          buf += d;
          if (buf.includes('saved')) resolve();
        });
        child.on('exit', (code) => reject(new Error(`writer exited early with ${code}`)));
      });
      await new Promise((r) => setTimeout(r, 5 + Math.floor(Math.random() * 40)));
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      const store = new CheckpointStore(dir, { keep: 3 });
      const files = await store.list();
      expect(files.length).toBeGreaterThan(0);
      for (const f of files) expect(await verifyChecksum(new Uint8Array(readFileSync(f.path))), f.path).toBeUndefined();
      const { model, skipped } = await store.load(nn);
      expect(skipped).toEqual([]);
      expect(model).toBeDefined();
      seen = Math.max(seen, files[0].sequence);
    }
    expect(seen).toBeGreaterThan(10);
    // at most the last killed write's temp file is left, and the next save removes it
    await new CheckpointStore(dir, { keep: 3 }).save((await new CheckpointStore(dir).latest()).checkpoint!.bytes);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});
