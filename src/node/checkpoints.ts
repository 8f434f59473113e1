// A directory of checkpoints that survives being killed at any moment (Node and Deno).
//
// Each checkpoint is a model file (by default with its training state, see save({ training }))
// named <name>-<sequence>.safetensors, written atomically (temp file, fsync, rename, fsync the
// directory), with a SHA-256 of its tensor bytes in its metadata (`neurite.sha256`). A process
// killed mid-write leaves at most a stray temp file, never a torn checkpoint; a disk that lies
// (power loss after the rename, a flipped bit) is caught by the checksum: latest() returns the
// newest checkpoint that verifies and says which newer ones it skipped and why.
import { readdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { NeuriteError } from '../errors';
import { readSafetensors, writeSafetensors } from '../io/safetensors';
import type { Model, SaveOptions } from '../model';
import type { Neurite } from '../neurite';
import { writeFileAtomic } from './atomic-write';

export const CHECKSUM_KEY = 'neurite.sha256';

export interface CheckpointStoreOptions {
  /** checkpoints kept after each save, newest first (default 3) */
  keep?: number;
  /** file name prefix (default 'checkpoint'): [A-Za-z0-9_-]{1,64} */
  name?: string;
}

export interface Checkpoint {
  path: string;
  sequence: number;
  bytes: Uint8Array;
}

export interface Skipped {
  path: string;
  reason: string;
}

/** Offset of the tensor data: after the 8-byte header length and the header. */
function dataOffset(bytes: Uint8Array): number {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(0, true));
  return 8 + n;
}

async function sha256(bytes: Uint8Array): Promise<string> {
  const digest = await globalThis.crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** `bytes` (a model file) with the SHA-256 of its tensor data added to its metadata. */
export async function withChecksum(bytes: Uint8Array): Promise<Uint8Array> {
  const file = readSafetensors(bytes);
  const hash = await sha256(bytes.subarray(dataOffset(bytes)));
  const tensors = new Map([...file.tensors].map(([k, t]) => [k, { shape: [...t.shape], data: t.data }]));
  const out = writeSafetensors(tensors, { ...file.metadata, [CHECKSUM_KEY]: hash });
  // the data section does not depend on the metadata: the hash holds for the new file
  return out;
}

/** Why `bytes` is not a sound checkpoint, or undefined when it verifies. */
export async function verifyChecksum(bytes: Uint8Array): Promise<string | undefined> {
  let want: string | undefined;
  try {
    want = readSafetensors(bytes).metadata[CHECKSUM_KEY];
  } catch (e) {
    return e instanceof NeuriteError ? e.message : String(e);
  }
  if (want === undefined) return `no ${CHECKSUM_KEY} in its metadata`;
  const got = await sha256(bytes.subarray(dataOffset(bytes)));
  return got === want ? undefined : `SHA-256 mismatch: the tensor data hashes to ${got.slice(0, 12)}…, the file says ${want.slice(0, 12)}…`;
}

export class CheckpointStore {
  readonly keep: number;
  readonly name: string;
  private readonly pattern: RegExp;
  private next = -1;

  constructor(readonly dir: string, options: CheckpointStoreOptions = {}) {
    const keep = options.keep ?? 3;
    if (!Number.isSafeInteger(keep) || keep < 1) throw new NeuriteError('INVALID_ARGUMENT', `CheckpointStore: keep must be a positive integer, got ${keep}`);
    const name = options.name ?? 'checkpoint';
    if (typeof name !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(name)) {
      throw new NeuriteError('INVALID_ARGUMENT', `CheckpointStore: name must be 1-64 characters of [A-Za-z0-9_-], got ${JSON.stringify(name)}`);
    }
    for (const k of Object.keys(options)) {
      if (k !== 'keep' && k !== 'name') throw new NeuriteError('INVALID_ARGUMENT', `CheckpointStore: unknown option ${JSON.stringify(k)} (known: keep, name)`);
    }
    this.keep = keep;
    this.name = name;
    this.pattern = new RegExp(`^${name}-(\\d{12})\\.safetensors$`);
  }

  /** Checkpoint files, newest first. */
  async list(): Promise<{ path: string; sequence: number }[]> {
    let names: string[];
    try { names = await readdir(this.dir); } catch (e) {
      if ((e as { code?: string }).code === 'ENOENT') return [];
      throw e;
    }
    return names.flatMap((f) => {
      const m = this.pattern.exec(f);
      return m ? [{ path: join(this.dir, f), sequence: Number(m[1]) }] : [];
    }).sort((a, b) => b.sequence - a.sequence);
  }

  /**
   * Write a checkpoint of `model` (its training state too unless `training: false`), or of
   * model-file bytes, atomically; then drop all but the newest `keep`.
   */
  async save(model: Model | Uint8Array, options: SaveOptions = { training: true }): Promise<Checkpoint> {
    const raw = model instanceof Uint8Array ? model : model.save(options);
    const bytes = await withChecksum(raw);
    if (this.next < 0) this.next = ((await this.list())[0]?.sequence ?? 0) + 1;
    const sequence = this.next++;
    const path = join(this.dir, `${this.name}-${String(sequence).padStart(12, '0')}.safetensors`);
    await writeFileAtomic(path, bytes);
    const all = await this.list();
    for (const old of all.slice(this.keep)) await unlink(old.path).catch(() => {});
    await this.removeStrayTemps();
    return { path, sequence, bytes };
  }

  /**
   * Checkpoints whose checksum verifies, newest first; each one that does not (unreadable,
   * torn, corrupt) is recorded in `skipped` on the way.
   */
  private async *verified(skipped: Skipped[]): AsyncGenerator<Checkpoint> {
    for (const f of await this.list()) {
      let bytes: Uint8Array;
      try { bytes = new Uint8Array(await readFile(f.path)); } catch (e) {
        skipped.push({ path: f.path, reason: `unreadable: ${(e as Error).message}` });
        continue;
      }
      const bad = await verifyChecksum(bytes);
      if (bad) { skipped.push({ path: f.path, reason: bad }); continue; }
      yield { path: f.path, sequence: f.sequence, bytes };
    }
  }

  /** The newest checkpoint whose checksum verifies, and the newer ones skipped (torn, corrupt). */
  async latest(): Promise<{ checkpoint?: Checkpoint; skipped: Skipped[] }> {
    const skipped: Skipped[] = [];
    for await (const checkpoint of this.verified(skipped)) return { checkpoint, skipped };
    return { skipped };
  }

  /**
   * The newest checkpoint that verifies and loads, as a model; the ones skipped on the way.
   * `model` is undefined when there is none.
   */
  async load(nn: Neurite): Promise<{ model?: Model; path?: string; skipped: Skipped[] }> {
    const skipped: Skipped[] = [];
    for await (const c of this.verified(skipped)) {
      try {
        return { model: nn.load(c.bytes), path: c.path, skipped };
      } catch (e) {
        skipped.push({ path: c.path, reason: e instanceof NeuriteError ? `${e.code}: ${e.message}` : String(e) });
      }
    }
    return { skipped };
  }

  // a process killed between creating its temp file and the rename leaves one behind
  private async removeStrayTemps(): Promise<void> {
    let names: string[];
    try { names = await readdir(this.dir); } catch { return; }
    const mine = new RegExp(`^\\.${this.name}-\\d{12}\\.safetensors\\.(\\d+)\\..*\\.tmp$`);
    for (const f of names) {
      const m = mine.exec(f);
      // only other processes' leftovers: a temp of this process may be a write in flight
      if (m && Number(m[1]) !== process.pid) await unlink(join(this.dir, f)).catch(() => {});
    }
  }
}
