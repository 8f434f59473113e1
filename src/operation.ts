// One operation at a time per model. fit is async and yields between steps, so without this a
// second fit could reallocate the optimizer state under the first one's feet, and setWeights or
// dispose could change the memory a running step reads. Those calls get BUSY instead of waiting:
// a caller that wants to queue them can await the fit. predict, evaluate, getWeights and save
// stay available during a fit: each runs synchronously between two steps and re-plans the
// transient memory the step will re-plan again.
import { NeuriteError } from './errors';

export class OperationLock {
  private holder?: string;

  /** Refuse `what` while an operation runs. */
  check(what: string): void {
    if (this.holder) {
      throw new NeuriteError('BUSY', `${what}: the model is busy with ${this.holder}; wait for it to finish (one operation at a time per model)`);
    }
  }

  /** Run `op` as the model's one operation; the lock is released however it ends. */
  async run<T>(what: string, op: () => Promise<T>): Promise<T> {
    this.check(what);
    this.holder = what;
    try {
      return await op();
    } finally {
      this.holder = undefined;
    }
  }
}
