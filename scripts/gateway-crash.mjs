// The gateway's crash figures (not part of npm test): N SIGKILLs (default 100) of the gateway at
// random moments while readings of motes 1 and 4 keep arriving (a few hundred a second, the
// dataset replayed lap after lap, each mote's seq going on from its last lap's, until the kills are
// over; then 400 more for the last run) through a separate broker process (aedes, or mosquitto with --mosquitto); each restart
// leaves a backlog the next run takes in full batches. Then: every reading after the first window
// scored exactly once (a separate subscriber counts score messages per seq), every checkpoint
// verifies; then power loss simulated twice (newest checkpoint truncated, then bit-flipped) → the
// gateway logs the skip and falls back to the previous one.
// With aedes, expect late readings: after a reconnect it delivers readings that arrived meanwhile
// before the unacknowledged older ones, whose seq is then below the last taken (seq-gaps.mjs, the
// gateway README); mosquitto keeps the order. Counted: score messages flagged late, and TOO_LATE
// errors (a reading older than the span tracked, acknowledged without a score).
//   node scripts/gateway-crash.mjs [--kills 100] [--mosquitto]
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import mqtt from 'mqtt';
import { verifyChecksum } from '../dist/node-files.js';
import { moteRows } from '../examples/gateway/dataset.mjs';

const { values: args } = parseArgs({ options: { kills: { type: 'string', default: '100' }, mosquitto: { type: 'boolean', default: false } } });
const KILLS = Number(args.kills);
const dir = mkdtempSync(join(tmpdir(), 'neurite-gw-crash-'));
const state = join(dir, 'state');
const port = 20000 + Math.floor(Math.random() * 20000);
const url = `mqtt://127.0.0.1:${port}`;

function run(cmd, argv) {
  const p = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  p.out = '';
  p.stdout.on('data', (d) => { p.out += d; });
  p.stderr.on('data', (d) => { p.out += d; });
  return p;
}
const until = (p, re) => new Promise((resolve, reject) => {
  const t = setInterval(() => { if (re.test(p.out)) { clearInterval(t); resolve(); } else if (p.exitCode !== null) { clearInterval(t); reject(new Error(p.out)); } }, 5);
});
let broker;
if (args.mosquitto) {
  writeFileSync(join(dir, 'm.conf'), `listener ${port} 127.0.0.1\nallow_anonymous true\nmax_queued_messages 100000\n`);
  broker = run('/usr/sbin/mosquitto', ['-c', join(dir, 'm.conf'), '-v']);
  await until(broker, /Opening ipv4 listen socket/);
} else {
  broker = run(process.execPath, ['examples/gateway/broker.mjs', '--port', String(port)]);
  await until(broker, /listening/);
}
const startGateway = async () => {
  const g = run(process.execPath, ['--experimental-wasm-relaxed-simd', 'examples/gateway/main.mjs', '--broker', url, '--state', state, '--round-every', '50']);
  await until(g, /gateway: ready/);
  return g;
};

