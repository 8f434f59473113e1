import { MAX_MESSAGE_CHARS } from './limits';

/** Stable machine-readable reasons a neurite call can fail. */
export type NeuriteErrorCode =
  | 'INVALID_ARGUMENT'   // an option or argument has the wrong type or value
  | 'UNKNOWN_NAME'       // unknown layer type, activation, loss, optimizer or schedule
  | 'SHAPE_MISMATCH'     // input/label length or weight shape does not fit the model
  | 'NON_FINITE'         // NaN or ±Infinity in inputs, targets or weights
  | 'LABEL_OUT_OF_RANGE' // a class index outside [0, classes)
  | 'TOO_LARGE'          // a request or file beyond the runtime's bounds
  | 'MALFORMED_FILE'     // a model file that is truncated, inconsistent or not safetensors
  | 'UNSUPPORTED'        // valid but not supported (a dtype, a backward through step)
  | 'DIVERGED'           // training produced a non-finite loss or gradient
  | 'ABORTED'            // training was stopped through its AbortSignal
  | 'DISPOSED'           // the model was used after dispose()
  | 'BUSY'               // the model is in the middle of a fit: one operation at a time
  | 'NO_DIGIT'           // an image with no digit in it (blank, a speck, a page of text)
  | 'WASM_UNAVAILABLE';  // no WebAssembly build could be loaded here

/** Every error neurite throws on purpose is a NeuriteError with a stable `code`. */
export class NeuriteError extends Error {
  readonly code: NeuriteErrorCode;

  constructor(code: NeuriteErrorCode, message: string) {
    // bounded, so an error never carries (or costs) a copy of a hostile input
    super(message.length > MAX_MESSAGE_CHARS ? `${message.slice(0, MAX_MESSAGE_CHARS - 1)}…` : message);
    this.name = 'NeuriteError';
    this.code = code;
  }
}
