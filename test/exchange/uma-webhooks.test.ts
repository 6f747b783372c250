import { createHmac, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhooks, type WebhookOptions } from '../../src/exchange/uma-webhooks';
import { MemoryBroker } from '../../src/queue/memory-broker';
import { buildRequestXml } from '../../src/wire/envelope';
import { loadExamples } from '../validation/examples';
import { Scratch, silent, sleep, until } from './fixtures';

interface Hit { headers: http.IncomingHttpHeaders; body: string }

/** A UMA endpoint on a free port that answers each callback with the next scripted status. */
class Receiver {
  readonly hits: Hit[] = [];
  statuses: number[] = [];
  private readonly server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      this.hits.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.statusCode = this.statuses.shift() ?? 204;
      res.end();
    });
  });
  url = '';

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hooks`;
    return this;
  }

  stop(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

const SECRET = 'webhook-secret-for-tests';

describe('the UMA webhooks', () => {
  let s: Scratch;
  let broker: MemoryBroker;
  let uma: Receiver;

  beforeEach(async () => {
    s = new Scratch();
    broker = new MemoryBroker();
    uma = await new Receiver().start();
  });
  afterEach(async () => {
    await broker.close();
    await uma.stop();
    await s.close();
  });

  async function started(over: Partial<WebhookOptions> = {}): Promise<Webhooks> {
    const w = new Webhooks({ url: uma.url, secret: SECRET, maxAttempts: 4, retryBaseMs: 5, retryMaxMs: 20, timeoutMs: 2000, ...over }, s.journal, broker, silent);
    await w.start();
    return w;
  }

  const webhookOf = async (id: string) => (await s.record(id)).webhook;

  it('POSTs the message status as JSON, signed with HMAC-SHA256 of the exact bytes in X-Davis-Signature', async () => {
    const w = await started();
    const id = await s.insert('APP-1');
    await w.enqueue(id, 'message.delivered', 'corr-1');
    await until('delivered', async () => (await webhookOf(id))?.state === 'delivered');
    expect(uma.hits).toHaveLength(1);
    const { headers, body } = uma.hits[0];
    expect(headers['content-type']).toMatch(/^application\/json/);
    expect(headers['x-davis-event']).toBe('message.delivered');
    expect(headers['x-davis-message-id']).toBe(id);
    const expected = Buffer.from(`sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`);
    const given = Buffer.from(String(headers['x-davis-signature']));
    expect(given.length === expected.length && timingSafeEqual(given, expected)).toBe(true);
    const doc = JSON.parse(body);
    expect(doc).toMatchObject({ event: 'message.delivered', message: { id, type: 'vis.application.create', direction: 'outbound' } });
    expect(doc.message.payload).toBeUndefined();
    expect(await webhookOf(id)).toMatchObject({ event: 'message.delivered', state: 'delivered', attempts: 1 });
  });

  it('journals the callback as pending when queued, before anything is sent', async () => {
    const w = new Webhooks({ url: uma.url, secret: SECRET, maxAttempts: 4, retryBaseMs: 5, retryMaxMs: 20, timeoutMs: 2000 }, s.journal, broker, silent);
    const id = await s.insert('APP-2');
    await w.enqueue(id, 'message.rejected', 'corr-2');
    expect(await webhookOf(id)).toMatchObject({ event: 'message.rejected', state: 'pending', attempts: 0 });
    expect(broker.queues.ready('webhook')).toEqual([{ messageId: id, event: 'message.rejected', correlationId: 'corr-2' }]);
  });

  it('sends no signature header without a secret', async () => {
    const w = await started({ secret: undefined });
    const id = await s.insert('APP-3');
    await w.enqueue(id, 'message.delivered', 'corr-3');
    await until('a callback', () => uma.hits.length === 1);
    expect(uma.hits[0].headers['x-davis-signature']).toBeUndefined();
  });

  it('retries a refused callback with backoff and records each attempt until UMA takes it', async () => {
    uma.statuses = [500, 503];
    const w = await started();
    const id = await s.insert('APP-4');
    await w.enqueue(id, 'message.delivered', 'corr-4');
    await until('delivered', async () => (await webhookOf(id))?.state === 'delivered');
    expect(uma.hits).toHaveLength(3);
    expect((await webhookOf(id))?.attempts).toBe(3);
    // Each retry is signed afresh over its own body.
    for (const h of uma.hits) expect(h.headers['x-davis-signature']).toBe(`sha256=${createHmac('sha256', SECRET).update(h.body).digest('hex')}`);
  });

  it('gives up after maxAttempts: webhook state failed with the last error', async () => {
    uma.statuses = Array(10).fill(500);
    const w = await started({ maxAttempts: 3 });
    const id = await s.insert('APP-5');
    await w.enqueue(id, 'message.failed', 'corr-5');
    await until('given up', async () => (await webhookOf(id))?.state === 'failed');
    expect(await webhookOf(id)).toMatchObject({ state: 'failed', attempts: 3, lastError: 'HTTP 500' });
    await sleep(100);
    expect(uma.hits).toHaveLength(3);
  });

  it('counts an unreachable UMA as a failed attempt too', async () => {
    await uma.stop();
    const w = await started({ maxAttempts: 2 });
    const id = await s.insert('APP-6');
    await w.enqueue(id, 'message.delivered', 'corr-6');
    await until('given up', async () => (await webhookOf(id))?.state === 'failed');
    expect((await webhookOf(id))?.lastError).toEqual(expect.any(String));
    uma = await new Receiver().start(); // afterEach stops it again
  });

  it('carries the payload of a central notification (inbound) to UMA', async () => {
    const w = await started();
    const payload = loadExamples('vis.notification.hit').valid[0].payload;
    const id = 'notif-1';
    const wireXml = buildRequestXml({ messageId: id, type: 'vis.notification.hit', sender: 'EU', created: new Date().toISOString() }, payload);
    await s.journal.insert({ id, type: 'vis.notification.hit', direction: 'inbound', orderingKey: 'APP-7', clientId: 'central', bodyHash: 'c'.repeat(64), wireXml, correlationId: 'corr-7' });
    await w.enqueue(id, 'notification.received', 'corr-7');
    await until('a callback', () => uma.hits.length === 1);
    expect(JSON.parse(uma.hits[0].body).message).toMatchObject({ id, direction: 'inbound', payload });
  });

  it('does nothing without a URL: no journal entry, no job, no consumer', async () => {
    const w = new Webhooks({ maxAttempts: 3, retryBaseMs: 5, retryMaxMs: 20, timeoutMs: 1000 }, s.journal, broker, silent);
    expect(w.enabled).toBe(false);
    await w.start();
    const id = await s.insert('APP-8');
    await w.enqueue(id, 'message.delivered', 'corr-8');
    expect((await s.record(id)).webhook).toBeUndefined();
    expect(broker.queues.ready('webhook')).toEqual([]);
  });
});
