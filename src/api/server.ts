import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from '../config/config';
import { DavisError } from '../errors/errors';
import type { Journal } from '../journal/journal';
import type { IngestService } from '../exchange/submit';
import type { InboundService } from '../exchange/receive';
import type { XsdValidator } from '../wire/xsd';
import type { Metrics } from '../ops/metrics';
import { sendProblem, toDavisError } from './problem';
import { registerBodyParsers } from './body';
import { authPlugin } from './plugins/auth';
import { messagesPlugin } from './plugins/messages';
import { centralPlugin } from './plugins/central';
import { opsPlugin, type ReadinessCheck } from './plugins/ops';
import { edgePlugin } from './plugins/edge';
import { metricsPlugin } from './plugins/metrics';
import { auditPlugin } from './plugins/audit';
import type { AuditStore, StoredCheckpoint } from '../audit/audit-store';

export type { ReadinessCheck } from './plugins/ops';
export { inboundPayload } from './plugins/messages';

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
  /** The audit log: records reads of central data, serves `GET /v1/audit` and evidence. Absent: neither (unit tests). */
  readonly audit?: AuditStore;
  /** Makes a checkpoint now (evidence of fresh records). */
  readonly checkpoint?: () => Promise<StoredCheckpoint | undefined>;
}

/** Seconds a 503 without a figure of its own (the readiness report's) asks the client to wait, as `sendProblem` does. */
const RETRY_AFTER_S = 5;

/** Builds the gateway's fastify instance (not listening): the shared edge, then one plugin per route group. */
export function buildApi(deps: ApiDeps): FastifyInstance {
  const { config } = deps;
  const tls = config.gateway.tls;
  const app = (Fastify as unknown as (o: object) => FastifyInstance)({
    loggerInstance: deps.logger.child({ component: 'api' }) as unknown as FastifyBaseLogger,
    bodyLimit: config.gateway.bodyLimit,
    // A slow body is cut off; an idle keep-alive connection is closed (headersTimeout is set below).
    requestTimeout: config.gateway.requestTimeoutMs,
    keepAliveTimeout: config.gateway.keepAliveTimeoutMs,
    // Errors the router raises before any route (bad percent-encoding, overlong parameter) are
    // problem documents too.
    frameworkErrors: (err: Error, req: FastifyRequest, reply: FastifyReply) => sendProblem(reply, req, toDavisError(err)),
    genReqId: (req: import('node:http').IncomingMessage) => {
      const given = req.headers['x-correlation-id'];
      return typeof given === 'string' && /^[A-Za-z0-9._:-]{1,128}$/.test(given) ? given : randomUUID();
    },
    requestIdHeader: false,
    // Fastify's own answer while closing is a bare 503 without Retry-After or code; the edge answers those requests instead (plugins/edge.ts).
    return503OnClosing: false,
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

  app.server.headersTimeout = config.gateway.headersTimeoutMs;
  // app.close() waits for open requests; a client that never finishes its body would hold the
  // stop until requestTimeout. After shutdownTimeoutMs the remaining connections are cut.
  let closeDeadline: NodeJS.Timeout | undefined;
  app.addHook('preClose', async () => {
    closeDeadline = setTimeout(() => {
      app.log.warn({ shutdownTimeoutMs: config.shutdownTimeoutMs }, 'shutdown deadline: closing the connections still open');
      app.server.closeAllConnections();
    }, config.shutdownTimeoutMs);
    closeDeadline.unref();
  });
  app.addHook('onClose', async () => { if (closeDeadline) clearTimeout(closeDeadline); });
  registerBodyParsers(app);

  app.setErrorHandler((err, req, reply) => {
    if (clientAborted(err, req)) {
      // The client went away mid-body: nobody reads the answer and nothing on our side failed.
      req.log.info({ code: 'DAVIS_ERR_REQUEST_ABORTED' }, 'client closed the request before its body arrived');
      return sendProblem(reply, req, new DavisError('DAVIS_ERR_REQUEST_ABORTED', 'the client closed the request', { cause: err }));
    }
    const de = toDavisError(err);
    if (de.code === 'DAVIS_ERR_INTERNAL') req.log.error({ err: { message: (err as Error).message, stack: (err as Error).stack } }, 'internal error');
    return sendProblem(reply, req, de);
  });
  app.setNotFoundHandler((req, reply) => sendProblem(reply, req, new DavisError('DAVIS_ERR_NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0]}`)));
  app.addHook('onSend', async (req, reply) => {
    reply.header('x-correlation-id', req.id);
    // Every 503 says when to come back, the readiness report's included.
    if (reply.statusCode === 503 && !reply.hasHeader('retry-after')) reply.header('retry-after', String(RETRY_AFTER_S));
  });
  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unmatched';
    deps.metrics.httpRequests.inc({ method: req.method, route, status: String(reply.statusCode) });
    if (route === '/v1/messages' && req.method === 'POST' && reply.statusCode === 202) deps.metrics.acceptSeconds.observe(reply.elapsedTime / 1000);
  });

  // The edge first: its hooks (headers, backpressure, rate limit) run before any route group's.
  void app.register(edgePlugin, { config });
  void app.register(authPlugin, { config });
  void app.register(messagesPlugin, { ingest: deps.ingest, journal: deps.journal, xsd: deps.xsd, ...(deps.audit ? { audit: deps.audit } : {}) });
  if (deps.audit) void app.register(auditPlugin, { audit: deps.audit, journal: deps.journal, ...(deps.checkpoint ? { checkpoint: deps.checkpoint } : {}) });
  void app.register(centralPlugin, { config, inbound: deps.inbound });
  void app.register(metricsPlugin, { config, metrics: deps.metrics });
  void app.register(opsPlugin, { summary: deps.summary, readiness: deps.readiness, traffic: (since) => deps.journal.trafficByMinute(since) });
  return app;
}

/** Whether an error is the request stream ending because the client closed it (Node's "aborted"). */
function clientAborted(err: unknown, req: FastifyRequest): boolean {
  const e = err as NodeJS.ErrnoException;
  return e?.code === 'ECONNRESET' && (req.raw.destroyed || req.raw.readableAborted || e.message === 'aborted');
}
