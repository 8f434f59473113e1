// The web-digits page. Embedding neurite takes three calls, all below:
//   const nn = await init();                    // picks relaxed SIMD, SIMD128 or scalar
//   const model = nn.load(bytesOfSafetensors);  // the topology is in the file
//   const { pixels, reason } = findDigit(gray);  // reason: why there is no digit, or null
//   const probs = model.predict(pixels);        // Float32Array(10), calibrated, synchronous
// Everything else here is the page: drawing, showing, teaching, remembering.
import { init, supportedBuilds } from '../../dist/index.js';
import { decodeImage, findDigit, inflateWithStreams } from '../../dist/image.js';
import { Pad } from './pad.js';
import * as store from './store.js';

/** The shipped models this page knows; it offers the ones the server has. */
const MODELS = [
  { name: 'mnist-mlp', label: 'MLP', url: new URL('../../models/mnist-mlp.safetensors', import.meta.url) },
  { name: 'mnist-cnn', label: 'CNN', url: new URL('../../models/mnist-cnn.safetensors', import.meta.url) },
];
const REPLAY_URL = new URL('./replay.bin', import.meta.url).href;
const BUILD_NAMES = { relaxed: 'relaxed SIMD', simd: 'SIMD128', scalar: 'scalar' };
const STALL_TICK = 10; // ms between the main-thread watchdog's timer ticks
/** Below this (calibrated) probability the page says "not sure" and names the runner-up. */
const SURE = 0.7;

const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));
const ui = {
  model: /** @type {HTMLSelectElement} */ ($('model')),
  build: /** @type {HTMLSelectElement} */ ($('build')),
  inferMs: $('infer-ms'), modelState: $('model-state'), modelInfo: $('model-info'),
  pad: /** @type {HTMLCanvasElement} */ ($('pad')), padHint: $('pad-hint'),
  clear: /** @type {HTMLButtonElement} */ ($('clear')), undo: /** @type {HTMLButtonElement} */ ($('undo')),
  digit: $('digit'), confidence: $('confidence'), bars: $('bars'), announce: $('announce'),
  preview: /** @type {HTMLCanvasElement} */ ($('preview')),
  teach: $('teach'), correctionCount: $('correction-count'), corrections: $('corrections'),
  training: $('training'), progress: /** @type {HTMLProgressElement} */ ($('progress')),
  trainStatus: $('train-status'), trainReport: $('train-report'), stop: /** @type {HTMLButtonElement} */ ($('stop')),
  epochs: /** @type {HTMLInputElement} */ ($('epochs')), lr: /** @type {HTMLInputElement} */ ($('lr')),
  replay: /** @type {HTMLInputElement} */ ($('replay')),
  reset: /** @type {HTMLButtonElement} */ ($('reset')),
  error: $('error'), stall: $('stall'), footBuild: $('foot-build'),
};

const state = {
  /** @type {Map<string, Promise<import('../../dist/index.js').Neurite>>} one runtime per build */
  runtimes: new Map(),
  /** @type {import('../../dist/index.js').Neurite | null} */ nn: null,
  /** @type {import('../../dist/index.js').Model | null} */ model: null,
  modelName: '',
  /** 'shipped' or 'fine-tuned' */ origin: 'shipped',
  /** @type {Array<{ pixels: Float32Array, label: number, model: string }>} the shown model's corrections */ corrections: [],
  /** @type {Float32Array | null} the last 784 values given to predict */ input: null,
  /** @type {{ id: number, modelName: string, build: string, startedAt: number, corrections: number } | null} */ job: null,
  queued: false,
  inferTimes: /** @type {number[]} */ ([]),
};

// What the page did, for tests and the curious (open the console: webDigits).
const log = {
  ready: false,
  /** @type {string | null} */ error: null,
  /**
   * the latest predictions: sequence number, when (performance.now), the digit, the ten
   * probabilities, predict's time, strokes on the pad, whether a stroke was still being drawn,
   * whether fine-tuning was running, and the model
   */
  predictions: /** @type {Array<{ seq: number, t: number, digit: number, probs: number[], ms: number, strokes: number, drawing: boolean, training: boolean, model: string }>} */ ([]),
  /** every finished fine-tuning run, with the longest main-thread stall seen while it ran */
  fineTunes: /** @type {Array<object>} */ ([]),
  get input() { return state.input ? Array.from(state.input) : null; },
  get build() { return state.nn?.build ?? null; },
  get model() { return state.modelName; },
  get origin() { return state.origin; },
  get training() { return state.job !== null; },
  get corrections() { return state.corrections.length; },
};
Object.assign(window, { webDigits: log });

