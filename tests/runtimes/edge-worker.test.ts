// examples/edge-worker under workerd (miniflare), answering real HTTP requests on 127.0.0.1:
// real MNIST test digits as PNG (as they are, and scaled up, dark on light), as 784 raw bytes and
// as JSON; then every kind of bad request, each of which must get its 4xx JSON error.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { inflateSync } from 'node:zlib';
import { decodeImage, findDigit } from '../../src/image/index';
import { runtime } from '../helpers/neurite';
import { encodeGrayPng } from '../helpers/png';
import { photo } from '../image/photos';
// @ts-expect-error plain ES module shared with the other runtimes
import { mnistDigits } from './cases.mjs';
// @ts-expect-error plain ES module
import { fixtureBytes, nodeReference } from './fixtures.mjs';
// @ts-expect-error plain ES module
import { startWorkerd } from './workerd.mjs';

const LIMIT = 1024 * 1024;
const digits = (() => { const f = fixtureBytes(); return mnistDigits(f.imagesIdx, f.labelsIdx, 8); })();
const pixelsOf = (i: number): Uint8Array => digits.pixels.subarray(i * 784, i * 784 + 784);

/** Digit i scaled up `k` times (nearest neighbour) and inverted: dark ink on light paper. */
function scannedPng(i: number, k: number): Uint8Array {
  const src = pixelsOf(i);
  const out = new Uint8Array(28 * k * 28 * k);
  for (let y = 0; y < 28 * k; y++) for (let x = 0; x < 28 * k; x++) out[y * 28 * k + x] = 255 - src[Math.floor(y / k) * 28 + Math.floor(x / k)];
  return encodeGrayPng(28 * k, 28 * k, out);
}

