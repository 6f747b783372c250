/**
 * One harness per broker adapter, so that the port suite runs unchanged on each: `open` gives a
 * broker connected to this run's queues (several brokers share them, as several gateways share
 * a RabbitMQ), `parked` reads the parking queue, `cleanup` closes every broker and removes what
 * the run left on the broker.
 */
import { randomBytes } from 'node:crypto';
import amqp from 'amqplib';
import pino from 'pino';
import { AmqpBroker, allQueues, topologyNames } from '../../src/queue/amqp-broker';
import { MemoryBroker, MemoryQueues, type ParkedWork } from '../../src/queue/memory-broker';
import type { Broker } from '../../src/queue/queue';

export const AMQP_URL = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
/** Few shards, so that tests can pick ordering keys on different ones. */
export const SHARDS = 2;

export interface PortHarness {
  /** A new broker on the harness's queues; `outboundPrefetch` as the config key (default 1). */
  open(opts?: { outboundPrefetch?: number }): Promise<Broker>;
  /** Closes every broker opened so far; the queues stay. */
  closeBrokers(): Promise<void>;
  parked(): Promise<ParkedWork[]>;
  cleanup(): Promise<void>;
}

export function memoryHarness(): PortHarness {
  const queues = new MemoryQueues(SHARDS);
  const opened: Broker[] = [];
  return {
    async open(opts = {}) {
      const b = new MemoryBroker({ queues, ...opts });
      opened.push(b);
      return b;
    },
    async closeBrokers() {
      for (const b of opened.splice(0)) await b.close();
    },
    async parked() {
      return [...queues.parked()];
    },
    async cleanup() {
      await this.closeBrokers();
      queues.clearDelayed();
    },
  };
}

/** The amqplib adapter on the real RabbitMQ, under a prefix of its own per run. */
export function amqpHarness(): PortHarness {
  const prefix = `test.port.${randomBytes(4).toString('hex')}.`;
  const opened: AmqpBroker[] = [];
  const withChannel = async <T>(fn: (ch: amqp.Channel) => Promise<T>): Promise<T> => {
    const conn = await amqp.connect(AMQP_URL);
    try {
      const ch = await conn.createChannel();
      const out = await fn(ch);
      await ch.close();
      return out;
    } finally {
      await conn.close();
    }
  };
  return {
    async open(opts = {}) {
      const b = new AmqpBroker({
        url: AMQP_URL, prefix, shards: SHARDS, confirmTimeoutMs: 3000, backlogSampleMs: 50, logger: pino({ level: 'silent' }), ...opts,
      });
      opened.push(b);
      await b.start();
      return b;
    },
    async closeBrokers() {
      for (const b of opened.splice(0)) await b.close();
    },
    async parked() {
      return withChannel(async (ch) => {
        const out: ParkedWork[] = [];
        for (;;) {
          const msg = await ch.get(topologyNames(prefix, SHARDS).parking, { noAck: true });
          if (!msg) return out;
          out.push({ work: JSON.parse(msg.content.toString('utf8')), reason: String(msg.properties.headers?.['x-davis-reason']) });
        }
      });
    },
    async cleanup() {
      await this.closeBrokers();
      await withChannel(async (ch) => {
        const n = topologyNames(prefix, SHARDS);
        for (const q of allQueues(prefix, SHARDS)) await ch.deleteQueue(q);
        await ch.deleteExchange(n.work);
        await ch.deleteExchange(n.delayExchange);
      });
    },
  };
}

/** Polls `fn` until it returns something truthy; fails with `what` when the time is up. */
export async function until<T>(what: string, fn: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 10000, stepMs = 10): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await sleep(stepMs);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
