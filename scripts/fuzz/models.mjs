// Model files for the fuzzer: small valid seeds saved by neurite itself, and structure-aware
// mutations of every layer of the format — the 8-byte header length, the JSON header (duplicate
// keys, dtypes, shapes, offsets, metadata), the topology inside it (numbers, fields, nesting,
// layer counts) and the tensor bytes. Many mutations keep the tensors consistent with the
// topology (geometry of convolutions and pools, input sizes of fully-convolutional models,
// activations), so the file loads and the case goes on to predict and fit.
import { interestingNumber } from './random.mjs';

/** Small models covering every layer type; each saved file is a seed. */
export const SEED_TOPOLOGIES = [
  { inputShape: [4], layers: [{ type: 'dense', units: 8, activation: 'relu' }, { type: 'dense', units: 3, activation: 'softmax' }] },
  { inputShape: [1, 8, 8], layers: [
    { type: 'conv2d', filters: 4, kernelSize: 3, padding: 'same', activation: 'relu' }, { type: 'maxPool2d', poolSize: 2 },
    { type: 'flatten' }, { type: 'dense', units: 3, activation: 'softmax' }] },
  { inputShape: [2, 6, 6], layers: [
    { type: 'conv2d', filters: 3, kernelSize: 3, padding: 1, activation: 'tanh' }, { type: 'avgPool2d', poolSize: 2, padding: 'same' },
    { type: 'conv2d', filters: 2, kernelSize: [2, 3], dilation: 2, padding: 'full', activation: 'elu' }] },
  { inputShape: [1, 6, 6], layers: [
    { type: 'conv2d', filters: 2, kernelSize: 3, padding: 'same' },
    { type: 'residual', activation: 'relu', layers: [
      { type: 'conv2d', filters: 2, kernelSize: 3, padding: 'same', activation: 'relu' }, { type: 'conv2d', filters: 2, kernelSize: 3, padding: 'same' }] },
    { type: 'residual', layers: [{ type: 'conv2d', filters: 4, kernelSize: 3, stride: 2, padding: 'same' }] },
    { type: 'flatten' }, { type: 'dropout', rate: 0.3 }, { type: 'dense', units: 2, activation: 'sigmoid' }] },
  { inputShape: [3, 9, 9], layers: [
    { type: 'maxPool2d', poolSize: 3, stride: 1, padding: 1 }, { type: 'avgPool2d', poolSize: 2 },
    { type: 'reshape', targetShape: [3, 16] }, { type: 'flatten' }] },
  { inputShape: [5], layers: [
    { type: 'residual', layers: [{ type: 'dense', units: 5, activation: 'prelu' }, { type: 'dense', units: 5 }] },
    { type: 'dense', units: 7, activation: 'gelu' }, { type: 'residual', activation: 'swish', layers: [{ type: 'dense', units: 3 }] },
    { type: 'dense', units: 1 }] },
  { inputShape: [1, 5, 5], layers: [{ type: 'conv2d', filters: 2, kernelSize: 2, stride: 2, padding: 'same', activation: 'leakyRelu', alpha: 0.2 }] },
  { inputShape: [5, 3], layers: [
    { type: 'lstm', units: 4, returnSequences: true }, { type: 'gru', units: 3 }, { type: 'dense', units: 2, activation: 'softmax' }] },
  { inputShape: [6], layers: [
    { type: 'embedding', inputDim: 7, outputDim: 3 }, { type: 'simpleRnn', units: 3, returnSequences: true, activation: 'relu' },
    { type: 'dense', units: 2 }, { type: 'activation', activation: 'tanh' }] },
  { inputShape: [2, 6, 6], layers: [
    { type: 'conv2d', filters: 3, kernelSize: 3, useBias: false }, { type: 'batchNormalization', activation: 'relu' },
    { type: 'globalAvgPool2d' }, { type: 'dense', units: 4, useBias: false }, { type: 'batchNormalization', momentum: 0.2 },
    { type: 'dense', units: 2 }] },
];

// ---- the file format ----------------------------------------------------------------------

/** { headerText, header, data } of a well-formed file (the seeds are). */
export function parseFile(bytes) {
  const n = new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true);
  const headerText = new TextDecoder().decode(bytes.subarray(8, 8 + n));
  return { header: JSON.parse(headerText), data: bytes.slice(8 + n) };
}

