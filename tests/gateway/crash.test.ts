// Crash safety of the gateway: SIGKILLed 10 times at random moments while the readings of two
// sensors keep arriving as fast as it takes them (so the kills land in group commits holding
// readings of both, in QoS 2 handshakes, in fine-tuning rounds and checkpoint saves), every
// reading after the first window is still scored exactly once and every checkpoint on disk
// verifies; a torn newest checkpoint (power loss) is skipped, logged, and the previous one is used.
// Against mosquitto and aedes: after a reconnect aedes hands over the readings that arrived
// meanwhile before the unacknowledged older ones, which are then late readings (seq-gaps.mjs).
import { readdirSync, readFileSync, rmSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
// @ts-expect-error plain ESM helper without types
import { moteRows } from '../../examples/gateway/dataset.mjs';
import { verifyChecksum } from '../../src/node/index';
import { kill, listen, publisher, startBroker, startGateway, tempDir, waitFor, type Gateway } from './harness';

const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => { for (const c of cleanup.splice(0).reverse()) await c(); });

describe.each(['mosquitto', 'aedes'] as const)('gateway with %s', (kind) => {
  it('10 SIGKILLs while readings arrive: 0 lost, 0 scored twice, 0 corrupt checkpoints; a torn checkpoint falls back', async () => {
    const broker = await startBroker(kind);
    cleanup.push(() => broker.stop());
    const state = tempDir();
    cleanup.push(() => rmSync(state, { recursive: true, force: true }));
    const args = ['--round-every', '25'];
    let gw: Gateway = await startGateway(broker.url, state, args);
    cleanup.push(() => kill(gw));
    const sub = await listen(broker.url);
    cleanup.push(() => sub.close());
    const pub = await publisher(broker.url);
    cleanup.push(() => pub.close());

    const motes = [1, 4];
    const rows = motes.flatMap((m) => moteRows(m)).sort((a: { reading: number; mote: number }, b: { reading: number; mote: number }) => a.reading - b.reading || a.mote - b.mote);
    let sent = 0;
    let last = rows.length; // set after the kills: the final run then gets 300 more readings (rounds, checkpoints)
    const sending = (async () => {
      while (sent < last) {
        const r = rows[sent];
        await pub.send(`mote${r.mote}`, { seq: r.reading, humidity: r.humidity, temperature: r.temperature });
        sent++;
        await new Promise((res) => setTimeout(res, 1));
      }
    })();
    const logs: string[] = [];
    for (let k = 0; k < 10; k++) {
      await new Promise((res) => setTimeout(res, 100 + Math.random() * 600)); // ingesting, fine-tuning or saving
      await kill(gw);
      logs.push(gw.output);
      gw = await startGateway(broker.url, state, args);
    }
    last = Math.min(rows.length, sent + 300);
    await sending;
    const taken = rows.slice(0, last);
    const expected = motes.flatMap((m) => taken.filter((r: { mote: number }) => r.mote === m).slice(32).map((r: { reading: number }) => `mote${m}:${r.reading}`));
    await sub.until(() => sub.scores.size >= expected.length && expected.every((key: string) => sub.scores.has(key)), 'every score after the kills', 60_000);
    const twice = expected.filter((key: string) => sub.scores.get(key)!.length !== 1);
    expect(twice, 'scored more than once').toEqual([]);
    expect(sub.scores.size).toBe(expected.length);
    expect(logs.join('').match(/re-sending the score/g)?.length ?? 0, 'scores finished from disk after a kill').toBeGreaterThan(0);

    const checkpoints = (m: number) => readdirSync(join(state, 'sensors', `mote${m}`)).filter((f) => /^checkpoint-\d{12}\.safetensors$/.test(f)).sort();
    for (const m of motes) {
      for (const f of checkpoints(m)) expect(await verifyChecksum(new Uint8Array(readFileSync(join(state, 'sensors', `mote${m}`, f)))), f).toBeUndefined();
    }
    const dir = join(state, 'sensors', 'mote1');
    const ckpts = checkpoints(1);
    expect(ckpts.length).toBeGreaterThanOrEqual(2);

    // power loss: the newest checkpoint torn after its rename
    await kill(gw);
    const newest = join(dir, ckpts.at(-1)!);
    truncateSync(newest, 1000);
    gw = await startGateway(broker.url, state, args);
    await waitFor(gw, new RegExp(`skipped checkpoint ${newest.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`));
    await waitFor(gw, new RegExp(`scoring with .*${ckpts.at(-2)!.replace('.', '\\.')}`));
  }, 120_000);
});
