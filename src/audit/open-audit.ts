import path from 'node:path';
import type { Logger } from 'pino';
import type { Config } from '../config/config';
import type { Journal } from '../journal/journal';
import { PostgresJournal } from '../journal/journal-postgres';
import { SqliteJournal } from '../journal/journal-sqlite';
import type { SigningKey } from '../signing/types';
import type { AuditStore } from './audit-store';
import { PostgresAuditStore } from './audit-store-postgres';
import { SqliteAuditStore } from './audit-store-sqlite';
import { Checkpointer } from './checkpoints';

/**
 * The audit store in the journal's own database: the SQLite file's connection, or the
 * PostgreSQL pool and schema. The journal's migrations created its tables; closing the
 * journal closes it.
 *
 * @throws Error for a journal of another kind (it has no database to share)
 */
export function auditStoreOf(journal: Journal): AuditStore {
  if (journal instanceof SqliteJournal) return new SqliteAuditStore(journal.database);
  if (journal instanceof PostgresJournal) return new PostgresAuditStore(journal.connection.pool, journal.connection.schema);
  throw new Error('audit: the journal is neither the SQLite nor the PostgreSQL adapter');
}

/** `audit.checkpointDir`, absolute; by default `<dataDir>/audit-checkpoints`. */
export function checkpointDirOf(config: Config): string {
  return path.resolve(config.dataDir, config.audit.checkpointDir ?? 'audit-checkpoints');
}

/** The checkpointer `config.audit` describes, signing with `signingKey`; not started. */
export function createCheckpointer(config: Config, store: AuditStore, signingKey: () => SigningKey, logger: Logger): Checkpointer {
  const a = config.audit;
  return new Checkpointer({
    store, signingKey, logger, every: a.checkpointEvery, intervalMs: a.checkpointIntervalMs, dir: checkpointDirOf(config),
    ...(a.tsaUrl ? { tsaUrl: a.tsaUrl } : {}), ...(a.checkpointUrl ? { postUrl: a.checkpointUrl } : {}),
  });
}
