// Duplicate object keys in JSON text. JSON.parse keeps the last of two equal keys; another
// reader of the same file may keep the first, so the two would see different models. A file
// that says two things is malformed: this finds the first key an object repeats.
//
// One linear pass with an explicit stack (deep nesting cannot overflow it), run on text that
// JSON.parse has already accepted, so it only has to tell strings, brackets and commas apart.

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** The first key that appears twice in one object of the valid JSON `text`, or undefined. */
export function findDuplicateKey(text: string): string | undefined {
  // one entry per open bracket: the keys seen so far for an object, null for an array
  const stack: Array<Set<string> | null> = [];
  let expectKey = false;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      let j = i + 1;
      let escaped = false;
      for (; j < n; j++) {
        const d = text.charCodeAt(j);
        if (d === BACKSLASH) { escaped = true; j++; } else if (d === QUOTE) break;
      }
      const keys = stack[stack.length - 1];
      if (expectKey && keys) {
        // "a" and "\u0061" are the same key once decoded
        const key = escaped ? (JSON.parse(text.slice(i, j + 1)) as string) : text.slice(i + 1, j);
        if (keys.has(key)) return key.length > 200 ? `${key.slice(0, 200)}…` : key;
        keys.add(key);
        expectKey = false;
      }
      i = j;
    } else if (c === 0x7b /* { */) {
      stack.push(new Set());
      expectKey = true;
    } else if (c === 0x5b /* [ */) {
      stack.push(null);
      expectKey = false;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      stack.pop();
      expectKey = false;
    } else if (c === 0x2c /* , */) {
      expectKey = stack[stack.length - 1] != null;
    }
  }
  return undefined;
}
