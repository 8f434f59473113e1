// scripts/serve.mjs, the examples' static server: MIME types, what it refuses, and its command line.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serve, type Running } from '../../scripts/serve.mjs';
import { ROOT, checkBuilt } from './harness';

let server: Running;

beforeAll(async () => {
  checkBuilt();
  server = await serve({ port: 0 });
});

afterAll(async () => {
  await server?.close();
});

interface Reply { status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }

/** A raw request: the path goes out exactly as written (no URL normalisation on the way). */
function get(path: string, { method = 'GET', headers = {} }: { method?: string; headers?: Record<string, string> } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: server.port, path, method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('static server', () => {
  it('listens on 127.0.0.1 on the port asked for (0: a free one)', () => {
    expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
    expect(server.port).toBeGreaterThan(0);
  });

  it('serves the page, the bundle, the wasm and the models with their MIME types and exact bytes', async () => {
    const cases: Array<[string, string, string]> = [
      ['/examples/web-digits/', 'text/html; charset=utf-8', 'examples/web-digits/index.html'],
      ['/examples/web-digits/app.js', 'text/javascript; charset=utf-8', 'examples/web-digits/app.js'],
      ['/examples/web-digits/style.css', 'text/css; charset=utf-8', 'examples/web-digits/style.css'],
      ['/examples/web-digits/replay.bin', 'application/octet-stream', 'examples/web-digits/replay.bin'],
      ['/dist/index.js', 'text/javascript; charset=utf-8', 'dist/index.js'],
      ['/dist/image.js', 'text/javascript; charset=utf-8', 'dist/image.js'],
      ['/dist/neurite.relaxed.wasm', 'application/wasm', 'dist/neurite.relaxed.wasm'],
      ['/dist/neurite.simd.wasm', 'application/wasm', 'dist/neurite.simd.wasm'],
      ['/dist/neurite.scalar.wasm', 'application/wasm', 'dist/neurite.scalar.wasm'],
      ['/models/mnist-mlp.safetensors', 'application/octet-stream', 'models/mnist-mlp.safetensors'],
    ];
    for (const [path, type, file] of cases) {
      const r = await get(path);
      expect(r.status, path).toBe(200);
      expect(r.headers['content-type'], path).toBe(type);
      expect(r.headers['x-content-type-options']).toBe('nosniff');
      expect(r.body.equals(readFileSync(join(ROOT, file))), path).toBe(true);
      expect(Number(r.headers['content-length'])).toBe(r.body.length);
    }
  });

  it('answers HEAD without a body, and 304 to a matching ETag', async () => {
    const head = await get('/models/mnist-mlp.safetensors', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.body.length).toBe(0);
    expect(Number(head.headers['content-length'])).toBe(readFileSync(join(ROOT, 'models/mnist-mlp.safetensors')).length);
    const again = await get('/models/mnist-mlp.safetensors', { headers: { 'If-None-Match': String(head.headers.etag) } });
    expect(again.status).toBe(304);
    expect(again.body.length).toBe(0);
  });

  it('sends the cross-origin isolation headers (a finer performance.now for the page)', async () => {
    const r = await get('/examples/web-digits/');
    expect(r.headers['cross-origin-opener-policy']).toBe('same-origin');
    expect(r.headers['cross-origin-embedder-policy']).toBe('require-corp');
  });

  it('redirects / to the page and a folder to its slash', async () => {
    const root = await get('/');
    expect(root.status).toBe(302);
    expect(root.headers.location).toBe('/examples/web-digits/');
    const folder = await get('/examples/web-digits?x=1');
    expect(folder.status).toBe(301);
    expect(folder.headers.location).toBe('/examples/web-digits/?x=1');
  });

  it('refuses paths out of the served folders, dotfiles and malformed paths', async () => {
    const refused: Array<[string, number]> = [
      // dot segments are resolved first (as browsers do), and what they lead to is not served
      ['/../package.json', 404],
      ['/dist/../package.json', 404],
      ['/dist/%2e%2e/%2e%2e/etc/passwd', 404],
      // an encoded slash cannot smuggle one in
      ['/dist/..%2fpackage.json', 403],
      ['/dist/..%2f..%2f..%2fetc%2fpasswd', 403],
      ['/examples/..%5c..%5cpackage.json', 400],
      ['/dist/%00index.js', 400],
      ['/dist/%zz', 400],
      ['/package.json', 404],
      ['/src/index.ts', 404],
      ['/node_modules/vitest/package.json', 404],
      ['/.git/HEAD', 404],
      ['/examples/.hidden', 404],
      ['/dist/no-such-file.js', 404],
      ['/models/', 404], // no directory listings
    ];
    for (const [path, status] of refused) {
      const r = await get(path);
      expect(r.status, path).toBe(status);
      expect(r.body.toString()).not.toContain('"name": "neurite"');
    }
    expect((await get('/dist/index.js', { method: 'POST' })).status).toBe(405);
  });

  it('runs from the command line, printing the URL of the page', async () => {
    const child = spawn(process.execPath, [join(ROOT, 'scripts/serve.mjs'), '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const out = await new Promise<string>((resolve, reject) => {
        let text = '';
        const timer = setTimeout(() => reject(new Error(`no URL printed: ${text}`)), 20_000);
        child.stdout.on('data', (d: Buffer) => {
          text += d.toString();
          if (/web page\s+http:\/\/\S+/.test(text)) {
            clearTimeout(timer);
            resolve(text);
          }
        });
        child.on('exit', (code) => reject(new Error(`exited with ${code}: ${text}`)));
      });
      const url = /web page\s+(http:\/\/127\.0\.0\.1:\d+\/examples\/web-digits\/)/.exec(out)![1];
      const page = await fetch(url);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('<canvas id="pad"');
    } finally {
      child.kill('SIGTERM');
    }
    // a bad port is refused with a message
    const bad = spawn(process.execPath, [join(ROOT, 'scripts/serve.mjs'), '--port', 'eighty'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    bad.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    const code = await new Promise<number | null>((resolve) => bad.on('exit', resolve));
    expect(code).toBe(1);
    expect(err).toContain('port');
  });
});
