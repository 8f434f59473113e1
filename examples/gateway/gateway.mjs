// The gateway: readings in over MQTT, one score out per reading, per-sensor fine-tuning in a
// worker thread. See README.md for the contract and the delivery guarantee.
//
// Ingestion is one reading at a time, and the PUBACK of a reading is sent only once
//   1. the sensor's state (window, last seq, the score message and its id) is on disk, and
//   2. the broker has completed the QoS 2 handshake for the score (PUBCOMP),
// so a SIGKILL at any moment either leaves the reading unacknowledged (the broker redelivers it)
// or leaves its score on disk to be re-sent with the same message id (the broker drops the
// duplicate). `seq` drops readings already taken.
import { Worker } from 'node:worker_threads';
import { readFileSync } from 'node:fs';
import mqtt from 'mqtt';
import { init } from '../../dist/node.js';
import { CheckpointStore } from '../../dist/node-files.js';
import { GatewayError } from './errors.mjs';
import { readSensorMeta, toInput, toForecast, anomalyScore } from './forecast.mjs';
import { Outbox, MAX_SLOTS, nextMid } from './outbox.mjs';
import { parseReading } from './payload.mjs';
import { loadStates, newState, saveState, sensorDir } from './sensor-state.mjs';

export const CLIENT_ID = 'neurite-gateway';
export const DEFAULTS = {
  clientId: CLIENT_ID,
  maxSensors: 64, // each holds a model (~1 MiB of wasm memory) and a window; beyond it: TOO_MANY_SENSORS
  roundEvery: 200, // new readings between two fine-tuning rounds of a sensor
  buffer: 1024, // recent readings per sensor the worker fine-tunes on
  keep: 3, // checkpoints kept per sensor
  epochs: 1,
  learningRate: 1e-3,
  statusEvery: 5000, // ms between two retained status messages
};

export class Gateway {
  constructor({ broker, stateDir, modelPath, log = console.log, ...options }) {
    this.opts = { ...DEFAULTS, ...options };
    if (this.opts.maxSensors > MAX_SLOTS) throw new GatewayError('INTERNAL', `maxSensors is at most ${MAX_SLOTS}`);
    this.broker = broker;
    this.stateDir = stateDir;
    this.modelPath = modelPath;
    this.log = log;
    this.sensors = new Map(); // id → { state, model, outDone, lastFineTune, checkpointAt }
    this.stats = { readings: 0, scored: 0, duplicates: 0, errors: 0, started: Date.now() };
    this.outbox = new Outbox((state) => saveState(this.stateDir, state));
  }

