import { createHmac } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import amqp from 'amqplib';
import { OutboxRelay } from '../../src/exchange/outbox-relay';
import { signCanonical } from '../../src/signing/xmldsig';
import { loadSigningKey } from '../../src/signing/pki';
import { buildRequestXml } from '../../src/wire/envelope';
import { topologyNames } from '../../src/queue/amqp-broker';
import { AMQP_URL, api, startStack, waitFor, type Stack } from '../helpers/stack';
import { freshApplication } from '../helpers/payloads';

const send = (s: Stack, payload: Record<string, unknown>, headers: Record<string, string> = {}) =>
  api(s.url, 'POST', '/v1/messages', { type: 'vis.application.create', payload }, headers);
const status = async (s: Stack, id: string) => (await api(s.url, 'GET', `/v1/messages/${id}`)).json;
const settled = (s: Stack, id: string, want = 'delivered', ms = 30000) =>
  waitFor(async () => { const d = await status(s, id); return d.status === want && d; }, ms, 100);
const faults = (s: Stack, f: Record<string, unknown>) =>
  fetch(`${s.controlUrl}/_mock/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(f) });
const arrivalOrder = (s: Stack) => s.mock.receivedList().map((r) => r.id);

describe('delivery guarantees against the real broker and the mock central', () => {
  let s: Stack;
  beforeAll(async () => {
    s = await startStack({ central: { retryBaseMs: 1500, maxAttempts: 6, breakerThreshold: 50 } });
  });
  afterAll(async () => { await s.stop(); });
  afterEach(async () => { await faults(s, {}); });

  test('a 5xx from central is retried with backoff, then delivered; attempts and next attempt time are journaled', async () => {
    await faults(s, { errorRate: 1, errorStatus: 503 });
    const r = await send(s, freshApplication());
    const retrying = await waitFor(async () => { const d = await status(s, r.json.id); return d.status === 'retrying' && d; });
    expect(retrying.lastError).toMatch(/^DAVIS_ERR_CENTRAL_TRANSPORT/);
    expect(Date.parse(retrying.nextAttemptAt)).toBeGreaterThan(Date.now() - 1000);
    await faults(s, {});
    const d = await settled(s, r.json.id);
    expect(d.attempts).toBeGreaterThanOrEqual(2);
    expect(d.history.map((h: { status: string }) => h.status)).toEqual(expect.arrayContaining(['retrying', 'delivered']));
  });

  test('a central business rejection is final and not retried', async () => {
    const p = freshApplication();
    const a = await send(s, p);
    await settled(s, a.json.id);
    const b = await send(s, p);
    const d = await settled(s, b.json.id, 'rejected');
    expect(d.attempts).toBe(1);
    expect(d.central.code).toBe('VIS_ERR_DUPLICATE_APPLICATION');
  });

  test('per application, central sees messages in accepted order while an earlier one retries; other applications are not held up', async () => {
    await faults(s, { errorRate: 1 });
    const appA = freshApplication();
    const m1 = await send(s, appA);
    await waitFor(async () => (await status(s, m1.json.id)).status === 'retrying');
    await faults(s, {});
    // Same application number: central rejects it as a duplicate, but only after m1 created the file.
    const m2 = await send(s, appA);
    const m3 = await send(s, freshApplication());
    await settled(s, m3.json.id);
    expect(arrivalOrder(s)).not.toContain(m2.json.id);
    const d1 = await settled(s, m1.json.id);
    const d2 = await settled(s, m2.json.id, 'rejected');
    expect(d1.central.result).toBe('ACCEPTED');
    expect(d2.central.code).toBe('VIS_ERR_DUPLICATE_APPLICATION');
    const order = arrivalOrder(s);
    expect(order.indexOf(m3.json.id)).toBeLessThan(order.indexOf(m1.json.id));
    expect(order.indexOf(m1.json.id)).toBeLessThan(order.indexOf(m2.json.id));
  });

  test('an unsigned or malformed answer is never taken as delivered; the retry gets the stored answer without a second effect', async () => {
    for (const fault of [{ unsignedRate: 1 }, { malformedRate: 1 }, { resetAfterRate: 1 }]) {
      await faults(s, fault);
      const r = await send(s, freshApplication());
      const d = await waitFor(async () => { const x = await status(s, r.json.id); return x.status === 'retrying' && x; });
      expect(d.status).not.toBe('delivered');
      await faults(s, {});
      const done = await settled(s, r.json.id);
      expect(done.central.result).toBe('ACCEPTED');
      const entry = s.mock.receivedList().find((e) => e.id === r.json.id)!;
      expect(entry.repeats).toBeGreaterThanOrEqual(1);
      expect(entry.code).toBe('OK');
    }
  });

  test('Idempotency-Key: the same key and body give the original answer; another body gives 409', async () => {
    const p = freshApplication();
    const a = await send(s, p, { 'idempotency-key': `k-${p.applicationNumber}` });
    const b = await send(s, p, { 'idempotency-key': `k-${p.applicationNumber}` });
    expect(b.status).toBe(202);
    expect(b.json.id).toBe(a.json.id);
    expect(b.headers.get('idempotent-replay')).toBe('true');
    const c = await send(s, freshApplication(), { 'idempotency-key': `k-${p.applicationNumber}` });
    expect(c.status).toBe(409);
    expect(c.json.code).toBe('DAVIS_ERR_IDEMPOTENCY_CONFLICT');
    await settled(s, a.json.id);
    expect(s.mock.receivedList().filter((e) => e.id === a.json.id)).toHaveLength(1);
  });

  test('a journaled message whose publish was never confirmed is published by the outbox relay', async () => {
    const id = '11111111-2222-4333-8444-' + Date.now().toString(16).padStart(12, '0').slice(-12);
    const p = freshApplication();
    const key = loadSigningKey({ keyFile: s.pki.gatewayKey, certFile: s.pki.gatewayCert });
    const xml = signCanonical(buildRequestXml({ messageId: id, type: 'vis.application.create', sender: 'FI', created: new Date().toISOString() }, p), key);
    // What a crash between the journal write and the confirm leaves behind.
    await s.gw.journal.insert({ id, type: 'vis.application.create', direction: 'outbound', orderingKey: p.applicationNumber, clientId: 'dev-client', bodyHash: 'x', wireXml: xml, correlationId: 'relay-test' });
    // The relay takes messages created strictly before now - grace: step past this millisecond.
    await new Promise((r) => setTimeout(r, 10));
    const relay = new OutboxRelay({ journal: s.gw.journal, broker: s.gw.broker, logger: s.gw.app.log as never, intervalMs: 60000, graceMs: 0 });
    expect(await relay.runOnce()).toBe(1);
    const d = await settled(s, id);
    expect(d.history.map((h: { status: string }) => h.status)).toEqual(['accepted', 'queued', 'sending', 'delivered']);
  });
});

describe('failed messages, parking and operator retry', () => {
  let s: Stack;
  beforeAll(async () => { s = await startStack({ central: { retryBaseMs: 100, maxAttempts: 2, breakerThreshold: 50 } }); });
  afterAll(async () => { await s.stop(); });

  test('after the configured attempts a message is failed and parked; POST /retry delivers it; retrying a delivered one is 409', async () => {
    await faults(s, { errorRate: 1 });
    const r = await send(s, freshApplication());
    const d = await settled(s, r.json.id, 'failed');
    expect(d.attempts).toBe(2);
    expect(d.lastError).toMatch(/DAVIS_ERR_CENTRAL_TRANSPORT/);
    const conn = await amqp.connect(AMQP_URL);
    const ch = await conn.createChannel();
    const parked = await ch.get(topologyNames(s.prefix, 2).parking, { noAck: true });
    await conn.close();
    expect(parked && JSON.parse(parked.content.toString()).messageId).toBe(r.json.id);
    expect(parked && parked.properties.headers?.['x-davis-reason']).toMatch(/DAVIS_ERR_CENTRAL_TRANSPORT/);

    await faults(s, {});
    const retry = await api(s.url, 'POST', `/v1/messages/${r.json.id}/retry`);
    expect(retry.status).toBe(202);
    const done = await settled(s, r.json.id);
    expect(done.history.map((h: { status: string }) => h.status)).toEqual(expect.arrayContaining(['failed', 'queued', 'delivered']));
    const again = await api(s.url, 'POST', `/v1/messages/${r.json.id}/retry`);
    expect(again.status).toBe(409);
    expect(again.json.code).toBe('DAVIS_ERR_MESSAGE_STATE');
  });
});

describe('circuit breaker', () => {
  let s: Stack;
  beforeAll(async () => { s = await startStack({ central: { retryBaseMs: 200, maxAttempts: 12, breakerThreshold: 2, breakerCooldownMs: 300 } }); });
  afterAll(async () => { await s.stop(); });

  test('while central refuses connections the circuit opens and sending pauses; work resumes by itself when central returns', async () => {
    const opened = new Promise<void>((resolve) => s.gw.dispatcher.breaker.once('open', () => resolve()));
    const closed = new Promise<void>((resolve) => s.gw.dispatcher.breaker.once('close', () => resolve()));
    await faults(s, { refuseForMs: 4000 });
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) ids.push((await send(s, freshApplication())).json.id);
    await opened;
    expect(s.gw.dispatcher.breaker.state).toBe('open');
    await closed;
    for (const id of ids) {
      const d = await settled(s, id);
      // Attempts are not spent while the circuit is open.
      expect(d.attempts).toBeLessThanOrEqual(4);
    }
  }, 60000);
});

describe('callbacks to UMA', () => {
  let s: Stack;
  let server: http.Server;
  const got: { headers: http.IncomingHttpHeaders; body: string }[] = [];
  let failFirst = 0;
  const secret = 'a-shared-secret-for-tests';
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => { body += c.toString(); });
      req.on('end', () => {
        if (failFirst > 0) {
          failFirst--;
          res.writeHead(500).end();
          return;
        }
        got.push({ headers: req.headers, body });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/uma/callbacks`;
    s = await startStack({ webhook: { url, secret, retryBaseMs: 200 } });
  });
  afterAll(async () => {
    await s.stop();
    server.close();
  });

  test('every terminal state is pushed with a valid HMAC, retried until UMA takes it, and visible in the journal', async () => {
    failFirst = 2;
    const p = freshApplication();
    const a = await send(s, p);
    const b = await send(s, p);
    await settled(s, a.json.id);
    await settled(s, b.json.id, 'rejected');
    const byId = await waitFor(async () => {
      const m = new Map(got.map((g) => [JSON.parse(g.body).message.id as string, g]));
      return m.has(a.json.id) && m.has(b.json.id) && m;
    });
    for (const [id, event] of [[a.json.id, 'message.delivered'], [b.json.id, 'message.rejected']]) {
      const g = byId.get(id)!;
      expect(g.headers['x-davis-signature']).toBe(`sha256=${createHmac('sha256', secret).update(g.body).digest('hex')}`);
      expect(JSON.parse(g.body).event).toBe(event);
      expect(g.headers['x-davis-event']).toBe(event);
    }
    const wa = await waitFor(async () => { const d = await status(s, a.json.id); return d.webhook?.state === 'delivered' && d.webhook; });
    const wb = await waitFor(async () => { const d = await status(s, b.json.id); return d.webhook?.state === 'delivered' && d.webhook; });
    expect(Number(wa.attempts) + Number(wb.attempts)).toBeGreaterThanOrEqual(3);
  });
});
