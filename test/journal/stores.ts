/**
 * Throwaway journal stores for the migration and encryption suites: the same operations on a
 * SQLite file and on a PostgreSQL schema of its own, so one suite runs on both adapters.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { Client } from 'pg';
import type { JournalKeyring } from '../../src/journal/journal-cipher';
import type { Journal, JournalMaintenance } from '../../src/journal/journal';
import { PostgresJournal } from '../../src/journal/journal-postgres';
import { SqliteJournal } from '../../src/journal/journal-sqlite';

/** The test database (not `DAVIS_*`: loadConfig rejects unknown variables of that prefix). */
export const PG_URL = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export type Adapter = Journal & JournalMaintenance;

/** One throwaway store on one dialect. */
export interface Store {
  readonly dialect: 'sqlite' | 'postgres';
  /** Another adapter on the store, as another gateway would hold. */
  open(keyring?: JournalKeyring): Promise<Adapter>;
  /** Runs SQL on the store directly (0.1.0's DDL, tampering); `{s}` is the schema prefix (`"x".` or nothing). */
  exec(sql: string): Promise<void>;
  /** Rows of a query run directly; `{s}` as in exec. */
  query<T>(sql: string): Promise<T[]>;
  /** What a copy of the store holds: the SQLite file with its -wal and -shm, or a pg_dump of the schema. */
  bytes(): Promise<Buffer>;
  /** Closes every adapter and throws the store away. */
  dispose(): Promise<void>;
  /** SQLite: the file. */
  readonly file?: string;
  /** PostgreSQL: the schema. */
  readonly schema?: string;
}

