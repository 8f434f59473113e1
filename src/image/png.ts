// PNG decoder that produces a grayscale luminance image.
//
// Images come from users (uploads, drag-and-drop), so every byte is treated
// as hostile: each failure is a NeuriteError, sizes are checked before anything
// is allocated, and decompression is bounded. Only Uint8Array/DataView/
// Float32Array and web streams are used, so the file runs unchanged in Node,
// Deno, browsers and Workers. zlib itself is supplied by the caller (Node has
// zlib.inflateSync; the web platform has DecompressionStream, wrapped below).

import { NeuriteError } from '../errors';

/** Row-major luminance in [0, 1]; 0 is black, 1 is white. */
export interface GrayImage {
  width: number;
  height: number;
  /** luminance, transparent pixels composited over white */
  data: Float32Array;
  /**
   * Opacity in [0, 1], present only when the file has transparency (an alpha channel or tRNS).
   * White ink on a transparent background is white on white in `data`; the ink finder reads
   * it from here instead.
   */
  alpha?: Float32Array;
}

export interface DecodeOptions {
  /** Largest width*height accepted (default 4096*4096). */
  maxPixels?: number;
}

/** Inflates a zlib (RFC 1950) stream. */
export type Inflate = (zlibData: Uint8Array) => Uint8Array | Promise<Uint8Array>;

export const DEFAULT_MAX_PIXELS = 4096 * 4096;
export const DEFAULT_MAX_INFLATED_BYTES = 64 * 1024 * 1024;
// A Float32Array this big is already 1 GiB; beyond it engines throw RangeError.
const HARD_MAX_PIXELS = 2 ** 28;
const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const MAX_CHUNK_LENGTH = 0x7fffffff; // the spec's limit on a chunk length

function malformed(message: string): NeuriteError {
  return new NeuriteError('MALFORMED_FILE', `png: ${message}`);
}

/** Validates the maxPixels option; shared with the PGM decoder. */
export function resolveMaxPixels(maxPixels: number | undefined): number {
  if (maxPixels === undefined) return DEFAULT_MAX_PIXELS;
  if (typeof maxPixels !== 'number' || !(maxPixels >= 1)) {
    throw new NeuriteError('INVALID_ARGUMENT', `maxPixels must be a number >= 1, got ${String(maxPixels)}`);
  }
  return Math.min(Math.floor(maxPixels), HARD_MAX_PIXELS);
}

/** Throws TOO_LARGE unless width*height fits; call before allocating. */
export function checkPixelCount(format: string, width: number, height: number, maxPixels: number): void {
  if (width * height > maxPixels) {
    throw new NeuriteError(
      'TOO_LARGE',
      `${format}: ${width}x${height} image has ${width * height} pixels, more than the limit of ${maxPixels}`,
    );
  }
}

// --- CRC-32 (ISO 3309, as used by PNG) ----------------------------------------

let crcTable: Uint32Array | undefined;