  async start() {
    this.baseBytes = new Uint8Array(readFileSync(this.modelPath));
    this.meta = readSensorMeta(this.baseBytes);
    this.nn = await init();
    // sensors known from an earlier run: their state, their newest valid checkpoint, and any
    // score whose QoS 2 handshake a kill interrupted
    for (const state of loadStates(this.stateDir, this.log)) {
      const s = await this.addSensor(state.sensor, state);
      if (state.out && state.out.phase !== 'done') {
        this.log(`sensor ${state.sensor}: re-sending the score of seq ${state.out.seq} (${state.out.phase === 'publish' ? 'PUBLISH' : 'PUBREL'}, id ${state.out.mid})`);
        s.outDone = this.outbox.recover(state);
      }
    }
    this.worker = new Worker(new URL('./trainer.mjs', import.meta.url), {
      workerData: { stateDir: this.stateDir, modelPath: this.modelPath, roundEvery: this.opts.roundEvery,
        buffer: this.opts.buffer, keep: this.opts.keep, epochs: this.opts.epochs, learningRate: this.opts.learningRate },
    });
    this.worker.on('message', (m) => this.fromWorker(m));
    this.worker.on('error', (e) => this.log(`fine-tuning worker failed: ${e.message}`));
    await new Promise((resolve) => this.worker.once('message', resolve));

    let release;
    this.ready = new Promise((r) => { release = r; });
    this.client = mqtt.connect(this.broker, {
      clientId: this.opts.clientId, clean: false, reconnectPeriod: 500, connectTimeout: 10_000,
      outgoingStore: this.outbox, messageIdProvider: this.outbox,
    });
    // Readings are taken one after another in `this.queue`. mqtt.js would send a reading's PUBACK
    // as soon as handleMessage calls back, and reads no other packet before that — not even the
    // PUBREC/PUBCOMP the score is waiting for — so handleMessage calls back at once and the
    // PUBACK itself is held here until the reading is done (see the header).
    this.queue = Promise.resolve();
    this.pendingAcks = new Map(); // reading message id → its ingestion
    const send = this.client._sendPacket.bind(this.client);
    this.client._sendPacket = (packet, cb, cbStorePut, noStore) => {
      const taken = packet.cmd === 'puback' ? this.pendingAcks.get(packet.messageId) : undefined;
      if (!taken) return send(packet, cb, cbStorePut, noStore);
      this.pendingAcks.delete(packet.messageId);
      taken.then(() => send(packet), (e) => this.fatal(e));
      cb?.();
    };
    this.client.handleMessage = (packet, done) => {
      const { topic, payload } = packet;
      this.queue = this.queue.then(() => this.ready).then(() => this.ingest(topic, payload));
      this.pendingAcks.set(packet.messageId, this.queue);
      done();
    };
    this.client.on('error', (e) => this.log(`mqtt: ${e.message}`));
    // 'connect' comes after mqtt.js has re-sent the recovered scores: only then subscribe, so no
    // other packet takes the message id a score was given
    await new Promise((resolve, reject) => {
      this.client.once('connect', resolve);
      this.client.once('error', reject);
    });
    await this.client.subscribeAsync('sensors/+/reading', { qos: 1 });
    release();
    this.publishStatus();
    this.statusTimer = setInterval(() => this.publishStatus(), this.opts.statusEvery);
    this.log(`gateway: subscribed to sensors/+/reading on ${this.broker} as ${this.opts.clientId} (clean: false), state in ${this.stateDir}`);
  }

  async addSensor(id, state) {
    const slot = state?.slot ?? this.freeSlot();
    state ??= newState(id, slot);
    const store = new CheckpointStore(sensorDir(this.stateDir, id), { keep: this.opts.keep });
    const { model, path, skipped } = await store.load(this.nn);
    for (const k of skipped) this.log(`sensor ${id}: skipped checkpoint ${k.path}: ${k.reason}`);
    if (path) this.log(`sensor ${id}: scoring with ${path}`);
    const s = { state, model: model ?? this.nn.load(this.baseBytes), outDone: undefined, lastFineTune: undefined,
      checkpointAt: path ? Date.now() : undefined, checkpoint: path, input: new Float32Array(this.meta.window * this.meta.features.length) };
    this.sensors.set(id, s);
    return s;
  }

  freeSlot() {
    const used = new Set([...this.sensors.values()].map((s) => s.state.slot));
    for (let i = 0; i < this.opts.maxSensors; i++) if (!used.has(i)) return i;
    return -1;
  }

