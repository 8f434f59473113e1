// Late readings through a real broker and gateway: a reading whose seq is below the last taken but
// was never taken (what aedes delivers after a reconnect) is scored exactly once, flagged `late`,
// and counted in the status; a redelivery of a reading already taken, late or not, is not scored
// again; one older than the tracked span is reported as TOO_LATE; the gaps survive a SIGKILL.
import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
// @ts-expect-error plain ESM helper without types
import { moteRows } from '../../examples/gateway/dataset.mjs';
// @ts-expect-error plain ESM helper without types
import { readJournal } from '../../examples/gateway/journal.mjs';
import { kill, listen, publisher, startBroker, startGateway, tempDir, type Gateway } from './harness';

const WINDOW = 32;
const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => { for (const c of cleanup.splice(0).reverse()) await c(); });

interface Row { reading: number; humidity: number; temperature: number }
const rows: Row[] = moteRows(1); // rows[q - 1].reading === q
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

async function setUp(kind: 'aedes' | 'mosquitto') {
  const broker = await startBroker(kind);
  cleanup.push(() => broker.stop());
  const state = tempDir();
  cleanup.push(() => rmSync(state, { recursive: true, force: true }));
  const gw = { current: await startGateway(broker.url, state) as Gateway };
  cleanup.push(() => kill(gw.current));
  const sub = await listen(broker.url);
  cleanup.push(() => sub.close());
  const pub = await publisher(broker.url);
  cleanup.push(() => pub.close());
  const send = async (...seqs: number[]) => {
    for (const q of seqs) await pub.send('mote1', { seq: q, humidity: rows[q - 1].humidity, temperature: rows[q - 1].temperature });
  };
  const scores = (q: number) => sub.scores.get(`mote1:${q}`) ?? [];
  const scored = (...seqs: number[]) => () => seqs.every((q) => scores(q).length > 0);
  return { broker, state, gw, sub, send, scores, scored };
}

describe.each(['aedes', 'mosquitto'] as const)('late readings with %s', (kind) => {
  it('out of order: one score per seq, late ones flagged and counted, none for duplicates; below the span: TOO_LATE', async () => {
    const { sub, send, scores, scored } = await setUp(kind);
    await send(...range(100, 140));
    await sub.until(scored(...range(100 + WINDOW, 140)), 'the in-order scores', 15_000);
    await send(...range(90, 99)); // late: below 140, never taken
    await send(95, 135, 99, 140, 120); // duplicates of late and in-order readings
    await send(141);
    await sub.until(scored(...range(90, 99), 141), 'the late scores and the next one', 15_000);

    for (const q of range(100, 100 + WINDOW - 1)) expect(scores(q), `seq ${q}`).toHaveLength(0); // the first window
    for (const q of range(100 + WINDOW, 141)) {
      expect(scores(q), `seq ${q}`).toHaveLength(1);
      expect(scores(q)[0].late, `seq ${q}`).toBeUndefined();
    }
    for (const q of range(90, 99)) {
      expect(scores(q), `seq ${q}`).toHaveLength(1);
      expect(scores(q)[0].late, `seq ${q}`).toBe(true);
      expect(Object.keys(scores(q)[0]).sort()).toEqual(['anomaly', 'forecast', 'late', 'score', 'seq']);
    }

    // a jump: what it skips is tracked within the span only
    await send(2000);
    await send(500, 1500, 2001); // 500: below 2000 - 1024 + 1; 1500: in the skipped seqs
    await sub.until(() => scored(1500, 2001)() && sub.errors.length >= 1, 'TOO_LATE and the scores after it', 15_000);
    expect(sub.errors.map((e) => e.code)).toEqual(['TOO_LATE']);
    expect(sub.errors[0].error).toMatch(/seq 500 is below the 1024 seqs tracked up to the last taken \(2000\)/);
    expect(scores(500)).toHaveLength(0);
    expect(scores(1500)[0].late).toBe(true);
    expect(scores(2001)).toHaveLength(1);

    // the status counts them (sent every 5 s)
    await sub.until(() => sub.status?.late === 11, 'a status with the late readings', 15_000);
    expect(sub.status).toMatchObject({ late: 11, duplicates: 5, errors: 1, scored: 141 - 100 - WINDOW + 1 + 10 + 3,
      sensors: { mote1: { late: 11, lastSeq: 2001 } } });
  });
});

it('the gaps survive a SIGKILL: a reading late across a restart is still scored once, a duplicate still not', async () => {
  const { broker, state, gw, sub, send, scores, scored } = await setUp('aedes');
  await send(...range(100, 140), 150);
  await sub.until(scored(150), 'the score of 150', 15_000);
  await kill(gw.current);
  const saved = readJournal(state).states.get('mote1');
  expect(saved).toMatchObject({ lastSeq: 150, gaps: [[0, 99], [141, 149]], late: 0 });

  gw.current = await startGateway(broker.url, state);
  await send(145, 140, 145, 60, 151);
  await sub.until(scored(145, 60, 151), 'the late scores after the restart', 15_000);
  for (const q of [60, 145]) {
    expect(scores(q), `seq ${q}`).toHaveLength(1);
    expect(scores(q)[0].late).toBe(true);
  }
  for (const q of [140, 150, 151]) expect(scores(q), `seq ${q}`).toHaveLength(1);
  await kill(gw.current, 'SIGTERM');
  const after = readJournal(state).states.get('mote1');
  expect(after).toMatchObject({ lastSeq: 151, gaps: [[0, 59], [61, 99], [141, 144], [146, 149]], late: 2 });
  // the window holds the last 32 readings taken in order, none of the late ones
  expect(after.window).toEqual([...range(111, 140), 150, 151].map((q) => [rows[q - 1].humidity, rows[q - 1].temperature]));
});
