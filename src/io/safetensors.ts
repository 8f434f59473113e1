// Reader and writer for Hugging Face safetensors files (F32 tensors only).
//
// Layout: u64 little-endian header length N, N bytes of UTF-8 JSON, then the
// data buffer. Model files come from untrusted places, so the reader treats
// every byte as hostile: each failure is a NeuriteError naming what was wrong,
// and no RangeError or SyntaxError ever escapes.
//
// Only platform-neutral APIs (Uint8Array, DataView, TextEncoder/TextDecoder)
// are used so this runs unchanged in Node, Deno, browsers and Workers.

import { NeuriteError } from '../errors';
import { findDuplicateKey } from './json-keys';

export interface TensorEntry {
  /**
   * F32, or I64 — read into float32 values: PyTorch stores counters so (BatchNorm's
   * num_batches_tracked), and a count is exact as a float32 up to 2^24
   */
  dtype: 'F32' | 'I64';
  shape: number[];
  data: Float32Array;
}

export interface SafetensorsFile {
  tensors: Map<string, TensorEntry>;
  metadata: Record<string, string>;
}

export interface ReadOptions {
  /** Largest element count accepted for a single tensor (default 2^28, i.e. 1 GiB of F32). */
  maxTensorElements?: number;
}

export interface TensorInput {
  /** written as F32 (default) or as I64 integers (the values rounded) */
  dtype?: 'F32' | 'I64';
  shape: number[];
  data: Float32Array;
}

/** Bounds the JSON header so a forged length cannot make us decode/parse gigabytes. */
export const MAX_HEADER_BYTES = 16 * 1024 * 1024;

const DEFAULT_MAX_TENSOR_ELEMENTS = 1 << 28;
const METADATA_KEY = '__metadata__';
const F32_BYTES = 4;

// Valid safetensors dtypes we do not decode. Kept separate from "unknown" so a
// user with an F16 checkpoint is told to convert it, not that the file is corrupt.
const UNSUPPORTED_DTYPES = new Set([
  'F16', 'BF16', 'F64', 'I8', 'I16', 'I32', 'I64', 'U8', 'U16', 'U32', 'U64',
  'BOOL', 'F8_E4M3', 'F8_E5M2',
  // Newer additions to the format; still valid files, still not ours to decode.
  'F8_E8M0', 'F6_E2M3', 'F6_E3M2', 'F4', 'C64',
]);

