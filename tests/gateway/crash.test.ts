// Crash safety of the gateway: SIGKILLed 10 times at random moments while readings keep
// arriving, every reading after the first window is still scored exactly once and every
// checkpoint on disk verifies; a torn newest checkpoint (power loss) is skipped, logged, and the
// previous one is used.
import { existsSync, readdirSync, readFileSync, rmSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
// @ts-expect-error plain ESM helper without types
import { moteRows } from '../../examples/gateway/dataset.mjs';
import { verifyChecksum } from '../../src/node/index';
import { MOSQUITTO, kill, listen, publisher, startBroker, startGateway, tempDir, waitFor, type Gateway } from './harness';

const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => { for (const c of cleanup.splice(0).reverse()) await c(); });

it('10 SIGKILLs while readings arrive: 0 lost, 0 scored twice, 0 corrupt checkpoints; a torn checkpoint falls back', async () => {
  const broker = await startBroker(existsSync(MOSQUITTO) ? 'mosquitto' : 'aedes');
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

  const rows = moteRows(1).slice(0, 240);
  let sent = 0;
  const sending = (async () => {
    for (const r of rows) {
      await pub.send('mote1', { seq: r.reading, humidity: r.humidity, temperature: r.temperature });
      sent++;
      if (sent % 8 === 0) await new Promise((res) => setImmediate(res));
    }
  })();
  const logs: string[] = [];
  for (let k = 0; k < 10; k++) {
    // a random moment: after a random number of further scores (ingesting, fine-tuning, saving)
    const target = sub.scores.size + 2 + Math.floor(Math.random() * 12);
    await sub.until(() => sub.scores.size >= target || sub.scores.size >= rows.length - 32, 'scores before a kill');
    await kill(gw);
    logs.push(gw.output);
    gw = await startGateway(broker.url, state, args);
  }
  await sending;
  const expected = rows.slice(32).map((r: { reading: number }) => `mote1:${r.reading}`);
  await sub.until(() => expected.every((key: string) => sub.scores.has(key)), 'every score after the kills', 60_000);
  const twice = expected.filter((key: string) => sub.scores.get(key)!.length !== 1);
  expect(twice, 'scored more than once').toEqual([]);
  expect(sub.scores.size).toBe(expected.length);

  const dir = join(state, 'sensors', 'mote1');
  const ckpts = readdirSync(dir).filter((f) => /^checkpoint-\d{12}\.safetensors$/.test(f)).sort();
  expect(ckpts.length).toBeGreaterThanOrEqual(2);
  for (const f of ckpts) expect(await verifyChecksum(new Uint8Array(readFileSync(join(dir, f)))), f).toBeUndefined();

  // power loss: the newest checkpoint torn after its rename
  await kill(gw);
  const newest = join(dir, ckpts.at(-1)!);
  truncateSync(newest, 1000);
  gw = await startGateway(broker.url, state, args);
  await waitFor(gw, new RegExp(`skipped checkpoint ${newest.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`));
  await waitFor(gw, new RegExp(`scoring with .*${ckpts.at(-2)!.replace('.', '\\.')}`));
}, 120_000);
