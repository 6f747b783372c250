import net from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { IngestService } from '../exchange/submit';
import { InboundService } from '../exchange/receive';
import { createXsdValidator } from '../wire/xsd';
import { buildApi } from '../api/server';
import { redactUrl, type Config } from '../config/config';
import { HttpsCentralClient } from '../central/central-https';
import { Dispatcher } from '../exchange/dispatcher';
import { OutboxRelay } from '../exchange/outbox-relay';
import { Webhooks } from '../exchange/uma-webhooks';
import { DavisError } from '../errors/errors';
import type { Journal } from '../journal/journal';
import { openJournal, openSqliteJournal } from '../journal/open-journal';
import { AmqpBroker } from '../queue/amqp-broker';
import type { Broker } from '../queue/queue';
import { SigningKeyStore, TrustStoreHolder } from '../signing/key-store';
import { DEV_CENTRAL_SUBJECT, centralIdentity, type CentralIdentity } from '../signing/central-identity';
import { readResponse } from '../wire/read-wire';
import { compileAll } from '../validation/validate';
import { Metrics } from '../ops/metrics';
import type { AuditLog } from '../audit/audit';
import type { AuditStore } from '../audit/audit-store';
import type { Checkpointer } from '../audit/checkpoints';
import { auditStoreOf, createCheckpointer } from '../audit/open-audit';
import { pkiReloadEvent } from '../audit/records';
import { Retention, retentionOf } from '../exchange/retention';

/** A running gateway: its HTTP server, and the parts tests and the CLI need to reach. */
export interface Gateway {
  readonly app: FastifyInstance;
  readonly journal: Journal;
  /** The queue port; the amqplib adapter behind it stays inside the wiring. */
  readonly broker: Broker;
  readonly dispatcher: Dispatcher;
  readonly relay: OutboxRelay;
  readonly webhooks: Webhooks;
  readonly keyStore: SigningKeyStore;
  readonly metrics: Metrics;
  readonly trust: TrustStoreHolder;
  /** The Art 34 audit log, in the journal's database. */
  readonly audit: AuditStore;
  /** Signs checkpoints of the audit log (every N records, every T ms, at stop). */
  readonly checkpointer: Checkpointer;
  /** Retention on the `retention.intervalMs` timer; `run()` for one run now. */
  readonly retention: Retention;
  /** Reloads the signing key and trust anchors from their files (what SIGHUP does). */
  reloadPki(): boolean;
  /** The API address once listening, e.g. `http://127.0.0.1:8080`. */
  url?: string;
  start(opts?: { listen?: boolean }): Promise<void>;
  /** Stops intake, returns in-flight work to the queue, closes broker and journal. */
  stop(): Promise<void>;
}

/** How the gateway is built beyond its configuration; nothing here is reachable from the configuration or the CLI. */
export interface GatewayOptions {
  /**
   * Where the use cases (intake, dispatch, notifications) write their Art 34 records instead
   * of the audit store. Only for measuring what the trail costs (the bench's baseline): a
   * production gateway always records into its store.
   */
  readonly auditLog?: AuditLog;
}

/** Opens the configured journal (SQLite or PostgreSQL) and builds the gateway on it. */
export async function openGateway(config: Config, logger: Logger, opts: GatewayOptions = {}): Promise<Gateway> {
  const journal = await openJournal(config);
  try {
    return createGateway(config, logger, journal, opts);
  } catch (err) {
    await journal.close();
    throw err;
  }
}

/**
 * Builds every part of the gateway from the frozen config; nothing listens or connects yet.
 * Without a journal it opens the embedded SQLite one (`openGateway` honours `journal.driver`).
 */
