import type { Logger } from 'pino';
import { DavisError, isDavisError } from '../errors/errors';
import { TERMINAL_STATES, type Journal } from '../journal/journal';
import type { Broker, Delivery } from '../queue/queue';
import type { CentralAnswer } from '../wire/types';
import type { CentralClient } from './central-client';

/** Options of the dispatcher. */
export interface DispatcherOptions {
  readonly journal: Journal;
  readonly broker: Broker;
  readonly central: CentralClient;
  /** Verifies central's signed answer and maps it; throws DavisError on anything unverifiable. */
  readonly readAnswer: (xml: string) => CentralAnswer;
  readonly logger: Logger;
  /** Attempts before `failed`. @default 5 */
  readonly maxAttempts: number;
  /** First retry delay, ms, doubled per attempt with full jitter. @default 500 */
  readonly retryBaseMs: number;
  /** Longest retry delay, ms. @default 30000 */
  readonly retryMaxMs?: number;
}

/**
 * Consumes outbound work, sends it to central, verifies and records the answer, and acks
 * only after the journal holds the outcome. A redelivered message whose outcome is already
 * journaled is acked without being sent again; central is idempotent on the message id
 * for the rare case in between (sent, answer not yet journaled).
 */
export class Dispatcher {
  private stopping = false;
  private readonly wakeups = new Set<() => void>();

  constructor(private readonly opts: DispatcherOptions) {}

  async start(): Promise<void> {
    await this.opts.broker.consume((d) => this.handle(d));
  }

  /** Stops taking work; a message waiting between attempts goes back to its queue. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const wake of this.wakeups) wake();
    await this.opts.broker.stopConsuming();
  }

  /** Handles one delivery; exported for tests. */
  async handle(d: Delivery): Promise<void> {
    const { journal, logger } = this.opts;
    const id = d.work.messageId;
    const log = logger.child({ messageId: id, correlationId: d.work.correlationId });
    const rec = await journal.get(id);
    if (!rec) {
      log.error('work item for a message the journal does not know; dropped');
      d.ack();
      return;
    }
    if (TERMINAL_STATES.has(rec.state)) {
      log.info({ state: rec.state }, 'already settled; not sent again');
      d.ack();
      return;
    }
    const xml = await journal.getWireXml(id);
    if (xml === undefined) {
      d.ack();
      return;
    }
    // Ingest marks `queued` after the confirm; this delivery may overtake it.
    if (rec.state === 'accepted') await journal.transitionFrom(id, 'accepted', 'queued');
    let attempt = rec.attempts;
    while (!this.stopping) {
      attempt++;
      await journal.transition(id, 'sending', { attempt });
      try {
        const res = await this.opts.central.send(xml, id);
        if (res.status >= 500 || res.status === 429) {
          throw new DavisError('DAVIS_ERR_CENTRAL_TRANSPORT', `central answered HTTP ${res.status}`);
        }
        let answer: CentralAnswer;
        try {
          answer = this.opts.readAnswer(res.body);
        } catch (err) {
          throw new DavisError('DAVIS_ERR_CENTRAL_ANSWER', `central answer refused: ${isDavisError(err) ? err.code : 'unreadable'}`, { cause: err });
        }
        if (answer.inReplyTo !== id) {
          throw new DavisError('DAVIS_ERR_CENTRAL_ANSWER', 'central answer is for another message');
        }
        const state = await journal.recordAnswer(id, answer, res.body);
        log.info({ state, attempt, centralCode: answer.code }, 'central answered');
        d.ack();
        return;
      } catch (err) {
        const code = isDavisError(err) ? (err.cause && isDavisError(err.cause) ? err.cause.code : err.code) : 'DAVIS_ERR_INTERNAL';
        const detail = isDavisError(err) ? `${code}: ${err.message}` : code;
        if (attempt >= this.opts.maxAttempts) {
          await journal.transition(id, 'failed', { attempt, detail });
          await this.opts.broker.park(d.work, detail);
          log.error({ attempt, code }, 'delivery failed; parked');
          d.ack();
          return;
        }
        await journal.transition(id, 'retrying', { attempt, detail });
        log.warn({ attempt, code }, 'delivery attempt failed; will retry');
        await this.sleep(this.backoff(attempt));
      }
    }
    d.requeue();
  }

  private backoff(attempt: number): number {
    const cap = Math.min(this.opts.retryMaxMs ?? 30000, this.opts.retryBaseMs * 2 ** (attempt - 1));
    return cap / 2 + Math.random() * (cap / 2);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => { clearTimeout(t); this.wakeups.delete(done); resolve(); };
      const t = setTimeout(done, ms);
      this.wakeups.add(done);
    });
  }
}
