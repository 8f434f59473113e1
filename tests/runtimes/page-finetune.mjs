// The web page's fine-tuning round, measured in the page: Debian's headless Chromium opens
// examples/web-digits from `root`, and the page's own worker.js runs the round app.js starts when
// the user presses "Teach" — the same message, the page's default settings (read from its inputs),
// the shipped model's weights — with digits from the page's replay.bin standing in for the
// user's corrections. `root` may be another checkout (an older commit), so a round can be
// compared with the code of before, page and library alike.
import { serve, HOME } from '../../scripts/serve.mjs';
import { launchChromium } from './chromium.mjs';
import { median } from './fixtures.mjs';


/** Runs in the page: `rounds` fine-tuning rounds of `model` in one worker, as app.js sends them. */
async function roundsInPage({ model, rounds, corrections }) {
  const value = (id) => Number(document.getElementById(id).value);
  const settings = { epochs: value('epochs'), learningRate: value('lr'), replay: value('replay'), batchSize: 32 };
  const replayUrl = new URL('./replay.bin', location.href).href;
  const { parseReplay } = await import(new URL('./replay.js', location.href).href);
  const { check } = parseReplay(await (await fetch(replayUrl)).arrayBuffer());
  const fixes = Array.from({ length: corrections }, (_, i) => ({
    pixels: check.x.slice(i * 784, (i + 1) * 784), label: (check.y[i] + 1) % 10, // labels the model gets wrong
  }));
  let weights = await (await fetch(new URL(`../../models/${model}.safetensors`, location.href))).arrayBuffer();
  const worker = new Worker(new URL('./worker.js', location.href), { type: 'module' });
  const out = [];
  try {
    for (let id = 1; id <= rounds; id++) {
      const wall = performance.now();
      const msg = await new Promise((resolve, reject) => {
        worker.onmessage = (e) => { if (e.data.type !== 'progress') resolve(e.data); };
        worker.onerror = (e) => reject(new Error(e.message));
        worker.postMessage({ type: 'fine-tune', id, seed: id, build: 'relaxed', weights, corrections: fixes, replayUrl, settings }, [weights]);
      });
      if (msg.type !== 'done') throw new Error(`round ${id}: ${msg.type} ${msg.message ?? ''}`);
      weights = msg.weights;
      out.push({ wallMs: performance.now() - wall, trainMs: msg.report.trainMs, totalMs: msg.report.totalMs,
        samples: msg.report.samples, steps: msg.report.steps, build: msg.report.build, settings });
    }
  } finally {
    worker.terminate();
  }
  return out;
}

/**
 * Fine-tuning rounds of `model` in the page served from `root`. The first round also starts the
 * worker's runtime and fetches replay.bin, so it is reported apart; `median` is over the others.
 */
export async function pageFineTune({ root, model = 'mnist-cnn', rounds = 5, corrections = 8 } = {}) {
  const server = await serve({ port: 0, root });
  const browser = await launchChromium();
  try {
    const { page, errors, close } = await browser.newPage();
    try {
      await page.goto(`${server.url}${HOME}`, { waitUntil: 'load', timeout: 60_000 });
      const runs = await page.evaluate(roundsInPage, { model, rounds, corrections });
      if (errors.length) throw new Error(`page errors: ${errors.join('; ')}`);
      const rest = runs.slice(1);
      return {
        chromium: browser.version, runs,
        first: runs[0],
        median: { trainMs: median(rest.map((r) => r.trainMs)), totalMs: median(rest.map((r) => r.totalMs)), wallMs: median(rest.map((r) => r.wallMs)) },
      };
    } finally {
      await close();
    }
  } finally {
    await browser.close();
    await server.close();
  }
}
