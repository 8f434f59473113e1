// The PUBACKs of readings, each held until its reading is finished (its state durable, its score
// through the QoS 2 handshake) and sent in the order the readings arrived (MQTT 3.1.1 §4.6: a
// client sends PUBACKs in the order of the PUBLISH packets they answer). mqtt.js sends a
// reading's PUBACK as soon as handleMessage calls back, and reads no other packet before that —
// not even the PUBREC/PUBCOMP a score waits for — so the gateway calls back at once and hands
// mqtt.js's PUBACK to `hold` instead of the socket.

export class Acks {
  /** @param {(packet: object) => void} send write a PUBACK @param {(e: Error) => void} fail */
  constructor(send, fail) {
    this.send = send;
    this.fail = fail;
    this.queue = []; // { finished: boolean, packet } in arrival order
    this.byId = new Map(); // message id → its entry, until mqtt.js hands over the PUBACK
  }

  /** The reading with message id `id` (just arrived) is finished when `finished` resolves. */
  add(id, finished) {
    const entry = { finished: false, packet: null };
    this.queue.push(entry);
    this.byId.set(id, entry);
    finished.then(() => { entry.finished = true; this.flush(); }, this.fail);
  }

  /** mqtt.js's PUBACK: true if held here (sent later, in order), false if it is no reading's. */
  hold(packet) {
    const entry = this.byId.get(packet.messageId);
    if (!entry) return false;
    this.byId.delete(packet.messageId);
    entry.packet = packet;
    this.flush();
    return true;
  }

  /** Readings taken whose PUBACK has not been sent. */
  get size() { return this.queue.length; }

  flush() {
    let n = 0;
    while (n < this.queue.length && this.queue[n].finished && this.queue[n].packet) this.send(this.queue[n++].packet);
    if (n) this.queue.splice(0, n);
  }
}
