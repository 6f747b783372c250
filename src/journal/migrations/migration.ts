import { createHash } from 'node:crypto';
import { DavisError } from '../../errors/errors';

/**
 * One numbered change of the journal's schema, written once per dialect. Migrations are
 * applied in version order, each once, at start under a lock (see `migrate-sqlite.ts`,
 * `migrate-postgres.ts`) and by `davis journal migrate`; what was applied is recorded in
 * `schema_migrations` with a checksum of the SQL, so an applied migration edited afterwards
 * is refused instead of silently diverging between installations.
 */
export interface Migration {
  /** 1, 2, 3…: no gaps; the file is `NNN-name.ts`. */
  readonly version: number;
  /** Short name, as in the file name (`initial`, `encryption`). */
  readonly name: string;
  /** SQLite statements (run with `exec`, in the migration's transaction). */
  readonly sqlite: string;
  /**
   * PostgreSQL statements; `{schema}` stands for the journal's quoted schema name
   * (`"davis"`). Keep the text fixed once released: its checksum is recorded.
   */
  readonly postgres: string;
}

/** The two dialects the journal runs on. */
export type Dialect = 'sqlite' | 'postgres';

/** A `schema_migrations` row. */
export interface AppliedMigration {
  readonly version: number;
  readonly name: string;
  readonly checksum: string;
  readonly appliedAt: string;
}

/** What `davis journal migrate --status` shows. */
export interface MigrationStatus {
  /** Applied migrations, by version. */
  readonly applied: readonly AppliedMigration[];
  /** Migrations this version would apply, by version. */
  readonly pending: readonly Migration[];
  /** A 0.1.0 journal (tables, no `schema_migrations`): migration 1 will be recorded over its tables. */
  readonly legacy: boolean;
  /** No journal tables at all yet. */
  readonly empty: boolean;
}

/** What one migration run did. */
export interface MigrationResult {
  /** Versions applied by this run (empty when another instance had applied them). */
  readonly applied: readonly number[];
  /** Whether a 0.1.0 journal was adopted as version 1. */
  readonly adopted: boolean;
  /** Schema version after the run. */
  readonly version: number;
}

/** SHA-256 (hex) of the dialect's SQL of a migration. */
export function checksumOf(m: Migration, dialect: Dialect): string {
  return createHash('sha256').update(m[dialect]).digest('hex');
}

/** PostgreSQL text of a migration for one (already quoted) schema. */
export function postgresSql(m: Migration, quotedSchema: string): string {
  return m.postgres.replaceAll('{schema}', quotedSchema);
}

/**
 * Checks the list itself: versions 1..n in order, no duplicate. A mistake here is a
 * programming error caught by the first test run.
 */
export function checkMigrationList(list: readonly Migration[]): void {
  list.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`journal migrations: entry ${i} has version ${m.version}, expected ${i + 1}`);
  });
}

/**
 * Compares what the database has applied with what this code knows and returns what is left
 * to apply.
 * @throws DavisError DAVIS_ERR_JOURNAL_SCHEMA when the database has a version this code does
 *   not know (written by a newer release: refuse rather than corrupt it), or an applied
 *   migration whose SQL differs from this code's
 */
export function pendingMigrations(list: readonly Migration[], applied: readonly AppliedMigration[], dialect: Dialect): Migration[] {
  const known = new Map(list.map((m) => [m.version, m]));
  const newest = list.at(-1)?.version ?? 0;
  for (const a of applied) {
    const m = known.get(a.version);
    if (!m) {
      throw new DavisError('DAVIS_ERR_JOURNAL_SCHEMA', {
        reason: `the journal is at schema version ${Math.max(...applied.map((x) => x.version))}, newer than this release knows (${newest}); run the release that wrote it, or a later one`,
      });
    }
    if (a.checksum !== checksumOf(m, dialect)) {
      throw new DavisError('DAVIS_ERR_JOURNAL_SCHEMA', { reason: `migration ${a.version} (${a.name}) was applied with other SQL than this release holds (checksum differs)` });
    }
  }
  const done = new Set(applied.map((a) => a.version));
  return list.filter((m) => !done.has(m.version));
}

/**
 * What the SQLite runner needs of a connection; the SQLite adapter provides it over its
 * driver, so no driver type reaches this folder.
 */
export interface SqliteConnection {
  exec(sql: string): void;
  all(sql: string, ...args: unknown[]): unknown[];
  run(sql: string, ...args: unknown[]): void;
  /** Runs `fn` between `BEGIN IMMEDIATE` (the write lock, taken first) and `COMMIT`; `ROLLBACK` if it throws. */
  immediate<T>(fn: () => T): T;
  /** Sets how long a locked database is waited for, ms; returns the previous value. */
  busyTimeout(ms: number): number;
}

/** What the PostgreSQL runner needs of a connection or pool (`pg`'s `Pool` and `PoolClient` fit). */
export interface PgQueryable {
  query(sql: string, args?: unknown[]): Promise<{ rows: unknown[] }>;
}

/** A pool the PostgreSQL runner takes one connection from, for its transaction. */
export interface PgPool extends PgQueryable {
  connect(): Promise<PgQueryable & {
    release(err?: Error | boolean): void;
    on(event: 'error', listener: (err: Error) => void): unknown;
    off(event: 'error', listener: (err: Error) => void): unknown;
  }>;
}
