// The fuzz loop: generate a case (a mutated model file or image), run it the way an application
// would (load → predict → sometimes fit; decode → toMnist), and classify what happened. A case
// passes when it ends in a NeuriteError or in a finite result, within the time and memory
// bounds. Everything else — another error type, NaN handed back, a slow or fat case — is a
// finding, kept with its seed so it can be replayed.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { mutateImage } from './images.mjs';
import { mutateModel, SEED_TOPOLOGIES } from './models.mjs';
import { rng } from './random.mjs';

export const LIMIT_MS = 1000;
export const LIMIT_BYTES = 256 * 2 ** 20;

// A full GC between cases keeps one case's garbage from being charged to the next.
function gcFunction() {
  if (typeof globalThis.gc === 'function') return globalThis.gc;
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc');
}

const finite = (a) => a.every(Number.isFinite);

/**
 * `length` values in [-scale, scale): 256 drawn, then tiled, so making a large input costs the
 * case a copy, not millions of PRNG calls that are the harness's time, not the model's.
 */
function values(r, length, scale) {
  const out = new Float32Array(length);
  const n = Math.min(length, 256);
  for (let i = 0; i < n; i++) out[i] = (r.next() * 2 - 1) * scale;
  for (let have = n; have < length; have *= 2) out.copyWithin(have, 0, Math.min(have, length - have));
  return out;
}

// What a case holds: the JS heap plus external memory, which is where wasm memories and array
// buffers live (RSS would not show a case that reuses pages an earlier case's garbage freed).
function allocated() {
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
}
// Garbage left by earlier cases is collected once it passes this, so a GC during a case can
// hide at most this much of the case's own growth.
const GARBAGE_BYTES = 32 * 2 ** 20;

/** load → predict → (sometimes) fit and predict again; returns 'ok' or throws. */
async function runModelCase(nn, bytes, r) {
  const model = nn.load(bytes);
  try {
    const n = r.range(1, 3);
    const scale = r.pick([1, 1, 1, 1e3, 1e30]);
    // sizes from the public shapes
    const inputSize = model.inputShape.reduce((a, b) => a * b, 1);
    const outputSize = model.outputShape.reduce((a, b) => a * b, 1);
    const x = values(r, n * inputSize, scale);
    const y = model.predict(x);
    if (y.length !== n * outputSize || !finite(y)) return 'nonfinite';
    if (r.chance(0.3)) {
      const t = values(r, n * outputSize, 0.5).map((v) => v + 0.5);
      const h = await model.fit(x, t, {
        epochs: r.range(1, 3), batchSize: r.range(1, n), loss: r.pick(['mse', 'mae', 'binaryCrossentropy']),
        optimizer: { type: r.pick(['sgd', 'adam', 'momentum', 'rmsprop', 'adagrad']), learningRate: r.pick([1e-3, 0.1, 10, 1e6]) },
      });
      if (!finite(h.loss)) return 'nonfinite';
      if (!finite(model.predict(x))) return 'nonfinite';
    }
    if (r.chance(0.1)) {
      const again = nn.load(model.save());
      if (!finite(again.predict(x))) return 'nonfinite';
    }
    return 'ok';
  } finally {
    model.dispose();
  }
}

async function runImageCase(image, bytes) {
  const img = await image.decodeImage(bytes);
  if (!(img.width > 0 && img.height > 0 && img.data.length === img.width * img.height && finite(img.data))) return 'nonfinite';
  const digit = image.toMnist(img);
  return digit.length === 784 && finite(digit) ? 'ok' : 'nonfinite';
}

/** A case's input, from the seed and its index alone: any case can be replayed. */
function generate(seeds, seed, index, imageShare) {
  const r = rng((seed * 0x9e3779b1 + index * 0x85ebca6b) >>> 0);
  const isImage = r.chance(imageShare);
  try {
    const input = isImage ? mutateImage(r) : mutateModel(r.pick(seeds), r);
    return { ...input, kind: isImage ? 'image' : 'model', r };
  } catch (e) {
    throw new Error(`fuzz: generating case ${index} (seed ${seed}) failed: ${e.stack}`);
  }
}

