import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { isDavisError } from '../src/errors/errors';
import type { SigningKey, TrustStore } from '../src/signing/types';
import { signCanonical, verifyEnveloped } from '../src/signing/xmldsig';
import { screenXml } from '../src/wire/screen';
import type { CentralAnswer } from '../src/wire/types';
import { buildResponseXml, parseRequestXml } from '../src/wire/wire-xml';
import { createXsdValidator } from '../src/wire/xsd';
import { CentralState } from './central-state';

/** Options of the mock central VIS. */
export interface MockCentralOptions {
  /** @default "127.0.0.1" */
  readonly host: string;
  /** HTTPS port; 0 picks a free one. @default 8443 */
  readonly port: number;
  /** Plain-HTTP control port for `/_mock/*`, bound to loopback; undefined disables it. */
  readonly controlPort?: number;
  /** Central's TLS server certificate and key (PEM files). */
  readonly tlsCertFile: string;
  readonly tlsKeyFile: string;
  /** CA that client certificates must chain to (mutual TLS). */
  readonly clientCaFile: string;
  /** Central's signing identity for its answers. */
  readonly signingKey: SigningKey;
  /** Anchors the senders' signatures must chain to. */
  readonly trust: TrustStore;
  readonly logger: Logger;
}

/** One received message id, in arrival order. */
export interface ReceivedEntry {
  readonly id: string;
  readonly type: string;
  readonly sender: string;
  readonly firstAt: string;
  /** Times the same id arrived again after the first (idempotent repeats). */
  repeats: number;
  /** Outcome code of the first processing. */
  readonly code: string;
}

/**
 * A real HTTPS peer speaking the gateway's wire profile: client certificates required,
 * signature verified against its trust store, XML validated against the XSD, central
 * rules applied to its own state, answers signed. Idempotent on the message id.
 */
export class MockCentralVis {
  readonly state = new CentralState();
  private readonly received: ReceivedEntry[] = [];
  private readonly byId = new Map<string, { entry: ReceivedEntry; status: number; answerXml: string; raw: string }>();
  private readonly xsd = createXsdValidator();
  private server?: FastifyInstance;
  private control?: FastifyInstance;
  /** Ports bound by the first start, reused on a restart so clients find it where it was. */
  private bound?: { port: number; controlPort?: number };

  constructor(private readonly opts: MockCentralOptions) {}

  /** Starts listening (again on the same ports after a stop); resolves with the central endpoint URL and the control URL. */
  async start(): Promise<{ url: string; controlUrl?: string }> {
    const o = this.opts;
    const server = (Fastify as unknown as (x: object) => FastifyInstance)({
      loggerInstance: o.logger.child({ component: 'mock-central' }) as unknown as FastifyBaseLogger,
      logController: new LogController({ disableRequestLogging: true }),
      bodyLimit: 16 * 1024 * 1024,
      https: {
        cert: readFileSync(o.tlsCertFile), key: readFileSync(o.tlsKeyFile), ca: readFileSync(o.clientCaFile),
        requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.2',
      },
    });
    server.addContentTypeParser(['application/xml', 'text/xml'], { parseAs: 'string' }, (_req, body, done) => done(null, body));
    server.post('/vis/v1/messages', async (req, reply) => {
      const { status, xml } = this.process(String(req.body ?? ''), req.headers['x-davis-message-id']);
      return reply.code(status).type('application/xml; charset=utf-8').send(xml);
    });
    await server.listen({ host: o.host, port: this.bound?.port ?? o.port });
    this.server = server;
    const port = (server.server.address() as AddressInfo).port;
    const url = `https://${o.host}:${port}/vis/v1/messages`;
    let controlUrl: string | undefined;
    let controlPort: number | undefined;
    if (o.controlPort !== undefined) {
      this.control = this.buildControl();
      await this.control.listen({ host: '127.0.0.1', port: this.bound?.controlPort ?? o.controlPort });
      controlPort = (this.control.server.address() as AddressInfo).port;
      controlUrl = `http://127.0.0.1:${controlPort}`;
    }
    this.bound = { port, ...(controlPort !== undefined ? { controlPort } : {}) };
    return { url, ...(controlUrl ? { controlUrl } : {}) };
  }

