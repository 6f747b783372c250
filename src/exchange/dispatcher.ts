import type { Logger } from 'pino';
import type { Config } from '../config/config';
import { DavisError, isDavisError, isTransportError, reachesAtLeast } from '../errors/errors';
import { TERMINAL_STATES, type Journal, type MessageState, type WaitingMessage } from '../journal/journal';
import type { Broker, Delivery, OutboundWork } from '../queue/queue';
import type { CentralAnswer } from '../wire/types';
import type { CentralClient } from '../central/central';
import { backoffDelay } from './backoff';
import { CircuitBreaker } from './circuit-breaker';
import type { Webhooks } from './uma-webhooks';
import type { Metrics } from '../ops/metrics';
import type { AuditLog } from '../audit/audit';
import { sendEvent } from '../audit/records';
import { getType } from '../catalogue/catalogue';
import { parseRequestXml } from '../wire/envelope';
import { sha256Hex } from '../util/sha256';

/** The `central` configuration keys the dispatcher follows (see `src/config/schema.ts`). */
export type DispatcherPolicy = Pick<Config['central'], 'maxAttempts' | 'maxAgeMs' | 'retryBaseMs' | 'retryMaxMs' | 'breakerThreshold' | 'breakerCooldownMs'>;

/** Options of the dispatcher: its ports, and the delivery policy from the `central` section. */
export interface DispatcherOptions extends DispatcherPolicy {
  readonly journal: Journal;
  readonly broker: Broker;
  readonly central: CentralClient;
  readonly webhooks: Webhooks;
  /** Verifies central's signed answer and maps it; throws DavisError on anything unverifiable. */
  readonly readAnswer: (xml: string) => CentralAnswer | Promise<CentralAnswer>;
  readonly logger: Logger;
  readonly metrics?: Metrics;
  /**
   * The Art 34 record: one `message.send` each time a message settles (delivered, rejected,
   * failed), written before the delivery is acked. Absent: no records (unit tests and the
   * bench's baseline only).
   */
  readonly audit?: AuditLog;
}

/**
 * Consumes outbound work, sends it to central, verifies and records the answer, and acks
 * only after the journal holds the outcome.
 *
 * - Order: a message is sent only when every message accepted earlier with the same ordering
 *   key is settled (the journal knows). Otherwise the journal marks it waiting and the delivery
 *   is acked; when the message before it settles, the dispatcher publishes the waiting one
 *   again before acking its own delivery (so a crash in between repeats the wake), and the
 *   outbox relay publishes any whose wake was lost. A backlog behind a retrying message thus
 *   costs nothing while it waits, and is released in order, one message per settlement.
 * - Retries: a transient failure puts the message in a delay queue (exponential backoff with
 *   jitter) and frees the shard for other applications; attempts and the next attempt time
 *   are journaled. After `maxAttempts` or `maxAgeMs` it is `failed` and parked.
 * - A redelivered message whose outcome is journaled is acked without being sent again;
 *   central is idempotent on the message id for the case in between.
 * - A circuit breaker pauses consumption while central is unreachable.
 */
export class Dispatcher {
  readonly breaker: CircuitBreaker;

  constructor(private readonly opts: DispatcherOptions) {
    this.breaker = new CircuitBreaker({
      threshold: opts.breakerThreshold, cooldownMs: opts.breakerCooldownMs, maxCooldownMs: 30000,
      probe: () => opts.central.probe(), logger: opts.logger,
    });
    this.breaker.on('open', () => { void opts.broker.pause('outbound'); });
    this.breaker.on('close', () => { void opts.broker.resume('outbound'); });
  }

  async start(): Promise<void> {
    await this.opts.broker.consume('outbound', (d) => this.handle(d));
  }

  /** Stops taking work and waits for the messages being sent. */
  async stop(): Promise<void> {
    this.breaker.stop();
    await this.opts.broker.pause('outbound');
  }

  /** Deliveries being handled, by message id: a copy waits for the one before it. */
  private readonly handling = new Map<string, Promise<void>>();

