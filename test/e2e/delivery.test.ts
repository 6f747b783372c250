import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { Client } from 'pg';
import { api, startStack, waitFor, type Stack } from '../helpers/stack';
import { buildRequestXml } from '../../src/wire/envelope';

const EXAMPLES = path.join(__dirname, '..', '..', 'schemas', 'examples', 'vis.application.create');
const example = (name: string) => JSON.parse(readFileSync(path.join(EXAMPLES, name), 'utf8')) as Record<string, any>;
const validNames = readdirSync(EXAMPLES).filter((f) => /^valid-.*\.json$/.test(f));
const invalidNames = readdirSync(EXAMPLES).filter((f) => /^invalid-.*\.json$/.test(f) && !f.endsWith('.expect.json'));

/** A valid payload with a fresh application number (central refuses duplicates). */
function freshPayload(): Record<string, any> {
  const p = structuredClone(example(validNames[0]));
  p.applicationNumber = `FI-T-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`.toUpperCase().slice(0, 30);
  return p;
}

async function received(stack: Stack): Promise<{ count: number; items: { id: string; repeats: number; code: string }[] }> {
  return (await fetch(`${stack.controlUrl}/_mock/received`)).json() as any;
}

function rabbitctl(...args: string[]): void {
  execFileSync('rabbitmqctl', args, { stdio: 'ignore', timeout: 120000 });
}