// ---- the main-thread watchdog ------------------------------------------------------------------

/**
 * Measures how long the main thread was unable to run anything while fine-tuning ran: a timer
 * ticks every STALL_TICK ms; a tick that comes late by d ms means a task held the thread for
 * about d ms. Long tasks (> 50 ms) reported by the browser are kept too.
 */
const watchdog = {
  timer: 0, last: 0, longestStall: 0, longestTask: 0, from: 0,
  start() {
    this.stop();
    this.longestStall = 0;
    this.longestTask = 0;
    this.from = this.last = performance.now();
    this.timer = setInterval(() => this.tick(), STALL_TICK);
  },
  tick() {
    const t = performance.now();
    this.longestStall = Math.max(this.longestStall, t - this.last - STALL_TICK);
    this.last = t;
  },
  stop() {
    if (!this.timer) return;
    this.tick();
    clearInterval(this.timer);
    this.timer = 0;
  },
};
if (PerformanceObserver.supportedEntryTypes?.includes('longtask')) {
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      if (watchdog.timer && e.startTime >= watchdog.from) watchdog.longestTask = Math.max(watchdog.longestTask, e.duration);
    }
  }).observe({ type: 'longtask' });
}

// ---- the worker that fine-tunes ----------------------------------------------------------------

const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
let nextJob = 1;

worker.onmessage = (e) => {
  const msg = e.data;
  const job = state.job;
  if (!job || msg.id !== job.id) return;
  if (msg.type === 'progress') {
    ui.progress.max = msg.steps;
    ui.progress.value = msg.step;
    ui.trainStatus.textContent = `Learning… epoch ${msg.epoch + 1}/${msg.epochs} · loss ${msg.loss.toFixed(3)}`;
  } else if (msg.type === 'done') {
    finishFineTune(job, msg).catch(fail);
  } else {
    endFineTune(job, msg.type === 'aborted' ? 'Stopped: the model is unchanged' : `Fine-tuning failed: ${msg.message}`, 'idle');
    if (msg.type === 'error') console.error('fine-tuning failed:', msg.message);
  }
};
worker.onerror = (e) => {
  if (state.job) endFineTune(state.job, `The fine-tuning worker failed: ${e.message ?? 'unknown error'}`, 'idle');
};

function settings() {
  const num = (input, lo, hi, dflt) => {
    const v = Number(input.value);
    return Number.isFinite(v) ? Math.min(hi, Math.max(lo, v)) : dflt;
  };
  return {
    epochs: Math.round(num(ui.epochs, 1, 500, 3)),
    learningRate: num(ui.lr, 1e-5, 1e-2, 5e-4),
    replay: Math.round(num(ui.replay, 0, 2000, 1000)),
    batchSize: 32,
  };
}

function startFineTune() {
  if (state.job || !state.model || state.corrections.length === 0) return;
  const weights = state.model.save();
  const job = {
    id: nextJob++,
    modelName: state.modelName,
    build: state.nn.build,
    startedAt: performance.now(),
    corrections: state.corrections.length,
  };
  state.job = job;
  watchdog.start();
  ui.training.dataset.state = 'running';
  ui.progress.removeAttribute('value'); // indeterminate until the first step
  ui.trainStatus.textContent = `Learning from ${plural(job.corrections, 'correction')}…`;
  ui.stop.hidden = false;
  worker.postMessage({
    type: 'fine-tune',
    id: job.id,
    seed: job.id, // the replay sample and the shifts: the same actions give the same weights
    build: job.build,
    weights: weights.buffer,
    corrections: state.corrections.map(({ pixels, label }) => ({ pixels, label })),
    replayUrl: REPLAY_URL,
    settings: settings(),
  }, [weights.buffer]);
}

