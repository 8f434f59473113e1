// findDuplicateKey: every object of a JSON text, at any depth, escapes decoded; arrays and
// string contents never mistaken for keys.
import { describe, expect, it } from 'vitest';
import { findDuplicateKey } from '../../src/io/json-keys';
import { NeuriteError } from '../../src/errors';
import { readSafetensors } from '../../src/io/safetensors';

describe('findDuplicateKey', () => {
  it('finds a repeated key in any object, and only there', () => {
    expect(findDuplicateKey('{"a":1,"a":2}')).toBe('a');
    expect(findDuplicateKey('{"a":{"b":1,"c":{"d":[{"e":1,"e":1}]}}}')).toBe('e');
    expect(findDuplicateKey('{"a":1,"b":{"a":1},"c":[{"a":1},{"a":2}]}')).toBeUndefined(); // one per object
    expect(findDuplicateKey('{"neurite":"x","neur\\u0069te":"y"}')).toBe('neurite'); // equal once decoded
    expect(findDuplicateKey('{"a":"{\\"a\\":1,\\"a\\":2}","b":["a","a"]}')).toBeUndefined(); // inside strings and arrays
    expect(findDuplicateKey('{"a\\"":1,"a":2,"a\\\\":3}')).toBeUndefined();
    expect(findDuplicateKey('[1,{"x":[]},{"x":{}},"x"]')).toBeUndefined();
  });

  it('walks 200,000 levels of nesting without recursion', () => {
    const deep = '{"a":'.repeat(200_000) + '{"k":1,"k":2}' + '}'.repeat(200_000);
    expect(findDuplicateKey(deep)).toBe('k');
  });

  it('makes readSafetensors refuse a tensor named twice (JSON.parse would keep the second)', () => {
    const header = '{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}';
    const json = new TextEncoder().encode(header);
    const file = new Uint8Array(8 + json.length + 4);
    new DataView(file.buffer).setUint32(0, json.length, true);
    file.set(json, 8);
    let caught: unknown;
    try { readSafetensors(file); } catch (e) { caught = e; }
    expect(caught).toBeInstanceOf(NeuriteError);
    expect((caught as NeuriteError).code).toBe('MALFORMED_FILE');
    expect((caught as NeuriteError).message).toMatch(/"w" twice/);
  });
});
