import { createHash, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { TLSSocket } from 'node:tls';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from '../config/config';
import { DavisError } from '../errors/errors';
import type { Journal, MessageRecord, MessageState } from '../journal/journal';
import { bodyHash, type Client, type IngestService } from '../exchange/submit';
import type { InboundService } from '../exchange/receive';
import { parseRequestXml, WIRE_SCREEN_LIMITS } from '../wire/envelope';
import { screenXml } from '../xml/screen';
import type { XsdValidator } from '../wire/xsd';
import { sendProblem, toDavisError } from './problem';
import { statusDocument } from '../exchange/message-status';
import type { Metrics } from '../ops/metrics';
import { docsPage, openApiDocument } from './openapi';
import { DASHBOARD_HTML } from '../ops/dashboard';
import { packageVersion } from '../ops/version';

/** Something `/health/ready` asks; resolves with details or throws with the reason. */
export type ReadinessCheck = () => Promise<Record<string, unknown> | void>;

/** What the HTTP layer needs from the rest of the gateway. */
export interface ApiDeps {
  readonly config: Config;
  readonly ingest: IngestService;
  readonly inbound: InboundService;
  readonly journal: Journal;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** The wire XSD, for XML bodies. */
  readonly xsd: XsdValidator;
  /** Live facts for the operators' page. */
  readonly summary: () => Promise<Record<string, unknown>>;
  /** Named readiness checks: broker, journal, signing key, central. */
  readonly readiness: Record<string, ReadinessCheck>;
}

const DEV_CLIENT: Client = Object.freeze({ id: 'dev-client', roles: [], all: true });
const MESSAGE_STATES: readonly MessageState[] = ['accepted', 'queued', 'sending', 'retrying', 'delivered', 'rejected', 'failed', 'refused'];

declare module 'fastify' {
  interface FastifyRequest {
    davisClient?: Client;
    rawBodyHash?: string;
  }
}

/** Builds the gateway's fastify instance (not listening). */
export function buildApi(deps: ApiDeps): FastifyInstance {
  const { config } = deps;
  const tls = config.gateway.tls;
  const app = (Fastify as unknown as (o: object) => FastifyInstance)({
    loggerInstance: deps.logger.child({ component: 'api' }) as unknown as FastifyBaseLogger,
    bodyLimit: config.gateway.bodyLimit,
    genReqId: (req: import('node:http').IncomingMessage) => {
      const given = req.headers['x-correlation-id'];
      return typeof given === 'string' && /^[A-Za-z0-9._:-]{1,128}$/.test(given) ? given : randomUUID();
    },
    requestIdHeader: false,
    // Per-request lines off: the gateway logs what happened to each message instead. The request id is the correlation id.
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'correlationId' }),
    ...(tls ? {
      https: {
        cert: readFileSync(tls.certFile), key: readFileSync(tls.keyFile),
        ...(tls.caFile ? { ca: readFileSync(tls.caFile), requestCert: true, rejectUnauthorized: false } : {}),
        minVersion: 'TLSv1.2' as const,
      },
    } : {}),
  });

  // Only JSON and (for central) XML: anything else is 415, not a string to validate.
  app.removeAllContentTypeParsers();
  // Raw body hash for idempotency: same bytes = same body.
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    req.rawBodyHash = bodyHash(body as string);
    try {
      done(null, JSON.parse(body as string));
    } catch (err) {
      done(new DavisError('DAVIS_ERR_REQUEST_MALFORMED', 'the body is not valid JSON', { cause: err }), undefined);
    }
  });

  app.addContentTypeParser(['application/xml', 'text/xml'], { parseAs: 'string' }, (_req, body, done) => done(null, body));

  app.setErrorHandler((err, req, reply) => {
    const de = toDavisError(err);
    if (de.code === 'DAVIS_ERR_INTERNAL') req.log.error({ err: { message: (err as Error).message, stack: (err as Error).stack } }, 'internal error');
    return sendProblem(reply, req, de);
  });
  app.setNotFoundHandler((req, reply) => sendProblem(reply, req, new DavisError('DAVIS_ERR_NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0]}`)));
  app.addHook('onSend', async (req, reply) => {
    reply.header('x-correlation-id', req.id);
  });
  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unmatched';
    deps.metrics.httpRequests.inc({ method: req.method, route, status: String(reply.statusCode) });
    if (route === '/v1/messages' && req.method === 'POST' && reply.statusCode === 202) deps.metrics.acceptSeconds.observe(reply.elapsedTime / 1000);
  });

  const authenticate = async (req: FastifyRequest): Promise<void> => {
    req.davisClient = identify(req, config);
  };

  app.post('/v1/messages', { preHandler: authenticate }, async (req, reply) => {
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
      bodyHash: xmlBody ? createHash('sha256').update(req.body as string).digest('hex')
        : req.rawBodyHash ?? createHash('sha256').update(JSON.stringify(req.body ?? null)).digest('hex'),
      client: req.davisClient!,
      ...(typeof key === 'string' ? { idempotencyKey: key } : {}),
      correlationId: req.id,
    });
    const r = result.record;
    if (result.replay) reply.header('idempotent-replay', 'true');
    reply.header('location', `/v1/messages/${r.id}`);
    return reply.code(202).send({ id: r.id, status: r.state, links: { self: `/v1/messages/${r.id}` } });
  });

  app.get<{ Params: { id: string } }>('/v1/messages/:id', { preHandler: authenticate }, async (req) => {
    const rec = await deps.journal.get(req.params.id);
    if (!rec || !mayRead(req.davisClient!, rec)) throw new DavisError('DAVIS_ERR_NOT_FOUND', 'no such message');
    return rec.direction === 'inbound' ? { ...statusDocument(rec), payload: await inboundPayload(deps.journal, rec.id) } : statusDocument(rec);
  });

  // Central → national: signed wire XML. Production needs central's client certificate (mutual
  // TLS); in dev mode loopback may post. The signature is checked in every mode.
  app.post('/v1/central/notifications', async (req, reply) => {
    if (typeof req.body !== 'string') throw new DavisError('DAVIS_ERR_REQUEST_UNSUPPORTED_MEDIA', 'send the signed wire XML as application/xml');
    const sock = req.raw.socket as TLSSocket;
    const viaCert = typeof sock.getPeerCertificate === 'function' && sock.authorized;
    const devLocal = config.mode === 'dev' && isLoopback(req.raw.socket.remoteAddress);
    if (!viaCert && !devLocal && config.gateway.notifyAuth !== 'signature') {
      throw new DavisError('DAVIS_ERR_AUTH_REQUIRED', 'central must present its client certificate');
    }
    const res = await deps.inbound.receive(req.body, req.id);
    return reply.code(res.repeat ? 200 : 201).type('application/xml; charset=utf-8').header('location', `/v1/messages/${res.record.id}`).send(res.ackXml);
  });

  app.post<{ Params: { id: string } }>('/v1/messages/:id/retry', { preHandler: authenticate }, async (req, reply) => {
    const rec = await deps.ingest.retry(req.params.id, req.davisClient!);
    return reply.code(202).send({ id: rec.id, status: rec.state, links: { self: `/v1/messages/${rec.id}` } });
  });

  app.get<{ Querystring: Record<string, string> }>('/v1/messages', { preHandler: authenticate }, async (req) => {
    const q = req.query;
    const errors = [];
    if (q.status !== undefined && !MESSAGE_STATES.includes(q.status as MessageState)) errors.push({ pointer: '/query/status', message: `one of ${MESSAGE_STATES.join(', ')}` });
    if (q.direction !== undefined && q.direction !== 'inbound' && q.direction !== 'outbound') errors.push({ pointer: '/query/direction', message: 'inbound or outbound' });
    for (const k of ['from', 'to'] as const) if (q[k] !== undefined && Number.isNaN(Date.parse(q[k]!))) errors.push({ pointer: `/query/${k}`, message: 'an ISO 8601 time' });
    if (q.limit !== undefined && !/^\d{1,4}$/.test(q.limit)) errors.push({ pointer: '/query/limit', message: 'an integer 1-1000' });
    if (errors.length) throw new DavisError('DAVIS_ERR_VALIDATION_FAILED', 'invalid query', { errors });
    if (!req.davisClient!.all) throw new DavisError('DAVIS_ERR_AUTH_FORBIDDEN', 'listing is for operators');
    const page = await deps.journal.list({
      ...(q.type ? { type: q.type } : {}), ...(q.status ? { state: q.status as MessageState } : {}),
      ...(q.direction ? { direction: q.direction as 'inbound' | 'outbound' } : {}),
      ...(q.from ? { from: new Date(q.from).toISOString() } : {}), ...(q.to ? { to: new Date(q.to).toISOString() } : {}),
      ...(q.limit ? { limit: Number(q.limit) } : {}), ...(q.cursor ? { cursor: q.cursor } : {}),
    });
    return { items: page.items.map(statusDocument), ...(page.nextCursor ? { next: page.nextCursor } : {}) };
  });

  const api = openApiDocument(packageVersion());
  app.get('/docs/openapi.json', async () => api);
  app.get('/docs', async (_req, reply) => reply.type('text/html; charset=utf-8').send(docsPage(api)));
  app.get('/ops', async (_req, reply) => reply.type('text/html; charset=utf-8').header('content-security-policy', "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'").send(DASHBOARD_HTML));
  app.get('/favicon.ico', async (_req, reply) => reply.code(204).send());
  app.get('/ops/summary', { preHandler: authenticate }, async (req) => {
    if (!req.davisClient!.all) throw new DavisError('DAVIS_ERR_AUTH_FORBIDDEN', 'the operations summary is for operators');
    return { version: packageVersion(), ...(await deps.summary()) };
  });
  app.get('/metrics', async (_req, reply) => reply.type('text/plain; version=0.0.4; charset=utf-8').send(await deps.metrics.render()));
  app.get('/health/live', async () => ({ status: 'ok' }));
  app.get('/health/ready', async (req, reply) => {
    const checks: Record<string, unknown> = {};
    let ok = true;
    await Promise.all(Object.entries(deps.readiness).map(async ([name, check]) => {
      try {
        checks[name] = { status: 'ok', ...(await check()) };
      } catch (err) {
        ok = false;
        checks[name] = { status: 'down', reason: (err as Error).message };
      }
    }));
    return reply.code(ok ? 200 : 503).send({ status: ok ? 'ok' : 'down', checks });
  });
  return app;
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

