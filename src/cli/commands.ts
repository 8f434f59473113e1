// Every command's flags, defaults and help in one table: parsing and --help both read it.
import type { CommandSpec } from './args';

export const EVAL: CommandSpec = {
  name: 'eval',
  usage: '<model.safetensors>',
  summary: 'accuracy, loss and speed of a model file on MNIST',
  flags: {
    data: { type: 'string', default: 'mnist-test', choices: ['mnist-test', 'mnist-train'], help: 'the images to evaluate on' },
    limit: { type: 'number', integer: true, help: 'only the first N images (default all)' },
    build: { type: 'string', default: 'auto', choices: ['auto', 'relaxed', 'simd', 'scalar'], help: 'the wasm build to run' },
  },
};

export const PREDICT: CommandSpec = {
  name: 'predict',
  usage: '<model.safetensors> <image.png|.pgm>...',
  summary: 'the digit in each image (any size, scaled the MNIST way); exit 1 if any has no digit',
  flags: {},
};

export const TRAIN: CommandSpec = {
  name: 'train',
  usage: '',
  summary: 'train an MNIST model with neurite itself and save it (written atomically)',
  flags: {
    arch: { type: 'string', default: 'mlp', choices: ['mlp', 'cnn'], help: 'an MLP, or the LeNet-style CNN' },
    layers: { type: 'string', default: '128', arg: 'N,N,...', help: 'MLP hidden layer widths' },
    activation: { type: 'string', default: 'relu', arg: 'NAME', help: 'MLP hidden activation' },
    epochs: { type: 'number', default: 10, integer: true, help: 'passes over the data' },
    'batch-size': { type: 'number', default: 64, integer: true, help: 'samples per step' },
    lr: { type: 'number', default: 0.001, help: 'Adam learning rate (cosine decay to 1% of it)' },
    seed: { type: 'number', default: 1, help: 'initialisation, shuffling and augmentation seed' },
    augment: { type: 'number', default: 0, help: 'shift every digit by up to N pixels each epoch' },
    limit: { type: 'number', integer: true, help: 'only the first N training images (default all 60,000)' },
    out: { type: 'string', default: 'mnist-mlp.safetensors', arg: 'FILE', help: 'where to save the model' },
  },
};

export const BENCH: CommandSpec = {
  name: 'bench',
  usage: '',
  summary: 'kernel and model speed per build, side by side (medians of repeated runs)',
  flags: {
    quick: { type: 'boolean', help: 'fewer repetitions and less data' },
    only: { type: 'string', choices: ['rnn', 'cnn', 'web'], help: 'run one part only' },
  },
};

export const COMMANDS: readonly CommandSpec[] = [EVAL, PREDICT, TRAIN, BENCH];
