// Back-propagation through a whole model against central differences of its loss: every
// parameter, through the public API (gradients() for the analytic side, setWeights() and
// evaluate() for the numeric side).
import type { LossName, Model, Samples, Targets } from '../../src/node';
import { expectGradClose } from './gradcheck';

function flat(record: Record<string, Float32Array>, names: string[]): Float64Array {
  return Float64Array.from(names.flatMap((n) => Array.from(record[n])));
}

function unflat(theta: Float64Array, like: Record<string, Float32Array>, names: string[]) {
  const out: Record<string, Float32Array> = {};
  let o = 0;
  for (const n of names) {
    out[n] = Float32Array.from(theta.subarray(o, o + like[n].length));
    o += like[n].length;
  }
  return out;
}

/** Throws a readable assertion naming the worst parameter index; restores the weights. */
export function gradcheckModel(model: Model, x: Samples, y: Targets, loss: LossName, label: string, h = 1e-2): void {
  const w = model.getWeights();
  const names = Object.keys(w);
  const analytic = model.gradients(x, y, { loss });
  const f = (theta: Float64Array) => {
    model.setWeights(unflat(theta, w, names));
    return model.evaluate(x, y, { loss }).loss;
  };
  try {
    expectGradClose(f, flat(w, names), flat(analytic, names), { label, h, rtol: 2e-2, atol: 2e-4 });
  } finally {
    model.setWeights(w);
  }
}
