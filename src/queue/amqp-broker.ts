import { EventEmitter } from 'node:events';
import amqp from 'amqplib';
import type { Logger } from 'pino';
import type { Config } from '../config/config';
import { DavisError, reachesAtLeast, reasonOf } from '../errors/errors';
import { backoffDelay } from '../exchange/backoff';
import { DELAY_LEVELS_MS, HANDLER_RETRY_MS, shardOf, type Broker, type Delivery, type Lane, type OutboundWork, type WorkOf } from './queue';

/** Options of the amqplib adapter: the `amqp` configuration section's broker keys (see `src/config/schema.ts`), and how it runs. */
export interface AmqpBrokerOptions extends Pick<Config['amqp'], 'prefix' | 'shards' | 'confirmTimeoutMs'>,
  Partial<Pick<Config['amqp'], 'quorumGroupSize' | 'deliveryLimit' | 'outboundPrefetch'>> {
  /** Nodes of one cluster, tried in turn (see {@link NodeRotation}). */
  readonly urls?: readonly string[];
  /** One node: the same as `urls: [url]` (deprecated; `urls` wins when both are given). */
  readonly url?: string;
  readonly logger: Logger;
  /**
   * AMQP heartbeat asked of the broker, s, unless a URL names its own (`?heartbeat=`): a node
   * that stops answering (paused, cut off) is left for another node after about two of them.
   * @default 5
   */
  readonly heartbeatSeconds?: number;
  /** Longest wait for one node's TCP connect and AMQP handshake, ms. @default 5000 */
  readonly connectTimeoutMs?: number;
  /** Longest pause between reconnect attempts, ms. @default 5000 */
  readonly maxReconnectDelayMs?: number;
  /** How often the backlog is sampled, ms. @default 2000 */
  readonly backlogSampleMs?: number;
  /** Webhook deliveries in flight at once. @default 8 */
  readonly webhookPrefetch?: number;
}


/**
 * Topology names, derived from the prefix. Routing keys on the `work` topic exchange:
 * `shard.<i>` for outbound shard i, `webhook` for the webhook lane; delayed items carry a
 * `<level>.` prefix, which the work bindings (`#.shard.<i>`, `#.webhook`) ignore.
 */
export function topologyNames(prefix: string, shards: number) {
  return {
    work: `${prefix}work`,
    delayExchange: `${prefix}delay`,
    shardQueue: (i: number) => `${prefix}outbound.${i}`,
    delayQueue: (ms: number) => `${prefix}delay.${ms}`,
    webhookQueue: `${prefix}webhooks`,
    parking: `${prefix}parking`,
    shards,
  };
}

/** Every queue of a topology (for tests and tools that clean up). */
export function allQueues(prefix: string, shards: number): string[] {
  const n = topologyNames(prefix, shards);
  return [...Array.from({ length: shards }, (_, i) => n.shardQueue(i)), ...DELAY_LEVELS_MS.map(n.delayQueue), n.webhookQueue, n.parking];
}


/**
 * The broker nodes in turn: each connect attempt takes the next one, so a reconnect after a
 * node died goes to another node first, and a node that comes back is tried again in its
 * turn. The spacing between attempts stays the one backoff (`backoffDelay`). Each gateway
 * starts at a node of its own choosing (`start`), so several gateways spread their
 * connections, and the queues they declare their leaders, over the cluster.
 */
export class NodeRotation {
  private next: number;

  /**
   * @param start index of the first node tried (taken modulo the number of nodes)
   * @throws Error when `urls` is empty
   */
  constructor(readonly urls: readonly string[], start = 0) {
    if (!urls.length) throw new Error('amqp: at least one broker URL is needed');
    this.next = Math.abs(Math.trunc(start)) % urls.length;
  }

  /** The node the next attempt goes to; advances the turn. */
  take(): string {
    const url = this.urls[this.next % this.urls.length];
    this.next = (this.next + 1) % this.urls.length;
    return url;
  }
}

