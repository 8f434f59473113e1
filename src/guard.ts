// When a fit has diverged. A non-finite loss obviously has; so has a loss that explodes while
// still finite (Adam at lr 1e6 climbs to 6e5 without ever overflowing), and going on would only
// carry the weights further out. The bound is relative, so it holds for losses of any scale:
//   loss > 10^4 × max(lowest batch loss of this fit, 10^-2 × its first batch loss, 10^-3)
// Healthy training stays far below it: a batch loss 10^4 times the best one seen (or 100 times
// the first one, once the loss has fallen that far) is not noise.

export const EXPLOSION_FACTOR = 1e4;
/** how far below its first value the loss may fall before the bound stops following it down */
export const EXPLOSION_FIRST_FRACTION = 1e-2;
/** the bound never drops below EXPLOSION_FACTOR × this, so a loss of exactly 0 sets no trap */
export const EXPLOSION_FLOOR = 1e-3;

export class DivergenceGuard {
  private first = NaN;
  private best = Infinity;

  /** Why `loss` (the current batch's) means the fit diverged, or undefined if it does not. */
  check(loss: number): string | undefined {
    if (!Number.isFinite(loss)) return `the loss became ${loss}`;
    if (Number.isNaN(this.first)) this.first = loss;
    const base = Math.max(Math.min(this.best, loss), EXPLOSION_FIRST_FRACTION * this.first, EXPLOSION_FLOOR);
    if (loss > EXPLOSION_FACTOR * base) {
      return `the loss exploded to ${loss.toExponential(3)}, over ${EXPLOSION_FACTOR} × ${base.toExponential(3)} (its lowest value in this fit)`;
    }
    if (loss < this.best) this.best = loss;
    return undefined;
  }
}
