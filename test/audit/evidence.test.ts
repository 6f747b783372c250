import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { verifyEvidence, type EvidenceBundle } from '../../src/audit/evidence';
import { run } from '../../src/cli/main';
import { loadTrustStore } from '../../src/signing/pki';
import { MockTsa } from '../../mocks/tsa/server';
import { freshApplication } from '../helpers/payloads';
import { api, startStack, waitFor, type Stack } from '../helpers/stack';
import { xmlsec } from '../signing/helpers';

const io = () => {
  const out: string[] = [];
  return { out, io: { out: (x: string) => { out.push(x); }, err: (x: string) => { out.push(x); } } };
};

describe('evidence of a delivered message', () => {
  let s: Stack;
  let tsa: MockTsa;
  let tsaCa: string;
  let tmp: string;
  let bundle: EvidenceBundle;
  let id: string;

  beforeAll(async () => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'davis-evidence-'));
    tsa = new MockTsa({ dir: path.join(tmp, 'tsa') });
    const t = await tsa.start();
    tsaCa = t.caFile;
    s = await startStack({ audit: { tsaUrl: t.url } });
    const res = await api(s.url, 'POST', '/v1/messages', { type: 'vis.application.create', payload: freshApplication() }, { 'x-davis-staff': 'officer-7' });
    expect(res.status).toBe(202);
    id = res.json.id;
    await waitFor(async () => (await api(s.url, 'GET', `/v1/messages/${id}`)).json.status === 'delivered');
    await waitFor(async () => (await s.gw.audit.list({ messageId: id, operation: 'message.send' })).length === 1);
    const ev = await api(s.url, 'GET', `/v1/messages/${id}/evidence`);
    expect(ev.status).toBe(200);
    expect(ev.headers.get('content-disposition')).toContain(`evidence-${id}.json`);
    bundle = ev.json;
  }, 60000);
  afterAll(async () => {
    await s?.stop();
    await tsa?.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  test('the bundle holds the signed request as sent, central\'s signed answer as received, the records, proofs and a time-stamped checkpoint', async () => {
    expect(bundle.request?.xml).toBe(await s.gw.journal.getWireXml(id));
    expect(bundle.answer?.xml).toBe(await s.gw.journal.getResponseXml(id));
    expect(bundle.answer?.xml).toContain('<ds:Signature');
    expect(bundle.records.map((r) => r.operation)).toEqual(['message.send']);
    expect(bundle.records[0].contentDigest).toBe(bundle.request!.sha256);
    expect(bundle.proofs).toHaveLength(1);
    expect(bundle.checkpoint?.checkpoint.size).toBeGreaterThanOrEqual(bundle.records[0].seq);
    expect(typeof bundle.checkpoint?.timestamp).toBe('string');
    expect(bundle.missing).toEqual([]);
    expect(bundle.holds.request).toMatch(/sent to central/);
    expect(bundle.holds.answer).toMatch(/central's signed answer as received/);
  });

  test('the evidence of a notification holds central\'s signed notification, says in the bundle that it has no answer part and why, and verifies', async () => {
    s.mock.notifyUrl = `${s.url}/v1/central/notifications`;
    const payload = JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'schemas', 'examples', 'vis.notification.hit', 'valid-sis-and-etias-watchlist.json'), 'utf8'));
    const sent = await s.mock.notify('vis.notification.hit', payload);
    expect(sent.status).toBe(201);
    await waitFor(async () => (await s.gw.audit.list({ messageId: sent.id, operation: 'notification.receive' })).length === 1);
    const ev = (await api(s.url, 'GET', `/v1/messages/${sent.id}/evidence`)).json as EvidenceBundle;
    expect(ev.message.direction).toBe('inbound');
    expect(ev.request?.xml).toBe(await s.gw.journal.getWireXml(sent.id));
    expect(ev.holds.request).toMatch(/central's signed notification as received/);
    expect(ev.answer).toBeNull();
    expect(ev.holds.answer).toMatch(/^none: .*acknowledgement.*not journaled.*notification\.receive record/);
    expect(ev.missing).toEqual([expect.stringMatching(/^answer: a notification's evidence has no answer part/)]);
    expect(ev.records.map((r) => [r.operation, r.outcome])).toEqual([['notification.receive', 'ok']]);
    const res = verifyEvidence(ev, { trust: loadTrustStore(s.pki.caCert), tsaTrust: [new X509Certificate(readFileSync(tsaCa))] });
    expect(res.checks.filter((c) => !c.ok)).toEqual([]);
    expect(res.checks.map((c) => c.check)).toEqual(expect.arrayContaining(['request-signature', 'request-digest', 'inclusion', 'timestamp']));
    expect(res.checks.find((c) => c.check === 'request-signature')!.detail).toMatch(/central/i);
  });

  test('it verifies offline: both signatures, the digest, the record hashes, the inclusion proof, the checkpoint signature and its timestamp', () => {
    const res = verifyEvidence(bundle, { trust: loadTrustStore(s.pki.caCert), tsaTrust: [new X509Certificate(readFileSync(tsaCa))] });
    expect(res.checks.filter((c) => !c.ok)).toEqual([]);
    expect(res.checks.map((c) => c.check).sort()).toEqual(['answer-signature', 'checkpoint-signature', 'inclusion', 'record-hash', 'request-digest', 'request-signature', 'timestamp']);
  });

  test('xmlsec1 verifies the two XML documents taken out of the bundle', () => {
    for (const [name, d] of [['request', bundle.request], ['answer', bundle.answer]] as const) {
      const file = path.join(tmp, `${name}.xml`);
      writeFileSync(file, d!.xml);
      const r = xmlsec(['--verify', '--trusted-pem', s.pki.caCert, '--id-attr:Id', name === 'request' ? 'Request' : 'Response', file]);
      expect({ name, ok: r.ok, out: r.ok ? '' : r.out }).toEqual({ name, ok: true, out: '' });
    }
  });

  test('tampering is named: a record, the request, the proof, the checkpoint', () => {
    const trust = loadTrustStore(s.pki.caCert);
    const failed = (b: EvidenceBundle) => verifyEvidence(b, { trust }).checks.filter((c) => !c.ok).map((c) => c.check);
    const t1 = structuredClone(bundle);
    (t1.records[0] as { outcome: string }).outcome = 'rejected';
    expect(failed(t1)).toContain('record-hash');
    const t2 = structuredClone(bundle);
    (t2 as { request: { xml: string; sha256: string } }).request = { xml: t2.request!.xml.replace('<w:MessageType>', '<w:MessageType> '), sha256: t2.request!.sha256 };
    expect(failed(t2)).toContain('request-signature');
    const t3 = structuredClone(bundle);
    (t3.proofs[0] as unknown as { path: string[] }).path = [...t3.proofs[0].path, '00'.repeat(32)];
    expect(failed(t3)).toContain('inclusion');
    const t4 = structuredClone(bundle);
    (t4.checkpoint!.checkpoint as { root: string }).root = '11'.repeat(32);
    expect(failed(t4)).toEqual(expect.arrayContaining(['checkpoint-signature', 'inclusion']));
  });

  test('davis evidence verify exits 0 on the bundle and 1 naming the check on a tampered copy; export writes the same evidence', async () => {
    const file = path.join(tmp, 'evidence.json');
    writeFileSync(file, JSON.stringify(bundle));
    const ok = io();
    expect(await run(['evidence', 'verify', file, '--trust', s.pki.caCert, '--tsa-trust', tsaCa], ok.io)).toBe(0);
    expect(ok.out.join('')).toContain('evidence verifies');
    const bad = structuredClone(bundle);
    (bad.records[0] as { clientId: string }).clientId = 'someone-else';
    writeFileSync(file, JSON.stringify(bad));
    const no = io();
    expect(await run(['evidence', 'verify', file, '--trust', s.pki.caCert], no.io)).toBe(1);
    expect(no.out.join('')).toMatch(/FAILED\s+record-hash/);
    const usage = io();
    expect(await run(['evidence', 'verify', file], usage.io)).toBe(2);
    expect(await s.gw.audit.list({ messageId: id, operation: 'evidence.export' })).toHaveLength(1);
    const cfg = path.join(tmp, 'config.json');
    writeFileSync(cfg, JSON.stringify({ mode: 'dev', dataDir: s.dataDir, signing: { keyFile: s.pki.gatewayKey, certFile: s.pki.gatewayCert } }));
    const out = path.join(tmp, 'exported.json');
    const ex = io();
    expect(await run(['evidence', 'export', id, '--out', out, '--staff', 'auditor-1', '--config', cfg], ex.io)).toBe(0);
    const exported = JSON.parse(readFileSync(out, 'utf8')) as EvidenceBundle;
    expect(exported.request).toEqual(bundle.request);
    expect(exported.answer).toEqual(bundle.answer);
    const again = io();
    expect(await run(['evidence', 'verify', out, '--trust', s.pki.caCert], again.io)).toBe(0);
    expect(await s.gw.audit.list({ messageId: id, operation: 'evidence.export' })).toEqual([
      expect.objectContaining({ clientId: 'dev-client' }), expect.objectContaining({ clientId: 'operator', staff: 'auditor-1' }),
    ]);
  });

  test('after retention pruned the older audit records, a later message\'s evidence still exports and verifies offline', async () => {
    await s.gw.checkpointer.checkpoint();
    await new Promise((r) => setTimeout(r, 5));
    const cutoff = new Date().toISOString();
    await new Promise((r) => setTimeout(r, 5));
    const res = await api(s.url, 'POST', '/v1/messages', { type: 'vis.application.create', payload: freshApplication() });
    const later = res.json.id as string;
    await waitFor(async () => (await api(s.url, 'GET', `/v1/messages/${later}`)).json.status === 'delivered');
    await waitFor(async () => (await s.gw.audit.list({ messageId: later, operation: 'message.send' })).length === 1);
    await s.gw.checkpointer.checkpoint();
    const before = (await s.gw.audit.list({ limit: 1000 })).filter((r) => r.at < cutoff).length;
    expect(before).toBeGreaterThan(0);
    expect(await s.gw.audit.deleteRecordsBefore(cutoff, 1000)).toBe(before);
    expect((await s.gw.audit.list({ limit: 1000 })).filter((r) => r.at < cutoff)).toEqual([]);
    expect((await s.gw.audit.readPruned(0, 1000)).length).toBe(before);
    const cfg = path.join(tmp, 'config.json');
    writeFileSync(cfg, JSON.stringify({ mode: 'dev', dataDir: s.dataDir, signing: { keyFile: s.pki.gatewayKey, certFile: s.pki.gatewayCert } }));
    const out = path.join(tmp, 'after-prune.json');
    const ex = io();
    expect(await run(['evidence', 'export', later, '--out', out, '--config', cfg], ex.io)).toBe(0);
    const exported = JSON.parse(readFileSync(out, 'utf8')) as EvidenceBundle;
    expect(exported.records[0].seq).toBeGreaterThan(before);
    expect(exported.proofs[0].treeSize).toBeGreaterThan(before);
    const ok = io();
    expect(await run(['evidence', 'verify', out, '--trust', s.pki.caCert, '--tsa-trust', tsaCa], ok.io)).toBe(0);
    expect(ok.out.join('')).toMatch(/ok\s+inclusion: record \d+ is leaf \d+ of \d+/);
    expect(ok.out.join('')).toContain('evidence verifies');
  });
});
