// The record of the seqs below a sensor's last one not yet taken (seq-gaps.mjs): a skip opens a
// gap, a late reading fills its seq, a redelivery is told from both; bounded to LATE_SPAN seqs and
// MAX_RUNS runs, and whatever is forgotten is too late, never a duplicate; absent when empty; a
// journal round trip keeps it; a malformed one is refused with the state.
import { describe, expect, it } from 'vitest';
// @ts-expect-error plain ESM helper without types
import { LATE_SPAN, MAX_RUNS, advance, classify, fill, invalidGaps } from '../../examples/gateway/seq-gaps.mjs';
// @ts-expect-error plain ESM helper without types
import { invalidState, newState } from '../../examples/gateway/sensor-state.mjs';

interface State { lastSeq: number; gaps?: [number, number][]; gapFloor?: number }
const fresh = (): State => newState('s1', 0);
const take = (st: State, ...seqs: number[]) => { for (const q of seqs) { if (classify(st, q) === 'late') fill(st, q); else advance(st, q); } return st; };
const kinds = (st: State, seqs: number[]) => seqs.map((q) => classify(st, q));

describe('seq gaps', () => {
  it('in order: no gaps and no field; a redelivery is taken', () => {
    const st = take(fresh(), 0, 1, 2, 3);
    expect(st.lastSeq).toBe(3);
    expect('gaps' in st).toBe(false);
    expect(kinds(st, [0, 3, 4])).toEqual(['taken', 'taken', 'new']);
    expect(invalidGaps(st)).toBeUndefined();
  });

  it('a skip opens a gap; late readings fill it, each once; runs split and vanish', () => {
    const st = take(fresh(), 10, 11, 20);
    expect(st.gaps).toEqual([[0, 9], [12, 19]]); // the first reading's skip too: its older ones may come late
    expect(kinds(st, [0, 9, 10, 11, 12, 19, 20, 21])).toEqual(['late', 'late', 'taken', 'taken', 'late', 'late', 'taken', 'new']);
    take(st, 15);
    expect(st.gaps).toEqual([[0, 9], [12, 14], [16, 19]]);
    expect(classify(st, 15)).toBe('taken');
    take(st, 12, 13, 14, 16, 17, 18, 19);
    expect(st.gaps).toEqual([[0, 9]]);
    take(st, ...Array.from({ length: 10 }, (_, i) => i));
    expect('gaps' in st).toBe(false);
    expect(st.lastSeq).toBe(20);
    expect(() => fill(st, 5)).toThrow(/in no gap/);
    expect(() => advance(st, 20)).toThrow(/not above/);
  });

  it('only the LATE_SPAN seqs up to the last taken are tracked: older ones are too late', () => {
    const st = take(fresh(), 5000);
    expect(st.gaps).toEqual([[5000 - LATE_SPAN + 1, 4999]]);
    expect(kinds(st, [5000 - LATE_SPAN, 5000 - LATE_SPAN + 1, 0])).toEqual(['too-late', 'late', 'too-late']);
    take(st, 5000 + LATE_SPAN - 1); // the old run is pushed out of the span, the new skip fills it
    expect(st.gaps).toEqual([[5001, 5000 + LATE_SPAN - 2]]);
    expect(kinds(st, [4999, 5000, 5001])).toEqual(['too-late', 'taken', 'late']);
    take(st, 5000 + 3 * LATE_SPAN);
    expect(st.gaps).toEqual([[5000 + 2 * LATE_SPAN + 1, 5000 + 3 * LATE_SPAN - 1]]);
    take(st, ...Array.from({ length: LATE_SPAN }, (_, i) => 5001 + 3 * LATE_SPAN + i));
    expect('gaps' in st).toBe(false); // the unfilled gap left the span
    expect(invalidGaps(st)).toBeUndefined();
  });

  it('at most MAX_RUNS runs: the oldest is forgotten and its seqs are too late, never duplicates', () => {
    const st = fresh();
    for (let q = 0; q <= 2 * (MAX_RUNS + 4); q += 2) take(st, q); // every other seq: a run of one each
    expect(st.gaps).toHaveLength(MAX_RUNS);
    expect(st.gaps![0]).toEqual([9, 9]);
    expect(st.gapFloor).toBe(8); // runs 1, 3, 5, 7 forgotten
    expect(kinds(st, [1, 7, 8, 9, 10])).toEqual(['too-late', 'too-late', 'taken', 'late', 'taken']);
    expect(invalidGaps(st)).toBeUndefined();
    // splitting a run past the cap forgets the oldest too
    const wide = take(fresh(), 0);
    for (let k = 1; k <= MAX_RUNS; k++) take(wide, 10 * k);
    expect(wide.gaps).toHaveLength(MAX_RUNS);
    take(wide, 10 * MAX_RUNS - 5);
    expect(wide.gaps).toHaveLength(MAX_RUNS);
    expect(wide.gapFloor).toBe(10);
    expect(classify(wide, 5)).toBe('too-late');
    expect(invalidGaps(wide)).toBeUndefined();
    // once the span passes the floor, it is dropped
    take(wide, 10 * MAX_RUNS + LATE_SPAN);
    expect('gapFloor' in wide).toBe(false);
  });

  it('survives JSON (the journal) whole; a state without it (an older journal) loads as having no gaps', () => {
    const st = take(fresh(), 100, 101, 140, 120);
    const back = JSON.parse(JSON.stringify(st));
    expect(invalidState(back)).toBeUndefined();
    expect(kinds(back, [50, 100, 119, 120, 121, 141])).toEqual(['late', 'taken', 'late', 'taken', 'late', 'new']);
    const old = { ...newState('s2', 1), lastSeq: 5000 };
    delete (old as { late?: number }).late;
    expect(invalidState(old)).toBeUndefined();
    expect(kinds(old, [4999, 5000 - LATE_SPAN + 1, 5000 - LATE_SPAN])).toEqual(['taken', 'taken', 'too-late']);
  });

  it('a malformed record is refused with its state', () => {
    const base = { ...newState('s1', 0), lastSeq: 2000 };
    const bad: Record<string, unknown>[] = [
      { gaps: [] }, // empty is written as no field
      { gaps: {} }, { gaps: 'x' }, { gaps: [[1]] }, { gaps: [[1, 2, 3]] }, { gaps: [[1500.5, 1600]] }, { gaps: [['1500', 1600]] },
      { gaps: [[1600, 1500]] }, // reversed
      { gaps: [[1500, 1600], [1400, 1450]] }, // not sorted
      { gaps: [[1500, 1600], [1601, 1700]] }, // adjacent: one run
      { gaps: [[1500, 1600], [1550, 1700]] }, // overlapping
      { gaps: [[1500, 2000]] }, // reaches the last taken
      { gaps: [[900, 1000]] }, // below the span
      { gaps: Array.from({ length: MAX_RUNS + 1 }, (_, i) => [1000 + 3 * i, 1000 + 3 * i]) }, // too many runs
      { gapFloor: 1.5 }, { gapFloor: '1500' }, { gapFloor: 2001 }, { gapFloor: 900 },
      { gapFloor: 1500, gaps: [[1400, 1450]] }, // a run below the floor
    ];
    for (const extra of bad) expect(invalidState({ ...base, ...extra }), JSON.stringify(extra)).toMatch(/bad gap/);
    for (const ok of [{}, { gaps: [[977, 977], [1500, 1999]] }, { gapFloor: 1500, gaps: [[1500, 1600]] }]) {
      expect(invalidState({ ...base, ...ok }), JSON.stringify(ok)).toBeUndefined();
    }
  });
});
