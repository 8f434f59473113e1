// The gateway's live figures (not part of npm test; the live part of gateway-report.mjs), against
// a real mosquitto started here on 127.0.0.1 and a free port (its default in-flight window: 20
// readings handed to the gateway before their PUBACKs) and the embedded aedes broker as its own
// process. Each broker gets a fresh gateway process and state directory, the readings of motes 1-4
// interleaved in reading order (QoS 1; once they run out, again from the start with seq + 100,000
// per lap), and a QoS 2 subscriber that counts every score message:
//  1. warm-up: each mote's first window, until scores come out;
//  2. a fixed rate (--rate, 50/s) for --rate-seconds: latency publish → score;
//  3. full rate for --seconds (or --readings): the publisher keeps --window
//     readings published and not yet scored, so the broker always holds the gateway's next
//     readings (a dump of everything at once would only measure each reading's place in the
//     queue): readings/s, fine-tuning rounds meanwhile, the gateway's RSS (/proc, every 250 ms),
//     latency publish → score.
// Every score must arrive exactly once. The script's own clients disable Nagle's algorithm, so
// their delayed ACKs are not part of the latency. Every wait has a deadline that names what it
// waited for, and the children are killed however the run ends.
//   node scripts/gateway-live.mjs [--brokers mosquitto,aedes] [--seconds 40] [--window 40]
//     [--rate 50] [--rate-seconds 20] [--readings N]
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import mqtt from 'mqtt';
import { moteRows } from '../examples/gateway/dataset.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const MOSQUITTO = '/usr/sbin/mosquitto';
const MOTES = [1, 2, 3, 4];
const FIRST = 32; // readings of a sensor before its first score (the model's window)
const LAP = 100_000; // added to seq on each pass over the dataset (a mote has about 5,000 readings)
export const LIVE_DEFAULTS = { brokers: ['mosquitto', 'aedes'], seconds: 40, window: 40, rate: 50, rateSeconds: 20, readings: Infinity };

const children = new Set();
const dirs = new Set(); // temporary directories still to remove
const killAll = () => {
  for (const c of children) c.kill('SIGKILL');
  for (const d of dirs) { try { rmSync(d, { recursive: true, force: true, maxRetries: 3 }); } catch { /* a dying child still writing */ } }
};

