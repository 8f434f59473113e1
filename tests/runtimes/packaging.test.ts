// The package as runtimes and bundlers see it: which file each `exports` condition leads to, that
// the workerd entry's module graph holds nothing workerd refuses, the explicit init({ wasm })
// forms, and the size budget of what a web page ships.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { moduleGraph, staticImports, WEB_BUDGET_BYTES, webShipSize } from '../../src/cli/bench-web';
// @ts-expect-error plain ES module
import { DIST, nodeReference, ROOT } from './fixtures.mjs';

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));

/** Where `specifier` leads under `conditions`, by Node's own resolver (the package refers to itself). */
function resolveWith(specifier: string, conditions: string[]): string {
  const out = execFileSync(process.execPath, [...conditions.map((c) => `--conditions=${c}`), '--input-type=module',
    '-e', `console.log(import.meta.resolve(${JSON.stringify(specifier)}))`], { cwd: ROOT, encoding: 'utf8' });
  return out.trim().replace(pathToFileURL(ROOT).href, '');
}

describe('package exports', () => {
  it('lead each runtime to its entry', () => {
    expect(resolveWith('neurite', [])).toBe('dist/node.js');
    expect(resolveWith('neurite', ['workerd'])).toBe('dist/workerd.js');     // wrangler: workerd, worker, browser
    expect(resolveWith('neurite', ['deno'])).toBe('dist/index.js');          // Deno: deno, node, import, default
    expect(resolveWith('neurite', ['browser'])).toBe('dist/index.js');       // bundlers for the web
    expect(resolveWith('neurite/inline', [])).toBe('dist/inline.js');
    expect(resolveWith('neurite/workerd', [])).toBe('dist/workerd.js');
    expect(resolveWith('neurite/image', [])).toBe('dist/image.js');
    expect(resolveWith('neurite/neurite.relaxed.wasm', [])).toBe('dist/neurite.relaxed.wasm');
    expect(resolveWith('neurite/models/mnist-mlp.safetensors', [])).toBe('models/mnist-mlp.safetensors');
  });

  it('name files that exist, with their type declarations', () => {
    const targets: string[] = [];
    const walk = (v: unknown) => {
      if (typeof v === 'string') targets.push(v);
      else if (v && typeof v === 'object') Object.values(v).forEach(walk);
    };
    walk(pkg.exports);
    for (const t of targets.filter((x) => !x.includes('*'))) expect(existsSync(join(ROOT, t)), t).toBe(true);
    for (const b of ['relaxed', 'simd', 'scalar']) expect(existsSync(join(DIST, `neurite.${b}.wasm`))).toBe(true);
    const order = Object.keys(pkg.exports['.']);
    expect(order[0]).toBe('types');
    expect(order.indexOf('workerd')).toBeLessThan(order.indexOf('browser')); // wrangler also sets "browser"
    expect(order.indexOf('deno')).toBeLessThan(order.indexOf('node'));       // Deno also sets "node"
  });
});

describe('entry module graphs', () => {
  const graph = (entry: string) => moduleGraph(join(DIST, entry));
  const source = (f: string) => readFileSync(f, 'utf8');

  it('workerd.js imports the three .wasm builds statically, and nothing Node-only or dynamic', () => {
    const files = graph('workerd.js');
    expect(files.filter((f) => f.endsWith('.wasm')).map((f) => basename(f)).sort())
      .toEqual(['neurite.relaxed.wasm', 'neurite.scalar.wasm', 'neurite.simd.wasm']);
    for (const f of files.filter((x) => x.endsWith('.js'))) {
      expect(staticImports(source(f)).filter((s) => !s.startsWith('./')), f).toEqual([]);
      expect(source(f), f).not.toMatch(/\bimport\s*\(/);
      expect(source(f), f).not.toMatch(/\bnode:/);
    }
  });

  it('index.js, inline.js and image.js reach no node: module', () => {
    for (const entry of ['index.js', 'inline.js', 'image.js']) {
      for (const f of graph(entry).filter((x) => x.endsWith('.js'))) {
        expect(staticImports(source(f)).filter((s) => !s.startsWith('./')), f).toEqual([]);
      }
    }
  });
});

describe('init({ wasm }) takes what the caller gives', () => {
  const bytes = (b: string) => readFileSync(join(DIST, `neurite.${b}.wasm`));

  it('a Module, bytes, or a record per build; the inline entry needs nothing', async () => {
    const reference = await nodeReference();
    const model = readFileSync(join(ROOT, 'models', 'mnist-mlp.safetensors'));
    const { init } = await import(pathToFileURL(join(DIST, 'node.js')).href);
    const inline = await import(pathToFileURL(join(DIST, 'inline.js')).href);
    const x = new Float32Array(784).fill(0.25);
    const outputs = [];
    for (const [nn, build] of [
      [await init({ wasm: new WebAssembly.Module(bytes('scalar')) }), 'scalar'],
      [await init({ wasm: bytes('simd') }), 'simd'],
      [await init({ wasm: { simd: bytes('simd'), scalar: bytes('scalar') } }), 'simd'],
      [await init({ wasm: { relaxed: bytes('relaxed'), scalar: bytes('scalar') }, build: 'scalar' }), 'scalar'],
      [await inline.init(), reference.build],
    ] as const) {
      expect(nn.build).toBe(build);
      outputs.push(nn.load(model).predict(x));
    }
    for (const o of outputs) for (let j = 0; j < 10; j++) expect(Math.abs(o[j] - outputs[0][j])).toBeLessThan(1e-4);
  });
});

describe('size', () => {
  it(`a web page ships the core in ≤ ${WEB_BUDGET_BYTES / 1000} kB gzipped (JS + one .wasm)`, () => {
    const size = webShipSize(DIST);
    console.log(`web core: ${size.rows.map((r) => `${r.file} ${r.gzip}`).join(' + ')} = ${size.gzip} bytes gzipped`);
    expect(size.rows.map((r) => r.file)).toContain('index.js');
    expect(size.rows.map((r) => r.file)).toContain('neurite.relaxed.wasm');
    expect(size.gzip).toBeLessThanOrEqual(WEB_BUDGET_BYTES);
  });
});
