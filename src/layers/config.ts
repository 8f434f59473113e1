// The public shape of a layer config: one member per layer type, told apart by `type`, so a
// misspelt type or option is a compile error in TypeScript (and an INVALID_ARGUMENT at run time
// for JavaScript and for topologies read from files).
import type { ActivationConfig } from './activation';
import type { BatchNormalizationConfig } from './batchnorm';
import type { Conv2dConfig } from './conv2d';
import type { DenseConfig } from './dense';
import type { DropoutConfig } from './dropout';
import type { EmbeddingConfig } from './embedding';
import type { GlobalAvgPool2dConfig } from './global-pool';
import type { Pool2dConfig } from './pool2d';
import type { RecurrentConfig } from './recurrent';
import type { ReshapeConfig } from './reshape';
import type { ResidualConfig } from './residual';

export type LayerConfig =
  | DenseConfig
  | Conv2dConfig
  | Pool2dConfig
  | GlobalAvgPool2dConfig
  | BatchNormalizationConfig
  | ActivationConfig
  | ReshapeConfig
  | DropoutConfig
  | RecurrentConfig
  | EmbeddingConfig
  | ResidualConfig;

export type LayerType = LayerConfig['type'];

export type {
  ActivationConfig, BatchNormalizationConfig, Conv2dConfig, DenseConfig, DropoutConfig, EmbeddingConfig, GlobalAvgPool2dConfig, Pool2dConfig,
  RecurrentConfig, ReshapeConfig, ResidualConfig,
};
