import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { isDavisError } from '../../src/errors/errors';
import type { SigningKey, TrustStore } from '../../src/signing/types';
import { signCanonical } from '../../src/signing/xmldsig';
import type { CentralAnswer } from '../../src/wire/types';
import { buildRequestXml, buildResponseXml } from '../../src/wire/envelope';
import { readRequest, wireStage } from '../../src/wire/read-wire';
import { createXsdValidator, type XsdValidator } from '../../src/wire/xsd';
import { withXsdShortcut } from '../../src/wire/xsd-shortcut';
import type { RuleOutcome } from './codes';
import { CentralState } from './state';
import { seededRandom } from '../../src/util/seeded-random';

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
  /** Where `POST /_mock/notify` delivers central notifications, e.g. `http://127.0.0.1:8080/v1/central/notifications`. */
  readonly notifyUrl?: string;
  /**
   * The wire XSD check. @default libxml2 behind the XSD shortcut (`src/wire/xsd-shortcut.ts`):
   * libxml2's verdicts and errors, without libxml2 for the documents the shortcut is sure of.
   */
  readonly xsd?: XsdValidator;
}

/** Faults the mock injects into `POST /vis/v1/messages`, chosen by a seeded generator (same seed, same run). */
export interface FaultSettings {
  /** Seed of the generator that decides which requests fail. @default 1 */
  readonly seed?: number;
  /** Added to every answer, ms. */
  readonly latencyMs?: number;
  /** Share (0–1) of requests answered `errorStatus` before processing (no effect). */
  readonly errorRate?: number;
  /** HTTP status of injected errors. @default 503 */
  readonly errorStatus?: number;
  /** Share of connections reset before processing (no effect). */
  readonly resetRate?: number;
  /** Share of connections reset AFTER processing (the effect happened, the answer is lost). */
  readonly resetAfterRate?: number;
  /** Share of answers replaced by malformed XML after processing. */
  readonly malformedRate?: number;
  /** Share of answers sent without a signature after processing. */
  readonly unsignedRate?: number;
  /** Close the listener for this long (connections refused), then listen again on the same port, ms. */
  readonly refuseForMs?: number;
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
 * signature verified against its trust store, XML validated against the XSD (libxml2, behind
 * the XSD shortcut for the documents it is sure of), central rules applied to its own state,
 * answers signed. Idempotent on the message id.
 */
export class MockCentralVis {
  readonly state = new CentralState();
  private readonly received: ReceivedEntry[] = [];
  private readonly byId = new Map<string, { entry: ReceivedEntry; status: number; answerXml: string; raw: string }>();
  private readonly xsd: XsdValidator;
  private server?: FastifyInstance;
  private control?: FastifyInstance;
  /** Ports bound by the first start, reused on a restart so clients find it where it was. */
  private bound?: { port: number; controlPort?: number };
  private faults: FaultSettings = {};
  /** Where notifications go (from the options; settable once the gateway's address is known). */
  notifyUrl?: string;
  private random: () => number = seededRandom(1);
  private refuseTimer?: NodeJS.Timeout;

  private readonly log: Logger;

  constructor(private readonly opts: MockCentralOptions) {
    this.notifyUrl = opts.notifyUrl;
    this.log = opts.logger.child({ component: 'mock-central' });
    this.xsd = opts.xsd ?? withXsdShortcut(createXsdValidator());
  }

