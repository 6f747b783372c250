import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import type { Metrics } from '../../ops/metrics';
import { docsPage, openApiDocument } from '../openapi';
import { DASHBOARD_HTML } from '../../ops/dashboard';
import { packageVersion } from '../../ops/version';

/** Something `/health/ready` asks; resolves with details or throws with the reason. */
export type ReadinessCheck = () => Promise<Record<string, unknown> | void>;

export interface OpsOptions {
  readonly metrics: Metrics;
  /** Live facts for the operators' page. */
  readonly summary: () => Promise<Record<string, unknown>>;
  /** Named readiness checks: broker, journal, signing key, central. */
  readonly readiness: Record<string, ReadinessCheck>;
}

async function ops(app: FastifyInstance, deps: OpsOptions): Promise<void> {
  const api = openApiDocument(packageVersion());
  app.get('/docs/openapi.json', async () => api);
  app.get('/docs', async (_req, reply) => reply.type('text/html; charset=utf-8').send(docsPage(api)));
  app.get('/ops', async (_req, reply) => reply.type('text/html; charset=utf-8').header('content-security-policy', "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'").send(DASHBOARD_HTML));
  app.get('/favicon.ico', async (_req, reply) => reply.code(204).send());
  app.get('/metrics', async (_req, reply) => reply.type('text/plain; version=0.0.4; charset=utf-8').send(await deps.metrics.render()));
  app.get('/health/live', async () => ({ status: 'ok' }));
  app.get('/health/ready', async (_req, reply) => {
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
  // The summary is the only authenticated ops route: its own group, so the hook covers it alone.
  await app.register(async (operators) => {
    operators.addHook('onRequest', operators.authenticate);
    operators.get('/ops/summary', { config: { operatorOnly: 'the operations summary is for operators' } },
      async () => ({ version: packageVersion(), ...(await deps.summary()) }));
  });
}

/** Health, metrics, docs and the operators' page. Encapsulated. */
export const opsPlugin = fp(ops, { name: 'davis-ops', fastify: '5.x', dependencies: ['davis-auth'], encapsulate: true });
