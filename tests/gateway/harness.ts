// Real brokers and a real gateway process for the gateway tests: the embedded aedes broker (as
// its own process, so the gateway can be killed without killing the broker's sessions) or
// Debian's mosquitto; a gateway child process; a subscriber that counts score messages per seq.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt, { type MqttClient } from 'mqtt';

const root = fileURLToPath(new URL('../../', import.meta.url));
export const MOSQUITTO = '/usr/sbin/mosquitto';

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'neurite-gateway-'));
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

/** Resolve when `child`'s stdout+stderr so far matches `re`; reject if it exits first. */
export function waitFor(child: ChildProcess & { output?: string }, re: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const m = re.exec(child.output ?? '');
      if (m) { cleanup(); resolve(m[0]); }
    };
    const exit = (code: number) => { cleanup(); reject(new Error(`process exited (${code}) before ${re}:\n${child.output}`)); };
    const cleanup = () => { child.stdout?.off('data', check); child.stderr?.off('data', check); child.off('exit', exit); };
    child.stdout?.on('data', check);
    child.stderr?.on('data', check);
    child.on('exit', exit);
    check();
  });
}

function run(args: string[], cwd = root): ChildProcess & { output: string } {
  const child = spawn(args[0], args.slice(1), { cwd, stdio: ['ignore', 'pipe', 'pipe'] }) as ChildProcess & { output: string };
  child.output = '';
  child.stdout!.on('data', (d) => { child.output += d; });
  child.stderr!.on('data', (d) => { child.output += d; });
  return child;
}

export interface Broker { url: string; stop(): Promise<void> }

export async function startBroker(kind: 'aedes' | 'mosquitto'): Promise<Broker> {
  const port = await freePort();
  let child: ChildProcess & { output: string };
  let dir: string | undefined;
  if (kind === 'aedes') {
    child = run([process.execPath, 'examples/gateway/broker.mjs', '--port', String(port)]);
    await waitFor(child, /listening/);
  } else {
    // a real broker is part of what these tests check: missing, it is a failure, not a skip
    if (!existsSync(MOSQUITTO)) throw new Error(`${MOSQUITTO} is missing: apt-get install mosquitto (.ci/run does)`);
    dir = tempDir();
    const conf = join(dir, 'mosquitto.conf');
    writeFileSync(conf, `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\nmax_queued_messages 100000\n`);
    child = run([MOSQUITTO, '-c', conf, '-v']);
    await waitFor(child, /running|Opening ipv4 listen socket/);
  }
  return {
    url: `mqtt://127.0.0.1:${port}`,
    async stop() {
      child.kill('SIGTERM');
      if (child.exitCode === null) await new Promise((r) => child.once('exit', r));
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A TCP relay to `target` for the gateway: `hold()` drops everything its clients send from then on
 * (their scores, PUBRELs and PUBACKs never reach the broker), while the broker's packets still
 * reach them.
 */
export async function startRelay(target: string) {
  const { hostname, port } = new URL(target);
  let holding = false;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(Number(port), hostname);
    sockets.add(client);
    sockets.add(upstream);
    client.on('data', (d) => { if (!holding) upstream.write(d); });
    upstream.pipe(client);
    const close = () => { client.destroy(); upstream.destroy(); sockets.delete(client); sockets.delete(upstream); };
    for (const s of [client, upstream]) { s.on('close', close); s.on('error', close); }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `mqtt://127.0.0.1:${(server.address() as { port: number }).port}`,
    hold() { holding = true; },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

export type Gateway = ChildProcess & { output: string };

export async function startGateway(broker: string, state: string, extra: string[] = []): Promise<Gateway> {
  const g = run([process.execPath, '--experimental-wasm-relaxed-simd', 'examples/gateway/main.mjs', '--broker', broker, '--state', state, ...extra]);
  await waitFor(g, /gateway: ready/);
  return g;
}

export async function kill(g: Gateway, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (g.exitCode !== null || g.signalCode !== null) return;
  const exited = new Promise((r) => g.once('exit', r));
  g.kill(signal);
  await exited;
}

export interface Score { seq: number; forecast: { humidity: number; temperature: number }; score: number; anomaly: boolean; late?: true }

/** Part of the retained `gateway/status`. */
export interface Status {
  readings: number; scored: number; late: number; duplicates: number; errors: number;
  sensors: Record<string, { readings: number; scored: number; late: number; lastSeq: number }>;
}

/** A subscriber to scores, errors and status: counts every score message per sensor and seq, keeps the last status. */
export async function listen(url: string) {
  const client: MqttClient = await mqtt.connectAsync(url, { clientId: `test-listener-${process.pid}-${Math.random().toString(36).slice(2)}` });
  const scores = new Map<string, Score[]>(); // `${sensor}:${seq}` → every message seen
  const errors: { code: string; error: string }[] = [];
  const last: { status?: Status } = {};
  const waiters: Array<() => void> = [];
  client.on('message', (topic, msg) => {
    const m = /^sensors\/([^/]+)\/score$/.exec(topic);
    if (m) {
      const s = JSON.parse(msg.toString()) as Score;
      const key = `${m[1]}:${s.seq}`;
      scores.set(key, [...(scores.get(key) ?? []), s]);
    } else if (topic === 'gateway/errors') errors.push(JSON.parse(msg.toString()));
    else if (topic === 'gateway/status') last.status = JSON.parse(msg.toString());
    for (const w of waiters.splice(0)) w();
  });
  await client.subscribeAsync({ 'sensors/+/score': { qos: 2 }, 'gateway/errors': { qos: 0 }, 'gateway/status': { qos: 0 } });
  return {
    client, scores, errors,
    /** The last `gateway/status` (sent every 5 s). */
    get status() { return last.status; },
    /** Resolve once `ok()` holds, re-checked at every message (no sleeping). */
    until(ok: () => boolean, what: string, ms = 30_000): Promise<void> {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
        const check = () => { if (ok()) { clearTimeout(timer); resolve(); } else waiters.push(check); };
        check();
      });
    },
    close: () => client.endAsync(),
  };
}

/** A publisher of readings with QoS 1 (the broker keeps them for the gateway's session). */
export async function publisher(url: string) {
  const client = await mqtt.connectAsync(url, { clientId: `test-sensor-${process.pid}-${Math.random().toString(36).slice(2)}` });
  return {
    client,
    send: (sensor: string, body: unknown) => client.publishAsync(`sensors/${sensor}/reading`, typeof body === 'string' ? body : JSON.stringify(body), { qos: 1 }),
    close: () => client.endAsync(),
  };
}
