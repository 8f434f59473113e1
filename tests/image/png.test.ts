import { describe, it, expect } from 'vitest';
import { deflateSync, inflateSync } from 'node:zlib';
import { NeuriteError, type NeuriteErrorCode } from '../../src/errors';
import { decodePng, inflateWithStreams, type GrayImage } from '../../src/image/png';
import { decodeImage } from '../../src/image/index';
import { mulberry32 as prng } from '../helpers/reference';

// --- helpers -----------------------------------------------------------------


/** Bitwise CRC-32, written independently of the decoder's table version. */
function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

function u32(n: number): number[] {
  return [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
}

function chunk(type: string, data: Uint8Array | number[] = []): Uint8Array {
  const body = new Uint8Array([...Array.from(type, (c) => c.charCodeAt(0)), ...data]);
  return new Uint8Array([...u32(body.length - 4), ...body, ...u32(crc32(body))]);
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

const SIGNATURE = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
const ADAM7 = [[0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [0, 1, 1, 2]];

interface TestImage {
  width: number;
  height: number;
  colorType: number;
  bitDepth: number;
  samples: number[]; // raw samples, row-major, `channels` per pixel
  palette?: number[]; // r,g,b triples
  trns?: number[]; // tRNS chunk bytes exactly as written
}

interface EncodeOptions {
  interlace?: boolean;
  filter?: (row: number) => number; // filter type for the n-th row written (over all passes)
  idatSize?: number; // split the zlib stream into IDATs of this size
  before?: Uint8Array[]; // chunks between IHDR and IDAT
  after?: Uint8Array[]; // chunks between IDAT and IEND
  trailing?: Uint8Array; // bytes after IEND
  raw?: (raw: Uint8Array) => Uint8Array; // tamper with the filtered scanlines
  zlib?: Uint8Array; // replace the compressed stream entirely
  ihdr?: number[]; // replace IHDR's data
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/** A small PNG encoder: every colour type, bit depth, filter type and Adam7. */
function encodePng(img: TestImage, opts: EncodeOptions = {}): Uint8Array {
  const { width, height, colorType, bitDepth } = img;
  const ch = CHANNELS[colorType];
  const bpp = Math.max(1, (ch * bitDepth) / 8);
  const passes = opts.interlace ? ADAM7 : [[0, 0, 1, 1]];
  const rows: number[] = [];
  let rowCount = 0;
  for (const [x0, y0, dx, dy] of passes) {
    const pw = Math.max(0, Math.ceil((width - x0) / dx));
    const ph = Math.max(0, Math.ceil((height - y0) / dy));
    if (pw === 0 || ph === 0) continue;
    const rowBytes = Math.ceil((pw * ch * bitDepth) / 8);
    let prev = new Uint8Array(rowBytes);
    for (let py = 0; py < ph; py++) {
      const cur = new Uint8Array(rowBytes);
      for (let px = 0; px < pw; px++) {
        const p = (y0 + py * dy) * width + x0 + px * dx;
        for (let c = 0; c < ch; c++) {
          const v = img.samples[p * ch + c];
          const i = px * ch + c;
          if (bitDepth === 16) {
            cur[2 * i] = v >> 8;
            cur[2 * i + 1] = v & 255;
          } else if (bitDepth === 8) cur[i] = v;
          else cur[(i * bitDepth) >> 3] |= v << (8 - bitDepth - ((i * bitDepth) & 7));
        }
      }
      const type = opts.filter ? opts.filter(rowCount++) : 0;
      rows.push(type);
      for (let i = 0; i < rowBytes; i++) {
        const a = i >= bpp ? cur[i - bpp] : 0, b = prev[i], c = i >= bpp ? prev[i - bpp] : 0;
        const pred = [0, a, b, (a + b) >> 1, paeth(a, b, c)][type] ?? 0;
        rows.push((cur[i] - pred) & 255);
      }
      prev = cur;
    }
  }
  let raw: Uint8Array = new Uint8Array(rows);
  if (opts.raw) raw = opts.raw(raw);
  const z = opts.zlib ?? new Uint8Array(deflateSync(raw));
  const idats: Uint8Array[] = [];
  const size = opts.idatSize ?? Math.max(1, z.length);
  for (let o = 0; o < z.length || o === 0; o += size) idats.push(chunk('IDAT', z.subarray(o, o + size)));
  const ihdr = opts.ihdr ?? [...u32(width), ...u32(height), bitDepth, colorType, 0, 0, opts.interlace ? 1 : 0];
  return concat([
    SIGNATURE,
    chunk('IHDR', ihdr),
    ...(img.palette ? [chunk('PLTE', img.palette)] : []),
    ...(img.trns ? [chunk('tRNS', img.trns)] : []),
    ...(opts.before ?? []),
    ...idats,
    ...(opts.after ?? []),
    chunk('IEND'),
    opts.trailing ?? new Uint8Array(0),
  ]);
}

/** The documented conversion, computed in the same order as the decoder. */
function expectedLuma(img: TestImage): Float32Array {
  const { width, height, colorType, bitDepth, samples: s, trns } = img;
  const max = 2 ** bitDepth - 1;
  const ch = CHANNELS[colorType];
  const out = new Float32Array(width * height);
  const key = (i: number) => (trns![2 * i] << 8) | trns![2 * i + 1];
  const luma = (r: number, g: number, b: number, m: number) => (0.299 * r + 0.587 * g + 0.114 * b) / m;
  const over = (v: number, a: number) => v * a + (1 - a);
  for (let p = 0; p < width * height; p++) {
    const v = s.slice(p * ch, p * ch + ch);
    switch (colorType) {
      case 0:
        out[p] = trns && v[0] === key(0) ? 1 : v[0] / max;
        break;
      case 2:
        out[p] = trns && v[0] === key(0) && v[1] === key(1) && v[2] === key(2) ? 1 : luma(v[0], v[1], v[2], max);
        break;
      case 3: {
        const pal = img.palette!;
        const a = trns && v[0] < trns.length ? trns[v[0]] / 255 : 1;
        out[p] = over(luma(pal[3 * v[0]], pal[3 * v[0] + 1], pal[3 * v[0] + 2], 255), a);
        break;
      }
      case 4:
        out[p] = over(v[0] / max, v[1] / max);
        break;
      default:
        out[p] = over(luma(v[0], v[1], v[2], max), v[3] / max);
    }
  }
  return out;
}

/** Random image with extremes forced in, plus optional transparency. */
function randomImage(rand: () => number, width: number, height: number, colorType: number, bitDepth: number, withTrns = false): TestImage {
  const ch = CHANNELS[colorType];
  const max = 2 ** bitDepth - 1;
  const img: TestImage = { width, height, colorType, bitDepth, samples: [] };
  if (colorType === 3) {
    const entries = Math.min(256, 2 ** bitDepth);
    img.palette = Array.from({ length: entries * 3 }, () => Math.floor(rand() * 256));
    img.samples = Array.from({ length: width * height }, () => Math.floor(rand() * entries));
    // Fewer alphas than entries: the rest must stay opaque.
    if (withTrns) img.trns = Array.from({ length: Math.max(1, entries >> 1) }, () => Math.floor(rand() * 256));
    return img;
  }
  img.samples = Array.from({ length: width * height * ch }, () => Math.floor(rand() * (max + 1)));
  img.samples[0] = 0;
  img.samples[img.samples.length - 1] = max;
  if (withTrns && (colorType === 0 || colorType === 2)) {
    // Colour key = pixel 0's colour, repeated at the last pixel too.
    const keyPixel = img.samples.slice(0, ch);
    img.samples.splice((width * height - 1) * ch, ch, ...keyPixel);
    img.trns = keyPixel.flatMap((v) => [v >> 8, v & 255]);
  }
  return img;
}

async function expectError(promise: Promise<unknown>, code: NeuriteErrorCode, message?: RegExp): Promise<NeuriteError> {
  let caught: unknown;
  try {
    await promise;
  } catch (err) {
    caught = err;
  }
  expect(caught, `expected NeuriteError ${code}`).toBeInstanceOf(NeuriteError);
  const err = caught as NeuriteError;
  expect(err.code, err.message).toBe(code);
  if (message) expect(err.message).toMatch(message);
  return err;
}

const sync = (d: Uint8Array) => inflateSync(d);

function gray8(width: number, height: number, fill = (i: number) => i & 255): TestImage {
  return { width, height, colorType: 0, bitDepth: 8, samples: Array.from({ length: width * height }, (_, i) => fill(i)) };
}

// --- round trips ---------------------------------------------------------------

const COMBOS: [colorType: number, depths: number[]][] = [
  [0, [1, 2, 4, 8, 16]],
  [2, [8, 16]],
  [3, [1, 2, 4, 8]],
  [4, [8, 16]],
  [6, [8, 16]],
];

// Fixed filters 0..4, all five cycling per row, and a random choice per row.
const FILTERS: [string, (rand: () => number) => (row: number) => number][] = [
  ...[0, 1, 2, 3, 4].map((f): [string, () => (row: number) => number] => [`filter ${f}`, () => () => f]),
  ['cycling', () => (row) => row % 5],
  ['random', (rand) => () => Math.floor(rand() * 5)],
];

// Odd sizes so packed rows end mid-byte and Adam7 passes are partial or empty.
const SIZES: [number, number][] = [[1, 1], [3, 2], [13, 11], [17, 9]];

describe('decodePng round trips', () => {
  for (const [colorType, depths] of COMBOS) {
    for (const bitDepth of depths) {
      it(`colour type ${colorType}, ${bitDepth}-bit: every filter, plain and Adam7, both inflaters`, async () => {
        const rand = prng(colorType * 100 + bitDepth);
        for (const [width, height] of SIZES) {
          for (const withTrns of [false, true]) {
            if (withTrns && (colorType === 4 || colorType === 6)) continue;
            const img = randomImage(rand, width, height, colorType, bitDepth, withTrns);
            const want = expectedLuma(img);
            for (const interlace of [false, true]) {
              for (const [name, make] of FILTERS) {
                const png = encodePng(img, { interlace, filter: make(rand) });
                const label = `${width}x${height} ${name} interlace=${interlace} trns=${withTrns}`;
                const a = await decodePng(png, sync);
                expect([a.width, a.height], label).toEqual([width, height]);
                expect(a.data, label).toEqual(want);
                const b = await decodePng(png, inflateWithStreams);
                expect(b.data, label).toEqual(a.data);
              }
            }
          }
        }
      });
    }
  }

  it('maps extremes exactly: black 0, white 1, transparent = white paper', async () => {
    const rgba: TestImage = {
      width: 4, height: 1, colorType: 6, bitDepth: 8,
      samples: [0, 0, 0, 255, 255, 255, 255, 255, 0, 0, 0, 0, 0, 0, 0, 128],
    };
    const { data } = await decodePng(encodePng(rgba), sync);
    expect(data[0]).toBe(0);
    expect(data[1]).toBe(1);
    expect(data[2]).toBe(1);
    expect(data[3]).toBeCloseTo(1 - 128 / 255, 6);
    const rgb: TestImage = { width: 2, height: 1, colorType: 2, bitDepth: 8, samples: [255, 0, 0, 0, 0, 255] };
    expect(Array.from((await decodePng(encodePng(rgb), sync)).data)).toEqual([Math.fround(0.299), Math.fround(0.114)]);
  });

  it('decodes a real-world-shaped file: ancillary chunks, split IDATs, private chunk, bytes after IEND', async () => {
    const rand = prng(7);
    const width = 40, height = 30;
    const samples: number[] = [];
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) samples.push((x * 6) & 255, (y * 8) & 255, ((x + y) * 3) & 255, x < 5 ? 0 : 255);
    }
    const img: TestImage = { width, height, colorType: 6, bitDepth: 8, samples };
    const text = (s: string) => Array.from(s, (c) => c.charCodeAt(0));
    const tagged = encodePng(img, {
      interlace: true,
      filter: () => Math.floor(rand() * 5),
      idatSize: 17, // libpng splits at 8 KiB; tiny pieces stress the concatenation
      before: [
        chunk('sRGB', [0]),
        chunk('gAMA', u32(45455)),
        chunk('pHYs', [...u32(2835), ...u32(2835), 1]),
        chunk('bKGD', [0, 10, 0, 20, 0, 30]),
        chunk('tEXt', text('Software\0hand-rolled encoder')),
        chunk('iTXt', text('Comment\0\0\0\0\0a digit')),
        chunk('prVt', [1, 2, 3]), // private ancillary chunk
      ],
      after: [chunk('tIME', [7, 232, 1, 2, 3, 4, 5])],
      trailing: new Uint8Array([0, 1, 2, 3]),
    });
    const plain = encodePng(img);
    const want = expectedLuma(img);
    expect((await decodePng(tagged, sync)).data).toEqual(want);
    expect((await decodePng(tagged, inflateWithStreams)).data).toEqual(want);
    expect((await decodePng(plain, sync)).data).toEqual(want);
    expect((await decodeImage(tagged)).data).toEqual(want);
  });

  it('decodes a widely circulated 1x1 RGBA PNG byte for byte', async () => {
    // Built by another encoder (zlib level 9 header 78 da), copied verbatim.
    const bytes = new Uint8Array(Buffer.from(
      'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
      'base64',
    ));
    const img = await decodePng(bytes, sync);
    expect([img.width, img.height]).toEqual([1, 1]);
    // Expected value from its inflated bytes (filter 0, then R G B A) via the documented formula.
    const px = inflateSync(bytes.subarray(41, 41 + 13));
    const [r, g, b, a] = px.subarray(1);
    const expected = ((0.299 * r + 0.587 * g + 0.114 * b) / 255) * (a / 255) + (1 - a / 255);
    expect(img.data[0]).toBe(Math.fround(expected));
  });
});

// --- hostile input -----------------------------------------------------------------

describe('decodePng rejects bad input with NeuriteError', () => {
  const rand = prng(99);
  const good = encodePng(randomImage(rand, 9, 7, 2, 8), { interlace: true, filter: (r) => r % 5 });

  it('rejects a file truncated at every cut point', async () => {
    for (let cut = 0; cut < good.length; cut++) {
      await expectError(decodePng(good.subarray(0, cut), sync), 'MALFORMED_FILE');
    }
    for (let cut = 0; cut < good.length; cut += 7) {
      await expectError(decodePng(good.subarray(0, cut), inflateWithStreams), 'MALFORMED_FILE');
    }
  });

  it('rejects a bad signature and names it', async () => {
    const bad = good.slice();
    bad[1] = 0x51;
    await expectError(decodePng(bad, sync), 'MALFORMED_FILE', /signature/);
    await expectError(decodePng(new Uint8Array(0), sync), 'MALFORMED_FILE', /signature/);
  });

  it('rejects a CRC mismatch in any chunk', async () => {
    // IHDR CRC at 29..32, the last byte of IDAT's data, the IEND CRC.
    for (const at of [29, good.length - 17, good.length - 1]) {
      const bad = good.slice();
      bad[at] ^= 0x01;
      await expectError(decodePng(bad, sync), 'MALFORMED_FILE', /CRC/);
    }
  });

  it('rejects image data that inflates too short or too long', async () => {
    const img = gray8(8, 8);
    for (const tamper of [(r: Uint8Array) => r.subarray(0, r.length - 1), (r: Uint8Array) => concat([r, new Uint8Array(3)])]) {
      const png = encodePng(img, { raw: tamper });
      await expectError(decodePng(png, sync), 'MALFORMED_FILE', /inflates to/);
      await expectError(decodePng(png, inflateWithStreams), 'MALFORMED_FILE', /inflates to/);
    }
  });

  it('rejects zero dimensions as malformed and huge ones as TOO_LARGE before inflating', async () => {
    let inflated = 0;
    const spy = (d: Uint8Array) => {
      inflated++;
      return inflateSync(d);
    };
    const ihdr = (w: number, h: number) => [...u32(w), ...u32(h), 8, 0, 0, 0, 0];
    await expectError(decodePng(encodePng(gray8(1, 1), { ihdr: ihdr(0, 1) }), spy), 'MALFORMED_FILE', /zero/);
    await expectError(decodePng(encodePng(gray8(1, 1), { ihdr: ihdr(5, 0) }), spy), 'MALFORMED_FILE', /zero/);
    await expectError(decodePng(encodePng(gray8(1, 1), { ihdr: ihdr(100_000, 100_000) }), spy), 'TOO_LARGE');
    await expectError(decodePng(encodePng(gray8(1, 1), { ihdr: ihdr(0x7fffffff, 0x7fffffff) }), spy), 'TOO_LARGE');
    await expectError(decodePng(encodePng(gray8(1, 1), { ihdr: ihdr(0x80000000, 1) }), spy), 'MALFORMED_FILE');
    await expectError(decodePng(encodePng(gray8(64, 64)), spy, { maxPixels: 4095 }), 'TOO_LARGE', /4096 pixels/);
    expect(inflated).toBe(0);
    expect((await decodePng(encodePng(gray8(64, 64)), spy, { maxPixels: 4096 })).width).toBe(64);
    await expectError(decodePng(encodePng(gray8(1, 1)), sync, { maxPixels: 0 }), 'INVALID_ARGUMENT');
  });

  it('rejects an unknown filter byte', async () => {
    const png = encodePng(gray8(6, 4), { raw: (r) => ((r[2 * 7] = 5), r) }); // filter byte of row 2
    await expectError(decodePng(png, sync), 'MALFORMED_FILE', /filter type 5 on row 2/);
  });

  it('rejects a palette index past the end of PLTE', async () => {
    const img: TestImage = { width: 3, height: 1, colorType: 3, bitDepth: 8, samples: [0, 2, 7], palette: [0, 0, 0, 9, 9, 9, 255, 255, 255] };
    await expectError(decodePng(encodePng(img), sync), 'MALFORMED_FILE', /palette index 7/);
    const noPlte = { ...img, samples: [0, 0, 0], palette: undefined };
    await expectError(decodePng(encodePng(noPlte), sync), 'MALFORMED_FILE', /PLTE/);
  });

  it('stops a deflate bomb: streams stop at the expected size, a bounded zlib call is wrapped', async () => {
    const bomb = new Uint8Array(deflateSync(new Uint8Array(48 * 1024 * 1024))); // ~48 KB -> 48 MiB
    const png = encodePng(gray8(16, 16), { zlib: bomb });
    const t0 = Date.now();
    await expectError(decodePng(png, inflateWithStreams), 'MALFORMED_FILE', /more than the 272 bytes/);
    expect(Date.now() - t0).toBeLessThan(2000); // stopped early, did not inflate 48 MiB first
    // A Node caller bounds zlib itself; its RangeError becomes MALFORMED_FILE.
    await expectError(decodePng(png, (d) => inflateSync(d, { maxOutputLength: 1 << 16 })), 'MALFORMED_FILE', /inflated/);
    // Even unbounded, the size check rejects it (after zlib's allocation, which is the caller's choice).
    await expectError(decodePng(png, sync), 'MALFORMED_FILE', /inflates to 50331648 bytes/);
  });

  it('rejects corrupt zlib data and structural errors', async () => {
    const img = gray8(4, 4);
    const z = new Uint8Array(deflateSync(new Uint8Array(20)));
    const corrupt = z.slice();
    corrupt[0] = 0x00; // bad zlib header
    for (const inflate of [sync, inflateWithStreams]) {
      await expectError(decodePng(encodePng(img, { zlib: corrupt }), inflate), 'MALFORMED_FILE');
      await expectError(decodePng(encodePng(img, { zlib: z.subarray(0, 5) }), inflate), 'MALFORMED_FILE');
      await expectError(decodePng(encodePng(img, { zlib: new Uint8Array(0) }), inflate), 'MALFORMED_FILE');
    }
    const ihdr = (depth: number, type: number, c = 0, f = 0, i = 0) => [...u32(4), ...u32(4), depth, type, c, f, i];
    for (const bad of [ihdr(3, 0), ihdr(4, 2), ihdr(16, 3), ihdr(8, 5), ihdr(8, 0, 1), ihdr(8, 0, 0, 1), ihdr(8, 0, 0, 0, 2)]) {
      await expectError(decodePng(encodePng(img, { ihdr: bad }), sync), 'MALFORMED_FILE');
    }
    await expectError(decodePng(encodePng(img, { ihdr: [1, 2, 3] }), sync), 'MALFORMED_FILE', /13 bytes/);
    // Missing IHDR, IDAT, IEND; IDATs interrupted by another chunk.
    const idat = chunk('IDAT', deflateSync(new Uint8Array(20)));
    const head = chunk('IHDR', ihdr(8, 0));
    await expectError(decodePng(concat([SIGNATURE, idat, chunk('IEND')]), sync), 'MALFORMED_FILE', /first chunk/);
    await expectError(decodePng(concat([SIGNATURE, head, chunk('IEND')]), sync), 'MALFORMED_FILE', /no IDAT/);
    await expectError(decodePng(concat([SIGNATURE, head, idat]), sync), 'MALFORMED_FILE', /IEND/);
    const split = encodePng(img, { idatSize: 4 });
    const ok = await decodePng(split, sync);
    expect(ok.data).toEqual(expectedLuma(img));
    const [first] = [chunk('IDAT', deflateSync(new Uint8Array(20)).subarray(0, 4))];
    const rest = chunk('IDAT', deflateSync(new Uint8Array(20)).subarray(4));
    await expectError(decodePng(concat([SIGNATURE, head, first, chunk('teXt', [1]), rest, chunk('IEND')]), sync), 'MALFORMED_FILE', /consecutive/);
    // A length field far past the end of the file, and a non-letter chunk type.
    const huge = concat([SIGNATURE, new Uint8Array([0xff, 0xff, 0xff, 0xf0, 0x49, 0x48, 0x44, 0x52]), new Uint8Array(8)]);
    await expectError(decodePng(huge, sync), 'MALFORMED_FILE', /truncated/);
    const badType = concat([SIGNATURE, chunk('IH1R', [])]);
    await expectError(decodePng(badType, sync), 'MALFORMED_FILE', /chunk type/);
  });

  it('rejects an unknown critical chunk as UNSUPPORTED and skips unknown ancillary ones', async () => {
    const img = gray8(3, 3);
    await expectError(decodePng(encodePng(img, { before: [chunk('ZZZZ', [1])] }), sync), 'UNSUPPORTED', /ZZZZ/);
    expect((await decodePng(encodePng(img, { before: [chunk('zzZz', [1])] }), sync)).data).toEqual(expectedLuma(img));
  });

  it('wraps a throwing inflate and rejects a non-Uint8Array result', async () => {
    const png = encodePng(gray8(2, 2));
    await expectError(decodePng(png, () => { throw new TypeError('boom'); }), 'MALFORMED_FILE', /boom/);
    await expectError(decodePng(png, () => [1, 2] as unknown as Uint8Array), 'INVALID_ARGUMENT');
    await expectError(decodePng('x' as unknown as Uint8Array, sync), 'INVALID_ARGUMENT');
  });

  it('survives 300 seeded mutations: every outcome is an image or a NeuriteError', async () => {
    const fuzz = prng(2024);
    const bases = [
      good,
      encodePng(randomImage(fuzz, 11, 6, 3, 4, true), { filter: (r) => r % 5 }),
      encodePng(randomImage(fuzz, 7, 9, 0, 16), { interlace: true, filter: () => 4 }),
      encodePng(randomImage(fuzz, 5, 5, 6, 8), { idatSize: 9 }),
    ];
    // Chunk layouts of the originals so CRCs can be repaired after mutation,
    // which lets mutations reach IHDR/PLTE/zlib logic instead of stopping at the CRC.
    const layouts = bases.map((b) => {
      const spans: [number, number][] = [];
      for (let p = 8; p + 12 <= b.length; ) {
        const len = new DataView(b.buffer, b.byteOffset).getUint32(p);
        spans.push([p + 4, p + 8 + len]);
        p += 12 + len;
      }
      return spans;
    });
    const outcomes: Record<string, number> = {};
    for (let i = 0; i < 300; i++) {
      const k = i % bases.length;
      let bytes = bases[k].slice();
      const flips = 1 + Math.floor(fuzz() * 4);
      for (let f = 0; f < flips; f++) {
        const at = Math.floor(fuzz() * bytes.length);
        bytes[at] = fuzz() < 0.5 ? bytes[at] ^ (1 << Math.floor(fuzz() * 8)) : Math.floor(fuzz() * 256);
      }
      if (i % 3 !== 0) {
        for (const [s, e] of layouts[k]) new DataView(bytes.buffer).setUint32(e, crc32(bytes.subarray(s, e)));
      }
      if (i % 10 === 9) bytes = bytes.subarray(0, Math.floor(fuzz() * bytes.length));
      const inflate = i % 5 === 0 ? inflateWithStreams : sync;
      let outcome: string;
      try {
        const img: GrayImage = await decodePng(bytes, inflate);
        expect(img.data.length).toBe(img.width * img.height);
        for (const v of img.data) expect(v >= 0 && v <= 1).toBe(true);
        outcome = 'ok';
      } catch (err) {
        expect(err, String(err)).toBeInstanceOf(NeuriteError);
        outcome = (err as NeuriteError).code;
      }
      outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
    }
    expect(outcomes.MALFORMED_FILE).toBeGreaterThan(0);
    expect(outcomes.ok).toBeGreaterThan(0);
  });
});

describe('inflateWithStreams', () => {
  it('round trips data larger than one stream chunk', async () => {
    const rand = prng(5);
    const data = new Uint8Array(300_000).map((_, i) => (i % 1000 < 500 ? Math.floor(rand() * 256) : 0));
    expect(await inflateWithStreams(new Uint8Array(deflateSync(data)))).toEqual(data);
  });

  it('rejects corrupt, truncated and empty input with MALFORMED_FILE', async () => {
    const z = new Uint8Array(deflateSync(new Uint8Array(1000).fill(7)));
    const badCheck = z.slice();
    badCheck[badCheck.length - 1] ^= 1; // Adler-32 mismatch
    for (const bad of [z.subarray(0, z.length - 3), new Uint8Array(0), new Uint8Array([1, 2, 3, 4]), badCheck]) {
      await expectError(inflateWithStreams(bad), 'MALFORMED_FILE');
    }
  });

  it('throws TOO_LARGE past the limit, default 64 MiB', async () => {
    const bomb = new Uint8Array(deflateSync(new Uint8Array(80 * 1024 * 1024)));
    await expectError(inflateWithStreams(bomb, 1 << 20), 'TOO_LARGE', /1048576/);
    await expectError(inflateWithStreams(bomb), 'TOO_LARGE', /67108864/);
    expect((await inflateWithStreams(new Uint8Array(deflateSync(new Uint8Array(100))), 100)).length).toBe(100);
    await expectError(inflateWithStreams(bomb, Number.NaN), 'INVALID_ARGUMENT');
  });
});
