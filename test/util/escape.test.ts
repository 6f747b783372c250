import { escapeMarkup, stripNonXmlChars } from '../../src/util/escape';
import { deepFreeze } from '../../src/util/deep-freeze';
import { sha256Hex } from '../../src/util/sha256';

describe('small shared helpers', () => {
  test('markup escaping covers text and both attribute quotes', () => {
    expect(escapeMarkup(`<a href="x" title='y'>&</a>`)).toBe('&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;');
    expect(stripNonXmlChars('a\u0001b\u000Bc\tok\uFFFE')).toBe('abc\tok');
  });

  test('deepFreeze freezes nested objects and arrays', () => {
    const o = deepFreeze({ a: { b: [1, { c: 2 }] } });
    expect(Object.isFrozen(o.a.b[1])).toBe(true);
    expect(() => { (o.a as { b: unknown }).b = 1; }).toThrow(TypeError);
  });

  test('sha256Hex hashes UTF-8 text', () => {
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(sha256Hex(Buffer.from('abc'))).toBe(sha256Hex('abc'));
  });
});
