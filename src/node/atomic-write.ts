// Files the project writes either keep their old content or hold the whole new one, never a torn
// mix, even if the process or the machine dies mid-write: the bytes go to a temporary file in the
// same directory (a rename is only atomic within one file system), which is flushed to disk,
// renamed over the target, and then the directory itself is flushed so the rename survives a
// power cut. Node-only (node:fs); the browser and Workers entries never import this module.
import { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** A name in the target's directory that no other writer (process or call) will pick. */
function tempName(path: string): string {
  const tag = `${process.pid}.${Date.now().toString(36)}.${Math.random().toString(36).slice(2, 10)}`;
  return join(dirname(path), `.${basename(path)}.${tag}.tmp`);
}

// Some platforms (Windows) cannot open or fsync a directory; there the rename is all we get.
function fsyncDirSync(dir: string): void {
  let fd: number;
  try { fd = openSync(dir, 'r'); } catch { return; }
  try { fsyncSync(fd); } catch { /* not supported for directories here */ } finally { closeSync(fd); }
}

async function fsyncDir(dir: string): Promise<void> {
  let handle;
  try { handle = await open(dir, 'r'); } catch { return; }
  try { await handle.sync(); } catch { /* not supported for directories here */ } finally { await handle.close(); }
}

/** Replace `path` with `bytes` atomically and durably (temp file, fsync, rename, fsync dir). */
export async function writeFileAtomic(path: string, bytes: Uint8Array): Promise<void> {
  const temp = tempName(path);
  // 'wx': never follow or reuse something already at the temporary name
  const handle = await open(temp, 'wx', 0o644);
  try {
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (e) {
    await unlink(temp).catch(() => {});
    throw e;
  }
  await fsyncDir(dirname(path));
}

/** The same, synchronously, for command-line tools and build scripts. */
export function writeFileAtomicSync(path: string, bytes: Uint8Array): void {
  const temp = tempName(path);
  const fd = openSync(temp, 'wx', 0o644);
  try {
    try {
      for (let at = 0; at < bytes.length;) at += writeSync(fd, bytes, at, bytes.length - at);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, path);
  } catch (e) {
    try { unlinkSync(temp); } catch { /* already gone */ }
    throw e;
  }
  fsyncDirSync(dirname(path));
}
