import { describe, it, expect } from 'vitest';
import { NeuriteError, type NeuriteErrorCode } from '../../src/errors';
import { MAX_HEADER_BYTES, readSafetensors, writeSafetensors } from '../../src/io/safetensors';
import { mulberry32 as prng } from '../helpers/reference';

// --- helpers -----------------------------------------------------------------

/** Builds a file by hand so reader tests don't depend on the writer. */
function buildFile(
  header: string | object | Uint8Array,
  data: Uint8Array = new Uint8Array(0),
  headerLength?: bigint,
): Uint8Array {
  const json =
    header instanceof Uint8Array
      ? header
      : new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, headerLength ?? BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

function f32Bytes(values: number[]): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => view.setFloat32(i * 4, v, true));
  return out;
}

function bits(a: Float32Array): number[] {
  return Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));
}

function fromBits(words: number[]): Float32Array {
  return new Float32Array(new Uint32Array(words).buffer);
}

function expectNeuriteError(fn: () => unknown, code: NeuriteErrorCode): NeuriteError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught, `expected NeuriteError ${code}`).toBeInstanceOf(NeuriteError);
  const err = caught as NeuriteError;
  expect(err.code, err.message).toBe(code);
  return err;
}

function headerText(file: Uint8Array): string {
  const n = new DataView(file.buffer, file.byteOffset).getUint32(0, true);
  return new TextDecoder().decode(file.subarray(8, 8 + n));
}


// Bit patterns a float round trip through JS numbers could disturb.
const TRICKY_BITS = [
  0x80000000, // -0
  0x7fc00001, // quiet NaN with payload
  0xffbadbad, // negative NaN with payload
  0x7f800001, // signalling NaN
  0x7f800000, // +Infinity
  0xff800000, // -Infinity
  0x00000001, // smallest subnormal
  0x3f800000, // 1
];

function sampleTensors(): [string, { shape: number[]; data: Float32Array }][] {
  const rand = prng(7);
  const weights = new Float32Array(12).map(() => rand() * 2 - 1);
  // A view with a non-zero byteOffset, to check the writer honours it.
  const backing = new Float32Array(9);
  backing.set([9, 9, 9, 9, 9, 1, 2, 3, 4]);
  return [
    ['layers.0.weight', { shape: [3, 4], data: weights }],
    ['tricky', { shape: [2, 4], data: fromBits(TRICKY_BITS) }],
    ['scalar', { shape: [], data: new Float32Array([3.5]) }],
    ['empty', { shape: [0, 3], data: new Float32Array(0) }],
    ['layers.0.bias', { shape: [4], data: backing.subarray(5) }],
  ];
}

// --- writer + round trip -----------------------------------------------------

