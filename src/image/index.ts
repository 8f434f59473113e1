// Image input: decode PNG/PGM to luminance and turn a digit into MNIST form.

import { NeuriteError } from '../errors';
import { decodePgm } from './pgm';
import { decodePng, inflateWithStreams, type DecodeOptions, type GrayImage, type Inflate } from './png';

export {
  decodePng,
  inflateWithStreams,
  DEFAULT_MAX_PIXELS,
  DEFAULT_MAX_INFLATED_BYTES,
  type GrayImage,
  type DecodeOptions,
  type Inflate,
} from './png';
export { decodePgm } from './pgm';
export { toMnist, findDigit, resizeArea, centerOfMass, type MnistOptions, type DigitResult } from './preprocess';
export { WORK, MIN_CONTRAST, type NoDigitReason } from './ink';

function startsWith(bytes: Uint8Array, prefix: number[] | string, at = 0): boolean {
  const p = typeof prefix === 'string' ? Array.from(prefix, (c) => c.charCodeAt(0)) : prefix;
  return bytes.length >= at + p.length && p.every((b, i) => bytes[at + i] === b);
}

/** Names formats we recognise but do not decode, so the error says what the file is. */
function sniffOther(bytes: Uint8Array): string {
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return 'JPEG';
  if (startsWith(bytes, 'GIF87a') || startsWith(bytes, 'GIF89a')) return 'GIF';
  if (startsWith(bytes, 'BM')) return 'BMP';
  if (startsWith(bytes, 'RIFF') && startsWith(bytes, 'WEBP', 8)) return 'WebP';
  if (startsWith(bytes, [0x49, 0x49, 0x2a, 0x00]) || startsWith(bytes, [0x4d, 0x4d, 0x00, 0x2a])) return 'TIFF';
  if (startsWith(bytes, 'ftyp', 4)) return 'HEIF/AVIF (ISO media)';
  if (startsWith(bytes, [0x00, 0x00, 0x01, 0x00])) return 'ICO';
  if (startsWith(bytes, 'qoif')) return 'QOI';
  return 'an unknown format';
}

/**
 * Decodes a PNG or a PGM (P2/P5), recognised by their magic bytes. PNG data is
 * inflated with `inflate`, by default the DecompressionStream-based
 * inflateWithStreams. Anything else throws UNSUPPORTED naming what it looks like.
 */
export async function decodeImage(
  bytes: Uint8Array,
  inflate: Inflate = inflateWithStreams,
  opts?: DecodeOptions,
): Promise<GrayImage> {
  if (!(bytes instanceof Uint8Array)) throw new NeuriteError('INVALID_ARGUMENT', 'image bytes must be a Uint8Array');
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47])) return decodePng(bytes, inflate, opts);
  // Every Netpbm variant goes to decodePgm, which names the ones it does not read.
  if (bytes.length >= 2 && bytes[0] === 0x50 /* P */ && bytes[1] >= 0x31 && bytes[1] <= 0x37) return decodePgm(bytes, opts);
  throw new NeuriteError('UNSUPPORTED', `image looks like ${sniffOther(bytes)}; only PNG and PGM (P2/P5) are supported`);
}