  async ingest(topic, payload) {
    let r;
    try { r = parseReading(topic, payload, this.meta.features); } catch (e) {
      if (e instanceof GatewayError) return this.report(e, topic, payload);
      throw e;
    }
    let s = this.sensors.get(r.sensor);
    if (!s) {
      if (this.sensors.size >= this.opts.maxSensors) {
        return this.report(new GatewayError('TOO_MANY_SENSORS', `sensor ${r.sensor} refused: the gateway serves at most ${this.opts.maxSensors} sensors`), topic, payload);
      }
      s = await this.addSensor(r.sensor);
    }
    const st = s.state;
    if (r.seq <= st.lastSeq) { st.duplicates++; this.stats.duplicates++; return; }
    // a score recovered from before a restart must be complete before its `out` is replaced
    if (s.outDone) { await s.outDone; s.outDone = undefined; }
    this.stats.readings++;
    st.readings++;
    let anomaly = false;
    const w = this.meta.window;
    if (st.window.length >= w) {
      toInput(st.window.flat(), this.meta, s.input);
      const forecast = toForecast(s.model.predict(s.input), st.window[w - 1], this.meta);
      const score = anomalyScore(r.values, forecast, this.meta);
      anomaly = score > this.meta.threshold;
      const f = Object.fromEntries(this.meta.features.map((name, j) => [name, round(forecast[j])]));
      st.out = { seq: r.seq, mid: nextMid(st.slot, st.out?.mid ?? 0), topic: `sensors/${r.sensor}/score`,
        payload: JSON.stringify({ seq: r.seq, forecast: f, score: round(score), anomaly }), phase: 'publish' };
      st.scored++;
      this.stats.scored++;
      if (anomaly) st.anomalies++;
    }
    st.window.push(r.values);
    if (st.window.length > w) st.window.shift();
    st.lastSeq = r.seq;
    await saveState(this.stateDir, st);
    if (st.out?.seq === r.seq) {
      const done = this.outbox.track(st);
      this.outbox.useMid(st.out.mid);
      this.client.publish(st.out.topic, st.out.payload, { qos: 2 });
      await done;
    }
    this.worker.postMessage({ type: 'reading', sensor: r.sensor, values: r.values, normal: !anomaly });
  }

  fromWorker(m) {
    if (m.type === 'log') { this.log(m.text); return; }
    if (m.type !== 'weights') return;
    const s = this.sensors.get(m.sensor);
    if (!s) return;
    s.model.setWeights(m.weights);
    s.lastFineTune = { at: m.at, samples: m.samples, loss: m.loss, ms: Math.round(m.ms) };
    s.checkpointAt = m.at;
    s.checkpoint = m.checkpoint;
    this.log(`sensor ${m.sensor}: fine-tuned on ${m.samples} windows in ${Math.round(m.ms)} ms (loss ${m.loss.toFixed(4)}), checkpoint ${m.checkpoint}`);
  }

  report(e, topic, payload) {
    this.stats.errors++;
    this.log(`${e.code}: ${e.message}`);
    // QoS 0: a QoS 1 publish would take a message id that belongs to a score (see outbox.mjs)
    this.client.publish('gateway/errors', JSON.stringify({ code: e.code, error: e.message, topic: topic.slice(0, 200),
      payload: payload.toString('utf8', 0, Math.min(payload.length, 200)), at: new Date().toISOString() }), { qos: 0 });
  }

  status() {
    const now = Date.now();
    const mem = process.memoryUsage();
    return {
      at: new Date(now).toISOString(), uptimeSeconds: Math.round((now - this.stats.started) / 1000),
      readings: this.stats.readings, scored: this.stats.scored, duplicates: this.stats.duplicates, errors: this.stats.errors,
      memory: { rssMiB: +(mem.rss / 2 ** 20).toFixed(1), heapUsedMiB: +(mem.heapUsed / 2 ** 20).toFixed(1) },
      sensors: Object.fromEntries([...this.sensors].map(([id, s]) => [id, {
        readings: s.state.readings, scored: s.state.scored, anomalies: s.state.anomalies, lastSeq: s.state.lastSeq,
        lastFineTune: s.lastFineTune ?? null,
        checkpointAgeSeconds: s.checkpointAt === undefined ? null : Math.round((now - s.checkpointAt) / 1000),
        checkpoint: s.checkpoint ?? null,
      }])),
    };
  }

  publishStatus() {
    this.client?.publish('gateway/status', JSON.stringify(this.status()), { qos: 0, retain: true });
  }

  fatal(e) {
    // the reading stays unacknowledged: the broker redelivers it to the next run
    this.log(`gateway: internal failure, exiting: ${e.stack ?? e}`);
    process.exit(1);
  }

  async stop() {
    clearInterval(this.statusTimer);
    await this.client?.endAsync();
    await this.worker?.terminate();
  }
}

const round = (v) => Math.round(v * 1e4) / 1e4;
