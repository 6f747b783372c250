import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { DavisError } from '../errors/errors';

/**
 * Encryption at rest of the journal's personal data (the wire XML, central's answer and its
 * signed XML, inbound notifications): AES-256-GCM, a random 96-bit IV per value, and as
 * additional data the row's message id and the column, so a value moved to another row or
 * column fails to open instead of reading as someone else's data. The row stores the id of
 * the key its values are sealed with (`messages.key_id`); the key itself never reaches the
 * database.
 */

/** Version tag of the sealed text format: `v1.<IV base64>.<ciphertext+tag base64>`. */
const FORMAT = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** AES-256: 32 bytes. */
export const JOURNAL_KEY_BYTES = 32;

/** Columns whose values are sealed; part of the additional data. */
export type SealedColumn = 'wire_xml' | 'answer_json' | 'response_xml';

/**
 * The id stored beside a row: a digest of the key under a label, 16 hex digits. It names the
 * key without revealing anything usable about it.
 */
export function journalKeyId(key: Buffer): string {
  return createHash('sha256').update('davis-journal-key-id\0').update(key).digest('hex').slice(0, 16);
}

/** Decodes a base64 key and checks its length. @throws DavisError DAVIS_ERR_JOURNAL_KEY */
export function decodeJournalKey(text: string, where: string): Buffer {
  const trimmed = text.trim();
  const key = /^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed) ? Buffer.from(trimmed, 'base64') : Buffer.alloc(0);
  if (key.length !== JOURNAL_KEY_BYTES) {
    throw new DavisError('DAVIS_ERR_JOURNAL_KEY', { reason: `${where} must be ${JOURNAL_KEY_BYTES} random bytes in base64 (e.g. \`openssl rand -base64 32\`)` });
  }
  return key;
}

/**
 * The current key (every new value is sealed with it) and the previous ones (still read, so
 * rows written before a rotation open until `davis journal rekey` has rewritten them).
 */
export class JournalKeyring {
  /** Id of the current key, written beside every row sealed now. */
  readonly currentId: string;
  private readonly currentKey: Buffer;
  private readonly keys = new Map<string, Buffer>();

  /** @param current the key new values are sealed with; @param previous keys that only read */
  constructor(current: Buffer, previous: readonly Buffer[] = []) {
    for (const k of [current, ...previous]) {
      if (k.length !== JOURNAL_KEY_BYTES) throw new DavisError('DAVIS_ERR_JOURNAL_KEY', { reason: `a key must be ${JOURNAL_KEY_BYTES} bytes` });
    }
    this.currentId = journalKeyId(current);
    this.currentKey = Buffer.from(current);
    this.keys.set(this.currentId, this.currentKey);
    for (const k of previous) {
      const id = journalKeyId(k);
      if (!this.keys.has(id)) this.keys.set(id, Buffer.from(k));
    }
  }

  /** Ids of every key this keyring can read with, the current one first. */
  ids(): string[] {
    return [...this.keys.keys()];
  }

  /** Seals `plain` with the current key for `messageId`'s `column`. */
  seal(plain: string, messageId: string, column: SealedColumn): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.currentKey, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(aad(messageId, column));
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return `${FORMAT}.${iv.toString('base64')}.${body.toString('base64')}`;
  }

  /**
   * Opens a value sealed with key `keyId`.
   * @throws DavisError DAVIS_ERR_JOURNAL_KEY when the key is not in this keyring, or the value
   *   does not open with it (another key under the same id, or the value or its row changed)
   */
  open(sealed: string, keyId: string, messageId: string, column: SealedColumn): string {
    const key = this.keys.get(keyId);
    if (!key) throw new DavisError('DAVIS_ERR_JOURNAL_KEY', { reason: `message ${messageId} is sealed with key ${keyId}, which is not configured (journal.keyFile, journal.key, journal.previousKeys)` });
    const parts = sealed.split('.');
    const iv = parts.length === 3 && parts[0] === FORMAT ? Buffer.from(parts[1], 'base64') : Buffer.alloc(0);
    const body = parts.length === 3 ? Buffer.from(parts[2], 'base64') : Buffer.alloc(0);
    if (iv.length !== IV_BYTES || body.length < TAG_BYTES) {
      throw new DavisError('DAVIS_ERR_JOURNAL_KEY', { reason: `message ${messageId}: ${column} is not a sealed value` });
    }
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
      decipher.setAAD(aad(messageId, column));
      decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
      return Buffer.concat([decipher.update(body.subarray(0, body.length - TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch (err) {
      throw new DavisError('DAVIS_ERR_JOURNAL_KEY', { reason: `message ${messageId}: ${column} does not open with key ${keyId} (wrong key, or the row was altered)` }, { cause: err });
    }
  }
}

function aad(messageId: string, column: SealedColumn): Buffer {
  return Buffer.from(`davis-journal\0${messageId}\0${column}`, 'utf8');
}

/**
 * What an adapter does with one row's values: seals them with the current key, or, with no
 * keyring (tests and tools that open a file directly), stores them as they are with no key id.
 */
export class RowSealer {
  constructor(private readonly keyring: JournalKeyring | undefined) {}

  /** Key id that values sealed now carry (`null`: stored in clear). */
  get keyId(): string | null {
    return this.keyring?.currentId ?? null;
  }

  seal(plain: string, messageId: string, column: SealedColumn): string {
    return this.keyring ? this.keyring.seal(plain, messageId, column) : plain;
  }

  seal0(plain: string | null, messageId: string, column: SealedColumn): string | null {
    return plain === null ? null : this.seal(plain, messageId, column);
  }

  /**
   * A stored value in clear: rows with no key id are legacy (0.1.0) or keyless rows and are
   * returned as stored.
   * @throws DavisError DAVIS_ERR_JOURNAL_KEY when the row is sealed and no keyring can open it
   */
  open(stored: string, keyId: string | null, messageId: string, column: SealedColumn): string {
    if (keyId === null) return stored;
    if (!this.keyring) throw new DavisError('DAVIS_ERR_JOURNAL_KEY', { reason: `message ${messageId} is sealed with key ${keyId} and no journal key is configured` });
    return this.keyring.open(stored, keyId, messageId, column);
  }

  open0(stored: string | null, keyId: string | null, messageId: string, column: SealedColumn): string | null {
    return stored === null ? null : this.open(stored, keyId, messageId, column);
  }

  /** Whether rows sealed with `keyId` need rewriting to be under the current key. */
  isStale(keyId: string | null): boolean {
    return keyId !== this.keyId;
  }
}
