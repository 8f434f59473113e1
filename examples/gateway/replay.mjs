// npm run gateway:replay -- --broker mqtt://HOST:PORT [--motes 1,4] [--rate 500] [--from 1] [--limit N]
// Publishes the dataset's readings of the given motes, interleaved in reading order, as
// sensors/mote<N>/reading { seq, humidity, temperature } with QoS 1, at `rate` readings/s.
import { parseArgs } from 'node:util';
import mqtt from 'mqtt';
import { moteRows } from './dataset.mjs';

const { values } = parseArgs({ strict: true, options: {
  broker: { type: 'string', default: 'mqtt://127.0.0.1:1883' },
  motes: { type: 'string', default: '1,4' },
  rate: { type: 'string', default: '500' },
  from: { type: 'string', default: '1' },
  limit: { type: 'string' },
} });
const motes = values.motes.split(',').map(Number);
const rate = Number(values.rate);
if (!(rate > 0)) throw new Error('--rate must be a positive number of readings per second');
const from = Number(values.from);
const rows = motes.flatMap((m) => moteRows(m).filter((r) => r.reading >= from))
  .sort((a, b) => a.reading - b.reading || a.mote - b.mote)
  .slice(0, values.limit ? Number(values.limit) : undefined);

const client = await mqtt.connectAsync(values.broker, { clientId: `neurite-replay-${process.pid}` });
console.log(`replay: ${rows.length} readings of motes ${motes.join(', ')} to ${values.broker} at ${rate}/s`);
const t0 = performance.now();
for (let i = 0; i < rows.length; i++) {
  const r = rows[i];
  // QoS 1: the broker holds each reading for the gateway's session even while it is down
  client.publish(`sensors/mote${r.mote}/reading`, JSON.stringify({ seq: r.reading, humidity: r.humidity, temperature: r.temperature }), { qos: 1 });
  const due = t0 + ((i + 1) * 1000) / rate;
  const wait = due - performance.now();
  if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
  if ((i + 1) % 1000 === 0) console.log(`replay: ${i + 1}/${rows.length}`);
}
await client.endAsync();
console.log(`replay: done, ${rows.length} readings in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
