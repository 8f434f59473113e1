// The gateway against the embedded aedes broker and a real mosquitto: real TelosB readings in,
// exactly one score out per reading after the first window, the labelled event of mote 4 flagged
// near its onset, bad payloads reported on gateway/errors without stopping the gateway.
import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
// @ts-expect-error plain ESM helper without types
import { events, moteRows } from '../../examples/gateway/dataset.mjs';
import { kill, listen, publisher, startBroker, startGateway, tempDir, type Broker, type Gateway } from './harness';

const WINDOW = 32;
const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => { for (const c of cleanup.splice(0).reverse()) await c(); });

describe.each(['aedes', 'mosquitto'] as const)('gateway with %s', (kind) => {
  it('scores real readings once each and flags the labelled event within 3 readings of its onset', async () => {
    const broker: Broker = await startBroker(kind);
    cleanup.push(() => broker.stop());
    const state = tempDir();
    cleanup.push(() => rmSync(state, { recursive: true, force: true }));
    const gw: Gateway = await startGateway(broker.url, state);
    cleanup.push(() => kill(gw, 'SIGTERM'));
    const sub = await listen(broker.url);
    cleanup.push(() => sub.close());
    const pub = await publisher(broker.url);
    cleanup.push(() => pub.close());

    // mote 4 around its labelled event (onset at reading 2362)
    const rows = moteRows(4);
    const [[onset]] = events(rows);
    const part = rows.slice(onset - WINDOW - 40, onset + 12);
    for (const r of part) await pub.send('mote4', { seq: r.reading, humidity: r.humidity, temperature: r.temperature });
    const expected = part.slice(WINDOW).map((r: { reading: number }) => `mote4:${r.reading}`);
    await sub.until(() => expected.every((k: string) => sub.scores.has(k)), 'every score');

    // the first window is not scored; every later reading exactly once
    for (const r of part.slice(0, WINDOW)) expect(sub.scores.has(`mote4:${r.reading}`)).toBe(false);
    for (const k of expected) expect(sub.scores.get(k), k).toHaveLength(1);
    const s = sub.scores.get(expected[0])![0];
    expect(Object.keys(s).sort()).toEqual(['anomaly', 'forecast', 'score', 'seq']);
    expect(Math.abs(s.forecast.humidity - part[WINDOW - 1].humidity)).toBeLessThan(1);
    // flagged within 3 readings of the onset; the normal readings before it are not
    const flagged = part.filter((r: { reading: number }) => sub.scores.get(`mote4:${r.reading}`)?.[0].anomaly).map((r: { reading: number }) => r.reading);
    const onsetSeq = rows[onset].reading;
    expect(flagged.some((q: number) => q >= onsetSeq && q <= onsetSeq + 3), `flagged ${flagged}`).toBe(true);
    expect(flagged.filter((q: number) => q < onsetSeq)).toEqual([]);

    // bad payloads: reported on gateway/errors, never fatal
    await pub.send('mote4', 'not json');
    await pub.send('mote4', { seq: 'x', humidity: 1, temperature: 2 });
    await pub.send('mote4', { seq: 99999, humidity: 'wet', temperature: 2 });
    await pub.send('bad.id', { seq: 1, humidity: 1, temperature: 2 });
    const last = rows[onset + 12];
    await pub.send('mote4', { seq: last.reading, humidity: last.humidity, temperature: last.temperature });
    await sub.until(() => sub.scores.has(`mote4:${last.reading}`) && sub.errors.length >= 4, 'errors and the next score');
    expect(sub.errors.map((e) => e.code)).toEqual(['BAD_PAYLOAD', 'BAD_PAYLOAD', 'BAD_PAYLOAD', 'BAD_TOPIC']);
    expect(sub.errors[2].error).toMatch(/humidity/);
    expect(gw.exitCode).toBeNull();
  });
});
