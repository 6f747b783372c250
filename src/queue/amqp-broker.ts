import { EventEmitter } from 'node:events';
import amqp from 'amqplib';
import type { Logger } from 'pino';
import { DavisError } from '../errors/errors';
import type { Broker, Delivery, OutboundWork } from './queue';

/** Options of the amqplib adapter. */
export interface AmqpBrokerOptions {
  /** Broker URL, e.g. `amqp://guest:guest@127.0.0.1:5672`. */
  readonly url: string;
  /** Prefix of exchange and queue names. @default "davis." */
  readonly prefix: string;
  /** Outbound shard count. @default 8 */
  readonly shards: number;
  /** Longest wait for a publisher confirm, ms. @default 5000 */
  readonly confirmTimeoutMs: number;
  readonly logger: Logger;
  /** Longest pause between reconnect attempts, ms. @default 5000 */
  readonly maxReconnectDelayMs?: number;
}

/** Topology names, derived from the prefix. */
export function topologyNames(prefix: string, shards: number) {
  return {
    outboundExchange: `${prefix}outbound`,
    shardQueue: (i: number) => `${prefix}outbound.${i}`,
    parking: `${prefix}parking`,
    shards,
  };
}

/** FNV-1a 32-bit: a stable, cheap spread of ordering keys over shards. */
export function shardOf(key: string, shards: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % shards;
}

type Conn = Awaited<ReturnType<typeof amqp.connect>>;

/**
 * amqplib adapter. One connection (noDelay: Nagle would cap awaited confirms near 23/s),
 * one confirm channel for publishing, one channel for consuming. Durable topology with
 * quorum queues is declared on every (re)connect; the connection comes back by itself
 * after the broker restarts, and consumers are re-registered.
 */