  /** Starts listening (again on the same ports after a stop); resolves with the central endpoint URL and the control URL. */
  async start(): Promise<{ url: string; controlUrl?: string }> {
    const o = this.opts;
    const port = await this.startMain();
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

  private async startMain(): Promise<number> {
    const o = this.opts;
    const server = (Fastify as unknown as (x: object) => FastifyInstance)({
      loggerInstance: o.logger.child({ component: 'mock-central' }) as unknown as FastifyBaseLogger,
      logController: new LogController({ disableRequestLogging: true }),
      bodyLimit: 16 * 1024 * 1024,
      forceCloseConnections: true,
      https: {
        cert: readFileSync(o.tlsCertFile), key: readFileSync(o.tlsKeyFile), ca: readFileSync(o.clientCaFile),
        requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.2',
      },
    });
    server.addContentTypeParser(['application/xml', 'text/xml'], { parseAs: 'string' }, (_req, body, done) => done(null, body));
    server.post('/vis/v1/messages', async (req, reply) => {
      const f = this.faults;
      if (f.latencyMs) await new Promise((r) => setTimeout(r, f.latencyMs));
      const roll = () => this.random();
      if (f.resetRate && roll() < f.resetRate) {
        req.raw.socket.destroy();
        return reply.hijack();
      }
      if (f.errorRate && roll() < f.errorRate) {
        return reply.code(f.errorStatus ?? 503).type('text/plain').send('injected fault');
      }
      const { status, xml } = this.process(typeof req.body === 'string' ? req.body : '', req.headers['x-davis-message-id']);
      if (f.resetAfterRate && roll() < f.resetAfterRate) {
        req.raw.socket.destroy();
        return reply.hijack();
      }
      if (f.malformedRate && roll() < f.malformedRate) {
        return reply.code(status).type('application/xml; charset=utf-8').send(xml.slice(0, Math.floor(xml.length / 2)));
      }
      if (f.unsignedRate && roll() < f.unsignedRate) {
        return reply.code(status).type('application/xml; charset=utf-8').send(xml.replace(/<ds:Signature[\s\S]*<\/ds:Signature>/, ''));
      }
      return reply.code(status).type('application/xml; charset=utf-8').send(xml);
    });
    // For probes: a GET has no effect; any answer below 500 says central is alive.
    server.get('/vis/v1/messages', async (_req, reply) => reply.code(405).header('allow', 'POST').send({ status: 'alive' }));
    await server.listen({ host: o.host, port: this.bound?.port ?? o.port });
    this.server = server;
    return (server.server.address() as AddressInfo).port;
  }

  /** Sets (replaces) the injected faults; `{}` clears them. */
  setFaults(f: FaultSettings): void {
    this.faults = { ...f };
    this.random = seededRandom(f.seed ?? 1);
    if (f.refuseForMs) {
      const ms = f.refuseForMs;
      this.faults = { ...f, refuseForMs: undefined };
      void this.refuseFor(ms);
    }
  }

  getFaults(): FaultSettings {
    return this.faults;
  }

  private async refuseFor(ms: number): Promise<void> {
    if (this.refuseTimer || !this.server) return;
    this.opts.logger.info({ ms }, 'refusing connections');
    await this.server.close();
    this.server = undefined;
    this.refuseTimer = setTimeout(() => {
      this.refuseTimer = undefined;
      this.startMain().catch((err: unknown) => this.opts.logger.error({ err: { message: (err as Error).message } }, 'mock could not listen again'));
    }, ms);
  }

  async stop(): Promise<void> {
    if (this.refuseTimer) clearTimeout(this.refuseTimer);
    this.refuseTimer = undefined;
    await this.control?.close();
    await this.server?.close();
    this.control = undefined;
    this.server = undefined;
  }

  /** Processes one request body; exported for tests that need no sockets. */
  process(body: string, headerId: unknown): { status: number; xml: string } {
    const log = this.log;
    const claimedId = typeof headerId === 'string' && /^[0-9a-f-]{36}$/.test(headerId) ? headerId : undefined;
    // One read: screened and parsed once, the signature verified on that tree, the XSD, then
    // the payload mapped from the same tree. Each step's refusal has its own central code.
    let read: ReturnType<typeof readRequest>;
    try {
      read = readRequest(body, { trust: this.opts.trust, xsd: this.xsd });
    } catch (err) {
      const stage = isDavisError(err) ? wireStage(err.code) : 'mapping';
      if (stage === 'xml') return this.answer(400, claimedId ?? 'unknown', { result: 'REJECTED', code: 'VIS_ERR_MALFORMED', reason: codeOf(err) });
      if (stage === 'signature') {
        log.info({ messageId: claimedId, code: codeOf(err) }, 'signature refused');
        return this.answer(400, claimedId ?? 'unknown', { result: 'REJECTED', code: 'VIS_ERR_SIGNATURE', reason: codeOf(err) });
      }
      const reason = stage === 'schema' && isDavisError(err) && err.errors?.length ? err.errors.map((e) => `${e.pointer}: ${e.message}`).join('; ').slice(0, 500) : codeOf(err);
      return this.answer(400, claimedId ?? 'unknown', { result: 'REJECTED', code: 'VIS_ERR_SCHEMA', reason });
    }
    const { header, payload } = read;
    const xml = read.document.source;
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

  private answer(status: number, inReplyTo: string, outcome: RuleOutcome): { status: number; xml: string } {
    const answer: CentralAnswer = {
      responseId: randomUUID(), inReplyTo, created: new Date().toISOString(), result: outcome.result, code: outcome.code,
      ...(outcome.centralReference ? { centralReference: outcome.centralReference } : {}),
      ...(outcome.reason ? { reason: outcome.reason } : {}),
      ...(outcome.data ? { data: outcome.data } : {}),
    };
    return { status, xml: signCanonical(buildResponseXml(answer), this.opts.signingKey) };
  }

  /** Every id received, in arrival order, with repeat counts. */
  receivedList(): readonly ReceivedEntry[] {
    return this.received;
  }

  /**
   * Pushes a central notification to the gateway: the wire document built and signed as
   * central would, POSTed to `notifyUrl` (with central's client certificate over HTTPS).
   */
  async notify(type: string, payload: unknown, opts: { url?: string; messageId?: string } = {}): Promise<{ id: string; status: number; body: string }> {
    const url = opts.url ?? this.notifyUrl;
    if (!url) throw new Error('no notify URL: start the mock with notifyUrl or pass "url"');
    const id = opts.messageId ?? randomUUID();
    const xml = signCanonical(buildRequestXml({ messageId: id, type, sender: 'EU', created: new Date().toISOString() }, payload), this.opts.signingKey);
    const target = new URL(url);
    const mod = target.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const req = mod.request(target, {
        method: 'POST', headers: { 'content-type': 'application/xml; charset=utf-8' }, timeout: 10000,
        ...(target.protocol === 'https:' ? { cert: readFileSync(this.opts.tlsCertFile), key: readFileSync(this.opts.tlsKeyFile), ca: readFileSync(this.opts.clientCaFile) } : {}),
      }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => { body += c; });
        res.on('end', () => resolve({ id, status: res.statusCode ?? 0, body }));
      });
      req.on('timeout', () => req.destroy(new Error('the gateway did not answer the notification')));
      req.on('error', reject);
      req.end(xml);
    });
  }

  reset(): void {
    this.received.length = 0;
    this.byId.clear();
    this.state.reset();
    this.setFaults({});
  }

  private buildControl(): FastifyInstance {
    const app = (Fastify as unknown as (x: object) => FastifyInstance)({ logger: false });
    app.get('/_mock/received', async () => ({ count: this.received.length, items: this.received }));
    app.get<{ Params: { id: string } }>('/_mock/messages/:id', async (req, reply) => {
      const m = this.byId.get(req.params.id);
      if (!m) return reply.code(404).send({ code: 'MOCK_NOT_FOUND', message: 'no message with this id was received' });
      return reply.type('application/xml; charset=utf-8').send(m.raw);
    });
    app.get('/_mock/faults', async () => this.faults);
    app.post('/_mock/faults', async (req, reply) => {
      const problem = checkFaults(req.body);
      if (problem) return reply.code(400).send({ code: 'MOCK_BAD_FAULTS', message: problem });
      this.setFaults(req.body as FaultSettings);
      return { status: 'set', faults: this.faults };
    });
    app.post('/_mock/notify', async (req, reply) => {
      const b = req.body as { type?: unknown; payload?: unknown; url?: unknown; messageId?: unknown } | undefined;
      if (!b || typeof b.type !== 'string' || !b.payload || typeof b.payload !== 'object') {
        return reply.code(400).send({ code: 'MOCK_BAD_NOTIFY', message: 'body: {"type": "<notification type>", "payload": {…}, "url"?: "…", "messageId"?: "…"}' });
      }
      try {
        const r = await this.notify(b.type, b.payload, {
          ...(typeof b.url === 'string' ? { url: b.url } : {}), ...(typeof b.messageId === 'string' ? { messageId: b.messageId } : {}),
        });
        return { id: r.id, gatewayStatus: r.status, gatewayAnswer: r.body };
      } catch (err) {
        return reply.code(502).send({ code: 'MOCK_NOTIFY_FAILED', message: (err as Error).message });
      }
    });
    // Seeding central state the way other Member States and the other EU systems would have.
    app.get('/_mock/state', async () => ({
      applications: this.state.applications.size, visas: this.state.visas.size, lsvrpApplications: this.state.lsvrpApplications.size,
      lsvrpDocuments: this.state.lsvrpDocuments.size, links: this.state.links.size, consultations: this.state.consultations.size,
      espHitConfigurations: this.state.espHitConfig().length,
    }));
    app.post('/_mock/state/esp-hits', async (req, reply) => {
      try {
        this.state.configureEspHits(req.body as never);
        return { status: 'configured', entries: this.state.espHitConfig().length };
      } catch (err) {
        return reply.code(400).send({ code: 'MOCK_BAD_STATE', message: (err as Error).message });
      }
    });
    app.delete('/_mock/state/esp-hits', async () => {
      this.state.clearEspHits();
      return { status: 'cleared' };
    });
    app.post('/_mock/state/links', async (req, reply) => {
      try {
        const link = this.state.seedLink(req.body as never);
        return { status: 'seeded', linkId: link.linkId, colour: link.colour };
      } catch (err) {
        return reply.code(400).send({ code: 'MOCK_BAD_STATE', message: (err as Error).message });
      }
    });
    app.post('/_mock/state/apply', async (req, reply) => {
      const b = req.body as { type?: unknown; sender?: unknown; payload?: unknown } | undefined;
      if (!b || typeof b.type !== 'string' || typeof b.sender !== 'string' || !/^[A-Z]{2}$/.test(b.sender) || !b.payload || typeof b.payload !== 'object') {
        return reply.code(400).send({ code: 'MOCK_BAD_STATE', message: 'body: {"type": "<catalogue id>", "sender": "SE", "payload": {…}} — a message as another Member State sent it' });
      }
      return this.state.apply(b.type, b.sender, randomUUID(), b.payload as Record<string, unknown>);
    });
    app.post('/_mock/reset', async () => {
      this.reset();
      return { status: 'reset' };
    });
    return app;
  }
}

const RATES = ['errorRate', 'resetRate', 'resetAfterRate', 'malformedRate', 'unsignedRate'];
const DURATIONS = ['latencyMs', 'refuseForMs', 'seed'];

/** Why a fault document is unusable, or undefined. */
function checkFaults(body: unknown): string | undefined {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return 'the body must be a JSON object';
  for (const [k, v] of Object.entries(body)) {
    if (RATES.includes(k)) {
      if (typeof v !== 'number' || v < 0 || v > 1) return `${k} must be a number from 0 to 1`;
    } else if (DURATIONS.includes(k)) {
      if (!Number.isInteger(v) || (v as number) < 0) return `${k} must be a non-negative integer`;
    } else if (k === 'errorStatus') {
      if (!Number.isInteger(v) || (v as number) < 100 || (v as number) > 599) return 'errorStatus must be an HTTP status';
    } else {
      return `unknown fault "${k}"`;
    }
  }
  return undefined;
}

function codeOf(err: unknown): string {
  return isDavisError(err) ? err.code : 'UNREADABLE';
}
