import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { Checkpointer, checkpointDigest, checkpointBytes, readCheckpointFiles, type CheckpointDocument } from '../../src/audit/checkpoints';
import { inclusionProof, consistencyProof, merkleRoot, verifyConsistency, verifyInclusion } from '../../src/audit/merkle';
import { verifyAuditLog } from '../../src/audit/verify';
import { MockTsa } from '../../mocks/tsa/server';
import { event, fill, openDb, silent, tempDir, testPki } from './helpers';

describe.each(['sqlite', 'postgres'] as const)('the audit store on %s', (driver) => {
  let tmp: ReturnType<typeof tempDir>;
  let pki: Awaited<ReturnType<typeof testPki>>;

  beforeAll(async () => {
    tmp = tempDir('davis-audit-store-');
    pki = await testPki(tmp.dir);
  });
  afterAll(() => tmp.remove());

  const sub = () => path.join(tmp.dir, Math.random().toString(16).slice(2));

  it('chains concurrent appends of two gateway instances into one log without a fork', async () => {
    const db = await openDb(driver, sub());
    const other = await db.second();
    try {
      const writes = Array.from({ length: 200 }, (_, i) => (i % 2 ? db.store : other.store).record(event(i + 1)));
      const records = await Promise.all(writes);
      expect(new Set(records.map((r) => r.seq)).size).toBe(200);
      expect(Math.max(...records.map((r) => r.seq))).toBe(200);
      const report = await verifyAuditLog(db.store);
      expect(report).toMatchObject({ ok: true, records: 200 });
    } finally {
      await other.close();
      await db.dispose();
    }
  });

  it('lists records by message, operation, client, time and after a seq, and keeps no value it was not given', async () => {
    const db = await openDb(driver, sub());
    try {
      for (let i = 1; i <= 12; i++) await db.store.record(event(i));
      await db.store.record({ ...event(13), operation: 'message.read', messageId: 'msg-3' });
      expect((await db.store.list({ messageId: 'msg-3' })).map((r) => r.operation)).toEqual(['message.send', 'message.read']);
      expect((await db.store.list({ operation: 'message.read' })).map((r) => r.seq)).toEqual([13]);
      expect((await db.store.list({ afterSeq: 10, limit: 2 })).map((r) => r.seq)).toEqual([11, 12]);
      expect(await db.store.list({ clientId: 'nobody' })).toEqual([]);
      const [r5] = await db.store.list({ messageId: 'msg-5' });
      expect(r5).toMatchObject({ seq: 5, staff: 'staff-17', queryCategories: ['applicant.dateOfBirth'], dataCategories: ['applicant.surname', 'travelDocument.number'] });
      expect(Object.keys(r5).sort()).toEqual(['at', 'authority', 'clientId', 'contentDigest', 'correlationId', 'dataCategories', 'hash', 'messageId', 'messageType',
        'operation', 'outcome', 'prevHash', 'purpose', 'queryCategories', 'seq', 'staff']);
      expect((await db.store.list({ from: r5.at, to: '9999' })).length).toBeGreaterThan(0);
      await expect(db.store.record({ ...event(1), operation: 'message.delete' as never })).rejects.toThrow(/unknown operation/);
    } finally {
      await db.dispose();
    }
  });

  it('checkpoints every N records, at the interval, and at stop; two checkpointers on one log make one sequence', async () => {
    const dir = sub();
    const db = await openDb(driver, dir);
    const other = await db.second();
    const cpDir = path.join(dir, 'cp');
    try {
      const a = new Checkpointer({ store: db.store, signingKey: () => pki.key, every: 10, intervalMs: 1000, dir: cpDir, logger: silent });
      const b = new Checkpointer({ store: other.store, signingKey: () => pki.key, every: 10, intervalMs: 1000, dir: cpDir, logger: silent });
      expect(a.lastCheckpointMs).toBeUndefined();
      for (let i = 1; i <= 25; i++) await db.store.record(event(i));
      await new Promise((r) => setTimeout(r, 300));
      await Promise.all([a.checkpoint(), b.checkpoint()]);
      // Each knows the newest checkpoint's time, whichever of the two made it (the age metric).
      for (const c of [a, b]) expect(Date.now() - (c.lastCheckpointMs ?? 0)).toBeLessThan(60_000);
      let sizes = (await db.store.checkpoints()).map((c) => c.size);
      expect(sizes).toEqual(expect.arrayContaining([10, 20, 25]));
      expect(sizes.at(-1)).toBe(25);
      a.start();
      await db.store.record(event(26));
      await new Promise((r) => setTimeout(r, 1500));
      sizes = (await db.store.checkpoints()).map((c) => c.size);
      expect(sizes.at(-1)).toBe(26);
      await db.store.record(event(27));
      await a.stop();
      await b.stop();
      const stored = await db.store.checkpoints();
      expect(stored.at(-1)!.size).toBe(27);
      // One chain of checkpoints: each names the one before.
      stored.forEach((c, i) => expect(JSON.parse(c.document).checkpoint.previous).toBe(i ? stored[i - 1].digest : null));
      expect(readCheckpointFiles(cpDir).map((f) => f.doc.checkpoint.size)).toEqual(stored.map((c) => c.size));
      expect(await verifyAuditLog(db.store, { exported: readCheckpointFiles(cpDir) })).toMatchObject({ ok: true, records: 27, checkpoints: stored.length });
    } finally {
      await other.close();
      await db.dispose();
    }
  });

  it('proves a record\'s inclusion in a checkpoint and a checkpoint\'s consistency with a later one', async () => {
    const db = await openDb(driver, sub());
    try {
      const cpDir = path.join(tmp.dir, 'proofs');
      await fill(db.store, pki.key, 37, [13, 37], cpDir);
      const [c13, c37] = (await db.store.checkpoints()).map((c) => JSON.parse(c.document) as CheckpointDocument);
      const leaves = (await db.store.readRows(0, 100)).map((r) => Buffer.from(r.hash, 'hex'));
      expect(merkleRoot(leaves).toString('hex')).toBe(c37.checkpoint.root);
      const proof = inclusionProof(8, leaves.slice(0, 13));
      expect(verifyInclusion(8, 13, leaves[8], proof, Buffer.from(c13.checkpoint.root, 'hex'))).toBe(true);
      const cons = consistencyProof(13, leaves);
      expect(verifyConsistency(13, 37, Buffer.from(c13.checkpoint.root, 'hex'), Buffer.from(c37.checkpoint.root, 'hex'), cons)).toBe(true);
    } finally {
      await db.dispose();
    }
  });
});