describe('edge-worker example under workerd', () => {
  let mf: { dispose(): Promise<void> };
  let base: URL;
  const statuses: number[] = [];
  beforeAll(async () => {
    const started = await startWorkerd('examples/edge-worker/src/worker.js');
    mf = started.mf;
    base = await started.mf.ready;
  });
  afterAll(async () => { await mf?.dispose(); });

  async function request(path: string, init: RequestInit = {}): Promise<{ status: number; headers: Headers; body: any }> {
    // A 413 answered before the client finished sending leaves that keep-alive socket to be
    // reset; a request that lands on it fails in transport before reaching the worker. Only that
    // one error is retried, on a new connection, so the worker's answers are still all checked.
    let response: Response;
    try {
      response = await fetch(new URL(path, base), init);
    } catch (e) {
      if ((e as { cause?: { code?: string } }).cause?.code !== 'ECONNRESET' || init.body instanceof ReadableStream) throw e;
      response = await fetch(new URL(path, base), init);
    }
    const text = await response.text();
    statuses.push(response.status);
    expect(response.headers.get('content-type') ?? '', text).toMatch(/^application\/json/);
    return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : null };
  }
  const post = (type: string | null, body: Uint8Array | string) =>
    request('/predict', { method: 'POST', headers: type ? { 'content-type': type } : {}, body: body as BodyInit });

  function expectError(r: { status: number; body: any }, status: number, code: string, message: RegExp) {
    expect(r.status, JSON.stringify(r.body)).toBe(status);
    expect(r.body.code).toBe(code);
    expect(r.body.error).toMatch(message);
  }

  it('GET /health', async () => {
    const r = await request('/health');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ status: 'ok', build: 'relaxed', model: { inputShape: [784], parameters: 235146 } });
    console.log(`edge worker: build ${r.body.build}, ${r.body.model.parameters} parameters`);
  });

  it('POST /predict a real MNIST digit as a 28×28 PNG', async () => {
    for (let i = 0; i < 4; i++) {
      const r = await post('image/png', encodeGrayPng(28, 28, pixelsOf(i)));
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      expect(r.body.digit).toBe(digits.labels[i]);
      expect(r.body.probabilities).toHaveLength(10);
      expect(r.body.probabilities.reduce((a: number, b: number) => a + b, 0)).toBeCloseTo(1, 4);
      expect(typeof r.body.ms).toBe('number');
    }
  });

  it('POST /predict a PNG of another size, dark ink on light paper', async () => {
    for (let i = 0; i < 4; i++) {
      const r = await post('image/png; charset=binary', scannedPng(i, 5)); // 140×140
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      expect(r.body.digit).toBe(digits.labels[i]);
    }
  });

  it('POST /predict 784 raw bytes and JSON pixels: the same probabilities as Node', async () => {
    const reference = await nodeReference();
    for (let i = 0; i < 4; i++) {
      const raw = await post('application/octet-stream', pixelsOf(i));
      const json = await post('application/json', JSON.stringify({ pixels: Array.from(pixelsOf(i)) }));
      for (const r of [raw, json]) {
        expect(r.status, JSON.stringify(r.body)).toBe(200);
        expect(r.body.digit).toBe(digits.labels[i]);
        for (let j = 0; j < 10; j++) expect(Math.abs(r.body.probabilities[j] - reference.probabilities[i][j])).toBeLessThan(1e-4);
      }
    }
  });

  it('wrong method: 405 with Allow', async () => {
    const r = await request('/predict');
    expectError(r, 405, 'METHOD_NOT_ALLOWED', /GET \/predict is not allowed; use POST, OPTIONS/);
    expect(r.headers.get('allow')).toBe('POST, OPTIONS');
    expectError(await request('/health', { method: 'DELETE' }), 405, 'METHOD_NOT_ALLOWED', /use GET, HEAD/);
  });

  it('unknown path: 404', async () => {
    expectError(await request('/nope'), 404, 'NOT_FOUND', /no route \/nope/);
  });

  it('wrong or missing content type: 415', async () => {
    expectError(await post('text/plain', 'seven'), 415, 'UNSUPPORTED_MEDIA_TYPE', /"text\/plain".*image\/png/);
    expectError(await post('image/jpeg', new Uint8Array([0xff, 0xd8, 0xff, 0xe0])), 415, 'UNSUPPORTED_MEDIA_TYPE', /"image\/jpeg"/);
    expectError(await post(null, new Uint8Array(784)), 415, 'UNSUPPORTED_MEDIA_TYPE', /missing/);
  });

  it('a body over the limit: 413, by Content-Length and while streaming', async () => {
    expectError(await post('image/png', new Uint8Array(LIMIT + 1)), 413, 'BODY_TOO_LARGE', /1048577 bytes; the limit is 1048576/);
    // no Content-Length: chunks of 64 KiB until well past the limit
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= 2 * LIMIT) { controller.close(); return; }
        sent += 65536;
        controller.enqueue(new Uint8Array(65536));
      },
    });
    const r = await request('/predict', { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: stream, duplex: 'half' } as RequestInit);
    expectError(r, 413, 'BODY_TOO_LARGE', /over the limit of 1048576 bytes/);
  });

  it('an empty body: 400', async () => {
    expectError(await post('image/png', new Uint8Array(0)), 400, 'EMPTY_BODY', /empty/);
  });

  it('an undecodable image: 422 saying why', async () => {
    const png = encodeGrayPng(28, 28, pixelsOf(0));
    expectError(await post('image/png', png.subarray(0, 60)), 422, 'UNDECODABLE_IMAGE', /could not be decoded/);
    expectError(await post('image/png', new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3])), 422, 'UNDECODABLE_IMAGE', /JPEG/);
    expectError(await post('image/png', new TextEncoder().encode('not an image at all')), 422, 'UNDECODABLE_IMAGE', /unknown format/);
  });

  it('the wrong pixel count or bad pixel values: 422; bad JSON: 400', async () => {
    expectError(await post('application/octet-stream', new Uint8Array(783)), 422, 'WRONG_PIXEL_COUNT', /784 pixels \(28×28\), got 783/);
    expectError(await post('application/json', JSON.stringify({ pixels: [1, 2, 3] })), 422, 'WRONG_PIXEL_COUNT', /got 3/);
    const bad = Array.from(pixelsOf(0)) as unknown[];
    bad[100] = 'x';
    expectError(await post('application/json', JSON.stringify({ pixels: bad })), 422, 'BAD_PIXEL', /pixels\[100\] is "x"/);
    bad[100] = 256;
    expectError(await post('application/json', JSON.stringify({ pixels: bad })), 422, 'BAD_PIXEL', /pixels\[100\] is 256/);
    expectError(await post('application/json', '{"pixels": [1, 2'), 400, 'INVALID_JSON', /not valid JSON/);
    expectError(await post('application/json', JSON.stringify([1, 2, 3])), 400, 'MISSING_PIXELS', /"pixels" array/);
  });

  it('a picture with no digit: 422 "no digit found", for images, raw bytes and JSON', async () => {
    const blank = encodeGrayPng(64, 64, new Uint8Array(64 * 64).fill(230));
    for (const [r, reason] of [
      [await post('image/png', blank), 'no ink'],
      [await post('image/png', photo(4, 0, 'text').png), 'too much ink'],
      [await post('application/octet-stream', new Uint8Array(784)), 'no ink'],
      [await post('application/json', JSON.stringify({ pixels: new Array(784).fill(0), scale: 255 })), 'no ink'],
    ] as const) {
      expect(r.status, JSON.stringify(r.body)).toBe(422);
      expect(r.body).toEqual({ error: 'no digit found', code: 'NO_DIGIT', reason });
    }
  });

  it('photos of paper: the same answer as findDigit + predict in Node', async () => {
    const nn = await runtime('relaxed');
    const mlp = nn.load(readFileSync('models/mnist-mlp.safetensors'));
    for (let i = 0; i < 6; i++) {
      const p = photo(7, i);
      const pixels = findDigit(await decodeImage(p.png, (d) => inflateSync(d))).pixels;
      const probs = mlp.predict(pixels);
      const r = await post('image/png', p.png);
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      expect(r.body.digit, p.describe).toBe(probs.indexOf(Math.max(...probs)));
      for (let j = 0; j < 10; j++) expect(Math.abs(r.body.probabilities[j] - probs[j])).toBeLessThan(1e-4);
    }
  });

  it('JSON pixels in 0..1 or 0..255: says which it read, refuses the ambiguous', async () => {
    const bytes = Array.from(pixelsOf(2));
    const as255 = await post('application/json', JSON.stringify({ pixels: bytes }));
    const as1 = await post('application/json', JSON.stringify({ pixels: bytes.map((v) => v / 255) }));
    expect(as255.body.pixelScale).toBe('0..255');
    expect(as1.body.pixelScale).toBe('0..1');
    expect(as1.body.digit).toBe(digits.labels[2]);
    for (let j = 0; j < 10; j++) expect(Math.abs(as1.body.probabilities[j] - as255.body.probabilities[j])).toBeLessThan(1e-5);
    const binary = bytes.map((v) => (v > 127 ? 1 : 0));
    expectError(await post('application/json', JSON.stringify({ pixels: binary })), 422, 'AMBIGUOUS_PIXELS', /"scale": 1 or "scale": 255/);
    const told = await post('application/json', JSON.stringify({ pixels: binary, scale: 1 }));
    expect(told.status, JSON.stringify(told.body)).toBe(200);
    expect(told.body.pixelScale).toBe('0..1');
    expectError(await post('application/json', JSON.stringify({ pixels: binary, scale: 100 })), 422, 'BAD_SCALE', /1 or 255/);
  });

  it('CORS: a preflight, and Access-Control-Allow-Origin on every answer', async () => {
    const pre = await fetch(new URL('/predict', base), { method: 'OPTIONS', headers: { origin: 'https://elsewhere.example', 'access-control-request-method': 'POST' } });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe('*');
    expect(pre.headers.get('access-control-allow-methods')).toBe('POST, OPTIONS');
    expect(pre.headers.get('access-control-allow-headers')).toBe('content-type');
    for (const r of [await post('application/octet-stream', pixelsOf(0)), await request('/nope')]) {
      expect(r.headers.get('access-control-allow-origin')).toBe('*');
    }
  });

  it('CORS: ALLOWED_ORIGINS limits which origins are answered', async () => {
    const other = await startWorkerd('examples/edge-worker/src/worker.js', { bindings: { ALLOWED_ORIGINS: 'https://a.example, https://b.example' } });
    try {
      const at = await other.mf.ready;
      const ask = (origin: string) => fetch(new URL('/health', at), { headers: { origin } });
      const ok = await ask('https://b.example');
      expect(ok.status).toBe(200);
      expect(ok.headers.get('access-control-allow-origin')).toBe('https://b.example');
      expect(ok.headers.get('vary')).toMatch(/Origin/);
      const no = await ask('https://c.example');
      expect(no.status).toBe(200); // the answer still comes; the browser will not hand it to the page
      expect(no.headers.get('access-control-allow-origin')).toBeNull();
    } finally {
      await other.mf.dispose();
    }
  });

  it('still answers after all that, and never answered 5xx', async () => {
    const r = await post('application/octet-stream', pixelsOf(5));
    expect(r.status).toBe(200);
    expect(r.body.digit).toBe(digits.labels[5]);
    expect(statuses.filter((s) => s >= 500)).toEqual([]);
  });
});
