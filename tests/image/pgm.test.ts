import { describe, it, expect } from 'vitest';
import { inflateSync } from 'node:zlib';
import { NeuriteError, type NeuriteErrorCode } from '../../src/errors';
import { decodePgm } from '../../src/image/pgm';
import { decodeImage } from '../../src/image/index';
import { mulberry32 as prng } from '../helpers/reference';

const ascii = (s: string) => new TextEncoder().encode(s);

function bytesOf(...parts: (string | number[])[]): Uint8Array {
  return new Uint8Array(parts.flatMap((p) => (typeof p === 'string' ? Array.from(ascii(p)) : p)));
}

function expectCode(fn: () => unknown, code: NeuriteErrorCode, message?: RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught, `expected NeuriteError ${code}`).toBeInstanceOf(NeuriteError);
  expect((caught as NeuriteError).code, (caught as Error).message).toBe(code);
  if (message) expect((caught as Error).message).toMatch(message);
}


const f32 = (values: number[]) => new Float32Array(values);

describe('decodePgm', () => {
  it('reads P2 with comments between header tokens and in the raster', () => {
    const img = decodePgm(ascii('P2\n# made by hand\n3 # width\n2\n# maxval next\n15\n0 5 15\n# second row\n10\t1   2\n'));
    expect([img.width, img.height]).toEqual([3, 2]);
    expect(img.data).toEqual(f32([0, 5 / 15, 1, 10 / 15, 1 / 15, 2 / 15]));
  });

  it('reads P5 8-bit, including a comment glued to maxval', () => {
    const plain = decodePgm(bytesOf('P5 # c\n2 2\n255\n', [0, 64, 128, 255]));
    expect(plain.data).toEqual(f32([0, 64 / 255, 128 / 255, 1]));
    const glued = decodePgm(bytesOf('P5\n2 1\n200# note\n', [100, 200]));
    expect(glued.data).toEqual(f32([0.5, 1]));
    // Netpbm allows any single whitespace byte before the raster, even one that looks like data.
    expect(decodePgm(bytesOf('P5 1 1 255\t', [32])).data).toEqual(f32([32 / 255]));
  });

  it('reads P5 16-bit big-endian samples when maxval > 255', () => {
    const img = decodePgm(bytesOf('P5\n3 1\n1000\n', [0x00, 0x00, 0x01, 0xf4, 0x03, 0xe8]));
    expect(img.data).toEqual(f32([0, 0.5, 1]));
    const full = decodePgm(bytesOf('P5 2 1 65535\n', [0xff, 0xff, 0x80, 0x00]));
    expect(full.data).toEqual(f32([1, 0x8000 / 65535]));
    expect(decodePgm(ascii('P2 2 1 65535 65535 0')).data).toEqual(f32([1, 0]));
  });

  it('ignores bytes after the first image', () => {
    expect(decodePgm(bytesOf('P5 1 1 255\n', [7], 'P5 1 1 255\n', [9])).data).toEqual(f32([7 / 255]));
  });

  it('rejects a truncated file at every cut point', () => {
    const p5 = bytesOf('P5\n# c\n4 3\n65535\n', Array.from({ length: 24 }, (_, i) => i));
    for (let cut = 0; cut < p5.length; cut++) expectCode(() => decodePgm(p5.subarray(0, cut)), 'MALFORMED_FILE');
    const p2 = ascii('P2 3 2 9 1 2 3 4 5 6');
    for (let cut = 0; cut < p2.length; cut++) expectCode(() => decodePgm(p2.subarray(0, cut)), 'MALFORMED_FILE');
    expectCode(() => decodePgm(ascii('P5 4 4 255\n')), 'MALFORMED_FILE', /needs 16 bytes, file has 0/);
  });

  it('rejects bad headers and samples above maxval', () => {
    expectCode(() => decodePgm(ascii('P2 0 3 255')), 'MALFORMED_FILE', /zero/);
    expectCode(() => decodePgm(ascii('P2 2 1 0 0 0')), 'MALFORMED_FILE', /maxval/);
    expectCode(() => decodePgm(ascii('P2 2 1 70000 0 0')), 'MALFORMED_FILE', /maxval/);
    expectCode(() => decodePgm(ascii('P2 2 1 9 3 10')), 'MALFORMED_FILE', /above maxval/);
    expectCode(() => decodePgm(bytesOf('P5 2 1 9\n', [3, 10])), 'MALFORMED_FILE', /above maxval/);
    expectCode(() => decodePgm(ascii('P2 2 x 9')), 'MALFORMED_FILE', /height/);
    expectCode(() => decodePgm(ascii('P2 -2 1 9')), 'MALFORMED_FILE', /width/);
    expectCode(() => decodePgm(ascii('P55 1 1 9 1')), 'MALFORMED_FILE', /magic/);
    expectCode(() => decodePgm(ascii('hello')), 'MALFORMED_FILE', /magic/);
    expectCode(() => decodePgm(new Uint8Array(0)), 'MALFORMED_FILE');
  });

  it('rejects huge dimensions with TOO_LARGE before reading the raster', () => {
    expectCode(() => decodePgm(ascii('P5 100000 100000 255\n')), 'TOO_LARGE');
    expectCode(() => decodePgm(ascii('P2 99999999999999999999999 1 255\n')), 'TOO_LARGE');
    expectCode(() => decodePgm(ascii('P2 10 10 255\n'), { maxPixels: 99 }), 'TOO_LARGE', /100 pixels/);
  });

  it('names other Netpbm formats as UNSUPPORTED', () => {
    expectCode(() => decodePgm(ascii('P6 1 1 255\n\0\0\0')), 'UNSUPPORTED', /PPM/);
    expectCode(() => decodePgm(ascii('P1 1 1 0')), 'UNSUPPORTED', /PBM/);
  });

  it('survives 300 seeded mutations: every outcome is an image or a NeuriteError', () => {
    const rand = prng(77);
    const bases = [
      bytesOf('P5\n# comment\n5 4\n255\n', Array.from({ length: 20 }, (_, i) => i * 12)),
      bytesOf('P5 3 3 4095\n', Array.from({ length: 18 }, (_, i) => (i % 2 ? i * 9 : 15 & i))),
      ascii('P2\n# c\n4 2\n99\n1 2 3 4\n50 60 70 99\n'),
    ];
    for (let i = 0; i < 300; i++) {
      const bytes = bases[i % bases.length].slice();
      for (let f = 0; f < 1 + Math.floor(rand() * 3); f++) bytes[Math.floor(rand() * bytes.length)] = Math.floor(rand() * 256);
      try {
        const img = decodePgm(bytes);
        expect(img.data.length).toBe(img.width * img.height);
        for (const v of img.data) expect(v >= 0 && v <= 1).toBe(true);
      } catch (err) {
        expect(err, String(err)).toBeInstanceOf(NeuriteError);
      }
    }
  });
});

