/**
 * Seeded PRNG (mulberry32). Integer arithmetic only, so the same seed gives the same numbers,
 * bit for bit, in every JavaScript engine — and so the same initial weights in every runtime.
 */
export class Rng {
  private state_: number;

  constructor(seed: number) {
    this.state_ = (Math.trunc(seed) ^ 0x9e3779b9) >>> 0;
  }

  /** The generator's position, to save with a training checkpoint. */
  get state(): number {
    return this.state_;
  }

  set state(v: number) {
    this.state_ = v >>> 0;
  }

  /** Uniform 32-bit unsigned integer. */
  nextU32(): number {
    this.state_ = (this.state_ + 0x6d2b79f5) >>> 0;
    let t = this.state_;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** Uniform in [0, 1), a multiple of 2⁻³². */
  next(): number {
    return this.nextU32() / 4294967296;
  }

  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** Standard normal (Box–Muller on two uniforms; 1 − u keeps the log finite). */
  normal(): number {
    const u = 1 - this.next();
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** In-place Fisher–Yates shuffle. */
  shuffle(a: Uint32Array | number[]): void {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
  }
}
