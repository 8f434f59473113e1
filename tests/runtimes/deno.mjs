// Runs the shared cases under Deno (the binary from the npm package `deno`), once per way an
// application reaches neurite: as an npm package (a consumer project with neurite copied into its
// node_modules, resolved through the package `exports` with Deno's conditions) or by a local path.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { makeConsumerProject, MNIST_IMAGES, MNIST_LABELS, MODEL, ROOT } from './fixtures.mjs';

export const DENO = join(ROOT, 'node_modules', '.bin', 'deno');
const TEST_FILE = join(ROOT, 'tests', 'runtimes', 'deno', 'neurite_test.mjs');

/** Runs `args` with the project's deno: DENO_DIR inside the project, no update check. */
export function deno(args, { cwd = ROOT, env = {}, timeoutMs = 90_000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(DENO, args, {
      cwd,
      env: { ...process.env, DENO_DIR: join(ROOT, '.deno'), DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`deno timed out after ${timeoutMs} ms\n${stdout}\n${stderr}`)); }, timeoutMs);
    child.on('error', (e) => { clearTimeout(timer); reject(e); });
    child.on('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
  });
}

/** A throwaway project with neurite in its node_modules; its entry.mjs re-exports 'neurite'. */
export function makeConsumer() {
  const consumer = makeConsumerProject('neurite-deno-', {
    'deno.json': JSON.stringify({ nodeModulesDir: 'manual' }),
    'entry.mjs': "export * from 'neurite';\nexport const resolvedFrom = import.meta.resolve('neurite');\n",
  });
  return { ...consumer, entry: pathToFileURL(join(consumer.dir, 'entry.mjs')).href };
}

/**
 * `deno test` on the shared cases, importing `entry`; resolves to { result, code, stdout, stderr }.
 * The result is null when the test printed none (the caller's assertion then shows the output).
 */
export async function runDenoCases({ entry, label, cwd, readDirs = [] }) {
  const allowRead = [ROOT, ...readDirs].join(',');
  const run = await deno(['test', '--no-check', `--allow-read=${allowRead}`, '--allow-env', TEST_FILE], {
    cwd,
    env: { NEURITE_ENTRY: entry, NEURITE_LABEL: label, NEURITE_MODEL: MODEL, NEURITE_MNIST_IMAGES: MNIST_IMAGES, NEURITE_MNIST_LABELS: MNIST_LABELS },
  });
  const line = run.stdout.split('\n').find((l) => l.startsWith('NEURITE_RESULT '));
  return { ...run, result: line ? JSON.parse(line.slice('NEURITE_RESULT '.length)) : null };
}
