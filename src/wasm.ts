// The only file that touches wasm exports and memory. One Kernels object per model: its own
// Instance and memory, laid out as
//   [module data | gemm scratch | persistent: parameters, gradients, optimizer state | transient]
// Persistent blocks are bump-allocated and live as long as the model; the transient region
// (activations saved for backward, the current batch) is re-planned whenever its size changes.
import { NeuriteError } from './errors';

import type { KernelExports } from './kernel-exports';

export type { KernelExports };

export type BuildName = 'relaxed' | 'simd' | 'scalar';
const BUILD_NAMES: BuildName[] = ['scalar', 'simd', 'relaxed'];

const PAGE = 65536;
/** Upper bound on one model's memory: a request past it is refused, never attempted. */
export const MAX_MEMORY_BYTES = 2 * 1024 * 1024 * 1024;

export class Kernels {
  readonly k: KernelExports;
  readonly build: BuildName;
  /** gemm scratch, shared by every gemm-based kernel of this instance */
  readonly scratch: number;
  private persistentTop: number;
  private transientBytes = 0;
  private view: Float32Array;

  constructor(module: WebAssembly.Module) {
    this.k = instantiate(module);
    this.build = BUILD_NAMES[this.k.build_id()];
    this.scratch = this.k.heap_base();
    this.persistentTop = this.scratch + this.k.gemm_scratch_bytes();
    this.ensure(this.persistentTop);
    this.view = new Float32Array(this.k.memory.buffer);
  }

  /** A Float32Array over all of memory; re-created after memory grows (growth detaches it). */
  get f32(): Float32Array {
    if (this.view.buffer !== this.k.memory.buffer) this.view = new Float32Array(this.k.memory.buffer);
    return this.view;
  }

  /** Reserve `floats` for the model's lifetime (16-byte aligned); returns a byte pointer. */
  allocPersistent(floats: number): number {
    const ptr = this.persistentTop;
    const bytes = align16(floats * 4);
    this.ensure(ptr + bytes + this.transientBytes);
    this.persistentTop = ptr + bytes;
    // the transient region starts at persistentTop, so its plan is void now
    this.transientBytes = 0;
    this.f32.fill(0, ptr >> 2, (ptr + bytes) >> 2);
    return ptr;
  }

  /** Make room for a transient plan of `bytes`; returns its base pointer. */
  planTransient(bytes: number): number {
    this.ensure(this.persistentTop + bytes);
    this.transientBytes = bytes;
    return this.persistentTop;
  }

  private ensure(bytes: number): void {
    if (bytes > MAX_MEMORY_BYTES) {
      throw new NeuriteError('TOO_LARGE',
        `this would need ${Math.ceil(bytes / 2 ** 20)} MiB of model memory; the bound is ${MAX_MEMORY_BYTES / 2 ** 20} MiB`);
    }
    const have = this.k.memory.buffer.byteLength;
    if (bytes <= have) return;
    // grow geometrically so a sequence of slightly larger plans does not grow every time
    const want = Math.min(MAX_MEMORY_BYTES, Math.max(bytes, have * 1.5));
    try {
      this.k.memory.grow(Math.ceil((want - have) / PAGE));
    } catch {
      try {
        this.k.memory.grow(Math.ceil((bytes - have) / PAGE));
      } catch {
        // the engine refused memory below our own bound (a 32-bit host, a busy machine)
        throw new NeuriteError('TOO_LARGE', `this would need ${Math.ceil(bytes / 2 ** 20)} MiB of model memory, which the engine refused`);
      }
    }
  }

  /** Copy floats into memory at ptr. */
  write(ptr: number, data: ArrayLike<number>, offset = 0): void {
    this.f32.set(data as ArrayLike<number>, (ptr >> 2) + offset);
  }

  /** Copy n floats out of memory at ptr. */
  read(ptr: number, n: number): Float32Array {
    const i = ptr >> 2;
    return this.f32.slice(i, i + n);
  }
}

// The exports every model calls, whatever its layers: enough to tell neurite's module from a
// valid wasm module that is something else, before anything calls into it.
const CORE_EXPORTS = ['memory', 'build_id', 'heap_base', 'gemm_scratch_bytes', 'dense_forward', 'dense_backward',
  'fill_zero', 'count_nonfinite'];

/** An instance of neurite's kernels, or WASM_UNAVAILABLE for any other module (never a TypeError). */
function instantiate(module: WebAssembly.Module): KernelExports {
  const foreign = (why: string) => new NeuriteError('WASM_UNAVAILABLE', `this wasm module is not a neurite build: ${why}`);
  if (!(module instanceof WebAssembly.Module)) throw foreign('not a WebAssembly.Module');
  // neurite's kernels import nothing: a module that does is someone else's
  if (WebAssembly.Module.imports(module).length > 0) throw foreign('it has imports');
  const names = new Set(WebAssembly.Module.exports(module).map((e) => e.name));
  const missing = CORE_EXPORTS.filter((n) => !names.has(n));
  if (missing.length > 0) throw foreign(`it does not export ${missing.join(', ')}`);
  let k: KernelExports;
  try {
    k = new WebAssembly.Instance(module, {}).exports as unknown as KernelExports;
  } catch (e) {
    if (e instanceof WebAssembly.LinkError) throw foreign((e as Error).message);
    // out of address space for one more memory, say: not the module's fault
    throw new NeuriteError('WASM_UNAVAILABLE', `could not instantiate the kernels: ${(e as Error).message}`);
  }
  if (!(k.memory instanceof WebAssembly.Memory) || typeof k.build_id !== 'function' || !BUILD_NAMES[k.build_id()]) {
    throw foreign('its exports are not the kernel ABI');
  }
  return k;
}

export function align16(bytes: number): number {
  return Math.ceil(bytes / 16) * 16;
}