describe('decodeImage', () => {
  it('sniffs PGM and PNG by magic bytes', async () => {
    expect((await decodeImage(bytesOf('P5 1 1 255\n', [51]))).data).toEqual(f32([0.2]));
    // The 1x1 PNG from png.test.ts, through the default DecompressionStream inflater and through zlib.
    const png = new Uint8Array(Buffer.from(
      'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
      'base64',
    ));
    const a = await decodeImage(png);
    const b = await decodeImage(png, (d) => inflateSync(d));
    expect([a.width, a.height]).toEqual([1, 1]);
    expect(a.data).toEqual(b.data);
  });

  it('names what an unsupported file looks like', async () => {
    const cases: [number[] | string, RegExp][] = [
      [[0xff, 0xd8, 0xff, 0xe0, 0, 0x10], /JPEG/],
      ['GIF89a\x01\x00', /GIF/],
      ['BM\x3a\0\0\0', /BMP/],
      ['RIFF\0\0\0\0WEBPVP8 ', /WebP/],
      ['hello world', /unknown format/],
      [[], /unknown format/],
    ];
    for (const [bytes, name] of cases) {
      await expect(decodeImage(bytesOf(bytes)).catch((e) => e)).resolves.toMatchObject({ code: 'UNSUPPORTED', message: expect.stringMatching(name) });
    }
    await expect(decodeImage(ascii('P6 1 1 255\n\0\0\0')).catch((e) => e)).resolves.toMatchObject({ code: 'UNSUPPORTED' });
  });
});