export class AmqpBroker extends EventEmitter implements Broker {
  private conn?: Conn;
  private pub?: amqp.ConfirmChannel;
  private sub?: amqp.Channel;
  private handler?: (d: Delivery) => Promise<void>;
  private consumerTags: string[] = [];
  private closing = false;
  private connecting?: Promise<void>;
  private reconnectTimer?: NodeJS.Timeout;
  private attempt = 0;
  private readonly names;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly opts: AmqpBrokerOptions) {
    super();
    this.names = topologyNames(opts.prefix, opts.shards);
  }

  get connected(): boolean {
    return !!this.pub && !this.closing;
  }

  /** Connects once; rejects if the broker is unreachable now. Later losses reconnect by themselves. */
  async start(): Promise<void> {
    await this.connect();
  }

  private connect(): Promise<void> {
    if (!this.connecting) {
      this.connecting = this.doConnect().finally(() => { this.connecting = undefined; });
    }
    return this.connecting;
  }

  private async doConnect(): Promise<void> {
    const conn = await amqp.connect(this.opts.url, { noDelay: true, clientProperties: { connection_name: 'davis-gateway' } });
    conn.on('error', (err: Error) => this.opts.logger.warn({ err: errInfo(err) }, 'broker connection error'));
    conn.on('close', () => this.onLost(conn));
    try {
      const pub = await conn.createConfirmChannel();
      pub.on('error', (err: Error) => this.opts.logger.warn({ err: errInfo(err) }, 'broker publish channel error'));
      pub.on('close', () => { if (this.pub === pub) { this.pub = undefined; void conn.close().catch(() => undefined); } });
      await this.declare(pub);
      const sub = await conn.createChannel();
      sub.on('error', (err: Error) => this.opts.logger.warn({ err: errInfo(err) }, 'broker consume channel error'));
      sub.on('close', () => { if (this.sub === sub) { this.sub = undefined; void conn.close().catch(() => undefined); } });
      this.conn = conn;
      this.pub = pub;
      this.sub = sub;
      this.attempt = 0;
      if (this.handler) await this.startConsumers();
      this.opts.logger.info('broker connected, topology declared');
      this.emit('connected');
    } catch (err) {
      await conn.close().catch(() => undefined);
      throw err;
    }
  }

  private onLost(conn: Conn): void {
    if (this.conn !== conn && this.conn !== undefined) return;
    this.conn = undefined;
    this.pub = undefined;
    this.sub = undefined;
    this.consumerTags = [];
    if (this.closing) return;
    this.opts.logger.warn('broker connection lost; reconnecting');
    this.emit('disconnected');
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.closing || this.reconnectTimer) return;
    const max = this.opts.maxReconnectDelayMs ?? 5000;
    const delay = Math.min(max, 200 * 2 ** Math.min(this.attempt++, 5)) * (0.5 + Math.random() / 2);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.connect().catch((err) => {
        this.opts.logger.warn({ err: errInfo(err) }, 'broker reconnect failed');
        this.scheduleReconnect();
      });
    }, delay);
  }

  private async declare(ch: amqp.Channel): Promise<void> {
    const n = this.names;
    await ch.assertExchange(n.outboundExchange, 'direct', { durable: true });
    for (let i = 0; i < n.shards; i++) {
      await ch.assertQueue(n.shardQueue(i), {
        durable: true,
        // One active consumer per shard keeps per-application order even with several gateways.
        arguments: { 'x-queue-type': 'quorum', 'x-single-active-consumer': true },
      });
      await ch.bindQueue(n.shardQueue(i), n.outboundExchange, String(i));
    }
    await ch.assertQueue(n.parking, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
  }

  async publish(work: OutboundWork): Promise<void> {
    const ch = this.pub;
    if (!ch) throw new DavisError('DAVIS_ERR_BROKER_UNAVAILABLE', 'not connected to the message broker');
    const shard = shardOf(work.orderingKey, this.names.shards);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new DavisError('DAVIS_ERR_BROKER_UNAVAILABLE', 'publisher confirm timed out')), this.opts.confirmTimeoutMs);
      try {
        ch.publish(this.names.outboundExchange, String(shard), Buffer.from(JSON.stringify(work)), {
          persistent: true,
          contentType: 'application/json',
          messageId: work.messageId,
          correlationId: work.correlationId,
          mandatory: false,
        }, (err) => {
          clearTimeout(timer);
          if (err) reject(new DavisError('DAVIS_ERR_BROKER_UNAVAILABLE', 'broker refused the message', { cause: err }));
          else resolve();
        });
      } catch (err) {
        clearTimeout(timer);
        reject(new DavisError('DAVIS_ERR_BROKER_UNAVAILABLE', 'publish failed', { cause: err }));
      }
    });
  }

  async park(work: OutboundWork, reason: string): Promise<void> {
    const ch = this.pub;
    if (!ch) throw new DavisError('DAVIS_ERR_BROKER_UNAVAILABLE', 'not connected to the message broker');
    ch.sendToQueue(this.names.parking, Buffer.from(JSON.stringify(work)), {
      persistent: true, contentType: 'application/json', messageId: work.messageId, headers: { 'x-davis-reason': reason },
    });
    await ch.waitForConfirms();
  }

  async consume(handler: (d: Delivery) => Promise<void>): Promise<void> {
    this.handler = handler;
    if (this.sub) await this.startConsumers();
  }

  private async startConsumers(): Promise<void> {
    const ch = this.sub;
    const handler = this.handler;
    if (!ch || !handler) return;
    await ch.prefetch(1, false);
    for (let i = 0; i < this.names.shards; i++) {
      const { consumerTag } = await ch.consume(this.names.shardQueue(i), (msg) => {
        if (!msg) return;
        let work: OutboundWork;
        try {
          work = JSON.parse(msg.content.toString('utf8')) as OutboundWork;
        } catch {
          this.opts.logger.error({ shard: i }, 'unreadable work item dropped');
          ch.ack(msg);
          return;
        }
        let settled = false;
        const delivery: Delivery = {
          work,
          redelivered: msg.fields.redelivered,
          ack: () => { if (!settled) { settled = true; safe(() => ch.ack(msg)); } },
          requeue: () => { if (!settled) { settled = true; safe(() => ch.nack(msg, false, true)); } },
        };
        const p = handler(delivery).catch((err) => {
          this.opts.logger.error({ messageId: work.messageId, err: errInfo(err) }, 'dispatcher failed; message returned to the queue');
          delivery.requeue();
        }).finally(() => this.inFlight.delete(p));
        this.inFlight.add(p);
      }, { noAck: false });
      this.consumerTags.push(consumerTag);
    }
  }

  async stopConsuming(): Promise<void> {
    this.handler = undefined;
    const ch = this.sub;
    const tags = this.consumerTags;
    this.consumerTags = [];
    if (ch) for (const t of tags) await ch.cancel(t).catch(() => undefined);
    await Promise.allSettled([...this.inFlight]);
  }

  async close(): Promise<void> {
    await this.stopConsuming();
    this.closing = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    await this.connecting?.catch(() => undefined);
    const conn = this.conn;
    this.pub = undefined;
    this.sub = undefined;
    this.conn = undefined;
    if (conn) await conn.close().catch(() => undefined);
  }
}

function safe(fn: () => void): void {
  try { fn(); } catch { /* channel already closed: the broker redelivers */ }
}

/** Error fields safe to log (no payloads ever reach here). */
export function errInfo(err: unknown): { code?: string; message: string } {
  const e = err as { code?: unknown; message?: unknown };
  return { ...(typeof e?.code === 'string' ? { code: e.code } : {}), message: String(e?.message ?? err) };
}