async function finishFineTune(job, msg) {
  const bytes = new Uint8Array(msg.weights);
  // swap the new weights in while the watchdog still runs: this is main-thread work too
  if (job.modelName === state.modelName) { // weights are the same file on every build
    useModel(state.nn.load(bytes), job.modelName, 'fine-tuned');
    predict();
  }
  const endedAt = performance.now();
  const r = msg.report;
  const pct = (v) => `${(100 * v).toFixed(1)}%`;
  endFineTune(job, `Learned ${plural(r.corrections, 'correction')} in ${(r.totalMs / 1000).toFixed(1)} s`, 'done', {
    endedAt,
    report: r,
    text: `Your corrections right: ${Math.round(r.before.corrections * r.corrections)}/${r.corrections} → ${Math.round(r.after.corrections * r.corrections)}/${r.corrections}`
      + (r.checkCount ? ` · MNIST test sample: ${pct(r.before.check)} → ${pct(r.after.check)}` : ''),
  });
  await store.putModel({ name: job.modelName, bytes, savedAt: Date.now(), corrections: r.corrections });
  if (state.queued) {
    state.queued = false;
    startFineTune();
  }
}

function endFineTune(job, status, look, done) {
  watchdog.stop();
  const stall = { longestStallMs: watchdog.longestStall, longestTaskMs: watchdog.longestTask };
  state.job = null;
  ui.stop.hidden = true;
  ui.training.dataset.state = look;
  ui.progress.max = 1;
  ui.progress.value = look === 'done' ? 1 : 0;
  ui.trainStatus.textContent = status;
  ui.trainReport.textContent = done?.text ?? '';
  ui.stall.textContent = `main thread during fine-tuning: longest stall ${stall.longestStallMs.toFixed(0)} ms`;
  log.fineTunes.push({
    id: job.id, model: job.modelName, outcome: done ? 'done' : status,
    startedAt: job.startedAt, endedAt: done?.endedAt ?? performance.now(),
    ...stall, report: done?.report,
  });
  if (!done) state.queued = false;
}

// ---- models ------------------------------------------------------------------------------------

function runtime(build) {
  if (!state.runtimes.has(build)) state.runtimes.set(build, init({ build }));
  return state.runtimes.get(build);
}

function useModel(model, name, origin) {
  if (state.model !== model) state.model?.dispose();
  state.model = model;
  state.modelName = name;
  state.origin = origin;
  state.inferTimes = [];
  // e.g. 784 → 256 → 128 → 10, or 1×28×28 → conv 16 → pool → conv 32 → pool → 128 → 10
  const layers = model.topology().layers.map((l) => {
    if (l.type === 'dense') return `${l.units}`;
    if (l.type === 'conv2d') return `conv ${l.filters}`;
    if (/pool/i.test(l.type)) return 'pool';
    return l.type === 'flatten' || l.type === 'dropout' ? '' : l.type;
  }).filter(Boolean);
  ui.modelInfo.textContent = `${model.parameterCount.toLocaleString('en')} parameters · ${[model.inputShape.join('×'), ...layers].join(' → ')}`;
  ui.modelState.textContent = origin === 'shipped' ? 'shipped' : 'fine-tuned';
  // reset acts on the model shown only: say which
  ui.reset.textContent = `Reset the ${MODELS.find((m) => m.name === name)?.label ?? name} to the shipped model`;
  if (state.job === null) {
    ui.training.dataset.state = 'idle';
    ui.trainStatus.textContent = origin === 'shipped' ? 'Nothing learned yet' : `Fine-tuned on ${plural(state.corrections.length, 'correction')} (saved in this browser)`;
    ui.trainReport.textContent = '';
  }
  ui.modelState.title = origin === 'shipped' ? 'as trained on MNIST, from models/' : 'fine-tuned on your corrections, saved in this browser';
  ui.inferMs.textContent = '–';
}

async function shippedBytes(name) {
  const entry = MODELS.find((m) => m.name === name);
  const res = await fetch(entry.url);
  if (!res.ok) throw new Error(`fetching ${entry.url.pathname} failed (HTTP ${res.status})`);
  return new Uint8Array(await res.arrayBuffer());
}

