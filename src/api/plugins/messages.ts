import { sha256Hex } from '../../util/sha256';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { DavisError } from '../../errors/errors';
import { MESSAGE_STATES, type Journal, type MessageRecord, type MessageState } from '../../journal/journal';
import type { Client, IngestService } from '../../exchange/submit';
import { parseRequestXml } from '../../wire/envelope';
import { readRequest } from '../../wire/read-wire';
import type { XsdValidator } from '../../wire/xsd';
import { statusDocument } from '../../exchange/message-status';
import { clientOf, isObserver, isOperator } from './auth';
import { rawBodyHash, XmlBody } from '../body';
import type { AuditLog } from '../../audit/audit';
import { readEvent, staffOf } from '../../audit/records';
import { getType } from '../../catalogue/catalogue';

export interface MessagesOptions {
  readonly ingest: IngestService;
  readonly journal: Journal;
  /** The wire XSD, for XML bodies. */
  readonly xsd: XsdValidator;
  /** The Art 34 record of reading central data (`message.read`). Absent: no records (unit tests). */
  readonly audit?: AuditLog;
}


/** Largest page `GET /v1/messages` gives (what the journals serve). */
export const MAX_PAGE = 1000;

/**
 * The list query. A repeated parameter, an unknown one, a limit outside 1..MAX_PAGE or a cursor
 * the journal did not write is 422: never clamped, dropped or read as "no filter".
 */
export const LIST_QUERY = {
  type: 'object',
  additionalProperties: false,
  properties: {
    type: { type: 'string', minLength: 1, maxLength: 200 },
    status: { type: 'string', enum: [...MESSAGE_STATES] },
    direction: { type: 'string', enum: ['inbound', 'outbound'] },
    from: { type: 'string', anyOf: [{ format: 'date-time' }, { format: 'date' }] },
    to: { type: 'string', anyOf: [{ format: 'date-time' }, { format: 'date' }] },
    limit: { type: 'integer', minimum: 1, maximum: MAX_PAGE },
    cursor: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,512}$' },
    orderingKey: { type: 'string', minLength: 1, maxLength: 200, description: 'The ordering key (application number), exactly.' },
    correlationId: { type: 'string', minLength: 1, maxLength: 200, description: 'Correlation id of the request that created the message, exactly.' },
    centralReference: { type: 'string', minLength: 1, maxLength: 200, description: 'Central\'s reference in its answer, exactly; a page may hold fewer matches than `limit` and still give `next`.' },
  },
} as const;

/** `GET /v1/messages/:id/wire`: which signed document. */
export const WIRE_QUERY = {
  type: 'object', additionalProperties: false,
  properties: { part: { type: 'string', enum: ['request', 'answer'], description: 'The signed request as sent, or central\'s signed answer as received. @default request' } },
} as const;

interface ListQuery {
  type?: string; status?: MessageState; direction?: 'inbound' | 'outbound';
  from?: string; to?: string; limit?: number; cursor?: string;
  orderingKey?: string; correlationId?: string; centralReference?: string;
}

/**
 * Schemas of this group compile with an Ajv of its own: fastify's default coerces a repeated
 * query parameter to its first value (`coerceTypes: 'array'`) and silently removes unknown ones.
 */
function strictAjv(): Ajv {
  const ajv = new Ajv({ coerceTypes: true, allErrors: true, removeAdditional: false, useDefaults: false });
  addFormats(ajv, ['date-time', 'date']);
  return ajv;
}

/** Whether a cursor decodes to what the journals encode (`createdAt|id`, see `encodeCursor`). */
export function isJournalCursor(cursor: string): boolean {
  const s = Buffer.from(cursor, 'base64url').toString('utf8');
  return Buffer.from(s).toString('base64url') === cursor
    && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z\|[^|\s]{1,200}$/.test(s)
    && !Number.isNaN(Date.parse(s.slice(0, s.indexOf('|'))));
}

