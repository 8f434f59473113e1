// browser/vite-app (an application importing 'neurite' from its node_modules) as a web developer
// would run it with Vite: bundled by `vite build`, or served by `vite dev`; in a temp folder.
import { cpSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { build, createServer } from 'vite';
import { makeConsumerProject, MNIST_IMAGES, MNIST_LABELS, MODEL, ROOT } from './fixtures.mjs';

const APP = join(ROOT, 'tests', 'runtimes', 'browser', 'vite-app');

/** The app's project: its sources, the shared cases, and the model and MNIST files in public/. */
function appProject(prefix) {
  const files = Object.fromEntries(readdirSync(APP).map((f) => [f, readFileSync(join(APP, f), 'utf8')]));
  files['cases.mjs'] = readFileSync(join(ROOT, 'tests', 'runtimes', 'cases.mjs'), 'utf8');
  const project = makeConsumerProject(prefix, files);
  for (const [dir, file] of [['models', MODEL], ['mnist', MNIST_IMAGES], ['mnist', MNIST_LABELS]]) {
    mkdirSync(join(project.dir, 'public', dir), { recursive: true });
    cpSync(file, join(project.dir, 'public', dir, file.split(/[\\/]/).pop()));
  }
  return project;
}

/** `vite build`: resolves to { dir, outDir, assets (file names emitted), dispose }. */
export async function buildViteApp() {
  const project = appProject('neurite-vite-');
  try {
    const outDir = join(project.dir, 'out');
    await build({ root: project.dir, configFile: false, logLevel: 'silent', build: { outDir, emptyOutDir: true } });
    return { ...project, outDir, assets: readdirSync(join(outDir, 'assets')) };
  } catch (e) {
    project.dispose();
    throw e;
  }
}

/**
 * `vite dev`, with neurite left out of Vite's dependency pre-bundling (pre-bundled, dist/index.js
 * would be moved away from the .wasm files beside it). Resolves to { url, close }.
 */
export async function startViteDev() {
  const project = appProject('neurite-vite-dev-');
  let server;
  try {
    server = await createServer({
      root: project.dir, configFile: false, logLevel: 'silent',
      server: { host: '127.0.0.1', port: 0 },
      optimizeDeps: { exclude: ['neurite'] },
    });
    await server.listen();
    return { url: server.resolvedUrls.local[0].replace(/\/$/, ''), close: async () => { await server.close(); project.dispose(); } };
  } catch (e) {
    await server?.close();
    project.dispose();
    throw e;
  }
}
