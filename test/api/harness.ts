import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openGateway, type Gateway } from '../../src/app/gateway';
import { loadConfig } from '../../src/config/config';
import { createLogger } from '../../src/ops/logger';
import { AMQP_URL, deleteTopology, LogSink, sharedPki } from '../helpers/stack';

/** Bearer tokens the harness configures: an admin, a UMA client without roles, a client with the `operator` role. */
export const TOKENS = { admin: 'admin-token-for-tests', uma: 'uma-token-for-tests', operator: 'operator-token-for-tests' } as const;

/** An address outside loopback, so dev mode's "loopback acts as the dev client" does not apply. */
export const REMOTE = '192.0.2.10';

export interface ApiHarness {
  gw: Gateway;
  logs: LogSink;
  stop(): Promise<void>;
}

/**
 * The gateway's fastify instance on a real SQLite journal (temp dir) and the real broker under a
 * queue prefix of its own; not listening: tests go through `app.inject()`. Central is a closed
 * port: nothing here is meant to be delivered. `gateway` merges into the `gateway` section,
 * `top` into the configuration's top level (`metrics`, `shutdownTimeoutMs`).
 */
export async function startApi(gateway: Record<string, unknown> = {}, top: Record<string, unknown> = {}): Promise<ApiHarness> {
  const { files: pki } = await sharedPki();
  const logs = new LogSink();
  const logger = createLogger('info', logs);
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'davis-api-'));
  const prefix = `test.api.${randomBytes(4).toString('hex')}.`;
  const sha = (t: string): string => createHash('sha256').update(t).digest('hex');
  const config = loadConfig({
    env: {},
    overrides: {
      mode: 'dev', dataDir,
      gateway: {
        port: 0,
        tokens: [
          { clientId: 'ops-1', sha256: sha(TOKENS.admin), roles: ['admin'] },
          { clientId: 'uma-1', sha256: sha(TOKENS.uma), roles: [] },
          { clientId: 'ops-2', sha256: sha(TOKENS.operator), roles: ['operator'] },
        ],
        ...gateway,
      },
      amqp: { url: AMQP_URL, prefix, shards: 1, confirmTimeoutMs: 3000 },
      signing: { keyFile: pki.gatewayKey, certFile: pki.gatewayCert, trust: pki.caCert },
      central: { url: 'https://127.0.0.1:9/vis', caFile: pki.caCert, certFile: pki.gatewayCert, keyFile: pki.gatewayKey, timeoutMs: 500, retryBaseMs: 60000 },
      ...top,
    },
  });
  const gw = await openGateway(config, logger);
  await gw.start({ listen: false });
  return {
    gw, logs,
    async stop() {
      await gw.stop();
      await deleteTopology(prefix, 1);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Asserts the answer is an RFC 9457 problem document and returns it. */
export function problem(res: { statusCode: number; headers: Record<string, unknown>; body: string }): { status: number; code: string; [k: string]: unknown } {
  expect(String(res.headers['content-type'])).toMatch(/^application\/problem\+json/);
  const doc = JSON.parse(res.body) as { status: number; code: string };
  expect(doc.status).toBe(res.statusCode);
  expect(doc.code).toMatch(/^DAVIS_ERR_[A-Z0-9_]+$/);
  return doc;
}
