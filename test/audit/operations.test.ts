import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { getType } from '../../src/catalogue/catalogue';
import { authorityOf, categoriesOf, queryCategoriesOf, staffOf } from '../../src/audit/records';
import type { AuditRecord } from '../../src/audit/audit';
import { api, startStack, waitFor, type Stack } from '../helpers/stack';

const EXAMPLES = path.join(__dirname, '..', '..', 'schemas', 'examples');
const example = (type: string, n = 0): Record<string, any> => {
  const f = readdirSync(path.join(EXAMPLES, type)).filter((x) => /^valid-.*\.json$/.test(x)).sort()[n];
  return JSON.parse(readFileSync(path.join(EXAMPLES, type, f), 'utf8'));
};
let counter = 0;
const fresh = (type: string, n = 0): Record<string, any> => {
  const p = structuredClone(example(type, n));
  if (typeof p.applicationNumber === 'string') p.applicationNumber = `FI-AU-${process.pid.toString(36)}-${Date.now().toString(36)}-${counter++}`.toUpperCase().slice(0, 30);
  return p;
};

/** Every string value of a payload of 4 characters or more, but the authority codes (which a record may name). */
function personalValues(v: unknown, key = ''): string[] {
  if (typeof v === 'string') return v.length >= 4 && key !== 'code' ? [v] : [];
  if (Array.isArray(v)) return v.flatMap((x) => personalValues(x, key));
  if (v && typeof v === 'object') return Object.entries(v).flatMap(([k, x]) => personalValues(x, k));
  return [];
}

describe('Art 34 record helpers', () => {
  test('categories are the field names present in the payload, biometrics grouped, never a value', () => {
    const spec = getType('vis.application.create')!;
    const payload = example('vis.application.create');
    const cats = categoriesOf(spec.schema, payload);
    expect(cats).toEqual(expect.arrayContaining(['applicant.surname', 'applicant.dateOfBirth', 'biometrics.facialImage', 'biometrics.fingerprints', 'applicationNumber']));
    const text = JSON.stringify(cats);
    for (const v of personalValues(payload)) expect(text).not.toContain(v);
    const without = structuredClone(payload);
    delete without.applicant.surnameAtBirth;
    expect(categoriesOf(spec.schema, without)).not.toContain('applicant.surnameAtBirth');
  });

  test('a key the schema does not declare is never copied into a category', () => {
    const spec = getType('vis.application.create')!;
    expect(categoriesOf(spec.schema, { applicant: { 'Virtanen Matti': 1, surname: 'x' } })).toEqual(['applicant.surname']);
  });

  test('a search names its criteria fields as query categories; a registration has none', () => {
    const search = getType('vis.application.search')!;
    expect(queryCategoriesOf(search, example('vis.application.search', 1))).toEqual(['criteria.identity.dateOfBirth', 'criteria.identity.firstNames', 'criteria.identity.surname']);
    expect(queryCategoriesOf(getType('io.esp.search')!, example('io.esp.search'))).toContain('query.travelDocument.number');
    expect(queryCategoriesOf(getType('vis.application.create')!, example('vis.application.create'))).toBeUndefined();
  });

  test('the authority is the code the payload names', () => {
    expect(authorityOf({ authority: { code: 'FI-HEL-01', name: 'x' } })).toBe('FI-HEL-01');
    expect(authorityOf({ verifyingAuthority: { code: 'SUPO' } })).toBe('SUPO');
    expect(authorityOf({ authority: { name: 'no code' } })).toBeUndefined();
  });

  test('X-Davis-Staff is an identifier: at most 64 visible characters, no spaces, not repeated', () => {
    expect(staffOf('case-officer-17')).toBe('case-officer-17');
    expect(staffOf(undefined)).toBeUndefined();
    for (const bad of ['two words', 'x'.repeat(65), '', 'tab\there', ['a', 'b']]) {
      expect(() => staffOf(bad as string)).toThrow(expect.objectContaining({ code: 'DAVIS_ERR_VALIDATION_FAILED' }));
    }
  });
});

const sha = (t: string) => createHash('sha256').update(t).digest('hex');
const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