describe('the whole path: UMA → gateway → broker → mock central → journal', () => {
  let stack: Stack;
  beforeAll(async () => { stack = await startStack(); });
  afterAll(async () => { await stack.stop(); });

  test('a valid application is delivered and the status shows the central reference', async () => {
    const payload = freshPayload();
    const res = await api(stack.url, 'POST', '/v1/messages', { type: 'vis.application.create', payload });
    expect(res.status).toBe(202);
    expect(res.json.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.json.status).toBe('queued');
    const doc = await waitFor(async () => {
      const s = await api(stack.url, 'GET', `/v1/messages/${res.json.id}`);
      return s.json.status === 'delivered' && s.json;
    });
    expect(doc.central.result).toBe('ACCEPTED');
    expect(doc.central.reference).toMatch(/^VIS-FI-\d{4}-\d{8}$/);
    expect(doc.history.map((h: { status: string }) => h.status)).toEqual(['accepted', 'queued', 'sending', 'delivered']);
    expect(stack.mock.state.applications.get(payload.applicationNumber)?.centralReference).toBe(doc.central.reference);
    const raw = await (await fetch(`${stack.controlUrl}/_mock/messages/${res.json.id}`)).text();
    expect(raw).toContain('<ds:Signature');
    expect(raw).toContain(payload.applicationNumber);
  });

  test.each(invalidNames)('invalid example %s gets 422 with its pointers and never reaches central', async (name) => {
    const before = (await received(stack)).count;
    const expected = JSON.parse(readFileSync(path.join(EXAMPLES, name.replace(/\.json$/, '.expect.json')), 'utf8')) as { errors: { pointer: string }[] };
    const res = await api(stack.url, 'POST', '/v1/messages', { type: 'vis.application.create', payload: example(name) });
    expect(res.status).toBe(422);
    expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(res.json.code).toBe('DAVIS_ERR_VALIDATION_FAILED');
    const pointers = res.json.errors.map((e: { pointer: string }) => e.pointer).sort();
    expect(pointers).toEqual(expected.errors.map((e) => `/payload${e.pointer}`).sort());
    const list = await stack.gw.journal.list({});
    expect(list.items.some((m) => m.createdAt > new Date(Date.now() - 1000).toISOString() && m.state === 'accepted')).toBe(false);
    expect((await received(stack)).count).toBe(before);
  });

  test('the same application number twice: central rejects the second, and the reason reaches the status', async () => {
    const payload = freshPayload();
    const a = await api(stack.url, 'POST', '/v1/messages', { type: 'vis.application.create', payload });
    await waitFor(async () => (await api(stack.url, 'GET', `/v1/messages/${a.json.id}`)).json.status === 'delivered');
    const b = await api(stack.url, 'POST', '/v1/messages', { type: 'vis.application.create', payload });
    expect(b.status).toBe(202);
    const doc = await waitFor(async () => {
      const s = await api(stack.url, 'GET', `/v1/messages/${b.json.id}`);
      return s.json.status === 'rejected' && s.json;
    });
    expect(doc.central.code).toBe('VIS_ERR_DUPLICATE_APPLICATION');
    expect(typeof doc.central.reason).toBe('string');
    expect(doc.central.reason.length).toBeGreaterThan(0);
  });

  test('a tampered signed message is refused by the mock central', async () => {
    const res = await api(stack.url, 'POST', '/v1/messages', { type: 'vis.application.create', payload: freshPayload() });
    await waitFor(async () => (await api(stack.url, 'GET', `/v1/messages/${res.json.id}`)).json.status === 'delivered');
    const signed = await stack.gw.journal.getWireXml(res.json.id);
    // Same message id (so idempotency cannot answer), one changed character inside the signed body.
    const tampered = signed!.replace(/(<w:applicationNumber>)([^<]+)/, (_m, a: string, b: string) => `${a}${b.slice(0, -1)}X`)
      .replace(res.json.id, '00000000-0000-4000-8000-000000000000');
    const answer = await postToCentral(stack, tampered);
    expect(answer.status).toBe(400);
    expect(answer.body).toContain('<w:Code>VIS_ERR_SIGNATURE</w:Code>');
    expect((await received(stack)).items.some((i) => i.id === '00000000-0000-4000-8000-000000000000')).toBe(false);
  });

  test('a wire-format XML body is accepted too: screened, checked against the XSD, delivered', async () => {
    const xml = buildRequestXml({ messageId: '0badc0de-0000-4000-8000-000000000001', type: 'vis.application.create', sender: 'FI', created: new Date().toISOString() }, freshPayload());
    const post = (body: string) => api(stack.url, 'POST', '/v1/messages', body, { 'content-type': 'application/xml' });
    const ok = await post(xml);
    expect(ok.status).toBe(202);
    expect(ok.json.id).not.toBe('0badc0de-0000-4000-8000-000000000001');
    await waitFor(async () => (await api(stack.url, 'GET', `/v1/messages/${ok.json.id}`)).json.status === 'delivered');
    const invalid = await post(xml.replace(/<w:applicationNumber>[^<]*<\/w:applicationNumber>/, ''));
    expect([invalid.status, invalid.json.code]).toEqual([422, 'DAVIS_ERR_WIRE_SCHEMA']);
    expect(invalid.json.errors[0].pointer).toMatch(/^\/w:Request\/w:Body\/w:ApplicationCreate/);
    const doctype = await post('<!DOCTYPE r [<!ENTITY x "y">]><r>&x;</r>');
    expect([doctype.status, doctype.json.code]).toEqual([400, 'DAVIS_ERR_XML_DOCTYPE']);
  });

  test('bad bodies get coded problems and change nothing: text/plain 415, broken JSON 400, too large 413', async () => {
    const before = (await stack.gw.journal.countByState());
    const plain = await api(stack.url, 'POST', '/v1/messages', 'type=vis.application.create', { 'content-type': 'text/plain' });
    expect([plain.status, plain.json.code]).toEqual([415, 'DAVIS_ERR_REQUEST_UNSUPPORTED_MEDIA']);
    const broken = await api(stack.url, 'POST', '/v1/messages', '{"type": "vis.application.create", "payload": {', {});
    expect([broken.status, broken.json.code]).toEqual([400, 'DAVIS_ERR_REQUEST_MALFORMED']);
    const huge = await api(stack.url, 'POST', '/v1/messages', JSON.stringify({ type: 'vis.application.create', payload: { x: 'a'.repeat(9 * 1024 * 1024) } }));
    expect([huge.status, huge.json.code]).toEqual([413, 'DAVIS_ERR_REQUEST_TOO_LARGE']);
    expect(await stack.gw.journal.countByState()).toEqual(before);
  });

  test('the mock central refuses a client without a certificate from the trusted CA', async () => {
    await expect(new Promise((resolve, reject) => {
      const req = https.request(stack.centralUrl, { method: 'POST', ca: readFileSync(stack.pki.caCert) }, resolve);
      req.on('error', reject);
      req.end('<x/>');
    })).rejects.toThrow();
  });
});

