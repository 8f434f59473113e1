// A Cloudflare Worker that reads handwritten digits with neurite's shipped MNIST model.
//
//   POST /predict   a digit image → { digit, probabilities, runnerUp, ms }
//     Content-Type: image/png                 a PNG of any size (or image/x-portable-graymap, PGM):
//                                             a photo of paper, dark-on-light or light-on-dark, or
//                                             ink on a transparent background; the ink is found
//                                             (neurite/image findDigit) and framed the MNIST way
//     Content-Type: application/octet-stream  784 raw grayscale bytes: 28×28, row by row, white
//                                             digit on black (MNIST's own layout)
//     Content-Type: application/json          { "pixels": [784 numbers, same layout] }, in 0..1 or
//                                             0..255 (the answer's pixelScale says which was read;
//                                             only 0s and 1s is ambiguous: add "scale": 1 or 255)
//   GET /health     { status: "ok", build, model, limits }
//   OPTIONS *       CORS preflight
//
// No digit in the picture (blank, a speck, a page of text) is 422 { error: "no digit found",
// code: "NO_DIGIT", reason }. Every bad request gets a 4xx JSON { error, code } that says what was
// wrong; the handler never lets an exception escape (anything unexpected is a 500, same shape).
//
// CORS: every answer carries Access-Control-Allow-Origin. The env var ALLOWED_ORIGINS (wrangler.toml
// [vars]) is "*" (the default: any page may call it) or a comma-separated list of origins, one of
// which is echoed back when the request comes from it.
//
// Inside this repository the imports point into dist/; in your own project they are
//   import { init } from 'neurite';                 // the "workerd" export condition → dist/workerd.js
//   import { decodeImage, findDigit, inflateWithStreams } from 'neurite/image';
import { init } from '../../../dist/workerd.js';
import { decodeImage, findDigit, inflateWithStreams } from '../../../dist/image.js';
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
  constructor(status, code, message, headers = {}, extra = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.headers = headers;
    this.extra = extra;
  }
}

const noDigit = (reason) => new HttpError(422, 'NO_DIGIT', 'no digit found', {}, { reason });

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

/** MNIST-form input (784 floats in [0, 1]) from 784 values on `scale` (1 or 255), checked one by one. */
function fromPixels(values, what, scale) {
  if (values.length !== PIXELS) {
    throw new HttpError(422, 'WRONG_PIXEL_COUNT', `${what} must hold ${PIXELS} pixels (28×28), got ${values.length}`);
  }
  const x = new Float32Array(PIXELS);
  for (let i = 0; i < PIXELS; i++) {
    const v = values[i];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > scale) {
      throw new HttpError(422, 'BAD_PIXEL', `${what}[${i}] is ${JSON.stringify(v)}; pixels are numbers from 0 to ${scale}`);
    }
    x[i] = v / scale;
  }
  return x;
}

/**
 * The scale of JSON pixels: 255 when any value is above 1, 1 when any lies strictly between 0
 * and 1; only 0s and 1s could be either (a white digit, or a black picture), so it is refused
 * unless the body says { "scale": 1 } or { "scale": 255 }.
 */
function pixelScale(body) {
  if (body.scale !== undefined) {
    if (body.scale !== 1 && body.scale !== 255) throw new HttpError(422, 'BAD_SCALE', `"scale" must be 1 or 255, got ${JSON.stringify(body.scale)}`);
    return body.scale;
  }
  const numbers = body.pixels.filter((v) => typeof v === 'number');
  if (numbers.some((v) => v > 1)) return 255;
  if (numbers.some((v) => v > 0 && v < 1)) return 1;
  throw new HttpError(422, 'AMBIGUOUS_PIXELS',
    'the pixels are all 0 or 1: that could be 0..1 or 0..255; say which with "scale": 1 or "scale": 255');
}

/** 422 NO_DIGIT unless an MNIST-form input (white on black) holds a digit; the input is not changed. */
function requireDigit(x) {
  const { reason } = findDigit({ width: 28, height: 28, data: x }, { invert: false });
  if (reason) throw noDigit(reason);
  return x;
}

