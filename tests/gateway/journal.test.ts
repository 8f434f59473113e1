// The gateway's durable path in process: the group commit (calls made while a write is in flight
// share the next write, which holds the items as they are when it begins), the journal (a batch of
// several sensors comes back after a reopen; a torn or bit-flipped tail is where reading stops;
// compaction bounds the file) and the PUBACK queue (arrival order, each when its reading is done).
import { appendFileSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
// @ts-expect-error plain ESM helper without types
import { Acks } from '../../examples/gateway/acks.mjs';
// @ts-expect-error plain ESM helper without types
import { GroupCommit } from '../../examples/gateway/group-commit.mjs';
// @ts-expect-error plain ESM helper without types
import { JOURNAL, Journal, readJournal } from '../../examples/gateway/journal.mjs';
import { tempDir } from './harness';

const dirs: string[] = [];
afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }); });
const dir = () => { const d = tempDir(); dirs.push(d); return d; };
const turn = () => new Promise((r) => setImmediate(r));

interface Item { id: string; v: number }

/** A GroupCommit whose writes record what they captured and finish when the test says so. */
function controlled() {
  const writes: { items: string[]; finish: (e?: Error) => void }[] = [];
  const gc = new GroupCommit((items: Item[]) => {
    const captured = items.map((i) => `${i.id}=${i.v}`).sort();
    return new Promise<void>((resolve, reject) => writes.push({ items: captured, finish: (e) => (e ? reject(e) : resolve()) }));
  });
  return { gc, writes };
}

describe('GroupCommit', () => {
  it('commits of one turn share a write; those made while it is in flight all share the next, captured when it begins', async () => {
    const { gc, writes } = controlled();
    const a: Item = { id: 'a', v: 1 }; const b: Item = { id: 'b', v: 1 }; const c: Item = { id: 'c', v: 1 };
    const done: string[] = [];
    gc.commit(a).then(() => done.push('a1'));
    gc.commit(b).then(() => done.push('b1'));
    expect(writes).toHaveLength(0); // waits for the turn to end
    await turn();
    expect(writes.map((w) => w.items)).toEqual([['a=1', 'b=1']]);

    // 30 readings of three sensors while the first write is in flight
    for (let k = 0; k < 10; k++) {
      for (const x of [a, b, c]) { x.v++; gc.commit(x).then(() => done.push(x.id)); }
    }
    await turn();
    expect(writes).toHaveLength(1);
    c.v = 99; // changed before the next write begins: that write holds it
    writes[0].finish();
    await turn();
    expect(done).toEqual(['a1', 'b1']);
    expect(writes.map((w) => w.items)).toEqual([['a=1', 'b=1'], ['a=11', 'b=11', 'c=99']]);
    writes[1].finish();
    await turn();
    expect(done).toHaveLength(2 + 30);
    expect(gc.writes).toBe(2);
    expect(gc.items).toBe(5);
  });

  it('a touched item rides along with the next write without asking for one', async () => {
    const { gc, writes } = controlled();
    gc.touch({ id: 't', v: 1 });
    await turn();
    expect(writes).toHaveLength(0);
    const p = gc.commit({ id: 'u', v: 1 });
    await turn();
    expect(writes[0].items).toEqual(['t=1', 'u=1']);
    writes[0].finish();
    await p;
    const empty = gc.commit(); // nothing changed: no write
    await turn();
    await empty;
    expect(writes).toHaveLength(1);
  });

  it('a failed write rejects every caller of its batch; the next batch still runs', async () => {
    const { gc, writes } = controlled();
    const first = [gc.commit({ id: 'a', v: 1 }), gc.commit({ id: 'b', v: 1 })];
    await turn();
    const second = gc.commit({ id: 'c', v: 1 });
    writes[0].finish(new Error('EIO'));
    for (const p of first) await expect(p).rejects.toThrow('EIO');
    await turn();
    writes[1].finish();
    await expect(second).resolves.toBeUndefined();
  });
});

const state = (sensor: string, lastSeq: number) => ({ sensor, slot: 0, lastSeq, window: [[lastSeq, 1]], readings: lastSeq + 1,
  scored: 0, anomalies: 0, duplicates: 0, mid: lastSeq + 1, outs: [{ seq: lastSeq, mid: lastSeq + 1, topic: `sensors/${sensor}/score`, payload: '{}', phase: 'publish' }] });