  /**
   * Handles one delivery; exported for tests. A shard has several deliveries in flight
   * (`amqp.outboundPrefetch`), and a message published twice (by the outbox relay and a late
   * confirm, by a wake and a redelivery) can be two of them: the second copy is handled after
   * the first settles, so it finds the outcome journaled and is acked without a second send,
   * record or callback.
   */
  async handle(d: Delivery<OutboundWork>): Promise<void> {
    const id = d.work.messageId;
    const before = this.handling.get(id);
    const run = before ? before.then(() => this.handleOne(d), () => this.handleOne(d)) : this.handleOne(d);
    this.handling.set(id, run);
    try {
      await run;
    } finally {
      if (this.handling.get(id) === run) this.handling.delete(id);
    }
  }

  private async handleOne(d: Delivery<OutboundWork>): Promise<void> {
    const { journal, broker, logger } = this.opts;
    const id = d.work.messageId;
    const log = logger.child({ messageId: id, correlationId: d.work.correlationId });
    const rec = await journal.get(id);
    if (!rec) {
      log.error('work item for a message the journal does not know; dropped');
      d.ack();
      return;
    }
    if (TERMINAL_STATES.has(rec.state)) {
      // A crash between the journal write and the audit record leaves the settlement unrecorded: record it now.
      await this.auditMissing(rec.id, rec.events.filter((e) => TERMINAL_STATES.has(e.state)).length, rec.state, d.work);
      // Likewise a crash before the next message of the application was woken.
      await this.wakeNext(id);
      d.ack();
      return;
    }
    // Ingest marks `queued` after the confirm; this delivery may overtake it.
    if (rec.state === 'accepted') await journal.transitionFrom(id, 'accepted', 'queued');
    if (this.breaker.state === 'open') {
      await broker.delay('outbound', d.work, this.opts.breakerCooldownMs);
      d.ack();
      return;
    }
    if (await journal.waitForPredecessor(id)) {
      log.debug('waiting for an earlier message of the same application');
      d.ack();
      return;
    }
    if (Date.now() - Date.parse(rec.createdAt) > this.opts.maxAgeMs) {
      await this.fail(d, rec.attempts, `DAVIS_ERR_CENTRAL_TRANSPORT: not delivered within ${this.opts.maxAgeMs} ms`, log);
      return;
    }
    const xml = await journal.getWireXml(id);
    const attempt = rec.attempts + 1;
    await journal.transition(id, 'sending', { attempt });
    let exchange: { answer: CentralAnswer; body: string };
    try {
      exchange = await this.exchange(xml!, id);
    } catch (err) {
      // Only a transport failure is retried; anything else is a fault here, and the delivery goes back to its queue.
      if (!isTransportError(err)) throw err;
      await this.retryLater(d, attempt, err, log);
      return;
    }
    const { answer, body } = exchange;
    const state = await journal.recordAnswer(id, answer, body);
    await this.auditSettled(d.work, state, { clientId: rec.clientId, xml: xml! });
    log.info({ state, attempt, centralCode: answer.code }, 'central answered');
    this.opts.metrics?.outcomes.inc({ outcome: state });
    this.opts.metrics?.deliverySeconds.observe({ type: rec.type, state }, (Date.now() - Date.parse(rec.createdAt)) / 1000);
    await this.opts.webhooks.enqueue(id, `message.${state}`, d.work.correlationId);
    await this.wakeNext(id);
    d.ack();
  }

  /**
   * Publishes the next message of the same application if it is waiting for this one (see
   * `Journal.waitForPredecessor`), then clears its mark: publish first, so a crash in between
   * leaves the mark for the relay rather than a message nobody publishes.
   */
  private async wakeNext(id: string): Promise<void> {
    const next = await this.opts.journal.nextWaiting(id);
    if (!next) return;
    await this.opts.broker.publish('outbound', workOfWaiting(next));
    await this.opts.journal.clearWaiting(next.id, next.waitingSince);
  }

