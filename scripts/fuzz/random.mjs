// The fuzzer's seeded randomness: every case is reproducible from (seed, case index).

/** mulberry32: a small seeded PRNG with integer arithmetic only. */
export function rng(seed) {
  let s = seed >>> 0;
  const next = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n) => Math.floor(next() * n);
  return {
    next,
    int,
    /** integer in [lo, hi] */
    range: (lo, hi) => lo + int(hi - lo + 1),
    pick: (list) => list[int(list.length)],
    chance: (p) => next() < p,
  };
}

/** Numbers that sit on boundaries: zero, signs, powers of two and their neighbours, floats. */
export function interestingNumber(r) {
  return r.pick([
    0, 1, 2, 3, -1, -2, 0.5, 1.5, 7, 16, 28, 64, 255, 256, 1000, 4096, 6000, 12028, 65535, 65536, 65537,
    2 ** 20, 600_000, 2 ** 24, 2 ** 24 + 1, 2 ** 31 - 1, 2 ** 31, 2 ** 32, 2 ** 32 + 1, 2 ** 53, 2 ** 53 + 2,
    1e9, 1e300, -1e300, 3e38, 1e-45, Number.MAX_SAFE_INTEGER, -0,
    r.range(1, 9), r.range(1, 64), r.range(1, 5000), r.range(-10, 10),
  ]);
}
