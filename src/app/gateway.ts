import net from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { IngestService } from '../api/ingest';
import { buildApi } from '../api/server';
import { sqliteFile, type Config } from '../config/config';
import { HttpsCentralClient } from '../dispatch/central-client';
import { Dispatcher } from '../dispatch/dispatcher';
import { DavisError } from '../errors/errors';
import type { Journal } from '../journal/journal';
import { SqliteJournal } from '../journal/journal-sqlite';
import { AmqpBroker } from '../queue/amqp-broker';
import { loadSigningKey, loadTrustStore, secondsUntilExpiry } from '../signing/pki';
import type { SigningKey, TrustStore } from '../signing/types';
import { verifyEnveloped } from '../signing/xmldsig';
import { parseResponseXml } from '../wire/wire-xml';

/** A running gateway: its HTTP server, and the parts tests and the CLI need to reach. */
export interface Gateway {
  readonly app: FastifyInstance;
  readonly journal: Journal;
  readonly broker: AmqpBroker;
  readonly dispatcher: Dispatcher;
  /** The API address once listening, e.g. `http://127.0.0.1:8080`. */
  url?: string;
  start(opts?: { listen?: boolean }): Promise<void>;
  /** Stops intake, returns in-flight work to the queue, closes broker and journal. */
  stop(): Promise<void>;
}

/** Builds every part of the gateway from the frozen config; nothing listens or connects yet. */
export function createGateway(config: Config, logger: Logger): Gateway {
  const s = config.signing;
  if (!s.p12File && !(s.keyFile && s.certFile)) {
    throw new DavisError('DAVIS_ERR_CONFIG_INVALID', 'invalid configuration: signing.keyFile and signing.certFile (or signing.p12File) are required');
  }
  if (!s.trust) throw new DavisError('DAVIS_ERR_CONFIG_INVALID', 'invalid configuration: signing.trust (trust anchors for central\'s signatures) is required');
  let signingKey: SigningKey = loadSigningKey({
    ...(s.keyFile ? { keyFile: s.keyFile } : {}), ...(s.certFile ? { certFile: s.certFile } : {}),
    ...(s.p12File ? { p12File: s.p12File } : {}), ...(s.passphrase !== undefined ? { passphrase: s.passphrase } : {}),
  });
  const trust: TrustStore = loadTrustStore(s.trust);
  const journal: Journal = new SqliteJournal(sqliteFile(config));
  const broker = new AmqpBroker({ url: config.amqp.url, prefix: config.amqp.prefix, shards: config.amqp.shards, confirmTimeoutMs: config.amqp.confirmTimeoutMs, logger: logger.child({ component: 'broker' }) });
  const c = config.central;
  const central = new HttpsCentralClient({
    url: c.url, timeoutMs: c.timeoutMs,
    ...(c.caFile ? { caFile: c.caFile } : {}), ...(c.certFile ? { certFile: c.certFile } : {}), ...(c.keyFile ? { keyFile: c.keyFile } : {}),
  });
  const dispatcher = new Dispatcher({
    journal, broker, central, logger: logger.child({ component: 'dispatcher' }),
    maxAttempts: c.maxAttempts, retryBaseMs: c.retryBaseMs,
    readAnswer: (xml) => {
      verifyEnveloped(xml, trust);
      return parseResponseXml(xml);
    },
  });
  const ingest = new IngestService({ journal, broker, signingKey: () => signingKey, memberState: config.memberState, logger: logger.child({ component: 'ingest' }) });
  const centralUrl = new URL(c.url);
  const app = buildApi({
    config, ingest, journal, logger,
    readiness: {
      broker: async () => { if (!broker.connected) throw new Error('not connected'); },
      journal: async () => { await journal.ping(); },
      signingKey: async () => {
        const left = secondsUntilExpiry(signingKey.certificate);
        if (left <= 0) throw new Error('signing certificate expired');
        return { secondsUntilExpiry: left };
      },
      central: () => tcpProbe(centralUrl.hostname, Number(centralUrl.port || (centralUrl.protocol === 'https:' ? 443 : 80)), 1000),
    },
  });

  const gw: Gateway = {
    app, journal, broker, dispatcher,
    async start(opts = {}) {
      try {
        await broker.start();
      } catch (err) {
        await journal.close();
        throw new DavisError('DAVIS_ERR_BROKER_UNAVAILABLE', `cannot reach RabbitMQ at ${redactUrl(config.amqp.url)}: ${(err as Error).message}`, { cause: err });
      }
      await dispatcher.start();
      if (opts.listen !== false) {
        const address = await app.listen({ host: config.gateway.host, port: config.gateway.port });
        gw.url = address;
      } else {
        await app.ready();
      }
    },
    async stop() {
      await app.close();
      await dispatcher.stop();
      await broker.close();
      central.close();
      await journal.close();
    },
  };
  return gw;
}

/** The URL without its password, for messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable URL)';
  }
}

function tcpProbe(host: string, port: number, timeoutMs: number): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host, port, timeout: timeoutMs });
    sock.once('connect', () => { sock.destroy(); resolve({ endpoint: `${host}:${port}` }); });
    sock.once('timeout', () => { sock.destroy(); reject(new Error(`no answer from ${host}:${port}`)); });
    sock.once('error', (err) => reject(new Error(`${host}:${port}: ${(err as NodeJS.ErrnoException).code ?? err.message}`)));
  });
}
