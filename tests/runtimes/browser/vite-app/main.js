// An application bundled by Vite that imports neurite by its package name: the bundler follows
// the package `exports` ("browser" → dist/index.js) and emits the .wasm builds that
// dist/index.js finds with new URL(…, import.meta.url) as assets of its own.
import { runCases } from './cases.mjs';

async function bytes(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

window.neuriteCases = async () => {
  const [modelBytes, imagesIdx, labelsIdx] = await Promise.all(
    ['/models/mnist-mlp.safetensors', '/mnist/t10k-images-idx3-ubyte', '/mnist/t10k-labels-idx1-ubyte'].map(bytes));
  const startedAt = performance.now();
  const { init } = await import('neurite');
  return runCases({ init, modelBytes, imagesIdx, labelsIdx, startedAt });
};
window.neuriteReady = true;