describe('writeSafetensors / readSafetensors round trip', () => {
  it('is bit-exact, keeps order and shapes, including a scalar and a zero-size tensor', () => {
    const input = sampleTensors();
    const file = readSafetensors(writeSafetensors(input));

    expect([...file.tensors.keys()]).toEqual(input.map(([name]) => name));
    for (const [name, { shape, data }] of input) {
      const entry = file.tensors.get(name)!;
      expect(entry.dtype).toBe('F32');
      expect(entry.shape).toEqual(shape);
      expect(entry.data).toBeInstanceOf(Float32Array);
      expect(bits(entry.data)).toEqual(bits(data));
    }
    expect(file.metadata).toEqual({});
  });

  it('accepts a Map and round trips what it read', () => {
    const first = readSafetensors(writeSafetensors(new Map(sampleTensors())));
    const again = readSafetensors(writeSafetensors(first.tensors));
    for (const [name, entry] of first.tensors) {
      expect(bits(again.tensors.get(name)!.data)).toEqual(bits(entry.data));
    }
  });

  it('pads the header with spaces so the data buffer starts 8-byte aligned', () => {
    // Name lengths 1..16 hit every residue of the header length mod 8.
    for (let len = 1; len <= 16; len++) {
      const bytes = writeSafetensors([['x'.repeat(len), { shape: [2], data: new Float32Array([1, 2]) }]]);
      const view = new DataView(bytes.buffer);
      const n = view.getUint32(0, true);
      expect(view.getUint32(4, true)).toBe(0);
      expect((8 + n) % 8).toBe(0);
      expect(bytes.length).toBe(8 + n + 8);

      const text = headerText(bytes);
      const json = JSON.stringify(JSON.parse(text));
      expect(text.startsWith(json)).toBe(true);
      expect(text.slice(json.length)).toMatch(/^ {0,7}$/);
      expect(readSafetensors(bytes).tensors.get('x'.repeat(len))!.data).toEqual(new Float32Array([1, 2]));
    }
  });

  it('writes the exact header layout the safetensors spec describes', () => {
    const bytes = writeSafetensors(
      [
        ['b', { shape: [1], data: new Float32Array([1]) }],
        ['a', { shape: [2, 1], data: new Float32Array([2, 3]) }],
      ],
      { format: 'pt' },
    );
    expect(JSON.parse(headerText(bytes))).toEqual({
      __metadata__: { format: 'pt' },
      b: { dtype: 'F32', shape: [1], data_offsets: [0, 4] },
      a: { dtype: 'F32', shape: [2, 1], data_offsets: [4, 12] },
    });
  });

  it('round trips metadata, and omits __metadata__ when absent or empty', () => {
    const metadata = { format: 'pt', note: 'héllo ✓ "quoted"\n', '': 'empty key' };
    const tensors = sampleTensors();
    expect(readSafetensors(writeSafetensors(tensors, metadata)).metadata).toEqual(metadata);

    expect(headerText(writeSafetensors(tensors))).not.toContain('__metadata__');
    expect(headerText(writeSafetensors(tensors, {}))).not.toContain('__metadata__');
  });

  it('writes a file with no tensors that reads back empty', () => {
    const file = readSafetensors(writeSafetensors([], { only: 'metadata' }));
    expect(file.tensors.size).toBe(0);
    expect(file.metadata).toEqual({ only: 'metadata' });
  });

  it('rejects a shape that does not match the data length', () => {
    const err = expectNeuriteError(
      () => writeSafetensors([['w', { shape: [2, 3], data: new Float32Array(5) }]]),
      'SHAPE_MISMATCH',
    );
    expect(err.message).toContain('"w"');
    expectNeuriteError(() => writeSafetensors([['s', { shape: [], data: new Float32Array(0) }]]), 'SHAPE_MISMATCH');
    expectNeuriteError(() => writeSafetensors([['z', { shape: [0], data: new Float32Array(1) }]]), 'SHAPE_MISMATCH');
  });

  it('rejects bad names, shapes, data and metadata', () => {
    const ok = { shape: [1], data: new Float32Array(1) };
    expectNeuriteError(() => writeSafetensors([['', ok]]), 'INVALID_ARGUMENT');
    expectNeuriteError(() => writeSafetensors([[42 as unknown as string, ok]]), 'INVALID_ARGUMENT');
    expectNeuriteError(() => writeSafetensors([['__metadata__', ok]]), 'INVALID_ARGUMENT');
    expectNeuriteError(() => writeSafetensors([['a', ok], ['a', ok]]), 'INVALID_ARGUMENT');
    expectNeuriteError(() => writeSafetensors([['a', { shape: [-1], data: new Float32Array(1) }]]), 'INVALID_ARGUMENT');
    expectNeuriteError(() => writeSafetensors([['a', { shape: [1.5], data: new Float32Array(1) }]]), 'INVALID_ARGUMENT');
    expectNeuriteError(
      () => writeSafetensors([['a', { shape: [1], data: new Float64Array(1) as unknown as Float32Array }]]),
      'INVALID_ARGUMENT',
    );
    expectNeuriteError(
      () => writeSafetensors([['a', ok]], { n: 1 as unknown as string }),
      'INVALID_ARGUMENT',
    );
  });
});

