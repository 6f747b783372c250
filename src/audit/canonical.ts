/**
 * The canonical form of an audit record and of a checkpoint, and the record hash: what the
 * chain, the Merkle checkpoints and every offline verifier compute byte for byte.
 *
 * **Canonical JSON** (`canonicalJson`): JSON text (RFC 8259) with no whitespace; object keys
 * sorted by UTF-16 code units (all keys here are ASCII, so also bytewise); members whose
 * value is `undefined` are left out (an absent optional field and an omitted one are the
 * same record); arrays keep their order; strings escaped as `JSON.stringify` escapes them;
 * numbers are integers. Encoded as UTF-8.
 *
 * **Record hash** (`recordHash`):
 * `hash = hex(SHA-256( prevHashBytes || UTF-8(canonicalJson(body)) ))`, where
 * `prevHashBytes` are the 32 bytes of the previous record's hash (32 zero bytes for the
 * first record), and `body` is the record without `hash` and without `prevHash`: `seq`,
 * `at`, `operation`, `purpose`, `dataCategories`, `clientId`, `outcome` and whichever of
 * `queryCategories`, `authority`, `staff`, `messageId`, `messageType`, `contentDigest`,
 * `correlationId` it has. `seq` is inside the hash, so a record's position is committed.
 *
 * The Merkle leaf of a record (see `merkle.ts`) is `SHA-256(0x00 || hashBytes)`.
 */
import { createHash } from 'node:crypto';
import type { AuditRecord } from './audit';

/** The previous hash of the first record: 64 zeros. */
export const GENESIS_HASH = '0'.repeat(64);

/** A value canonical JSON can hold. */
export type CanonicalValue = string | number | boolean | null | undefined | readonly CanonicalValue[] | CanonicalObject;

/** An object of canonical values. */
export interface CanonicalObject { readonly [k: string]: CanonicalValue }

/**
 * Canonical JSON text of `value` (see the module comment).
 *
 * @throws TypeError on a number that is not a safe integer (records and checkpoints hold none)
 */
export function canonicalJson(value: CanonicalValue): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string': return JSON.stringify(value);
    case 'boolean': return value ? 'true' : 'false';
    case 'number':
      if (!Number.isSafeInteger(value)) throw new TypeError(`canonical JSON holds integers only, not ${value}`);
      return String(value);
    case 'undefined': return 'null';
    default: break;
  }
  if (Array.isArray(value)) return `[${(value as readonly CanonicalValue[]).map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  const obj = value as CanonicalObject;
  const parts: string[] = [];
  for (const k of Object.keys(obj).sort()) {
    const v = obj[k];
    if (v !== undefined) parts.push(`${JSON.stringify(k)}:${canonicalJson(v)}`);
  }
  return `{${parts.join(',')}}`;
}

/** The part of a record its hash covers: everything but `hash` and `prevHash`. */
export type RecordBody = Omit<AuditRecord, 'hash' | 'prevHash'>;

/** The hashed body of a record (drops `hash`, `prevHash` and any member that is not part of a record). */
export function recordBody(r: RecordBody): RecordBody {
  return {
    seq: r.seq, at: r.at, operation: r.operation, purpose: r.purpose, dataCategories: r.dataCategories,
    queryCategories: r.queryCategories, clientId: r.clientId, authority: r.authority, staff: r.staff,
    messageId: r.messageId, messageType: r.messageType, outcome: r.outcome, contentDigest: r.contentDigest,
    correlationId: r.correlationId,
  };
}

/** The members of a record body, in canonical (sorted) order. */
const BODY_KEYS = [
  'at', 'authority', 'clientId', 'contentDigest', 'correlationId', 'dataCategories', 'messageId', 'messageType',
  'operation', 'outcome', 'purpose', 'queryCategories', 'seq', 'staff',
] as const satisfies readonly (keyof RecordBody)[];

/**
 * `canonicalJson(recordBody(body))`, written directly: the verifier runs it once per record,
 * and a million records should not each pay for an object copy and a key sort.
 */
export function recordCanonicalJson(body: RecordBody): string {
  let out = '{';
  for (const k of BODY_KEYS) {
    const v = body[k];
    if (v === undefined) continue;
    if (out.length > 1) out += ',';
    out += `"${k}":${typeof v === 'number' || typeof v === 'string' ? canonicalJson(v) : canonicalJson(v as CanonicalValue)}`;
  }
  return out + '}';
}

/** `hash` of a record with this body after a record whose hash is `prevHash` (see the module comment). */
export function recordHash(prevHash: string, body: RecordBody): string {
  return createHash('sha256').update(Buffer.from(prevHash, 'hex')).update(recordCanonicalJson(body), 'utf8').digest('hex');
}

/** SHA-256 (hex) of some text's UTF-8 bytes. */
export function sha256Hex(text: string | Buffer): string {
  return createHash('sha256').update(text).digest('hex');
}
