import { createHmac, randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { listTypes } from '../../src/catalogue/catalogue';
import { loadSigningKey } from '../../src/signing/pki';
import { signCanonical } from '../../src/signing/xmldsig';
import { buildRequestXml } from '../../src/wire/envelope';
import { api, startStack, waitFor, type Stack } from '../helpers/stack';

const EXAMPLES = path.join(__dirname, '..', '..', 'schemas', 'examples');
const inboundTypes = listTypes({ direction: 'inbound' }).map((t) => t.id);
const example = (type: string) => {
  const f = readdirSync(path.join(EXAMPLES, type)).filter((n) => /^valid-.*\.json$/.test(n)).sort()[0];
  return JSON.parse(readFileSync(path.join(EXAMPLES, type, f), 'utf8'));
};

describe('central → national notifications', () => {
  let s: Stack;
  let server: http.Server;
  const got: { headers: http.IncomingHttpHeaders; body: string }[] = [];
  const secret = 'inbound-test-shared-secret';

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => { body += c.toString(); });
      req.on('end', () => { got.push({ headers: req.headers, body }); res.writeHead(204).end(); });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    s = await startStack({ webhook: { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/uma`, secret } });
    s.mock.notifyUrl = `${s.url}/v1/central/notifications`;
  });
  afterAll(async () => {
    await s.stop();
    server.close();
  });

  test('the catalogue has the five notification types', () => {
    expect(inboundTypes.sort()).toEqual(['io.mid.notification.yellow-link', 'vis.notification.amended', 'vis.notification.deleted', 'vis.notification.hit', 'vismail.notification.consultation']);
  });

  test.each(inboundTypes)('%s pushed by the mock reaches the UMA webhook with a valid HMAC and its payload, and is listed as inbound', async (type) => {
    const payload = example(type);
    const res = await fetch(`${s.controlUrl}/_mock/notify`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ type, payload }) });
    const out = (await res.json()) as { id: string; gatewayStatus: number; gatewayAnswer: string };
    expect(out.gatewayStatus).toBe(201);
    expect(out.gatewayAnswer).toContain('<w:Outcome>ACCEPTED</w:Outcome>');
    expect(out.gatewayAnswer).toContain('<ds:Signature');
    const hook = await waitFor(async () => got.find((g) => JSON.parse(g.body).message.id === out.id));
    expect(hook.headers['x-davis-signature']).toBe(`sha256=${createHmac('sha256', secret).update(hook.body).digest('hex')}`);
    const body = JSON.parse(hook.body);
    expect(body.event).toBe('notification.received');
    expect(body.message).toMatchObject({ id: out.id, type, direction: 'inbound', status: 'delivered' });
    expect(body.message.payload).toEqual(payload);
    const list = (await api(s.url, 'GET', `/v1/messages?direction=inbound&type=${type}`)).json;
    expect(list.items.map((m: { id: string }) => m.id)).toContain(out.id);
    const doc = (await api(s.url, 'GET', `/v1/messages/${out.id}`)).json;
    expect(doc.payload).toEqual(payload);
    await waitFor(async () => (await api(s.url, 'GET', `/v1/messages/${out.id}`)).json.webhook?.state === 'delivered');
  });

  test('the same notification twice is journaled once and acknowledged again', async () => {
    const type = inboundTypes[0];
    const id = randomUUID();
    const first = await s.mock.notify(type, example(type), { messageId: id });
    const again = await s.mock.notify(type, example(type), { messageId: id });
    expect([first.status, again.status]).toEqual([201, 200]);
    await waitFor(async () => got.some((g) => JSON.parse(g.body).message.id === id));
    await new Promise((r) => setTimeout(r, 300));
    expect(got.filter((g) => JSON.parse(g.body).message.id === id)).toHaveLength(1);
  });

  test('a tampered, unsigned or wrongly signed notification, or an outbound type, is refused and not journaled', async () => {
    const type = inboundTypes[0];
    const central = loadSigningKey({ keyFile: s.pki.centralKey, certFile: s.pki.centralCert });
    const build = (t: string, payload: unknown, sender = 'EU', id = randomUUID()) => ({ id, xml: buildRequestXml({ messageId: id, type: t, sender, created: new Date().toISOString() }, payload) });
    const post = (xml: string) => fetch(`${s.url}/v1/central/notifications`, { method: 'POST', headers: { 'content-type': 'application/xml' }, body: xml });
    const a = build(type, example(type));
    const signed = signCanonical(a.xml, central);
    const tampered = signed.replace(/<w:Created>(\d{4})/, (_m, y: string) => `<w:Created>${Number(y) - 1}`);
    const b = build(type, example(type));
    const c = build('vis.application.create', JSON.parse(readFileSync(path.join(EXAMPLES, 'vis.application.create', readdirSync(path.join(EXAMPLES, 'vis.application.create')).find((n) => n.startsWith('valid-'))!), 'utf8')), 'FI');
    const outcomes = [
      [a.id, tampered, 'DAVIS_ERR_SIG_DIGEST'],
      [b.id, b.xml, 'DAVIS_ERR_SIG_MISSING'],
      [c.id, signCanonical(c.xml, central), 'DAVIS_ERR_CATALOGUE_UNKNOWN_TYPE'],
      [randomUUID(), '<!DOCTYPE x [<!ENTITY e "e">]><x>&e;</x>', 'DAVIS_ERR_XML_DOCTYPE'],
    ] as const;
    for (const [id, xml, code] of outcomes) {
      const res = await post(xml);
      const problem = (await res.json()) as { code: string };
      expect(problem.code).toBe(code);
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect((await api(s.url, 'GET', `/v1/messages/${id}`)).status).toBe(404);
    }
  });

  test('UMA cannot send a notification type to central', async () => {
    const type = inboundTypes[0];
    const res = await api(s.url, 'POST', '/v1/messages', { type, payload: example(type) });
    expect(res.status).toBe(422);
    expect(res.json.code).toBe('DAVIS_ERR_CATALOGUE_UNKNOWN_TYPE');
  });
});
