import { X509Certificate } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { recordHash, type RecordBody } from '../../src/audit/canonical';
import { Checkpointer, readCheckpointFiles } from '../../src/audit/checkpoints';
import { verifyAuditLog, type AuditVerifyReport } from '../../src/audit/verify';
import { fromRow, type RecordRow } from '../../src/audit/audit-store';
import { run } from '../../src/cli/main';
import { event, fill, openDb, silent, tempDir, testPki, type Db } from './helpers';

/** 50 records; signed checkpoints at 20 and 40, exported; 41..50 not covered yet. */
const N = 50;
const CHECKPOINTS = [20, 40];

describe.each(['sqlite', 'postgres'] as const)('davis audit verify on %s', (driver) => {
  let tmp: ReturnType<typeof tempDir>;
  let pki: Awaited<ReturnType<typeof testPki>>;
  let db: Db;
  let cpDir: string;
  let cfgFile: string;

  beforeAll(async () => {
    tmp = tempDir('davis-audit-');
    pki = await testPki(tmp.dir);
  });
  afterAll(() => tmp.remove());

  beforeEach(async () => {
    const dir = path.join(tmp.dir, `case-${Math.random().toString(16).slice(2)}`);
    cpDir = path.join(dir, 'checkpoints');
    db = await openDb(driver, dir);
    await fill(db.store, pki.key, N, CHECKPOINTS, cpDir);
    await db.disarm();
    cfgFile = path.join(dir, 'config.json');
    writeFileSync(cfgFile, JSON.stringify({ ...db.config, audit: { checkpointDir: cpDir } }));
  });
  afterEach(async () => { await db.dispose(); });

  async function verify(withExported = true): Promise<AuditVerifyReport> {
    return verifyAuditLog(db.store, withExported ? { exported: readCheckpointFiles(cpDir), trust: [new X509Certificate(readFileSync(pki.caFile))] } : {});
  }

  /** The CLI's exit code and first line, on the same database. */
  async function cli(...extra: string[]): Promise<{ code: number; out: string }> {
    let out = '';
    const code = await run(['audit', 'verify', '--config', cfgFile, ...(db.schema ? ['--schema', db.schema] : []), ...extra], { out: (s) => { out += s; }, err: () => undefined });
    return { code, out };
  }

  async function rows(): Promise<RecordRow[]> {
    return db.query<RecordRow>('SELECT * FROM {t}audit_records ORDER BY seq');
  }

  /** Renumbers records with seq >= from by `by`, as one could with SQL (in two steps: seq is the primary key). */
  async function shift(from: number, by: number): Promise<void> {
    await db.exec('UPDATE {t}audit_records SET seq = -seq WHERE seq >= ?', [from]);
    await db.exec('UPDATE {t}audit_records SET seq = -seq + ? WHERE seq < 0', [by]);
  }

  /** Rewrites the hashes of records from..N as someone recomputing the chain would. */
  async function rechain(from: number): Promise<void> {
    const all = (await rows()).map(fromRow);
    let prev = all[from - 2].hash;
    for (const r of all.slice(from - 1)) {
      const hash = recordHash(prev, r as unknown as RecordBody);
      await db.exec('UPDATE {t}audit_records SET prev_hash = ?, hash = ? WHERE seq = ?', [prev, hash, r.seq]);
      prev = hash;
    }
  }

  it('an untouched log verifies, by the function and by the command', async () => {
    const report = await verify();
    expect(report).toMatchObject({ ok: true, records: N, checkpoints: 2, exported: 2 });
    expect(report.problem).toBeUndefined();
    expect(await cli()).toEqual({ code: 0, out: expect.stringMatching(/^audit trail verified: 50 records, 2 checkpoints/) as string });
  });

  it('a modified record is named', async () => {
    await db.exec("UPDATE {t}audit_records SET outcome = 'delivered' WHERE seq = 7");
    expect((await verify()).problem).toMatchObject({ kind: 'modified', seq: 7 });
    expect(await cli()).toEqual({ code: 1, out: expect.stringMatching(/^record 7: modified:/) as string });
  });

  it('a modified record whose own hash was recomputed is named', async () => {
    const r = fromRow((await rows())[11]);
    const changed = { ...r, dataCategories: ['applicant.surname'] };
    await db.exec('UPDATE {t}audit_records SET data_categories = ?, hash = ? WHERE seq = 12',
      [JSON.stringify(changed.dataCategories), recordHash(r.prevHash, changed as unknown as RecordBody)]);
    expect((await verify()).problem).toMatchObject({ kind: 'modified', seq: 12 });
  });

  it('a deleted record is named, with and without renumbering the rest', async () => {
    await db.exec('DELETE FROM {t}audit_records WHERE seq = 12');
    expect((await verify()).problem).toMatchObject({ kind: 'deleted', seq: 12 });
    await shift(13, -1);
    expect((await verify()).problem).toMatchObject({ kind: 'deleted', seq: 12 });
    expect(await cli()).toEqual({ code: 1, out: expect.stringMatching(/^record 12: deleted:/) as string });
  });

  it('an inserted record is named, even with a correct hash and the rest renumbered', async () => {
    const before = fromRow((await rows())[13]);
    await shift(15, 1);
    const forged = { ...event(999), seq: 15, at: before.at, outcome: 'ok' };
    const hash = recordHash(before.hash, forged as unknown as RecordBody);
    await db.exec(`INSERT INTO {t}audit_records (seq, at, operation, purpose, data_categories, client_id, outcome, prev_hash, hash)
      VALUES (15, ?, ?, ?, ?, ?, ?, ?, ?)`, [forged.at, forged.operation, forged.purpose, JSON.stringify(forged.dataCategories), forged.clientId, 'ok', before.hash, hash]);
    expect((await verify()).problem).toMatchObject({ kind: 'inserted', seq: 15 });
    expect(await cli()).toEqual({ code: 1, out: expect.stringMatching(/^record 15: inserted:/) as string });
  });

  it('reordered records are named', async () => {
    await db.exec('UPDATE {t}audit_records SET seq = -1 WHERE seq = 25');
    await db.exec('UPDATE {t}audit_records SET seq = 25 WHERE seq = 26');
    await db.exec('UPDATE {t}audit_records SET seq = 26 WHERE seq = -1');
    expect((await verify()).problem).toMatchObject({ kind: 'reordered', seq: 25 });
    expect(await cli()).toEqual({ code: 1, out: expect.stringMatching(/^record 25: reordered:/) as string });
  });

  it('a log truncated after a checkpoint is named, even when the journal\'s checkpoints were deleted too', async () => {
    await db.exec('DELETE FROM {t}audit_records WHERE seq > 35');
    expect((await verify(false)).problem).toMatchObject({ kind: 'truncated', seq: 36, checkpoint: 40 });
    await db.exec('DELETE FROM {t}audit_checkpoints WHERE size > 35');
    // The database alone now looks whole: the exported checkpoint is what tells.
    expect((await verify(false)).ok).toBe(true);
    expect((await verify()).problem).toMatchObject({ kind: 'truncated', seq: 36, checkpoint: 40 });
    expect(await cli()).toEqual({ code: 1, out: expect.stringMatching(/^record 36: truncated:/) as string });
  });

  it('a chain recomputed from some record on is named by the checkpoints, also when the journal\'s were re-signed', async () => {
    await db.exec("UPDATE {t}audit_records SET outcome = 'rejected' WHERE seq = 30");
    await rechain(30);
    // Hashes and links are all consistent again; the journal's own checkpoint 40 disagrees.
    expect((await verify(false)).problem).toMatchObject({ kind: 'recomputed', seq: 21, toSeq: 40, checkpoint: 40 });
    // With the signing key, the intruder replaces the journal's checkpoints after 20.
    await db.exec('DELETE FROM {t}audit_checkpoints WHERE size > 20');
    const forger = new Checkpointer({ store: db.store, signingKey: () => pki.key, logger: silent, every: 1e9 });
    await forger.checkpoint();
    expect((await verify(false)).ok).toBe(true);
    const problem = (await verify()).problem!;
    expect(problem).toMatchObject({ kind: 'recomputed', seq: 21, toSeq: 40, checkpoint: 40 });
    expect(problem.seq! <= 30 && 30 <= problem.toSeq!).toBe(true);
    expect(await cli()).toEqual({ code: 1, out: expect.stringMatching(/^record 21: recomputed:/) as string });
  });

  it('a checkpoint whose root was changed in the journal is named', async () => {
    const [cp] = await db.query<{ document: string }>('SELECT document FROM {t}audit_checkpoints WHERE size = 20');
    const doc = JSON.parse(cp.document) as { checkpoint: { root: string } };
    doc.checkpoint.root = 'ff'.repeat(32);
    await db.exec('UPDATE {t}audit_checkpoints SET document = ? WHERE size = 20', [JSON.stringify(doc)]);
    expect((await verify(false)).problem).toMatchObject({ kind: 'checkpoint', checkpoint: 20 });
    expect((await verify(false)).problem!.detail).toMatch(/signature/);
  });

  it('an exported checkpoint file that was edited is named', async () => {
    const file = path.join(cpDir, readdirSync(cpDir).sort()[0]);
    const doc = JSON.parse(readFileSync(file, 'utf8')) as { checkpoint: { time: string } };
    doc.checkpoint.time = new Date(Date.parse(doc.checkpoint.time) + 1000).toISOString();
    writeFileSync(file, JSON.stringify(doc));
    expect((await verify()).problem).toMatchObject({ kind: 'checkpoint', checkpoint: 20 });
    rmSync(file);
    // Without it, the journal's own copy serves and everything agrees.
    expect((await verify()).ok).toBe(true);
  });

  it('refuses the append-only tables\' UPDATE before the triggers are dropped', async () => {
    const fresh = await openDb(driver, path.join(tmp.dir, `fresh-${Math.random().toString(16).slice(2)}`));
    try {
      await fresh.store.record(event(1));
      await expect(fresh.exec("UPDATE {t}audit_records SET outcome = 'x' WHERE seq = 1")).rejects.toMatchObject({ message: expect.stringMatching(/append-only/) as string });
    } finally {
      await fresh.dispose();
    }
  });
});
