import { DavisError } from '../errors/errors';
import { DELAY_LEVELS_MS, HANDLER_RETRY_MS, shardOf, type Broker, type Delivery, type Lane, type OutboundWork, type WorkOf } from './queue';

/** Options of the in-memory adapter. */
export interface MemoryBrokerOptions {
  /**
   * The queues this broker connects to. Give several brokers the same queues to play several
   * gateways sharing one broker (single active consumer per shard holds across them).
   * @default a set of queues of its own, with 8 shards
   */
  readonly queues?: MemoryQueues;
  /** Webhook deliveries in flight at once. @default 8 */
  readonly webhookPrefetch?: number;
  /** Outbound deliveries in flight at once per shard. @default 1 */
  readonly outboundPrefetch?: number;
  /** Told when a handler throws; its delivery is requeued either way. */
  readonly onHandlerError?: (err: unknown, work: unknown) => void;
}

/** A parked message and why it was parked. */
export interface ParkedWork {
  readonly work: OutboundWork;
  readonly reason: string;
}

interface Item {
  /** The work as JSON: every delivery gets its own copy, as from a real broker. */
  readonly body: string;
  readonly redelivered: boolean;
}

type Handler = (d: Delivery<unknown>) => Promise<void>;

/** Hands one item to a consumer's handler; `settle(true)` requeues it. */
type Deliver = (item: { readonly body: string; readonly redelivered: boolean }, settle: (requeue: boolean) => void) => void;

interface Consumer {
  readonly deliver: Deliver;
  readonly prefetch: number;
  unacked: number;
}

class Queue {
  readonly ready: Item[] = [];
  readonly consumers: Consumer[] = [];
  unacked = 0;
  /** Round-robin position among the consumers of a shared queue. */
  next = 0;
  constructor(readonly singleActive: boolean) {}
}

/**
 * What a RabbitMQ node holds for the topology: one single-active-consumer queue per outbound
 * shard, the webhook queue, the delay queues (timers here) and the parking queue. It outlives
 * the brokers connected to it, as a node outlives its connections.
 */
export class MemoryQueues {
  private readonly shardQueues: Queue[];
  private readonly webhookQueue = new Queue(false);
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly parkedItems: ParkedWork[] = [];

  /** @param shards outbound shard count @default 8 */
  constructor(readonly shards = 8) {
    if (!Number.isInteger(shards) || shards < 1) throw new RangeError('shards must be a positive integer');
    this.shardQueues = Array.from({ length: shards }, () => new Queue(true));
  }

  /** Items waiting in the outbound shards and the delay queues (not those being handled). */
  get backlog(): number {
    return this.shardQueues.reduce((n, q) => n + q.ready.length, 0) + this.timers.size;
  }

  /** Items waiting in a delay queue. */
  get delayed(): number {
    return this.timers.size;
  }

  /** Work waiting to be delivered in a lane (outbound: shard by shard), oldest first; not removed. */
  ready<L extends Lane>(lane: L): WorkOf<L>[] {
    const queues = lane === 'outbound' ? this.shardQueues : [this.webhookQueue];
    return queues.flatMap((q) => q.ready.map((i) => JSON.parse(i.body) as WorkOf<L>));
  }

  /** What the parking queue holds, oldest first. */
  parked(): readonly ParkedWork[] {
    return this.parkedItems.map((p) => ({ work: { ...p.work }, reason: p.reason }));
  }

