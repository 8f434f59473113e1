// The gateway: readings in over MQTT, one score out per reading, per-sensor fine-tuning in a
// worker thread. See README.md for the contract and the delivery guarantee.
//
// Readings are taken (scored, their sensor's state changed in memory) one after another, and the
// PUBACK of a reading is sent only once
//   1. the sensor's state (window, last seq, the score message and its id) is on disk, and
//   2. the broker has completed the QoS 2 handshake for the score (PUBCOMP),
// so a SIGKILL at any moment either leaves the reading unacknowledged (the broker redelivers it)
// or leaves its score on disk to be re-sent with the same message id (the broker drops the
// duplicate). `seq` and the gaps below it (seq-gaps.mjs) tell a reading already taken (dropped)
// from a late one (scored, but kept out of the window and of fine-tuning). Step 1 is a group commit (group-commit.mjs,
// journal.mjs): the readings taken while a write is in flight, of any sensors, and the PUBREL
// phases recorded meanwhile, share the next write; up to `maxInFlight` readings are in flight.
import { Worker } from 'node:worker_threads';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { init } from '../../dist/node.js';
import { CheckpointStore } from '../../dist/node-files.js';
import { Acks } from './acks.mjs';
import { GatewayError } from './errors.mjs';
import { readSensorMeta, toInput, toForecast, anomalyScore } from './forecast.mjs';
import { GroupCommit } from './group-commit.mjs';
import { JOURNAL, Journal, readJournal } from './journal.mjs';
import { Outbox, MAX_OUTS, MAX_SLOTS, nextMid } from './outbox.mjs';
import { parseReading } from './payload.mjs';
import { LATE_SPAN, MAX_RUNS, advance, classify, fill } from './seq-gaps.mjs';
import { invalidState, newState, sensorDir } from './sensor-state.mjs';

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
  // readings taken and not yet acknowledged, and scores whose QoS 2 handshake is not complete:
  // beyond it the next reading waits. At most the broker's in-flight window, which mosquitto
  // (max_inflight_messages, 20 by default) also applies to the QoS 2 messages it receives: it
  // drops one beyond it, and a 3.1.1 PUBREC cannot say so
  maxInFlight: 20,
  journalLimit: 4 * 2 ** 20, // bytes of ingest.journal before it is compacted to one snapshot
};

export class Gateway {
  constructor({ broker, stateDir, modelPath, log = console.log, ...options }) {
    this.opts = { ...DEFAULTS, ...options };
    if (this.opts.maxSensors > MAX_SLOTS) throw new GatewayError('INTERNAL', `maxSensors is at most ${MAX_SLOTS}`);
    if (!(Number.isInteger(this.opts.maxInFlight) && this.opts.maxInFlight >= 1 && this.opts.maxInFlight <= MAX_OUTS)) throw new GatewayError('INTERNAL', `maxInFlight is an integer from 1 to ${MAX_OUTS}`);
    this.broker = broker;
    this.stateDir = stateDir;
    this.modelPath = modelPath;
    this.log = log;
    this.sensors = new Map(); // id → { state, model, lastFineTune, checkpointAt, checkpoint, input }
    this.stats = { readings: 0, scored: 0, late: 0, duplicates: 0, errors: 0, started: Date.now() };
    // a failed write is fatal: after a failed fsync what is on disk is unknown
    this.commits = new GroupCommit((states) => this.journal.write(states, () => [...this.sensors.values()].map((s) => s.state))
      .catch((e) => this.fatal(e)));
    this.outbox = new Outbox(this.commits);
    this.inFlight = 0; // readings taken whose PUBACK is not yet due
    this.wake = undefined; // resolves the reading waiting for inFlight to drop
  }

