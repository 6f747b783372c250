import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { getType, isInbound } from '../catalogue/catalogue';
import { DavisError, isDavisError, reasonOf } from '../errors/errors';
import type { Journal, MessageRecord } from '../journal/journal';
import type { Webhooks } from './uma-webhooks';
import type { SigningKey, TrustStore } from '../signing/types';
import type { CentralIdentity } from '../signing/central-identity';
import { signCanonical } from '../signing/xmldsig';
import { validatePayload } from '../validation/validate';
import { buildResponseXml } from '../wire/envelope';
import { readRequest } from '../wire/read-wire';
import type { XsdValidator } from '../wire/xsd';
import { getPointer } from '../util/json-pointer';
import { sha256Hex } from '../util/sha256';
import type { AuditLog } from '../audit/audit';
import { receiveEvent } from '../audit/records';

/** Options of the inbound (central → national) service. */
export interface InboundOptions {
  readonly journal: Journal;
  readonly webhooks: Webhooks;
  /** Anchors central's signatures must chain to (a function: they reload). */
  readonly trust: () => TrustStore;
  /**
   * Central's pinned identity: the signer must be central, not merely chain to its anchors
   * (whose `trust()` then replaces `trust`).
   */
  readonly central?: CentralIdentity;
  /** The gateway's key, to sign its acknowledgement. */
  readonly signingKey: () => SigningKey;
  readonly xsd: XsdValidator;
  readonly logger: Logger;
  /** The Art 34 record: one `notification.receive` per notification journaled (a repeat adds none). Absent: no records (unit tests). */
  readonly audit?: AuditLog;
}

/** What central gets back: a signed acknowledgement, and whether this was a repeat. */
export interface InboundResult {
  readonly record: MessageRecord;
  readonly ackXml: string;
  readonly repeat: boolean;
}

/**
 * Central → national notifications: screened, signature verified against central's trust
 * anchors, schema-validated, journaled (direction `inbound`, idempotent on the message id),
 * acknowledged with a signed answer, and handed to UMA by webhook.
 */
export class InboundService {
  constructor(private readonly opts: InboundOptions) {}

  /** Central's pinned identity, for the transport check of the notification endpoint. */
  get central(): CentralIdentity | undefined {
    return this.opts.central;
  }

  async receive(body: string, correlationId: string): Promise<InboundResult> {
    const { journal, logger } = this.opts;
    // One screen, one parse; the signature is verified on that tree and the payload mapped from it.
    const central = this.opts.central;
    const { header, payload, document, verified } = readRequest(body, { trust: central ? central.trust() : this.opts.trust(), xsd: this.opts.xsd });
    if (central && verified) {
      central.assertSigner(verified);
      await central.checkRevocation(verified);
    }
    const xml = document.source;
    if (!isInbound(header.type)) {
      throw new DavisError('DAVIS_ERR_CATALOGUE_UNKNOWN_TYPE', { type: header.type, reason: 'not a central notification type' }, {
        errors: [{ pointer: '/Request/Header/MessageType', message: 'not an inbound catalogue type' }],
      });
    }
    const errors = validatePayload(header.type, payload);
    if (errors.length) throw new DavisError('DAVIS_ERR_VALIDATION_FAILED', { count: errors.length }, { errors });

    const earlier = await journal.get(header.messageId);
    if (earlier) {
      if (earlier.direction !== 'inbound') throw new DavisError('DAVIS_ERR_VALIDATION_FAILED', { count: 1 }, { errors: [{ pointer: '/Request/Header/MessageId', message: 'already used by another message' }] });
      logger.info({ messageId: header.messageId, correlationId }, 'repeated notification; same acknowledgement');
      // The first receipt may have stopped between the journal and the audit log.
      const audit = this.opts.audit;
      const spec = getType(header.type);
      if (audit && spec && !(await audit.list({ messageId: header.messageId, operation: 'notification.receive', limit: 1 })).length) {
        await audit.record(receiveEvent({ spec, messageId: header.messageId, payload, contentDigest: sha256Hex(xml) }, correlationId));
      }
      return { record: earlier, ackXml: this.ack(header.messageId), repeat: true };
    }
    const spec = getType(header.type)!;
    const key = getPointer(payload, spec.orderingKey);
    try {
      await journal.insert({
        id: header.messageId, type: header.type, direction: 'inbound', orderingKey: typeof key === 'string' ? key : header.messageId,
        clientId: 'central', bodyHash: sha256Hex(xml), wireXml: xml, correlationId,
      });
      await journal.transition(header.messageId, 'delivered', { detail: 'received from central, signature verified' });
    } catch (err) {
      if (isDavisError(err)) throw err;
      throw new DavisError('DAVIS_ERR_JOURNAL_UNAVAILABLE', { action: 'write', reason: reasonOf(err) }, { cause: err });
    }
    await this.opts.audit?.record(receiveEvent({ spec, messageId: header.messageId, payload, contentDigest: sha256Hex(xml) }, correlationId));
    await this.opts.webhooks.enqueue(header.messageId, 'notification.received', correlationId);
    logger.info({ messageId: header.messageId, correlationId, type: header.type }, 'central notification received');
    return { record: (await journal.get(header.messageId))!, ackXml: this.ack(header.messageId), repeat: false };
  }

  private ack(inReplyTo: string): string {
    return signCanonical(buildResponseXml({
      responseId: randomUUID(), inReplyTo, result: 'ACCEPTED', code: 'OK', created: new Date().toISOString(),
    }), this.opts.signingKey());
  }
}
