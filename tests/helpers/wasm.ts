// Raw access to one compiled build, for kernel tests that call the ABI directly.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { GUARD, guarded } from './reference';

export type Build = 'scalar' | 'simd' | 'relaxed';
export const BUILDS: Build[] = ['scalar', 'simd', 'relaxed'];

export function wasmPath(build: Build): string {
  return fileURLToPath(new URL(`../../build/neurite.${build}.wasm`, import.meta.url));
}

export function wasmBytes(build: Build): Uint8Array {
  return readFileSync(wasmPath(build));
}

/** A fresh instance with a bump allocator over its memory; f32 arrays go in and come out. */
export class RawKernels {
  readonly exports: any;
  readonly scratch: number;
  private top: number;

  constructor(build: Build, pages = 256) {
    const instance = new WebAssembly.Instance(new WebAssembly.Module(wasmBytes(build) as BufferSource), {});
    this.exports = instance.exports;
    this.exports.memory.grow(pages);
    this.scratch = this.exports.heap_base();
    this.top = this.scratch + this.exports.gemm_scratch_bytes();
  }

  get f32(): Float32Array {
    return new Float32Array(this.exports.memory.buffer);
  }

  /** Reserve n floats (16-byte aligned), optionally filled; returns the byte pointer. */
  alloc(n: number, fill?: ArrayLike<number>): number {
    const ptr = this.top;
    this.top += Math.ceil(Math.max(n, 1) / 4) * 16;
    if (this.top > this.exports.memory.buffer.byteLength) throw new Error('RawKernels: out of test memory');
    const view = this.f32;
    view.fill(0, ptr >> 2, (ptr >> 2) + n);
    if (fill) view.set(fill, ptr >> 2);
    return ptr;
  }

  read(ptr: number, n: number): Float32Array {
    return this.f32.slice(ptr >> 2, (ptr >> 2) + n);
  }

  write(ptr: number, data: ArrayLike<number>): void {
    this.f32.set(data, ptr >> 2);
  }

  reset(): void {
    this.top = this.scratch + this.exports.gemm_scratch_bytes();
  }
}

const instances = new Map<string, RawKernels>();

/**
 * One instance per build (and memory size), shared by a test file, its allocator reset for each
 * test. Tests that snapshot all of memory ask for fewer pages.
 */
export function fresh(build: Build, pages = 256): RawKernels {
  const key = `${build}/${pages}`;
  let k = instances.get(key);
  if (!k) instances.set(key, (k = new RawKernels(build, pages)));
  k.reset();
  return k;
}

/** Allocate data followed by GUARD sentinels: outputs must leave them alone, and an input read
 * past its end feeds the sentinel into the result, where the comparison sees it. */
export const put = (k: RawKernels, data: ArrayLike<number>): number => k.alloc(data.length + GUARD, guarded(data));