const counts = new Map();
let late = 0;
const errors = new Map(); // code → count
const sub = await mqtt.connectAsync(url, { clientId: 'crash-counter' });
sub.on('message', (topic, m) => {
  const body = JSON.parse(m);
  if (topic === 'gateway/errors') { errors.set(body.code, (errors.get(body.code) ?? 0) + 1); return; }
  const k = `${topic.split('/')[1]}:${body.seq}`;
  counts.set(k, (counts.get(k) ?? 0) + 1);
  if (body.late) late++;
});
await sub.subscribeAsync({ 'sensors/+/score': { qos: 2 }, 'gateway/errors': { qos: 0 } });
let gw = await startGateway();
const pub = await mqtt.connectAsync(url, { clientId: 'crash-sensors' });
const base = [1, 4].flatMap((m) => moteRows(m)).sort((a, b) => a.reading - b.reading || a.mote - b.mote);
// each mote's seqs 1..n, so a lap adds n: a seq goes up by one per reading, as a sensor's does (a
// jump would put the readings in flight before it, delivered late by aedes, beyond the span tracked)
const lapSeqs = new Map([1, 4].map((m) => [m, Math.max(...moteRows(m).map((r) => r.reading))]));
const rowAt = (i) => {
  const r = base[i % base.length];
  return { ...r, reading: r.reading + Math.floor(i / base.length) * lapSeqs.get(r.mote) };
};
let sent = 0;
let last = Infinity; // set once the kills are over
const sending = (async () => {
  while (sent < last) {
    const r = rowAt(sent);
    await pub.publishAsync(`sensors/mote${r.mote}/reading`, JSON.stringify({ seq: r.reading, humidity: r.humidity, temperature: r.temperature }), { qos: 1 });
    sent++;
    await new Promise((res) => setTimeout(res, 2)); // readings keep arriving during the kills
  }
})();
const logs = [];
const t0 = performance.now();
for (let k = 0; k < KILLS; k++) {
  await new Promise((r) => setTimeout(r, 50 + Math.random() * 700)); // ingesting, fine-tuning or saving
  const exited = new Promise((r) => gw.once('exit', r));
  gw.kill('SIGKILL');
  await exited;
  logs.push(gw.out);
  gw = await startGateway();
  if ((k + 1) % 10 === 0) console.log(`crash: ${k + 1}/${KILLS} kills, ${sent} readings sent, ${counts.size} scored, ${((performance.now() - t0) / 1000).toFixed(0)} s`);
}
const killSeconds = ((performance.now() - t0) / 1000).toFixed(0);
last = sent + 400; // the last run fine-tunes and checkpoints (the power-loss part needs two)
await sending;
const rows = Array.from({ length: sent }, (_, i) => rowAt(i));
const expected = [1, 4].flatMap((m) => rows.filter((r) => r.mote === m).slice(32).map((r) => `mote${m}:${r.reading}`));
await new Promise((resolve) => {
  let seen = 0;
  let since = Date.now();
  const t = setInterval(() => {
    if (counts.size !== seen) { seen = counts.size; since = Date.now(); }
    if (counts.size >= expected.length && expected.every((k) => counts.has(k))) { clearInterval(t); resolve(); }
    else if (Date.now() - since > 30_000) { // no new score for 30 s: count what is missing
      clearInterval(t);
      console.log(`crash: no new score for 30 s, ${expected.filter((k) => !counts.has(k)).length} of ${expected.length} readings without one`);
      resolve();
    }
  }, 200);
});
const lost = expected.filter((k) => !counts.has(k)).length;
const dup = expected.filter((k) => counts.get(k) > 1).length;
let checked = 0; let corrupt = 0;
for (const m of ['mote1', 'mote4']) {
  const d = join(state, 'sensors', m);
  for (const f of readdirSync(d).filter((x) => x.endsWith('.safetensors') && !x.startsWith('.'))) {
    checked++;
    if (await verifyChecksum(new Uint8Array(readFileSync(join(d, f))))) corrupt++;
  }
}
const resent = logs.join('').match(/re-sending the score/g)?.length ?? 0;
const errorList = [...errors].map(([code, n]) => `${n} ${code}`).join(', ') || 'none';
console.log(`crash: ${KILLS} SIGKILLs in ${killSeconds} s, ${sent} readings sent, ${expected.length} to score: lost ${lost}, scored more than once ${dup}; ${late} scored late; errors: ${errorList}; ${resent} scores re-sent after a kill; ${checked} checkpoints on disk, ${corrupt} corrupt`);

// power loss: newest checkpoint of mote1 truncated, then of mote4 bit-flipped
gw.kill('SIGKILL'); await new Promise((r) => gw.once('exit', r));
const fallback = [];
for (const [m, harm] of [['mote1', 'truncated'], ['mote4', 'bit-flipped']]) {
  const d = join(state, 'sensors', m);
  const ck = readdirSync(d).filter((x) => /^checkpoint-\d{12}\.safetensors$/.test(x)).sort();
  const newest = join(d, ck.at(-1));
  if (harm === 'truncated') truncateSync(newest, 500);
  else { const b = readFileSync(newest); b[b.length - 5] ^= 0x04; writeFileSync(newest, b); }
  fallback.push([m, harm, newest, ck.at(-2)]);
}
gw = await startGateway();
for (const [m, harm, newest, prev] of fallback) {
  const skipped = gw.out.split('\n').find((l) => l.includes(`skipped checkpoint ${newest}`));
  const using = gw.out.split('\n').find((l) => l.includes(`sensor ${m}: scoring with`));
  console.log(`power loss (${harm}): ${skipped ? `logged "${skipped}"` : 'NOT logged'}; ${using?.endsWith(prev) ? `fell back to ${prev}` : `did NOT fall back (${using})`}`);
}
gw.kill('SIGTERM');
await sub.endAsync(); await pub.endAsync();
broker.kill('SIGTERM');
rmSync(dir, { recursive: true, force: true });
process.exit(lost || dup || corrupt ? 1 : 0);
