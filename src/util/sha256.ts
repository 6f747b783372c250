import { createHash } from 'node:crypto';

/** SHA-256 of some bytes (a string is taken as UTF-8), hex: the body hash of idempotency checks and journal records. */
export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}
