/**
 * The gateway's HTTP API on the real pieces behind it, for fuzzing through `fastify.inject()`:
 * the real edge, auth, body parsers, routes, validation, wire mapping, XSD, signing, a real
 * SQLite journal in a temp dir, the real inbound path (signature, pinned central).
 *
 * The broker is the in-memory adapter (src/queue/memory-broker.ts): the broker is not what is
 * fuzzed (its own suites run against RabbitMQ), and the in-memory one confirms at once, so the
 * run measures the HTTP layer rather than the network.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import type { FastifyInstance } from 'fastify';
import { buildApi } from '../../src/api/server';
import { loadConfig } from '../../src/config/config';
import { InboundService } from '../../src/exchange/receive';
import { IngestService } from '../../src/exchange/submit';
import { Webhooks } from '../../src/exchange/uma-webhooks';
import { SqliteJournal } from '../../src/journal/journal-sqlite';
import { Metrics } from '../../src/ops/metrics';
import { MemoryBroker } from '../../src/queue/memory-broker';
import { DEV_CENTRAL_SUBJECT, centralIdentity } from '../../src/signing/central-identity';
import { loadSigningKey, loadTrustStore } from '../../src/signing';
import type { SigningKey } from '../../src/signing/types';
import { createXsdValidator } from '../../src/wire/xsd';
import { sharedPki } from '../helpers/stack';

/** Bearer tokens of the fuzzed gateway: an admin and a UMA client without roles. */
export const FUZZ_TOKENS = { admin: 'fuzz-admin-token', uma: 'fuzz-uma-token' } as const;

export interface FuzzStack {
  readonly app: FastifyInstance;
  readonly journal: SqliteJournal;
  /** Central's key, to sign notifications the way central does. */
  readonly central: SigningKey;
  /** The lines the gateway logged at level error or fatal (pino JSON). */
  readonly errorLines: string[];
  stop(): Promise<void>;
}

export async function startFuzzStack(): Promise<FuzzStack> {
  const { files: pki } = await sharedPki();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'davis-fuzz-'));
  const sha = (t: string): string => createHash('sha256').update(t).digest('hex');
  const config = loadConfig({
    env: {},
    overrides: {
      mode: 'dev', dataDir: dir,
      gateway: {
        port: 0,
        tokens: [
          { clientId: 'fuzz-ops', sha256: sha(FUZZ_TOKENS.admin), roles: ['admin'] },
          { clientId: 'fuzz-uma', sha256: sha(FUZZ_TOKENS.uma), roles: [] },
        ],
        // The limiter stays in the stack; one client sending 100,000 requests in minutes is the test, not abuse.
        rateLimit: { max: 100_000_000, windowMs: 1000 },
      },
      signing: { keyFile: pki.gatewayKey, certFile: pki.gatewayCert, trust: pki.caCert },
      central: { url: 'https://127.0.0.1:9/vis' },
    },
  });
  const errorLines: string[] = [];
  const logger = pino({ level: 'error' }, { write: (s: string) => { errorLines.push(s); } });
  const journal = new SqliteJournal(path.join(dir, 'journal.sqlite'));
  const broker = new MemoryBroker();
  const gatewayKey = loadSigningKey({ keyFile: pki.gatewayKey, certFile: pki.gatewayCert });
  const central = loadSigningKey({ keyFile: pki.centralKey, certFile: pki.centralCert });
  const trust = loadTrustStore(pki.caCert);
  const xsd = createXsdValidator();
  const webhooks = new Webhooks(config.webhook, journal, broker, logger);
  const ingest = new IngestService({ journal, broker, signingKey: () => gatewayKey, memberState: 'FI', maxBacklog: 1_000_000_000, logger });
  const inbound = new InboundService({
    journal, webhooks, trust: () => trust, central: centralIdentity({ subjects: [DEV_CENTRAL_SUBJECT], trust: () => trust }),
    signingKey: () => gatewayKey, xsd, logger,
  });
  const app = buildApi({
    config, ingest, inbound, journal, logger, metrics: new Metrics(), xsd,
    summary: async () => ({ messages: await journal.countByState(), broker: broker.connected, backlog: broker.backlog }),
    readiness: { journal: async () => { await journal.ping(); } },
  });
  await app.ready();
  return {
    app, journal, central, errorLines,
    async stop() {
      await app.close();
      await broker.close();
      await journal.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
