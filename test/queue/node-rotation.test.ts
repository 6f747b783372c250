import { randomBytes } from 'node:crypto';
import amqp from 'amqplib';
import pino from 'pino';
import { AmqpBroker, allQueues, NodeRotation, withHeartbeat } from '../../src/queue/amqp-broker';
import { loadConfig } from '../../src/config/config';
import { AMQP_URL } from './port-harness';

/** A port where nothing listens: connecting there fails at once. */
const DEAD = 'amqp://guest:guest@127.0.0.1:1';

describe('broker node rotation', () => {
  test('each attempt takes the next node, round-robin, wrapping around', () => {
    const r = new NodeRotation(['amqp://a', 'amqp://b', 'amqp://c']);
    expect(Array.from({ length: 7 }, () => r.take())).toEqual(['amqp://a', 'amqp://b', 'amqp://c', 'amqp://a', 'amqp://b', 'amqp://c', 'amqp://a']);
  });

  test('the first attempt can start at any node', () => {
    const r = new NodeRotation(['amqp://a', 'amqp://b', 'amqp://c'], 4);
    expect([r.take(), r.take(), r.take()]).toEqual(['amqp://b', 'amqp://c', 'amqp://a']);
  });

  test('one node is every attempt', () => {
    const r = new NodeRotation(['amqp://only']);
    expect([r.take(), r.take()]).toEqual(['amqp://only', 'amqp://only']);
  });

  test('no node is a programming error', () => {
    expect(() => new NodeRotation([])).toThrow();
  });

  test('a heartbeat is asked for unless the URL names one', () => {
    expect(new URL(withHeartbeat('amqp://u:p@h:5673/v', 5)).searchParams.get('heartbeat')).toBe('5');
    expect(new URL(withHeartbeat('amqp://h?heartbeat=30', 5)).searchParams.get('heartbeat')).toBe('30');
  });
});

describe('broker URLs in the configuration', () => {
  test('AMQP_URL holds several nodes, comma-separated; amqp.url is the first', () => {
    const c = loadConfig({ env: { AMQP_URL: 'amqp://a:5673, amqp://b:5674,amqp://c:5675' } });
    expect(c.amqp.urls).toEqual(['amqp://a:5673', 'amqp://b:5674', 'amqp://c:5675']);
    expect(c.amqp.url).toBe('amqp://a:5673');
  });

  test('the deprecated amqp.url alone is a one-node list', () => {
    const c = loadConfig({ env: {}, overrides: { amqp: { url: 'amqp://x:5672' } } });
    expect(c.amqp.urls).toEqual(['amqp://x:5672']);
  });

  test('amqp.url contradicting amqp.urls is refused', () => {
    let code: string | undefined;
    try {
      loadConfig({ env: {}, overrides: { amqp: { url: 'amqp://x', urls: ['amqp://y'] } } });
    } catch (err) {
      code = (err as { code?: string }).code;
    }
    expect(code).toBe('DAVIS_ERR_CONFIG_INVALID');
  });

  test('a node URL that is not amqp(s) is refused', () => {
    expect(() => loadConfig({ env: { AMQP_URL: 'amqp://a,http://b' } })).toThrow(expect.objectContaining({ code: 'DAVIS_ERR_CONFIG_INVALID' }));
  });
});

describe('broker failover on the real RabbitMQ', () => {
  const prefix = `test.rot.${randomBytes(4).toString('hex')}.`;
  afterAll(async () => {
    const conn = await amqp.connect(AMQP_URL);
    const ch = await conn.createChannel();
    for (const q of allQueues(prefix, 1)) await ch.deleteQueue(q);
    await ch.deleteExchange(`${prefix}work`);
    await ch.deleteExchange(`${prefix}delay`);
    await conn.close();
  });

  test('start passes over a dead node to the next one and publishes there', async () => {
    const b = new AmqpBroker({ urls: [DEAD, AMQP_URL], prefix, shards: 1, confirmTimeoutMs: 3000, logger: pino({ level: 'silent' }) });
    try {
      await b.start();
      expect(b.connected).toBe(true);
      expect(b.node).toBe('127.0.0.1:5672');
      await b.publish('outbound', { messageId: 'm1', type: 't', orderingKey: 'k', correlationId: 'c' });
    } finally {
      await b.close();
    }
  });

  test('start rejects when no node is reachable', async () => {
    const b = new AmqpBroker({ urls: [DEAD, DEAD], prefix, shards: 1, confirmTimeoutMs: 3000, logger: pino({ level: 'silent' }) });
    await expect(b.start()).rejects.toThrow();
    await b.close();
  });

  test('work queues are quorum queues with a delivery limit dead-lettering into parking', async () => {
    const conn = await amqp.connect(AMQP_URL);
    const ch = await conn.createChannel();
    // Declaring the same queue with the arguments the broker used succeeds; with others it fails (406).
    await expect(ch.assertQueue(`${prefix}outbound.0`, {
      durable: true,
      arguments: {
        'x-queue-type': 'quorum', 'x-quorum-initial-group-size': 3, 'x-delivery-limit': 100, 'x-single-active-consumer': true,
        'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': `${prefix}parking`,
      },
    })).resolves.toBeDefined();
    ch.on('error', () => undefined);
    await expect(ch.assertQueue(`${prefix}outbound.0`, { durable: true, arguments: { 'x-queue-type': 'quorum', 'x-delivery-limit': 7 } }))
      .rejects.toMatchObject({ code: 406 });
    await conn.close();
  });
});
