// The published types, compiled the way users compile: a consumer project made as `tsc --init`
// (TypeScript 5.9) makes it, with neurite in its node_modules, under moduleResolution NodeNext,
// Node16 and Bundler. The README's examples must compile; misspelt options must not.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');

// what `tsc --init` writes (TypeScript 5.9), minus the output options
const INIT = {
  target: 'esnext', types: [], noUncheckedIndexedAccess: true, exactOptionalPropertyTypes: true, strict: true,
  verbatimModuleSyntax: true, isolatedModules: true, noUncheckedSideEffectImports: true, moduleDetection: 'force', skipLibCheck: true,
  noEmit: true,
};
const RESOLUTIONS = {
  NodeNext: { module: 'nodenext', moduleResolution: 'nodenext' },
  Node16: { module: 'node16', moduleResolution: 'node16' },
  Bundler: { module: 'esnext', moduleResolution: 'bundler' },
};

const OK = `
import { init, NeuriteError, type FitOptions, type LayerConfig, type Model, type History } from 'neurite';
import { CheckpointStore } from 'neurite/node';
import { findDigit, type GrayImage } from 'neurite/image';

const nn = await init();
const layers: LayerConfig[] = [
  { type: 'dense', units: 128, activation: 'relu' },
  { type: 'dense', units: 10, activation: 'softmax' },
];
const model: Model = nn.sequential({ inputShape: [784], seed: 1, layers });
const xTrain = new Float32Array(784 * 2);
const yTrain = [3, 7];
const options: FitOptions = {
  epochs: 5, batchSize: 64, loss: 'categoricalCrossentropy',
  optimizer: { type: 'adam', learningRate: 1e-3, weightDecay: 0.01 }, validationData: [xTrain, yTrain],
  earlyStopping: { patience: 2, restoreBestWeights: true }, clipNorm: 1,
};
const history: History = await model.fit(xTrain, yTrain, options);
const probs: Float32Array = model.predict(xTrain.subarray(0, 784));
const bytes: Uint8Array = model.save({ training: true });
const again = nn.load(bytes);
console.log(history.loss, probs, again.summary());

const cnn = nn.sequential({ inputShape: [1, 28, 28], seed: 1, layers: [
  { type: 'conv2d', filters: 16, kernelSize: 5, padding: 'same', activation: 'relu' },
  { type: 'maxPool2d', poolSize: 2 },
  { type: 'residual', activation: 'relu', layers: [
    { type: 'conv2d', filters: 32, kernelSize: 3, padding: 'same', activation: 'relu' },
    { type: 'conv2d', filters: 32, kernelSize: 3, padding: 'same', stride: 2 } ] },
  { type: 'globalAvgPool2d' },
  { type: 'dropout', rate: 0.3 },
  { type: 'dense', units: 10, activation: 'softmax' } ] });
const tagger = nn.sequential({ inputShape: [12], seed: 1, layers: [
  { type: 'embedding', inputDim: 10, outputDim: 8 },
  { type: 'gru', units: 16, returnSequences: true },
  { type: 'dense', units: 3, activation: 'softmax' } ] });
const forecaster = nn.load(bytes, { inputShape: [32, 2], layers: [
  { type: 'lstm', name: 'rnn', units: 64 }, { type: 'dense', name: 'fc', units: 1 } ] });
const s = forecaster.stream();
const y1: Float32Array = s.next([0.4, 21.5]);
s.reset();
const store = new CheckpointStore('state', { keep: 3 });
const { model: restored, skipped } = await store.load(nn);
for (const k of skipped) console.log(k.path, k.reason);
await store.save(cnn);
const image: GrayImage = { width: 1, height: 1, data: new Float32Array(1) };
const { reason } = findDigit(image);
try { tagger.predict([99]); } catch (e) { if (e instanceof NeuriteError) console.log(e.code); }
console.log(y1, restored, reason);
`;

// each line must fail to compile, and nothing else may
const BAD = [
  `nn.sequential({ inputShape: [2], layers: [{ type: 'dense', unit: 8 }] });`,
  `nn.sequential({ inputShape: [2], layers: [{ type: 'Dense', units: 8 }] });`,
  `nn.sequential({ inputShape: [2], layers: [{ type: 'dense', units: 8, activaton: 'relu' }] });`,
  `nn.sequential({ inputShape: [2], layers: [{ type: 'dense', units: 8, activation: 'relux' }] });`,
  `void m.fit([[1, 2]], [[1]], { epoch: 5 });`,
  `void m.fit([[1, 2]], [[1]], { loss: 'crossentropy' });`,
  `void m.fit([[1, 2]], [[1]], { optimizer: { type: 'adam', learningrate: 0.1 } });`,
  `m.engine;`,
];
const BAD_FILE = `import { init } from 'neurite';\nconst nn = await init();\nconst m = nn.sequential({ inputShape: [2], layers: [{ type: 'dense', units: 1 }] });\n${BAD.join('\n')}\n`;

describe('published types in consumer projects', () => {
  const dir = mkdtempSync(join(tmpdir(), 'neurite-types-'));
  beforeAll(() => {
    if (!existsSync(join(root, 'dist', 'index.d.ts'))) throw new Error('dist/ is not built (npm install builds it)');
    mkdirSync(join(dir, 'node_modules'));
    symlinkSync(root, join(dir, 'node_modules', 'neurite'), 'dir');
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
    writeFileSync(join(dir, 'ok.ts'), OK);
    writeFileSync(join(dir, 'bad.ts'), BAD_FILE);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  for (const [name, resolution] of Object.entries(RESOLUTIONS)) {
    it(`moduleResolution ${name}: the README's code compiles; each misspelling is an error`, () => {
      const config = join(dir, `tsconfig.${name}.json`);
      writeFileSync(config, JSON.stringify({ compilerOptions: { ...INIT, ...resolution }, files: ['ok.ts', 'bad.ts'] }));
      const r = spawnSync(process.execPath, [tsc, '-p', config, '--pretty', 'false'], { cwd: dir, encoding: 'utf8' });
      const errors = r.stdout.split('\n').filter((l) => /error TS\d+/.test(l));
      const inOk = errors.filter((l) => l.startsWith('ok.ts'));
      expect(inOk, inOk.join('\n')).toEqual([]);
      const badLines = new Set(errors.filter((l) => l.startsWith('bad.ts')).map((l) => Number(/^bad\.ts\((\d+),/.exec(l)![1])));
      // bad.ts lines 4.. hold the BAD entries, one per line
      expect([...badLines].sort((a, b) => a - b)).toEqual(BAD.map((_, i) => i + 4));
      expect(errors.length, r.stdout).toBeGreaterThanOrEqual(BAD.length);
    });
  }
});
