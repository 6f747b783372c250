/** Reading a verified payload inside central's rules: a missing field is an `InvalidPayload`, never a crash. */
import { transliterateIcao } from '../../src/wire/icao-transliteration';

/** Thrown inside a rule when the payload lacks what it needs; `apply` turns it into VIS_ERR_INVALID_PAYLOAD. */
export class InvalidPayload extends Error {}

/** A message payload as the rules read it. */
export type Payload = Readonly<Record<string, unknown>>;

/** A required string field. */
export function str(p: Payload, key: string): string {
  const v = p[key];
  if (typeof v !== 'string') throw new InvalidPayload(`"${key}" is required`);
  return v;
}
/** An optional string field. */
export function optStr(p: Payload, key: string): string | undefined {
  const v = p[key];
  return typeof v === 'string' ? v : undefined;
}
/** A required object field. */
export function obj(p: Payload, key: string): Payload {
  const v = p[key];
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new InvalidPayload(`"${key}" is required`);
  return v as Payload;
}
/** An optional object field. */
export function optObj(p: Payload | undefined, key: string): Payload | undefined {
  const v = p?.[key];
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Payload) : undefined;
}
/** An optional list of codes ([] when absent). */
export function strings(p: Payload, key: string): string[] {
  const v = p[key];
  if (v === undefined) return [];
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw new InvalidPayload(`"${key}" must be a list of codes`);
  return v;
}
/** Names compare on their ICAO transliteration (exact text when it has none). */
export function sameName(a: string, b: string): boolean {
  const ta = transliterateIcao(a);
  const tb = transliterateIcao(b);
  return ta !== undefined && tb !== undefined ? ta === tb : a.trim().toLowerCase() === b.trim().toLowerCase();
}
