// Exactly one score message per reading, across SIGKILLs. Scores go out with QoS 2, whose
// handshake (PUBLISH → PUBREC → PUBREL → PUBCOMP) lets the broker drop a re-sent PUBLISH it
// already holds, as long as the re-send uses the same message id. So the gateway persists the
// score, its message id and the handshake's phase in the sensor's state (sensor-state.mjs)
// before each step, and this class is the mqtt.js `outgoingStore` and `messageIdProvider` that
// tie the client to that state:
// - the id of a score is chosen by the gateway (a range per sensor slot, so in-flight ids of
//   different sensors never collide, even those recovered after a restart);
// - mqtt.js stores a PUBREL before sending it: here that write becomes durable first (phase
//   'pubrel'), because once the broker has released the message a re-sent PUBLISH would be new;
// - after a restart the recovered PUBLISH / PUBREL packets are what mqtt.js re-sends on connect.
import { Readable } from 'node:stream';

const IDS_PER_SLOT = 1000;
const SUBSCRIBE_IDS = 65001; // ids 65001-65535 for SUBSCRIBE and other non-score packets

export const MAX_SLOTS = Math.floor((SUBSCRIBE_IDS - 1) / IDS_PER_SLOT); // 65

/** The message id after `mid` in the range of `slot`. */
export function nextMid(slot, mid) {
  const base = slot * IDS_PER_SLOT + 1;
  return mid >= base && mid < base + IDS_PER_SLOT - 1 ? mid + 1 : base;
}

export class Outbox {
  /** @param {(state: object) => Promise<void>} persist durable write of a sensor's state */
  constructor(persist) {
    this.persist = persist;
    this.packets = new Map(); // mid → packet mqtt.js may have to re-send
    this.owners = new Map(); // mid → sensor state whose `out` it is
    this.waiters = new Map(); // mid → resolve() when its handshake completes
    this.preset = 0;
    this.other = SUBSCRIBE_IDS;
  }

  /** Register a sensor's score in flight (recovered or new); resolves when the broker has it for good. */
  track(state) {
    const out = state.out;
    this.owners.set(out.mid, state);
    return new Promise((resolve) => this.waiters.set(out.mid, resolve));
  }

  /** Packets to re-send on connect for a score recovered from disk. */
  recover(state) {
    const out = state.out;
    const packet = out.phase === 'publish'
      ? { cmd: 'publish', topic: out.topic, payload: Buffer.from(out.payload), qos: 2, retain: false, dup: true, messageId: out.mid }
      : { cmd: 'pubrel', qos: 2, messageId: out.mid };
    this.packets.set(out.mid, packet);
    return this.track(state);
  }

  /** Make the next publish use `mid`. */
  useMid(mid) { this.preset = mid; }

  // --- mqtt.js Store ---
  put(packet, cb) {
    this.packets.set(packet.messageId, packet);
    const owner = this.owners.get(packet.messageId);
    if (packet.cmd === 'pubrel' && owner?.out?.mid === packet.messageId && owner.out.phase === 'publish') {
      owner.out.phase = 'pubrel';
      this.persist(owner).then(() => cb(), cb);
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
    // PUBCOMP: the broker has the score for good; the next state write records it
    if (owner?.out?.mid === id) owner.out.phase = 'done';
    this.owners.delete(id);
    this.waiters.get(id)?.();
    this.waiters.delete(id);
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
