// A Cloudflare Worker that reads handwritten digits with neurite's shipped MNIST model.
//
//   POST /predict   a digit image → { digit, probabilities, ms }
//     Content-Type: image/png                 a PNG of any size (or image/x-portable-graymap, PGM),
//                                             dark-on-light or light-on-dark; centred and scaled
//                                             the MNIST way
//     Content-Type: application/octet-stream  784 raw grayscale bytes: 28×28, row by row, white
//                                             digit on black (MNIST's own layout)
//     Content-Type: application/json          { "pixels": [784 numbers in 0..255, same layout] }
//   GET /health     { status: "ok", build, model, limits }
//
// Every bad request gets a 4xx JSON { error, code } that says what was wrong; the handler never
// lets an exception escape (anything unexpected is a 500 with the same shape).
//
// Inside this repository the imports point into dist/; in your own project they are
//   import { init } from 'neurite';                 // the "workerd" export condition → dist/workerd.js
//   import { decodeImage, inflateWithStreams, toMnist } from 'neurite/image';
import { init } from '../../../dist/workerd.js';
import { decodeImage, inflateWithStreams, toMnist } from '../../../dist/image.js';
import modelFile from '../../../models/mnist-mlp.safetensors';

/** Largest request body accepted, checked on Content-Length and again while reading. (Not exported:
 * every named export of a Worker's main module must be a handler.) */
const MAX_BODY_BYTES = 1024 * 1024;
/** Largest decoded image (width × height) and inflated PNG data accepted. */
const MAX_PIXELS = 2048 * 2048;
const MAX_INFLATED_BYTES = 16 * 1024 * 1024;
const PIXELS = 784;

const IMAGE_TYPES = ['image/png', 'image/x-portable-graymap'];
const ACCEPTED_TYPES = [...IMAGE_TYPES, 'application/octet-stream', 'application/json'];

class HttpError extends Error {
  constructor(status, code, message, headers = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.headers = headers;
  }
}

function json(body, status = 200, headers = {}) {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers },
  });
}

// One model per isolate, loaded on first use; a failed load is retried by the next request.
let loading;
function loadModel() {
  if (!loading) {
    loading = init().then((nn) => ({ build: nn.build, model: nn.load(new Uint8Array(modelFile)) }));
    loading.catch(() => { loading = undefined; });
  }
  return loading.catch((e) => {
    console.error('edge-worker: the model did not load', e);
    throw new HttpError(503, 'MODEL_UNAVAILABLE', `the model could not be loaded: ${e?.message ?? String(e)}`);
  });
}

/** The body as bytes, refusing more than `limit` whatever Content-Length claims. */
async function readBody(request, limit) {
  const declared = request.headers.get('content-length');
  if (declared !== null) {
    const length = Number(declared);
    if (!Number.isSafeInteger(length) || length < 0) {
      throw new HttpError(400, 'BAD_CONTENT_LENGTH', `Content-Length ${JSON.stringify(declared)} is not a byte count`);
    }
    if (length > limit) {
      throw new HttpError(413, 'BODY_TOO_LARGE', `the body is ${length} bytes; the limit is ${limit} bytes`);
    }
  }
  if (!request.body) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel().catch(() => {});
      throw new HttpError(413, 'BODY_TOO_LARGE', `the body is over the limit of ${limit} bytes`);
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) { bytes.set(c, at); at += c.byteLength; }
  return bytes;
}

/** MNIST-form input (784 floats in [0, 1]) from 784 gray levels 0..255, checked one by one. */
function fromGrayLevels(values, what) {
  if (values.length !== PIXELS) {
    throw new HttpError(422, 'WRONG_PIXEL_COUNT', `${what} must hold ${PIXELS} pixels (28×28), got ${values.length}`);
  }
  const x = new Float32Array(PIXELS);
  for (let i = 0; i < PIXELS; i++) {
    const v = values[i];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 255) {
      throw new HttpError(422, 'BAD_PIXEL', `${what}[${i}] is ${JSON.stringify(v)}; pixels are numbers from 0 to 255`);
    }
    x[i] = v / 255;
  }
  return x;
}

async function toInput(type, body) {
  if (body.length === 0) throw new HttpError(400, 'EMPTY_BODY', 'the request body is empty');
  if (IMAGE_TYPES.includes(type)) {
    try {
      const image = await decodeImage(body, (data) => inflateWithStreams(data, MAX_INFLATED_BYTES), { maxPixels: MAX_PIXELS });
      return toMnist(image);
    } catch (e) {
      throw new HttpError(422, 'UNDECODABLE_IMAGE', `the image could not be decoded: ${e?.message ?? String(e)}`);
    }
  }
  if (type === 'application/octet-stream') return fromGrayLevels(body, 'the raw body');
  // application/json
  let parsed;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body));
  } catch (e) {
    throw new HttpError(400, 'INVALID_JSON', `the body is not valid JSON: ${e?.message ?? String(e)}`);
  }
  if (typeof parsed !== 'object' || parsed === null || !Array.isArray(parsed.pixels)) {
    throw new HttpError(400, 'MISSING_PIXELS', 'the JSON body must be an object with a "pixels" array of 784 numbers');
  }
  return fromGrayLevels(parsed.pixels, 'pixels');
}

async function predict(request) {
  const type = (request.headers.get('content-type') ?? '').split(';')[0].trim().toLowerCase();
  if (!ACCEPTED_TYPES.includes(type)) {
    throw new HttpError(415, 'UNSUPPORTED_MEDIA_TYPE',
      `Content-Type ${type ? JSON.stringify(type) : 'missing'}; send one of ${ACCEPTED_TYPES.join(', ')}`);
  }
  const body = await readBody(request, MAX_BODY_BYTES);
  const started = performance.now();
  const x = await toInput(type, body);
  const { model } = await loadModel();
  const probabilities = Array.from(model.predict(x));
  let digit = 0;
  for (let i = 1; i < probabilities.length; i++) if (probabilities[i] > probabilities[digit]) digit = i;
  return json({ digit, probabilities, ms: performance.now() - started });
}

async function health() {
  const { build, model } = await loadModel();
  return json({
    status: 'ok',
    build,
    model: { inputShape: model.topology().inputShape, parameters: model.parameterCount },
    limits: { maxBodyBytes: MAX_BODY_BYTES, maxPixels: MAX_PIXELS },
  });
}

const ROUTES = { '/predict': { POST: predict }, '/health': { GET: health, HEAD: health } };

export default {
  async fetch(request) {
    try {
      const { pathname } = new URL(request.url);
      const route = ROUTES[pathname];
      if (!route) throw new HttpError(404, 'NOT_FOUND', `no route ${pathname}; try POST /predict or GET /health`);
      const handler = route[request.method];
      if (!handler) {
        const allow = Object.keys(route).join(', ');
        throw new HttpError(405, 'METHOD_NOT_ALLOWED', `${request.method} ${pathname} is not allowed; use ${allow}`, { allow });
      }
      const response = await handler(request);
      return request.method === 'HEAD' ? new Response(null, { status: response.status, headers: response.headers }) : response;
    } catch (e) {
      if (e instanceof HttpError) return json({ error: e.message, code: e.code }, e.status, e.headers);
      console.error('edge-worker: unexpected error', e);
      return json({ error: 'internal error', code: 'INTERNAL' }, 500);
    }
  },
};
