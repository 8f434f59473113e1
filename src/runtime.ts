// init(): decide which build runs here and turn whatever the environment can give (a compiled
// Module, bytes, a URL) into one WebAssembly.Module that every model instantiates.
import { NeuriteError } from './errors';
import type { BuildName } from './wasm';
import { checkOptions } from './options';

export type { BuildName } from './wasm';

/** Anything a wasm build can be handed in as. */
export type WasmSource = WebAssembly.Module | ArrayBuffer | ArrayBufferView | URL | string | Response;

export interface InitOptions {
  /**
   * The wasm to run: one source, or one per build (the best supported one is used). Default:
   * the build files shipped with the package, found the way this runtime's entry knows.
   */
  wasm?: WasmSource | Partial<Record<BuildName, WasmSource>>;
  /** Which build to run. Default 'auto': relaxed SIMD, else SIMD128, else scalar. */
  build?: 'auto' | BuildName;
}

/** How an entry point finds the shipped build files when the caller gives none. */
export type DefaultWasmLoader = (build: BuildName) => Promise<WasmSource>;

// Smallest modules that use one instruction of each feature: WebAssembly.validate on them is
// how the engine tells what it supports (no user-agent sniffing, works in workerd too).
const SIMD_PROBE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 0x60, 0, 1, 0x7b, 3, 2, 1, 0,
  10, 10, 1, 8, 0, 0x41, 0, 0xfd, 0x11, 0xfd, 0x62, 0x0b]);
const RELAXED_PROBE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 0x60, 0, 1, 0x7b, 3, 2, 1, 0,
  10, 19, 1, 17, 0, 0x41, 0, 0xfd, 0x11, 0x41, 0, 0xfd, 0x11, 0x41, 0, 0xfd, 0x11, 0xfd, 0x85, 0x02, 0x0b]);

/** The builds this engine can run, best first. */
export function supportedBuilds(): BuildName[] {
  const out: BuildName[] = [];
  if (WebAssembly.validate(RELAXED_PROBE)) out.push('relaxed');
  if (WebAssembly.validate(SIMD_PROBE)) out.push('simd');
  out.push('scalar');
  return out;
}

const BUILDS: readonly string[] = ['relaxed', 'simd', 'scalar'];

function isSource(x: unknown): x is WasmSource {
  return x instanceof WebAssembly.Module || x instanceof ArrayBuffer || ArrayBuffer.isView(x)
    || x instanceof URL || typeof x === 'string'
    || (typeof Response !== 'undefined' && x instanceof Response);
}

/** Which source to compile, given the options: returns [build, source | undefined] candidates. */
export function candidates(options: InitOptions): Array<[BuildName, WasmSource | undefined]> {
  const want = options.build ?? 'auto';
  if (want !== 'auto' && !BUILDS.includes(want)) {
    throw new NeuriteError('INVALID_ARGUMENT', `init: build must be 'auto', 'relaxed', 'simd' or 'scalar', not ${JSON.stringify(want)}`);
  }
  const supported = supportedBuilds();
  if (want !== 'auto' && !supported.includes(want)) {
    throw new NeuriteError('WASM_UNAVAILABLE', `init: this engine cannot run the '${want}' build (supported: ${supported.join(', ')})`);
  }
  const order = want === 'auto' ? supported : [want];
  const { wasm } = options;
  if (wasm === undefined) return order.map((b) => [b, undefined]);
  if (isSource(wasm)) return [[order[0], wasm]];
  if (typeof wasm !== 'object' || wasm === null) {
    throw new NeuriteError('INVALID_ARGUMENT', 'init: wasm must be a WebAssembly.Module, bytes, a URL, or a record of them per build');
  }
  const list = order.filter((b) => (wasm as Record<string, unknown>)[b] !== undefined)
    .map((b): [BuildName, WasmSource] => [b, (wasm as Record<BuildName, WasmSource>)[b]]);
  if (list.length === 0) {
    throw new NeuriteError('WASM_UNAVAILABLE', `init: none of the builds given (${Object.keys(wasm).join(', ')}) can run here (supported: ${supported.join(', ')})`);
  }
  return list;
}

/** Compile any WasmSource into a Module. */
export async function toModule(source: WasmSource): Promise<WebAssembly.Module> {
  if (source instanceof WebAssembly.Module) return source;
  if (source instanceof ArrayBuffer || ArrayBuffer.isView(source)) return WebAssembly.compile(source as BufferSource);
  const response = (typeof Response !== 'undefined' && source instanceof Response) ? source : await fetch(source as URL | string);
  if (!response.ok) throw new NeuriteError('WASM_UNAVAILABLE', `init: fetching ${response.url || String(source)} failed with HTTP ${response.status}`);
  const type = response.headers.get('content-type') ?? '';
  if (type.startsWith('application/wasm') && typeof WebAssembly.compileStreaming === 'function') {
    return WebAssembly.compileStreaming(response);
  }
  return WebAssembly.compile(await response.arrayBuffer());
}

/** Resolve the options to a compiled module, trying each candidate build in order. */
export async function loadModule(options: InitOptions, fallback: DefaultWasmLoader): Promise<WebAssembly.Module> {
  checkOptions(options, ['wasm', 'build'], 'init');
  const errors: string[] = [];
  for (const [build, given] of candidates(options)) {
    try {
      return await toModule(given ?? await fallback(build));
    } catch (e) {
      if (e instanceof NeuriteError && e.code !== 'WASM_UNAVAILABLE') throw e;
      errors.push(`${build}: ${(e as Error).message}`);
    }
  }
  throw new NeuriteError('WASM_UNAVAILABLE', `init: no build could be loaded (${errors.join('; ')})`);
}