/** Header text and data as a file; `length` overrides the header length field (a u64). */
export function assemble(headerText, data, length) {
  const json = new TextEncoder().encode(headerText);
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(length ?? json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

// ---- walking a topology ---------------------------------------------------------------------

/** Every layer object in a topology, nested ones included (iterative: topologies get deep). */
function allLayers(topo) {
  const out = [];
  const stack = [Array.isArray(topo?.layers) ? topo.layers : []];
  while (stack.length > 0) {
    const list = stack.pop();
    for (const l of list) {
      if (typeof l !== 'object' || l === null) continue;
      out.push(l);
      if (Array.isArray(l.layers) && out.length < 10_000) stack.push(l.layers);
    }
  }
  return out;
}

/** Every [object, key] whose value is a number, in the topology. */
function numberSlots(topo) {
  const out = [];
  const stack = [topo];
  while (stack.length > 0 && out.length < 10_000) {
    const v = stack.pop();
    if (typeof v !== 'object' || v === null) continue;
    for (const k of Object.keys(v)) {
      if (typeof v[k] === 'number') out.push([v, k]);
      else stack.push(v[k]);
    }
  }
  return out;
}

function randomValue(r) {
  return r.pick([
    () => interestingNumber(r), () => [interestingNumber(r), interestingNumber(r)], () => r.pick(['same', 'valid', 'full', 'relu', '']),
    () => null, () => ({}), () => [], () => true, () => 'x'.repeat(r.pick([1, 129, 5000])),
  ])();
}

const FIELDS = ['units', 'filters', 'kernelSize', 'stride', 'padding', 'dilation', 'poolSize', 'rate', 'targetShape',
  'activation', 'alpha', 'name', 'type', 'layers', 'returnSequences', 'inputDim', 'outputDim', 'momentum', 'epsilon', 'useBias'];
const TYPES = ['dense', 'conv2d', 'maxPool2d', 'avgPool2d', 'flatten', 'reshape', 'dropout', 'residual', 'lstm', 'gru',
  'simpleRnn', 'embedding', 'batchNormalization', 'globalAvgPool2d', 'activation', 'Dense', ''];

/** A random small layer config, for insertion. */
function randomLayer(r) {
  return r.pick([
    () => ({ type: 'dense', units: r.range(1, 8), activation: r.pick(['relu', 'softmax', 'sigmoid', 'step', 'prelu']) }),
    () => ({ type: 'conv2d', filters: r.range(1, 4), kernelSize: r.range(1, 4), padding: r.pick(['same', 'valid', 'full', r.range(0, 3)]) }),
    () => ({ type: r.pick(['maxPool2d', 'avgPool2d']), poolSize: r.range(1, 4), stride: r.range(1, 3) }),
    () => ({ type: 'flatten' }), () => ({ type: 'dropout', rate: r.next() }),
    () => ({ type: 'residual', layers: [{ type: 'dropout', rate: 0 }] }),
    () => ({ type: r.pick(['lstm', 'gru', 'simpleRnn']), units: r.range(1, 6), returnSequences: r.chance(0.5) }),
    () => ({ type: 'batchNormalization' }), () => ({ type: 'globalAvgPool2d' }),
    () => ({ type: r.pick(TYPES) }),
  ])();
}

// ---- mutations of the topology (consistent ones keep the tensors valid) ----------------------

// JSON.stringify recurses and overflows near 3,000 levels of residual blocks, so deep nesting is
// recorded on the side and spelled out as text.
const NEST = Symbol('nest');

function topologyText(topo) {
  const depth = topo[NEST] ?? 0;
  if (depth === 0) return JSON.stringify(topo);
  const layers = '[{"type":"residual","layers":'.repeat(depth) + JSON.stringify(topo.layers) + '}]'.repeat(depth);
  return JSON.stringify({ ...topo, layers: '@layers@' }).replace('"@layers@"', layers);
}

const TOPOLOGY_MUTATIONS = {
  /** a number anywhere (units, a kernel size, an inputShape entry…) becomes a boundary value */
  number(topo, r) {
    const slots = numberSlots(topo);
    if (slots.length === 0) return;
    const [o, k] = r.pick(slots);
    o[k] = r.chance(0.8) ? interestingNumber(r) : randomValue(r);
  },
  /** a layer field takes a value of any type */
  field(topo, r) {
    const layers = allLayers(topo);
    if (layers.length > 0) r.pick(layers)[r.pick(FIELDS)] = randomValue(r);
  },
  /** convolution and pooling geometry (tensors stay consistent) */
  geometry(topo, r) {
    const layers = allLayers(topo).filter((l) => l.type === 'conv2d' || /Pool2d$/.test(l.type));
    if (layers.length === 0) return;
    const l = r.pick(layers);
    const f = r.pick(l.type === 'conv2d' ? ['kernelSize', 'stride', 'padding', 'dilation'] : ['poolSize', 'stride', 'padding']);
    const small = () => r.pick([0, 1, 2, 3, 5, r.range(1, 40), r.range(1, 3000), 6000, 12028, 65536]);
    l[f] = f === 'padding' && r.chance(0.4) ? r.pick(['same', 'valid', 'full']) : r.chance(0.7) ? small() : [small(), small()];
  },
  /** the input grows or shrinks: fully-convolutional models stay loadable */
  inputShape(topo, r) {
    const s = topo.inputShape;
    if (!Array.isArray(s)) return;
    if (r.chance(0.3)) {
      topo.inputShape = r.pick([[2 ** 24], [2 ** 23], [1, 4096, 4096], [1, 2000, 2000], [], [0], [1, 1, 1, 1, 1, 1, 1, 1, 1], [-1], [1.5]]);
      return;
    }
    const i = r.int(s.length);
    s[i] = r.pick([1, 2, 3, s[i] * 2, s[i] * 10, s[i] * 100, r.range(1, 5000)]);
  },
  activation(topo, r) {
    const layers = allLayers(topo);
    if (layers.length > 0) r.pick(layers).activation = r.pick(['relu', 'softmax', 'step', 'prelu', 'gelu', 'linear', 'tanh', 'nope']);
  },
  /** residual blocks nested `depth` deep around the layer list (written as text: see topologyText) */
  nest(topo, r) {
    topo[NEST] = (topo[NEST] ?? 0) + r.pick([1, 2, 31, 32, 33, 100, 1000, 3000, 20_000]);
  },
  /** one layer repeated many times (shape-keeping layers make long valid models) */
  repeat(topo, r) {
    const layers = topo.layers;
    if (!Array.isArray(layers) || layers.length === 0) return;
    // the 200,000-layer file (10 MB) is rare: it is slow to generate, not to refuse
    const count = r.chance(0.03) ? 200_000 : r.pick([2, 2, 10, 10, 100, 4095, 4097, 30_000]);
    const pick = layers[r.int(layers.length)];
    // copies of a block that holds copies would multiply past any file size: repeat leaves only
    const keep = r.chance(0.5) || Array.isArray(pick?.layers) ? { type: r.pick(['dropout', 'flatten']), rate: 0 } : pick;
    const at = r.int(layers.length + 1);
    const copies = Array.from({ length: count }, (_, i) => ({ ...keep, name: keep.type === 'dropout' || keep.type === 'flatten' ? `f${i}` : keep.name }));
    if (r.chance(0.5)) layers.splice(at, 0, ...copies.slice(0, 50_000));
    else layers.splice(at, 0, { type: 'residual', layers: copies });
  },
  insert(topo, r) {
    if (Array.isArray(topo.layers)) topo.layers.splice(r.int(topo.layers.length + 1), 0, randomLayer(r));
  },
  remove(topo, r) {
    if (Array.isArray(topo.layers) && topo.layers.length > 0) topo.layers.splice(r.int(topo.layers.length), 1);
  },
  duplicateName(topo, r) {
    const layers = allLayers(topo);
    if (layers.length > 1) r.pick(layers).name = r.pick(layers).name ?? 'dense_0';
  },
  format(topo, r) {
    topo.format = r.pick([0, 2, '1', null, undefined]);
  },
};

// ---- mutations of the header and bytes --------------------------------------------------------

/** A key of some object in `text` written again right after its own entry's object opens. */
function duplicateKey(text, r) {
  // keys near the start only: the regex backtracks badly over long escaped strings
  const keys = [...text.slice(0, 4096).matchAll(/"((?:[^"\\]|\\.)*)"\s*:/g)];
  if (keys.length === 0) return text;
  const m = r.pick(keys);
  // put `"key": <value>,` just after the opening brace of the object that holds it
  const open = text.lastIndexOf('{', m.index);
  const value = r.pick(['1', '"F32"', '[1]', '{}', 'null', '"x"']);
  const key = r.chance(0.2) ? `"${m[1].replace(/^./, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)}"` : `"${m[1]}"`;
  return `${text.slice(0, open + 1)}${key}:${value},${text.slice(open + 1)}`;
}

function tensorEntries(header) {
  return Object.keys(header).filter((k) => k !== '__metadata__');
}

const HEADER_MUTATIONS = {
  dtype(h, r) {
    const names = tensorEntries(h);
    if (names.length) h[r.pick(names)].dtype = r.pick(['F16', 'BF16', 'F64', 'I8', 'BOOL', 'F32 ', 'f32', 'X', 32, null]);
  },
  shape(h, r) {
    const names = tensorEntries(h);
    if (!names.length) return;
    const t = h[r.pick(names)];
    t.shape = r.pick([
      () => [], () => [0], () => [...t.shape, 1], () => t.shape.slice(1), () => t.shape.map(() => interestingNumber(r)),
      () => [2 ** 31, 2 ** 31], () => [-1], () => [1.5], () => 'x', () => t.shape.slice().reverse(),
    ])();
  },
  offsets(h, r) {
    const names = tensorEntries(h);
    if (!names.length) return;
    const t = h[r.pick(names)];
    const [b, e] = t.data_offsets;
    t.data_offsets = r.pick([[e, b], [b, e + 4], [b - 4, e - 4], [b, 2 ** 53], [0, 0], [b], [b, e, 0], [-1, e], [b + 0.5, e], [interestingNumber(r), interestingNumber(r)]]);
  },
  dropTensor(h, r) {
    const names = tensorEntries(h);
    if (names.length) delete h[r.pick(names)];
  },
  copyTensor(h, r) {
    const names = tensorEntries(h);
    if (names.length) h[r.pick(['extra', `${r.pick(names)}x`, '__proto__', 'constructor'])] = { ...h[r.pick(names)] };
  },
  metadata(h, r) {
    h.__metadata__ = r.pick([
      () => undefined, () => ({}), () => ({ neurite: 5 }), () => ({ ...h.__metadata__, neurite: '{' }),
      () => ({ ...h.__metadata__, neurite: 'null' }), () => ({ ...h.__metadata__, extra: 'x' }), () => [], () => 'x',
    ])();
  },
};

const BYTE_MUTATIONS = {
  headerLength(bytes, r) {
    const n = new DataView(bytes.buffer).getBigUint64(0, true);
    const v = r.pick([0n, 1n, 7n, n - 1n, n + 1n, n + 8n, 2n ** 24n, 2n ** 32n + n, 2n ** 63n, BigInt(bytes.length)]);
    new DataView(bytes.buffer).setBigUint64(0, v < 0n ? 0n : v, true);
    return bytes;
  },
  flip(bytes, r) {
    for (let i = r.range(1, 8); i > 0; i--) bytes[r.int(bytes.length)] ^= 1 << r.int(8);
    return bytes;
  },
  truncate(bytes, r) { return bytes.slice(0, r.int(bytes.length)); },
  append(bytes, r) {
    const out = new Uint8Array(bytes.length + r.range(1, 64));
    out.set(bytes);
    return out;
  },
  /** weights become NaN, ±Infinity, huge-but-finite or subnormal */
  values(bytes, r) {
    const n = new DataView(bytes.buffer).getUint32(0, true);
    const start = 8 + n;
    const floats = Math.floor((bytes.length - start) / 4);
    if (floats <= 0) return bytes;
    const view = new DataView(bytes.buffer);
    for (let i = r.range(1, 4); i > 0; i--) view.setFloat32(start + 4 * r.int(floats), r.pick([NaN, Infinity, -Infinity, 3e38, -3e38, 1e30, 1e-45]), true);
    return bytes;
  },
};

/**
 * A mutation may not apply to what an earlier one left (a shape that is now a string, say):
 * then it is skipped. Only the generator's own errors are caught here, never the runtime's.
 */
function tryMutation(apply) {
  try {
    apply();
    return true;
  } catch {
    return false;
  }
}

/**
 * One mutated model file from a seed file: returns { bytes, what } where `what` lists the
 * mutations applied (the case's description in the summary).
 */
export function mutateModel(seed, r) {
  const { header, data } = parseFile(seed);
  const what = [];
  let topo;
  try { topo = JSON.parse(header.__metadata__.neurite); } catch { topo = undefined; }
  const rounds = r.range(1, 3);
  let dupTopology = false;
  let dupHeader = false;
  for (let i = 0; i < rounds; i++) {
    const layer = r.next();
    if (layer < 0.55 && topo) {
      const name = r.pick(Object.keys(TOPOLOGY_MUTATIONS));
      if (tryMutation(() => TOPOLOGY_MUTATIONS[name](topo, r))) what.push(`topology.${name}`);
    } else if (layer < 0.8) {
      const name = r.pick(Object.keys(HEADER_MUTATIONS));
      if (tryMutation(() => HEADER_MUTATIONS[name](header, r))) what.push(`header.${name}`);
    } else if (layer < 0.9) {
      if (r.chance(0.5)) dupTopology = true; else dupHeader = true;
      what.push(dupTopology ? 'topology.duplicateKey' : 'header.duplicateKey');
    }
  }
  if (topo && header.__metadata__ && typeof header.__metadata__ === 'object' && !Array.isArray(header.__metadata__)) {
    // a topology grown past what a string can hold is not a file anyone can send: keep the seed's
    let text;
    try { text = topologyText(topo); } catch { text = header.__metadata__.neurite; what.push('(too big, seed topology kept)'); }
    if (dupTopology) text = duplicateKey(text, r);
    header.__metadata__.neurite = text;
  }
  let headerText = JSON.stringify(header);
  if (dupHeader) headerText = duplicateKey(headerText, r);
  let bytes = assemble(headerText, data);
  if (what.length === 0 || r.chance(0.25)) {
    const name = r.pick(Object.keys(BYTE_MUTATIONS));
    bytes = BYTE_MUTATIONS[name](bytes, r);
    what.push(`bytes.${name}`);
  }
  return { bytes, what: what.join('+') };
}
