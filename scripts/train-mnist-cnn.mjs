// Trains the shipped MNIST CNN with neurite itself (`neurite train --arch cnn`) and writes
// models/mnist-cnn.safetensors. Deterministic: the seed fixes initialisation, shuffling,
// dropout masks and the augmentation shifts.
//   node scripts/train-mnist-cnn.mjs
import { execFileSync } from 'node:child_process';

execFileSync(process.execPath, [
  'dist/cli.js', 'train',
  '--arch', 'cnn',
  '--epochs', '15',
  '--batch-size', '64',
  '--lr', '0.001',
  '--augment', '2',
  '--seed', '1',
  '--limit', '55000', // the last 5,000 training images are held out for the temperature
  '--out', 'models/mnist-cnn.safetensors',
], { stdio: 'inherit' });
