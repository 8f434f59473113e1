// A kill between a group commit and the PUBACKs it allows: a relay drops everything the gateway
// sends, so the readings of two sensors that arrive together are taken and made durable in a few
// shared writes, while their scores never reach the broker and no PUBACK is sent; then SIGKILL.
// The next run re-sends every one of those scores from the journal, the broker redelivers the
// readings (dropped as already taken), and each reading is scored exactly once.
import { rmSync } from 'node:fs';
import { afterEach, expect, it } from 'vitest';
// @ts-expect-error plain ESM helper without types
import { moteRows } from '../../examples/gateway/dataset.mjs';
// @ts-expect-error plain ESM helper without types
import { readJournal } from '../../examples/gateway/journal.mjs';
import { kill, listen, publisher, startBroker, startGateway, startRelay, tempDir, type Gateway } from './harness';

const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => { for (const c of cleanup.splice(0).reverse()) await c(); });

interface Row { reading: number; humidity: number; temperature: number }

it('SIGKILL after a group commit of readings of two sensors, before any score or PUBACK got out: each scored once after the restart', async () => {
  const broker = await startBroker('mosquitto');
  cleanup.push(() => broker.stop());
  const state = tempDir();
  cleanup.push(() => rmSync(state, { recursive: true, force: true }));
  const relay = await startRelay(broker.url);
  cleanup.push(() => relay.close());
  let gw: Gateway = await startGateway(relay.url, state);
  cleanup.push(() => kill(gw));
  const sub = await listen(broker.url);
  cleanup.push(() => sub.close());
  const pub = await publisher(broker.url);
  cleanup.push(() => pub.close());

  const sensors: Record<string, Row[]> = { mote1: moteRows(1).slice(0, 41), mote4: moteRows(4).slice(0, 41) };
  const body = (r: Row) => ({ seq: r.reading, humidity: r.humidity, temperature: r.temperature });
  // each sensor's first window and one scored reading, all the way through
  for (const [id, rows] of Object.entries(sensors)) for (const r of rows.slice(0, 33)) await pub.send(id, body(r));
  await sub.until(() => sub.scores.size === 2, 'the first score of each sensor');
  await new Promise((r) => setTimeout(r, 300)); // their PUBACKs reach the broker

  const before = readJournal(state).records;
  relay.hold();
  // 8 readings of each sensor at once (16: within mosquitto's in-flight window of 20)
  for (let k = 33; k < 41; k++) for (const [id, rows] of Object.entries(sensors)) pub.client.publish(`sensors/${id}/reading`, JSON.stringify(body(rows[k])), { qos: 1 });
  const last = (id: string) => sensors[id][40].reading;
  const durable = () => {
    const states = readJournal(state).states;
    return Object.keys(sensors).every((id) => states.get(id)?.lastSeq === last(id));
  };
  for (const t0 = Date.now(); !durable(); await new Promise((r) => setTimeout(r, 20))) {
    if (Date.now() - t0 > 15_000) throw new Error('the 16 readings were not made durable within 15 s');
  }
  const journal = readJournal(state);
  expect(journal.records - before, 'writes for 16 readings').toBeLessThan(16);
  const outs = [...journal.states.values()].flatMap((s: { outs: { seq: number; phase: string }[] }) => s.outs);
  expect(outs.filter((o) => o.phase === 'publish')).toHaveLength(16);
  expect(sub.scores.size, 'no score got past the relay').toBe(2);

  await kill(gw);
  await relay.close();
  gw = await startGateway(broker.url, state);
  expect(gw.output.match(/re-sending the score of seq \d+ \(PUBLISH/g)).toHaveLength(16);
  const expected = Object.entries(sensors).flatMap(([id, rows]) => rows.slice(32).map((r) => `${id}:${r.reading}`));
  await sub.until(() => expected.every((k) => sub.scores.has(k)), 'every score after the restart');
  await new Promise((r) => setTimeout(r, 500)); // a second copy would arrive by now
  for (const k of expected) expect(sub.scores.get(k), k).toHaveLength(1);
  expect(sub.scores.size).toBe(expected.length);
}, 60_000);
