// Group commit: many callers, one durable write per batch. A caller changes its item (a sensor's
// state) in memory, then asks for a commit; the promise it gets resolves once a write that began
// after the call, and so holds the item as it is now or later, is on disk. Calls made while a
// write is in flight all join the next write; calls made while idle wait for the current I/O turn
// to end (setImmediate), so the readings parsed from one TCP read share a write too.
//
// `write(items)` must capture the items synchronously, before its first await: an item changed
// after that belongs to the next batch. A failed write rejects every caller of its batch (the
// gateway then exits: after a failed fsync what is on disk is unknown).

export class GroupCommit {
  /** @param {(items: object[]) => Promise<void>} write one durable write of these items */
  constructor(write) {
    this.write = write;
    this.dirty = new Set(); // items changed since the last write began
    this.next = null; // { promise, resolve, reject } of the next write, once someone waits for it
    this.running = false;
    this.writes = 0;
    this.items = 0; // items written, summed over the writes
  }

  /** Resolves once `item` (if given) and every other changed item, as they are now, are durable. */
  commit(item) {
    if (item !== undefined) this.dirty.add(item);
    if (!this.next) {
      let resolve; let reject;
      const promise = new Promise((res, rej) => { resolve = res; reject = rej; });
      this.next = { promise, resolve, reject };
      if (!this.running) {
        this.running = true;
        setImmediate(() => this.run());
      }
    }
    return this.next.promise;
  }

  /** Put `item` in the next write without asking for one (a change nothing waits for). */
  touch(item) {
    this.dirty.add(item);
  }

  async run() {
    while (this.next) {
      const batch = this.next;
      const items = [...this.dirty];
      this.next = null;
      this.dirty = new Set();
      try {
        if (items.length) {
          await this.write(items);
          this.writes++;
          this.items += items.length;
        }
        batch.resolve();
      } catch (e) {
        batch.reject(e);
      }
    }
    this.running = false;
  }
}
