// Trains the shipped MNIST model with neurite itself (the `neurite train` command) and writes
// models/mnist-mlp.safetensors. Deterministic: the seed fixes initialisation and shuffling.
//   node scripts/train-mnist-mlp.mjs
import { execFileSync } from 'node:child_process';

execFileSync(process.execPath, [
  'dist/cli.js', 'train',
  '--layers', '256,128',
  '--activation', 'relu',
  '--epochs', '20',
  '--batch-size', '64',
  '--lr', '0.001',
  '--seed', '3',
  '--limit', '55000', // the last 5,000 training images are held out: they choose the seed and fit the temperature
  '--out', 'models/mnist-mlp.safetensors',
], { stdio: 'inherit' });
