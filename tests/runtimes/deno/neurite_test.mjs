// `deno test` file: the shared cases in Deno, on the module named by NEURITE_ENTRY (an npm-style
// package import resolved through node_modules, or a local path to dist/index.js). Asserts here
// too, and prints the result as one `NEURITE_RESULT <json>` line for the Node side to compare.
import { runCases } from '../cases.mjs';

const entry = Deno.env.get('NEURITE_ENTRY');
const label = Deno.env.get('NEURITE_LABEL') ?? entry;

Deno.test(`neurite in Deno ${Deno.version.deno} (${label})`, async () => {
  const read = (name) => Deno.readFile(Deno.env.get(name));
  const [modelBytes, imagesIdx, labelsIdx] = await Promise.all(['NEURITE_MODEL', 'NEURITE_MNIST_IMAGES', 'NEURITE_MNIST_LABELS'].map(read));
  const startedAt = performance.now();
  const neurite = await import(entry);
  const result = await runCases({ init: neurite.init, modelBytes, imagesIdx, labelsIdx, startedAt });
  const resolvedFrom = neurite.resolvedFrom ?? entry; // the consumer project's entry tells where 'neurite' led
  console.log(`NEURITE_RESULT ${JSON.stringify({ deno: Deno.version.deno, v8: Deno.version.v8, label, resolvedFrom, ...result })}`);
  if (!['relaxed', 'simd', 'scalar'].includes(result.build)) throw new Error(`unknown build ${result.build}`);
  if (!(result.fit.lossAfter < result.fit.lossBefore)) throw new Error(`fit did not lower the loss: ${JSON.stringify(result.fit)}`);
  if (!result.roundTrip.exact) throw new Error('save → load is not bit-exact');
});