async function messages(app: FastifyInstance, deps: MessagesOptions): Promise<void> {
  // onRequest runs before the content-type parsers: no byte of the body is read for an unknown client.
  app.addHook('onRequest', app.authenticate);
  const ajv = strictAjv();
  app.setValidatorCompiler(({ schema }) => ajv.compile(schema));

  app.post('/v1/messages', async (req, reply) => {
    const key = req.headers['idempotency-key'];
    if (key !== undefined && (typeof key !== 'string' || !/^[\x21-\x7e]{1,200}$/.test(key))) {
      throw new DavisError('DAVIS_ERR_VALIDATION_FAILED', 'Idempotency-Key must be 1-200 visible ASCII characters', {
        errors: [{ pointer: '/headers/idempotency-key', message: 'invalid' }],
      });
    }
    // A wire-format XML body (application/xml) is screened, checked against the XSD and mapped
    // to the same {type, payload} as JSON; the gateway still assigns the id and signs.
    // The XML content-type parser alone makes an XmlBody: a JSON string is a JSON string.
    const staff = staffOf(req.headers['x-davis-staff']);
    const body = req.body instanceof XmlBody ? wireToEnvelope(req.body.text, deps.xsd) : req.body;
    const result = await deps.ingest.submit({
      body,
      bodyHash: rawBodyHash(req) ?? sha256Hex(JSON.stringify(req.body ?? null)),
      client: clientOf(req),
      ...(typeof key === 'string' ? { idempotencyKey: key } : {}),
      ...(staff !== undefined ? { staff } : {}),
      correlationId: req.id,
    });
    const r = result.record;
    if (result.replay) reply.header('idempotent-replay', 'true');
    reply.header('location', `/v1/messages/${r.id}`);
    return reply.code(202).send({ id: r.id, status: r.state, links: { self: `/v1/messages/${r.id}` } });
  });

  app.get<{ Params: { id: string } }>('/v1/messages/:id', async (req) => {
    const staff = staffOf(req.headers['x-davis-staff']);
    const client = clientOf(req);
    const rec = await deps.journal.get(req.params.id);
    if (!rec || !mayRead(client, rec)) throw new DavisError('DAVIS_ERR_NOT_FOUND', 'no such message');
    const payload = rec.direction === 'inbound' ? await inboundPayload(deps.journal, rec.id) : undefined;
    const answerData = rec.answer?.data;
    // Central data (an answer's data, a notification's payload) is personal data: its reading is recorded before it is answered.
    const spec = getType(rec.type);
    if (deps.audit && spec && (payload !== undefined || answerData !== undefined)) {
      await deps.audit.record(readEvent(spec, rec.id, { payload, answerData }, { clientId: client.id, staff, correlationId: req.id }));
    }
    return rec.direction === 'inbound' ? { ...statusDocument(rec), payload } : statusDocument(rec);
  });

  app.get<{ Params: { id: string }; Querystring: { part?: 'request' | 'answer' } }>('/v1/messages/:id/wire', {
    schema: { querystring: WIRE_QUERY },
    config: { operatorOnly: 'wire documents are for operators', observersToo: true },
  }, async (req, reply) => {
    const part = req.query.part ?? 'request';
    const rec = await deps.journal.get(req.params.id);
    if (!rec) throw new DavisError('DAVIS_ERR_NOT_FOUND', 'no such message');
    const xml = part === 'request' ? await deps.journal.getWireXml(rec.id) : await deps.journal.getResponseXml(rec.id);
    if (xml === undefined) throw new DavisError('DAVIS_ERR_NOT_FOUND', `no ${part} document (not answered yet, or purged by retention)`);
    // The signed documents carry personal data: their reading is recorded before they are answered.
    const spec = getType(rec.type);
    if (deps.audit && spec) {
      await deps.audit.record(readEvent(spec, rec.id, part === 'request' ? { payload: parseRequestXml(xml).payload } : { answerData: rec.answer?.data ?? {} },
        { clientId: clientOf(req).id, staff: staffOf(req.headers['x-davis-staff']), correlationId: req.id }));
    }
    return reply.type('application/xml; charset=utf-8')
      .header('content-disposition', `attachment; filename="${rec.id}-${part}.xml"`).send(xml);
  });

  app.post<{ Params: { id: string } }>('/v1/messages/:id/retry', async (req, reply) => {
    const client = clientOf(req);
    if (!isOperator(client) && isObserver(client)) throw new DavisError('DAVIS_ERR_AUTH_FORBIDDEN', 'observers read only: retry is for operators');
    const staff = staffOf(req.headers['x-davis-staff']);
    const reason = retryReason(req.body);
    const rec = await deps.ingest.retry(req.params.id, client, { ...(staff !== undefined ? { staff } : {}), ...(reason ? { reason } : {}), correlationId: req.id });
    return reply.code(202).send({ id: rec.id, status: rec.state, links: { self: `/v1/messages/${rec.id}` } });
  });

  app.get<{ Querystring: ListQuery }>('/v1/messages', {
    schema: { querystring: LIST_QUERY },
    config: { operatorOnly: 'listing is for operators', observersToo: true },
  }, async (req) => {
    const q = req.query;
    if (q.cursor !== undefined && !isJournalCursor(q.cursor)) {
      throw new DavisError('DAVIS_ERR_VALIDATION_FAILED', 'invalid query', { errors: [{ pointer: '/query/cursor', message: 'not a cursor this gateway gave' }] });
    }
    const page = await deps.journal.list({
      ...(q.type ? { type: q.type } : {}), ...(q.status ? { state: q.status } : {}),
      ...(q.direction ? { direction: q.direction } : {}),
      ...(q.from ? { from: new Date(q.from).toISOString() } : {}), ...(q.to ? { to: new Date(q.to).toISOString() } : {}),
      ...(q.limit !== undefined ? { limit: q.limit } : {}), ...(q.cursor ? { cursor: q.cursor } : {}),
      ...(q.orderingKey ? { orderingKey: q.orderingKey } : {}), ...(q.correlationId ? { correlationId: q.correlationId } : {}),
      ...(q.centralReference ? { centralReference: q.centralReference } : {}),
    });
    return { items: page.items.map(statusDocument), ...(page.nextCursor ? { next: page.nextCursor } : {}) };
  });
}

