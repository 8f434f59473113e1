// The web page's fine-tuning round, in Chromium, for this checkout and optionally another one
// (e.g. a worktree of an older commit, built), alternating so both see the same machine load.
//   node scripts/bench-page-finetune.mjs [--model mnist-cnn] [--rounds 6] [--repeat 3] [--against DIR]
import { parseArgs } from 'node:util';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median } from '../tests/runtimes/fixtures.mjs';
import { pageFineTune } from '../tests/runtimes/page-finetune.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({ options: {
  model: { type: 'string', default: 'mnist-cnn' }, rounds: { type: 'string', default: '6' },
  repeat: { type: 'string', default: '3' }, against: { type: 'string' },
} });
const roots = [['this checkout', ROOT], ...(values.against ? [[values.against, resolve(values.against)]] : [])];
const train = new Map(roots.map(([name]) => [name, []]));
const total = new Map(roots.map(([name]) => [name, []]));
let info;
for (let r = 0; r < Number(values.repeat); r++) {
  for (const [name, root] of roots) {
    const res = await pageFineTune({ root, model: values.model, rounds: Number(values.rounds) });
    info = res;
    train.get(name).push(...res.runs.slice(1).map((x) => x.trainMs));
    total.get(name).push(...res.runs.slice(1).map((x) => x.totalMs));
    console.log(`${name}: first round ${res.first.totalMs.toFixed(0)} ms; then fit ${res.runs.slice(1).map((x) => x.trainMs.toFixed(0)).join(' ')} ms`);
  }
}
const s = info.first.settings;
console.log(`\n${values.model} fine-tuning round in the page (Chromium ${info.chromium}, build ${info.first.build}; `
  + `${info.first.samples} samples × ${s.epochs} epochs = ${info.first.steps} steps of ${s.batchSize})`);
for (const [name] of roots) {
  console.log(`${name.padEnd(30)} fit ${median(train.get(name)).toFixed(0).padStart(6)} ms   round ${median(total.get(name)).toFixed(0).padStart(6)} ms   (median of ${train.get(name).length})`);
}
if (roots.length === 2) {
  const [a, b] = roots.map(([name]) => median(train.get(name)));
  console.log(`fit time ratio: ${(a / b).toFixed(2)} (this checkout / ${roots[1][0]})`);
}
