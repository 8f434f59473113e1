// Writes checkpoints of a training model as fast as it can, until it is killed: the victim of
// the SIGKILL test in checkpoints.test.ts. Prints "saved <n>" after each one.
import { init } from '../../dist/node.js';
import { CheckpointStore } from '../../dist/node-files.js';

const nn = await init();
const store = new CheckpointStore(process.argv[2], { keep: 3 });
const model = (await store.load(nn)).model
  ?? nn.sequential({ inputShape: [5, 2], seed: 9, layers: [{ type: 'lstm', units: 32 }, { type: 'dense', units: 1 }] });
const x = new Float32Array(64 * 10).map((_, i) => Math.sin(i));
const y = new Float32Array(64).fill(0.5);
for (;;) {
  await model.fit(x, y, { epochs: 1, batchSize: 16, loss: 'mse' });
  const c = await store.save(model);
  process.stdout.write(`saved ${c.sequence}\n`);
}