  async stop(): Promise<void> {
    await this.control?.close();
    await this.server?.close();
    this.control = undefined;
    this.server = undefined;
  }

  /** Processes one request body; exported for tests that need no sockets. */
  process(body: string, headerId: unknown): { status: number; xml: string } {
    const log = this.opts.logger;
    let xml: string;
    const claimedId = typeof headerId === 'string' && /^[0-9a-f-]{36}$/.test(headerId) ? headerId : undefined;
    try {
      xml = screenXml(body);
    } catch (err) {
      return this.answer(400, claimedId ?? 'unknown', { result: 'REJECTED', code: 'VIS_ERR_MALFORMED', reason: codeOf(err) });
    }
    try {
      verifyEnveloped(xml, this.opts.trust);
    } catch (err) {
      log.info({ messageId: claimedId, code: codeOf(err) }, 'signature refused');
      return this.answer(400, claimedId ?? 'unknown', { result: 'REJECTED', code: 'VIS_ERR_SIGNATURE', reason: codeOf(err) });
    }
    const schemaErrors = this.xsd.validate(xml);
    if (schemaErrors.length) {
      return this.answer(400, claimedId ?? 'unknown', { result: 'REJECTED', code: 'VIS_ERR_SCHEMA', reason: schemaErrors.map((e) => `${e.pointer}: ${e.message}`).join('; ').slice(0, 500) });
    }
    let parsed: ReturnType<typeof parseRequestXml>;
    try {
      parsed = parseRequestXml(xml);
    } catch (err) {
      return this.answer(400, claimedId ?? 'unknown', { result: 'REJECTED', code: 'VIS_ERR_SCHEMA', reason: codeOf(err) });
    }
    const { header, payload } = parsed;
    const earlier = this.byId.get(header.messageId);
    if (earlier) {
      earlier.entry.repeats++;
      log.info({ messageId: header.messageId }, 'repeat of a processed message; same answer');
      return { status: earlier.status, xml: earlier.answerXml };
    }
    const outcome = this.state.apply(header.type, header.sender, header.messageId, payload as Record<string, unknown>);
    const res = this.answer(200, header.messageId, outcome);
    const entry: ReceivedEntry = { id: header.messageId, type: header.type, sender: header.sender, firstAt: new Date().toISOString(), repeats: 0, code: outcome.code };
    this.received.push(entry);
    this.byId.set(header.messageId, { entry, status: res.status, answerXml: res.xml, raw: xml });
    log.info({ messageId: header.messageId, type: header.type, code: outcome.code }, 'processed');
    return res;
  }

  private answer(status: number, inReplyTo: string, outcome: { result: 'ACCEPTED' | 'REJECTED'; code: string; centralReference?: string; reason?: string }): { status: number; xml: string } {
    const answer: CentralAnswer = {
      responseId: randomUUID(), inReplyTo, created: new Date().toISOString(), result: outcome.result, code: outcome.code,
      ...(outcome.centralReference ? { centralReference: outcome.centralReference } : {}),
      ...(outcome.reason ? { reason: outcome.reason } : {}),
    };
    return { status, xml: signCanonical(buildResponseXml(answer), this.opts.signingKey) };
  }

  /** Every id received, in arrival order, with repeat counts. */
  receivedList(): readonly ReceivedEntry[] {
    return this.received;
  }

  reset(): void {
    this.received.length = 0;
    this.byId.clear();
    this.state.reset();
  }

  private buildControl(): FastifyInstance {
    const app = (Fastify as unknown as (x: object) => FastifyInstance)({ logger: false });
    app.get('/_mock/received', async () => ({ count: this.received.length, items: this.received }));
    app.get<{ Params: { id: string } }>('/_mock/messages/:id', async (req, reply) => {
      const m = this.byId.get(req.params.id);
      if (!m) return reply.code(404).send({ code: 'MOCK_NOT_FOUND', message: 'no message with this id was received' });
      return reply.type('application/xml; charset=utf-8').send(m.raw);
    });
    app.post('/_mock/reset', async () => {
      this.reset();
      return { status: 'reset' };
    });
    return app;
  }
}

function codeOf(err: unknown): string {
  return isDavisError(err) ? err.code : 'UNREADABLE';
}
