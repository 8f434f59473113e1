// The public API with the wasm builds inside the JavaScript (base64), for single-file use: a page
// or script that cannot ship a `.wasm` beside itself. Larger than index.js (all three builds are
// embedded; only the one picked is decoded and compiled). Not for workerd, which refuses to
// compile bytes: use the default entry there.
import { relaxed, scalar, simd } from 'neurite:wasm-base64';
import { Neurite } from './neurite';
import { loadModule, type InitOptions } from './runtime';

const SHIPPED = { relaxed, simd, scalar };

function fromBase64(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** Load the best wasm build this engine supports and return the model factory. */
export async function init(options: InitOptions = {}): Promise<Neurite> {
  const module = await loadModule(options, async (build) => fromBase64(SHIPPED[build]));
  return new Neurite(module);
}

export * from './api';
