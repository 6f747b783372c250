import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { getType } from '../catalogue/catalogue';
import { DavisError, isDavisError, reasonOf, type FieldError } from '../errors/errors';
import type { Journal, MessageRecord } from '../journal/journal';
import type { AuditLog } from '../audit/audit';
import { retryEvent, sendEvent } from '../audit/records';
import { sha256Hex } from '../util/sha256';
import type { Broker } from '../queue/queue';
import type { SigningKey } from '../signing/types';
import { signCanonicalAsync } from '../signing/xmldsig';
import { validatePayload } from '../validation/validate';
import { buildRequestXml } from '../wire/envelope';
import { escapePointerToken, getPointer } from '../util/json-pointer';

/** The authenticated sender of a request. */
export interface Client {
  readonly id: string;
  readonly roles: readonly string[];
  /** Dev clients and admins may send every type and read every message. */
  readonly all: boolean;
}

/** One submission as the HTTP layer hands it over. */
export interface Submission {
  readonly body: unknown;
  /** SHA-256 (hex) of the raw request body. */
  readonly bodyHash: string;
  readonly client: Client;
  readonly idempotencyKey?: string;
  readonly correlationId: string;
  /** The staff member who acted, as UMA reports it (`X-Davis-Staff`), carried to the message's audit record. */
  readonly staff?: string;
}

/** The answer to a submission: a fresh acceptance, or the replay of an earlier one. */
export interface Accepted {
  readonly record: MessageRecord;
  readonly replay: boolean;
}

/** Options of the ingest service. */
export interface IngestOptions {
  readonly journal: Journal;
  readonly broker: Broker;
  /** The current signing key (a function: the key can be reloaded without a restart). */
  readonly signingKey: () => SigningKey;
  readonly memberState: string;
  /** Backlog (outbound + delay queues) above which new messages get 503. */
  readonly maxBacklog: number;
  /** The broker's publisher-confirm timeout, ms: how long a request with a repeated key may wait for the first one's outcome. @default 5000 */
  readonly confirmWaitMs?: number;
  readonly logger: Logger;
  /**
   * The Art 34 record: a message refused at intake (503) gets its `message.send` record here,
   * an operator retry its `message.retry`; a message that reached the broker gets its
   * `message.send` from the dispatcher when it settles. Absent: no records (unit tests and
   * the bench's baseline only; the gateway always passes its log).
   */
  readonly audit?: AuditLog;
}

/**
 * Accepts a message: validates, builds and signs the wire XML, journals it, publishes it
 * and waits for the broker's confirm. Only then is it accepted. If the broker cannot take
 * it, the journaled message is marked `refused` (never sent) and the caller gets 503 —
 * unless the dispatcher already picked it up, in which case it is accepted after all.
 */
export class IngestService {
  constructor(private readonly opts: IngestOptions) {}

