// Fine-tuning off the main thread, so drawing stays smooth while the model learns.
//
// The worker has its own neurite runtime. Each job brings the current weights (a safetensors file
// from model.save()) and the user's corrections; the worker trains on the corrections, each
// repeated with one-pixel shifts, mixed with MNIST digits from replay.bin so the model keeps
// what it knew, then sends back the new weights from model.save().
//
// in:  { type: 'fine-tune', id, seed, build, weights: ArrayBuffer, corrections: [{ pixels, label }],
//        replayUrl, settings: { epochs, learningRate, batchSize, replay } }
//      { type: 'abort', id }
// out: { type: 'progress', id, step, steps, epoch, epochs, loss }
//      { type: 'done', id, weights: ArrayBuffer, report }  |  { type: 'aborted', id }  |  { type: 'error', id, message }
import { init } from '../../dist/index.js';
import { parseReplay } from './replay.js';

const SIDE = 28;
const SIZE = SIDE * SIDE;
/** Corrections make up about this share of each run's samples. */
const CORRECTION_SHARE = 0.25;

/** @type {Map<string, Promise<import('../../dist/index.js').Neurite>>} */
const runtimes = new Map();
/** @type {Map<string, Promise<ReturnType<typeof parseReplay>>>} */
const replays = new Map();
/** @type {Map<number, AbortController>} */
const running = new Map();

function runtime(build) {
  if (!runtimes.has(build)) runtimes.set(build, init({ build }));
  return runtimes.get(build);
}

function replay(url) {
  if (!replays.has(url)) {
    replays.set(url, fetch(url).then((r) => {
      if (!r.ok) throw new Error(`fetching ${url} failed (HTTP ${r.status}): build it with \`npm run build\``);
      return r.arrayBuffer();
    }).then(parseReplay));
    replays.get(url).catch(() => replays.delete(url));
  }
  return replays.get(url);
}

/** Copy a 28×28 image into `out` moved by (dx, dy) whole pixels; what moves out is dropped. */
function shifted(src, dx, dy, out, at) {
  for (let y = 0; y < SIDE; y++) {
    const sy = y - dy;
    if (sy < 0 || sy >= SIDE) continue;
    for (let x = 0; x < SIDE; x++) {
      const sx = x - dx;
      if (sx >= 0 && sx < SIDE) out[at + y * SIDE + x] = src[sy * SIDE + sx];
    }
  }
}

/** mulberry32: a small seeded generator, so a run can be repeated exactly. Returns [0, 1). */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A random sample of `k` distinct indices below n. */
function sample(n, k, random) {
  const idx = Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < k; i++) {
    const j = i + Math.floor(random() * (n - i));
    [idx[i], idx[j]] = [idx[j], idx[i]];
  }
  return idx.slice(0, k);
}

/** The training set of one run: replay digits, then every correction in `copies` shifted copies. */
function trainingSet(corrections, train, replayCount, random) {
  const picks = sample(train.count, Math.min(replayCount, train.count), random);
  const copies = Math.max(4, Math.min(64, Math.ceil((picks.length * CORRECTION_SHARE) / (1 - CORRECTION_SHARE) / corrections.length)));
  const n = picks.length + corrections.length * copies;
  const x = new Float32Array(n * SIZE);
  const y = new Uint8Array(n);
  picks.forEach((p, r) => {
    x.set(train.x.subarray(p * SIZE, (p + 1) * SIZE), r * SIZE);
    y[r] = train.y[p];
  });
  let r = picks.length;
  for (const c of corrections) {
    for (let k = 0; k < copies; k++, r++) {
      // the drawing itself first, then one-pixel shifts: where exactly the centre falls varies
      const dx = k === 0 ? 0 : Math.floor(random() * 3) - 1;
      const dy = k === 0 ? 0 : Math.floor(random() * 3) - 1;
      shifted(c.pixels, dx, dy, x, r * SIZE);
      y[r] = c.label;
    }
  }
  return { x, y, n, copies, replay: picks.length };
}

function accuracyOn(model, x, y) {
  return y.length ? model.evaluate(x, y, { loss: 'categoricalCrossentropy' }).accuracy : NaN;
}

async function fineTune(msg, signal) {
  const { id, settings } = msg;
  const started = performance.now();
  const [nn, data] = await Promise.all([runtime(msg.build), replay(msg.replayUrl)]);
  const model = nn.load(new Uint8Array(msg.weights));
  try {
    const corrections = msg.corrections;
    const cx = new Float32Array(corrections.length * SIZE);
    corrections.forEach((c, i) => cx.set(c.pixels, i * SIZE));
    const cy = Uint8Array.from(corrections, (c) => c.label);
    const set = trainingSet(corrections, data.train, settings.replay, prng(msg.seed ?? 1));
    const before = { check: accuracyOn(model, data.check.x, data.check.y), corrections: accuracyOn(model, cx, cy) };

    const epochs = settings.epochs;
    const perEpoch = Math.ceil(set.n / settings.batchSize);
    const steps = epochs * perEpoch;
    let lastPost = 0;
    const progress = (epoch, batch, loss) => {
      postMessage({ type: 'progress', id, step: epoch * perEpoch + batch + 1, steps, epoch, epochs, loss });
      lastPost = performance.now();
    };
    const trainStart = performance.now();
    const history = await model.fit(set.x, set.y, {
      epochs,
      batchSize: settings.batchSize,
      loss: 'categoricalCrossentropy',
      optimizer: { type: 'adam', learningRate: settings.learningRate },
      signal,
      onBatchEnd: (batch, { loss, epoch }) => {
        if (performance.now() - lastPost > 100 || batch === perEpoch - 1) progress(epoch, batch, loss);
      },
    });
    const trainMs = performance.now() - trainStart;
    const after = { check: accuracyOn(model, data.check.x, data.check.y), corrections: accuracyOn(model, cx, cy) };
    const file = model.save();
    return {
      weights: file.byteOffset === 0 && file.byteLength === file.buffer.byteLength ? file.buffer : file.slice().buffer,
      report: {
        corrections: corrections.length,
        copies: set.copies,
        replay: set.replay,
        samples: set.n,
        checkCount: data.check.count,
        epochs,
        steps,
        loss: history.loss[history.loss.length - 1],
        before,
        after,
        trainMs,
        totalMs: performance.now() - started,
        build: nn.build,
      },
    };
  } finally {
    model.dispose();
  }
}

self.onmessage = async (e) => {
  const msg = e.data;
  if (msg.type === 'abort') {
    running.get(msg.id)?.abort();
    return;
  }
  if (msg.type !== 'fine-tune') return;
  const controller = new AbortController();
  running.set(msg.id, controller);
  try {
    const { weights, report } = await fineTune(msg, controller.signal);
    postMessage({ type: 'done', id: msg.id, weights, report }, [weights]);
  } catch (err) {
    if (err?.code === 'ABORTED') postMessage({ type: 'aborted', id: msg.id });
    else postMessage({ type: 'error', id: msg.id, message: `${err?.code ? `[${err.code}] ` : ''}${err?.message ?? err}` });
  } finally {
    running.delete(msg.id);
  }
};
