import { describe, expect, it } from '@jest/globals';
import { applyJsonPatch, escapePointerToken, JsonPatchError, pointer } from './json-patch.ts';

describe('JSON pointer and patch', () => {
  it('escapes ~ before /', () => {
    expect(escapePointerToken('a/b~c')).toBe('a~1b~0c');
    expect(pointer('metadata', 'annotations', 'llmroute.dev/status')).toBe('/metadata/annotations/llmroute.dev~1status');
    expect(escapePointerToken('~1')).toBe('~01');
  });

  it('applies add (object member, array index, end of array), replace, remove and test', () => {
    const doc = { a: { 'x/y': 1 }, list: [1, 2] };
    const out = applyJsonPatch(doc, [
      { op: 'add', path: '/a/b~1c', value: 2 },
      { op: 'add', path: '/list/0', value: 0 },
      { op: 'add', path: '/list/-', value: 3 },
      { op: 'replace', path: '/a/x~1y', value: 9 },
      { op: 'test', path: '/list/3', value: 3 },
      { op: 'remove', path: '/list/1' },
    ]);
    expect(out).toEqual({ a: { 'x/y': 9, 'b/c': 2 }, list: [0, 2, 3] });
    expect(doc).toEqual({ a: { 'x/y': 1 }, list: [1, 2] });
  });

  it('refuses what does not apply', () => {
    expect(() => applyJsonPatch({ a: 1 }, [{ op: 'replace', path: '/b', value: 1 }])).toThrow(JsonPatchError);
    expect(() => applyJsonPatch({ a: [] }, [{ op: 'add', path: '/a/2', value: 1 }])).toThrow(JsonPatchError);
    expect(() => applyJsonPatch({ a: 1 }, [{ op: 'test', path: '/a', value: 2 }])).toThrow(JsonPatchError);
    expect(() => applyJsonPatch({ a: 1 }, [{ op: 'add', path: '/x/y', value: 2 }])).toThrow(JsonPatchError);
  });
});