export function createGateway(config: Config, logger: Logger, givenJournal?: Journal, opts: GatewayOptions = {}): Gateway {
  // Every catalogue schema compiles now: a broken schema stops the start, not a request.
  compileAll();
  const s = config.signing;
  if (!s.p12File && !(s.keyFile && s.certFile)) {
    throw new DavisError('DAVIS_ERR_CONFIG_INVALID', { problems: 'signing.keyFile and signing.certFile (or signing.p12File) are required' },
      { errors: [{ pointer: '/signing/keyFile', message: 'required (with certFile), or p12File' }] });
  }
  const trustPaths = s.central?.trust ?? s.trust;
  if (!trustPaths) {
    throw new DavisError('DAVIS_ERR_CONFIG_INVALID', { problems: 'signing.central.trust (trust anchors for central\'s signatures) is required' },
      { errors: [{ pointer: '/signing/central/trust', message: 'required' }] });
  }
  // Key and trust anchors reload on SIGHUP and when their files change; a message being
  // signed keeps the key it fetched, so a reload loses nothing in flight.
  const pkiLog = logger.child({ component: 'pki' });
  const { trust: _trust, central: _central, ocsp: _ocsp, ...keySource } = s;
  const keyStore = new SigningKeyStore({ ...keySource, logger: pkiLog });
  let trustHolder: TrustStoreHolder | undefined;
  let centralId: CentralIdentity;
  try {
    const holder = new TrustStoreHolder({ paths: trustPaths, logger: pkiLog });
    trustHolder = holder;
    // A signature that chains to central's anchors is central's only if the signer is pinned;
    // dev mode pins the development PKI's central when nothing else is configured.
    const pins = s.central?.subjects?.length || s.central?.fingerprints?.length ? s.central
      : config.mode === 'dev' ? { subjects: [DEV_CENTRAL_SUBJECT] } : {};
    centralId = centralIdentity({ ...pins, trust: () => holder.current(), ...(s.ocsp ? { ocsp: s.ocsp } : {}) });
  } catch (err) {
    trustHolder?.close();
    keyStore.close();
    throw err;
  }
  if (!givenJournal && config.journal.driver !== 'sqlite') {
    throw new DavisError('DAVIS_ERR_CONFIG_INVALID', { problems: `journal.driver "${config.journal.driver}" needs openGateway()` },
      { errors: [{ pointer: '/journal/driver', message: 'needs openGateway()' }] });
  }
  const journal: Journal = givenJournal ?? openSqliteJournal(config);
  const audit = auditStoreOf(journal);
  const auditLog = logger.child({ component: 'audit' });
  const checkpointer = createCheckpointer(config, audit, () => keyStore.current(), auditLog);
  const records: AuditLog = opts.auditLog ?? audit;
  const recordPki = (what: 'signing-key' | 'trust-anchors', outcome: string): void => {
    audit.record(pkiReloadEvent(what, outcome)).catch((err: unknown) => auditLog.error({ err: { message: (err as Error).message } }, 'audit record of a PKI reload failed'));
  };
  keyStore.on('reloaded', () => recordPki('signing-key', 'ok'));
  keyStore.on('reload-failed', (err) => recordPki('signing-key', err.code));
  trustHolder.on('reloaded', () => recordPki('trust-anchors', 'ok'));
  trustHolder.on('reload-failed', (err) => recordPki('trust-anchors', err.code));
  const retention = new Retention({ journal: retentionOf(journal), audit, policy: config.retention, logger: logger.child({ component: 'retention' }) });
  const broker = new AmqpBroker({ ...config.amqp, logger: logger.child({ component: 'broker' }) });
  const c = config.central;
  const central = new HttpsCentralClient(c);
  const metrics = new Metrics();
  const webhooks = new Webhooks(config.webhook, journal, broker, logger.child({ component: 'webhooks' }), metrics);
  const dispatcher = new Dispatcher({
    ...c, journal, broker, central, webhooks, logger: logger.child({ component: 'dispatcher' }), metrics, audit: records,
    readAnswer: async (xml) => {
      const read = readResponse(xml, { trust: centralId.trust() });
      if (!read.verified) throw new DavisError('DAVIS_ERR_SIG_MISSING');
      centralId.assertSigner(read.verified);
      await centralId.checkRevocation(read.verified);
      return read.answer;
    },
  });
  const ingest = new IngestService({
    journal, broker, signingKey: () => keyStore.current(), memberState: config.memberState, maxBacklog: config.amqp.maxBacklog,
    logger: logger.child({ component: 'ingest' }), audit: records,
  });
  const relay = new OutboxRelay({
    journal, broker, logger: logger.child({ component: 'relay' }), intervalMs: config.relayIntervalMs,
    graceMs: Math.max(1000, 2 * config.amqp.confirmTimeoutMs),
  });
  const xsd = createXsdValidator();
  const inbound = new InboundService({
    journal, webhooks, trust: () => trustHolder.current(), central: centralId, signingKey: () => keyStore.current(),
    xsd, logger: logger.child({ component: 'inbound' }), audit: records,
  });
  const centralUrl = new URL(c.url);
  const centralPort = Number(centralUrl.port || (centralUrl.protocol === 'https:' ? 443 : 80));
  metrics.attach({
    countByState: () => journal.countByState(),
    brokerConnected: () => broker.connected,
    backlog: () => broker.backlog,
    backlogByQueue: () => broker.backlogByQueue,
    circuitState: () => dispatcher.breaker.state,
    centralReachable: () => tcpProbe(centralUrl.hostname, centralPort, 1000).then(() => true, () => false),
    signingCertificateSecondsLeft: () => keyStore.secondsUntilExpiry(),
    trustAnchorSecondsLeft: () => Math.floor(Math.min(...trustHolder.current().anchors.map((c) => Date.parse(c.validTo) - Date.now())) / 1000),
    lastAuditCheckpointMs: () => checkpointer.lastCheckpointMs,
  });
  // What pages an operator beside the counts: trust anchors and CRLs running out, the last audit checkpoint.
  const diagnostics = (): Record<string, unknown> => {
    const t = trustHolder.current();
    const crlNext = (t.crls ?? []).map((c) => c.nextUpdate).filter((n): n is number => n !== undefined);
    const cp = checkpointer.lastCheckpointMs;
    return {
      checkedAt: new Date().toISOString(),
      trustAnchorSecondsLeft: Math.floor(Math.min(...t.anchors.map((c) => Date.parse(c.validTo) - Date.now())) / 1000),
      ...(crlNext.length ? { crlSecondsLeft: Math.floor((Math.min(...crlNext) - Date.now()) / 1000) } : {}),
      ...(cp !== undefined ? { auditCheckpointAgeSeconds: Math.floor((Date.now() - cp) / 1000) } : {}),
    };
  };
  const app = buildApi({
    config, ingest, inbound, journal, logger, metrics, xsd, audit, checkpoint: () => checkpointer.checkpoint(),
    summary: async () => ({
      messages: await journal.countByState(), broker: broker.connected, backlog: broker.backlog,
      circuit: dispatcher.breaker.state, signingCertificateSecondsLeft: keyStore.secondsUntilExpiry(),
      ...diagnostics(),
    }),
    readiness: {
      broker: async () => { if (!broker.connected) throw new Error('not connected'); },
      journal: async () => { await journal.ping(); },
      signingKey: async () => {
        const left = keyStore.secondsUntilExpiry();
        if (left <= 0) throw new Error('signing certificate expired');
        return { secondsUntilExpiry: left, ...(keyStore.lastReloadError ? { lastReloadError: keyStore.lastReloadError.code } : {}) };
      },
      central: () => tcpProbe(centralUrl.hostname, Number(centralUrl.port || (centralUrl.protocol === 'https:' ? 443 : 80)), 1000),
    },
  });

  const gw: Gateway = {
    app, journal, broker, dispatcher, relay, webhooks, keyStore, metrics, trust: trustHolder, audit, checkpointer, retention,
    reloadPki: () => {
      const k = keyStore.reload();
      const t = trustHolder.reload();
      return k && t;
    },
    async start(opts = {}) {
      try {
        await broker.start();
      } catch (err) {
        await journal.close();
        keyStore.close();
        trustHolder.close();
        throw new DavisError('DAVIS_ERR_BROKER_UNAVAILABLE', { reason: `cannot reach RabbitMQ at ${config.amqp.urls.map(redactUrl).join(', ')}: ${(err as Error).message}` }, { cause: err });
      }
      await dispatcher.start();
      await webhooks.start();
      relay.start();
      checkpointer.start();
      retention.start();
      if (opts.listen !== false) {
        const address = await app.listen({ host: config.gateway.host, port: config.gateway.port });
        gw.url = address;
      } else {
        await app.ready();
      }
    },
    async stop() {
      // Intake first (in-flight requests finish), then the work being sent, then the broker.
      await app.close();
      await relay.stop();
      await retention.stop();
      await dispatcher.stop();
      const drained = await Promise.race([
        broker.stopConsuming().then(() => true),
        new Promise<false>((r) => setTimeout(() => r(false), config.shutdownTimeoutMs).unref()),
      ]);
      if (!drained) logger.warn('shutdown timeout: unfinished work returns to the queue');
      await broker.close();
      // The last records get their checkpoint before the journal closes.
      await checkpointer.stop();
      central.close();
      keyStore.close();
      trustHolder.close();
      await journal.close();
    },
  };
  return gw;
}


function tcpProbe(host: string, port: number, timeoutMs: number): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host, port, timeout: timeoutMs });
    sock.once('connect', () => { sock.destroy(); resolve({ endpoint: `${host}:${port}` }); });
    sock.once('timeout', () => { sock.destroy(); reject(new Error(`no answer from ${host}:${port}`)); });
    sock.once('error', (err) => reject(new Error(`${host}:${port}: ${(err as NodeJS.ErrnoException).code ?? err.message}`)));
  });
}
