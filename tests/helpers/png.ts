// A minimal 8-bit PNG writer (gray, or gray + alpha), for tests that need real image files.
import { deflateSync } from 'node:zlib';

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  out.set(new TextEncoder().encode(type), 4);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/** An 8-bit PNG, no interlace, filter none: gray (channels 1) or gray + alpha (channels 2), samples interleaved row-major. */
export function encodePng(width: number, height: number, channels: 1 | 2, samples: ArrayLike<number>): Uint8Array {
  const ihdr = new Uint8Array(13);
  const v = new DataView(ihdr.buffer);
  v.setUint32(0, width);
  v.setUint32(4, height);
  ihdr.set([8, channels === 1 ? 0 : 4, 0, 0, 0], 8);
  const stride = width * channels;
  const raw = new Uint8Array(height * (stride + 1)); // each row starts with filter byte 0 (none)
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < stride; x++) raw[y * (stride + 1) + 1 + x] = samples[y * stride + x];
  }
  const parts = [new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)), chunk('IEND', new Uint8Array(0))];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

/** pixels: width × height gray levels 0..255, row-major. */
export function encodeGrayPng(width: number, height: number, pixels: ArrayLike<number>): Uint8Array {
  return encodePng(width, height, 1, pixels);
}