  async submit(sub: Submission): Promise<Accepted> {
    const { journal, broker } = this.opts;
    const { type, payload } = checkEnvelope(sub.body);
    if (sub.idempotencyKey !== undefined) {
      const earlier = await this.journalCall(() => journal.findByIdempotencyKey(sub.client.id, sub.idempotencyKey!));
      if (earlier) return this.replay(earlier, sub);
    }
    const spec = getType(type);
    if (!spec) {
      throw new DavisError('DAVIS_ERR_CATALOGUE_UNKNOWN_TYPE', { type, reason: 'not a catalogue message type (see davis catalogue)' }, {
        errors: [{ pointer: '/type', message: 'not a catalogue message type' }],
      });
    }
    if (spec.direction === 'inbound') {
      throw new DavisError('DAVIS_ERR_CATALOGUE_UNKNOWN_TYPE', { type, reason: 'a central notification; it cannot be sent to central' }, {
        errors: [{ pointer: '/type', message: 'an inbound (central → national) type' }],
      });
    }
    if (!sub.client.all && !spec.roles.some((r) => sub.client.roles.includes(r))) {
      throw new DavisError('DAVIS_ERR_AUTH_FORBIDDEN', { action: `send ${type}` });
    }
    const errors = validatePayload(type, payload).map((e): FieldError => ({ pointer: `/payload${e.pointer}`, message: e.message }));
    if (errors.length) throw new DavisError('DAVIS_ERR_VALIDATION_FAILED', { count: errors.length }, { errors });
    if (!broker.connected) throw new DavisError('DAVIS_ERR_BROKER_UNAVAILABLE', { reason: 'not connected' });
    if (broker.backlog > this.opts.maxBacklog) {
      throw new DavisError('DAVIS_ERR_QUEUE_FULL', { backlog: broker.backlog, limit: this.opts.maxBacklog });
    }

    const id = randomUUID();
    const orderingKey = String(getPointer(payload, spec.orderingKey) ?? id);
    const xml = buildRequestXml({ messageId: id, type, sender: this.opts.memberState, created: new Date().toISOString() }, payload);
    const signed = await signCanonicalAsync(xml, this.opts.signingKey());
    try {
      await this.journalCall(() => journal.insert({
        id, type, direction: 'outbound', orderingKey, clientId: sub.client.id,
        ...(sub.idempotencyKey !== undefined ? { idempotencyKey: sub.idempotencyKey } : {}),
        bodyHash: sub.bodyHash, wireXml: signed, correlationId: sub.correlationId,
        ...(sub.staff !== undefined ? { staff: sub.staff } : {}),
      }));
    } catch (err) {
      // Another request with this key (on this gateway or another) inserted first: the
      // journal's unique index refused this one. The winner's message is the answer.
      const winner = sub.idempotencyKey === undefined ? undefined
        : await journal.findByIdempotencyKey(sub.client.id, sub.idempotencyKey).catch(() => undefined);
      if (!winner) throw err;
      return this.replay(winner, sub);
    }
    try {
      await broker.publish('outbound', { messageId: id, type, orderingKey, correlationId: sub.correlationId, ...(sub.staff !== undefined ? { staff: sub.staff } : {}) });
    } catch (err) {
      const code = isDavisError(err) ? err.code : 'DAVIS_ERR_BROKER_UNAVAILABLE';
      const refused = await journal.transitionFrom(id, 'accepted', 'refused', { detail: code }).catch(() => false);
      if (refused) {
        this.opts.logger.warn({ messageId: id, correlationId: sub.correlationId, code }, 'broker did not confirm; message refused');
        await this.opts.audit?.record(sendEvent({ spec, messageId: id, payload, contentDigest: sha256Hex(signed) },
          { clientId: sub.client.id, staff: sub.staff, correlationId: sub.correlationId }, 'refused'));
        throw isDavisError(err) ? err : new DavisError('DAVIS_ERR_BROKER_UNAVAILABLE', { reason: reasonOf(err) }, { cause: err });
      }
      // The dispatcher already holds it: the broker had it after all.
    }
    // A journal that fails here (a pool exhausted, a database restarting) leaves a published,
    // journaled message: the 503 is retryable, and the retry with the same key answers it.
    await this.journalCall(() => journal.transitionFrom(id, 'accepted', 'queued'));
    this.opts.logger.info({ messageId: id, correlationId: sub.correlationId, type }, 'message accepted');
    const record = await this.journalCall(() => journal.get(id));
    if (!record) throw new DavisError('DAVIS_ERR_INTERNAL', { reason: 'journaled message vanished' });
    return { record, replay: false };
  }

