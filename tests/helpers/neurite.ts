// A neurite runtime on one named build, loaded from build/ explicitly (as a caller may).
import { init, type Neurite } from '../../src/node';
import { wasmBytes, type Build } from './wasm';

const cache = new Map<Build, Promise<Neurite>>();

export function runtime(build: Build): Promise<Neurite> {
  let nn = cache.get(build);
  if (!nn) {
    nn = init({ wasm: wasmBytes(build), build });
    cache.set(build, nn);
  }
  return nn;
}
