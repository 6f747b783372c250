/**
 * The broker port. The core publishes and consumes work through these interfaces; the
 * amqplib adapter is the only file that knows AMQP.
 *
 * Two lanes of work: `outbound` (messages to central, sharded by ordering key so one
 * application's messages share one single-active-consumer queue) and `webhook` (callbacks
 * to UMA). Either can be delayed: the item waits in a TTL queue and then returns to its
 * own lane and shard by dead-lettering, so a retry never blocks other work.
 */

/** One unit of outbound work. */
export interface OutboundWork {
  readonly messageId: string;
  readonly type: string;
  /** Messages with the same key go to the same shard. */
  readonly orderingKey: string;
  readonly correlationId: string;
}

/** A callback to UMA about one message. */
export interface WebhookJob {
  readonly messageId: string;
  /** e.g. `message.delivered`, `message.rejected`, `message.failed`, `notification.received`. */
  readonly event: string;
  readonly correlationId: string;
}

export type Lane = 'outbound' | 'webhook';
export type WorkOf<L extends Lane> = L extends 'outbound' ? OutboundWork : WebhookJob;

/** A delivered unit of work, to be settled exactly once. */
export interface Delivery<T> {
  readonly work: T;
  /** True when the broker says this may have been delivered before (after a crash or reconnect). */
  readonly redelivered: boolean;
  /** Done: removes it from the queue. */
  ack(): void;
  /** Gives it back to the queue (e.g. during shutdown). */
  requeue(): void;
}

export interface Broker {
  /** True while a connection and a confirm channel are open. */
  readonly connected: boolean;
  /** Messages waiting in the outbound and delay queues, as last sampled. */
  readonly backlog: number;
  /** Publishes persistently; resolves when the broker has confirmed it. @throws DavisError DAVIS_ERR_BROKER_UNAVAILABLE */
  publish<L extends Lane>(lane: L, work: WorkOf<L>): Promise<void>;
  /** Publishes into a delay queue; after `ms` it returns to its lane (and shard). Confirmed. */
  delay<L extends Lane>(lane: L, work: WorkOf<L>, ms: number): Promise<void>;
  /** Parks a message that exhausted its attempts, with the reason. Confirmed. */
  park(work: OutboundWork, reason: string): Promise<void>;
  /** Starts consuming a lane; outbound: one delivery at a time per shard. Survives reconnects. */
  consume<L extends Lane>(lane: L, handler: (d: Delivery<WorkOf<L>>) => Promise<void>): Promise<void>;
  /** Stops taking new deliveries of a lane for now (in-flight ones finish); `resume` starts again. */
  pause(lane: Lane): Promise<void>;
  resume(lane: Lane): Promise<void>;
  /** Stops consuming every lane and waits for in-flight handlers. */
  stopConsuming(): Promise<void>;
  close(): Promise<void>;
}
