import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { redactUrl, sqliteFile, type Config } from '../config/config';
import { DavisError, isDavisError, reasonOf } from '../errors/errors';
import type { Journal, JournalMaintenance, JournalRetention } from './journal';
import { decodeJournalKey, JOURNAL_KEY_BYTES, JournalKeyring } from './journal-cipher';
import { PostgresJournal } from './journal-postgres';
import { SqliteJournal, sqliteJournalStatus } from './journal-sqlite';
import type { MigrationStatus } from './migrations';

/** The schema PostgreSQL journals live in. */
const PG_SCHEMA = 'davis';

/** A journal as `openJournal` gives it: the port, the maintenance operations of `davis journal`, and retention's. */
export type OpenedJournal = Journal & JournalMaintenance & JournalRetention;

/** Where the dev-mode key is kept, under `dataDir`. */
export function devKeyFile(config: Config): string {
  return path.join(config.dataDir, 'journal.key');
}

function readKeyFile(file: string): Buffer[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new DavisError('DAVIS_ERR_JOURNAL_KEY', { reason: `cannot read ${file}: ${reasonOf(err)}` }, { cause: err });
  }
  const lines = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  if (!lines.length) throw new DavisError('DAVIS_ERR_JOURNAL_KEY', { reason: `${file} holds no key` });
  return lines.map((l, i) => decodeJournalKey(l, `${file} line ${i + 1}`));
}

/** The dev-mode key file, created (owner-only) on first use like the dev PKI. */
function ensureDevKey(file: string): Buffer[] {
  mkdirSync(path.dirname(file), { recursive: true });
  try {
    writeFileSync(file, `${randomBytes(JOURNAL_KEY_BYTES).toString('base64')}\n`, { flag: 'wx', mode: 0o600 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
      throw new DavisError('DAVIS_ERR_JOURNAL_KEY', { reason: `cannot create ${file}: ${reasonOf(err)}` }, { cause: err });
    }
  }
  return readKeyFile(file);
}

/**
 * The keyring the configuration names. The current key is `journal.keyFile` (its first
 * line; later lines are previous keys) or `journal.key` (`DAVIS_JOURNAL_KEY`), base64 of 32
 * bytes; `journal.previousKeys` adds keys that only read. In dev mode with neither, a key is
 * generated once into `<dataDir>/journal.key`.
 *
 * @throws DavisError DAVIS_ERR_JOURNAL_KEY when no key is configured outside dev mode, both
 *   `key` and `keyFile` are set, or a key is unreadable or not 32 bytes
 */
export function loadJournalKeyring(config: Config): JournalKeyring {
  const j = config.journal;
  if (j.key !== undefined && j.keyFile !== undefined) {
    throw new DavisError('DAVIS_ERR_JOURNAL_KEY', { reason: 'journal.key (DAVIS_JOURNAL_KEY) and journal.keyFile are both set; keep one' });
  }
  let keys: Buffer[];
  if (j.keyFile !== undefined) keys = readKeyFile(j.keyFile);
  else if (j.key !== undefined) keys = [decodeJournalKey(j.key, 'journal.key (DAVIS_JOURNAL_KEY)')];
  else if (config.mode === 'dev') keys = ensureDevKey(devKeyFile(config));
  else {
    throw new DavisError('DAVIS_ERR_JOURNAL_KEY', {
      reason: 'no key configured: the journal encrypts personal data at rest; set journal.keyFile (a file holding `openssl rand -base64 32`) or DAVIS_JOURNAL_KEY',
    });
  }
  const previous = (j.previousKeys ?? []).map((k, i) => decodeJournalKey(k, `journal.previousKeys[${i}]`));
  return new JournalKeyring(keys[0], [...keys.slice(1), ...previous]);
}

function unavailable(config: Config, err: unknown): DavisError {
  const { driver, postgresUrl } = config.journal;
  const where = driver === 'postgres' ? `PostgreSQL at ${redactUrl(postgresUrl)}` : `SQLite file ${sqliteFile(config)}`;
  return new DavisError('DAVIS_ERR_JOURNAL_UNAVAILABLE', { action: 'open', reason: `${where}: ${(err as Error).message}` }, { cause: err });
}

/**
 * Opens the embedded SQLite journal of the configuration, synchronously (migrated, with the
 * configured keyring).
 * @throws DavisError DAVIS_ERR_JOURNAL_KEY, DAVIS_ERR_JOURNAL_SCHEMA, DAVIS_ERR_JOURNAL_UNAVAILABLE
 */
export function openSqliteJournal(config: Config): SqliteJournal {
  const keyring = loadJournalKeyring(config);
  try {
    return new SqliteJournal(sqliteFile(config), { keyring });
  } catch (err) {
    throw isDavisError(err) ? err : unavailable(config, err);
  }
}

/**
 * Opens the journal that `config.journal.driver` names: the embedded SQLite file under
 * `dataDir` (`sqlite`), or the tables in schema `davis` of `journal.postgresUrl` (`postgres`).
 * Pending migrations are applied first, under a lock. The caller owns the journal and closes it.
 *
 * @throws DavisError DAVIS_ERR_JOURNAL_UNAVAILABLE when the journal cannot be opened (the
 *   driver's error is the `cause`; the message never shows the URL's password),
 *   DAVIS_ERR_JOURNAL_SCHEMA when it was written by a newer release, DAVIS_ERR_JOURNAL_KEY
 *   when no usable key is configured
 */
export async function openJournal(config: Config): Promise<OpenedJournal> {
  if (config.journal.driver !== 'postgres') return openSqliteJournal(config);
  const keyring = loadJournalKeyring(config);
  try {
    return await PostgresJournal.open(config.journal.postgresUrl, { keyring, schema: PG_SCHEMA });
  } catch (err) {
    throw isDavisError(err) ? err : unavailable(config, err);
  }
}

/**
 * What is applied and pending in the configured journal, changing nothing (no file or
 * schema is created).
 * @throws DavisError DAVIS_ERR_JOURNAL_UNAVAILABLE, DAVIS_ERR_JOURNAL_SCHEMA
 */
export async function journalMigrationStatus(config: Config): Promise<MigrationStatus> {
  try {
    return config.journal.driver === 'postgres'
      ? await PostgresJournal.migrationStatus(config.journal.postgresUrl, PG_SCHEMA)
      : sqliteJournalStatus(sqliteFile(config));
  } catch (err) {
    throw isDavisError(err) ? err : unavailable(config, err);
  }
}