function crc32(bytes: Uint8Array, start: number, end: number): number {
  if (crcTable === undefined) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = start; i < end; i++) c = crcTable[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

// --- inflate on web streams ---------------------------------------------------

/**
 * Inflates zlib data with the standard DecompressionStream('deflate').
 * Reads the output incrementally and gives up with TOO_LARGE as soon as it
 * exceeds maxBytes, so a few KB of "deflate bomb" cannot allocate gigabytes.
 * Corrupt or truncated input rejects with MALFORMED_FILE.
 */
export async function inflateWithStreams(
  data: Uint8Array,
  maxBytes: number = DEFAULT_MAX_INFLATED_BYTES,
): Promise<Uint8Array> {
  if (!(data instanceof Uint8Array)) throw new NeuriteError('INVALID_ARGUMENT', 'inflate: data must be a Uint8Array');
  if (typeof maxBytes !== 'number' || !(maxBytes >= 0)) {
    throw new NeuriteError('INVALID_ARGUMENT', `inflate: maxBytes must be a number >= 0, got ${String(maxBytes)}`);
  }
  if (typeof DecompressionStream !== 'function') {
    throw new NeuriteError('UNSUPPORTED', 'DecompressionStream is not available here; pass your own inflate function');
  }
  const stream = new DecompressionStream('deflate');
  const writer = stream.writable.getWriter();
  const reader = stream.readable.getReader();
  // Web streams reject views on SharedArrayBuffer; copy only in that rare case.
  const input = data.buffer instanceof ArrayBuffer ? (data as Uint8Array<ArrayBuffer>) : data.slice();
  // Not awaited: the write only completes as output is read (backpressure),
  // so awaiting it first would deadlock. Its errors also surface via the reader.
  writer.write(input).then(() => writer.close()).catch(() => {});

  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > maxBytes) {
        reader.cancel().catch(() => {});
        throw new NeuriteError('TOO_LARGE', `inflated data exceeds the limit of ${maxBytes} bytes`);
      }
      chunks.push(value);
    }
  } catch (err) {
    if (err instanceof NeuriteError) throw err;
    throw new NeuriteError('MALFORMED_FILE', `zlib data is corrupt: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

// --- header -------------------------------------------------------------------

interface Header {
  width: number;
  height: number;
  bitDepth: number;
  colorType: number;
  channels: number;
  interlaced: boolean;
}

// Allowed bit depths per colour type (PNG spec table 11.1) and samples per pixel.
const COLOR_TYPES: Record<number, { depths: number[]; channels: number; name: string }> = {
  0: { depths: [1, 2, 4, 8, 16], channels: 1, name: 'grayscale' },
  2: { depths: [8, 16], channels: 3, name: 'RGB' },
  3: { depths: [1, 2, 4, 8], channels: 1, name: 'palette' },
  4: { depths: [8, 16], channels: 2, name: 'gray+alpha' },
  6: { depths: [8, 16], channels: 4, name: 'RGBA' },
};

function parseIhdr(data: Uint8Array, maxPixels: number): Header {
  if (data.length !== 13) throw malformed(`IHDR chunk must be 13 bytes, got ${data.length}`);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const width = view.getUint32(0);
  const height = view.getUint32(4);
  const [bitDepth, colorType, compression, filterMethod, interlace] = data.subarray(8);
  if (width === 0 || height === 0) throw malformed(`image has a zero dimension (${width}x${height})`);
  if (width > MAX_CHUNK_LENGTH || height > MAX_CHUNK_LENGTH) throw malformed(`dimension over 2^31-1 (${width}x${height})`);
  checkPixelCount('png', width, height, maxPixels);
  const kind = COLOR_TYPES[colorType];
  if (kind === undefined) throw malformed(`invalid colour type ${colorType}`);
  if (!kind.depths.includes(bitDepth)) throw malformed(`bit depth ${bitDepth} is invalid for ${kind.name} images`);
  if (compression !== 0) throw malformed(`unknown compression method ${compression}`);
  if (filterMethod !== 0) throw malformed(`unknown filter method ${filterMethod}`);
  if (interlace > 1) throw malformed(`unknown interlace method ${interlace}`);
  return { width, height, bitDepth, colorType, channels: kind.channels, interlaced: interlace === 1 };
}

// --- scanlines ----------------------------------------------------------------

interface Pass {
  x0: number; y0: number; dx: number; dy: number; // where the pass's pixels sit in the image
  width: number; height: number; rowBytes: number;
}

// Adam7: [x0, y0, dx, dy] for each of the seven passes.
const ADAM7 = [[0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [0, 1, 1, 2]];

function passesOf(h: Header): Pass[] {
  const bitsPerPixel = h.channels * h.bitDepth;
  const layout = h.interlaced ? ADAM7 : [[0, 0, 1, 1]];
  const passes: Pass[] = [];
  for (const [x0, y0, dx, dy] of layout) {
    const width = Math.max(0, Math.ceil((h.width - x0) / dx));
    const height = Math.max(0, Math.ceil((h.height - y0) / dy));
    // An empty pass contributes no bytes at all, not even filter bytes.
    if (width === 0 || height === 0) continue;
    passes.push({ x0, y0, dx, dy, width, height, rowBytes: Math.ceil((width * bitsPerPixel) / 8) });
  }
  return passes;
}

/** Undoes the per-row filters of one pass in place (rows are [filter byte, rowBytes bytes]). */
function unfilter(raw: Uint8Array, start: number, pass: Pass, bpp: number): void {
  const { rowBytes, height } = pass;
  const stride = rowBytes + 1;
  for (let r = 0; r < height; r++) {
    const filter = raw[start + r * stride];
    const cur = start + r * stride + 1;
    const prev = cur - stride; // only read when r > 0: the row before a pass's first row is all zeros
    switch (filter) {
      case 0:
        break;
      case 1: // Sub
        for (let i = bpp; i < rowBytes; i++) raw[cur + i] += raw[cur + i - bpp];
        break;
      case 2: // Up
        if (r > 0) for (let i = 0; i < rowBytes; i++) raw[cur + i] += raw[prev + i];
        break;
      case 3: // Average
        for (let i = 0; i < rowBytes; i++) {
          const left = i >= bpp ? raw[cur + i - bpp] : 0;
          const up = r > 0 ? raw[prev + i] : 0;
          raw[cur + i] += (left + up) >> 1;
        }
        break;
      case 4: // Paeth
        for (let i = 0; i < rowBytes; i++) {
          const a = i >= bpp ? raw[cur + i - bpp] : 0;
          const b = r > 0 ? raw[prev + i] : 0;
          const c = i >= bpp && r > 0 ? raw[prev + i - bpp] : 0;
          const p = a + b - c;
          const pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
          raw[cur + i] += pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
        }
        break;
      default:
        throw malformed(`unknown filter type ${filter} on row ${r}`);
    }
  }
}

/** Reads sample `index` of a row; samples narrower than a byte are packed MSB first. */
function sample(raw: Uint8Array, row: number, index: number, depth: number): number {
  if (depth === 8) return raw[row + index];
  if (depth === 16) return (raw[row + 2 * index] << 8) | raw[row + 2 * index + 1];
  const bit = index * depth;
  return (raw[row + (bit >> 3)] >> (8 - depth - (bit & 7))) & ((1 << depth) - 1);
}

// Transparent pixels are composited over white: a transparent background is
// paper, which keeps dark-ink-on-transparent drawings readable as ink.
function overWhite(luma: number, alpha: number): number {
  return luma * alpha + (1 - alpha);
}

function luma(r: number, g: number, b: number, max: number): number {
  return (0.299 * r + 0.587 * g + 0.114 * b) / max;
}

type PixelReader = (raw: Uint8Array, row: number, x: number) => number;

function pixelReader(h: Header, palette: Uint8Array | undefined, trns: Uint8Array | undefined): PixelReader {
  const d = h.bitDepth;
  const max = 2 ** d - 1;
  const key = (i: number) => (trns![2 * i] << 8) | trns![2 * i + 1]; // tRNS colour keys are 16-bit
  switch (h.colorType) {
    case 0: {
      const k = trns ? key(0) : -1;
      return (raw, row, x) => {
        const g = sample(raw, row, x, d);
        return g === k ? 1 : g / max;
      };
    }
    case 2: {
      const [kr, kg, kb] = trns ? [key(0), key(1), key(2)] : [-1, -1, -1];
      return (raw, row, x) => {
        const r = sample(raw, row, 3 * x, d), g = sample(raw, row, 3 * x + 1, d), b = sample(raw, row, 3 * x + 2, d);
        return r === kr && g === kg && b === kb ? 1 : luma(r, g, b, max);
      };
    }
    case 3: {
      const entries = palette!.length / 3;
      const table = new Float32Array(entries);
      for (let i = 0; i < entries; i++) {
        const alpha = trns !== undefined && i < trns.length ? trns[i] / 255 : 1;
        table[i] = overWhite(luma(palette![3 * i], palette![3 * i + 1], palette![3 * i + 2], 255), alpha);
      }
      return (raw, row, x) => {
        const index = sample(raw, row, x, d);
        if (index >= entries) throw malformed(`palette index ${index} is out of range (palette has ${entries} entries)`);
        return table[index];
      };
    }
    case 4:
      return (raw, row, x) => overWhite(sample(raw, row, 2 * x, d) / max, sample(raw, row, 2 * x + 1, d) / max);
    default: // 6
      return (raw, row, x) => {
        const r = sample(raw, row, 4 * x, d), g = sample(raw, row, 4 * x + 1, d), b = sample(raw, row, 4 * x + 2, d);
        return overWhite(luma(r, g, b, max), sample(raw, row, 4 * x + 3, d) / max);
      };
  }
}

/** Opacity of a pixel, or undefined when the image has no transparency at all. */
function alphaReader(h: Header, palette: Uint8Array | undefined, trns: Uint8Array | undefined): PixelReader | undefined {
  const d = h.bitDepth;
  const max = 2 ** d - 1;
  const key = (i: number) => (trns![2 * i] << 8) | trns![2 * i + 1];
  switch (h.colorType) {
    case 0: {
      if (!trns) return undefined;
      const k = key(0);
      return (raw, row, x) => (sample(raw, row, x, d) === k ? 0 : 1);
    }
    case 2: {
      if (!trns) return undefined;
      const [kr, kg, kb] = [key(0), key(1), key(2)];
      return (raw, row, x) =>
        (sample(raw, row, 3 * x, d) === kr && sample(raw, row, 3 * x + 1, d) === kg && sample(raw, row, 3 * x + 2, d) === kb ? 0 : 1);
    }
    case 3: {
      if (!trns) return undefined;
      const t = trns;
      return (raw, row, x) => {
        const index = sample(raw, row, x, d);
        return index < t.length ? t[index] / 255 : 1;
      };
    }
    case 4:
      return (raw, row, x) => sample(raw, row, 2 * x + 1, d) / max;
    default: // 6
      return (raw, row, x) => sample(raw, row, 4 * x + 3, d) / max;
  }
}

// tRNS is ancillary: like libpng, a malformed one is ignored rather than fatal.
function validTrns(h: Header, trns: Uint8Array, palette: Uint8Array | undefined): boolean {
  if (h.colorType === 0) return trns.length === 2;
  if (h.colorType === 2) return trns.length === 6;
  if (h.colorType === 3) return palette !== undefined && trns.length <= palette.length / 3;
  return false; // types 4 and 6 already carry alpha
}

// --- decoder ------------------------------------------------------------------

async function runInflate(inflate: Inflate, data: Uint8Array, expected: number): Promise<Uint8Array> {
  let out: unknown;
  try {
    // Our own inflater can be told the exact size, so a bomb stops right after it.
    out = inflate === inflateWithStreams ? await inflateWithStreams(data, expected) : await inflate(data);
  } catch (err) {
    if (err instanceof NeuriteError && err.code === 'TOO_LARGE' && inflate === inflateWithStreams) {
      throw malformed(`image data inflates to more than the ${expected} bytes its header implies`);
    }
    if (err instanceof NeuriteError) throw err;
    throw malformed(`image data could not be inflated: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (!(out instanceof Uint8Array)) throw new NeuriteError('INVALID_ARGUMENT', 'inflate must return a Uint8Array');
  return out;
}

/**
 * Decodes a PNG into luminance (0.299R + 0.587G + 0.114B, alpha composited
 * over white), plus the opacity itself in `alpha` when the file has any. `inflate` must inflate a zlib stream: zlib.inflateSync in
 * Node, or inflateWithStreams (which this decoder then bounds to the exact
 * size the header implies). A caller-supplied inflate is responsible for
 * bounding its own output, e.g. inflateSync(d, { maxOutputLength }).
 */
export async function decodePng(bytes: Uint8Array, inflate: Inflate, opts?: DecodeOptions): Promise<GrayImage> {
  if (!(bytes instanceof Uint8Array)) throw new NeuriteError('INVALID_ARGUMENT', 'png: bytes must be a Uint8Array');
  if (typeof inflate !== 'function') throw new NeuriteError('INVALID_ARGUMENT', 'png: inflate must be a function');
  const maxPixels = resolveMaxPixels(opts?.maxPixels);
  if (bytes.length < 8 || PNG_SIGNATURE.some((b, i) => bytes[i] !== b)) throw malformed('bad signature (not a PNG file)');

  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let header: Header | undefined;
  let palette: Uint8Array | undefined;
  let trns: Uint8Array | undefined;
  const idat: Uint8Array[] = [];
  let idatEnded = false;
  let pos = 8;
  for (;;) {
    if (bytes.length - pos < 12) throw malformed(pos === bytes.length ? 'file ends before IEND' : 'truncated chunk');
    const length = view.getUint32(pos);
    const type = String.fromCharCode(...bytes.subarray(pos + 4, pos + 8));
    if (!/^[A-Za-z]{4}$/.test(type)) throw malformed(`invalid chunk type at byte ${pos + 4}`);
    if (length > MAX_CHUNK_LENGTH || length > bytes.length - pos - 12) throw malformed(`${type} chunk is truncated`);
    const end = pos + 8 + length;
    if (crc32(bytes, pos + 4, end) !== view.getUint32(end)) throw malformed(`CRC mismatch in ${type} chunk`);
    const data = bytes.subarray(pos + 8, end);
    pos = end + 4;

    if (header === undefined && type !== 'IHDR') throw malformed(`first chunk must be IHDR, got ${type}`);
    if (idat.length > 0 && type !== 'IDAT') idatEnded = true;
    if (type === 'IEND') break;
    switch (type) {
      case 'IHDR':
        if (header !== undefined) throw malformed('more than one IHDR chunk');
        header = parseIhdr(data, maxPixels);
        break;
      case 'PLTE':
        if (palette !== undefined || idat.length > 0) throw malformed('PLTE chunk is repeated or after IDAT');
        if (header!.colorType === 0 || header!.colorType === 4) throw malformed('PLTE chunk in a grayscale image');
        if (length === 0 || length > 768 || length % 3 !== 0) throw malformed(`PLTE length ${length} is invalid`);
        palette = data;
        break;
      case 'tRNS':
        if (idat.length === 0 && trns === undefined && validTrns(header!, data, palette)) trns = data;
        break;
      case 'IDAT':
        if (idatEnded) throw malformed('IDAT chunks are not consecutive');
        idat.push(data);
        break;
      default:
        // Bit 5 of the first letter clear (upper case) = critical: the image can't be read without it.
        if ((type.charCodeAt(0) & 0x20) === 0) throw new NeuriteError('UNSUPPORTED', `png: unknown critical chunk ${type}`);
    }
  }
  const h = header!;
  if (idat.length === 0) throw malformed('no IDAT chunk');
  if (h.colorType === 3 && palette === undefined) throw malformed('palette image without a PLTE chunk');

  const passes = passesOf(h);
  const expected = passes.reduce((sum, p) => sum + p.height * (p.rowBytes + 1), 0);
  const zlibData = idat.length === 1 ? idat[0] : concat(idat);
  const raw = await runInflate(inflate, zlibData, expected);
  if (raw.length !== expected) {
    throw malformed(`image data inflates to ${raw.length} bytes but the header implies ${expected}`);
  }

  const out = new Float32Array(h.width * h.height);
  const read = pixelReader(h, palette, trns);
  const readAlpha = alphaReader(h, palette, trns);
  const alpha = readAlpha ? new Float32Array(h.width * h.height) : undefined;
  const bpp = Math.ceil((h.channels * h.bitDepth) / 8); // filter distance in bytes, at least 1
  let start = 0;
  for (const p of passes) {
    unfilter(raw, start, p, bpp);
    for (let y = 0; y < p.height; y++) {
      const row = start + y * (p.rowBytes + 1) + 1;
      const outRow = (p.y0 + y * p.dy) * h.width + p.x0;
      for (let x = 0; x < p.width; x++) out[outRow + x * p.dx] = read(raw, row, x);
      if (alpha) for (let x = 0; x < p.width; x++) alpha[outRow + x * p.dx] = readAlpha!(raw, row, x);
    }
    start += p.height * (p.rowBytes + 1);
  }
  return alpha ? { width: h.width, height: h.height, data: out, alpha } : { width: h.width, height: h.height, data: out };
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}