  /** Drops every delayed item (their timers would otherwise outlive a test). */
  clearDelayed(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  /** @internal */
  enqueue(lane: Lane, work: unknown): void {
    const q = lane === 'outbound' ? this.shardQueues[shardOf((work as OutboundWork).orderingKey, this.shards)] : this.webhookQueue;
    q.ready.push({ body: JSON.stringify(work), redelivered: false });
    this.drain(q);
  }

  /** @internal */
  enqueueLater(lane: Lane, work: unknown, ms: number): void {
    const body = JSON.stringify(work);
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.enqueue(lane, JSON.parse(body));
    }, ms);
    timer.unref();
    this.timers.add(timer);
  }

  /** @internal */
  park(work: OutboundWork, reason: string): void {
    this.parkedItems.push({ work: JSON.parse(JSON.stringify(work)) as OutboundWork, reason });
  }

  /**
   * @internal Registers a consumer on every queue of a lane, `prefetch` deliveries at a time
   * per queue; returns its cancel function.
   */
  subscribe(lane: Lane, prefetch: number, deliver: Deliver): () => void {
    const queues = lane === 'outbound' ? this.shardQueues : [this.webhookQueue];
    const registered = queues.map((q) => ({ q, c: { deliver, prefetch, unacked: 0 } }));
    for (const { q, c } of registered) {
      q.consumers.push(c);
      this.drain(q);
    }
    return () => {
      for (const { q, c } of registered) {
        const i = q.consumers.indexOf(c);
        if (i >= 0) q.consumers.splice(i, 1);
        this.drain(q);
      }
    };
  }

  /** Hands out what the queue's consumers have room for. */
  private drain(q: Queue): void {
    for (;;) {
      const c = this.pick(q);
      const item = c && q.ready.shift();
      if (!c || !item) return;
      q.unacked++;
      c.unacked++;
      let settled = false;
      const settle = (requeue: boolean): void => {
        if (settled) return;
        settled = true;
        q.unacked--;
        c.unacked--;
        // Behind what waits, as a quorum queue returns a message.
        if (requeue) q.ready.push({ body: item.body, redelivered: true });
        this.drain(q);
      };
      c.deliver(item, settle);
    }
  }

  /**
   * A shard has one active consumer, the oldest registered, and it gets the next item only when
   * nothing of the shard is unsettled (not even by a consumer that has since gone): order holds
   * across a hand-over. Other queues go round-robin over consumers with room.
   */
  private pick(q: Queue): Consumer | undefined {
    if (q.singleActive) {
      const c = q.consumers.at(0);
      return c && q.unacked < c.prefetch ? c : undefined;
    }
    for (let k = 0; k < q.consumers.length; k++) {
      const c = q.consumers[(q.next + k) % q.consumers.length];
      if (c.unacked < c.prefetch) {
        q.next = (q.next + k + 1) % q.consumers.length;
        return c;
      }
    }
    return undefined;
  }
}

/**
 * The broker port in memory, for unit tests of the use cases: the same semantics as the
 * amqplib adapter (confirmed publishes, one delivery at a time and one active consumer per
 * outbound shard, requeue behind what waits with `redelivered`, delays that return an item to the tail
 * of its shard, a parking queue, a live backlog), without a broker process. Test hooks play
 * what a real broker does to its clients: `disconnect`/`reconnect`, and `refusePublishes` for a
 * negative confirm. Connected from construction.
 */
