// The per-sensor ingestion state that scoring needs, kept on disk so that a SIGKILL loses
// nothing that was acknowledged: the last `window` readings, the last seq taken, counters, and
// the score message in flight (`out`) with its MQTT message id and how far its QoS 2 handshake
// got. Written atomically (temp file, fsync, rename, fsync dir) before the broker hears anything
// that depends on it. The file is small (one window), so a rewrite per reading is cheap enough.
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../../dist/atomic-write.js';

const FILE = 'ingest.json';

export function sensorDir(stateDir, sensor) {
  return join(stateDir, 'sensors', sensor);
}

/**
 * @typedef {{ seq: number, mid: number, topic: string, payload: string, phase: 'publish' | 'pubrel' | 'done' }} Out
 * @typedef {{ sensor: string, slot: number, lastSeq: number, window: number[][], readings: number,
 *   scored: number, anomalies: number, duplicates: number, out: Out | null }} SensorState
 */

/** A fresh state for a sensor seen for the first time. */
export function newState(sensor, slot) {
  return { sensor, slot, lastSeq: -1, window: [], readings: 0, scored: 0, anomalies: 0, duplicates: 0, out: null };
}

/** Every sensor state under `stateDir`; a file that does not parse is reported, not fatal. */
export function loadStates(stateDir, log) {
  const root = join(stateDir, 'sensors');
  let names = [];
  try { names = readdirSync(root); } catch { return []; }
  const out = [];
  for (const name of names) {
    const path = join(root, name, FILE);
    let text;
    try { text = readFileSync(path, 'utf8'); } catch { continue; }
    try {
      const s = JSON.parse(text);
      if (s.sensor !== name || !Number.isInteger(s.slot) || !Number.isInteger(s.lastSeq) || !Array.isArray(s.window)) throw new Error('missing fields');
      out.push(s);
    } catch (e) {
      // the write is atomic, so this is a disk that lied or a hand edit: start that sensor afresh
      log(`sensor ${name}: ingestion state ${path} unreadable (${e.message}); starting it afresh`);
    }
  }
  return out;
}

/** Write a sensor's state durably. */
export async function saveState(stateDir, state) {
  const dir = sensorDir(stateDir, state.sensor);
  mkdirSync(dir, { recursive: true });
  await writeFileAtomic(join(dir, FILE), Buffer.from(JSON.stringify(state)));
}
