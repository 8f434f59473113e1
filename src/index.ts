// The public API for browsers, Deno and bundlers: the .wasm builds are found next to this
// module (new URL(…, import.meta.url)), unless init() is handed them.
import { Neurite } from './neurite';
import { loadModule, type InitOptions } from './runtime';

/** Load the best wasm build this engine supports and return the model factory. */
export async function init(options: InitOptions = {}): Promise<Neurite> {
  const module = await loadModule(options, async (build) => new URL(`./neurite.${build}.wasm`, import.meta.url));
  return new Neurite(module);
}

export * from './api';
