/**
 * Canonical base64 (RFC 4648 §4, padded, no line breaks, zero pad bits), checked in one pass.
 *
 * The catalogue schemas state it as the pattern {@link CANONICAL_BASE64_PATTERN}, which UMA's
 * own tools read; run as a JavaScript RegExp over a biometric at its size cap (4 MiB of
 * base64, a million iterations of the group) the backtracking engine can exhaust its stack
 * ("Maximum call stack size exceeded", seen once in the test suite). So the validators run
 * this function wherever that pattern appears (`regExpEngine`, `src/wire/xsd-shortcut.ts`);
 * test/util/base64.test.ts proves it gives the pattern's verdict case by case.
 */

/** The schemas' pattern, verbatim. */
export const CANONICAL_BASE64_PATTERN = '^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/][AQgw]==|[A-Za-z0-9+/]{2}[AEIMQUYcgkosw048]=)?$';

const ALPHABET = new Uint8Array(128);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/') ALPHABET[c.charCodeAt(0)] = 1;
/** Last data character before `==`: its low four bits are pad bits. */
const BEFORE_TWO_PADS = new Set('AQgw');
/** Last data character before `=`: its low two bits are pad bits. */
const BEFORE_ONE_PAD = new Set('AEIMQUYcgkosw048');

/** Whether `s` matches {@link CANONICAL_BASE64_PATTERN}. Linear, no recursion. */
export function isCanonicalBase64(s: string): boolean {
  const n = s.length;
  if (n % 4 !== 0) return false;
  let pads = 0;
  if (n >= 4 && s.charCodeAt(n - 1) === 0x3d) pads = s.charCodeAt(n - 2) === 0x3d ? 2 : 1;
  const data = n - pads;
  for (let i = 0; i < data; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || ALPHABET[c] === 0) return false;
  }
  if (pads === 2) return BEFORE_TWO_PADS.has(s[n - 3]);
  if (pads === 1) return BEFORE_ONE_PAD.has(s[n - 2]);
  return true;
}

/** A RegExp-like object for ajv's `code.regExp`: the pattern above runs {@link isCanonicalBase64}, any other is a RegExp. */
export function regExpEngine(pattern: string, flags: string): { test(s: string): boolean } {
  return pattern === CANONICAL_BASE64_PATTERN ? { test: isCanonicalBase64 } : new RegExp(pattern, flags);
}
regExpEngine.code = 'regExpEngine';
