// Exactly one score message per reading, across SIGKILLs. Scores go out with QoS 2, whose
// handshake (PUBLISH → PUBREC → PUBREL → PUBCOMP) lets the broker drop a re-sent PUBLISH it
// already holds, as long as the re-send uses the same message id. So each score, its message id
// and the handshake's phase are part of the sensor's state (`outs`, sensor-state.mjs), made
// durable through the group commit (group-commit.mjs, journal.mjs) before each step, and this
// class is the mqtt.js `outgoingStore` and `messageIdProvider` that tie the client to that state:
// - the id of a score is chosen by the gateway (a range per sensor slot, so in-flight ids of
//   different sensors never collide, even those recovered after a restart);
// - mqtt.js stores a PUBREL before sending it: here that write becomes durable first (phase
//   'pubrel'), because once the broker has released the message a re-sent PUBLISH would be new;
// - PUBCOMP takes the score out of `outs` (the next commit records it);
// - after a restart the recovered PUBLISH / PUBREL packets are what mqtt.js re-sends on connect.
import { Readable } from 'node:stream';

const IDS_PER_SLOT = 1000;
const SUBSCRIBE_IDS = 65001; // ids 65001-65535 for SUBSCRIBE and other non-score packets

export const MAX_SLOTS = Math.floor((SUBSCRIBE_IDS - 1) / IDS_PER_SLOT); // 65
/** Scores in flight at once must stay below this, or an id of a sensor could be reused too soon. */
export const MAX_OUTS = IDS_PER_SLOT - 1;

/** The message id after `mid` in the range of `slot`. */
export function nextMid(slot, mid) {
  const base = slot * IDS_PER_SLOT + 1;
  return mid >= base && mid < base + IDS_PER_SLOT - 1 ? mid + 1 : base;
}

export class Outbox {
  /** @param {{ commit(state: object): Promise<void>, touch(state: object): void }} commits the group commit of sensor states */
  constructor(commits) {
    this.commits = commits;
    this.packets = new Map(); // mid → packet mqtt.js may have to re-send
    this.owners = new Map(); // mid → { state, out, done: Promise, resolve }
    this.preset = 0;
    this.other = SUBSCRIBE_IDS;
  }

  /** Register a score in flight (recovered or new); resolves when the broker has it for good. */
  track(state, out) {
    let resolve;
    const done = new Promise((r) => { resolve = r; });
    this.owners.set(out.mid, { state, out, done, resolve });
    return done;
  }

  /** Scores in flight: tracked and not yet complete. */
  get size() { return this.owners.size; }

  /** Resolves when the score with message id `mid` is complete (at once if none is in flight). */
  settled(mid) {
    return this.owners.get(mid)?.done ?? Promise.resolve();
  }

  /** Packets to re-send on connect for a score recovered from disk. */
  recover(state, out) {
    const packet = out.phase === 'publish'
      ? { cmd: 'publish', topic: out.topic, payload: Buffer.from(out.payload), qos: 2, retain: false, dup: true, messageId: out.mid }
      : { cmd: 'pubrel', qos: 2, messageId: out.mid };
    this.packets.set(out.mid, packet);
    return this.track(state, out);
  }

  /** Make the next publish use `mid`. */
  useMid(mid) { this.preset = mid; }

  // --- mqtt.js Store ---
  put(packet, cb) {
    this.packets.set(packet.messageId, packet);
    const owner = this.owners.get(packet.messageId);
    if (packet.cmd === 'pubrel' && owner?.out.phase === 'publish') {
      owner.out.phase = 'pubrel';
      this.commits.commit(owner.state).then(() => cb(), cb);
      return;
    }
    cb();
  }

  get(packet, cb) {
    const p = this.packets.get(packet.messageId);
    if (p) cb(null, p); else cb(new Error(`no packet ${packet.messageId}`));
  }

  del(packet, cb) {
    const id = packet.messageId;
    const p = this.packets.get(id) ?? { cmd: 'publish', messageId: id };
    this.packets.delete(id);
    const owner = this.owners.get(id);
    if (owner) {
      // PUBCOMP: the broker has the score for good
      const outs = owner.state.outs;
      const i = outs.indexOf(owner.out);
      if (i >= 0) outs.splice(i, 1);
      this.commits.touch(owner.state);
      this.owners.delete(id);
      owner.resolve();
    }
    cb(null, p);
  }

  createStream() {
    return Readable.from([...this.packets.values()], { objectMode: true });
  }

  close(cb) { cb?.(); }

  // --- mqtt.js message id provider ---
  allocate() {
    if (this.preset) { const id = this.preset; this.preset = 0; return id; }
    this.other = this.other >= 65535 ? SUBSCRIBE_IDS : this.other + 1;
    return this.other;
  }

  getLastAllocated() { return this.other; }
  register() { return true; }
  deallocate() {}
  clear() {}
}