export function sqliteStore(): Store {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'davis-journal-'));
  const file = path.join(dir, 'journal.sqlite');
  const handles: Adapter[] = [];
  const raw = <T>(fn: (db: Database.Database) => T): T => {
    const db = new Database(file);
    db.pragma('busy_timeout = 5000');
    try {
      return fn(db);
    } finally {
      db.close();
    }
  };
  return {
    dialect: 'sqlite', file,
    async open(keyring) {
      const j = new SqliteJournal(file, keyring ? { keyring } : {});
      handles.push(j);
      return j;
    },
    async exec(sql) { raw((db) => { db.pragma('journal_mode = WAL'); db.exec(sql.replaceAll('{s}', '')); }); },
    async query<T>(sql: string) { return raw((db) => db.prepare(sql.replaceAll('{s}', '')).all() as T[]); },
    async bytes() {
      return Buffer.concat(['', '-wal', '-shm'].map((x) => file + x).filter((f) => existsSync(f)).map((f) => readFileSync(f)));
    },
    async dispose() {
      for (const j of handles) await j.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function withPg<T>(fn: (c: Client) => Promise<T>): Promise<T> {
  const c = new Client({ connectionString: PG_URL });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

export function postgresStore(schema = `davis_test_${randomBytes(6).toString('hex')}`): Store {
  const handles: Adapter[] = [];
  const s = `"${schema}".`;
  return {
    dialect: 'postgres', schema,
    async open(keyring) {
      const j = await PostgresJournal.open(PG_URL, { schema, poolSize: 4, ...(keyring ? { keyring } : {}) });
      handles.push(j);
      return j;
    },
    async exec(sql) { await withPg((c) => c.query(sql.replaceAll('{s}', s))); },
    async query<T>(sql: string) { return withPg(async (c) => (await c.query(sql.replaceAll('{s}', s))).rows as T[]); },
    async bytes() {
      const { stdout } = await promisify(execFile)('pg_dump', ['--dbname', PG_URL, '--schema', schema, '--no-owner'], { encoding: 'buffer', maxBuffer: 256 * 1024 * 1024 });
      return stdout;
    },
    async dispose() {
      for (const j of handles) await j.close();
      await withPg((c) => c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`));
    },
  };
}

/** Every adapter the suites run on. */
export const STORES: [string, () => Store][] = [
  ['sqlite', sqliteStore],
  ['postgres', postgresStore],
];

/**
 * The DDL of release 0.1.0, as its adapters ran it, kept here on its own (not taken from the
 * migrations) so the upgrade test starts from what 0.1.0 really wrote.
 */
export function ddl010(dialect: 'sqlite' | 'postgres', s: string): string {
  if (dialect === 'sqlite') {
    return `
CREATE TABLE IF NOT EXISTS messages (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, type TEXT NOT NULL, direction TEXT NOT NULL, state TEXT NOT NULL,
  ordering_key TEXT NOT NULL, client_id TEXT NOT NULL, idempotency_key TEXT, body_hash TEXT NOT NULL, correlation_id TEXT NOT NULL,
  wire_xml TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT,
  next_attempt_at TEXT, answer_json TEXT, response_xml TEXT, webhook_json TEXT);
CREATE INDEX IF NOT EXISTS messages_created ON messages (created_at, id);
CREATE INDEX IF NOT EXISTS messages_state ON messages (state, created_at);
CREATE INDEX IF NOT EXISTS messages_idem ON messages (client_id, idempotency_key);
CREATE INDEX IF NOT EXISTS messages_order ON messages (ordering_key, seq);
CREATE TABLE IF NOT EXISTS events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, message_id TEXT NOT NULL REFERENCES messages(id), state TEXT NOT NULL, at TEXT NOT NULL,
  attempt INTEGER, detail TEXT);
CREATE INDEX IF NOT EXISTS events_message ON events (message_id, seq);`;
  }
  const q = s.slice(0, -1);
  return `
CREATE SCHEMA IF NOT EXISTS ${q};
CREATE TABLE IF NOT EXISTS ${s}messages (
  seq BIGSERIAL PRIMARY KEY, id TEXT COLLATE "C" NOT NULL UNIQUE, type TEXT NOT NULL, direction TEXT NOT NULL, state TEXT NOT NULL,
  ordering_key TEXT COLLATE "C" NOT NULL, client_id TEXT NOT NULL, idempotency_key TEXT, body_hash TEXT NOT NULL, correlation_id TEXT NOT NULL,
  wire_xml TEXT NOT NULL, created_at TEXT COLLATE "C" NOT NULL, updated_at TEXT COLLATE "C" NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
  last_error TEXT, next_attempt_at TEXT COLLATE "C", answer_json JSON, response_xml TEXT, webhook_json JSON);
CREATE INDEX IF NOT EXISTS messages_created ON ${s}messages (created_at, id);
CREATE INDEX IF NOT EXISTS messages_state ON ${s}messages (state, created_at);
CREATE INDEX IF NOT EXISTS messages_idem ON ${s}messages (client_id, idempotency_key);
CREATE INDEX IF NOT EXISTS messages_order ON ${s}messages (ordering_key, seq);
CREATE TABLE IF NOT EXISTS ${s}events (
  seq BIGSERIAL PRIMARY KEY, message_id TEXT COLLATE "C" NOT NULL REFERENCES ${s}messages(id), state TEXT NOT NULL,
  at TEXT COLLATE "C" NOT NULL, attempt INTEGER, detail TEXT);
CREATE INDEX IF NOT EXISTS events_message ON ${s}events (message_id, seq);`;
}

/** Personal values of the shipped valid application examples, and wire XML carrying them. */
export function personalExamples(): { payloads: Record<string, any>[]; values: string[] } {
  const dir = path.join(__dirname, '..', '..', 'schemas', 'examples', 'vis.application.create');
  const payloads = readdirSync(dir).filter((f) => /^valid-.*\.json$/.test(f)).sort()
    .map((f) => JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as Record<string, any>);
  const values = new Set<string>();
  for (const p of payloads) {
    for (const v of [p.applicant?.surname, p.applicant?.firstNames, p.applicant?.surnameAtBirth, p.applicant?.dateOfBirth, p.travelDocument?.number]) {
      if (typeof v === 'string' && v.length >= 5) values.add(v);
    }
  }
  return { payloads, values: [...values] };
}

/** The values found in `bytes` (UTF-8, as both stores write text). */
export function leaked(bytes: Buffer, values: readonly string[]): string[] {
  return values.filter((v) => bytes.includes(Buffer.from(v, 'utf8')));
}