  async start() {
    this.baseBytes = new Uint8Array(readFileSync(this.modelPath));
    this.meta = readSensorMeta(this.baseBytes);
    this.nn = await init();
    // sensors known from an earlier run: their state, their newest valid checkpoint, and the
    // scores whose QoS 2 handshake a kill interrupted
    const found = readJournal(this.stateDir);
    if (found?.stopped) this.log(`gateway: ${join(this.stateDir, JOURNAL)}: ${found.records} records read, then a ${found.stopped}: a write cut short, nothing after it was acknowledged`);
    const states = [];
    for (const [id, state] of found?.states ?? []) {
      const why = invalidState(state);
      if (why) { this.log(`sensor ${id}: ingestion state in the journal unusable (${why}); starting it afresh`); continue; }
      state.late ??= 0; // journals from before late readings were told apart
      states.push(state);
    }
    for (const state of states) {
      await this.addSensor(state.sensor, state);
      for (const out of state.outs) {
        this.log(`sensor ${state.sensor}: re-sending the score of seq ${out.seq} (${out.phase === 'publish' ? 'PUBLISH' : 'PUBREL'}, id ${out.mid})`);
        this.outbox.recover(state, out).then(() => this.wakeUp());
      }
    }
    this.journal = await Journal.open(this.stateDir, states, { limit: this.opts.journalLimit });
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
    // Readings are taken one after another in `this.queue`; each one's PUBACK waits in `acks`
    // (acks.mjs) until it is finished, while the next ones are taken.
    this.queue = Promise.resolve();
    const send = this.client._sendPacket.bind(this.client);
    this.acks = new Acks((packet) => send(packet), (e) => this.fatal(e));
    this.client._sendPacket = (packet, cb, cbStorePut, noStore) => {
      if (packet.cmd === 'puback' && this.acks.hold(packet)) { cb?.(); return; }
      send(packet, cb, cbStorePut, noStore);
    };
    this.client.handleMessage = (packet, done) => {
      const { topic, payload } = packet;
      const taken = this.queue.then(() => this.ready).then(() => this.take(topic, payload));
      this.queue = taken.then(() => {}, (e) => this.fatal(e));
      if (packet.qos === 1) this.acks.add(packet.messageId, taken.then((t) => t.finished));
      done();
    };
    this.client.on('error', (e) => this.log(`mqtt: ${e.message}`));
    // small packets each waiting for the other side's delayed ACK (Nagle) cost up to 40 ms apiece
    this.client.on('connect', () => this.client.stream.setNoDelay?.(true));
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
    mkdirSync(sensorDir(this.stateDir, id), { recursive: true }); // its checkpoints go there
    const store = new CheckpointStore(sensorDir(this.stateDir, id), { keep: this.opts.keep });
    const { model, path, skipped } = await store.load(this.nn);
    for (const k of skipped) this.log(`sensor ${id}: skipped checkpoint ${k.path}: ${k.reason}`);
    if (path) this.log(`sensor ${id}: scoring with ${path}`);
    const s = { state, model: model ?? this.nn.load(this.baseBytes), lastFineTune: undefined,
      checkpointAt: path ? Date.now() : undefined, checkpoint: path, input: new Float32Array(this.meta.window * this.meta.features.length) };
    this.sensors.set(id, s);
    return s;
  }

  freeSlot() {
    const used = new Set([...this.sensors.values()].map((s) => s.state.slot));
    for (let i = 0; i < this.opts.maxSensors; i++) if (!used.has(i)) return i;
    return -1;
  }