async function toInput(type, body) {
  if (body.length === 0) throw new HttpError(400, 'EMPTY_BODY', 'the request body is empty');
  if (IMAGE_TYPES.includes(type)) {
    let image;
    try {
      image = await decodeImage(body, (data) => inflateWithStreams(data, MAX_INFLATED_BYTES), { maxPixels: MAX_PIXELS });
    } catch (e) {
      throw new HttpError(422, 'UNDECODABLE_IMAGE', `the image could not be decoded: ${e?.message ?? String(e)}`);
    }
    const { pixels, reason, polarity } = findDigit(image);
    if (reason) throw noDigit(reason);
    return { x: pixels, read: { polarity } };
  }
  if (type === 'application/octet-stream') return { x: requireDigit(fromPixels(body, 'the raw body', 255)), read: { pixelScale: '0..255' } };
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
  const scale = pixelScale(parsed);
  return { x: requireDigit(fromPixels(parsed.pixels, 'pixels', scale)), read: { pixelScale: scale === 1 ? '0..1' : '0..255' } };
}

async function predict(request) {
  const type = (request.headers.get('content-type') ?? '').split(';')[0].trim().toLowerCase();
  if (!ACCEPTED_TYPES.includes(type)) {
    throw new HttpError(415, 'UNSUPPORTED_MEDIA_TYPE',
      `Content-Type ${type ? JSON.stringify(type) : 'missing'}; send one of ${ACCEPTED_TYPES.join(', ')}`);
  }
  const body = await readBody(request, MAX_BODY_BYTES);
  const started = performance.now();
  const { x, read } = await toInput(type, body);
  const { model } = await loadModel();
  const probabilities = Array.from(model.predict(x)); // calibrated: the file carries its temperature
  const [digit, runnerUp] = probabilities.map((p, d) => [p, d]).sort((a, b) => b[0] - a[0]).map(([, d]) => d);
  return json({ digit, probabilities, runnerUp, ...read, ms: performance.now() - started });
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

/** The Access-Control-Allow-Origin for this request, from ALLOWED_ORIGINS ("*" or a list), or null. */
function allowedOrigin(request, env) {
  const setting = (env?.ALLOWED_ORIGINS ?? '*').trim();
  if (setting === '*') return '*';
  const origin = request.headers.get('origin');
  return origin && setting.split(',').map((o) => o.trim()).includes(origin) ? origin : null;
}

/** The response with CORS headers added (answers are JSON, so pages can read them from elsewhere). */
function withCors(response, request, env) {
  const origin = allowedOrigin(request, env);
  const headers = new Headers(response.headers);
  if (origin) headers.set('access-control-allow-origin', origin);
  if (origin !== '*') headers.append('vary', 'Origin');
  return new Response(response.body, { status: response.status, headers });
}

/** A CORS preflight: which methods the route takes and that Content-Type may be sent. */
function preflight(route) {
  return new Response(null, {
    status: 204,
    headers: {
      'access-control-allow-methods': [...Object.keys(route), 'OPTIONS'].join(', '),
      'access-control-allow-headers': 'content-type',
      'access-control-max-age': '86400',
    },
  });
}

export default {
  async fetch(request, env) {
    return withCors(await handle(request), request, env);
  },
};

async function handle(request) {
  try {
    const { pathname } = new URL(request.url);
    const route = ROUTES[pathname];
    if (!route) throw new HttpError(404, 'NOT_FOUND', `no route ${pathname}; try POST /predict or GET /health`);
    if (request.method === 'OPTIONS') return preflight(route);
    const handler = route[request.method];
    if (!handler) {
      const allow = [...Object.keys(route), 'OPTIONS'].join(', ');
      throw new HttpError(405, 'METHOD_NOT_ALLOWED', `${request.method} ${pathname} is not allowed; use ${allow}`, { allow });
    }
    const response = await handler(request);
    return request.method === 'HEAD' ? new Response(null, { status: response.status, headers: response.headers }) : response;
  } catch (e) {
    if (e instanceof HttpError) return json({ error: e.message, code: e.code, ...e.extra }, e.status, e.headers);
    console.error('edge-worker: unexpected error', e);
    return json({ error: 'internal error', code: 'INTERNAL' }, 500);
  }
}
