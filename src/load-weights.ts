// A file's tensors matched against the parameters a topology declares, before the model
// allocates anything: every tensor named, shaped and finite as the topology needs, none missing,
// none extra. Loading then writes these values and never runs random initialisation, so a file
// that declares a huge layer without its weights costs nothing but this check.
import { NeuriteError } from './errors';
import type { ParamSlot } from './layers/layer';

export interface TensorValues {
  shape: readonly number[];
  dtype?: 'F32' | 'I64';
  data: Float32Array;
}

const quote = (name: string): string => JSON.stringify(name.length > 200 ? `${name.slice(0, 200)}…` : name);

/** Each parameter slot with its values in the layer's internal layout. */
export function matchTensors(slots: ReadonlyMap<string, ParamSlot>, tensors: ReadonlyMap<string, TensorValues>): Map<ParamSlot, Float32Array> {
  for (const name of slots.keys()) {
    if (!tensors.has(name)) throw new NeuriteError('SHAPE_MISMATCH', `load: the file has no tensor ${quote(name)}, which the topology needs`);
  }
  const out = new Map<ParamSlot, Float32Array>();
  for (const [name, t] of tensors) {
    const slot = slots.get(name);
    if (!slot) throw new NeuriteError('SHAPE_MISMATCH', `load: the file has a tensor ${quote(name)} that the topology does not`);
    if (t.shape.length !== slot.shape.length || t.shape.some((d, i) => d !== slot.shape[i])) {
      throw new NeuriteError('SHAPE_MISMATCH',
        `load: ${quote(name)} has shape [${t.shape.slice(0, 8).join(', ')}], the topology needs [${slot.shape.join(', ')}]`);
    }
    if ((t.dtype ?? 'F32') !== (slot.dtype ?? 'F32')) {
      throw new NeuriteError('SHAPE_MISMATCH', `load: ${quote(name)} has dtype ${t.dtype}, the topology needs ${slot.dtype ?? 'F32'}`);
    }
    const v = t.data;
    for (let i = 0; i < v.length; i++) {
      if (!Number.isFinite(v[i])) throw new NeuriteError('NON_FINITE', `load: ${quote(name)}[${i}] is ${v[i]}`);
    }
    out.set(slot, slot.fromTorch ? slot.fromTorch(v) : v);
  }
  return out;
}
