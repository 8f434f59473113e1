// The cases every runtime runs (Node, Deno, Chromium, workerd), written once, in plain ES module
// JavaScript with no imports: each runtime hands in what it has (its `init`, the model's bytes,
// the MNIST test files' bytes) and gets a JSON-able result back, which its test checks and
// compares with Node's.

/** How many MNIST test digits the cases use. */
export const DIGITS = 64;

/** The first `count` digits of the MNIST IDX files: raw pixels, [0, 1] floats and labels. */
export function mnistDigits(imagesIdx, labelsIdx, count = DIGITS) {
  const images = new DataView(imagesIdx.buffer, imagesIdx.byteOffset, imagesIdx.byteLength);
  const labels = new DataView(labelsIdx.buffer, labelsIdx.byteOffset, labelsIdx.byteLength);
  if (images.getUint32(0) !== 0x803 || labels.getUint32(0) !== 0x801) throw new Error('not MNIST IDX image/label files');
  if (images.getUint32(8) !== 28 || images.getUint32(12) !== 28) throw new Error('MNIST images must be 28×28');
  const n = Math.min(count, images.getUint32(4), labels.getUint32(4));
  const pixels = imagesIdx.slice(16, 16 + n * 784);
  const x = new Float32Array(n * 784);
  for (let i = 0; i < x.length; i++) x[i] = pixels[i] / 255;
  return { count: n, pixels, images: x, labels: Array.from(labelsIdx.subarray(8, 8 + n)) };
}

function argmax(row) {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i] > row[best]) best = i;
  return best;
}

function sameBits(a, b) {
  if (a.length !== b.length) return false;
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  return x.every((v, i) => v === y[i]);
}

/**
 * Runs the shared cases.
 * - init: the runtime's `init` from neurite; initOptions: what to pass it (default none)
 * - modelBytes: models/mnist-mlp.safetensors; imagesIdx, labelsIdx: the MNIST t10k files
 * - now: a millisecond clock; startedAt: its reading taken just before neurite was imported,
 *   so `coldStartMs` is import → init → load → first prediction (the model bytes already in hand)
 */
export async function runCases({ init, initOptions, modelBytes, imagesIdx, labelsIdx, now = () => performance.now(), startedAt }) {
  const t0 = startedAt ?? now();
  const nn = await init(initOptions);
  const initMs = now() - t0;
  const shipped = nn.load(modelBytes instanceof Uint8Array ? modelBytes : new Uint8Array(modelBytes));
  const digits = mnistDigits(new Uint8Array(imagesIdx), new Uint8Array(labelsIdx));
  shipped.predict(digits.images.subarray(0, 784));
  const coldStartMs = now() - t0;

  // the shipped model on real test digits
  const out = shipped.predict(digits.images);
  const probabilities = [];
  for (let i = 0; i < digits.count; i++) probabilities.push(Array.from(out.subarray(i * 10, i * 10 + 10)));
  const predictions = probabilities.map(argmax);
  const accuracy = predictions.filter((d, i) => d === digits.labels[i]).length / digits.count;

  // a short fit of a fresh, seeded model on the same digits: the loss must fall
  const small = nn.sequential({ inputShape: [784], seed: 7, layers: [
    { type: 'dense', units: 32, activation: 'relu' },
    { type: 'dense', units: 10, activation: 'softmax' },
  ] });
  const lossBefore = small.evaluate(digits.images, digits.labels).loss;
  const history = await small.fit(digits.images, digits.labels, {
    epochs: 5, batchSize: 16, optimizer: { type: 'adam', learningRate: 5e-3 },
  });
  const lossAfter = small.evaluate(digits.images, digits.labels).loss;

  // save → load → save: the same bytes, the same weights and outputs, bit for bit
  const saved = small.save();
  const again = nn.load(saved);
  const resaved = again.save();
  const weightsA = small.getWeights();
  const weightsB = again.getWeights();
  const exact = sameBits(small.predict(digits.images), again.predict(digits.images))
    && Object.keys(weightsA).length === Object.keys(weightsB).length
    && Object.keys(weightsA).every((k) => weightsB[k] && sameBits(weightsA[k], weightsB[k]))
    && saved.length === resaved.length && saved.every((b, i) => b === resaved[i]);
  shipped.dispose();
  small.dispose();
  again.dispose();
  const recurrent = await recurrentCase(nn);

  return {
    build: nn.build,
    count: digits.count,
    labels: digits.labels,
    predictions,
    probabilities,
    accuracy,
    fit: { lossBefore, lossAfter, epochLosses: history.loss },
    roundTrip: { exact, bytes: saved.length },
    recurrent,
    initMs,
    coldStartMs,
  };
}

/**
 * A seeded LSTM → GRU → dense forecaster on sine waves: a short fit must lower the loss, a
 * stream fed step by step must match predict, and save → load must be exact.
 */
async function recurrentCase(nn) {
  const [n, T] = [64, 12];
  const x = new Float32Array(n * T);
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const w = 0.3 + 0.4 * ((i * 37) % 64) / 64;
    for (let t = 0; t < T; t++) x[i * T + t] = Math.sin(w * t + i);
    y[i] = Math.sin(w * T + i);
  }
  const model = nn.sequential({ inputShape: [T, 1], seed: 5, layers: [
    { type: 'lstm', units: 8, returnSequences: true }, { type: 'gru', units: 8 }, { type: 'dense', units: 1 },
  ] });
  const lossBefore = model.evaluate(x, y, { loss: 'mse' }).loss;
  await model.fit(x, y, { epochs: 10, batchSize: 16, loss: 'mse', optimizer: { type: 'adam', learningRate: 0.01 }, clipNorm: 1 });
  const lossAfter = model.evaluate(x, y, { loss: 'mse' }).loss;
  const outputs = Array.from(model.predict(x.subarray(0, 4 * T)));
  const stream = model.stream();
  let last = 0;
  for (let t = 0; t < T; t++) last = stream.next([x[t]])[0];
  const again = nn.load(model.save());
  const exact = sameBits(model.predict(x), again.predict(x));
  model.dispose();
  again.dispose();
  return { lossBefore, lossAfter, outputs, streamDiff: Math.abs(last - outputs[0]), exact };
}

/** Largest |a − b| over two results' probabilities (the cross-runtime comparison). */
export function maxProbabilityDiff(a, b) {
  let max = 0;
  for (let i = 0; i < a.probabilities.length; i++) {
    for (let j = 0; j < 10; j++) max = Math.max(max, Math.abs(a.probabilities[i][j] - b.probabilities[i][j]));
  }
  return max;
}
