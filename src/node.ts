// The public API for Node: the .wasm builds are read from the package directory with fs
// (Node's fetch cannot read file: URLs).
import { readFile } from 'node:fs/promises';
import { Neurite } from './neurite';
import { loadModule, type InitOptions } from './runtime';

/** Load the best wasm build this engine supports and return the model factory. */
export async function init(options: InitOptions = {}): Promise<Neurite> {
  const module = await loadModule(options, (build) => readFile(new URL(`./neurite.${build}.wasm`, import.meta.url)));
  return new Neurite(module);
}

export * from './api';
