// The checkpoint store under Deno (its node:fs): save three checkpoints of a trained model, flip
// a bit in the newest, and ask for the latest. Prints one JSON line for deno.test.ts.
import { init } from '../../../dist/index.js';
import { CheckpointStore } from '../../../dist/node-files.js';

const dir = Deno.args[0];
const nn = await init();
const m = nn.sequential({ inputShape: [4, 2], seed: 3, layers: [{ type: 'gru', units: 4 }, { type: 'dense', units: 1 }] });
const x = new Float32Array(8 * 8).map((_, i) => Math.sin(i));
const y = new Float32Array(8).fill(0.25);
const store = new CheckpointStore(dir, { keep: 2 });
const saved = [];
for (let i = 0; i < 3; i++) {
  await m.fit(x, y, { epochs: 1, batchSize: 4, loss: 'mse' });
  saved.push((await store.save(m)).path);
}
const files = (await store.list()).map((f) => f.path);
const bytes = await Deno.readFile(saved[2]);
bytes[bytes.length - 1] ^= 1;
await Deno.writeFile(saved[2], bytes);
const { model, path, skipped } = await store.load(nn);
const want = nn.load(await Deno.readFile(saved[1])).predict(x);
const same = Array.from(model.predict(x)).every((v, i) => v === want[i]);
console.log(JSON.stringify({ saved, files, path, skipped: skipped.map((s) => s.path), reason: skipped[0]?.reason, same, step: model.engine.trainer?.step }));