/** Load a model by name: the fine-tuned copy from IndexedDB if there is one, else the shipped file. */
async function loadModel(name) {
  // corrections belong to the model they were taught to: switching shows that model's own
  state.corrections = (await store.getCorrections().catch(() => [])).filter((c) => (c.model ?? 'mnist-mlp') === name);
  renderCorrections();
  const saved = await store.getModel(name).catch(() => undefined);
  if (saved) {
    try {
      useModel(state.nn.load(saved.bytes), name, 'fine-tuned');
      return;
    } catch (e) {
      console.warn(`the saved ${name} does not load (${e.message}); using the shipped one`);
      await store.deleteModel(name);
    }
  }
  useModel(state.nn.load(await shippedBytes(name)), name, 'shipped');
}

/** Which of the known model files the server has. */
async function availableModels() {
  const found = await Promise.all(MODELS.map(async (m) => {
    try {
      return (await fetch(m.url, { method: 'HEAD' })).ok ? m : null;
    } catch {
      return null;
    }
  }));
  return found.filter((m) => m !== null);
}

async function switchModel(name) {
  const previous = state.modelName;
  ui.model.disabled = true;
  try {
    await loadModel(name);
    localStorage.setItem('web-digits:model', name);
    ui.error.hidden = true;
  } catch (e) {
    showError(`Could not load ${name}: ${e.message}`);
    if (previous && previous !== name) {
      ui.model.value = previous;
      await loadModel(previous);
    }
  } finally {
    ui.model.disabled = false;
  }
  predict();
}

async function switchBuild(build) {
  ui.build.disabled = true;
  try {
    const nn = await runtime(build);
    const bytes = state.model?.save();
    state.nn = nn;
    if (bytes) useModel(nn.load(bytes), state.modelName, state.origin);
    ui.footBuild.textContent = `neurite on the ${BUILD_NAMES[nn.build] ?? nn.build} build`;
  } finally {
    ui.build.disabled = false;
  }
  predict();
}

async function resetModel() {
  if (state.job) {
    worker.postMessage({ type: 'abort', id: state.job.id });
    endFineTune(state.job, 'Stopped', 'idle');
  }
  state.queued = false;
  await store.deleteModel(state.modelName);
  await store.clearCorrections(state.modelName);
  state.corrections = [];
  renderCorrections();
  useModel(state.nn.load(await shippedBytes(state.modelName)), state.modelName, 'shipped');
  ui.training.dataset.state = 'idle';
  ui.trainStatus.textContent = 'Back to the shipped model';
  ui.trainReport.textContent = '';
  predict();
}

// ---- predicting --------------------------------------------------------------------------------

const bars = Array.from({ length: 10 }, (_, d) => {
  const li = document.createElement('li');
  li.innerHTML = `<span class="bar"><span class="fill"></span></span><span class="label">${d}</span><span class="pct">–</span>`;
  ui.bars.append(li);
  return li;
});

const teachButtons = Array.from({ length: 10 }, (_, d) => {
  const b = document.createElement('button');
  b.type = 'button';
  b.className = 'btn';
  b.textContent = String(d);
  b.dataset.digit = String(d);
  b.disabled = true;
  b.setAttribute('aria-label', `It is a ${d}`);
  b.addEventListener('click', () => teach(d).catch(fail));
  ui.teach.append(b);
  return b;
});

let predictionCount = 0;

/** Shows the empty state: "?" and no bars, with `note` under it. */
function showNothing(note) {
  state.input = null;
  drawField(ui.preview, new Float32Array(784));
  setText(ui.digit, '?');
  ui.digit.classList.add('empty');
  setText(ui.confidence, note);
  ui.digit.closest('.card').classList.remove('has-digit');
  bars.forEach((li) => {
    li.classList.remove('best');
    /** @type {HTMLElement} */ (li.querySelector('.fill')).style.setProperty('--p', '0');
    setText(li.querySelector('.pct'), '–');
  });
  teachButtons.forEach((b) => { b.disabled = true; b.classList.remove('predicted'); });
}

