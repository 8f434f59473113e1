// The whole host↔wasm ABI. Kernels take pointers into this module's memory and sizes, never
// allocate and keep no state; the host owns the memory plan (see src/wasm.ts).

export { gemm, gemm_reference } from './gemm';
export { dense_forward, dense_backward, column_sum } from './dense';
export {
  step_forward,
  linear_forward, linear_backward,
  sigmoid_forward, sigmoid_backward,
  tanh_forward, tanh_backward,
  relu_forward, relu_backward,
  leaky_relu_forward, leaky_relu_backward,
  elu_forward, elu_backward,
  swish_forward, swish_backward,
  gelu_forward, gelu_backward,
  prelu_forward, prelu_backward,
  softmax_forward, softmax_backward,
} from './activations';
export {
  mse_forward, mse_backward,
  mae_forward, mae_backward,
  mape_forward, mape_backward,
  msle_forward, msle_backward,
  sse_forward, sse_backward,
  huber_forward, huber_backward,
  binary_crossentropy_forward, binary_crossentropy_backward,
  sigmoid_binary_crossentropy_forward, sigmoid_binary_crossentropy_backward,
  categorical_crossentropy_forward, categorical_crossentropy_backward,
  softmax_crossentropy_forward, softmax_crossentropy_backward,
} from './losses';
export { sgd_update, momentum_update, adagrad_update, rmsprop_update, adam_update } from './optimizers';
export {
  fill_zero, axpy, count_nonfinite, add_forward, dropout_forward, dropout_backward, sum_squares, scale, clip_values, scale_rows,
} from './memory';
export {
  seq_transpose,
  rnn_forward, rnn_backward,
  lstm_forward, lstm_backward,
  gru_forward, gru_backward,
  embedding_forward, embedding_backward,
} from './recurrent';
export { im2col, col2im, conv2d_im2col_forward, conv2d_im2col_backward } from './conv';
export { conv2d_indirect_workspace, conv2d_indirect_forward, conv2d_indirect_backward } from './conv_indirect';
export { batchnorm_forward_train, batchnorm_forward_eval, batchnorm_backward } from './batchnorm';
export { maxpool2d_forward, maxpool2d_backward, avgpool2d_forward, avgpool2d_backward } from './pool';

import { GEMM_SCRATCH_BYTES } from './gemm';

/** Which instruction set this build was compiled for: 0 scalar, 1 SIMD128, 2 relaxed SIMD. */
export function build_id(): i32 {
  if (ASC_FEATURE_RELAXED_SIMD) return 2;
  if (ASC_FEATURE_SIMD) return 1;
  return 0;
}

/** First byte the host may use: everything below belongs to the module's static data. */
export function heap_base(): usize {
  return (__heap_base + 15) & ~<usize>15;
}

/** Bytes of scratch every gemm-based kernel needs. */
export function gemm_scratch_bytes(): i32 {
  return GEMM_SCRATCH_BYTES;
}
