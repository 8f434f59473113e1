// One ES module build for every runtime: dist/index.js (browsers, Deno, bundlers),
// dist/node.js (Node: reads the wasm with fs), dist/image.js (image decoding and MNIST-style
// preprocessing, a separate entry so pages that do not need it do not ship it), dist/cli.js (the `neurite` command), their
// type declarations, and the wasm builds copied beside them.
import typescript from '@rollup/plugin-typescript';
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';

const copyWasm = {
  name: 'copy-wasm',
  writeBundle() {
    mkdirSync('dist', { recursive: true });
    for (const f of readdirSync('build')) {
      if (/^neurite\.(scalar|simd|relaxed)\.wasm$/.test(f)) copyFileSync(`build/${f}`, `dist/${f}`);
    }
  },
};

export default {
  input: { index: 'src/index.ts', node: 'src/node.ts', image: 'src/image/index.ts', cli: 'src/cli/main.ts' },
  output: {
    dir: 'dist',
    format: 'es',
    entryFileNames: '[name].js',
    chunkFileNames: '[name].js',
    banner: (chunk) => (chunk.fileName === 'cli.js' ? '#!/usr/bin/env node' : ''),
  },
  external: (id) => id.startsWith('node:'),
  plugins: [
    typescript({
      tsconfig: './tsconfig.build.json',
      declarationDir: 'dist',
      outDir: 'dist',
      rootDir: 'src',
    }),
    copyWasm,
  ],
};
