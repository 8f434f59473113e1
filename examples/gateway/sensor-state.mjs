// The per-sensor ingestion state that scoring needs, kept on disk (journal.mjs) so that a SIGKILL
// loses nothing that was acknowledged: the last `window` readings, the last seq taken and the
// gaps below it (seq-gaps.mjs), counters, the last message id given to a score, and the scores
// whose QoS 2 handshake is not known to be complete (`outs`), each with its message id and how
// far the handshake got.
import { join } from 'node:path';
import { MAX_SLOTS } from './outbox.mjs';
import { SENSOR_ID } from './payload.mjs';
import { invalidGaps } from './seq-gaps.mjs';

export function sensorDir(stateDir, sensor) {
  return join(stateDir, 'sensors', sensor);
}

/**
 * @typedef {{ seq: number, mid: number, topic: string, payload: string, phase: 'publish' | 'pubrel' }} Out
 * @typedef {{ sensor: string, slot: number, lastSeq: number, gaps?: [number, number][], gapFloor?: number,
 *   window: number[][], readings: number, scored: number, anomalies: number, late: number, duplicates: number,
 *   mid: number, outs: Out[] }} SensorState
 */

/** A fresh state for a sensor seen for the first time. */
export function newState(sensor, slot) {
  return { sensor, slot, lastSeq: -1, window: [], readings: 0, scored: 0, anomalies: 0, late: 0, duplicates: 0, mid: 0, outs: [] };
}

const isOut = (o) => Number.isInteger(o?.seq) && Number.isInteger(o.mid) && typeof o.topic === 'string'
  && typeof o.payload === 'string' && (o.phase === 'publish' || o.phase === 'pubrel');

/** Why `s` is not a sensor state, or undefined if it is one. */
export function invalidState(s) {
  if (typeof s?.sensor !== 'string' || !Number.isInteger(s.slot) || !Number.isInteger(s.lastSeq) || !Number.isInteger(s.mid)) return 'missing fields';
  if (!SENSOR_ID.test(s.sensor)) return 'bad sensor id'; // it names a directory
  if (s.slot < 0 || s.slot >= MAX_SLOTS) return 'bad slot';
  if (!Array.isArray(s.window) || !s.window.every((v) => Array.isArray(v) && v.every(Number.isFinite))) return 'bad window';
  if (!Array.isArray(s.outs) || !s.outs.every(isOut)) return 'bad outs';
  return invalidGaps(s); // absent in journals written before late readings were told apart: no gaps
}

