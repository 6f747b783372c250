import { X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { chain, RECORD_COLUMNS, rowValues } from '../../src/audit/audit-store';
import { GENESIS_HASH } from '../../src/audit/canonical';
import { Checkpointer } from '../../src/audit/checkpoints';
import { verifyAuditLog, type AuditVerifyReport } from '../../src/audit/verify';
import { run } from '../../src/cli/main';
import { Retention, retentionOf } from '../../src/exchange/retention';
import { event, fill, openDb, readCheckpointFiles, silent, tempDir, testPki, type Db } from './helpers';

/** 50 records; signed checkpoints at 20 and 40, exported; 41..50 not covered. */
const N = 50;
const CHECKPOINTS = [20, 40];
const FUTURE = '9999-01-01T00:00:00.000Z';

describe.each(['sqlite', 'postgres'] as const)('audit retention (pruning) on %s', (driver) => {
  let tmp: ReturnType<typeof tempDir>;
  let pki: Awaited<ReturnType<typeof testPki>>;
  let db: Db;
  let cpDir: string;

  beforeAll(async () => {
    tmp = tempDir('davis-prune-');
    pki = await testPki(tmp.dir);
  });
  afterAll(() => tmp.remove());

  beforeEach(async () => {
    const dir = path.join(tmp.dir, `case-${Math.random().toString(16).slice(2)}`);
    cpDir = path.join(dir, 'checkpoints');
    db = await openDb(driver, dir);
    await fill(db.store, pki.key, N, CHECKPOINTS, cpDir);
  });
  afterEach(async () => { await db.dispose(); });

  function verify(): Promise<AuditVerifyReport> {
    return verifyAuditLog(db.store, { exported: readCheckpointFiles(cpDir), trust: [new X509Certificate(readFileSync(pki.caFile))] });
  }

  /**
   * Whether a trigger refused the statement. Not `rejects.toThrow()`: better-sqlite3's
   * errors are made in the realm of the first test file that loaded it, so in a later file
   * they are not `instanceof Error` and jest would report "did not throw".
   */
  async function refused(sql: string): Promise<boolean> {
    return db.exec(sql).then(() => false, (e: { message?: string }) => /only by retention|append-only/.test(String(e?.message)));
  }

  async function seqs(table: 'audit_records' | 'audit_pruned'): Promise<number[]> {
    return (await db.query<{ seq: number | string }>(`SELECT seq FROM {t}${table} ORDER BY seq`)).map((r) => Number(r.seq));
  }

  it('pruning a checkpointed prefix keeps seq and hash, and the log still verifies (chain, Merkle roots, later checkpoints)', async () => {
    const hashes = (await db.query<{ hash: string }>('SELECT hash FROM {t}audit_records WHERE seq <= 25 ORDER BY seq')).map((r) => r.hash);
    expect(await db.store.deleteRecordsBefore(FUTURE, 15)).toBe(15);
    expect(await db.store.deleteRecordsBefore(FUTURE, 15)).toBe(15);
    expect(await db.store.deleteRecordsBefore(FUTURE, 15)).toBe(10);
    expect(await db.store.deleteRecordsBefore(FUTURE, 15)).toBe(0);
    expect((await seqs('audit_records'))[0]).toBe(41);
    expect(await seqs('audit_pruned')).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    expect((await db.store.readPruned(0, 25)).map((p) => p.hash)).toEqual(hashes);
    const report = await verify();
    expect(report).toMatchObject({ ok: true, records: N, pruned: 40, checkpoints: 2 });
    // The checkpointer and the inclusion proofs read the pruned hashes as leaves.
    await fill(db.store, pki.key, N + 5, [N + 5], cpDir);
    expect(await verify()).toMatchObject({ ok: true, records: N + 5, pruned: 40, checkpoints: 3 });
    expect((await db.store.leafHashes(0, N + 5)).length).toBe(N + 5);
  });

  it('only records stamped before the cutoff go', async () => {
    expect(await db.store.deleteRecordsBefore('2000-01-01T00:00:00.000Z', 100)).toBe(0);
    expect(await seqs('audit_pruned')).toEqual([]);
  });

  it('pruning never goes past the newest checkpoint, nor without one', async () => {
    expect(await db.store.deleteRecordsBefore(FUTURE, 1000)).toBe(40);
    expect((await seqs('audit_records'))).toEqual(Array.from({ length: 10 }, (_, i) => i + 41));
    const other = await openDb(driver, path.join(tmp.dir, `bare-${Math.random().toString(16).slice(2)}`));
    try {
      for (let i = 1; i <= 5; i++) await other.store.record(event(i));
      expect(await other.store.deleteRecordsBefore(FUTURE, 1000)).toBe(0);
      expect(await other.query('SELECT seq FROM {t}audit_pruned')).toHaveLength(0);
    } finally {
      await other.dispose();
    }
  });

  it('the database refuses a delete outside retention: an uncovered record, or one with no pruned entry', async () => {
    expect(await refused('DELETE FROM {t}audit_records WHERE seq = 45')).toBe(true);
    expect(await refused('DELETE FROM {t}audit_records WHERE seq = 5')).toBe(true);
    await db.exec("INSERT INTO {t}audit_pruned (seq, hash, pruned_at) VALUES (45, (SELECT hash FROM {t}audit_records WHERE seq = 45), 'x')");
    expect(await refused('DELETE FROM {t}audit_records WHERE seq = 45')).toBe(true);
    expect(await refused("UPDATE {t}audit_pruned SET hash = 'x' WHERE seq = 45")).toBe(true);
    expect(await refused('DELETE FROM {t}audit_pruned WHERE seq = 45')).toBe(true);
    expect(await seqs('audit_records')).toHaveLength(N);
  });

  it("an intruder's plain DELETE (triggers dropped) after pruning is named deleted", async () => {
    await db.store.deleteRecordsBefore(FUTURE, 20);
    await db.disarm();
    await db.exec('DELETE FROM {t}audit_records WHERE seq = 21');
    expect((await verify()).problem).toMatchObject({ kind: 'deleted', seq: 21 });
  });

  it("an intruder's plain DELETE of a middle record is named deleted, with or without a prior prune", async () => {
    await db.disarm();
    await db.exec('DELETE FROM {t}audit_records WHERE seq = 7');
    expect((await verify()).problem).toMatchObject({ kind: 'deleted', seq: 7 });
    // Retention stops before the gap and does not erase the evidence of it.
    expect(await db.store.deleteRecordsBefore(FUTURE, 100)).toBe(6);
    expect((await verify()).problem).toMatchObject({ kind: 'deleted', seq: 7 });
  });

  it('a record modified before pruning is not pruned', async () => {
    await db.disarm();
    await db.exec("UPDATE {t}audit_records SET outcome = 'x' WHERE seq = 12");
    expect(await db.store.deleteRecordsBefore(FUTURE, 100)).toBe(11);
    expect((await verify()).problem).toMatchObject({ kind: 'modified', seq: 12 });
  });

  it('a changed hash in the pruned table is named', async () => {
    await db.store.deleteRecordsBefore(FUTURE, 30);
    await db.disarm();
    await db.exec("UPDATE {t}audit_pruned SET hash = ? WHERE seq = 5", ['ab'.repeat(32)]);
    expect((await verify()).problem).toMatchObject({ kind: 'modified', seq: 1, toSeq: 20, checkpoint: 20 });
  });

  it('a changed last pruned hash is named', async () => {
    await db.store.deleteRecordsBefore(FUTURE, 30);
    await db.disarm();
    await db.exec("UPDATE {t}audit_pruned SET hash = ? WHERE seq = 30", ['ab'.repeat(32)]);
    expect((await verify()).problem).toMatchObject({ kind: 'modified', seq: 30 });
  });

  it('pruned entries removed from the pruned table are named deleted', async () => {
    await db.store.deleteRecordsBefore(FUTURE, 30);
    await db.disarm();
    await db.exec('DELETE FROM {t}audit_pruned WHERE seq <= 3');
    expect((await verify()).problem).toMatchObject({ kind: 'deleted', seq: 1, toSeq: 3 });
  });

  it('records deleted with pruned entries written past the newest checkpoint are named', async () => {
    await db.store.deleteRecordsBefore(FUTURE, 100);
    await db.disarm();
    const rows = await db.query<{ seq: number | string; hash: string }>('SELECT seq, hash FROM {t}audit_records WHERE seq <= 45 ORDER BY seq');
    for (const r of rows) await db.exec("INSERT INTO {t}audit_pruned (seq, hash, pruned_at) VALUES (?, ?, 'x')", [Number(r.seq), r.hash]);
    await db.exec('DELETE FROM {t}audit_records WHERE seq <= 45');
    expect((await verify()).problem).toMatchObject({ kind: 'deleted', seq: 41, toSeq: 45 });
  });

  it('a dry run reports the audit records due, changes nothing, and the run then deletes exactly that many', async () => {
    const retention = new Retention({
      journal: retentionOf(db.journal), audit: db.store, logger: silent,
      policy: { payloadDays: 0, recordDays: 1, intervalMs: 0, batchSize: 15 }, now: () => Date.now() + 2 * 86_400_000,
    });
    const dry = await retention.run({ dryRun: true });
    expect(dry).toMatchObject({ dryRun: true, auditRecords: 40 });
    expect(await seqs('audit_pruned')).toEqual([]);
    expect(await db.store.list({ operation: 'retention.purge' })).toHaveLength(0);
    expect((await retention.run()).auditRecords).toBe(40);
    expect((await retention.run({ dryRun: true })).auditRecords).toBe(0);
    // A tampered record stops the count where it stops the run.
    await fill(db.store, pki.key, N + 20, [N + 20], cpDir);
    await db.disarm();
    await db.exec("UPDATE {t}audit_records SET outcome = 'x' WHERE seq = 45");
    expect((await retention.run({ dryRun: true })).auditRecords).toBe(4);
    expect((await retention.run()).auditRecords).toBe(4);
  });

  it('a retention run prunes records past recordDays and leaves one retention.purge record saying how many', async () => {
    const retention = new Retention({
      journal: retentionOf(db.journal), audit: db.store, logger: silent,
      policy: { payloadDays: 0, recordDays: 1, intervalMs: 0, batchSize: 15 }, now: () => Date.now() + 2 * 86_400_000,
    });
    const r = await retention.run();
    expect(r.auditRecords).toBe(40);
    const purges = await db.store.list({ operation: 'retention.purge' });
    expect(purges).toHaveLength(1);
    expect(purges[0].outcome).toBe('ok:payloads=0,messages=0,auditRecords=40');
    expect(await verify()).toMatchObject({ ok: true, pruned: 40, records: N + 1 });
  });
});

describe('davis retention run on a SQLite journal whose oldest audit records are past recordDays', () => {
  let tmp: ReturnType<typeof tempDir>;
  afterAll(() => tmp.remove());

  it('--dry-run reports the audit records due and changes nothing; the run then deletes that many and the log verifies', async () => {
    tmp = tempDir('davis-prune-cli-');
    const pki = await testPki(tmp.dir);
    const db = await openDb('sqlite', tmp.dir);
    const cpDir = path.join(tmp.dir, 'audit-checkpoints');
    try {
      // 30 records made three years ago (chained as the store chains them), 5 of today, a checkpoint over all.
      const old = chain(Array.from({ length: 30 }, (_, i) => event(i + 1)), 0, GENESIS_HASH, new Date(Date.now() - 3 * 365 * 86_400_000).toISOString());
      for (const r of old) await db.exec(`INSERT INTO {t}audit_records (${RECORD_COLUMNS.join(', ')}) VALUES (${RECORD_COLUMNS.map(() => '?').join(', ')})`, rowValues(r));
      for (let i = 31; i <= 35; i++) await db.store.record(event(i));
      await new Checkpointer({ store: db.store, signingKey: () => pki.key, dir: cpDir, logger: silent }).checkpoint();
    } finally {
      await db.dispose();
    }
    const cfg = path.join(tmp.dir, 'config.json');
    writeFileSync(cfg, JSON.stringify({ mode: 'dev', dataDir: tmp.dir, journal: { driver: 'sqlite', sqlitePath: 'journal.sqlite' }, retention: { recordDays: 365, batchSize: 7 } }));
    const out: string[] = [];
    const io = { out: (x: string) => { out.push(x); }, err: (x: string) => { out.push(x); } };
    expect(await run(['retention', 'run', '--dry-run', '--config', cfg], io)).toBe(0);
    expect(out.join('')).toMatch(/^retention: would purge the payloads of 0 message\(s\) settled before .*; would delete 0 message\(s\) created before .* and 30 audit record\(s\)\n$/);
    out.length = 0;
    expect(await run(['retention', 'run', '--config', cfg], io)).toBe(0);
    expect(out.join('')).toMatch(/deleted 0 message\(s\) created before .* and 30 audit record\(s\)\n$/);
    out.length = 0;
    expect(await run(['retention', 'run', '--dry-run', '--config', cfg], io)).toBe(0);
    expect(out.join('')).toContain('and 0 audit record(s)');
    out.length = 0;
    expect(await run(['audit', 'verify', '--trust', pki.caFile, '--config', cfg], io)).toBe(0);
    expect(out.join('')).toContain('audit trail verified: 36 records');
  });
});