/** The picture being read: the pad's ink, or an uploaded or pasted image until the pad is used. */
let picture = null;

function predict() {
  const empty = pad.empty && !picture;
  ui.padHint.classList.toggle('hidden', !empty);
  ui.clear.disabled = ui.undo.disabled = empty;
  if (!state.model) return;
  if (empty) return showNothing('draw to see');
  // the pad's ink is its alpha (light on dark, 1 = ink); a photo is found on its paper
  const { pixels: input, reason } = picture ? findDigit(picture) : findDigit(pad.grayImage(), { invert: false });
  if (reason) {
    log.predictions.push({ seq: ++predictionCount, t: performance.now(), digit: null, reason, probs: null, ms: 0,
      strokes: pad.strokes.length, drawing: pad.drawing, training: state.job !== null, model: state.modelName });
    return showNothing(`no digit found (${reason})`);
  }
  const t0 = performance.now();
  const probs = state.model.predict(input);
  const ms = performance.now() - t0;
  state.input = input;
  const [best, second] = Array.from(probs.keys()).sort((a, b) => probs[b] - probs[a]);
  const sure = probs[best] >= SURE;

  // every frame while drawing: write only what changed, so the page does little layout work
  drawField(ui.preview, input);
  setText(ui.digit, String(best));
  ui.digit.classList.remove('empty');
  ui.digit.classList.toggle('unsure', !sure);
  setText(ui.confidence, sure ? `${percent(probs[best])} sure` : `not sure: ${best} (${percent(probs[best])}) or ${second} (${percent(probs[second])})`);
  ui.digit.closest('.card').classList.add('has-digit');
  bars.forEach((li, d) => {
    li.classList.toggle('best', d === best);
    /** @type {HTMLElement} */ (li.querySelector('.fill')).style.setProperty('--p', probs[d].toFixed(3));
    setText(li.querySelector('.pct'), percent(probs[d]));
    li.setAttribute('aria-label', `${d}: ${percent(probs[d])}`);
  });
  teachButtons.forEach((b, d) => { b.disabled = false; b.classList.toggle('predicted', d === best); });

  state.inferTimes.push(ms);
  if (state.inferTimes.length > 15) state.inferTimes.shift();
  const sorted = [...state.inferTimes].sort((a, b) => a - b);
  setText(ui.inferMs, `${sorted[sorted.length >> 1].toFixed(2)} ms`);

  log.predictions.push({
    seq: ++predictionCount, t: performance.now(), digit: best, runnerUp: second, sure, probs: Array.from(probs), ms,
    strokes: pad.strokes.length, drawing: pad.drawing, training: state.job !== null, model: state.modelName,
  });
  if (log.predictions.length > 500) log.predictions.splice(0, 100);
}

/** Reads an uploaded, dropped or pasted PNG/PGM file as the picture, in place of the pad. */
async function readPicture(file) {
  try {
    const image = await decodeImage(new Uint8Array(await file.arrayBuffer()), inflateWithStreams, { maxPixels: 4096 * 4096 });
    pad.clear();
    picture = image;
    ui.error.hidden = true;
  } catch (e) {
    showError(`That image could not be read: ${e.message}`);
  }
  predict();
}

function setText(el, text) {
  if (el.textContent !== text) el.textContent = text;
}

function percent(p) {
  return p < 0.005 ? '<1%' : `${Math.round(100 * p)}%`;
}

