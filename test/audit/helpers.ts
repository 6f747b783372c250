import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { Client } from 'pg';
import type { AuditEvent } from '../../src/audit/audit';
import type { AuditStore } from '../../src/audit/audit-store';
import { Checkpointer, readCheckpointFiles } from '../../src/audit/checkpoints';
import { auditStoreOf } from '../../src/audit/open-audit';
import { createDevPki } from '../../src/dev/dev-pki';
import type { Journal } from '../../src/journal/journal';
import { PostgresJournal } from '../../src/journal/journal-postgres';
import { SqliteJournal } from '../../src/journal/journal-sqlite';
import { loadSigningKey } from '../../src/signing/pki';
import type { SigningKey } from '../../src/signing/types';

/** The test database (not `DAVIS_*`: loadConfig rejects unknown variables of that prefix). */
export const PG_URL = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export const silent = pino({ level: 'silent' });

/** A dev PKI made once per test file: the gateway's signing key and the CA that issued it. */
export async function testPki(dir: string): Promise<{ key: SigningKey; caFile: string; keyFile: string; certFile: string }> {
  const pki = await createDevPki(path.join(dir, 'pki'), { days: 2 });
  return { key: loadSigningKey({ keyFile: pki.gatewayKey, certFile: pki.gatewayCert }), caFile: pki.caCert, keyFile: pki.gatewayKey, certFile: pki.gatewayCert };
}

/** An event with no personal data, numbered so records differ. */
export function event(i: number): AuditEvent {
  return {
    operation: 'message.send', purpose: 'Reg. (EC) 767/2008 Art 9', dataCategories: ['applicant.surname', 'travelDocument.number'],
    clientId: 'uma-dev-client', authority: 'FI-MIGRI', messageId: `msg-${i}`, messageType: 'vis.application.create',
    outcome: i % 7 === 0 ? 'rejected' : 'delivered', contentDigest: 'ab'.repeat(32), correlationId: `corr-${i}`,
    ...(i % 5 === 0 ? { staff: 'staff-17', queryCategories: ['applicant.dateOfBirth'] } : {}),
  };
}

/** One throwaway audit log in a real database, and SQL on its tables as an intruder would run it. */
export interface Db {
  readonly driver: 'sqlite' | 'postgres';
  readonly journal: Journal;
  readonly store: AuditStore;
  /** Runs SQL; `{t}` is replaced by the table prefix (`"schema".` on PostgreSQL, nothing on SQLite). */
  exec(sql: string, args?: unknown[]): Promise<void>;
  query<T>(sql: string, args?: unknown[]): Promise<T[]>;
  /** Drops the append-only triggers (what someone with database access does first). */
  disarm(): Promise<void>;
  /** The settings `davis audit verify` needs to reach it. */
  readonly config: Record<string, unknown>;
  readonly schema?: string;
  /** Another store handle on the same database (a second gateway instance). */
  second(): Promise<{ store: AuditStore; close(): Promise<void> }>;
  dispose(): Promise<void>;
}

export async function openDb(driver: 'sqlite' | 'postgres', dir: string): Promise<Db> {
  if (driver === 'sqlite') {
    const file = path.join(dir, 'journal.sqlite');
    const journal = new SqliteJournal(file);
    const db = journal.database;
    const store = auditStoreOf(journal);
    const sub = (s: string) => s.replaceAll('{t}', '');
    return {
      driver, journal, store, config: { dataDir: dir, journal: { driver: 'sqlite', sqlitePath: file } },
      async exec(sql, args = []) { const st = db.prepare(sub(sql)); st.run(...args); },
      async query<T>(sql: string, args: unknown[] = []) { return db.prepare(sub(sql)).all(...args) as T[]; },
      async disarm() {
        db.exec('DROP TRIGGER IF EXISTS audit_records_append_only; DROP TRIGGER IF EXISTS audit_checkpoints_no_update; DROP TRIGGER IF EXISTS audit_checkpoints_no_delete; DROP TRIGGER IF EXISTS audit_records_no_delete; DROP TRIGGER IF EXISTS audit_pruned_no_update; DROP TRIGGER IF EXISTS audit_pruned_no_delete;');
      },
      async second() {
        const j = new SqliteJournal(file);
        return { store: auditStoreOf(j), close: () => j.close() };
      },
      async dispose() { await journal.close(); },
    };
  }
  const schema = `davis_audit_${randomBytes(6).toString('hex')}`;
  const journal = await PostgresJournal.open(PG_URL, { schema });
  const store = auditStoreOf(journal);
  const client = new Client({ connectionString: PG_URL });
  await client.connect();
  const sub = (s: string) => s.replaceAll('{t}', `"${schema}".`).replace(/\?/g, (() => { let i = 0; return () => `$${++i}`; })());
  const seconds: PostgresJournal[] = [];
  return {
    driver, journal, store, schema, config: { dataDir: dir, journal: { driver: 'postgres', postgresUrl: PG_URL } },
    async exec(sql, args = []) { await client.query(sub(sql), args); },
    async query<T>(sql: string, args: unknown[] = []) { return (await client.query(sub(sql), args)).rows as T[]; },
    async disarm() {
      await client.query(`ALTER TABLE "${schema}".audit_records DISABLE TRIGGER USER; ALTER TABLE "${schema}".audit_checkpoints DISABLE TRIGGER USER; ALTER TABLE "${schema}".audit_pruned DISABLE TRIGGER USER`);
    },
    async second() {
      const j = await PostgresJournal.open(PG_URL, { schema });
      seconds.push(j);
      return { store: auditStoreOf(j), close: () => j.close() };
    },
    async dispose() {
      await journal.close();
      for (const j of seconds) await j.close();
      await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await client.end();
    },
  };
}

/** Appends `n` records, checkpointing (signed, exported to `dir`) whenever the log reaches one of `at`. */
export async function fill(store: AuditStore, key: SigningKey, n: number, at: readonly number[], dir: string, opts: { tsaUrl?: string } = {}): Promise<Checkpointer> {
  const cp = new Checkpointer({ store, signingKey: () => key, every: 1e9, intervalMs: 3600_000, dir, logger: silent, ...opts });
  const start = await store.head();
  for (let i = start + 1; i <= n; i++) {
    await store.record(event(i));
    if (at.includes(i)) await cp.checkpoint();
  }
  return cp;
}

export function tempDir(prefix: string): { dir: string; remove(): void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export { readCheckpointFiles };
