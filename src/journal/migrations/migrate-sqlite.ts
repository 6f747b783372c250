import { nowIso } from '../journal';
import { MIGRATIONS, SCHEMA_VERSION } from './index';
import {
  checksumOf, pendingMigrations, type AppliedMigration, type Migration, type MigrationResult, type MigrationStatus, type SqliteConnection,
} from './migration';

const MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS schema_migrations (
  version INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  checksum TEXT NOT NULL,
  applied_at TEXT NOT NULL
)`;

/** Longest wait for another process's migration to finish, ms. */
const LOCK_WAIT_MS = 120000;

function hasTable(db: SqliteConnection, name: string): boolean {
  return db.all("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", name).length > 0;
}

function readApplied(db: SqliteConnection): AppliedMigration[] {
  if (!hasTable(db, 'schema_migrations')) return [];
  return (db.all('SELECT version, name, checksum, applied_at FROM schema_migrations ORDER BY version') as
    { version: number; name: string; checksum: string; applied_at: string }[])
    .map((r) => ({ version: r.version, name: r.name, checksum: r.checksum, appliedAt: r.applied_at }));
}

/**
 * What is applied and what is pending, without changing anything.
 * @throws DavisError DAVIS_ERR_JOURNAL_SCHEMA (see `pendingMigrations`)
 */
export function sqliteMigrationStatus(db: SqliteConnection, list: readonly Migration[] = MIGRATIONS): MigrationStatus {
  const applied = readApplied(db);
  const tracked = hasTable(db, 'schema_migrations');
  const legacy = !tracked && hasTable(db, 'messages');
  return { applied, pending: pendingMigrations(list, applied, 'sqlite'), legacy, empty: !tracked && !legacy };
}

/**
 * Brings the file to this release's schema. The work runs in one `BEGIN IMMEDIATE`
 * transaction, which takes SQLite's write lock before reading what is applied: a second
 * process opening the same file waits for it, then finds nothing left to do. A failing
 * migration rolls back whole. A 0.1.0 journal is adopted: migration 1 (the 0.1.0 DDL, all
 * `IF NOT EXISTS`) runs over its tables and is recorded, and its rows stay as they are.
 *
 * @throws DavisError DAVIS_ERR_JOURNAL_SCHEMA when the file was written by a newer release
 */
export function migrateSqlite(db: SqliteConnection, list: readonly Migration[] = MIGRATIONS): MigrationResult {
  const before = sqliteMigrationStatus(db, list);
  if (!before.pending.length) return { applied: [], adopted: false, version: before.applied.at(-1)?.version ?? 0 };
  const busy = db.busyTimeout(LOCK_WAIT_MS);
  try {
    return db.immediate((): MigrationResult => {
      const legacy = !hasTable(db, 'schema_migrations') && hasTable(db, 'messages');
      db.exec(MIGRATIONS_TABLE);
      const pending = pendingMigrations(list, readApplied(db), 'sqlite');
      for (const m of pending) {
        db.exec(m.sqlite);
        db.run('INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (?, ?, ?, ?)', m.version, m.name, checksumOf(m, 'sqlite'), nowIso());
      }
      return { applied: pending.map((m) => m.version), adopted: legacy, version: list.at(-1)?.version ?? SCHEMA_VERSION };
    });
  } finally {
    db.busyTimeout(busy);
  }
}
