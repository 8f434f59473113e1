// The ingestion state of every sensor in one append-only file, DIR/ingest.journal, so that one
// write and one fdatasync make a whole batch of readings of any number of sensors durable
// (group-commit.mjs decides what a batch is). A record is
//   [u32 LE length n][4 bytes: start of the SHA-256 of the n bytes][n bytes of JSON]
// holding { states: [...] }: the full state of each sensor that changed (it replaces that
// sensor's earlier one), or { snapshot: true, states } with every sensor: the first record of a
// file. Reading stops at the first record that is short or whose checksum fails: a write torn by
// a kill or a power cut, whose fdatasync never returned, so nothing that depends on it was sent.
//
// Bounded: once the file passes `limit` bytes the next write is a compaction: a new file holding
// one snapshot, put in place atomically (temp file, fsync, rename, fsync dir). Opening compacts
// too, so a torn tail is never left in front of later records.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../../dist/atomic-write.js';

export const JOURNAL = 'ingest.journal';
const HEAD = 8;
const MAX_RECORD = 64 * 2 ** 20; // a length beyond it is a torn or foreign header, not a record

const checksum = (bytes) => createHash('sha256').update(bytes).digest().subarray(0, 4);

function frame(value) {
  const body = Buffer.from(JSON.stringify(value));
  const head = Buffer.alloc(HEAD);
  head.writeUInt32LE(body.length, 0);
  checksum(body).copy(head, 4);
  return Buffer.concat([head, body]);
}

/**
 * The states in the journal under `stateDir` (sensor id → state, the last record of each sensor
 * winning), how many records were read, and why reading stopped early, if it did.
 * @returns {{ states: Map<string, object>, records: number, bytes: number, stopped?: string } | undefined} undefined: no journal
 */
export function readJournal(stateDir) {
  let bytes;
  try { bytes = readFileSync(join(stateDir, JOURNAL)); } catch (e) {
    if (e.code === 'ENOENT') return undefined;
    throw e;
  }
  const states = new Map();
  let at = 0;
  let records = 0;
  let stopped;
  while (at < bytes.length) {
    if (bytes.length - at < HEAD) { stopped = `torn record header at byte ${at}`; break; }
    const n = bytes.readUInt32LE(at);
    if (n > MAX_RECORD || at + HEAD + n > bytes.length) { stopped = `torn record at byte ${at} (${n} bytes announced, ${bytes.length - at - HEAD} there)`; break; }
    const body = bytes.subarray(at + HEAD, at + HEAD + n);
    if (!checksum(body).equals(bytes.subarray(at + 4, at + HEAD))) { stopped = `checksum mismatch in the record at byte ${at}`; break; }
    let record;
    try { record = JSON.parse(body.toString('utf8')); } catch (e) { stopped = `record at byte ${at} is not JSON (${e.message})`; break; }
    if (!Array.isArray(record?.states)) { stopped = `record at byte ${at} has no states`; break; }
    if (record.snapshot) states.clear();
    for (const s of record.states) states.set(String(s?.sensor), s);
    records++;
    at += HEAD + n;
  }
  return { states, records, bytes: at, ...(stopped && { stopped }) };
}

export class Journal {
  /**
   * Start a fresh journal under `stateDir` holding `states` (a compaction), open for appending.
   * @param {object[]} states @param {{ limit?: number }} [options] limit: bytes before a compaction
   */
  static async open(stateDir, states, { limit = 4 * 2 ** 20 } = {}) {
    const j = new Journal(stateDir, limit);
    await j.compact(states);
    return j;
  }

  constructor(stateDir, limit) {
    mkdirSync(stateDir, { recursive: true });
    this.path = join(stateDir, JOURNAL);
    this.limit = limit;
    this.handle = null;
    this.size = 0;
    this.compactions = 0;
  }

  /**
   * Make `changed` durable: one append and fdatasync, or, past the limit, a compaction to `all()`.
   * Both are serialized before the first await (the contract of group-commit.mjs).
   * @param {object[]} changed @param {() => object[]} all
   */
  async write(changed, all) {
    if (this.size >= this.limit) return this.compact(all());
    const bytes = frame({ states: changed });
    for (let at = 0; at < bytes.length;) at += (await this.handle.write(bytes, at)).bytesWritten;
    await this.handle.datasync();
    this.size += bytes.length;
  }

  async compact(states) {
    const bytes = frame({ snapshot: true, states });
    await writeFileAtomic(this.path, bytes);
    await this.handle?.close();
    this.handle = await open(this.path, 'a');
    this.size = bytes.length;
    this.compactions++;
  }

  async close() {
    await this.handle?.close();
    this.handle = null;
  }
}