function postToCentral(stack: Stack, xml: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(stack.centralUrl, {
      method: 'POST', ca: readFileSync(stack.pki.caCert), cert: readFileSync(stack.pki.gatewayCert), key: readFileSync(stack.pki.gatewayKey),
      headers: { 'content-type': 'application/xml' },
    }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end(xml);
  });
}

describe('broker restart', () => {
  let stack: Stack;
  beforeAll(async () => { stack = await startStack(); });
  afterAll(async () => {
    rabbitctl('start_app');
    await stack.stop();
  });

  test('while the broker is down new messages get 503 with Retry-After and are not journaled as accepted; what was accepted is still delivered', async () => {
    // Central down: accepted messages wait in the gateway's retry loop during the restart.
    await stack.mock.stop();
    const accepted: string[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await api(stack.url, 'POST', '/v1/messages', { type: 'vis.application.create', payload: freshPayload() });
      expect(r.status).toBe(202);
      accepted.push(r.json.id);
    }
    rabbitctl('stop_app');
    await waitFor(async () => !stack.gw.broker.connected, 20000);
    const refused = await api(stack.url, 'POST', '/v1/messages', { type: 'vis.application.create', payload: freshPayload() });
    expect(refused.status).toBe(503);
    expect(refused.json.code).toBe('DAVIS_ERR_BROKER_UNAVAILABLE');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    const ready = await api(stack.url, 'GET', '/health/ready');
    expect(ready.status).toBe(503);
    expect(ready.json.checks.broker.status).toBe('down');

    rabbitctl('start_app');
    await waitFor(async () => stack.gw.broker.connected, 60000, 250);
    await stack.mock.start();
    const after = await api(stack.url, 'POST', '/v1/messages', { type: 'vis.application.create', payload: freshPayload() });
    expect(after.status).toBe(202);
    for (const id of [...accepted, after.json.id]) {
      await waitFor(async () => (await api(stack.url, 'GET', `/v1/messages/${id}`)).json.status === 'delivered', 60000, 250);
    }
    const rec = await received(stack);
    for (const id of accepted) expect(rec.items.filter((i) => i.id === id)).toHaveLength(1);
  }, 180000);
});

describe('the same path with the PostgreSQL journal', () => {
  let stack: Stack;
  // A database of its own: the journal's schema name is fixed, and a schema left in a shared
  // database by another build (other migration SQL) would rightly be refused.
  const db = `davis_e2e_${process.pid}_${randomBytes(3).toString('hex')}`;
  const admin = async (sql: string): Promise<void> => {
    const c = new Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/test' });
    await c.connect();
    try { await c.query(sql); } finally { await c.end(); }
  };
  beforeAll(async () => {
    await admin(`CREATE DATABASE ${db}`);
    stack = await startStack({ journal: { driver: 'postgres', postgresUrl: `postgres://postgres@127.0.0.1:5432/${db}` } });
  });
  afterAll(async () => {
    // Undefined when the database or the stack could not be made.
    await (stack as Stack | undefined)?.stop();
    await admin(`DROP DATABASE IF EXISTS ${db}`);
  });

  test('a valid application is delivered and journaled in PostgreSQL', async () => {
    const res = await api(stack.url, 'POST', '/v1/messages', { type: 'vis.application.create', payload: freshPayload() });
    expect(res.status).toBe(202);
    const doc = await waitFor(async () => {
      const s = await api(stack.url, 'GET', `/v1/messages/${res.json.id}`);
      return s.json.status === 'delivered' && s.json;
    });
    expect(doc.history.map((h: { status: string }) => h.status)).toEqual(['accepted', 'queued', 'sending', 'delivered']);
    expect(stack.gw.journal.constructor.name).toBe('PostgresJournal');
    const ready = await api(stack.url, 'GET', '/health/ready');
    expect(ready.json.checks.journal.status).toBe('ok');
  });
});
