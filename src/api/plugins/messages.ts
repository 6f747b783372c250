import { sha256Hex } from '../../util/sha256';
import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { DavisError } from '../../errors/errors';
import { MESSAGE_STATES, type Journal, type MessageRecord, type MessageState } from '../../journal/journal';
import type { Client, IngestService } from '../../exchange/submit';
import { parseRequestXml, WIRE_SCREEN_LIMITS } from '../../wire/envelope';
import { screenXml } from '../../xml/screen';
import type { XsdValidator } from '../../wire/xsd';
import { statusDocument } from '../../exchange/message-status';
import { clientOf } from './auth';
import { rawBodyHash } from '../body';

export interface MessagesOptions {
  readonly ingest: IngestService;
  readonly journal: Journal;
  /** The wire XSD, for XML bodies. */
  readonly xsd: XsdValidator;
}


async function messages(app: FastifyInstance, deps: MessagesOptions): Promise<void> {
  app.addHook('preHandler', app.authenticate);

  app.post('/v1/messages', async (req, reply) => {
    const key = req.headers['idempotency-key'];
    if (key !== undefined && (typeof key !== 'string' || !/^[\x21-\x7e]{1,200}$/.test(key))) {
      throw new DavisError('DAVIS_ERR_VALIDATION_FAILED', 'Idempotency-Key must be 1-200 visible ASCII characters', {
        errors: [{ pointer: '/headers/idempotency-key', message: 'invalid' }],
      });
    }
    // A wire-format XML body (application/xml) is screened, checked against the XSD and mapped
    // to the same {type, payload} as JSON; the gateway still assigns the id and signs.
    const xmlBody = typeof req.body === 'string';
    const body = xmlBody ? wireToEnvelope(req.body as string, deps.xsd) : req.body;
    const result = await deps.ingest.submit({
      body,
      bodyHash: xmlBody ? sha256Hex(req.body as string)
        : rawBodyHash(req) ?? sha256Hex(JSON.stringify(req.body ?? null)),
      client: clientOf(req),
      ...(typeof key === 'string' ? { idempotencyKey: key } : {}),
      correlationId: req.id,
    });
    const r = result.record;
    if (result.replay) reply.header('idempotent-replay', 'true');
    reply.header('location', `/v1/messages/${r.id}`);
    return reply.code(202).send({ id: r.id, status: r.state, links: { self: `/v1/messages/${r.id}` } });
  });

  app.get<{ Params: { id: string } }>('/v1/messages/:id', async (req) => {
    const rec = await deps.journal.get(req.params.id);
    if (!rec || !mayRead(clientOf(req), rec)) throw new DavisError('DAVIS_ERR_NOT_FOUND', 'no such message');
    return rec.direction === 'inbound' ? { ...statusDocument(rec), payload: await inboundPayload(deps.journal, rec.id) } : statusDocument(rec);
  });

  app.post<{ Params: { id: string } }>('/v1/messages/:id/retry', async (req, reply) => {
    const rec = await deps.ingest.retry(req.params.id, clientOf(req));
    return reply.code(202).send({ id: rec.id, status: rec.state, links: { self: `/v1/messages/${rec.id}` } });
  });

  app.get<{ Querystring: Record<string, string> }>('/v1/messages', async (req) => {
    const q = req.query;
    const errors = [];
    if (q.status !== undefined && !MESSAGE_STATES.includes(q.status as MessageState)) errors.push({ pointer: '/query/status', message: `one of ${MESSAGE_STATES.join(', ')}` });
    if (q.direction !== undefined && q.direction !== 'inbound' && q.direction !== 'outbound') errors.push({ pointer: '/query/direction', message: 'inbound or outbound' });
    for (const k of ['from', 'to'] as const) if (q[k] !== undefined && Number.isNaN(Date.parse(q[k]!))) errors.push({ pointer: `/query/${k}`, message: 'an ISO 8601 time' });
    if (q.limit !== undefined && !/^\d{1,4}$/.test(q.limit)) errors.push({ pointer: '/query/limit', message: 'an integer 1-1000' });
    if (errors.length) throw new DavisError('DAVIS_ERR_VALIDATION_FAILED', 'invalid query', { errors });
    if (!clientOf(req).all) throw new DavisError('DAVIS_ERR_AUTH_FORBIDDEN', 'listing is for operators');
    const page = await deps.journal.list({
      ...(q.type ? { type: q.type } : {}), ...(q.status ? { state: q.status as MessageState } : {}),
      ...(q.direction ? { direction: q.direction as 'inbound' | 'outbound' } : {}),
      ...(q.from ? { from: new Date(q.from).toISOString() } : {}), ...(q.to ? { to: new Date(q.to).toISOString() } : {}),
      ...(q.limit ? { limit: Number(q.limit) } : {}), ...(q.cursor ? { cursor: q.cursor } : {}),
    });
    return { items: page.items.map(statusDocument), ...(page.nextCursor ? { next: page.nextCursor } : {}) };
  });
}

/** `{type, payload}` from a wire Request document sent by UMA (screened, XSD-checked, mapped). */
function wireToEnvelope(xml: string, xsd: XsdValidator): { type: string; payload: unknown } {
  const screened = screenXml(xml, WIRE_SCREEN_LIMITS);
  const errors = xsd.validate(screened);
  if (errors.length) throw new DavisError('DAVIS_ERR_WIRE_SCHEMA', `${errors.length} schema error(s)`, { errors });
  const { header, payload } = parseRequestXml(screened);
  return { type: header.type, payload };
}

/** The payload of an inbound message, read back from the signed XML as received. */
export async function inboundPayload(journal: Journal, id: string): Promise<unknown> {
  const xml = await journal.getWireXml(id);
  return xml ? parseRequestXml(xml).payload : undefined;
}

function mayRead(client: Client, rec: MessageRecord): boolean {
  return client.all || rec.clientId === client.id;
}

/** UMA's routes: submit, read, list, retry. Encapsulated; every route authenticated by one hook. */
export const messagesPlugin = fp(messages, { name: 'davis-messages', fastify: '5.x', dependencies: ['davis-auth'], encapsulate: true });
