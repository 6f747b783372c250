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
  /** The journaled message this work is about; the journal holds its wire XML. */
  readonly messageId: string;
  /** Catalogue id of the message type. */
  readonly type: string;
  /** Messages with the same key go to the same shard. */
  readonly orderingKey: string;
  /** Correlation id of the request that created it, for the log lines of every attempt. */
  readonly correlationId: string;
  /** The staff member who acted (`X-Davis-Staff`), for the message's audit record when it settles. */
  readonly staff?: string;
}

/** A callback to UMA about one message. */
export interface WebhookJob {
  /** The message the callback is about. */
  readonly messageId: string;
  /** e.g. `message.delivered`, `message.rejected`, `message.failed`, `notification.received`. */
  readonly event: string;
  /** Correlation id of the request (or notification) that led to the callback. */
  readonly correlationId: string;
}

/** A lane of work: `outbound` to central, `webhook` to UMA. */
export type Lane = 'outbound' | 'webhook';
/** The work item a lane carries. */
export type WorkOf<L extends Lane> = L extends 'outbound' ? OutboundWork : WebhookJob;

/** A delivered unit of work, to be settled exactly once. */
export interface Delivery<T> {
  /** The work item, as published. */
  readonly work: T;
  /** True when the broker says this may have been delivered before (after a crash or reconnect). */
  readonly redelivered: boolean;
  /** Done: removes it from the queue. */
  ack(): void;
  /**
   * Gives it back to the queue (e.g. during shutdown), to be delivered again with `redelivered`
   * set. Quorum queues may put it before or behind what is already waiting in its shard, so the
   * queue alone does not keep order: the dispatcher's journal check does. A second settle is ignored.
   */
  requeue(): void;
}

/**
 * The broker the use cases see. Every publish is persistent and resolves only once the broker
 * has confirmed it, so a caller that got `resolve` may answer its client: the work survives a
 * crash. A delivery that is neither acked nor requeued when its consumer's connection ends is
 * delivered again (`redelivered`). A handler that throws has its delivery requeued after
 * {@link HANDLER_RETRY_MS}.
 */
export interface Broker {
  /** True while a connection and a confirm channel are open. */
  readonly connected: boolean;
  /**
   * Messages waiting in the outbound and delay queues (not those being handled), as last
   * sampled: ingest refuses new work above a limit, so a slow sample only delays that refusal.
   */
  readonly backlog: number;
  /** Publishes persistently; resolves when the broker has confirmed it. @throws DavisError DAVIS_ERR_BROKER_UNAVAILABLE */
  publish<L extends Lane>(lane: L, work: WorkOf<L>): Promise<void>;
  /**
   * Publishes into a delay queue; after `ms` it returns to the tail of its lane (and shard), so a
   * retry frees the shard for other work meanwhile. Confirmed. @throws DavisError DAVIS_ERR_BROKER_UNAVAILABLE
   */
  delay<L extends Lane>(lane: L, work: WorkOf<L>, ms: number): Promise<void>;
  /** Parks a message that exhausted its attempts, with the reason, where operators find it; nothing consumes it. Confirmed. @throws DavisError DAVIS_ERR_BROKER_UNAVAILABLE */
  park(work: OutboundWork, reason: string): Promise<void>;
  /**
   * Starts consuming a lane (one handler per lane; a second call replaces it). Outbound: one
   * delivery at a time per shard, and one active consumer per shard across every gateway sharing
   * the broker, so one application's messages are handled in order. Webhook: several at once.
   * Survives reconnects: consumption resumes by itself.
   */
  consume<L extends Lane>(lane: L, handler: (d: Delivery<WorkOf<L>>) => Promise<void>): Promise<void>;
  /** Stops taking new deliveries of a lane for now (in-flight ones finish); `resume` starts again. */
  pause(lane: Lane): Promise<void>;
  /** Starts delivering a paused lane again; a lane that is not paused is left as it is. */
  resume(lane: Lane): Promise<void>;
  /** Stops consuming every lane and waits for in-flight handlers. */
  stopConsuming(): Promise<void>;
  /** Stops consuming, waits for in-flight handlers and disconnects; `connected` is false after it and publishes reject. */
  close(): Promise<void>;
}

/**
 * How long a delivery whose handler threw waits before it is requeued, ms, in every adapter:
 * a handler failing on a dependency that is down must not spin through the delivery limit.
 */
export const HANDLER_RETRY_MS = 1000;

/**
 * Delay levels, ms, shared by every adapter: a delay goes to the smallest level ≥ it, with the
 * exact delay as the message's expiration.
 */
export const DELAY_LEVELS_MS: readonly number[] = [250, 500, 1000, 2000, 4000, 8000, 16000, 32000, 64000, 128000, 256000, 512000];

/** The shard of an ordering key (FNV-1a 32-bit: stable and cheap), the same in every adapter and instance. */
export function shardOf(key: string, shards: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % shards;
}