/** Paint 784 values in [0, 1] as a 28×28 grayscale image, white on black like MNIST. */
function drawField(canvas, field) {
  const ctx = canvas.getContext('2d');
  const img = ctx.createImageData(28, 28);
  for (let i = 0; i < 784; i++) {
    const v = Math.round(255 * Math.min(1, Math.max(0, field[i])));
    img.data[4 * i] = img.data[4 * i + 1] = img.data[4 * i + 2] = v;
    img.data[4 * i + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
}

// ---- teaching ----------------------------------------------------------------------------------

async function teach(label) {
  if (!state.input) return;
  const record = { pixels: state.input.slice(), label, model: state.modelName, at: Date.now() };
  state.corrections.push(record);
  renderCorrections();
  ui.announce.textContent = `Noted: that was a ${label}. Fine-tuning.`;
  await store.addCorrection(record);
  if (state.job) state.queued = true; // once this run ends, another one includes it
  else startFineTune();
}

function renderCorrections() {
  const n = state.corrections.length;
  ui.correctionCount.textContent = n ? `${plural(n, 'correction')}, kept in this browser` : 'no corrections yet';
  ui.corrections.replaceChildren(...state.corrections.slice(-24).map((c) => {
    const box = document.createElement('div');
    box.className = 'thumb';
    box.title = `taught as ${c.label}`;
    const canvas = document.createElement('canvas');
    canvas.width = canvas.height = 28;
    drawField(canvas, c.pixels);
    const tag = document.createElement('span');
    tag.textContent = String(c.label);
    box.append(canvas, tag);
    return box;
  }));
}

const plural = (n, word) => `${n} ${word}${n === 1 ? '' : 's'}`;

// ---- wiring ------------------------------------------------------------------------------------

function showError(message) {
  log.error = message;
  ui.error.textContent = message;
  ui.error.hidden = false;
}

function fail(e) {
  console.error(e);
  showError(e?.message ?? String(e));
}

const pad = new Pad(ui.pad, /** @type {HTMLCanvasElement} */ ($('ink')), {
  onChange: () => { if (!pad.empty) picture = null; predict(); },
  onStrokeEnd: () => {
    const top = log.predictions[log.predictions.length - 1];
    if (top) ui.announce.textContent = `Looks like a ${top.digit}`;
  },
});

ui.clear.addEventListener('click', () => { picture = null; pad.clear(); predict(); });
$('upload').addEventListener('change', (e) => {
  const file = /** @type {HTMLInputElement} */ (e.target).files?.[0];
  if (file) readPicture(file).catch(fail);
});
document.addEventListener('paste', (e) => {
  const file = Array.from(e.clipboardData?.files ?? []).find((f) => f.type.startsWith('image/'));
  if (file) readPicture(file).catch(fail);
});
ui.undo.addEventListener('click', () => pad.undo());
ui.stop.addEventListener('click', () => { if (state.job) worker.postMessage({ type: 'abort', id: state.job.id }); });
ui.reset.addEventListener('click', () => resetModel().catch(fail));
ui.model.addEventListener('change', () => switchModel(ui.model.value).catch(fail));
ui.build.addEventListener('change', () => switchBuild(ui.build.value).catch(fail));
document.addEventListener('keydown', (e) => {
  if (e.target instanceof HTMLInputElement || e.target instanceof HTMLSelectElement) return;
  if (e.key === 'Escape') { picture = null; pad.clear(); predict(); }
  else if (e.key === 'z' && (e.ctrlKey || e.metaKey)) pad.undo();
});

async function start() {
  const builds = supportedBuilds();
  ui.build.replaceChildren(...builds.map((b) => new Option(BUILD_NAMES[b] ?? b, b)));
  const models = await availableModels();
  if (models.length === 0) throw new Error('no model files found under ../../models/ (is this page served from the repository with npm start?)');
  ui.model.replaceChildren(...models.map((m) => new Option(m.label, m.name)));
  await switchBuild(builds[0]);
  // the model chosen last time first, then the others in order; one that fails to load is skipped
  const remembered = localStorage.getItem('web-digits:model');
  const order = [...models].sort((a, b) => Number(b.name === remembered) - Number(a.name === remembered));
  const failures = [];
  for (const m of order) {
    try {
      await loadModel(m.name);
      break;
    } catch (e) {
      failures.push(`${m.name}: ${e.message}`);
      ui.model.querySelector(`option[value="${m.name}"]`)?.setAttribute('disabled', '');
    }
  }
  if (!state.model) throw new Error(`no model could be loaded (${failures.join('; ')})`);
  if (failures.length) showError(`Could not load ${failures.join('; ')}`);
  ui.model.value = state.modelName;
  ui.model.disabled = ui.build.disabled = false;
  predict();
  log.ready = true;
  document.documentElement.dataset.ready = 'true';
}

start().catch((e) => {
  fail(e);
  ui.model.disabled = ui.build.disabled = true;
});
