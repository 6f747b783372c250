import { charsetOf, firstDuplicateKey } from '../../src/api/body';

describe('firstDuplicateKey', () => {
  test.each([
    ['{"a":1,"a":2}', 'a'],
    ['{"a":1,"b":{"c":1,"c":1}}', 'c'],
    ['[{"a":1},{"a":1},{"x":[{"k":0,"k":0}]}]', 'k'],
    ['{"\\u0061":1,"a":2}', 'a'],
    ['{"a\\"b":1,"a\\u0022b":2}', 'a"b'],
    ['{"__proto__":1,"__proto__":2}', '__proto__'],
  ])('%s repeats %j', (text, key) => {
    expect(firstDuplicateKey(text)).toBe(key);
  });

  test.each([
    '{"a":1,"b":2}',
    '{"a":{"a":{"a":1}},"b":[{"a":1},{"a":2}]}',
    '{"a":"\\"a\\":1,\\"a\\":2","b":"{\\"a\\":1}"}',
    '{"a\\\\":1,"a":2}',
    '[1,"a","a",{"a":[],"b":{}}]',
    '"just a string"',
    '{}',
  ])('%s has none', (text) => {
    expect(firstDuplicateKey(text)).toBeUndefined();
  });

  test('deep nesting does not overflow the stack', () => {
    const n = 200000;
    expect(firstDuplicateKey('['.repeat(n) + ']'.repeat(n))).toBeUndefined();
    expect(firstDuplicateKey('{"a":'.repeat(n) + '1' + '}'.repeat(n))).toBeUndefined();
  });

  test('work grows linearly: 16x the input takes far less than 16x squared the time', () => {
    // Many plain strings with one escape at the very end, then one long string full of escapes:
    // the shapes where rescanning ahead for a backslash or a quote would be quadratic.
    const doc = (n: number) => JSON.stringify({ items: Array.from({ length: n }, (_, i) => ({ [`k${i}`]: 'xy', s: 'abc' })), long: '\n'.repeat(n * 10), end: '"' });
    // The best of several runs: other processes on the machine only ever add time.
    const time = (text: string) => {
      let best = Infinity;
      for (let i = 0; i < 5; i++) {
        const t0 = process.hrtime.bigint();
        firstDuplicateKey(text);
        best = Math.min(best, Number(process.hrtime.bigint() - t0));
      }
      return best;
    };
    const small = doc(2000);
    const large = doc(32000);
    time(small);
    const ratio = time(large) / time(small);
    // Linear: about 16; quadratic would be about 256.
    expect(ratio).toBeLessThan(64);
  });
});

describe('charsetOf', () => {
  test.each([
    ['application/json', undefined],
    ['application/json; charset=utf-8', 'utf-8'],
    ['application/json;charset="UTF-8"', 'utf-8'],
    ['application/xml; foo=bar; Charset=ISO-8859-1', 'iso-8859-1'],
  ])('%s → %s', (ct, cs) => {
    expect(charsetOf(ct)).toBe(cs);
  });
});