// --- reader on hand-built files ---------------------------------------------

describe('readSafetensors on hand-built files', () => {
  it('parses tensors listed out of order in the JSON, with unaligned, unpadded data', () => {
    // JSON order: b, metadata, empty, a; offset order: a, empty, b. The header
    // length is odd so every tensor sits at an unaligned file offset.
    const header =
      '{"b":{"dtype":"F32","shape":[3],"data_offsets":[8,20]},' +
      '"__metadata__":{"format":"pt"},' +
      '"empty":{"dtype":"F32","shape":[2,0],"data_offsets":[8,8]},' +
      '"a":{"dtype":"F32","shape":[1,2],"data_offsets":[0,8]}}';
    const padded = header.length % 2 === 0 ? header + ' ' : header;
    const bytes = buildFile(padded, f32Bytes([1.5, -2, 0.25, -0, 1e30]));
    expect((8 + padded.length) % 4).not.toBe(0);

    const file = readSafetensors(bytes);
    expect([...file.tensors.keys()]).toEqual(['b', 'empty', 'a']);
    expect(file.tensors.get('a')).toEqual({ dtype: 'F32', shape: [1, 2], data: new Float32Array([1.5, -2]) });
    expect(file.tensors.get('empty')).toEqual({ dtype: 'F32', shape: [2, 0], data: new Float32Array(0) });
    const b = file.tensors.get('b')!;
    expect(b.shape).toEqual([3]);
    expect(bits(b.data)).toEqual(bits(new Float32Array([0.25, -0, 1e30])));
    expect(file.metadata).toEqual({ format: 'pt' });
  });

  it('accepts trailing space padding in the header', () => {
    const header = '{"x":{"dtype":"F32","shape":[],"data_offsets":[0,4]}}' + ' '.repeat(13);
    const file = readSafetensors(buildFile(header, f32Bytes([7])));
    expect(file.tensors.get('x')!.data).toEqual(new Float32Array([7]));
  });

  it('parses a file living inside a larger buffer', () => {
    const inner = writeSafetensors(sampleTensors());
    const outer = new Uint8Array(inner.length + 13);
    outer.set(inner, 5);
    const file = readSafetensors(outer.subarray(5, 5 + inner.length));
    expect(bits(file.tensors.get('tricky')!.data)).toEqual(TRICKY_BITS);
  });

  it('copies tensor data instead of aliasing the input buffer', () => {
    const bytes = buildFile('{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}', f32Bytes([1, 2]));
    const data = readSafetensors(bytes).tensors.get('x')!.data;
    expect(data.buffer).not.toBe(bytes.buffer);
    bytes.fill(0xff);
    expect(data).toEqual(new Float32Array([1, 2]));
  });

  it('keeps a "__proto__" tensor name and metadata key as plain data', () => {
    const header =
      '{"__metadata__":{"__proto__":"m"},"__proto__":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}';
    const file = readSafetensors(buildFile(header, f32Bytes([5])));
    expect(file.tensors.get('__proto__')!.data).toEqual(new Float32Array([5]));
    expect(Object.getOwnPropertyDescriptor(file.metadata, '__proto__')?.value).toBe('m');
    expect(Object.getPrototypeOf(file.metadata)).toBe(Object.prototype);
  });
});

// --- reader on hostile input -------------------------------------------------

const T = (dtype: unknown, shape: unknown, data_offsets: unknown) => ({ dtype, shape, data_offsets });

