// A tiny static server on 127.0.0.1 (port chosen by the OS) for the browser tests: dist/, the
// shipped model, these test files and the MNIST test set, each with its proper MIME type
// (`application/wasm` for the builds, so browsers compile them while they stream in).
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';
import { MNIST_IMAGES, MNIST_LABELS, ROOT } from './fixtures.mjs';

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
};
const SERVED = ['dist', 'models', join('tests', 'runtimes')].map((d) => join(ROOT, d) + sep);
const MNIST = { '/mnist/t10k-images-idx3-ubyte': MNIST_IMAGES, '/mnist/t10k-labels-idx1-ubyte': MNIST_LABELS };

/**
 * Serves the files above, or with `root` that folder (at /) alone. Resolves to
 * { url, requests, close } once listening; `requests` lists every path asked for.
 */
export function serveStatic({ root = ROOT } = {}) {
  const requests = [];
  const served = root === ROOT ? SERVED : [root + sep];
  const mnist = root === ROOT ? MNIST : {};
  const server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    requests.push(path);
    try {
      const file = mnist[path] ?? normalize(join(root, path === '/' ? 'index.html' : path));
      if (!mnist[path] && !served.some((d) => file.startsWith(d))) throw Object.assign(new Error('not served'), { code: 'ENOENT' });
      const body = await readFile(file);
      res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
      res.end(body);
    } catch (e) {
      res.writeHead(e.code === 'ENOENT' || e.code === 'EISDIR' ? 404 : 500, { 'content-type': 'text/plain' });
      res.end(String(e.message));
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      resolve({
        url: `http://127.0.0.1:${port}`,
        requests,
        close: () => new Promise((r) => { server.closeAllConnections?.(); server.close(() => r()); }),
      });
    });
  });
}