/** Run one case: its outcome, wall time and memory growth. */
async function runOne(lib, input) {
  const before = allocated();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let outcome;
  try {
    outcome = input.kind === 'image' ? await runImageCase(lib.image, input.bytes) : await runModelCase(lib.nn, input.bytes, input.r);
  } catch (e) {
    outcome = e instanceof lib.NeuriteError ? `error ${e.code}` : `untyped ${e?.constructor?.name}: ${String(e?.message).slice(0, 200)}`;
  }
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const after = allocated();
  return { outcome, ms, cpuMs: (cpu.user + cpu.system) / 1000, grew: after - before, after };
}

/**
 * Run cases until `seconds` pass or `cases` are done. `lib` is { nn, NeuriteError, image }
 * (from dist/). Returns the summary: counts by outcome, the slowest case, the largest memory
 * growth, and every finding with how to replay it. A case over the time limit is timed again
 * alone, after a GC, and is a finding only if it is over the limit twice in wall time and also
 * in CPU time (all of the process's threads): on a shared machine, time other processes took
 * is not the case's cost.
 */
export async function fuzz({ lib, seed = 1, seconds = Infinity, cases = Infinity, imageShare = 0.35, onProgress }) {
  const gc = gcFunction();
  const seeds = SEED_TOPOLOGIES.map((t, i) => lib.nn.sequential({ ...t, seed: i + 1 }).save());
  const outcomes = new Map();
  const findings = [];
  let slowest = { ms: 0 };
  let fattest = { grew: 0 };
  let retimed = 0;
  const started = performance.now();
  let done = 0;
  gc();
  let clean = allocated();
  for (; done < cases && (performance.now() - started) / 1000 < seconds; done++) {
    const input = generate(seeds, seed, done, imageShare);
    let { outcome, ms, cpuMs, grew, after } = await runOne(lib, input);
    if (ms > LIMIT_MS) {
      retimed++;
      gc();
      const again = await runOne(lib, generate(seeds, seed, done, imageShare));
      ms = Math.min(ms, again.ms);
      cpuMs = again.cpuMs;
      after = allocated();
    }
    const label = `${input.kind} ${outcome.startsWith('untyped') ? 'untyped' : outcome}`;
    outcomes.set(label, (outcomes.get(label) ?? 0) + 1);
    const where = { case: done, seed, kind: input.kind, what: input.what, bytes: input.bytes.length, outcome };
    if (ms > slowest.ms) slowest = { ms, cpuMs, ...where };
    if (grew > fattest.grew) fattest = { grew, ...where };
    const slow = ms > LIMIT_MS && cpuMs > LIMIT_MS;
    const bad = outcome.startsWith('untyped') || outcome === 'nonfinite' || slow || grew > LIMIT_BYTES;
    if (bad) findings.push({ ...where, ms: Math.round(ms), cpuMs: Math.round(cpuMs), mib: +(grew / 2 ** 20).toFixed(1) });
    // collect the cases' garbage (wasm memories above all) before it can hide a case's growth
    if (after - clean > GARBAGE_BYTES) {
      gc();
      clean = allocated();
    }
    if (onProgress && done % 1000 === 999) onProgress(done + 1, performance.now() - started);
  }
  return {
    seed,
    cases: done,
    seconds: +((performance.now() - started) / 1000).toFixed(1),
    outcomes: Object.fromEntries([...outcomes].sort((a, b) => b[1] - a[1])),
    slowest: { ...slowest, ms: +slowest.ms.toFixed(1), cpuMs: Math.round(slowest.cpuMs ?? 0) },
    maxMemory: { ...fattest, mib: +(fattest.grew / 2 ** 20).toFixed(1) },
    retimed,
    findings,
  };
}

/** Replay one case exactly (same seed and index) and return its input, for a reproducer. */
export function caseInput(lib, seed, index, imageShare = 0.35) {
  const seeds = SEED_TOPOLOGIES.map((t, i) => lib.nn.sequential({ ...t, seed: i + 1 }).save());
  return generate(seeds, seed, index, imageShare);
}
