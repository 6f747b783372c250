import { randomBytes } from 'node:crypto';
import { CANONICAL_BASE64_PATTERN, isCanonicalBase64, regExpEngine } from '../../src/util/base64';
import { validatePayload } from '../../src/validation/validate';

const pattern = new RegExp(CANONICAL_BASE64_PATTERN, 'u');
const ALPHA = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=-_ é\n';

/** A deterministic generator, so a failure names a case that can be replayed. */
function* cases(): Generator<string> {
  let seed = 12345;
  const next = (n: number) => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n; };
  for (let i = 0; i < 20000; i++) {
    const len = next(14);
    let s = '';
    for (let k = 0; k < len; k++) s += ALPHA[next(ALPHA.length)];
    yield s;
  }
  for (let n = 0; n < 40; n++) {
    const b64 = randomBytes(n).toString('base64');
    yield b64;
    // Every one-character change of a real encoding, including its pad positions.
    for (let i = 0; i < b64.length; i++) for (const c of ['A', 'Q', 'g', 'w', 'B', '=', '/', '-']) yield b64.slice(0, i) + c + b64.slice(i + 1);
    yield `${b64}=`;
    yield b64.replace(/=+$/, '');
  }
}

describe('canonical base64 in one pass', () => {
  it('gives the schemas\' pattern\'s verdict on every case', () => {
    let n = 0;
    let yes = 0;
    for (const s of cases()) {
      expect([s, isCanonicalBase64(s)]).toEqual([s, pattern.test(s)]);
      n++;
      if (pattern.test(s)) yes++;
    }
    expect(n).toBeGreaterThan(25000);
    expect(yes).toBeGreaterThan(500);
  });

  it('is the engine for that pattern only; any other pattern is a RegExp', () => {
    expect(regExpEngine(CANONICAL_BASE64_PATTERN, 'u').test('QQ==')).toBe(true);
    expect(regExpEngine(CANONICAL_BASE64_PATTERN, 'u').test('QR==')).toBe(false);
    expect(regExpEngine('^[A-Z]{2}$', 'u')).toBeInstanceOf(RegExp);
  });

  it('checks a 4 MiB biometric in a deep call stack, where the RegExp may exhaust its stack', () => {
    const big = Buffer.alloc(3 * 1024 * 1024, 2).toString('base64');
    const deep = (d: number): boolean => (d ? deep(d - 1) : isCanonicalBase64(big));
    expect(deep(8000)).toBe(true);
    expect(isCanonicalBase64(`${big.slice(0, -1)}!`)).toBe(false);
    // The validators use it: a payload with a 3 MiB fingerprint set validates (no RangeError).
    expect(() => validatePayload('vis.application.create', { fingerprints: { embedded: { format: 'ANSI/NIST-ITL', data: big } } })).not.toThrow();
  });
});
