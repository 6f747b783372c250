import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { run } from '../../src/cli/main';
import { verifyAuditLog } from '../../src/audit/verify';
import { Retention, retentionOf } from '../../src/exchange/retention';
import { createLogger } from '../../src/ops/logger';
import { freshApplication } from '../helpers/payloads';
import { api, startStack, waitFor, type Stack } from '../helpers/stack';
import { postgresStore, sqliteStore, type Store } from '../journal/stores';
import { JournalKeyring } from '../../src/journal/journal-cipher';
import { randomBytes, randomUUID } from 'node:crypto';
import type { CentralAnswer } from '../../src/wire/types';

const io = () => {
  const out: string[] = [];
  return { out, io: { out: (x: string) => { out.push(x); }, err: (x: string) => { out.push(x); } } };
};

describe('retention', () => {
  let s: Stack;
  let tmp: string;
  const ids: string[] = [];
  const payloads: Record<string, any>[] = [];

  beforeAll(async () => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'davis-retention-'));
    s = await startStack({ retention: { intervalMs: 0, batchSize: 2 } });
    for (let i = 0; i < 5; i++) {
      const p = freshApplication();
      payloads.push(p);
      const res = await api(s.url, 'POST', '/v1/messages', { type: 'vis.application.create', payload: p });
      ids.push(res.json.id);
    }
    for (const id of ids) await waitFor(async () => (await api(s.url, 'GET', `/v1/messages/${id}`)).json.status === 'delivered');
    await waitFor(async () => (await s.gw.audit.list({ operation: 'message.send' })).length === ids.length);
    await s.gw.checkpointer.checkpoint();
  }, 60000);
  afterAll(async () => {
    await s?.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  test('a dry run counts and changes nothing; nothing is due before the period', async () => {
    const retention = new Retention({ journal: retentionOf(s.gw.journal), audit: s.gw.audit, policy: { payloadDays: 0, recordDays: 3650, intervalMs: 0, batchSize: 2 }, logger: createLogger('silent'), now: () => Date.now() + 1000 });
    const n = (await s.gw.audit.list({ limit: 1000 })).length;
    const dry = await retention.run({ dryRun: true });
    expect(dry).toMatchObject({ dryRun: true, payloads: ids.length, messages: 0 });
    expect(await s.gw.journal.getWireXml(ids[0])).toContain('<ds:Signature');
    expect((await s.gw.audit.list({ limit: 1000 })).length).toBe(n);
    const none = await s.gw.retention.run();
    expect(none).toMatchObject({ payloads: 0, messages: 0 });
  });

  test('payloads of settled messages go in batches, metadata stays, the run is one record, and the audit log still verifies', async () => {
    const retention = new Retention({ journal: retentionOf(s.gw.journal), audit: s.gw.audit, policy: { payloadDays: 0, recordDays: 3650, intervalMs: 0, batchSize: 2 }, logger: createLogger('silent'), now: () => Date.now() + 1000 });
    const runs = (await s.gw.audit.list({ operation: 'retention.purge' })).length;
    const r = await retention.run();
    expect(r).toMatchObject({ dryRun: false, payloads: ids.length, messages: 0 });
    expect(r.batches).toBeGreaterThanOrEqual(3);
    for (const id of ids) {
      expect(await s.gw.journal.getWireXml(id)).toBeUndefined();
      expect(await s.gw.journal.getResponseXml(id)).toBeUndefined();
      const m = (await api(s.url, 'GET', `/v1/messages/${id}`)).json;
      expect(m).toMatchObject({ id, status: 'delivered' });
      expect(m.central.result).toBe('ACCEPTED');
    }
    const purges = await s.gw.audit.list({ operation: 'retention.purge' });
    expect(purges).toHaveLength(runs + 1);
    expect(purges.at(-1)!.outcome).toBe(`ok:payloads=${ids.length},messages=0,auditRecords=0`);
    await s.gw.checkpointer.checkpoint();
    const report = await verifyAuditLog(s.gw.audit);
    expect(report.ok).toBe(true);
    const ev = await api(s.url, 'GET', `/v1/messages/${ids[0]}/evidence`);
    expect(ev.json.request).toBeNull();
    expect(ev.json.missing.join(' ')).toContain('purged by retention');
  });


  test('messages past recordDays are deleted with their events; davis retention run --dry-run reports without changing', async () => {
    const cfg = path.join(tmp, 'config.json');
    writeFileSync(cfg, JSON.stringify({ mode: 'dev', dataDir: s.dataDir, retention: { recordDays: 1 } }));
    const dry = io();
    expect(await run(['retention', 'run', '--dry-run', '--config', cfg], dry.io)).toBe(0);
    expect(dry.out.join('')).toContain('would delete 0 message(s)');
    const retention = new Retention({ journal: retentionOf(s.gw.journal), audit: s.gw.audit, policy: { payloadDays: 0, recordDays: 1, intervalMs: 0, batchSize: 2 }, logger: createLogger('silent'), now: () => Date.now() + 2 * 86_400_000 });
    const r = await retention.run();
    expect(r.messages).toBeGreaterThanOrEqual(ids.length);
    for (const id of ids) expect(await s.gw.journal.get(id)).toBeUndefined();
    const report = await verifyAuditLog(s.gw.audit);
    expect(report.ok).toBe(true);
    const usage = io();
    expect(await run(['retention', 'go'], usage.io)).toBe(2);
  });
});

