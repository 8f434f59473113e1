// Compiles assembly/ into one .wasm per instruction set (asconfig.json targets).
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';

mkdirSync('build', { recursive: true });
const asc = 'node_modules/assemblyscript/bin/asc.js';
for (const target of ['scalar', 'simd', 'relaxed']) {
  execFileSync(process.execPath, [asc, 'assembly/index.ts', '--config', 'asconfig.json', '--target', target], { stdio: 'inherit' });
}