/** Who is calling: client certificate, bearer token, or (dev mode, loopback) the dev client. */
function identify(req: FastifyRequest, config: Config): Client {
  const sock = req.raw.socket as TLSSocket;
  if (typeof sock.getPeerCertificate === 'function' && sock.authorized) {
    const cert = sock.getPeerCertificate();
    const cn = cert?.subject?.CN;
    if (cn) {
      const ou = cert.subject.OU;
      const roles = (Array.isArray(ou) ? ou : ou ? [ou] : []).flatMap((s) => String(s).split(/[,\s]+/)).filter(Boolean);
      return { id: String(cn), roles, all: roles.includes('admin') };
    }
  }
  const auth = req.headers.authorization;
  if (auth && /^Bearer\s+/i.test(auth)) {
    const sha = createHash('sha256').update(auth.replace(/^Bearer\s+/i, '').trim()).digest('hex');
    const tok = config.gateway.tokens.find((t) => t.sha256 === sha);
    if (!tok) throw new DavisError('DAVIS_ERR_AUTH_REQUIRED', 'unknown bearer token');
    return { id: tok.clientId, roles: tok.roles, all: tok.roles.includes('admin') };
  }
  if (config.mode === 'dev' && isLoopback(req.raw.socket.remoteAddress)) return DEV_CLIENT;
  throw new DavisError('DAVIS_ERR_AUTH_REQUIRED', 'present a client certificate or a bearer token');
}

function isLoopback(addr: string | undefined): boolean {
  return !!addr && (addr === '::1' || addr.startsWith('127.') || addr.startsWith('::ffff:127.'));
}

function mayRead(client: Client, rec: MessageRecord): boolean {
  return client.all || rec.clientId === client.id;
}
