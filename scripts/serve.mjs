// A tiny static file server for the examples: node:http only, nothing to install.
//   node scripts/serve.mjs [--port 8080] [--host 127.0.0.1]     (or PORT=… HOST=…)
//
// Serves the repository's dist/, models/ and examples/ (the only folders a page needs) with the
// right MIME types (application/wasm above all, or browsers refuse to stream-compile), refuses
// anything outside them, dotfiles and path tricks, and answers 404 for what is not there.
// It sends the cross-origin isolation headers, which give pages a finer performance.now().
// `serve()` is exported so tests can start it on port 0.
import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import { dirname, extname, join, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The folders served; everything else is 404. */
export const SERVED = ['dist', 'models', 'examples'];
/** Where `/` leads. */
export const HOME = '/examples/web-digits/';

export const MIME_TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.ts': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.wasm': 'application/wasm',
  '.safetensors': 'application/octet-stream',
  '.bin': 'application/octet-stream',
};

const HEADERS = {
  'X-Content-Type-Options': 'nosniff',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

function send(res, status, text, extra = {}) {
  res.writeHead(status, { ...HEADERS, 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store', ...extra });
  res.end(res.req.method === 'HEAD' ? undefined : `${text}\n`);
}

/**
 * Maps a request path to a file under `root`, or to an HTTP error. Pure apart from the file
 * system look-ups, so every refusal is one of: 400 (malformed), 403 (outside root), 404.
 */
async function locate(root, pathname) {
  let decoded;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return { status: 400, text: 'bad request: malformed percent-encoding' };
  }
  if (!decoded.startsWith('/') || decoded.includes('\0') || decoded.includes('\\')) return { status: 400, text: 'bad request' };
  const segments = decoded.split('/').slice(1);
  if (segments.some((s) => s === '..' || s === '.')) return { status: 403, text: 'forbidden' };
  // no dotfiles (.git, .env, …) and only the served folders
  if (segments.some((s) => s.startsWith('.')) || !SERVED.includes(segments[0])) return { status: 404, text: 'not found' };
  const full = resolve(root, ...segments.filter((s) => s !== ''));
  if (full !== root && !full.startsWith(root + sep)) return { status: 403, text: 'forbidden' };
  let real, info;
  try {
    real = await realpath(full);
    info = await stat(real);
  } catch {
    return { status: 404, text: 'not found' };
  }
  // a symbolic link may not lead out of the tree
  const realRoot = await realpath(root);
  if (real !== realRoot && !real.startsWith(realRoot + sep)) return { status: 403, text: 'forbidden' };
  if (info.isDirectory()) {
    if (!decoded.endsWith('/')) return { status: 301, location: `${pathname}/` };
    return locateIndex(join(real, 'index.html'));
  }
  if (!info.isFile()) return { status: 404, text: 'not found' };
  return { status: 200, file: real, info };
}

async function locateIndex(file) {
  try {
    const info = await stat(file);
    if (info.isFile()) return { status: 200, file, info };
  } catch { /* no index */ }
  return { status: 404, text: 'not found (no directory listings)' };
}

async function handle(root, req, res) {
  if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'method not allowed', { Allow: 'GET, HEAD' });
  let url;
  try {
    url = new URL(req.url ?? '/', 'http://localhost');
  } catch {
    return send(res, 400, 'bad request');
  }
  if (url.pathname === '/') return send(res, 302, `see ${HOME}`, { Location: HOME });
  const found = await locate(root, url.pathname);
  if (found.status === 301) return send(res, 301, `see ${found.location}`, { Location: found.location + url.search });
  if (found.status !== 200) return send(res, found.status, found.text);
  const { file, info } = found;
  const etag = `"${info.size.toString(16)}-${Math.floor(info.mtimeMs).toString(16)}"`;
  const headers = {
    ...HEADERS,
    'Content-Type': MIME_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream',
    'Cache-Control': 'no-cache', // revalidate every time: a rebuild shows up on reload
    ETag: etag,
  };
  if (req.headers['if-none-match'] === etag) {
    res.writeHead(304, headers);
    return res.end();
  }
  res.writeHead(200, { ...headers, 'Content-Length': info.size });
  if (req.method === 'HEAD') return res.end();
  const stream = createReadStream(file);
  stream.on('error', () => res.destroy());
  stream.pipe(res);
}

/**
 * Starts the server. Resolves once it listens, with its base URL and a close() that also ends
 * open connections. `port: 0` picks a free port.
 * @param {{ port?: number, host?: string, root?: string }} [options]
 * @returns {Promise<{ url: string, port: number, server: import('node:http').Server, close: () => Promise<void> }>}
 */
export function serve({ port = 8080, host = '127.0.0.1', root = ROOT } = {}) {
  const base = resolve(root);
  const server = createServer((req, res) => {
    handle(base, req, res).catch((e) => {
      if (!res.headersSent) send(res, 500, `internal error: ${e?.message ?? e}`);
      else res.destroy();
    });
  });
  return new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(port, host, () => {
      server.off('error', fail);
      const actual = server.address().port;
      const shownHost = host.includes(':') ? `[${host}]` : host;
      ok({
        server,
        port: actual,
        url: `http://${shownHost}:${actual}`,
        close: () => new Promise((done) => {
          server.close(() => done());
          server.closeAllConnections();
        }),
      });
    });
  });
}

function option(argv, name) {
  const i = argv.indexOf(`--${name}`);
  if (i >= 0) return argv[i + 1];
  const eq = argv.find((a) => a.startsWith(`--${name}=`));
  return eq?.slice(name.length + 3);
}

async function main(argv) {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write('Usage: node scripts/serve.mjs [--port 8080] [--host 127.0.0.1]   (or PORT=… HOST=…)\n');
    return;
  }
  const rawPort = option(argv, 'port') ?? process.env.PORT ?? '8080';
  const port = Number(rawPort);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(`serve: the port must be an integer from 0 to 65535, not ${JSON.stringify(rawPort)}\n`);
    process.exitCode = 1;
    return;
  }
  const host = option(argv, 'host') ?? process.env.HOST ?? '127.0.0.1';
  let running;
  try {
    running = await serve({ port, host });
  } catch (e) {
    const hint = e?.code === 'EADDRINUSE' ? ` (port ${port} is in use: try --port ${port + 1})` : '';
    process.stderr.write(`serve: cannot listen on ${host}:${port}: ${e?.message ?? e}${hint}\n`);
    process.exitCode = 1;
    return;
  }
  process.stdout.write(`serving   ${running.url}/ (dist/, models/, examples/)\n`);
  process.stdout.write(`web page  ${running.url}${HOME}   ← open this to draw digits (Ctrl+C stops)\n`);
  const stop = () => { running.close().then(() => process.exit(0)); };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main(process.argv.slice(2));