export class MemoryBroker implements Broker {
  /** The queues this broker is connected to (shared when given in the options). */
  readonly queues: MemoryQueues;
  private readonly ownsQueues: boolean;
  private online = true;
  private closed = false;
  private refusals = 0;
  private readonly handlers = new Map<Lane, Handler>();
  private readonly paused = new Set<Lane>();
  /** Cancel functions of the lanes being consumed. */
  private readonly consumers = new Map<Lane, () => void>();
  /** Requeue functions of deliveries handed to this connection and not yet settled. */
  private readonly unsettled = new Set<(requeue: boolean) => void>();
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly opts: MemoryBrokerOptions = {}) {
    this.ownsQueues = !opts.queues;
    this.queues = opts.queues ?? new MemoryQueues();
  }

  get connected(): boolean {
    return this.online && !this.closed;
  }

  /** Live, unlike the amqplib adapter's sample. */
  get backlog(): number {
    return this.queues.backlog;
  }

  /** What the parking queue holds (see {@link MemoryQueues.parked}). */
  parked(): readonly ParkedWork[] {
    return this.queues.parked();
  }

  /** The broker refuses (nacks) the next `n` publishes, delays or parks. */
  refusePublishes(n = 1): void {
    this.refusals += n;
  }

  /**
   * The connection is lost: publishes reject, consumers are gone, and every delivery not yet
   * settled goes back to its queue as redelivered (a late ack from its handler does nothing).
   */
  disconnect(): void {
    if (!this.online) return;
    this.online = false;
    for (const lane of [...this.consumers.keys()]) this.cancelLane(lane);
    for (const requeue of [...this.unsettled]) requeue(true);
    this.unsettled.clear();
  }

  /** The connection is back: consumers of lanes not paused start again, as the amqplib adapter re-registers them. */
  reconnect(): void {
    if (this.closed || this.online) return;
    this.online = true;
    for (const lane of this.handlers.keys()) if (!this.paused.has(lane)) this.startLane(lane);
  }

  publish<L extends Lane>(lane: L, work: WorkOf<L>): Promise<void> {
    return this.confirmed(() => this.queues.enqueue(lane, work));
  }

  delay<L extends Lane>(lane: L, work: WorkOf<L>, ms: number): Promise<void> {
    const longest = Math.max(...DELAY_LEVELS_MS);
    const wait = Math.min(longest, Math.max(1, Math.round(ms)));
    return this.confirmed(() => this.queues.enqueueLater(lane, work, wait));
  }

  park(work: OutboundWork, reason: string): Promise<void> {
    return this.confirmed(() => this.queues.park(work, reason));
  }

  async consume<L extends Lane>(lane: L, handler: (d: Delivery<WorkOf<L>>) => Promise<void>): Promise<void> {
    this.cancelLane(lane);
    this.handlers.set(lane, handler as Handler);
    this.paused.delete(lane);
    if (this.connected) this.startLane(lane);
  }

  async pause(lane: Lane): Promise<void> {
    this.paused.add(lane);
    this.cancelLane(lane);
  }

  async resume(lane: Lane): Promise<void> {
    if (!this.paused.delete(lane)) return;
    if (this.connected && this.handlers.has(lane)) this.startLane(lane);
  }

  async stopConsuming(): Promise<void> {
    for (const lane of [...this.consumers.keys()]) this.cancelLane(lane);
    this.handlers.clear();
    await Promise.allSettled([...this.inFlight]);
  }

  async close(): Promise<void> {
    await this.stopConsuming();
    this.disconnect();
    this.closed = true;
    if (this.ownsQueues) this.queues.clearDelayed();
  }

  /** Runs the handler for one delivery handed out by the queues. */
  private deliver(handler: Handler, item: Item, settle: (requeue: boolean) => void): void {
    const own = (requeue: boolean): void => {
      if (!this.unsettled.delete(own)) return;
      settle(requeue);
    };
    this.unsettled.add(own);
    const work: unknown = JSON.parse(item.body);
    const delivery: Delivery<unknown> = {
      work,
      redelivered: item.redelivered,
      ack: () => own(false),
      requeue: () => own(true),
    };
    // Asynchronous, as a delivery from a socket: the publisher's confirm may come first or not.
    const p: Promise<void> = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => handler(delivery))
      .catch(async (err: unknown) => {
        this.opts.onHandlerError?.(err, work);
        await new Promise((r) => setTimeout(r, HANDLER_RETRY_MS));
        delivery.requeue();
      })
      .finally(() => { this.inFlight.delete(p); });
    this.inFlight.add(p);
  }

  private confirmed(route: () => void): Promise<void> {
    if (!this.connected) return Promise.reject(new DavisError('DAVIS_ERR_BROKER_UNAVAILABLE', 'not connected to the message broker'));
    if (this.refusals > 0) {
      this.refusals--;
      return Promise.reject(new DavisError('DAVIS_ERR_BROKER_UNAVAILABLE', 'broker refused the message'));
    }
    route();
    return new Promise((resolve) => setImmediate(resolve));
  }

  private startLane(lane: Lane): void {
    const handler = this.handlers.get(lane);
    if (!handler || this.consumers.has(lane)) return;
    const prefetch = lane === 'outbound' ? this.opts.outboundPrefetch ?? 1 : this.opts.webhookPrefetch ?? 8;
    this.consumers.set(lane, this.queues.subscribe(lane, prefetch, (item, settle) => this.deliver(handler, item, settle)));
  }

  private cancelLane(lane: Lane): void {
    const cancel = this.consumers.get(lane);
    this.consumers.delete(lane);
    cancel?.();
  }
}