describe('checkpoints with a TSA and a checkpoint URL', () => {
  let tmp: ReturnType<typeof tempDir>;
  let pki: Awaited<ReturnType<typeof testPki>>;
  let tsa: MockTsa;
  let tsaUrl: string;
  let tsaCa: string;

  beforeAll(async () => {
    tmp = tempDir('davis-audit-tsa-');
    pki = await testPki(tmp.dir);
    tsa = new MockTsa({ dir: path.join(tmp.dir, 'tsa') });
    ({ url: tsaUrl, caFile: tsaCa } = await tsa.start());
  });
  afterAll(async () => {
    await tsa.stop();
    tmp.remove();
  });

  it('time-stamps each checkpoint; the exported token verifies with openssl ts -verify; the document is POSTed', async () => {
    const posted: CheckpointDocument[] = [];
    const sink = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => { body += c.toString(); });
      req.on('end', () => { posted.push(JSON.parse(body) as CheckpointDocument); res.end(); });
    });
    await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r));
    const postUrl = `http://127.0.0.1:${(sink.address() as AddressInfo).port}/checkpoints`;
    const db = await openDb('sqlite', path.join(tmp.dir, 'db'));
    const cpDir = path.join(tmp.dir, 'cp');
    try {
      const cp = new Checkpointer({ store: db.store, signingKey: () => pki.key, dir: cpDir, tsaUrl, postUrl, logger: silent });
      for (let i = 1; i <= 5; i++) await db.store.record(event(i));
      await cp.checkpoint();
      const [{ doc }] = readCheckpointFiles(cpDir);
      expect(doc.timestamp).toBeDefined();
      expect(posted).toEqual([doc]);
      const tok = path.join(tmp.dir, 'tok.der');
      const data = path.join(tmp.dir, 'body.json');
      writeFileSync(tok, Buffer.from(doc.timestamp!, 'base64'));
      writeFileSync(data, checkpointBytes(doc.checkpoint));
      expect(execFileSync('openssl', ['ts', '-verify', '-token_in', '-in', tok, '-data', data, '-CAfile', tsaCa], { encoding: 'utf8' })).toMatch(/Verification: OK/);
      expect(createHash('sha256').update(readFileSync(data)).digest('hex')).toBe(checkpointDigest(doc.checkpoint));
      const report = await verifyAuditLog(db.store, { exported: readCheckpointFiles(cpDir), tsaTrust: [new (await import('node:crypto')).X509Certificate(readFileSync(tsaCa))] });
      expect(report).toMatchObject({ ok: true, timestamps: 1 });
      expect(report.warnings.filter((w) => w.includes('no RFC 3161 timestamp'))).toEqual([]);
      // A TSA outage leaves the checkpoint without a token, not without a checkpoint.
      tsa.failWith = 503;
      await db.store.record(event(6));
      await cp.checkpoint();
      tsa.failWith = undefined;
      expect(readdirSync(cpDir).length).toBe(2);
      expect(readCheckpointFiles(cpDir)[1].doc.timestamp).toBeUndefined();
      const unstamped = await verifyAuditLog(db.store, { exported: readCheckpointFiles(cpDir) });
      expect(unstamped).toMatchObject({ ok: true, checkpoints: 2, timestamps: 1 });
      expect(unstamped.warnings).toContain('1 checkpoint(s) have no RFC 3161 timestamp (audit.tsaUrl unset when they were made, or the TSA did not answer), the first of 6 records');
      // A token over other bytes is refused by the verifier.
      const files = readCheckpointFiles(cpDir);
      const swapped = { ...files[1].doc, timestamp: files[0].doc.timestamp };
      writeFileSync(files[1].file, JSON.stringify(swapped));
      expect((await verifyAuditLog(db.store, { exported: readCheckpointFiles(cpDir) })).problem).toMatchObject({ kind: 'checkpoint', checkpoint: 6 });
    } finally {
      await db.dispose();
      sink.close();
    }
  });
});
