import { encodePointer, getPointer, JsonQueryError, pointerTokens, removePointer, setPointer } from '../../src/util/json-pointer';

describe('JSON Pointer', () => {
  test('reads own properties and array items, with ~0 and ~1 unescaped', () => {
    const doc = { 'a/b': { '~x': [10, 20] } };
    expect(getPointer(doc, '/a~1b/~0x/1')).toBe(20);
    expect(getPointer(doc, '')).toBe(doc);
    expect(getPointer(doc, '/missing/deeper')).toBeUndefined();
    expect(getPointer({}, '/toString')).toBeUndefined();
    expect(encodePointer(pointerTokens('/a~1b/~0x'))).toBe('/a~1b/~0x');
  });

  test('writes create missing parents and append with "-"', () => {
    const doc: Record<string, unknown> = { list: [1] };
    setPointer(doc, '/a/b', 1);
    setPointer(doc, '/list/-', 2);
    expect(doc).toEqual({ a: { b: 1 }, list: [1, 2] });
    removePointer(doc, '/list/0');
    removePointer(doc, '/a/b');
    expect(doc).toEqual({ a: {}, list: [2] });
  });

  test.each(['/__proto__/polluted', '/a/constructor/prototype/polluted', '/prototype', '/a/__proto__'])('a write through %s is refused and Object.prototype stays clean', (pointer) => {
    const doc = { a: {} };
    expect(() => setPointer(doc, pointer, 'yes')).toThrow(JsonQueryError);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype.hasOwnProperty.call(Object.prototype, 'polluted')).toBe(false);
    expect(doc).toEqual({ a: {} });
  });

  test('bad syntax is a JsonQueryError', () => {
    expect(() => getPointer({}, 'a')).toThrow(JsonQueryError);
    expect(() => getPointer({}, '/~2')).toThrow(JsonQueryError);
    expect(() => setPointer({}, '', 1)).toThrow(JsonQueryError);
  });
});