  /**
   * Take one reading: score it and change its sensor's state in memory (synchronously, so a write
   * of the group commit never holds half a reading); `finished` resolves once the state is
   * durable and the score, if any, through its QoS 2 handshake: then its PUBACK is due.
   */
  async take(topic, payload) {
    const none = { finished: Promise.resolve() };
    let r;
    try { r = parseReading(topic, payload, this.meta.features); } catch (e) {
      if (e instanceof GatewayError) { this.report(e, topic, payload); return none; }
      throw e;
    }
    let s = this.sensors.get(r.sensor);
    if (!s) {
      if (this.sensors.size >= this.opts.maxSensors) {
        this.report(new GatewayError('TOO_MANY_SENSORS', `sensor ${r.sensor} refused: the gateway serves at most ${this.opts.maxSensors} sensors`), topic, payload);
        return none;
      }
      s = await this.addSensor(r.sensor);
    }
    const st = s.state;
    while (this.inFlight >= this.opts.maxInFlight || this.outbox.size >= this.opts.maxInFlight) await new Promise((resolve) => { this.wake = resolve; });
    const kind = classify(st, r.seq);
    if (kind === 'taken' || kind === 'too-late') {
      if (kind === 'taken') {
        st.duplicates++;
        this.stats.duplicates++;
      } else {
        const why = st.gapFloor === undefined ? `the ${LATE_SPAN} seqs tracked up to the last taken (${st.lastSeq})`
          : `${st.gapFloor}, the lowest seq tracked since older gaps passed ${MAX_RUNS} runs (last taken ${st.lastSeq})`;
        this.report(new GatewayError('TOO_LATE', `sensor ${r.sensor}: seq ${r.seq} is below ${why}: whether it was taken cannot be told, so it is not scored`), topic, payload);
      }
      // taken before (a redelivery), or perhaps so if too late: its PUBACK waits for the state
      // that says so, and for its score
      const out = st.outs.find((o) => o.seq === r.seq);
      return this.inFlightUntil(Promise.all([this.commits.commit(st), out && this.outbox.settled(out.mid)]));
    }
    const late = kind === 'late';
    this.stats.readings++;
    st.readings++;
    const { out, anomaly } = this.score(s, r, late) ?? {};
    if (late) {
      // scored against the current window, which holds newer readings; not put in the window (it
      // stays in seq order) nor handed to fine-tuning
      fill(st, r.seq);
      st.late++;
      this.stats.late++;
    } else {
      st.window.push(r.values);
      if (st.window.length > this.meta.window) st.window.shift();
      advance(st, r.seq);
      this.worker.postMessage({ type: 'reading', sensor: r.sensor, values: r.values, normal: !anomaly });
    }
    const durable = this.commits.commit(st);
    if (!out) return this.inFlightUntil(durable);
    const handshake = this.outbox.track(st, out);
    // the callbacks of one write run in the order the readings were taken: so do the publishes
    return this.inFlightUntil(durable.then(() => {
      this.outbox.useMid(out.mid);
      this.client.publish(out.topic, out.payload, { qos: 2 });
      return handshake;
    }));
  }

  /**
   * Score reading `r` of sensor `s` against the forecast from its window: its score message,
   * added to the state's `outs` with its message id, and whether it is an anomaly; undefined
   * while the window is not yet full.
   */
  score(s, r, late) {
    const st = s.state;
    const w = this.meta.window;
    if (st.window.length < w) return undefined;
    toInput(st.window.flat(), this.meta, s.input);
    const forecast = toForecast(s.model.predict(s.input), st.window[w - 1], this.meta);
    const score = anomalyScore(r.values, forecast, this.meta);
    const anomaly = score > this.meta.threshold;
    const f = Object.fromEntries(this.meta.features.map((name, j) => [name, round(forecast[j])]));
    const out = { seq: r.seq, mid: nextMid(st.slot, st.mid), topic: `sensors/${r.sensor}/score`,
      payload: JSON.stringify({ seq: r.seq, forecast: f, score: round(score), anomaly, ...(late && { late: true }) }), phase: 'publish' };
    st.mid = out.mid;
    st.outs.push(out);
    st.scored++;
    this.stats.scored++;
    if (anomaly) st.anomalies++;
    return { out, anomaly };
  }

  /** Count a reading in flight until `finished` settles. */
  inFlightUntil(finished) {
    this.inFlight++;
    const end = () => { this.inFlight--; this.wakeUp(); };
    finished.then(end, end);
    return { finished };
  }

  wakeUp() {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
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
      readings: this.stats.readings, scored: this.stats.scored, late: this.stats.late, duplicates: this.stats.duplicates, errors: this.stats.errors,
      commits: this.commits.writes, inFlight: this.inFlight,
      memory: { rssMiB: +(mem.rss / 2 ** 20).toFixed(1), heapUsedMiB: +(mem.heapUsed / 2 ** 20).toFixed(1) },
      sensors: Object.fromEntries([...this.sensors].map(([id, s]) => [id, {
        readings: s.state.readings, scored: s.state.scored, anomalies: s.state.anomalies, late: s.state.late, lastSeq: s.state.lastSeq,
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
    if (this.journal) {
      await this.commits.commit(); // the scores completed since the last write
      await this.journal.close();
    }
    await this.worker?.terminate();
  }
}

const round = (v) => Math.round(v * 1e4) / 1e4;
