// A channels-last inputShape ([28, 28, 1], the TensorFlow habit) on a conv model: the error says
// that neurite is channels-first and what to write instead.
import { expect, it } from 'vitest';
import type { LayerConfig } from '../../src/node';
import { runtime } from '../helpers/neurite';

it('a conv or pool layer on an [H, W, C]-looking input names the NCHW fix', async () => {
  const nn = await runtime('relaxed');
  for (const layer of [{ type: 'conv2d', filters: 4, kernelSize: 5 }, { type: 'maxPool2d', poolSize: 2 }] as LayerConfig[]) {
    expect(() => nn.sequential({ inputShape: [28, 28, 1], layers: [layer] })).toThrow(/channels-first \(NCHW\): use \[1, 28, 28\]/);
  }
  // a genuine channels-first shape gets no such hint, even when it fails for another reason
  expect(() => nn.sequential({ inputShape: [1, 4, 4], layers: [{ type: 'conv2d', filters: 4, kernelSize: 5 }] })).toThrow(/^(?!.*channels-first).*larger than the padded input/);
});
