// Reads replay.bin (written by scripts/make-replay.mjs at build time): MNIST training digits to
// mix into fine-tuning, and MNIST test digits to measure what fine-tuning costs.

const HEADER = 24;

/**
 * @param {ArrayBuffer} buffer
 * @returns {{ train: { x: Float32Array, y: Uint8Array, count: number }, check: { x: Float32Array, y: Uint8Array, count: number } }}
 *   x: count × 784 pixels in [0, 1], white digit on black, as the model takes them
 */
export function parseReplay(buffer) {
  const bytes = new Uint8Array(buffer);
  const view = new DataView(buffer);
  const magic = String.fromCharCode(...bytes.subarray(0, 4));
  if (bytes.length < HEADER || magic !== 'NRPL' || view.getUint32(4, true) !== 1) {
    throw new Error('replay.bin is not a replay file (version 1): rebuild it with `node scripts/make-replay.mjs`');
  }
  const trainCount = view.getUint32(8, true);
  const checkCount = view.getUint32(12, true);
  const size = view.getUint32(16, true) * view.getUint32(20, true);
  if (size !== 784 || bytes.length !== HEADER + (trainCount + checkCount) * (1 + size)) {
    throw new Error('replay.bin has an unexpected size: rebuild it with `node scripts/make-replay.mjs`');
  }
  let at = HEADER;
  const section = (count) => {
    const y = bytes.slice(at, at + count);
    at += count;
    const x = new Float32Array(count * size);
    for (let i = 0; i < x.length; i++) x[i] = bytes[at + i] / 255;
    at += count * size;
    return { x, y, count };
  };
  const train = section(trainCount);
  const check = section(checkCount);
  return { train, check };
}
