import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import fp from 'fastify-plugin';
import type { Config } from '../../config/config';
import { DavisError } from '../../errors/errors';
import type { Metrics } from '../../ops/metrics';
import { clientOf } from './auth';

/** Where `GET /metrics` is served, from `metrics.*` with the mode's defaults. */
export interface MetricsPlacement {
  /** A listener of its own at `metrics.host`:`metrics.port`. */
  readonly listen: boolean;
  /** On the API port: to anyone, to clients holding a role of `metrics.roles`, or not at all. */
  readonly api: 'open' | 'auth' | 'off';
}

/** Production keeps metrics off the API port and on a loopback listener; dev mode serves them on the API, open. */
export function metricsPlacement(config: Config): MetricsPlacement {
  const dev = config.mode === 'dev';
  return { listen: config.metrics.listen ?? !dev, api: config.metrics.api ?? (dev ? 'open' : 'off') };
}

export interface MetricsOptions {
  readonly config: Config;
  readonly metrics: Metrics;
}

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * The separate metrics listener's address once it listens (`http://127.0.0.1:9464`), its
     * start error if it could not, or neither when it is not configured.
     */
    metricsListener: { url?: string; error?: Error } | null;
  }
}

async function sendMetrics(metrics: Metrics, reply: FastifyReply): Promise<FastifyReply> {
  return reply.type('text/plain; version=0.0.4; charset=utf-8').send(await metrics.render());
}

async function metricsRoutes(app: FastifyInstance, { config, metrics }: MetricsOptions): Promise<void> {
  const placement = metricsPlacement(config);
  if (placement.api === 'open') app.get('/metrics', async (_req, reply) => sendMetrics(metrics, reply));
  if (placement.api === 'auth') {
    await app.register(async (guarded) => {
      guarded.addHook('onRequest', guarded.authenticate);
      guarded.get('/metrics', async (req, reply) => {
        const client = clientOf(req);
        if (!client.all && !client.roles.some((r) => config.metrics.roles.includes(r))) {
          throw new DavisError('DAVIS_ERR_AUTH_FORBIDDEN', { action: 'read the metrics' });
        }
        return sendMetrics(metrics, reply);
      });
    });
  }

  app.decorate('metricsListener', null);
  if (!placement.listen) return;
  // Plain HTTP with one route: what a Prometheus scraper on this host or the monitoring network reads.
  const own = Fastify({ logger: false });
  own.get('/metrics', async (_req, reply) => sendMetrics(metrics, reply));
  own.setNotFoundHandler((_req, reply) => reply.code(404).type('application/problem+json')
    .send({ type: 'https://davis-gateway.invalid/errors/DAVIS_ERR_NOT_FOUND', title: 'Not found', status: 404, code: 'DAVIS_ERR_NOT_FOUND' }));
  const state: { url?: string; error?: Error } = {};
  app.metricsListener = state;
  // Opened once the API listens (not on `ready()`: tests that only inject open no port). Fastify
  // does not wait for onListen hooks, so /health/ready's `metrics` check is down until it is
  // open, and stays down with the reason when the port is taken.
  app.addHook('onListen', async () => {
    try {
      state.url = await own.listen({ host: config.metrics.host, port: config.metrics.port });
      app.log.info({ url: state.url }, 'metrics listening');
    } catch (err) {
      state.error = err as Error;
      app.log.error({ code: (err as NodeJS.ErrnoException).code }, 'the metrics listener could not start');
    }
  });
  app.addHook('onClose', async () => { await own.close(); });
}

/** `GET /metrics`: on its own listener, on the API port (open or for operators), per `metrics.*`. */
export const metricsPlugin = fp(metricsRoutes, { name: 'davis-metrics', fastify: '5.x', dependencies: ['davis-auth'] });
