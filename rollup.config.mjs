// One ES module build for every runtime, picked by the package `exports` conditions:
//   dist/index.js    browsers, Deno, bundlers: the .wasm found beside it (new URL(…, import.meta.url))
//   dist/node.js     Node: reads the .wasm with fs
//   dist/workerd.js  Cloudflare Workers / workerd: imports the .wasm files statically as modules
//   dist/inline.js   single-file use: the builds embedded as base64
//   dist/image.js    image decoding and MNIST-style preprocessing (a separate entry so pages that
//                    do not need it do not ship it)
//   dist/cli.js      the `neurite` command
//   dist/node-files.js    neurite/node: CheckpointStore and writeFileAtomic (Node, Deno)
//   dist/atomic-write.js  Node only: writeFileAtomic, for the CLI and the scripts (no runtime
//                    entry imports it)
// plus their type declarations and the wasm builds copied beside them.
import typescript from '@rollup/plugin-typescript';
import ts from 'typescript';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';

const BUILDS = ['relaxed', 'simd', 'scalar'];
const WASM_FILE = /^neurite\.(scalar|simd|relaxed)\.wasm$/;

// The declarations tsc emits import './api', which TypeScript's NodeNext and Node16 resolution
// (what `tsc --init` sets up) refuse: ES modules need the file's extension. Every relative
// specifier in dist's .d.ts files gets it (`./api.js`, `./image/index.js`).
const dtsExtensions = {
  name: 'dts-extensions',
  writeBundle() {
    const walk = (dir) => readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(`${dir}/${e.name}`) : [`${dir}/${e.name}`]));
    for (const file of walk('dist').filter((f) => f.endsWith('.d.ts'))) {
      const here = dirname(file);
      const text = readFileSync(file, 'utf8');
      const fixed = text.replace(/(from\s+|import\(\s*)(['"])(\.{1,2}\/[^'"]*)\2/g, (all, pre, q, spec) => {
        if (/\.(js|mjs|cjs|json)$/.test(spec)) return all;
        if (existsSync(`${here}/${spec}.d.ts`)) return `${pre}${q}${spec}.js${q}`;
        if (existsSync(`${here}/${spec}/index.d.ts`)) return `${pre}${q}${spec}/index.js${q}`;
        throw new Error(`${file}: cannot resolve ${spec}`);
      });
      if (fixed !== text) writeFileSync(file, fixed);
    }
  },
};

// The shipped JavaScript carries no comments (the .d.ts keep every doc comment): a quarter of
// what a page downloads was comments. TypeScript re-emits each chunk, so nothing but comments
// changes; the size budget in tests/runtimes/packaging.test.ts holds the result.
const stripComments = {
  name: 'strip-comments',
  renderChunk(code) {
    const out = ts.transpileModule(code, {
      compilerOptions: { removeComments: true, target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext },
    });
    return { code: out.outputText, map: null };
  },
};

const copyWasm = {
  name: 'copy-wasm',
  writeBundle() {
    mkdirSync('dist', { recursive: true });
    for (const f of readdirSync('build')) {
      if (WASM_FILE.test(f)) copyFileSync(`build/${f}`, `dist/${f}`);
    }
  },
};

// `import relaxed from './neurite.relaxed.wasm'` in src/workerd.ts stays an import in the output,
// of the copy beside dist/workerd.js (the Workers bundler or workerd compiles it); and
// 'neurite:wasm-base64' is a generated module with each build as base64 text (src/inline.ts).
const wasmModules = {
  name: 'wasm-modules',
  resolveId(source) {
    if (WASM_FILE.test(basename(source))) return { id: `./${basename(source)}`, external: true };
    if (source === 'neurite:wasm-base64') return '\0neurite:wasm-base64';
    return null;
  },
  load(id) {
    if (id !== '\0neurite:wasm-base64') return null;
    return BUILDS.map((b) => {
      const file = `build/neurite.${b}.wasm`;
      this.addWatchFile(resolve(file));
      return `export const ${b} = ${JSON.stringify(readFileSync(file).toString('base64'))};\n`;
    }).join('');
  },
};

export default {
  input: {
    index: 'src/index.ts',
    node: 'src/node.ts',
    workerd: 'src/workerd.ts',
    inline: 'src/inline.ts',
    image: 'src/image/index.ts',
    cli: 'src/cli/main.ts',
    'atomic-write': 'src/node/atomic-write.ts',
    'node-files': 'src/node/index.ts',
  },
  output: {
    dir: 'dist',
    format: 'es',
    entryFileNames: '[name].js',
    chunkFileNames: '[name].js',
    banner: (chunk) => (chunk.fileName === 'cli.js' ? '#!/usr/bin/env node' : ''),
  },
  external: (id) => id.startsWith('node:'),
  plugins: [
    wasmModules,
    typescript({
      tsconfig: './tsconfig.build.json',
      declarationDir: 'dist',
      outDir: 'dist',
      rootDir: 'src',
      // a type error fails the build instead of scrolling past as a warning
      noEmitOnError: true,
    }),
    stripComments,
    copyWasm,
    dtsExtensions,
  ],
};
