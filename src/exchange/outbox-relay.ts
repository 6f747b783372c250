import type { Logger } from 'pino';
import type { Journal } from '../journal/journal';
import type { Broker } from '../queue/queue';
import { workOfWaiting } from './dispatcher';

/** Most waiting messages one relay pass publishes again. */
const STRANDED_BATCH = 1000;

/**
 * The outbox relay: a message journaled as `accepted` whose publish was never confirmed
 * (the process died between the journal write and the broker's confirm) is published on the
 * next start and then periodically. Only messages older than `graceMs` are taken, so a
 * request still waiting for its confirm is left to finish.
 *
 * Several gateways on one journal each run a relay: a pass claims the messages it takes for
 * `leaseMs` (see `Journal.unpublished`), so two relays never publish the same message at the
 * same time. What a pass claimed and could not publish (the broker went away) is released for
 * the next pass; a relay that died leaves its claims to expire with the lease.
 */
export class OutboxRelay {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;

  constructor(private readonly opts: {
    journal: Journal; broker: Broker; logger: Logger; intervalMs: number; graceMs: number;
    /** How long a pass holds the messages it claimed, ms. @default 30000 */
    leaseMs?: number;
  }) {}

  start(): void {
    void this.runOnce();
    this.timer = setInterval(() => { void this.runOnce(); }, this.opts.intervalMs);
    this.timer.unref();
  }

  /** One pass; resolves with the number of messages published. */
  async runOnce(): Promise<number> {
    if (this.running) return 0;
    let count = 0;
    this.running = (async () => {
      const { journal, broker, logger } = this.opts;
      if (!broker.connected) return;
      const ids = await journal.unpublished(new Date(Date.now() - this.opts.graceMs).toISOString(), this.opts.leaseMs ?? 30_000);
      let next = 0;
      try {
        for (; next < ids.length; next++) {
          const id = ids[next];
          const rec = await journal.get(id);
          if (!rec || rec.state !== 'accepted') continue;
          await broker.publish('outbound', {
            messageId: id, type: rec.type, orderingKey: rec.orderingKey, correlationId: rec.correlationId, ...(rec.staff !== undefined ? { staff: rec.staff } : {}),
          });
          await journal.transitionFrom(id, 'accepted', 'queued', { detail: 'published by the outbox relay' });
          count++;
        }
      } catch (err) {
        // What this pass did not publish is free for the next pass (here or on another gateway) at once.
        await journal.releaseUnpublished(ids.slice(next)).catch(() => undefined);
        throw err;
      }
      if (count) logger.warn({ count }, 'outbox relay published journaled messages whose confirm was missing');
      // Messages waiting for a predecessor that settled without waking them (a crash, or two
      // gateways racing): published again, in order. A duplicate wake is harmless: the
      // dispatcher acks a delivery of a message that is settled or still has to wait.
      const stranded = await journal.strandedWaiting(new Date(Date.now() - this.opts.graceMs).toISOString(), STRANDED_BATCH);
      for (const m of stranded) {
        await broker.publish('outbound', workOfWaiting(m));
        await journal.clearWaiting(m.id, m.waitingSince);
      }
      if (stranded.length) logger.warn({ count: stranded.length }, 'outbox relay published messages left waiting for a settled predecessor');
      count += stranded.length;
    })().catch((err) => {
      this.opts.logger.warn({ err: { message: (err as Error).message } }, 'outbox relay pass failed; will try again');
    }).finally(() => { this.running = undefined; });
    await this.running;
    return count;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }
}