describe('every processing operation leaves exactly one audit record with no personal data value', () => {
  let s: Stack;
  const sent: Record<string, any>[] = [];
  const staff = { 'x-davis-staff': 'officer-42' };

  beforeAll(async () => {
    s = await startStack({
      central: { maxAttempts: 1 },
      gateway: { tokens: [
        { sha256: sha('auditor-token'), clientId: 'supervisor', roles: ['auditor'] },
        { sha256: sha('uma-token'), clientId: 'uma', roles: ['visa-authority'] },
      ] },
    });
    s.mock.notifyUrl = `${s.url}/v1/central/notifications`;
  }, 60000);
  afterAll(async () => { await s?.stop(); });

  const records = async (): Promise<readonly AuditRecord[]> => s.gw.audit.list({ limit: 1000 });
  const of = (all: readonly AuditRecord[], op: string, messageId?: string) => all.filter((r) => r.operation === op && (messageId === undefined || r.messageId === messageId));
  const submit = async (type: string, payload: Record<string, any>, headers: Record<string, string> = staff): Promise<string> => {
    sent.push(payload);
    const res = await api(s.url, 'POST', '/v1/messages', { type, payload }, headers);
    expect(res.status).toBe(202);
    return res.json.id;
  };
  const settled = (id: string) => waitFor(async () => {
    const m = (await api(s.url, 'GET', `/v1/messages/${id}`)).json;
    return ['delivered', 'rejected', 'failed'].includes(m.status) ? m : undefined;
  });

  test('sending: one message.send per settlement, with purpose, categories, authority, staff and outcome', async () => {
    const payload = fresh('vis.application.create');
    const id = await submit('vis.application.create', payload);
    const m = await settled(id);
    const recs = await waitFor(async () => { const r = of(await records(), 'message.send', id); return r.length ? r : undefined; });
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({
      purpose: getType('vis.application.create')!.article, clientId: 'dev-client', staff: 'officer-42', messageType: 'vis.application.create',
      outcome: m.status, authority: payload.authority.code,
    });
    expect(recs[0].dataCategories).toEqual(expect.arrayContaining(['applicant.surname', 'biometrics.fingerprints']));
    expect(recs[0].contentDigest).toMatch(/^[0-9a-f]{64}$/);
  });

  test('reading central data: a search answer read is one message.read with the answer\'s categories; a status without data is none', async () => {
    const id = await submit('vis.application.search', example('vis.application.search', 1));
    await settled(id);
    await waitFor(async () => of(await records(), 'message.send', id).length === 1);
    const before = of(await records(), 'message.read', id).length;
    await api(s.url, 'GET', `/v1/messages/${id}`, undefined, staff);
    const reads = of(await records(), 'message.read', id);
    expect(reads.length).toBe(before + 1);
    expect(reads.at(-1)).toMatchObject({ staff: 'officer-42', messageType: 'vis.application.search' });
    const create = of(await records(), 'message.send').find((r) => r.messageType === 'vis.application.create')!;
    const n = (await records()).length;
    await api(s.url, 'GET', `/v1/messages/${create.messageId}`);
    expect(of(await records(), 'message.read', create.messageId)).toHaveLength(0);
    expect((await records()).length).toBe(n);
  });

  test('a bad X-Davis-Staff header is refused with 422 and records nothing', async () => {
    const n = (await records()).length;
    const res = await api(s.url, 'POST', '/v1/messages', { type: 'vis.application.create', payload: fresh('vis.application.create') }, { 'x-davis-staff': 'two words' });
    expect(res.status).toBe(422);
    expect(res.json.code).toBe('DAVIS_ERR_VALIDATION_FAILED');
    expect((await records()).length).toBe(n);
  });

  test('receiving a notification: one notification.receive; the repeat adds none', async () => {
    const payload = example('vis.notification.hit');
    sent.push(payload);
    const first = await s.mock.notify('vis.notification.hit', payload);
    expect(first.status).toBe(201);
    const id = first.id;
    await s.mock.notify('vis.notification.hit', payload, { messageId: id });
    expect(of(await records(), 'notification.receive', id)).toHaveLength(1);
    expect(of(await records(), 'notification.receive', id)[0]).toMatchObject({ clientId: 'central', purpose: getType('vis.notification.hit')!.article });
  });

  test('an operator retry: one message.retry, and the new settlement one more message.send', async () => {
    await fetch(`${s.controlUrl}/_mock/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ errorRate: 1, errorStatus: 503 }) });
    const id = await submit('vis.application.create', fresh('vis.application.create'));
    expect((await settled(id)).status).toBe('failed');
    await fetch(`${s.controlUrl}/_mock/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    await waitFor(async () => of(await records(), 'message.send', id).length === 1);
    expect(of(await records(), 'message.send', id)[0].outcome).toBe('failed');
    const res = await api(s.url, 'POST', `/v1/messages/${id}/retry`, undefined, staff);
    expect(res.status).toBe(202);
    expect(of(await records(), 'message.retry', id)).toEqual([expect.objectContaining({ outcome: 'ok', staff: 'officer-42' })]);
    await waitFor(async () => of(await records(), 'message.send', id).length === 2);
  });

  test('audit reads and evidence exports are auditor business, and each is recorded once', async () => {
    const id = of(await records(), 'message.send')[0].messageId!;
    const n = of(await records(), 'audit.read').length;
    const list = await api(s.url, 'GET', `/v1/audit?messageId=${id}&limit=10`, undefined, staff);
    expect(list.status).toBe(200);
    expect(list.json.items.every((r: AuditRecord) => r.messageId === id)).toBe(true);
    expect(of(await records(), 'audit.read')).toHaveLength(n + 1);
    expect(of(await records(), 'audit.read').at(-1)).toMatchObject({ queryCategories: ['limit', 'messageId'], staff: 'officer-42' });
    expect((await api(s.url, 'GET', '/v1/audit?limit=0')).status).toBe(422);
    expect((await api(s.url, 'GET', '/v1/audit?operation=nope')).status).toBe(422);
    expect((await api(s.url, 'GET', '/v1/audit?limit=1&limit=2')).status).toBe(422);
    const ev = await api(s.url, 'GET', `/v1/messages/${id}/evidence`);
    expect(ev.status).toBe(200);
    expect(of(await records(), 'evidence.export', id)).toHaveLength(1);
  });

  test('the auditor role reads the audit log and evidence, and sends and reads no message; other roles may not read the log', async () => {
    const id = of(await records(), 'message.send')[0].messageId!;
    expect((await api(s.url, 'GET', `/v1/audit?messageId=${id}`, undefined, bearer('auditor-token'))).status).toBe(200);
    expect(of(await records(), 'audit.read').at(-1)).toMatchObject({ clientId: 'supervisor' });
    expect((await api(s.url, 'GET', `/v1/messages/${id}/evidence`, undefined, bearer('auditor-token'))).status).toBe(200);
    const n = (await records()).length;
    const send = await api(s.url, 'POST', '/v1/messages', { type: 'vis.application.create', payload: fresh('vis.application.create') }, bearer('auditor-token'));
    expect([send.status, send.json.code]).toEqual([403, 'DAVIS_ERR_AUTH_FORBIDDEN']);
    expect((await api(s.url, 'GET', `/v1/messages/${id}`, undefined, bearer('auditor-token'))).status).toBe(404);
    const uma = await api(s.url, 'GET', '/v1/audit', undefined, bearer('uma-token'));
    expect([uma.status, uma.json.code]).toEqual([403, 'DAVIS_ERR_AUTH_FORBIDDEN']);
    expect((await api(s.url, 'GET', `/v1/messages/${id}/evidence`, undefined, bearer('uma-token'))).status).toBe(403);
    expect((await records()).length).toBe(n);
  });

  test('a retention run and a PKI reload leave one record each', async () => {
    const runs = of(await records(), 'retention.purge').length;
    await s.gw.retention.run();
    expect(of(await records(), 'retention.purge')).toHaveLength(runs + 1);
    const reloads = of(await records(), 'pki.reload').length;
    s.gw.reloadPki();
    await waitFor(async () => of(await records(), 'pki.reload').length >= reloads + 2);
    expect(of(await records(), 'pki.reload').slice(reloads).map((r) => r.dataCategories[0]).sort()).toEqual(['pki.signingKey', 'pki.trustAnchors']);
  });

  test('no stored audit row holds a value of any payload sent', async () => {
    const rows = JSON.stringify(await s.gw.audit.readRows(0, 100000));
    const values = [...new Set(sent.flatMap((p) => personalValues(p)))];
    expect(values.length).toBeGreaterThan(10);
    for (const v of values) expect({ value: v, found: rows.includes(v) }).toEqual({ value: v, found: false });
  });
});
