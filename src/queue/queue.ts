/**
 * The broker port. The core publishes outbound work and consumes it through these
 * interfaces; the amqplib adapter is the only file that knows AMQP.
 */

/** One unit of outbound work. */
export interface OutboundWork {
  readonly messageId: string;
  readonly type: string;
  /** Messages with the same key go to the same shard and are consumed in order. */
  readonly orderingKey: string;
  readonly correlationId: string;
}

/** A delivered unit of work, to be settled exactly once. */
export interface Delivery {
  readonly work: OutboundWork;
  /** True when the broker says this may have been delivered before (after a crash or reconnect). */
  readonly redelivered: boolean;
  /** Done: removes it from the queue. */
  ack(): void;
  /** Give it back to the queue (e.g. during shutdown); it is redelivered in order. */
  requeue(): void;
}

export interface Broker {
  /** True while a connection and a confirm channel are open. */
  readonly connected: boolean;
  /** Publishes persistently; resolves when the broker has confirmed it. @throws DavisError DAVIS_ERR_BROKER_UNAVAILABLE */
  publish(work: OutboundWork): Promise<void>;
  /** Parks a message that exhausted its attempts, with the reason. */
  park(work: OutboundWork, reason: string): Promise<void>;
  /** Starts consuming every shard; one delivery at a time per shard. Survives reconnects. */
  consume(handler: (d: Delivery) => Promise<void>): Promise<void>;
  /** Stops consuming (in-flight handlers finish); publishing still works. */
  stopConsuming(): Promise<void>;
  /** Closes cleanly. */
  close(): Promise<void>;
}