/** `promise`, or a rejection naming `what` after `ms`. */
function deadline(promise, ms, what) {
  let timer;
  const late = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`live: no ${what} within ${ms / 1000} s`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

async function freePort() {
  const s = createServer();
  await new Promise((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address();
  await new Promise((resolve) => s.close(resolve));
  return port;
}

/** Spawn a child and resolve once its output matches `ready`; `onData` sees every chunk. */
function start(what, cmd, argv, ready, onData = () => {}) {
  const p = spawn(cmd, argv, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(p);
  p.what = what;
  p.tail = ''; // the last 8 KiB of its output
  p.last = () => p.tail.split('\n').slice(-15).join('\n'); // for failure messages
  const up = new Promise((resolve, reject) => {
    const data = (d) => {
      p.tail = (p.tail + d).slice(-8192);
      onData(String(d));
      if (ready.test(p.tail)) resolve(p);
    };
    p.stdout.on('data', data);
    p.stderr.on('data', data);
    p.once('error', reject);
    p.once('exit', (code, signal) => {
      children.delete(p);
      reject(new Error(`live: ${what} exited (${code ?? signal}) before printing ${ready}:\n${p.last()}`));
    });
  });
  return deadline(up, 60_000, `${ready} from ${what}`);
}

/** SIGTERM, then SIGKILL if it has not exited within 10 s. */
async function stop(p) {
  if (p.exitCode !== null || p.signalCode !== null) { children.delete(p); return; }
  const exited = new Promise((resolve) => p.once('exit', resolve));
  p.kill('SIGTERM');
  try { await deadline(exited, 10_000, `exit of ${p.what} after SIGTERM`); } catch { p.kill('SIGKILL'); await exited; }
  children.delete(p);
}

async function startBroker(kind, dir) {
  const port = await freePort();
  if (kind === 'mosquitto') {
    if (!existsSync(MOSQUITTO)) throw new Error(`live: ${MOSQUITTO} not found (install mosquitto or pass --brokers aedes)`);
    const conf = join(dir, 'mosquitto.conf');
    // the in-flight window stays at mosquitto's default (20); queued readings are not capped at 1,000
    writeFileSync(conf, `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\nmax_queued_messages 100000\n`);
    const p = await start('mosquitto', MOSQUITTO, ['-c', conf], /mosquitto version \S+ running/);
    p.label = `mosquitto ${/mosquitto version (\S+)/.exec(p.tail)[1]}`;
    return { p, url: `mqtt://127.0.0.1:${port}` };
  }
  const p = await start('aedes', process.execPath, ['examples/gateway/broker.mjs', '--port', String(port)], /listening/);
  p.label = 'aedes (own process)';
  return { p, url: `mqtt://127.0.0.1:${port}` };
}

function rssMiB(pid) {
  try { return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024; } catch { return NaN; }
}

const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
function latency(ms) {
  const s = [...ms].sort((a, b) => a - b);
  return { n: s.length, median: quantile(s, 0.5), p95: quantile(s, 0.95), p99: quantile(s, 0.99) };
}
const fmt = (l) => `median ${l.median.toFixed(1)} ms, p95 ${l.p95.toFixed(1)} ms, p99 ${l.p99.toFixed(1)} ms (${l.n} scores)`;

async function connect(url, name) {
  const c = await deadline(mqtt.connectAsync(url, { clientId: `${name}-${process.pid}`, reconnectPeriod: 0, connectTimeout: 10_000 }), 15_000, `connection of ${name} to ${url}`);
  c.stream.setNoDelay(true);
  return c;
}

/** One broker: a fresh gateway, warm-up, the fixed-rate phase, the full-rate phase. */
async function runOne(kind, o, log) {
  const dir = mkdtempSync(join(tmpdir(), 'neurite-gw-live-'));
  dirs.add(dir);
  const clients = [];
  const procs = [];
  try {
    const broker = await startBroker(kind, dir);
    procs.push(broker.p);
    let rounds = 0;
    const gw = await start('gateway', process.execPath, ['--experimental-wasm-relaxed-simd', 'examples/gateway/main.mjs', '--broker', broker.url, '--state', join(dir, 'state')],
      /gateway: ready/, (text) => { rounds += text.match(/fine-tuned on/g)?.length ?? 0; });
    procs.push(gw);
    const gatewayDied = new Promise((_, reject) => gw.once('exit', (c, s) => reject(new Error(`live: the gateway exited (${c ?? s}); its last output:\n${gw.last()}`))));
    gatewayDied.catch(() => {});

    const sub = await connect(broker.url, 'live-scores');
    clients.push(sub);
    const pub = await connect(broker.url, 'live-sensors');
    clients.push(pub);
    const sentAt = new Map(); // `moteN:seq` → performance.now() at publish
    const seen = new Map(); // `moteN:seq` → score messages received
    let duplicates = 0;
    let onScore = () => {};
    let lat = [];
    sub.on('message', (topic, m) => {
      const key = `${topic.split('/')[1]}:${JSON.parse(m).seq}`;
      const n = (seen.get(key) ?? 0) + 1;
      seen.set(key, n);
      if (n > 1) { duplicates++; return; }
      const t = sentAt.get(key);
      if (t !== undefined) { lat.push(performance.now() - t); sentAt.delete(key); }
      onScore();
    });
    await deadline(sub.subscribeAsync({ 'sensors/+/score': { qos: 2 } }), 10_000, 'SUBACK for sensors/+/score');

    const rows = MOTES.flatMap((m) => moteRows(m)).sort((a, b) => a.reading - b.reading || a.mote - b.mote);
    const published = new Map(MOTES.map((m) => [m, 0])); // readings published per mote
    let next = 0;
    const publishNext = () => {
      const r = rows[next % rows.length];
      const seq = r.reading + Math.floor(next / rows.length) * LAP;
      next++;
      if (published.get(r.mote) >= FIRST) sentAt.set(`mote${r.mote}:${seq}`, performance.now());
      published.set(r.mote, published.get(r.mote) + 1);
      pub.publish(`sensors/mote${r.mote}/reading`, JSON.stringify({ seq, humidity: r.humidity, temperature: r.temperature }), { qos: 1 });
    };
    const drained = (what, ms) => deadline(Promise.race([gatewayDied, new Promise((resolve) => {
      const check = () => { if (sentAt.size === 0) { onScore = () => {}; resolve(); } };
      onScore = check;
      check();
    })]), ms, `${what}: ${sentAt.size} readings still without a score`);

    // 1. warm-up: a window and 8 more readings per mote
    while (next < MOTES.length * (FIRST + 8)) publishNext();
    await drained('scores after the warm-up', 120_000);
    lat = [];

    // 2. fixed rate
    const n2 = Math.round(o.rate * o.rateSeconds);
    const t2 = performance.now();
    for (let i = 0; i < n2; i++) {
      publishNext();
      const wait = t2 + ((i + 1) * 1000) / o.rate - performance.now();
      if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    }
    await drained(`scores of the ${o.rate}/s phase`, 120_000);
    const fixed = latency(lat);
    log(`live (${broker.p.label}): ${o.rate} readings/s for ${o.rateSeconds} s: latency publish → score ${fmt(fixed)}`);

    // 3. full rate: closed loop, `window` readings published and not yet scored
    lat = [];
    const last = next + o.readings;
    const rss = [];
    const sampler = setInterval(() => rss.push(rssMiB(gw.pid)), 250);
    const rounds0 = rounds;
    const t3 = performance.now();
    let count = 0;
    let running = true;
    let finish;
    const done = new Promise((resolve) => { finish = () => { running = false; resolve(); }; });
    const timer = setTimeout(() => finish(), o.seconds * 1000);
    onScore = () => {
      if (!running) return;
      count++;
      if (next < last) publishNext(); else finish();
    };
    while (sentAt.size < o.window && next < last) publishNext();
    await deadline(Promise.race([done, gatewayDied]), o.seconds * 1000 + 60_000, 'end of the full-rate phase');
    clearTimeout(timer);
    const secs = (performance.now() - t3) / 1000;
    const taken = count;
    clearInterval(sampler);
    await drained('scores of the full-rate phase', 120_000);
    const full = latency(lat);
    const rssSorted = rss.filter(Number.isFinite).sort((a, b) => a - b);
    const figures = {
      broker: broker.p.label, readingsPerSecond: taken / secs, seconds: secs, scores: taken, window: o.window,
      fineTuningRounds: rounds - rounds0, rssMaxMiB: rssSorted.at(-1), rssMedianMiB: quantile(rssSorted, 0.5), fullRate: full, fixedRate: { rate: o.rate, ...fixed },
    };
    log(`live (${broker.p.label}): full rate ${figures.readingsPerSecond.toFixed(0)} readings/s (${taken} scores of motes ${MOTES.join(', ')} in ${secs.toFixed(1)} s, ${o.window} readings kept waiting), ${figures.fineTuningRounds} fine-tuning rounds meanwhile; gateway RSS max ${figures.rssMaxMiB?.toFixed(1)} MiB, median ${figures.rssMedianMiB?.toFixed(1)} MiB; latency publish → score ${fmt(full)}`);

    const expected = [...published.values()].reduce((sum, k) => sum + Math.max(0, k - FIRST), 0);
    if (duplicates || seen.size !== expected) throw new Error(`live (${broker.p.label}): ${expected} scores expected, ${seen.size} distinct received, ${duplicates} duplicates`);
    log(`live (${broker.p.label}): ${seen.size} scores, each exactly once`);
    return figures;
  } finally {
    for (const c of clients) c.end(true);
    for (const p of procs.reverse()) await stop(p);
    rmSync(dir, { recursive: true, force: true });
    dirs.delete(dir);
  }
}

/** The live figures for each broker in `options.brokers`; the children never outlive the call. */
export async function liveFigures(options = {}, log = console.log) {
  const o = { ...LIVE_DEFAULTS, ...options };
  const onSignal = () => process.exit(130); // 'exit' below kills the children
  process.on('exit', killAll);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const out = [];
    for (const kind of o.brokers) out.push(await runOne(kind, o, log));
    return out;
  } finally {
    killAll();
    process.off('exit', killAll);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values: a } = parseArgs({ strict: true, options: {
    brokers: { type: 'string', default: LIVE_DEFAULTS.brokers.join(',') },
    seconds: { type: 'string', default: String(LIVE_DEFAULTS.seconds) },
    window: { type: 'string', default: String(LIVE_DEFAULTS.window) },
    rate: { type: 'string', default: String(LIVE_DEFAULTS.rate) },
    'rate-seconds': { type: 'string', default: String(LIVE_DEFAULTS.rateSeconds) },
    readings: { type: 'string' },
    json: { type: 'boolean', default: false },
  } });
  try {
    const figures = await liveFigures({ brokers: a.brokers.split(','), seconds: Number(a.seconds), window: Number(a.window),
      rate: Number(a.rate), rateSeconds: Number(a['rate-seconds']), ...(a.readings && { readings: Number(a.readings) }) });
    if (a.json) console.log(JSON.stringify(figures));
    process.exit(0);
  } catch (e) {
    console.error(e.message);
    process.exit(1);
  }
}