/** A URL with `heartbeat` set unless it names one already. */
export function withHeartbeat(url: string, seconds: number): string {
  const u = new URL(url);
  if (!u.searchParams.has('heartbeat')) u.searchParams.set('heartbeat', String(seconds));
  return u.toString();
}

/** Host and port of a broker URL, for log lines (no credentials). */
function nodeOf(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || (u.protocol === 'amqps:' ? '5671' : '5672')}`;
  } catch {
    return '(unparseable URL)';
  }
}

type Conn = Awaited<ReturnType<typeof amqp.connect>>;
type Handler = (d: Delivery<unknown>) => Promise<void>;
const QUORUM = { 'x-queue-type': 'quorum' };

/**
 * amqplib adapter. One connection (noDelay: Nagle would cap awaited confirms near 23/s),
 * one confirm channel for publishing, one channel per lane for consuming. Durable topology
 * with quorum queues is declared on every (re)connect; the connection comes back by itself
 * after the broker restarts, and consumers are re-registered.
 */
export class AmqpBroker extends EventEmitter implements Broker {
  private conn?: Conn;
  private pub?: amqp.ConfirmChannel;
  private readonly subs = new Map<Lane, amqp.Channel>();
  private readonly handlers = new Map<Lane, Handler>();
  private readonly paused = new Set<Lane>();
  private readonly tags = new Map<Lane, string[]>();
  private closing = false;
  private connecting?: Promise<void>;
  private reconnectTimer?: NodeJS.Timeout;
  private sampleTimer?: NodeJS.Timeout;
  private attempt = 0;
  private lastBacklog = 0;
  private lastByQueue?: ReadonlyMap<string, number>;
  private readonly names;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly nodes: NodeRotation;
  private nodeNow?: string;

  constructor(private readonly opts: AmqpBrokerOptions) {
    super();
    this.names = topologyNames(opts.prefix, opts.shards);
    const urls = opts.urls ?? (opts.url !== undefined ? [opts.url] : []);
    this.nodes = new NodeRotation(urls, Math.floor(Math.random() * urls.length));
  }

  /** Host and port of the node connected to now (undefined while disconnected). */
  get node(): string | undefined {
    return this.conn ? this.nodeNow : undefined;
  }

  get connected(): boolean {
    return !!this.pub && !this.closing;
  }

  get backlog(): number {
    return this.lastBacklog;
  }

  /** Messages waiting in each queue of the topology, as last sampled (metrics). */
  get backlogByQueue(): ReadonlyMap<string, number> | undefined {
    return this.lastByQueue;
  }

  /** Connects, trying each node once in turn; rejects if none is reachable now. Later losses reconnect by themselves. */
  async start(): Promise<void> {
    let lastErr: unknown;
    for (let i = 0; i < this.nodes.urls.length; i++) {
      try {
        await this.connect();
        lastErr = undefined;
        break;
      } catch (err) {
        lastErr = err;
      }
    }
    if (lastErr !== undefined) throw lastErr;
    const every = this.opts.backlogSampleMs ?? 2000;
    this.sampleTimer = setInterval(() => { void this.sampleBacklog(); }, every);
    this.sampleTimer.unref();
  }

  private connect(): Promise<void> {
    if (!this.connecting) {
      this.connecting = this.doConnect().finally(() => { this.connecting = undefined; });
    }
    return this.connecting;
  }

  private async doConnect(): Promise<void> {
    const url = this.nodes.take();
    const node = nodeOf(url);
    let conn: Conn;
    try {
      conn = await amqp.connect(withHeartbeat(url, this.opts.heartbeatSeconds ?? 5), {
        noDelay: true, timeout: this.opts.connectTimeoutMs ?? 5000, clientProperties: { connection_name: 'davis-gateway' },
      });
    } catch (err) {
      this.opts.logger.warn({ node, err: errInfo(err) }, 'broker node unreachable');
      throw err;
    }
    conn.on('error', (err: Error) => this.opts.logger.warn({ err: errInfo(err) }, 'broker connection error'));
    conn.on('close', () => this.onLost(conn));
    try {
      await this.declare(conn);
      const pub = await conn.createConfirmChannel();
      this.watchChannel(conn, pub, 'publish');
      this.conn = conn;
      this.pub = pub;
      this.nodeNow = node;
      this.attempt = 0;
      for (const lane of this.handlers.keys()) if (!this.paused.has(lane)) await this.startLane(lane);
      this.opts.logger.info({ node }, 'broker connected, topology declared');
      this.emit('connected');
    } catch (err) {
      await conn.close().catch(() => undefined);
      throw err;
    }
  }

  /** A channel closed by the broker is a channel-level failure: recovered like any other (see `recover`). */
  private watchChannel(conn: Conn, ch: amqp.Channel, what: string): void {
    ch.on('error', (err: Error) => this.opts.logger.warn({ err: errInfo(err), channel: what }, 'broker channel error'));
    ch.on('close', () => {
      if (this.conn === conn) this.recover(new DavisError('DAVIS_ERR_BROKER_UNAVAILABLE', { reason: `${what} channel closed` }, { severity: 'channel' }));
    });
  }

  /**
   * Decides by severity what a broker failure needs. A `message` failure needs nothing here
   * (the caller retries that item). A `channel` or `connection` failure closes the connection,
   * so that one path (`onLost`, reconnect, declare, re-register consumers) recovers every
   * channel: reopening only the failed one would leave consumers registered on a half-known
   * state, and a reconnect costs little next to the confirms it makes safe.
   */
  private recover(fault: DavisError): void {
    if (this.closing || !reachesAtLeast(fault, 'channel')) return;
    const conn = this.conn;
    if (conn) void conn.close().catch(() => undefined);
  }

  private onLost(conn: Conn): void {
    if (this.conn !== conn && this.conn !== undefined) return;
    this.conn = undefined;
    this.pub = undefined;
    this.subs.clear();
    this.tags.clear();
    if (this.closing) return;
    this.opts.logger.warn('broker connection lost; reconnecting');
    this.emit('disconnected');
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.closing || this.reconnectTimer) return;
    const max = this.opts.maxReconnectDelayMs ?? 5000;
    const delay = backoffDelay(++this.attempt, { baseMs: 200, maxMs: max });
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.connect().catch((err) => {
        this.opts.logger.warn({ err: errInfo(err) }, 'broker reconnect failed');
        this.scheduleReconnect();
      });
    }, delay);
  }

  /**
   * Declares the topology on a channel of its own. Quorum queues get their replica count
   * (`x-quorum-initial-group-size`; RabbitMQ caps it at the cluster's size); work queues a
   * delivery limit with dead-lettering into the parking queue, so an item that keeps coming
   * back (a handler that crashes the process on it) stops circling and waits for an operator.
   * A queue declared earlier with other arguments (by an older release) is kept as it is,
   * with a warning: RabbitMQ refuses to change a queue's arguments, and deleting one would
   * lose its messages (policies can add the limit to it).
   */
  private async declare(conn: Conn): Promise<void> {
    const n = this.names;
    let ch = await conn.createChannel();
    ch.on('error', () => undefined);
    const quorum = { ...QUORUM, 'x-quorum-initial-group-size': this.opts.quorumGroupSize ?? 3 };
    const limited = {
      ...quorum, 'x-delivery-limit': this.opts.deliveryLimit ?? 100,
      'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': n.parking,
    };
    const queue = async (name: string, args: Record<string, unknown>): Promise<void> => {
      try {
        await ch.assertQueue(name, { durable: true, arguments: args });
      } catch (err) {
        if ((err as { code?: unknown }).code !== 406) throw err;
        ch = await conn.createChannel();
        ch.on('error', () => undefined);
        await ch.checkQueue(name);
        this.opts.logger.warn({ queue: name }, 'queue exists with other arguments (declared by an earlier release); kept as it is');
      }
    };
    await ch.assertExchange(n.work, 'topic', { durable: true });
    await ch.assertExchange(n.delayExchange, 'topic', { durable: true });
    await queue(n.parking, quorum);
    for (let i = 0; i < n.shards; i++) {
      // One active consumer per shard, cluster-wide: with several gateways still one sender per shard.
      await queue(n.shardQueue(i), { ...limited, 'x-single-active-consumer': true });
      await ch.bindQueue(n.shardQueue(i), n.work, `#.shard.${i}`);
    }
    await queue(n.webhookQueue, limited);
    await ch.bindQueue(n.webhookQueue, n.work, '#.webhook');
    for (const ms of DELAY_LEVELS_MS) {
      await queue(n.delayQueue(ms), {
        ...quorum, 'x-message-ttl': ms, 'x-dead-letter-exchange': n.work,
        // at-least-once: a delayed item survives a broker crash while it is dead-lettered back.
        'x-dead-letter-strategy': 'at-least-once', 'x-overflow': 'reject-publish',
      });
      await ch.bindQueue(n.delayQueue(ms), n.delayExchange, `${ms}.#`);
    }
    await ch.close().catch(() => undefined);
  }

  private routingKey(lane: Lane, work: unknown): string {
    return lane === 'outbound' ? `shard.${shardOf((work as OutboundWork).orderingKey, this.names.shards)}` : 'webhook';
  }

  private confirmed(exchange: string, key: string, body: object, props: amqp.Options.Publish): Promise<void> {
    const ch = this.pub;
    if (!ch) return Promise.reject(new DavisError('DAVIS_ERR_BROKER_UNAVAILABLE', { reason: 'not connected' }));
    return new Promise<void>((resolve, reject) => {
      // The fate of this one item is unknown; the channel may be fine (a slow broker under load).
      const timer = setTimeout(() => reject(new DavisError('DAVIS_ERR_BROKER_UNAVAILABLE',
        { reason: `no publisher confirm within ${this.opts.confirmTimeoutMs} ms` }, { severity: 'message' })), this.opts.confirmTimeoutMs);
      try {
        ch.publish(exchange, key, Buffer.from(JSON.stringify(body)), { persistent: true, contentType: 'application/json', ...props }, (err) => {
          clearTimeout(timer);
          // A nack: the broker refused this item (e.g. a delay queue at its limit), the channel stays open.
          if (err) reject(new DavisError('DAVIS_ERR_BROKER_UNAVAILABLE', { reason: 'the broker refused the message' }, { cause: err, severity: 'message' }));
          else resolve();
        });
      } catch (err) {
        clearTimeout(timer);
        const fault = new DavisError('DAVIS_ERR_BROKER_UNAVAILABLE', { reason: `publish failed: ${reasonOf(err)}` }, { cause: err, severity: 'channel' });
        this.recover(fault);
        reject(fault);
      }
    });
  }

  publish<L extends Lane>(lane: L, work: WorkOf<L>): Promise<void> {
    return this.confirmed(this.names.work, this.routingKey(lane, work), work, { messageId: work.messageId, correlationId: work.correlationId });
  }

  delay<L extends Lane>(lane: L, work: WorkOf<L>, ms: number): Promise<void> {
    const wait = Math.max(1, Math.round(ms));
    const level = DELAY_LEVELS_MS.find((l) => l >= wait) ?? DELAY_LEVELS_MS[DELAY_LEVELS_MS.length - 1];
    return this.confirmed(this.names.delayExchange, `${level}.${this.routingKey(lane, work)}`, work, {
      messageId: work.messageId, correlationId: work.correlationId, expiration: String(Math.min(wait, level)),
    });
  }

  park(work: OutboundWork, reason: string): Promise<void> {
    return this.confirmed('', this.names.parking, work, { messageId: work.messageId, headers: { 'x-davis-reason': reason } });
  }

  async consume<L extends Lane>(lane: L, handler: (d: Delivery<WorkOf<L>>) => Promise<void>): Promise<void> {
    this.handlers.set(lane, handler as Handler);
    this.paused.delete(lane);
    if (this.conn) await this.startLane(lane);
  }

  async pause(lane: Lane): Promise<void> {
    this.paused.add(lane);
    await this.cancelLane(lane);
  }

  async resume(lane: Lane): Promise<void> {
    if (!this.paused.delete(lane)) return;
    if (this.conn && this.handlers.has(lane)) await this.startLane(lane);
  }

  private async startLane(lane: Lane): Promise<void> {
    const conn = this.conn;
    const handler = this.handlers.get(lane);
    if (!conn || !handler || this.tags.has(lane)) return;
    let ch = this.subs.get(lane);
    if (!ch) {
      ch = await conn.createChannel();
      this.watchChannel(conn, ch, lane);
      this.subs.set(lane, ch);
    }
    const channel = ch;
    // Per consumer (shard). Several outbound messages of a shard in flight do not reorder an
    // application: the dispatcher holds back any whose predecessor is unsettled (the journal knows).
    await channel.prefetch(lane === 'outbound' ? this.opts.outboundPrefetch ?? 1 : this.opts.webhookPrefetch ?? 8, false);
    const queues = lane === 'outbound' ? Array.from({ length: this.names.shards }, (_, i) => this.names.shardQueue(i)) : [this.names.webhookQueue];
    const tags: string[] = [];
    this.tags.set(lane, tags);
    for (const q of queues) {
      const { consumerTag } = await channel.consume(q, (msg) => {
        if (!msg) return;
        let work: unknown;
        try {
          work = JSON.parse(msg.content.toString('utf8'));
        } catch {
          this.opts.logger.error({ queue: q }, 'unreadable work item dropped');
          safe(() => channel.ack(msg));
          return;
        }
        let settled = false;
        const delivery: Delivery<unknown> = {
          work,
          redelivered: msg.fields.redelivered,
          ack: () => { if (!settled) { settled = true; safe(() => channel.ack(msg)); } },
          requeue: () => { if (!settled) { settled = true; safe(() => channel.nack(msg, false, true)); } },
        };
        const p: Promise<void> = handler(delivery).catch(async (err) => {
          this.opts.logger.error({ messageId: (work as OutboundWork)?.messageId, err: errInfo(err) }, 'handler failed; item returned to its queue');
          // Not at once: a handler failing on a dependency that is down (the journal during a
          // PostgreSQL restart) would otherwise spin through the queue's delivery limit in
          // moments and park the item. The shard waits meanwhile, as it would for the journal.
          await new Promise((r) => setTimeout(r, HANDLER_RETRY_MS));
          delivery.requeue();
        }).finally(() => { this.inFlight.delete(p); });
        this.inFlight.add(p);
      }, { noAck: false });
      tags.push(consumerTag);
    }
  }

  private async cancelLane(lane: Lane): Promise<void> {
    const ch = this.subs.get(lane);
    const tags = this.tags.get(lane) ?? [];
    this.tags.delete(lane);
    if (ch) for (const t of tags) await ch.cancel(t).catch(() => undefined);
  }

  private async sampleBacklog(): Promise<void> {
    const conn = this.conn;
    if (!conn) return;
    let ch: amqp.Channel | undefined;
    try {
      // A separate short-lived channel: a failed passive check closes its channel.
      ch = await conn.createChannel();
      ch.on('error', () => undefined);
      let total = 0;
      const byQueue = new Map<string, number>();
      // The backlog that limits intake is outbound work (shards and delays); webhooks and parking are counted per queue only.
      for (const q of allQueues(this.opts.prefix, this.names.shards)) {
        const n = (await ch.checkQueue(q)).messageCount;
        byQueue.set(q, n);
        if (q !== this.names.webhookQueue && q !== this.names.parking) total += n;
      }
      this.lastBacklog = total;
      this.lastByQueue = byQueue;
    } catch {
      /* sampled again on the next tick */
    } finally {
      await ch?.close().catch(() => undefined);
    }
  }

  async stopConsuming(): Promise<void> {
    for (const lane of [...this.handlers.keys()]) await this.cancelLane(lane);
    this.handlers.clear();
    await Promise.allSettled([...this.inFlight]);
  }

  async close(): Promise<void> {
    await this.stopConsuming();
    this.closing = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    if (this.sampleTimer) clearInterval(this.sampleTimer);
    await this.connecting?.catch(() => undefined);
    const conn = this.conn;
    this.pub = undefined;
    this.subs.clear();
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
