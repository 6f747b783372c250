import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { DOCS_CSS, docsAsset, docsPage, openApiDocument } from '../openapi';
import { DASHBOARD_CSS, DASHBOARD_HTML, DASHBOARD_JS } from '../../ops/dashboard';
import { packageVersion } from '../../ops/version';
import type { TrafficMinute } from '../../journal/journal';
import { TRAFFIC_QUERY } from '../../ops/dashboard-queries';
import { clientOf, isOperator } from './auth';

/** Something `/health/ready` asks; resolves with details or throws with the reason. */
export type ReadinessCheck = () => Promise<Record<string, unknown> | void>;

export interface OpsOptions {
  /** Live facts for the operators' page. */
  readonly summary: () => Promise<Record<string, unknown>>;
  /** Messages per minute since a time (ISO 8601), for the dashboard's chart. */
  readonly traffic: (since: string) => Promise<readonly TrafficMinute[]>;
  /** Named readiness checks: broker, journal, signing key, central. */
  readonly readiness: Record<string, ReadinessCheck>;
}

async function ops(app: FastifyInstance, deps: OpsOptions): Promise<void> {
  const api = openApiDocument(packageVersion());
  app.get('/docs/openapi.json', async () => api);
  const docsHtml = docsPage(api);
  // The pages' script and style are files of their own: the CSP (see edge.ts) allows no inline code.
  app.get('/docs', async (_req, reply) => reply.type('text/html; charset=utf-8').send(docsHtml));
  app.get('/docs/docs.css', async (_req, reply) => reply.type('text/css; charset=utf-8').send(DOCS_CSS));
  app.get<{ Params: { file: string } }>('/docs/assets/:file', async (req, reply) => {
    const asset = docsAsset(req.params.file);
    if (!asset) return reply.callNotFound();
    return reply.type(asset.type).header('cache-control', 'public, max-age=3600').send(asset.body);
  });
  app.get('/ops', async (_req, reply) => reply.type('text/html; charset=utf-8').send(DASHBOARD_HTML));
  app.get('/ops/dashboard.js', async (_req, reply) => reply.type('text/javascript; charset=utf-8').send(DASHBOARD_JS));
  app.get('/ops/dashboard.css', async (_req, reply) => reply.type('text/css; charset=utf-8').send(DASHBOARD_CSS));
  app.get('/favicon.ico', async (_req, reply) => reply.code(204).send());
  app.get('/health/live', async () => ({ status: 'ok' }));
  const readiness: Record<string, ReadinessCheck> = { ...deps.readiness };
  if (app.metricsListener) {
    const listener = app.metricsListener;
    readiness.metrics = async () => {
      if (listener.error) throw new Error(`metrics listener: ${(listener.error as NodeJS.ErrnoException).code ?? listener.error.message}`);
      if (!listener.url) throw new Error('metrics listener not open yet');
      return { url: listener.url };
    };
  }
  app.get('/health/ready', async (_req, reply) => {
    const checks: Record<string, unknown> = {};
    let ok = true;
    await Promise.all(Object.entries(readiness).map(async ([name, check]) => {
      try {
        checks[name] = { status: 'ok', ...(await check()) };
      } catch (err) {
        ok = false;
        checks[name] = { status: 'down', reason: (err as Error).message };
      }
    }));
    return reply.code(ok ? 200 : 503).send({ status: ok ? 'ok' : 'down', checks });
  });
  // The summary is the only authenticated ops route: its own group, so the hook covers it alone.
  await app.register(async (operators) => {
    operators.addHook('onRequest', operators.authenticate);
    operators.get('/ops/summary', { config: { operatorOnly: 'the operations summary is for operators', observersToo: true } },
      async (req) => ({ version: packageVersion(), ...(await deps.summary()), viewer: { id: clientOf(req).id, mayRetry: isOperator(clientOf(req)) } }));
    operators.get<{ Querystring: { minutes?: number } }>('/ops/traffic', {
      config: { operatorOnly: 'the traffic chart is for operators', observersToo: true },
      schema: { querystring: TRAFFIC_QUERY },
    }, async (req) => {
      const minutes = req.query.minutes ?? 60;
      return { minutes: await deps.traffic(new Date(Date.now() - (minutes - 1) * 60000).toISOString().slice(0, 16) + ':00.000Z') };
    });
  });
}

/** Health, docs and the operators' page (metrics: see metrics.ts). Encapsulated. */
export const opsPlugin = fp(ops, { name: 'davis-ops', fastify: '5.x', dependencies: ['davis-auth', 'davis-metrics'], encapsulate: true });
