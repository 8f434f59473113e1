import type { LayerConfig } from '../layers/config';
// The MNIST architectures the CLI trains and benchmarks.

/** LeNet-style: two 5x5 convolution + pooling stages, then a dense classifier. */
export const MNIST_CNN: LayerConfig[] = [
  { type: 'conv2d', filters: 16, kernelSize: 5, padding: 'same', activation: 'relu' },
  { type: 'maxPool2d', poolSize: 2 },
  { type: 'conv2d', filters: 32, kernelSize: 5, padding: 'same', activation: 'relu' },
  { type: 'maxPool2d', poolSize: 2 },
  { type: 'flatten' },
  { type: 'dense', units: 128, activation: 'relu' },
  { type: 'dropout', rate: 0.3 },
  { type: 'dense', units: 10, activation: 'softmax' },
];