describe.each([['sqlite', sqliteStore], ['postgres', postgresStore]] as const)('retention on %s', (_name, make) => {
  let store: Store;
  beforeAll(() => { store = make(); });
  afterAll(async () => { await store.dispose(); });

  test('the stored wire XML, response XML and answer data are gone, the metadata stays, expired messages go with their events', async () => {
    const j = await store.open(new JournalKeyring(randomBytes(32)));
    const retention = retentionOf(j);
    const secret = 'Virtanen-Sensitive-Name';
    const ids = [randomUUID(), randomUUID(), randomUUID()];
    for (const id of ids) {
      await j.insert({ id, type: 'vis.application.search', direction: 'outbound', orderingKey: id, clientId: 'c', bodyHash: 'h', wireXml: `<x>${secret}</x>`, correlationId: 'k' });
      const answer: CentralAnswer = { responseId: randomUUID(), inReplyTo: id, result: 'ACCEPTED', code: 'OK', created: new Date().toISOString(), data: { answerTo: 'vis.application.search', hitCount: 1, files: [{ surname: secret }] } } as unknown as CentralAnswer;
      await j.recordAnswer(id, answer, `<r>${secret}</r>`);
    }
    const pending = randomUUID();
    await j.insert({ id: pending, type: 'vis.application.search', direction: 'outbound', orderingKey: pending, clientId: 'c', bodyHash: 'h', wireXml: '<x/>', correlationId: 'k' });
    const later = new Date(Date.now() + 1000).toISOString();
    expect(await retention.retentionCounts(later, later)).toEqual({ payloads: 3, messages: 3 });
    expect(await retention.purgePayloads(later, 2)).toBe(2);
    expect(await retention.purgePayloads(later, 2)).toBe(1);
    expect(await retention.purgePayloads(later, 2)).toBe(0);
    for (const id of ids) {
      expect(await j.getWireXml(id)).toBeUndefined();
      expect(await j.getResponseXml(id)).toBeUndefined();
      const rec = await j.get(id);
      expect(rec).toMatchObject({ state: 'delivered', answer: { result: 'ACCEPTED', code: 'OK' } });
      expect(rec!.answer!.data).toBeUndefined();
    }
    expect(await j.getWireXml(pending)).toBe('<x/>');
    const rows = await store.query<{ n: number }>(`SELECT count(*) AS n FROM {s}messages WHERE purged_at IS NOT NULL AND response_xml IS NULL`);
    expect(Number(rows[0].n)).toBe(3);
    expect(await retention.deleteMessages(later, 2)).toBe(2);
    expect(await retention.deleteMessages(later, 2)).toBe(1);
    expect(await j.get(ids[0])).toBeUndefined();
    expect(await j.get(pending)).toBeDefined();
    const events = await store.query<{ n: number }>(`SELECT count(*) AS n FROM {s}events WHERE message_id <> '${pending}'`);
    expect(Number(events[0].n)).toBe(0);
  });
});