// Typed arrays use host byte order while the file is little-endian. Every
// engine we target is little-endian in practice, but checking costs nothing and
// keeps big-endian hosts correct instead of silently byte-swapped.
const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function malformed(message: string): NeuriteError {
  return new NeuriteError('MALFORMED_FILE', `safetensors: ${message}`);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isNonNegativeSafeInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/**
 * Copies `count` little-endian f32 values from `src` into a fresh array.
 * Copying bytes (rather than going through DataView.getFloat32) keeps NaN
 * payloads bit-exact, and copying at all means unaligned sources are fine and
 * the caller's buffer is never aliased.
 */
function decodeF32(src: Uint8Array, count: number): Float32Array {
  const out = new Float32Array(count);
  const outBytes = new Uint8Array(out.buffer);
  if (HOST_IS_LITTLE_ENDIAN) {
    outBytes.set(src);
  } else {
    swapWords(src, outBytes);
  }
  return out;
}

/** Little-endian bytes of `data`, bit-exact, as a view or a swapped copy. */
function decodeI64(src: Uint8Array, count: number): Float32Array {
  const view = new DataView(src.buffer, src.byteOffset, src.byteLength);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = Number(view.getBigInt64(i * 8, true));
  return out;
}

function encodeI64(data: Float32Array): Uint8Array {
  const out = new Uint8Array(data.length * 8);
  const view = new DataView(out.buffer);
  for (let i = 0; i < data.length; i++) view.setBigInt64(i * 8, BigInt(Math.round(data[i])), true);
  return out;
}

function encodeF32(data: Float32Array): Uint8Array {
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (HOST_IS_LITTLE_ENDIAN) return bytes;
  const swapped = new Uint8Array(bytes.length);
  swapWords(bytes, swapped);
  return swapped;
}

function swapWords(src: Uint8Array, dst: Uint8Array): void {
  for (let i = 0; i < src.length; i += 4) {
    dst[i] = src[i + 3];
    dst[i + 1] = src[i + 2];
    dst[i + 2] = src[i + 1];
    dst[i + 3] = src[i];
  }
}

function describeShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/**
 * Element count of a validated shape, or Infinity once it passes `limit`.
 * Stopping early keeps the product exact: a huge shape can't overflow past
 * 2^53 into a value that happens to look small.
 */
function elementCount(shape: readonly number[], limit: number): number {
  if (shape.includes(0)) return 0;
  let count = 1;
  for (const dim of shape) {
    count *= dim;
    if (count > limit) return Infinity;
  }
  return count;
}

interface PendingTensor {
  name: string;
  dtype: 'F32' | 'I64';
  shape: number[];
  count: number;
  begin: number;
  end: number;
}

function parseTensorInfo(
  name: string,
  info: unknown,
  dataLength: number,
  maxElements: number,
): PendingTensor {
  const where = `tensor ${JSON.stringify(name)}`;
  if (!isPlainObject(info)) throw malformed(`${where}: entry must be an object`);

  const { dtype, shape, data_offsets: offsets } = info;
  if (typeof dtype !== 'string') throw malformed(`${where}: "dtype" must be a string`);
  if (dtype !== 'F32' && dtype !== 'I64') {
    if (UNSUPPORTED_DTYPES.has(dtype)) {
      throw new NeuriteError(
        'UNSUPPORTED',
        `safetensors: ${where} has dtype ${dtype}; only F32 is supported (and I64 for counters; convert the file to F32)`,
      );
    }
    throw malformed(`${where}: unknown dtype ${JSON.stringify(dtype)}`);
  }

  if (!Array.isArray(shape) || !shape.every(isNonNegativeSafeInteger)) {
    throw malformed(`${where}: "shape" must be an array of non-negative integers`);
  }
  const count = elementCount(shape, maxElements);
  if (count > maxElements) {
    throw new NeuriteError(
      'TOO_LARGE',
      `safetensors: ${where} with shape ${describeShape(shape)} exceeds the limit of ${maxElements} elements`,
    );
  }

  if (
    !Array.isArray(offsets) ||
    offsets.length !== 2 ||
    !isNonNegativeSafeInteger(offsets[0]) ||
    !isNonNegativeSafeInteger(offsets[1])
  ) {
    throw malformed(`${where}: "data_offsets" must be two non-negative integers [begin, end]`);
  }
  const [begin, end] = offsets as [number, number];
  if (begin > end) throw malformed(`${where}: data_offsets [${begin}, ${end}] has begin after end`);
  if (end > dataLength) {
    throw malformed(
      `${where}: data_offsets [${begin}, ${end}] run past the ${dataLength}-byte data buffer (file truncated?)`,
    );
  }
  const bytesPer = dtype === 'I64' ? 8 : F32_BYTES;
  if (end - begin !== count * bytesPer) {
    throw malformed(
      `${where}: data_offsets [${begin}, ${end}] span ${end - begin} bytes but shape ` +
        `${describeShape(shape)} of ${dtype} needs ${count * bytesPer}`,
    );
  }
  return { name, shape: shape.slice(), count, begin, end, dtype };
}

/**
 * The spec requires tensors to tile the data buffer exactly. Enforcing it
 * rejects overlapping tensors (one byte range read as two weights) and hidden
 * payloads in holes or after the last tensor.
 */
function checkCoverage(pending: PendingTensor[], dataLength: number): void {
  // Sorting by end as a tiebreak puts empty tensors before a tensor starting at the same offset.
  const sorted = [...pending].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  let previous: PendingTensor | undefined;
  for (const t of sorted) {
    if (t.begin < cursor) {
      throw malformed(
        `tensor ${JSON.stringify(t.name)} at [${t.begin}, ${t.end}] overlaps ` +
          `tensor ${JSON.stringify(previous?.name)} ending at ${cursor}`,
      );
    }
    if (t.begin > cursor) {
      throw malformed(
        `hole in the data buffer: bytes [${cursor}, ${t.begin}) before tensor ${JSON.stringify(t.name)} belong to no tensor`,
      );
    }
    cursor = t.end;
    previous = t;
  }
  if (cursor !== dataLength) {
    throw malformed(`${dataLength - cursor} trailing bytes after the last tensor in the data buffer`);
  }
}

function parseMetadata(value: unknown): Record<string, string> {
  if (!isPlainObject(value)) throw malformed(`"${METADATA_KEY}" must be an object of strings`);
  const entries = Object.entries(value);
  for (const [key, entry] of entries) {
    if (typeof entry !== 'string') {
      throw malformed(`"${METADATA_KEY}" entry ${JSON.stringify(key)} must be a string`);
    }
  }
  // fromEntries defines own properties, so a "__proto__" key is kept as data
  // instead of being swallowed by the prototype setter.
  return Object.fromEntries(entries) as Record<string, string>;
}

function readHeaderLength(bytes: Uint8Array): number {
  if (bytes.length < 8) {
    throw malformed(`file truncated: ${bytes.length} bytes, need at least 8 for the header length`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, 8);
  const low = view.getUint32(0, true);
  const high = view.getUint32(4, true);
  // Checking the high word first keeps the u64 out of float arithmetic entirely.
  if (high !== 0 || low > MAX_HEADER_BYTES) {
    const shown = high !== 0 ? `${(BigInt(high) << 32n) | BigInt(low)}` : `${low}`;
    throw new NeuriteError(
      'TOO_LARGE',
      `safetensors: header length ${shown} exceeds the limit of ${MAX_HEADER_BYTES} bytes`,
    );
  }
  if (8 + low > bytes.length) {
    throw malformed(`file truncated: header length ${low} runs past the end of the ${bytes.length}-byte file`);
  }
  return low;
}

function parseHeader(headerBytes: Uint8Array): Record<string, unknown> {
  // The spec requires the header to start with '{'; JSON.parse alone would also
  // accept leading whitespace, and the reference implementation rejects that.
  if (headerBytes[0] !== 0x7b) throw malformed('header must be a JSON object starting with "{"');
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(headerBytes);
  } catch {
    throw malformed('header is not valid UTF-8');
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (err) {
    throw malformed(`header is not valid JSON (${(err as Error).message})`);
  }
  if (!isPlainObject(header)) throw malformed('header must be a JSON object');
  // JSON.parse keeps the last of two equal keys (two "neurite" entries, two tensors of one
  // name); another reader may keep the first. A header that says two things is malformed.
  const dup = findDuplicateKey(text);
  if (dup !== undefined) throw malformed(`header has the key ${JSON.stringify(dup)} twice in one object`);
  return header;
}

/**
 * Parses a safetensors file. All tensors must be F32; their data is copied
 * into fresh arrays, so `bytes` may be reused or discarded afterwards.
 */
export function readSafetensors(bytes: Uint8Array, opts: ReadOptions = {}): SafetensorsFile {
  if (!(bytes instanceof Uint8Array)) {
    throw new NeuriteError('INVALID_ARGUMENT', 'readSafetensors: bytes must be a Uint8Array');
  }
  const maxElements = opts.maxTensorElements ?? DEFAULT_MAX_TENSOR_ELEMENTS;
  if (!isNonNegativeSafeInteger(maxElements)) {
    throw new NeuriteError(
      'INVALID_ARGUMENT',
      `readSafetensors: maxTensorElements must be a non-negative integer, got ${maxElements}`,
    );
  }

  const headerLength = readHeaderLength(bytes);
  const header = parseHeader(bytes.subarray(8, 8 + headerLength));
  const data = bytes.subarray(8 + headerLength);

  let metadata: Record<string, string> = {};
  const pending: PendingTensor[] = [];
  for (const [name, info] of Object.entries(header)) {
    if (name === METADATA_KEY) {
      metadata = parseMetadata(info);
    } else {
      pending.push(parseTensorInfo(name, info, data.length, maxElements));
    }
  }
  checkCoverage(pending, data.length);

  const tensors = new Map<string, TensorEntry>();
  for (const t of pending) {
    tensors.set(t.name, {
      dtype: t.dtype,
      shape: t.shape,
      data: t.dtype === 'I64' ? decodeI64(data.subarray(t.begin, t.end), t.count) : decodeF32(data.subarray(t.begin, t.end), t.count),
    });
  }
  return { tensors, metadata };
}

function invalid(message: string): NeuriteError {
  return new NeuriteError('INVALID_ARGUMENT', `writeSafetensors: ${message}`);
}

/**
 * Serialises F32 tensors, in iteration order, to a safetensors file that the
 * Hugging Face library (and readSafetensors) can load. The header is padded
 * with spaces so the data buffer starts 8-byte aligned, which lets readers
 * map it as a typed array without copying.
 */
export function writeSafetensors(
  tensors: Iterable<readonly [string, TensorInput]>,
  metadata?: Record<string, string>,
): Uint8Array {
  // Built as a string rather than an object so names like "__proto__" stay
  // ordinary keys and the on-disk order matches the caller's order.
  const headerParts: string[] = [];

  if (metadata !== undefined) {
    if (!isPlainObject(metadata)) throw invalid('metadata must be an object of strings');
    const entries = Object.entries(metadata);
    for (const [key, value] of entries) {
      if (typeof value !== 'string') {
        throw invalid(`metadata entry ${JSON.stringify(key)} must be a string`);
      }
    }
    if (entries.length > 0) {
      const fields = entries.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`);
      headerParts.push(`${JSON.stringify(METADATA_KEY)}:{${fields.join(',')}}`);
    }
  }

  const payloads: Uint8Array[] = [];
  const seen = new Set<string>();
  let offset = 0;
  for (const [name, tensor] of tensors) {
    if (typeof name !== 'string' || name.length === 0) {
      throw invalid('tensor names must be non-empty strings');
    }
    const where = `tensor ${JSON.stringify(name)}`;
    if (name === METADATA_KEY) throw invalid(`${where} is reserved for metadata`);
    if (seen.has(name)) throw invalid(`${where} appears more than once`);
    seen.add(name);

    const shape: unknown = tensor?.shape;
    const data: unknown = tensor?.data;
    if (!(data instanceof Float32Array)) throw invalid(`${where}: data must be a Float32Array`);
    if (!Array.isArray(shape) || !shape.every(isNonNegativeSafeInteger)) {
      throw invalid(`${where}: shape must be an array of non-negative integers`);
    }
    const count = elementCount(shape, data.length);
    if (count !== data.length) {
      throw new NeuriteError(
        'SHAPE_MISMATCH',
        `writeSafetensors: ${where} has shape ${describeShape(shape)} ` +
          `but ${data.length} values`,
      );
    }

    const dtype = tensor.dtype ?? 'F32';
    if (dtype !== 'F32' && dtype !== 'I64') throw invalid(`${where}: dtype must be F32 or I64`);
    if (dtype === 'I64' && !data.every((v) => Number.isInteger(v))) throw invalid(`${where}: I64 values must be integers`);
    const payload = dtype === 'I64' ? encodeI64(data) : encodeF32(data);
    const end = offset + payload.byteLength;
    headerParts.push(
      `${JSON.stringify(name)}:{"dtype":"${dtype}","shape":[${shape.join(',')}],"data_offsets":[${offset},${end}]}`,
    );
    payloads.push(payload);
    offset = end;
  }

  const json = new TextEncoder().encode(`{${headerParts.join(',')}}`);
  const headerLength = Math.ceil((8 + json.length) / 8) * 8 - 8;
  if (headerLength > MAX_HEADER_BYTES) {
    // Refuse to write what readSafetensors would refuse to read.
    throw new NeuriteError(
      'TOO_LARGE',
      `writeSafetensors: header of ${headerLength} bytes exceeds the limit of ${MAX_HEADER_BYTES}`,
    );
  }

  const out = new Uint8Array(8 + headerLength + offset);
  new DataView(out.buffer).setUint32(0, headerLength, true); // high word stays 0
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLength);
  let cursor = 8 + headerLength;
  for (const payload of payloads) {
    out.set(payload, cursor);
    cursor += payload.length;
  }
  return out;
}