describe('Journal', () => {
  it('a batch of several sensors comes back whole after a reopen, the last record of each sensor winning', async () => {
    const d = dir();
    const j = await Journal.open(d, [state('s1', 0)]);
    await j.write([state('s1', 1), state('s2', 1), state('s3', 1)], () => []);
    await j.write([state('s2', 2)], () => []);
    await j.close();
    const r = readJournal(d);
    expect(r.stopped).toBeUndefined();
    expect(r.records).toBe(3);
    expect([...r.states.values()].map((s: { sensor: string; lastSeq: number }) => `${s.sensor}:${s.lastSeq}`)).toEqual(['s1:1', 's2:2', 's3:1']);
    expect(readJournal(dir())).toBeUndefined(); // no journal yet
  });

  it('reading stops at a torn or bit-flipped last record: the ones before it stand, and opening compacts them', async () => {
    const d = dir();
    const j = await Journal.open(d, []);
    await j.write([state('s1', 1), state('s2', 1)], () => []);
    const whole = statSync(join(d, JOURNAL)).size;
    await j.write([state('s1', 2), state('s2', 2)], () => []);
    await j.close();
    const path = join(d, JOURNAL);
    const bytes = readFileSync(path);
    const seqs = () => [...readJournal(d).states.values()].map((s: { lastSeq: number }) => s.lastSeq);

    for (const cut of [whole + 3, whole + 8, bytes.length - 1]) { // in the header, right after it, the last byte
      writeFileSync(path, bytes);
      truncateSync(path, cut);
      expect(readJournal(d).stopped, `cut at ${cut}`).toMatch(/torn record/);
      expect(seqs()).toEqual([1, 1]);
    }
    writeFileSync(path, bytes);
    const flipped = Buffer.from(bytes);
    flipped[bytes.length - 20] ^= 0x10;
    writeFileSync(path, flipped);
    expect(readJournal(d).stopped).toMatch(/checksum mismatch/);
    expect(seqs()).toEqual([1, 1]);
    appendFileSync(path, Buffer.alloc(3)); // garbage after it changes nothing

    const again = await Journal.open(d, [...readJournal(d).states.values()]);
    await again.write([state('s3', 5)], () => []);
    await again.close();
    const r = readJournal(d);
    expect(r.stopped).toBeUndefined();
    expect(r.records).toBe(2);
    expect(seqs()).toEqual([1, 1, 5]);
  });

  it('past its limit a write is a compaction to every state: the file stays bounded', async () => {
    const d = dir();
    const all = new Map<string, ReturnType<typeof state>>();
    const j = await Journal.open(d, [], { limit: 4096 });
    let max = 0;
    for (let seq = 0; seq < 200; seq++) {
      const changed = [state(`s${seq % 5}`, seq)];
      for (const s of changed) all.set(s.sensor, s);
      await j.write(changed, () => [...all.values()]);
      max = Math.max(max, statSync(join(d, JOURNAL)).size);
    }
    await j.close();
    expect(j.compactions).toBeGreaterThan(5);
    expect(max).toBeLessThan(4096 + 1024);
    const r = readJournal(d);
    expect(r.stopped).toBeUndefined();
    expect([...r.states.values()].map((s: { lastSeq: number }) => s.lastSeq).sort((x, y) => x - y)).toEqual([195, 196, 197, 198, 199]);
  });
});

describe('Acks', () => {
  it('each PUBACK waits for its reading and goes out in arrival order; other packets are not held', async () => {
    const sent: number[] = [];
    const acks = new Acks((p: { messageId: number }) => sent.push(p.messageId), (e: Error) => { throw e; });
    const finish: Array<() => void> = [];
    for (const id of [7, 8, 9]) {
      acks.add(id, new Promise<void>((r) => finish.push(r)));
      expect(acks.hold({ cmd: 'puback', messageId: id })).toBe(true);
    }
    expect(acks.hold({ cmd: 'puback', messageId: 10 })).toBe(false);
    finish[2](); finish[1]();
    await turn();
    expect(sent).toEqual([]);
    finish[0]();
    await turn();
    expect(sent).toEqual([7, 8, 9]);
    expect(acks.size).toBe(0);
  });
});