  /**
   * The answer to a repeated key: the earlier message, once its own request has settled it.
   * A message still `accepted` is waiting for its broker confirm (two requests with one key
   * at the same moment): answering it now could promise a message that the next instant is
   * refused, so this waits for the confirm (up to twice `confirmWaitMs` after it was created); refused, the caller
   * gets the same retryable 503 as the first one did. Still `accepted` after that, it is
   * journaled and the outbox relay publishes it: accepted is the truth.
   */
  private async replay(earlier: MessageRecord, sub: Submission): Promise<Accepted> {
    if (earlier.bodyHash !== sub.bodyHash) throw new DavisError('DAVIS_ERR_IDEMPOTENCY_CONFLICT', {});
    let rec = earlier;
    // Only the first request's own wait: an older `accepted` message lost its request (a crash) and is the relay's.
    const until = Date.parse(rec.createdAt) + 2 * (this.opts.confirmWaitMs ?? 5000);
    while (rec.state === 'accepted' && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 25));
      rec = (await this.journalCall(() => this.opts.journal.get(rec.id))) ?? rec;
    }
    if (rec.state === 'refused') {
      throw new DavisError('DAVIS_ERR_BROKER_UNAVAILABLE', { reason: `the first request with this key was refused (${rec.lastError ?? 'broker'})` });
    }
    return { record: rec, replay: true };
  }

  /** Operator retry of a `failed` message: back to `queued` with fresh attempts, published again. */
  async retry(id: string, client: Client, actor: { staff?: string; correlationId?: string; reason?: string } = {}): Promise<MessageRecord> {
    const rec = await this.opts.journal.get(id);
    const operator = client.all || client.roles.includes('operator');
    if (!rec || (!operator && rec.clientId !== client.id)) throw new DavisError('DAVIS_ERR_NOT_FOUND', { what: 'message' });
    const audited = async (outcome: string): Promise<void> => {
      await this.opts.audit?.record(retryEvent(getType(rec.type), id, { clientId: client.id, ...actor }, outcome));
    };
    try {
      if (!operator) throw new DavisError('DAVIS_ERR_AUTH_FORBIDDEN', { action: 'retry a failed message (for operators)' });
      if (!this.opts.broker.connected) throw new DavisError('DAVIS_ERR_BROKER_UNAVAILABLE', { reason: 'not connected' });
      if (!(await this.opts.journal.requeueFailed(id, `operator retry by ${client.id}${actor.reason ? `: ${actor.reason}` : ''}`))) {
        throw new DavisError('DAVIS_ERR_MESSAGE_STATE', { state: rec.state });
      }
    } catch (err) {
      await audited(isDavisError(err) ? err.code : 'DAVIS_ERR_INTERNAL');
      throw err;
    }
    await this.opts.broker.publish('outbound', {
      messageId: id, type: rec.type, orderingKey: rec.orderingKey, correlationId: rec.correlationId, ...(actor.staff !== undefined ? { staff: actor.staff } : {}),
    });
    await audited('ok');
    this.opts.logger.info({ messageId: id, by: client.id }, 'failed message re-queued by an operator');
    return (await this.opts.journal.get(id))!;
  }

  private async journalCall<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (isDavisError(err)) throw err;
      throw new DavisError('DAVIS_ERR_JOURNAL_UNAVAILABLE', { action: 'write', reason: reasonOf(err) }, { cause: err });
    }
  }
}

/** Checks the body is `{ type: string, payload: object }` and nothing else. */
export function checkEnvelope(body: unknown): { type: string; payload: Record<string, unknown> } {
  const errors: FieldError[] = [];
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    throw new DavisError('DAVIS_ERR_VALIDATION_FAILED', { count: 1 }, { errors: [{ pointer: '', message: 'must be an object with "type" and "payload"' }] });
  }
  const b = body as Record<string, unknown>;
  if (typeof b.type !== 'string' || b.type.length === 0) errors.push({ pointer: '/type', message: 'must be a catalogue message type id' });
  if (!b.payload || typeof b.payload !== 'object' || Array.isArray(b.payload)) errors.push({ pointer: '/payload', message: 'must be an object' });
  for (const k of Object.keys(b)) if (k !== 'type' && k !== 'payload') errors.push({ pointer: `/${escapePointerToken(k)}`, message: 'unknown property' });
  if (errors.length) throw new DavisError('DAVIS_ERR_VALIDATION_FAILED', { count: errors.length }, { errors });
  return { type: b.type as string, payload: b.payload as Record<string, unknown> };
}
