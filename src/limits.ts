// The caps every topology is held to, whether it comes from code (nn.sequential) or from a file
// (nn.load). A model file is untrusted: these bounds are what keep a 139-byte file from asking
// for gigabytes or minutes. Each is far above what an edge model needs (the shipped MNIST CNN
// uses 9 layers, ~0.1 M activation floats and ~2 M multiply-adds per sample). README lists them.

/** Layers in a topology, every residual block's inner layers included. */
export const MAX_LAYERS = 4096;
/** Residual blocks inside residual blocks. */
export const MAX_NESTING = 32;
/** Entries of an inputShape or a reshape targetShape. */
export const MAX_RANK = 8;
/** Learnable values of a model (2^26: 256 MiB of float32, 1.5 GiB with Adam's state while training). */
export const MAX_PARAMETERS = 1 << 26;
/**
 * Floats one sample needs in an inference pass: its input, every layer's outputs (and what the
 * layer saves for backward) and the largest scratch (a convolution's im2col). 2^22 is 16 MiB,
 * so a training step on a few such samples (gradients double it) stays within a few hundred MiB.
 */
export const MAX_ACTIVATION_FLOATS = 1 << 22;
/**
 * Multiply-adds (or window reads, for pooling) of one sample's forward pass: 2^28 ≈ 2.7e8, about
 * 20 ms on the SIMD builds, so a hostile file cannot make one sample cost seconds.
 */
export const MAX_OPERATIONS = 1 << 28;
/** JSON values in a topology, and how deep they may nest: bounds any walk over it. */
export const MAX_TOPOLOGY_VALUES = 1 << 20;
export const MAX_TOPOLOGY_DEPTH = 2 * MAX_NESTING + 16;
/** Floats an array handed to predict/fit/evaluate may hold (2^28: 1 GiB). */
export const MAX_CALL_FLOATS = 1 << 28;
/** A predict/evaluate chunk's activations stay under this many floats (2^24: 64 MiB). */
export const CHUNK_FLOATS = 1 << 24;
/** Longest error message: an error never carries a copy of a hostile input. */
export const MAX_MESSAGE_CHARS = 1024;
