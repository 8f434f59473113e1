// The public API for Cloudflare Workers / workerd, where compiling wasm from bytes is refused
// ("Wasm code generation disallowed by embedder"). The three builds are imported statically as
// wasm modules — the Workers bundler (wrangler) and workerd's CompiledWasm rule turn each into a
// WebAssembly.Module — and init() picks the best one this engine validates. Nothing here may
// reach Node-only code or a dynamic import: workerd loads the whole module graph up front.
import relaxed from './neurite.relaxed.wasm';
import scalar from './neurite.scalar.wasm';
import simd from './neurite.simd.wasm';
import { Neurite } from './neurite';
import { loadModule, type InitOptions } from './runtime';

const SHIPPED = { relaxed, simd, scalar };

/** Load the best wasm build this engine supports and return the model factory. */
export async function init(options: InitOptions = {}): Promise<Neurite> {
  const module = await loadModule(options, async (build) => SHIPPED[build]);
  return new Neurite(module);
}

export * from './api';