/** The operator's reason for a retry (`{"reason": "…"}`, optional), recorded in the message's history. */
function retryReason(body: unknown): string | undefined {
  if (body === undefined || body === null) return undefined;
  const reason = typeof body === 'object' ? (body as { reason?: unknown }).reason : body;
  if (reason === undefined) return undefined;
  if (typeof reason !== 'string' || !/^\P{Cc}{1,200}$/u.test(reason)) {
    throw new DavisError('DAVIS_ERR_VALIDATION_FAILED', 'invalid retry', { errors: [{ pointer: '/reason', message: 'a line of 1-200 characters' }] });
  }
  return reason;
}

/** `{type, payload}` from a wire Request document sent by UMA (screened, XSD-checked, mapped). */
function wireToEnvelope(xml: string, xsd: XsdValidator): { type: string; payload: unknown } {
  const { header, payload } = readRequest(xml, { xsd });
  return { type: header.type, payload };
}

/** The payload of an inbound message, read back from the signed XML as received. */
export async function inboundPayload(journal: Journal, id: string): Promise<unknown> {
  const xml = await journal.getWireXml(id);
  return xml ? parseRequestXml(xml).payload : undefined;
}

function mayRead(client: Client, rec: MessageRecord): boolean {
  return isObserver(client) || rec.clientId === client.id;
}

/** UMA's routes: submit, read, list, retry. Encapsulated; every route authenticated by one hook. */
export const messagesPlugin = fp(messages, { name: 'davis-messages', fastify: '5.x', dependencies: ['davis-auth'], encapsulate: true });
