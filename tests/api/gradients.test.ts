// Back-propagation through whole models against central finite differences: every activation,
// every loss (fused and not), through the public gradients() call.
import type { ActivationName, LossName } from '../../src/node';
import { describe, it } from 'vitest';
import { gradcheckModel } from '../helpers/model-gradcheck';
import { runtime } from '../helpers/neurite';
import { mulberry32 } from '../helpers/reference';

type Kind = 'probs' | 'onehot' | 'positive' | 'real' | 'far';

function data(n: number, inputs: number, outputs: number, seed: number, kind: Kind) {
  const r = mulberry32(seed);
  const x = Array.from({ length: n }, () => Array.from({ length: inputs }, () => r() * 2 - 1));
  const y = Array.from({ length: n }, (_, i) => Array.from({ length: outputs }, (_, j) => {
    if (kind === 'onehot') return j === i % outputs ? 1 : 0;
    if (kind === 'probs') return r();
    if (kind === 'positive') return 0.5 + r();
    if (kind === 'far') return (r() < 0.5 ? -1 : 1) * (2 + r()); // |p − t| stays far from the kink
    return r() * 2 - 1;
  }));
  return { x, y };
}

describe('model gradients match finite differences', async () => {
  const nn = await runtime('relaxed');

  for (const act of ['linear', 'sigmoid', 'tanh', 'relu', 'leakyRelu', 'prelu', 'elu', 'swish', 'gelu', 'softmax'] as const) {
    it(`hidden ${act}`, () => {
      const m = nn.sequential({ inputShape: [5], seed: 11, layers: [
        { type: 'dense', units: 4, activation: act, ...(act === 'leakyRelu' ? { alpha: 0.1 } : {}) },
        { type: 'dense', units: 3, activation: 'softmax' }] });
      const { x, y } = data(6, 5, 3, 2, 'onehot');
      gradcheckModel(m, x, y, 'categoricalCrossentropy', act);
    });
  }

  const cases: Array<[LossName, ActivationName, Kind]> = [
    ['mse', 'linear', 'real'], ['mae', 'linear', 'far'], ['mape', 'linear', 'positive'],
    ['msle', 'relu', 'positive'], ['sse', 'tanh', 'real'],
    ['binaryCrossentropy', 'sigmoid', 'probs'], // fused with the sigmoid
    ['binaryCrossentropy', 'softmax', 'probs'], // on probabilities, not fused
    ['categoricalCrossentropy', 'softmax', 'onehot'], // fused with the softmax
    ['categoricalCrossentropy', 'sigmoid', 'onehot'], // on probabilities, not fused
    ['mse', 'softmax', 'probs'], // softmax backward on its own
  ];
  for (const [loss, last, kind] of cases) {
    it(`${loss} after ${last}`, () => {
      const m = nn.sequential({ inputShape: [4], seed: 5, layers: [
        { type: 'dense', units: 5, activation: 'tanh' },
        { type: 'dense', units: 3, activation: last }] });
      const { x, y } = data(5, 4, 3, 9, kind);
      gradcheckModel(m, x, y, loss, `${loss}/${last}`);
    });
  }
});
