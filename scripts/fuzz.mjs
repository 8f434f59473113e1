// npm run fuzz -- [--seconds 60] [--cases N] [--seed 1] [--save dir]
// Structure-aware fuzzing of model files and images against the built package (dist/): every
// case must end in a NeuriteError or a finite result, in under 1 s and 256 MiB. Prints a
// summary; exits 1 if any case broke a rule. `--save dir` writes each finding's input there.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { init, NeuriteError } from '../dist/node.js';
import * as image from '../dist/image.js';
import { writeFileAtomicSync } from '../dist/atomic-write.js';
import { caseInput, fuzz, LIMIT_BYTES, LIMIT_MS } from './fuzz/run.mjs';

function option(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

const seconds = Number(option('seconds', 60));
const cases = Number(option('cases', Infinity));
const seed = Number(option('seed', Date.now() % 1e6));
const save = option('save', undefined);
if (!(seconds > 0) || !(cases > 0) || !Number.isSafeInteger(seed)) throw new Error('fuzz: --seconds and --cases must be positive, --seed an integer');

const nn = await init();
const lib = { nn, NeuriteError, image };
console.log(`fuzz      seed ${seed}, ${Number.isFinite(cases) ? `${cases} cases, ` : ''}up to ${seconds} s, build ${nn.build}; rules: typed error or finite result, ≤ ${LIMIT_MS} ms, ≤ ${LIMIT_BYTES / 2 ** 20} MiB`);
const summary = await fuzz({
  lib, seed, seconds, cases,
  onProgress: (n, ms) => { if (n % 10_000 === 0) console.log(`          ${n} cases, ${(ms / 1000).toFixed(0)} s`); },
});

console.log(`cases     ${summary.cases} in ${summary.seconds} s (${Math.round(summary.cases / summary.seconds)}/s)`);
console.log('outcomes');
for (const [k, v] of Object.entries(summary.outcomes)) console.log(`  ${String(v).padStart(8)}  ${k}`);
const s = summary.slowest;
console.log(`slowest   ${s.ms} ms (CPU ${s.cpuMs} ms): case ${s.case}, ${s.kind} ${s.what} (${s.bytes} bytes) → ${s.outcome}`);
const m = summary.maxMemory;
console.log(`memory    max growth ${m.mib} MiB: case ${m.case}, ${m.kind} ${m.what} (${m.bytes} bytes) → ${m.outcome}`);
console.log(`retimed   ${summary.retimed} case(s) over ${LIMIT_MS} ms, timed again alone (a finding only if slow twice, in CPU time too)`);
console.log(`findings  ${summary.findings.length}`);
for (const f of summary.findings.slice(0, 20)) console.log(`  case ${f.case}: ${f.kind} ${f.what} → ${f.outcome}, ${f.ms} ms (CPU ${f.cpuMs} ms), ${f.mib} MiB`);
if (save && summary.findings.length) {
  mkdirSync(save, { recursive: true });
  for (const f of summary.findings) writeFileAtomicSync(join(save, `seed${seed}-case${f.case}.${f.kind === 'image' ? 'img' : 'safetensors'}`), caseInput(lib, seed, f.case).bytes);
  console.log(`saved     ${summary.findings.length} inputs in ${save}`);
}
process.exitCode = summary.findings.length ? 1 : 0;
