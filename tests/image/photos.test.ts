// neurite/image on photographs of paper (tests/image/photos.ts makes them, seeded): the shipped
// models must read the digits, and pictures without a digit must be answered "no digit".
import { readFileSync } from 'node:fs';
import { inflateSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeImage, findDigit } from '../../src/image/index';
import type { Model } from '../../src/model';
import { runtime } from '../helpers/neurite';
import { photo, photoSet, type Photo } from './photos';

const SET_SIZE = 300;
const decode = (png: Uint8Array) => decodeImage(png, (d) => inflateSync(d));
const argmax = (v: Float32Array) => v.indexOf(Math.max(...v));

let mlp: Model, cnn: Model;
beforeAll(async () => {
  const nn = await runtime('relaxed');
  mlp = nn.load(readFileSync('models/mnist-mlp.safetensors'));
  cnn = nn.load(readFileSync('models/mnist-cnn.safetensors'));
});

describe('the photo set', () => {
  // the issue asks for 95% and 90%; the bars sit just under today's 98.7% and 98.0%, so a
  // preprocessing change that loses photos fails here
  it(`the shipped CNN reads at least 98% and the MLP at least 96% of ${SET_SIZE} photos`, async () => {
    const right = { mlp: 0, cnn: 0 };
    const misses: string[] = [];
    for (const p of photoSet(1, SET_SIZE)) {
      const { pixels, reason } = findDigit(await decode(p.png));
      if (reason) { misses.push(`${p.label}: ${reason} (${p.describe})`); continue; }
      const m = argmax(mlp.predict(pixels)), c = argmax(cnn.predict(pixels));
      if (m === p.label) right.mlp++;
      if (c === p.label) right.cnn++;
      if (m !== p.label || c !== p.label) misses.push(`${p.label}: MLP ${m}, CNN ${c} (${p.describe})`);
    }
    console.log(`photo set: MLP ${(100 * right.mlp / SET_SIZE).toFixed(1)}%, CNN ${(100 * right.cnn / SET_SIZE).toFixed(1)}% of ${SET_SIZE}`
      + `\n  ${misses.join('\n  ')}`);
    expect(right.cnn / SET_SIZE, misses.join('\n')).toBeGreaterThanOrEqual(0.98);
    expect(right.mlp / SET_SIZE, misses.join('\n')).toBeGreaterThanOrEqual(0.96);
  }, 60_000);
});

describe('no digit', () => {
  const NO_DIGIT = /^(no ink|too little ink|too much ink)$/;

  /** The photos not answered with one of `allowed`, and what they got. */
  async function others(photos: Photo[], allowed: RegExp): Promise<string[]> {
    const out: string[] = [];
    for (const p of photos) {
      const { reason } = findDigit(await decode(p.png));
      if (!allowed.test(String(reason))) out.push(`${reason} (${p.describe})`);
    }
    return out;
  }

  it('blank paper, whatever its lines, lighting and noise: no digit, for every one of 100', async () => {
    // most say 'no ink'; a grid of strong lines may read as 'too much ink': no digit either way
    expect(await others(photoSet(2, 100, 'blank'), NO_DIGIT)).toEqual([]);
  });

  it('a speck or a few on the paper: no digit, for every one of 100', async () => {
    expect(await others(photoSet(3, 100, 'speck'), NO_DIGIT)).toEqual([]);
  });

  it('photos from larger sets (seeds 2-16) that each needed a rule of their own: no digit', async () => {
    const cases = [
      photo(15, 85, 'blank'), photo(8, 86, 'blank'), photo(12, 30, 'blank'), // a shadow's edge: a step, not a stroke
      photo(10, 3, 'blank'), // what noise left above the mask: not past the noise
      photo(6, 3, 'speck'), photo(7, 82, 'speck'), // specks run together: shorter than a digit
      photo(7, 41, 'text'), // writing whose touching letters make one piece twice the size of the others
    ];
    expect(await others(cases, NO_DIGIT)).toEqual([]);
  });

  it('a page of handwriting: too much ink for 20, no digit for every one of 100', async () => {
    // the smallest pages (letters a few pixels tall) may read as 'no ink' instead
    const pages = photoSet(4, 100, 'text');
    expect(await others(pages.slice(0, 20), /^too much ink$/)).toEqual([]);
    expect(await others(pages, NO_DIGIT)).toEqual([]);
  });
});
