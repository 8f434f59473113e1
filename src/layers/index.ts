// The one table of layer types. A new type is a file in this folder and a row here.
import { NeuriteError } from '../errors';
import { checkKeys, closest } from '../options';
import { Activation, type ActivationConfig } from './activation';
import { BatchNormalization, type BatchNormalizationConfig } from './batchnorm';
import { Conv2d, type Conv2dConfig } from './conv2d';
import { Dense, type DenseConfig } from './dense';
import { Dropout, type DropoutConfig } from './dropout';
import { Embedding, type EmbeddingConfig } from './embedding';
import { GlobalAvgPool2d, type GlobalAvgPool2dConfig } from './global-pool';
import type { LayerConfig } from './config';
import type { Layer, ParamSlot } from './layer';
import { Pool2d, type Pool2dConfig } from './pool2d';
import { Recurrent, type RecurrentConfig } from './recurrent';
import { Reshape, type ReshapeConfig } from './reshape';
import { Residual, type ResidualConfig } from './residual';

type Factory = (name: string, cfg: LayerConfig, inputShape: readonly number[]) => Layer;

export const LAYER_TYPES: ReadonlyMap<string, Factory> = new Map<string, Factory>([
  ['dense', (name, cfg, shape) => new Dense(name, cfg as DenseConfig, shape)],
  ['conv2d', (name, cfg, shape) => new Conv2d(name, cfg as Conv2dConfig, shape)],
  ['maxPool2d', (name, cfg, shape) => new Pool2d(name, cfg as Pool2dConfig, shape)],
  ['avgPool2d', (name, cfg, shape) => new Pool2d(name, cfg as Pool2dConfig, shape)],
  ['batchNormalization', (name, cfg, shape) => new BatchNormalization(name, cfg as BatchNormalizationConfig, shape)],
  ['globalAvgPool2d', (name, cfg, shape) => new GlobalAvgPool2d(name, cfg as GlobalAvgPool2dConfig, shape)],
  ['activation', (name, cfg, shape) => new Activation(name, cfg as ActivationConfig, shape)],
  ['flatten', (name, cfg, shape) => new Reshape(name, cfg as ReshapeConfig, shape)],
  ['reshape', (name, cfg, shape) => new Reshape(name, cfg as ReshapeConfig, shape)],
  ['dropout', (name, cfg, shape) => new Dropout(name, cfg as DropoutConfig, shape)],
  ['simpleRnn', (name, cfg, shape) => new Recurrent(name, cfg as RecurrentConfig, shape)],
  ['lstm', (name, cfg, shape) => new Recurrent(name, cfg as RecurrentConfig, shape)],
  ['gru', (name, cfg, shape) => new Recurrent(name, cfg as RecurrentConfig, shape)],
  ['embedding', (name, cfg, shape) => new Embedding(name, cfg as EmbeddingConfig, shape)],
  ['residual', (name, cfg, shape) => new Residual(name, cfg as ResidualConfig, shape, createLayer)],
]);

/** The options each layer type takes besides `type` and `name`: anything else is refused. */
export const LAYER_OPTIONS: ReadonlyMap<string, readonly string[]> = new Map<string, readonly string[]>([
  ['dense', ['units', 'activation', 'alpha', 'useBias']],
  ['conv2d', ['filters', 'kernelSize', 'stride', 'padding', 'dilation', 'activation', 'alpha', 'useBias']],
  ['maxPool2d', ['poolSize', 'stride', 'padding']],
  ['avgPool2d', ['poolSize', 'stride', 'padding']],
  ['globalAvgPool2d', []],
  ['batchNormalization', ['momentum', 'epsilon', 'activation', 'alpha']],
  ['activation', ['activation', 'alpha']],
  ['flatten', []],
  ['reshape', ['targetShape']],
  ['dropout', ['rate']],
  ['simpleRnn', ['units', 'returnSequences', 'activation']],
  ['lstm', ['units', 'returnSequences']],
  ['gru', ['units', 'returnSequences']],
  ['embedding', ['inputDim', 'outputDim']],
  ['residual', ['layers', 'activation', 'alpha']],
]);

/** Every parameter slot of `layers` under its full PyTorch-style name (`dense_0.weight`), in order. */
export function namedParams(layers: readonly Layer[]): Map<string, ParamSlot> {
  return new Map(layers.flatMap((l) => l.params.map((p): [string, ParamSlot] => [`${l.name}.${p.name}`, p])));
}

export function createLayer(cfg: LayerConfig, index: number, inputShape: readonly number[]): Layer {
  if (typeof cfg !== 'object' || cfg === null) {
    throw new NeuriteError('INVALID_ARGUMENT', `layer ${index}: expected an object like { type: 'dense', units: 10 }`);
  }
  const make = LAYER_TYPES.get(cfg.type);
  if (!make) {
    const near = typeof cfg.type === 'string' ? closest(cfg.type, [...LAYER_TYPES.keys()]) : undefined;
    throw new NeuriteError('UNKNOWN_NAME',
      `layer ${index}: unknown layer type ${JSON.stringify(cfg.type)}${near ? ` (did you mean ${JSON.stringify(near)}?)` : ''}; known: ${[...LAYER_TYPES.keys()].join(', ')}`);
  }
  checkKeys(cfg, ['type', 'name', ...LAYER_OPTIONS.get(cfg.type)!], `layer ${index} (${cfg.type})`);
  const name = cfg.name ?? `${cfg.type}_${index}`;
  if (typeof name !== 'string' || !/^[A-Za-z0-9_-]{1,128}$/.test(name)) {
    throw new NeuriteError('INVALID_ARGUMENT', `layer ${index}: name must be 1-128 characters of [A-Za-z0-9_-], got ${JSON.stringify(name)}`);
  }
  return make(name, cfg, inputShape);
}

export type { Layer, ParamSlot } from './layer';
export type * from './config';
