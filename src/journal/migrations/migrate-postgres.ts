import { nowIso } from '../journal';
import { MIGRATIONS, SCHEMA_VERSION } from './index';
import {
  checksumOf, pendingMigrations, postgresSql, type AppliedMigration, type Migration, type MigrationResult, type MigrationStatus,
  type PgPool, type PgQueryable as Queryable,
} from './migration';

async function relationExists(q: Queryable, quotedSchema: string, name: string): Promise<boolean> {
  const r = await q.query('SELECT to_regclass($1)::text AS found', [`${quotedSchema}.${name}`]);
  return (r.rows as { found: string | null }[])[0].found !== null;
}

async function readApplied(q: Queryable, quotedSchema: string): Promise<AppliedMigration[]> {
  if (!(await relationExists(q, quotedSchema, 'schema_migrations'))) return [];
  const r = await q.query(`SELECT version, name, checksum, applied_at FROM ${quotedSchema}.schema_migrations ORDER BY version`);
  return (r.rows as { version: number; name: string; checksum: string; applied_at: string }[]).map((x) => ({ version: x.version, name: x.name, checksum: x.checksum, appliedAt: x.applied_at }));
}

/**
 * What is applied and what is pending, without changing anything (and without needing any
 * privilege beyond reading `schema_migrations`).
 * @throws DavisError DAVIS_ERR_JOURNAL_SCHEMA (see `pendingMigrations`)
 */
export async function postgresMigrationStatus(q: Queryable, quotedSchema: string, list: readonly Migration[] = MIGRATIONS): Promise<MigrationStatus> {
  const tracked = await relationExists(q, quotedSchema, 'schema_migrations');
  const applied = tracked ? await readApplied(q, quotedSchema) : [];
  const legacy = !tracked && (await relationExists(q, quotedSchema, 'messages'));
  return { applied, pending: pendingMigrations(list, applied, 'postgres'), legacy, empty: !tracked && !legacy };
}

/**
 * Brings the schema to this release's version. With nothing pending it only reads (a role
 * without CREATE can start the gateway). Otherwise one transaction takes
 * `pg_advisory_xact_lock` on the schema's DDL key (the key 0.1.0 took for its DDL, so a 0.1.0
 * gateway starting at the same moment waits too), reads what is applied, applies the rest
 * and records each; gateways starting together wait on the lock and then find nothing left.
 * PostgreSQL's DDL is transactional: a failing migration leaves nothing behind. A 0.1.0
 * journal is adopted by recording migration 1 over its tables.
 *
 * @throws DavisError DAVIS_ERR_JOURNAL_SCHEMA when the schema was written by a newer release
 */
export async function migratePostgres(pool: PgPool, quotedSchema: string, schemaName: string, list: readonly Migration[] = MIGRATIONS): Promise<MigrationResult> {
  const before = await postgresMigrationStatus(pool, quotedSchema, list);
  if (!before.pending.length) return { applied: [], adopted: false, version: before.applied.at(-1)?.version ?? 0 };
  const c = await pool.connect();
  let broken: Error | true | undefined;
  // A checked-out connection has no listener of the pool's: the server ending it between two
  // statements (a restart) would otherwise be an unhandled 'error' event, ending the process.
  const onError = (err: Error): void => { broken = err; };
  c.on('error', onError);
  try {
    await c.query('BEGIN');
    await c.query('SELECT pg_advisory_xact_lock(hashtext($1::text))', [`davis-journal-ddl:${schemaName}`]);
    await c.query(`CREATE SCHEMA IF NOT EXISTS ${quotedSchema}`);
    const legacy = !(await relationExists(c, quotedSchema, 'schema_migrations')) && (await relationExists(c, quotedSchema, 'messages'));
    await c.query(`CREATE TABLE IF NOT EXISTS ${quotedSchema}.schema_migrations (
      version INTEGER PRIMARY KEY,
      name TEXT NOT NULL,
      checksum TEXT NOT NULL,
      applied_at TEXT COLLATE "C" NOT NULL
    )`);
    const pending = pendingMigrations(list, await readApplied(c, quotedSchema), 'postgres');
    for (const m of pending) {
      await c.query(postgresSql(m, quotedSchema));
      await c.query(`INSERT INTO ${quotedSchema}.schema_migrations (version, name, checksum, applied_at) VALUES ($1, $2, $3, $4)`,
        [m.version, m.name, checksumOf(m, 'postgres'), nowIso()]);
    }
    await c.query('COMMIT');
    return { applied: pending.map((m) => m.version), adopted: legacy, version: list.at(-1)?.version ?? SCHEMA_VERSION };
  } catch (err) {
    await c.query('ROLLBACK').catch((e: unknown) => { broken = e instanceof Error ? e : true; });
    throw err;
  } finally {
    c.off('error', onError);
    c.release(broken);
  }
}
