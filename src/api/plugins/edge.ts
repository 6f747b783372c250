import os from 'node:os';
import v8 from 'node:v8';
import fp from 'fastify-plugin';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import underPressure from '@fastify/under-pressure';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Config } from '../../config/config';
import { DavisError } from '../../errors/errors';
import { identify } from './auth';

export interface EdgeOptions {
  readonly config: Config;
}

/**
 * The one Content-Security-Policy of every answer. The pages (`/ops`, `/docs`) load their
 * script and style from the gateway itself: no inline script or style, no other origin, no
 * framing. JSON answers get the same policy, which forbids everything they never need.
 */
export const CONTENT_SECURITY_POLICY = {
  useDefaults: false,
  directives: {
    defaultSrc: ["'none'"],
    scriptSrc: ["'self'"],
    styleSrc: ["'self'"],
    connectSrc: ["'self'"],
    imgSrc: ["'self'"],
    baseUri: ["'none'"],
    formAction: ["'self'"],
    frameAncestors: ["'none'"],
  },
} as const;

/** The liveness probe answers whatever the load: a gateway that is only busy must not be restarted for it. */
function isLiveness(req: FastifyRequest): boolean {
  return req.method === 'GET' && (req.url === '/health/live' || req.url.startsWith('/health/live?'));
}

/**
 * Who a request counts against: its client id when its credentials identify it, its IP
 * address otherwise. Identification is a hash and a lookup, cheap enough to run before the
 * route's own authentication, so refused credentials are counted against their address too.
 */
function rateKey(req: FastifyRequest, config: Config): string {
  try {
    return `client:${identify(req, config).id}`;
  } catch {
    return `ip:${req.ip}`;
  }
}

/** Seconds a stopping instance asks a client to wait (a load balancer retries on another instance at once). */
const STOPPING_RETRY_AFTER_S = 5;

async function edge(app: FastifyInstance, { config }: EdgeOptions): Promise<void> {
  await app.register(helmet, {
    global: true,
    contentSecurityPolicy: CONTENT_SECURITY_POLICY,
    // HSTS means something only over TLS; on plain HTTP (dev) it would be ignored anyway.
    strictTransportSecurity: config.gateway.tls ? { maxAge: 31536000, includeSubDomains: true } : false,
    crossOriginEmbedderPolicy: false,
  });

  // From the start of a stop (app.close(): SIGTERM, a rolling restart), a request that still
  // reaches this instance, on a keep-alive connection or sent before the load balancer saw the
  // instance not ready, is answered 503 DAVIS_ERR_STOPPING with Retry-After and
  // Connection: close; nothing of it runs. Requests already running finish.
  let stopping = false;
  app.addHook('preClose', async () => { stopping = true; });
  app.addHook('onRequest', async (_req, reply) => {
    if (!stopping) return;
    reply.header('connection', 'close');
    reply.header('retry-after', String(STOPPING_RETRY_AFTER_S));
    throw new DavisError('DAVIS_ERR_STOPPING', { retryAfterSeconds: STOPPING_RETRY_AFTER_S });
  });

  const p = config.gateway.pressure;
  const retryAfter = p.retryAfterSeconds;
  await app.register(underPressure, {
    maxEventLoopDelay: p.maxEventLoopDelayMs,
    maxHeapUsedBytes: p.maxHeapUsedBytes ?? Math.floor(v8.getHeapStatistics().heap_size_limit * 0.9),
    maxRssBytes: p.maxRssBytes ?? Math.floor(os.totalmem() * 0.9),
    retryAfter,
    // Resolving lets the request through; rejecting hands the error to the API's problem handler.
    pressureHandler: async (req, reply, type) => {
      if (isLiveness(req)) return;
      reply.header('retry-after', String(retryAfter));
      throw new DavisError('DAVIS_ERR_OVERLOADED', { what: type, retryAfterSeconds: retryAfter });
    },
  });

  const rl = config.gateway.rateLimit;
  if (rl.max > 0) {
    await app.register(rateLimit, { global: false });
    // One root hook rather than the plugin's per-route ones: it runs before the route groups'
    // authentication hooks, so a client whose credentials are refused is still counted.
    app.addHook('onRequest', app.rateLimit({
      max: rl.max,
      timeWindow: rl.windowMs,
      keyGenerator: (req) => rateKey(req, config),
      allowList: (req) => isLiveness(req),
      errorResponseBuilder: (_req, ctx) => new DavisError('DAVIS_ERR_RATE_LIMITED', {
        max: ctx.max, windowMs: rl.windowMs, retryAfterSeconds: Math.max(1, Math.ceil(ctx.ttl / 1000)),
      }),
    }));
  }
}

/**
 * The shared HTTP edge, ahead of every route: security headers with a strict CSP
 * (@fastify/helmet), 503 `DAVIS_ERR_STOPPING` once the instance is stopping, backpressure (@fastify/under-pressure: 503 `DAVIS_ERR_OVERLOADED`) and a
 * rate limit per client identity (@fastify/rate-limit: 429 `DAVIS_ERR_RATE_LIMITED`), both
 * with `Retry-After`. Not encapsulated: its hooks cover every route group.
 */
export const edgePlugin = fp(edge, { name: 'davis-edge', fastify: '5.x' });
