// Netpbm PGM decoder: P2 (ASCII) and P5 (binary), 0 = black, maxval = white.
//
// Header: magic, width, height, maxval as decimal tokens separated by
// whitespace, with '#' comments running to end of line. In P5 exactly one
// whitespace byte follows maxval, then the raster: one byte per sample when
// maxval < 256, else two bytes big-endian. Only the first image of a
// multi-image file is read; trailing bytes are ignored (the format allows them).

import { NeuriteError } from '../errors';
import { checkPixelCount, resolveMaxPixels, type DecodeOptions, type GrayImage } from './png';

const OTHER_NETPBM: Record<string, string> = {
  P1: 'PBM (ASCII bitmap)',
  P3: 'PPM (ASCII colour)',
  P4: 'PBM (binary bitmap)',
  P6: 'PPM (binary colour)',
  P7: 'PAM',
};

function malformed(message: string): NeuriteError {
  return new NeuriteError('MALFORMED_FILE', `pgm: ${message}`);
}

function isSpace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d); // space, \t \n \v \f \r
}

/** Reads decimal tokens, skipping whitespace and comments before each one. */
class Tokens {
  pos: number;
  constructor(private readonly bytes: Uint8Array, pos: number) {
    this.pos = pos;
  }

  next(what: string): number {
    const b = this.bytes;
    for (;;) {
      if (this.pos >= b.length) throw malformed(`truncated: file ends before ${what}`);
      const c = b[this.pos];
      if (isSpace(c)) this.pos++;
      else if (c === 0x23 /* # */) while (this.pos < b.length && b[this.pos] !== 0x0a && b[this.pos] !== 0x0d) this.pos++;
      else break;
    }
    let value = 0;
    const start = this.pos;
    while (this.pos < b.length && b[this.pos] >= 0x30 && b[this.pos] <= 0x39) {
      // Past 2^32 the exact value no longer matters: every check below rejects it.
      if (value < 2 ** 32) value = value * 10 + (b[this.pos] - 0x30);
      this.pos++;
    }
    if (this.pos === start) throw malformed(`expected a number for ${what} at byte ${start}`);
    return value;
  }
}

export function decodePgm(bytes: Uint8Array, opts?: DecodeOptions): GrayImage {
  if (!(bytes instanceof Uint8Array)) throw new NeuriteError('INVALID_ARGUMENT', 'pgm: bytes must be a Uint8Array');
  const maxPixels = resolveMaxPixels(opts?.maxPixels);
  const magic = bytes.length >= 2 ? String.fromCharCode(bytes[0], bytes[1]) : '';
  if (magic in OTHER_NETPBM) throw new NeuriteError('UNSUPPORTED', `pgm: ${OTHER_NETPBM[magic]} files are not supported; convert to PGM or PNG`);
  if (magic !== 'P2' && magic !== 'P5') throw malformed('bad magic (expected P2 or P5)');
  // The magic must be its own token: "P55 ..." is not a PGM.
  if (bytes.length > 2 && !isSpace(bytes[2]) && bytes[2] !== 0x23) throw malformed('bad magic (expected P2 or P5)');

  const tokens = new Tokens(bytes, 2);
  const width = tokens.next('width');
  const height = tokens.next('height');
  if (width === 0 || height === 0) throw malformed(`image has a zero dimension (${width}x${height})`);
  checkPixelCount('pgm', width, height, maxPixels);
  const maxval = tokens.next('maxval');
  if (maxval < 1 || maxval > 65535) throw malformed(`maxval must be in 1..65535, got ${maxval}`);

  const count = width * height;
  const data = new Float32Array(count);
  if (magic === 'P2') {
    for (let i = 0; i < count; i++) {
      const v = tokens.next(`pixel ${i} of ${count}`);
      if (v > maxval) throw malformed(`pixel ${i} is ${v}, above maxval ${maxval}`);
      data[i] = v / maxval;
    }
    return { width, height, data };
  }

  // One whitespace byte ends the header; a comment glued to maxval ends at its newline.
  let end = tokens.pos;
  if (bytes[end] === 0x23) while (end < bytes.length && bytes[end] !== 0x0a && bytes[end] !== 0x0d) end++;
  if (end >= bytes.length || !isSpace(bytes[end])) throw malformed('truncated: no whitespace after maxval');
  const start = end + 1;
  const wide = maxval > 255;
  const need = count * (wide ? 2 : 1);
  if (bytes.length - start < need) {
    throw malformed(`truncated: raster needs ${need} bytes, file has ${bytes.length - start}`);
  }
  for (let i = 0; i < count; i++) {
    const v = wide ? (bytes[start + 2 * i] << 8) | bytes[start + 2 * i + 1] : bytes[start + i];
    if (v > maxval) throw malformed(`pixel ${i} is ${v}, above maxval ${maxval}`);
    data[i] = v / maxval;
  }
  return { width, height, data };
}