  /**
   * One round trip to central: send, check the HTTP status, verify and map the answer.
   *
   * @throws DavisError with a severity: `connection` when central cannot be reached or
   *   answers 5xx/429 (counts towards the circuit breaker), `message` when its answer is refused
   */
  private async exchange(xml: string, id: string): Promise<{ answer: CentralAnswer; body: string }> {
    const started = performance.now();
    let res;
    try {
      res = await this.opts.central.send(xml, id).finally(() => this.opts.metrics?.centralSeconds.observe((performance.now() - started) / 1000));
      if (res.status >= 500 || res.status === 429) {
        throw new DavisError('DAVIS_ERR_CENTRAL_TRANSPORT', { reason: `HTTP ${res.status}` });
      }
    } catch (err) {
      if (reachesAtLeast(err, 'connection')) this.breaker.failure();
      throw err;
    }
    this.breaker.success();
    let answer: CentralAnswer;
    try {
      answer = await this.opts.readAnswer(res.body);
    } catch (err) {
      throw new DavisError('DAVIS_ERR_CENTRAL_ANSWER', { reason: isDavisError(err) ? err.code : 'unreadable' }, { cause: err });
    }
    if (answer.inReplyTo !== id) throw new DavisError('DAVIS_ERR_CENTRAL_ANSWER', { reason: 'the answer is for another message' });
    return { answer, body: res.body };
  }

  /** The `message.send` record of a settlement, its categories read from the signed XML as sent. */
  private async auditSettled(work: OutboundWork, outcome: string, known: { clientId?: string; xml?: string } = {}): Promise<void> {
    const audit = this.opts.audit;
    if (!audit) return;
    const spec = getType(work.type);
    const wire = known.xml ?? await this.opts.journal.getWireXml(work.messageId);
    const clientId = known.clientId ?? (await this.opts.journal.get(work.messageId))?.clientId;
    if (!spec || wire === undefined || clientId === undefined) return;
    await audit.record(sendEvent({ spec, messageId: work.messageId, payload: parseRequestXml(wire).payload, contentDigest: sha256Hex(wire) },
      { clientId, staff: work.staff, correlationId: work.correlationId }, outcome));
  }

  /** Records the last settlement when the log holds fewer `message.send` records of this message than it settled. */
  private async auditMissing(id: string, settlements: number, state: MessageState, work: OutboundWork): Promise<void> {
    if (!this.opts.audit || state === 'refused') return;
    const sent = await this.opts.audit.list({ messageId: id, operation: 'message.send', limit: 1000 });
    if (sent.length < settlements) await this.auditSettled(work, state);
  }

  /** A failed attempt: into a delay queue with backoff, or `failed` and parked once attempts are spent. */
  private async retryLater(d: Delivery<OutboundWork>, attempt: number, err: DavisError, log: Logger): Promise<void> {
    const { journal, broker } = this.opts;
    const id = d.work.messageId;
    const cause = err.cause && isDavisError(err.cause) ? `${err.cause.code}` : undefined;
    const detail = `${err.code}: ${cause ?? err.message}`;
    if (attempt >= this.opts.maxAttempts) {
      await this.fail(d, attempt, detail, log);
      return;
    }
    this.opts.metrics?.outcomes.inc({ outcome: 'retry', code: err.code });
    const wait = backoffDelay(attempt, { baseMs: this.opts.retryBaseMs, maxMs: this.opts.retryMaxMs });
    await journal.transition(id, 'retrying', { attempt, detail, nextAttemptAt: new Date(Date.now() + wait).toISOString() });
    await broker.delay('outbound', d.work, wait);
    log.warn({ attempt, code: err.code, ...(cause !== undefined ? { cause } : {}), severity: err.severity, waitMs: Math.round(wait) }, 'delivery attempt failed; will retry');
    d.ack();
  }

  private async fail(d: Delivery<OutboundWork>, attempt: number, detail: string, log: Logger): Promise<void> {
    const state: MessageState = 'failed';
    await this.opts.journal.transition(d.work.messageId, state, { attempt, detail });
    await this.auditSettled(d.work, state);
    await this.opts.broker.park(d.work, detail);
    log.error({ attempt }, 'delivery failed; parked');
    this.opts.metrics?.outcomes.inc({ outcome: 'failed' });
    await this.opts.webhooks.enqueue(d.work.messageId, 'message.failed', d.work.correlationId);
    await this.wakeNext(d.work.messageId);
    d.ack();
  }
}

/** The work item of a message published again after waiting. */
export function workOfWaiting(m: WaitingMessage): OutboundWork {
  return { messageId: m.id, type: m.type, orderingKey: m.orderingKey, correlationId: m.correlationId, ...(m.staff !== undefined ? { staff: m.staff } : {}) };
}
