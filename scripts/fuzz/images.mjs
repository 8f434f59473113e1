// Images for the fuzzer: small valid PNGs (every colour type and bit depth, plain and
// interlaced) and PGMs (P5, P2) as seeds, and structure-aware mutations: IHDR fields with the
// CRC fixed up (so the mutation reaches the decoder, not just the checksum), chunk lengths,
// order and presence, scanline filter bytes, zlib streams (truncated, garbage, bombs), PGM
// header tokens, and plain byte flips.
import { deflateSync } from 'node:zlib';
import { interestingNumber } from './random.mjs';

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes) {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** A chunk: length, type, data, CRC (correct unless `crc` is given). */
function chunk(type, data, crc) {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  out.set(new TextEncoder().encode(type), 4);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc ?? crc32(out.subarray(4, 8 + data.length)));
  return out;
}

function concat(parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

const SIGNATURE = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const CHANNELS = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

/** PNG as a list of { type, data } chunks (IHDR first), so mutations can work per chunk. */
function pngChunks(width, height, colorType, bitDepth, interlace, r) {
  const ihdr = new Uint8Array(13);
  const v = new DataView(ihdr.buffer);
  v.setUint32(0, width);
  v.setUint32(4, height);
  ihdr.set([bitDepth, colorType, 0, 0, interlace], 8);
  // raw scanlines of random pixels, random filter types; interlaced images reuse the same
  // byte count, which is wrong for Adam7 and so itself a useful malformation to start from
  const rowBytes = Math.ceil((width * CHANNELS[colorType] * bitDepth) / 8);
  const raw = new Uint8Array((rowBytes + 1) * height);
  for (let y = 0; y < height; y++) {
    raw[y * (rowBytes + 1)] = r.int(5);
    for (let i = 1; i <= rowBytes; i++) raw[y * (rowBytes + 1) + i] = r.int(256);
  }
  const chunks = [{ type: 'IHDR', data: ihdr }];
  if (colorType === 3) chunks.push({ type: 'PLTE', data: Uint8Array.from({ length: 3 * (1 << Math.min(bitDepth, 8)) }, () => r.int(256)) });
  chunks.push({ type: 'IDAT', data: deflateSync(raw) }, { type: 'IEND', data: new Uint8Array(0) });
  return chunks;
}

function pngBytes(chunks) {
  return concat([SIGNATURE, ...chunks.map((c) => chunk(c.type, c.data, c.crc))]);
}

const DEPTHS = { 0: [1, 2, 4, 8, 16], 2: [8, 16], 3: [1, 2, 4, 8], 4: [8, 16], 6: [8, 16] };

// deflate of many zero bytes: a few KB that inflate to megabytes; computed once per size
const bombs = new Map();
function bomb(size) {
  if (!bombs.has(size)) bombs.set(size, deflateSync(new Uint8Array(size), { level: 9 }));
  return bombs.get(size);
}

/** the IHDR chunk, if an earlier mutation left one of the right size */
const headerChunk = (chunks) => chunks.find((c) => c.type === 'IHDR' && c.data.length === 13);

const PNG_MUTATIONS = {
  ihdr(chunks, r) {
    const ihdr = headerChunk(chunks);
    if (!ihdr) return;
    const d = ihdr.data = ihdr.data.slice();
    const v = new DataView(d.buffer);
    const field = r.int(7);
    const dims = [0, 1, 2, 28, 4096, 4097, 16384, 65535, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1];
    if (field === 0) v.setUint32(0, r.pick(dims));
    else if (field === 1) v.setUint32(4, r.pick(dims));
    else d[6 + field] = r.pick([0, 1, 2, 3, 4, 5, 6, 7, 8, 16, 255]);
  },
  /** a consistent image of a size near the pixel cap, deflated as a bomb */
  bigImage(chunks, r) {
    const w = r.pick([4096, 4097, 2048, 8192, 1]);
    const h = r.pick([4096, 4097, 2048, 8192, 1, 65535]);
    const ihdr = headerChunk(chunks);
    if (!ihdr) return;
    const d = ihdr.data = ihdr.data.slice();
    new DataView(d.buffer).setUint32(0, w);
    new DataView(d.buffer).setUint32(4, h);
    d.set([8, 0, 0, 0, 0], 8);
    const idat = chunks.find((c) => c.type === 'IDAT');
    if (idat) idat.data = bomb(Math.min((w + 1) * h, 64 << 20) + r.pick([0, 0, 1, -1]));
  },
  zlib(chunks, r) {
    const idat = chunks.find((c) => c.type === 'IDAT');
    if (!idat) return;
    idat.data = r.pick([
      () => idat.data.slice(0, r.int(idat.data.length)),
      () => Uint8Array.from({ length: r.range(0, 64) }, () => r.int(256)),
      () => bomb(r.pick([1 << 20, 70 << 20])),
      () => { const x = idat.data.slice(); x[r.int(x.length)] ^= 0xff; return x; },
    ])();
  },
  /** split IDAT in two, drop, duplicate or reorder chunks, add an unknown critical one */
  chunks(chunks, r) {
    const i = r.int(chunks.length);
    r.pick([
      () => chunks.splice(i, 1),
      () => chunks.splice(i, 0, { ...chunks[i] }),
      () => chunks.reverse(),
      () => chunks.splice(1, 0, { type: r.pick(['ABCD', 'abcd', 'tEXt', 'IDAT', 'PLTE']), data: new Uint8Array(r.range(0, 20)) }),
      () => {
        const k = chunks.findIndex((c) => c.type === 'IDAT');
        if (k >= 0) { const d = chunks[k].data; const m = r.int(d.length); chunks.splice(k, 1, { type: 'IDAT', data: d.slice(0, m) }, { type: 'IDAT', data: d.slice(m) }); }
      },
    ])();
  },
  crc(chunks, r) { r.pick(chunks).crc = r.int(2 ** 32); },
};

function mutateBytes(bytes, r) {
  const b = bytes.slice();
  r.pick([
    () => { for (let i = r.range(1, 8); i > 0; i--) b[r.int(b.length)] ^= 1 << r.int(8); },
    // a chunk length field, at the first chunk (offset 8) or anywhere
    () => new DataView(b.buffer).setUint32(r.chance(0.5) ? 8 : r.int(Math.max(1, b.length - 4)), r.pick([0, 13, 2 ** 31 - 1, 2 ** 32 - 1, interestingNumber(r) >>> 0])),
  ])();
  return r.chance(0.2) ? b.slice(0, r.int(b.length)) : b;
}

function pgm(width, height, maxval, ascii, r) {
  const n = width * height;
  const values = Array.from({ length: n }, () => r.int(maxval + 1));
  const head = `${ascii ? 'P2' : 'P5'}\n# neurite fuzz\n${width} ${height}\n${maxval}\n`;
  if (ascii) return new TextEncoder().encode(head + values.join(' ') + '\n');
  const wide = maxval > 255;
  const body = new Uint8Array(n * (wide ? 2 : 1));
  values.forEach((x, i) => { if (wide) { body[2 * i] = x >> 8; body[2 * i + 1] = x & 255; } else body[i] = x; });
  return concat([new TextEncoder().encode(head), body]);
}

function mutatePgm(bytes, r) {
  const text = new TextDecoder('latin1').decode(bytes);
  const tokens = [...text.matchAll(/\d+/g)].slice(0, 4);
  if (tokens.length && r.chance(0.7)) {
    const t = r.pick(tokens);
    const v = String(r.pick([0, 1, 255, 256, 65535, 65536, 4096, 4097, 100000, 2 ** 31, 2 ** 53, interestingNumber(r)]));
    const out = text.slice(0, t.index) + v + text.slice(t.index + t[0].length);
    return Uint8Array.from(out, (c) => c.charCodeAt(0) & 255);
  }
  return mutateBytes(bytes, r);
}

/** One image case: { bytes, what }. */
export function mutateImage(r) {
  if (r.chance(0.3)) {
    const ascii = r.chance(0.5);
    const bytes = pgm(r.range(1, 30), r.range(1, 30), r.pick([1, 15, 255, 256, 65535]), ascii, r);
    return r.chance(0.9) ? { bytes: mutatePgm(bytes, r), what: `pgm.${ascii ? 'P2' : 'P5'}.mutated` } : { bytes, what: 'pgm.valid' };
  }
  const colorType = r.pick([0, 2, 3, 4, 6]);
  const chunks = pngChunks(r.range(1, 40), r.range(1, 40), colorType, r.pick(DEPTHS[colorType]), r.chance(0.2) ? 1 : 0, r);
  const what = [`png.c${colorType}`];
  for (let i = r.range(0, 2); i > 0; i--) {
    const name = r.pick(Object.keys(PNG_MUTATIONS));
    try {
      PNG_MUTATIONS[name](chunks, r);
      what.push(name);
    } catch {
      // not applicable to what an earlier mutation left: skipped
    }
  }
  let bytes = pngBytes(chunks);
  if (r.chance(0.2)) { bytes = mutateBytes(bytes, r); what.push('bytes'); }
  return { bytes, what: what.join('+') };
}
