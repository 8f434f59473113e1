// The `neurite` command, run as a user runs it: the built dist/cli.js on real files.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadMnist } from '../../src/cli/mnist';
import { encodeGrayPng } from '../helpers/png';

const root = fileURLToPath(new URL('../..', import.meta.url));
const cli = join(root, 'dist/cli.js');
const model = join(root, 'models/mnist-mlp.safetensors');
const cnn = join(root, 'models/mnist-cnn.safetensors');
const run = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { cwd: root, encoding: 'utf8' });

/** An MNIST digit drawn dark on white paper at `size`×`size`, the way a photo or scan looks. */
function paperDigit(pixels: Float32Array, size: number): Uint8Array {
  const out = new Uint8Array(size * size);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const v = pixels[Math.floor(y * 28 / size) * 28 + Math.floor(x * 28 / size)];
      out[y * size + x] = Math.round(255 * (1 - v));
    }
  }
  return out;
}

describe('neurite CLI', () => {
  const dir = mkdtempSync(join(tmpdir(), 'neurite-cli-'));
  beforeAll(() => {
    // `npm install` builds dist/ through the prepare script
    if (!existsSync(cli)) execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
  });

  it('eval prints the accuracy and speed of the shipped model', () => {
    const r = run('eval', model, '--data', 'mnist-test', '--limit', '2000');
    expect(r.status, r.stderr).toBe(0);
    const acc = Number(/accuracy\s+([\d.]+)%/.exec(r.stdout)?.[1]);
    expect(acc).toBeGreaterThan(97);
    expect(r.stdout).toMatch(/build\s+(relaxed|simd|scalar)/);
    expect(r.stdout).toMatch(/images\/s/);
  });

  it('predict reads PNG and PGM files of any size and names the digit', () => {
    const test = loadMnist('test', 100);
    let right = 0;
    for (let i = 0; i < 20; i++) {
      const img = test.images.subarray(i * 784, (i + 1) * 784);
      const size = 56 + 13 * (i % 5);
      const file = join(dir, `digit-${i}.${i % 2 ? 'png' : 'pgm'}`);
      const gray = paperDigit(img, size);
      if (i % 2) writeFileSync(file, encodeGrayPng(size, size, gray));
      else writeFileSync(file, Buffer.concat([Buffer.from(`P5\n# digit ${i}\n${size} ${size}\n255\n`), Buffer.from(gray)]));
      const r = run('predict', model, file);
      expect(r.status, r.stderr).toBe(0);
      const digit = Number(/^digit (\d)/.exec(r.stdout)?.[1]);
      expect(r.stdout.split('\n').filter((l) => /^\s+\d\s/.test(l))).toHaveLength(10);
      if (digit === test.labels[i]) right++;
    }
    expect(right).toBeGreaterThanOrEqual(18);
  });

  it('eval and predict work with the shipped CNN', () => {
    const r = run('eval', cnn, '--limit', '2000');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/conv2d → maxPool2d/);
    expect(Number(/accuracy\s+([\d.]+)%/.exec(r.stdout)?.[1])).toBeGreaterThan(98.5);
    const test = loadMnist('test', 10);
    let right = 0;
    for (let i = 0; i < 10; i++) {
      const file = join(dir, `cnn-digit-${i}.png`);
      writeFileSync(file, encodeGrayPng(84, 84, paperDigit(test.images.subarray(i * 784, (i + 1) * 784), 84)));
      const p = run('predict', cnn, file);
      expect(p.status, p.stderr).toBe(0);
      if (Number(/^digit (\d)/.exec(p.stdout)?.[1]) === test.labels[i]) right++;
    }
    expect(right).toBeGreaterThanOrEqual(9);
  });

  it('predict refuses a file it cannot decode, with a clear error', () => {
    const file = join(dir, 'photo.jpg');
    writeFileSync(file, Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 16, 0x4a, 0x46, 0x49, 0x46]));
    const r = run('predict', model, file);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/UNSUPPORTED.*JPEG/);
    const truncated = join(dir, 'cut.png');
    writeFileSync(truncated, encodeGrayPng(28, 28, new Uint8Array(784)).subarray(0, 40));
    const r2 = run('predict', model, truncated);
    expect(r2.status).toBe(1);
    expect(r2.stderr).toMatch(/MALFORMED_FILE/);
  });

  it('predict answers each of several images in order, and "no digit found" with exit code 1', async () => {
    const { photo } = await import('../image/photos');
    const files = [0, 1, 2].map((i) => {
      const file = join(dir, `photo-${i}.png`);
      writeFileSync(file, photo(1, i).png); // digits 0, 1, 2 photographed on paper
      return file;
    });
    const all = run('predict', cnn, ...files);
    expect(all.status, all.stderr).toBe(0);
    const lines = all.stdout.trim().split('\n');
    expect(lines).toHaveLength(3);
    lines.forEach((l, i) => expect(l).toMatch(new RegExp(`^${files[i].replace(/[.\\/]/g, '\\$&')}: digit ${i} `)));
    const blank = join(dir, 'blank.png');
    writeFileSync(blank, encodeGrayPng(64, 64, new Uint8Array(64 * 64).fill(235)));
    const one = run('predict', cnn, blank);
    expect(one.status).toBe(1);
    expect(one.stdout).toMatch(/^no digit found \(no ink, 64x64 image\)/);
    const mixed = run('predict', cnn, files[0], blank);
    expect(mixed.status).toBe(1);
    expect(mixed.stdout).toMatch(/photo-0\.png: digit 0 [\s\S]*blank\.png: no digit found/);
  });

  it('eval refuses a corrupt model file', () => {
    const file = join(dir, 'bad.safetensors');
    writeFileSync(file, Buffer.from([1, 2, 3]));
    const r = run('eval', file);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/MALFORMED_FILE/);
  });

  it('train writes a model that eval can read', () => {
    const out = join(dir, 'tiny.safetensors');
    const r = run('train', '--layers', '32', '--epochs', '3', '--limit', '5000', '--lr', '0.003', '--out', out);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/epoch\s+3\/3/);
    const e = run('eval', out, '--limit', '1000');
    expect(e.status, e.stderr).toBe(0);
    expect(Number(/accuracy\s+([\d.]+)%/.exec(e.stdout)?.[1])).toBeGreaterThan(85);
  });

  it('refuses unknown and misspelt flags, naming the closest; --help shows the defaults the code uses', () => {
    const epoch = run('train', '--epoch', '1');
    expect(epoch.status).toBe(1);
    expect(epoch.stderr).toMatch(/unknown option --epoch \(did you mean --epochs\?\)/);
    const bogus = run('eval', model, '--bogus');
    expect(bogus.status).toBe(1);
    expect(bogus.stderr).toMatch(/unknown option --bogus/);
    expect(run('eval', model, '--build', 'fast').stderr).toMatch(/--build takes auto, relaxed, simd, scalar/);
    expect(run('train', '--epochs', 'ten').stderr).toMatch(/--epochs takes a number/);
    expect(run('train', '--epochs', '1.5').stderr).toMatch(/--epochs takes a positive integer/);
    expect(run('bench', 'extra').status).toBe(1);
    const help = run('train', '--help');
    expect(help.status).toBe(0);
    for (const flag of ['--arch mlp|cnn', '--limit N', '--augment N', '--epochs N', '--out FILE']) expect(help.stdout).toContain(flag);
    expect(help.stdout).toMatch(/--epochs N\s+passes over the data \(default 10\)/);
    const top = run();
    expect(top.status).toBe(1);
    for (const c of ['neurite eval', 'neurite predict', 'neurite train', 'neurite bench']) expect(top.stdout).toContain(c);
  });
});