describe('readSafetensors rejects malformed input', () => {
  const valid = writeSafetensors(sampleTensors(), { format: 'pt' });

  it('throws MALFORMED_FILE for every truncation of a valid file', () => {
    for (let cut = 0; cut < valid.length; cut++) {
      const err = expectNeuriteError(() => readSafetensors(valid.slice(0, cut)), 'MALFORMED_FILE');
      if (cut < 8) expect(err.message).toContain('truncated');
    }
  });

  it('rejects a header length past the end of the file', () => {
    const err = expectNeuriteError(() => readSafetensors(buildFile('{}', new Uint8Array(0), 1000n)), 'MALFORMED_FILE');
    expect(err.message).toContain('1000');
  });

  it('rejects an oversized header length as TOO_LARGE without reading it', () => {
    for (const n of [BigInt(MAX_HEADER_BYTES + 1), 0xffffffffn, 1n << 32n, 0xffffffffffffffffn]) {
      expectNeuriteError(() => readSafetensors(buildFile('{}', new Uint8Array(0), n)), 'TOO_LARGE');
    }
  });

  it('rejects headers that are not valid UTF-8 JSON objects', () => {
    const cases: (string | Uint8Array)[] = [
      '',
      '{"a":',
      '{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},}',
      '[]',
      '[{"dtype":"F32"}]',
      'null',
      '"{}"',
      '123',
      ' {}', // the spec requires the first byte to be '{'
      new Uint8Array([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]), // {"\xff":1}
      new Uint8Array([0x7b, 0x7d, 0x00]), // NUL padding instead of spaces
    ];
    for (const header of cases) expectNeuriteError(() => readSafetensors(buildFile(header)), 'MALFORMED_FILE');
  });

  it('rejects tensor entries that are not objects', () => {
    for (const entry of [5, 'F32', null, [], true]) {
      const err = expectNeuriteError(() => readSafetensors(buildFile({ w: entry })), 'MALFORMED_FILE');
      expect(err.message).toContain('"w"');
    }
  });

  it('rejects __metadata__ that is not an object of strings', () => {
    for (const metadata of [null, 'pt', [], ['a'], { a: 1 }, { a: null }, { a: { b: 'c' } }]) {
      expectNeuriteError(() => readSafetensors(buildFile({ __metadata__: metadata })), 'MALFORMED_FILE');
    }
  });

  it('reports known but unsupported dtypes as UNSUPPORTED, naming them', () => {
    for (const dtype of ['F16', 'BF16', 'F64', 'I8', 'I16', 'I32', 'U8', 'U16', 'U32', 'U64', 'BOOL', 'F8_E4M3', 'F8_E5M2']) {
      const err = expectNeuriteError(
        () => readSafetensors(buildFile({ w: T(dtype, [2], [0, 8]) }, new Uint8Array(8))),
        'UNSUPPORTED',
      );
      expect(err.message).toContain(dtype);
      expect(err.message).toContain('"w"');
    }
  });

  it('reads and writes I64 (PyTorch\'s counters, such as num_batches_tracked) as float32 values', () => {
    const bytes = writeSafetensors([['n', { dtype: 'I64', shape: [], data: new Float32Array([12345]) }], ['w', { shape: [2], data: new Float32Array([1.5, -2]) }]]);
    const file = readSafetensors(bytes);
    expect(file.tensors.get('n')).toMatchObject({ dtype: 'I64', shape: [] });
    expect(Array.from(file.tensors.get('n')!.data)).toEqual([12345]);
    expect(file.tensors.get('w')!.dtype).toBe('F32');
    // 8 bytes per value: a length that fits F32 but not I64 is malformed
    expectNeuriteError(() => readSafetensors(buildFile({ n: T('I64', [2], [0, 8]) }, new Uint8Array(8))), 'MALFORMED_FILE');
    const v = new DataView(new ArrayBuffer(16));
    v.setBigInt64(0, -3n, true);
    v.setBigInt64(8, 2n ** 40n, true);
    expect(Array.from(readSafetensors(buildFile({ n: T('I64', [2], [0, 16]) }, new Uint8Array(v.buffer))).tensors.get('n')!.data)).toEqual([-3, 2 ** 40]);
    expect(() => writeSafetensors([['n', { dtype: 'I64', shape: [1], data: new Float32Array([0.5]) }]])).toThrow(/integers/);
  });

  it('reports unknown or non-string dtypes as MALFORMED_FILE', () => {
    for (const dtype of ['F33', 'f32', '', 32, null, ['F32'], undefined]) {
      const err = expectNeuriteError(
        () => readSafetensors(buildFile({ w: T(dtype, [1], [0, 4]) }, new Uint8Array(4))),
        'MALFORMED_FILE',
      );
      expect(err.message).toContain('"w"');
    }
  });

  it('rejects bad shapes', () => {
    for (const shape of [[-1], [1.5], [2, -3], ['2'], [null], 2, null, undefined, { 0: 1 }, [1e300]]) {
      const err = expectNeuriteError(
        () => readSafetensors(buildFile({ w: T('F32', shape, [0, 4]) }, new Uint8Array(4))),
        'MALFORMED_FILE',
      );
      expect(err.message).toContain('shape');
    }
  });

  it('rejects too many elements as TOO_LARGE, without overflowing', () => {
    const huge = (shape: number[], opts?: { maxTensorElements?: number }) =>
      readSafetensors(buildFile({ w: T('F32', shape, [0, 4]) }, new Uint8Array(4)), opts);
    expectNeuriteError(() => huge([1 << 15, 1 << 14]), 'TOO_LARGE'); // 2^29 > default 2^28
    expectNeuriteError(() => huge([2 ** 40, 2 ** 40, 2 ** 40]), 'TOO_LARGE');
    expectNeuriteError(() => huge([Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER]), 'TOO_LARGE');
    expectNeuriteError(() => huge([2, 3], { maxTensorElements: 5 }), 'TOO_LARGE');
    expect(readSafetensors(buildFile({ w: T('F32', [2, 3], [0, 24]) }, new Uint8Array(24)), { maxTensorElements: 6 })
      .tensors.get('w')!.data.length).toBe(6);
    // A zero dimension makes any other dimension harmless.
    expect(readSafetensors(buildFile({ w: T('F32', [2 ** 40, 0, 2 ** 40], [0, 0]) })).tensors.get('w')!.data.length)
      .toBe(0);
  });

  it('rejects an invalid maxTensorElements option', () => {
    for (const max of [-1, 1.5, NaN, Infinity]) {
      expectNeuriteError(() => readSafetensors(valid, { maxTensorElements: max }), 'INVALID_ARGUMENT');
    }
  });

  it('rejects malformed data_offsets', () => {
    for (const offsets of [[0], [0, 4, 8], [-4, 0], [0, 4.5], ['0', '4'], null, { 0: 0, 1: 4 }, [0, 2 ** 60]]) {
      const err = expectNeuriteError(
        () => readSafetensors(buildFile({ w: T('F32', [1], offsets) }, new Uint8Array(4))),
        'MALFORMED_FILE',
      );
      expect(err.message).toContain('"w"');
    }
  });

  it('rejects offsets out of range or reversed', () => {
    const data = new Uint8Array(8);
    expectNeuriteError(() => readSafetensors(buildFile({ w: T('F32', [2], [4, 12]) }, data)), 'MALFORMED_FILE');
    expectNeuriteError(() => readSafetensors(buildFile({ w: T('F32', [0], [12, 12]) }, data)), 'MALFORMED_FILE');
    expectNeuriteError(() => readSafetensors(buildFile({ w: T('F32', [1], [8, 4]) }, data)), 'MALFORMED_FILE');
  });

  it('rejects a byte count that does not match the shape', () => {
    const err = expectNeuriteError(
      () => readSafetensors(buildFile({ w: T('F32', [2, 2], [0, 12]) }, new Uint8Array(12))),
      'MALFORMED_FILE',
    );
    expect(err.message).toContain('"w"');
    expectNeuriteError(() => readSafetensors(buildFile({ w: T('F32', [], [0, 0]) })), 'MALFORMED_FILE');
    expectNeuriteError(() => readSafetensors(buildFile({ w: T('F32', [1], [0, 3]) }, new Uint8Array(3))), 'MALFORMED_FILE');
  });

  it('rejects overlapping tensors', () => {
    const header = { a: T('F32', [2], [0, 8]), b: T('F32', [2], [4, 12]), c: T('F32', [0], [12, 12]) };
    const err = expectNeuriteError(() => readSafetensors(buildFile(header, new Uint8Array(12))), 'MALFORMED_FILE');
    expect(err.message).toContain('overlap');
    // Two names for the same bytes.
    const twins = { a: T('F32', [1], [0, 4]), b: T('F32', [1], [0, 4]) };
    expectNeuriteError(() => readSafetensors(buildFile(twins, new Uint8Array(4))), 'MALFORMED_FILE');
  });

  it('rejects holes between tensors and at the start', () => {
    const gap = { a: T('F32', [1], [0, 4]), b: T('F32', [1], [8, 12]) };
    const err = expectNeuriteError(() => readSafetensors(buildFile(gap, new Uint8Array(12))), 'MALFORMED_FILE');
    expect(err.message).toContain('hole');
    const lead = { a: T('F32', [1], [4, 8]) };
    expectNeuriteError(() => readSafetensors(buildFile(lead, new Uint8Array(8))), 'MALFORMED_FILE');
  });

  it('rejects trailing bytes after the last tensor', () => {
    const header = { a: T('F32', [1], [0, 4]) };
    const err = expectNeuriteError(() => readSafetensors(buildFile(header, new Uint8Array(5))), 'MALFORMED_FILE');
    expect(err.message).toContain('trailing');
    expectNeuriteError(() => readSafetensors(buildFile({}, new Uint8Array(1))), 'MALFORMED_FILE');
    expectNeuriteError(() => readSafetensors(buildFile({ __metadata__: {} }, new Uint8Array(4))), 'MALFORMED_FILE');
  });

  it('accepts several empty tensors sharing an offset with a tensor that starts there', () => {
    const header = {
      z1: T('F32', [0], [4, 4]),
      b: T('F32', [1], [4, 8]),
      z2: T('F32', [3, 0], [4, 4]),
      a: T('F32', [1], [0, 4]),
      z3: T('F32', [0], [8, 8]),
    };
    const file = readSafetensors(buildFile(header, f32Bytes([1, 2])));
    expect(file.tensors.get('a')!.data).toEqual(new Float32Array([1]));
    expect(file.tensors.get('b')!.data).toEqual(new Float32Array([2]));
    expect(file.tensors.size).toBe(5);
  });

  it('never throws anything but NeuriteError when header bytes are flipped (fuzz)', () => {
    const rand = prng(0xc0ffee);
    const headerEnd = 8 + new DataView(valid.buffer).getUint32(0, true);
    const outcomes = { ok: 0, error: 0 };
    for (let i = 0; i < 500; i++) {
      const bytes = valid.slice();
      const flips = 1 + Math.floor(rand() * 3);
      for (let f = 0; f < flips; f++) {
        // Bias towards the JSON (the length prefix is only 8 of the bytes).
        const pos = rand() < 0.1 ? Math.floor(rand() * 8) : 8 + Math.floor(rand() * (headerEnd - 8));
        bytes[pos] ^= 1 + Math.floor(rand() * 255);
      }
      try {
        const file = readSafetensors(bytes);
        for (const entry of file.tensors.values()) expect(entry.data).toBeInstanceOf(Float32Array);
        outcomes.ok++;
      } catch (err) {
        if (!(err instanceof NeuriteError)) throw new Error(`iteration ${i}: non-NeuriteError escaped: ${err}`);
        outcomes.error++;
      }
    }
    expect(outcomes.ok + outcomes.error).toBe(500);
    expect(outcomes.error).toBeGreaterThan(0);
  });
});
