// Which seqs below a sensor's last taken one have not been taken yet (its gaps), so that a reading
// delivered after a newer one of its sensor — a LATE reading — is told from a duplicate. aedes
// does this after a reconnect: it hands over the readings that arrived while the gateway was down
// before the older unacknowledged ones; a sensor that skips seqs (rebooted, a replay of a subset)
// leaves gaps that are never filled, which must cost little and break nothing.
//
// Part of the sensor state (sensor-state.mjs), and the journal writes the full state of a sensor
// on every commit, so the record is small: `gaps` is absent when there is none (the common case
// adds nothing), else sorted, disjoint, non-adjacent runs [from, to] (inclusive). Bounded: only
// the LATE_SPAN seqs up to lastSeq are tracked, in at most MAX_RUNS runs; when a run more would
// be needed, the oldest is forgotten and `gapFloor` says that below its end nothing is known. A
// seq below what is tracked is too late: whether it was taken cannot be told any more.

export const LATE_SPAN = 1024;
export const MAX_RUNS = 32; // about 15 bytes of JSON each

/** The lowest seq of `st` still tracked: below it a reading is too late. */
export function lowestTracked(st) {
  return Math.max(st.lastSeq - LATE_SPAN + 1, st.gapFloor ?? 0, 0);
}

/**
 * What a reading with `seq` is to the sensor with state `st`: 'new' (above the last taken),
 * 'late' (below it, in a gap), 'taken' (a duplicate) or 'too-late' (below what is tracked).
 * @returns {'new' | 'late' | 'taken' | 'too-late'}
 */
export function classify(st, seq) {
  if (seq > st.lastSeq) return 'new';
  if (seq < lowestTracked(st)) return 'too-late';
  return st.gaps?.some(([from, to]) => seq >= from && seq <= to) ? 'late' : 'taken';
}

/** Take `seq` > lastSeq: it becomes lastSeq, and the seqs it skips become gaps. */
export function advance(st, seq) {
  if (!(seq > st.lastSeq)) throw new RangeError(`seq ${seq} is not above the last taken (${st.lastSeq})`);
  const runs = st.gaps ?? [];
  if (seq > st.lastSeq + 1) runs.push([st.lastSeq + 1, seq - 1]);
  st.lastSeq = seq;
  bound(st, runs);
}

/** Take the late `seq`: it leaves its gap. */
export function fill(st, seq) {
  const runs = st.gaps ?? [];
  const i = runs.findIndex(([from, to]) => seq >= from && seq <= to);
  if (i < 0) throw new RangeError(`seq ${seq} is in no gap`);
  const [from, to] = runs[i];
  runs.splice(i, 1, ...[[from, seq - 1], [seq + 1, to]].filter(([a, b]) => a <= b));
  bound(st, runs);
}

/** Keep `runs` within the span and MAX_RUNS, and store them (none: no field). */
function bound(st, runs) {
  const low = st.lastSeq - LATE_SPAN + 1;
  while (runs.length && runs[0][1] < low) runs.shift();
  if (runs.length && runs[0][0] < low) runs[0] = [low, runs[0][1]];
  // a split by fill() or a new skip beyond the cap: forget the oldest run, and say so, or a late
  // reading in it would pass for a duplicate and be acknowledged without a score
  while (runs.length > MAX_RUNS) st.gapFloor = runs.shift()[1] + 1;
  if (st.gapFloor !== undefined && st.gapFloor <= Math.max(low, 0)) delete st.gapFloor;
  if (runs.length) st.gaps = runs; else delete st.gaps;
}

const isSeq = Number.isSafeInteger;

/** Why the gap record of `st` is malformed, or undefined if it is sound (absent is sound: no gaps). */
export function invalidGaps(st) {
  if (st.gapFloor !== undefined && !(isSeq(st.gapFloor) && st.gapFloor > Math.max(st.lastSeq - LATE_SPAN + 1, 0) && st.gapFloor <= st.lastSeq)) return 'bad gapFloor';
  if (st.gaps === undefined) return undefined;
  if (!Array.isArray(st.gaps) || st.gaps.length === 0 || st.gaps.length > MAX_RUNS) return 'bad gaps';
  let prev = lowestTracked(st) - 2; // so the first run may start at the lowest tracked seq
  for (const run of st.gaps) {
    if (!Array.isArray(run) || run.length !== 2 || !isSeq(run[0]) || !isSeq(run[1])) return 'bad gaps';
    const [from, to] = run;
    // sorted, apart (adjacent runs would be one), within what is tracked and below the last taken
    if (from < prev + 2 || from > to || to >= st.lastSeq) return 'bad gaps';
    prev = to;
  }
  return undefined;
}
