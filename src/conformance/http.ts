/**
 * HTTP for the runner: one function that sends a request and keeps what went out and what
 * came back, for the steps' assertions and the HTML report.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** A request to make. */
export interface HttpRequest {
  readonly method: string;
  readonly url: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** A JSON value (sent as JSON) or a string (sent as is). */
  readonly body?: unknown;
  /** @default 15000 */
  readonly timeoutMs?: number;
}

/** An answer. `json` is the parsed body when it is JSON, else the text. */
export interface HttpAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: unknown;
  readonly text: string;
}

/** A transport failure (refused, reset, timeout), as opposed to an HTTP answer. */
export class TransportError extends Error {
  readonly code = 'CONFORMANCE_TRANSPORT';
  constructor(readonly url: string, message: string, options?: { cause?: unknown }) {
    super(`${url}: ${message}`, options);
    this.name = 'TransportError';
  }
}

/** Sends a request; resolves with any HTTP answer, throws {@link TransportError} when there is none. */
export async function httpRequest(req: HttpRequest): Promise<HttpAnswer> {
  const headers: Record<string, string> = { ...(req.headers ?? {}) };
  let body: string | undefined;
  if (req.body !== undefined) {
    if (typeof req.body === 'string') body = req.body;
    else {
      body = JSON.stringify(req.body);
      if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json';
    }
  }
  let res: Response;
  try {
    res = await fetch(req.url, { method: req.method, headers, ...(body !== undefined ? { body } : {}), signal: AbortSignal.timeout(req.timeoutMs ?? 15000) });
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    throw new TransportError(req.url, cause?.code ?? cause?.message ?? (err as Error).message, { cause: err });
  }
  const text = await res.text();
  let parsed: unknown = text;
  if (text && /json/i.test(res.headers.get('content-type') ?? '')) {
    try { parsed = JSON.parse(text); } catch { parsed = text; }
  }
  const out: Record<string, string> = {};
  res.headers.forEach((v, k) => { out[k] = v; });
  return { status: res.status, headers: out, body: text === '' ? undefined : parsed, text };
}

/** One callback the receiver got. */
export interface ReceivedWebhook {
  readonly seq: number;
  readonly at: string;
  readonly path: string;
  /** Header names in lower case. */
  readonly headers: Readonly<Record<string, string>>;
  readonly text: string;
  readonly json?: unknown;
  /** Whether `X-Davis-Signature` matches the secret; undefined without a secret. */
  readonly signatureValid?: boolean;
}

/** `sha256=<hex>` HMAC-SHA256 of `body` under `secret`, as the gateway signs its callbacks. */
export function webhookSignatureOf(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** Where callbacks are read from: a receiver of the run's own, or the one `davis dev` runs. */
export interface CallbackSource {
  /** Every callback so far, in arrival order. */
  readonly received: readonly ReceivedWebhook[];
  /** Whether `signatureValid` is set: the receiver knows the gateway's secret. */
  readonly checksSignatures: boolean;
  /** Resolves at the next callback or after `ms`, whichever is first. */
  nextArrival(ms: number): Promise<void>;
  stop(): Promise<void>;
}

/** Where a receiver lists what it got (`GET`, `?after=<seq>&waitMs=<ms>`): what the runner reads of `davis dev`'s receiver. */
export const CALLBACKS_PATH = '/_uma/callbacks';

/** Port of the UMA callback receiver `davis dev` starts on loopback, and the runner's default. */
export const DEV_CALLBACK_PORT = 8445;

/** The runner's default callback receiver: the one `davis dev` runs. */
export const DEFAULT_CALLBACK_RECEIVER_URL = `http://127.0.0.1:${DEV_CALLBACK_PORT}`;

/**
 * A local HTTP endpoint standing in for UMA's webhook: keeps every callback (answering
 * 204) so `expect-webhook` steps can look for the one they expect. `GET /_uma/callbacks`
 * lists them for a runner in another process (long-polling with `waitMs`).
 */
export class WebhookReceiver implements CallbackSource {
  readonly received: ReceivedWebhook[] = [];
  private server?: http.Server;
  private seq = 0;
  private waiters: (() => void)[] = [];

  constructor(private readonly secret?: string) {}

  get checksSignatures(): boolean {
    return this.secret !== undefined;
  }

  /** Listens on `host:port` (0: any free port); resolves with the URL to configure as `webhook.url`. */
  async start(port: number, host = '127.0.0.1'): Promise<string> {
    const server = http.createServer((req, res) => {
      if (req.method === 'GET' && (req.url ?? '').split('?')[0] === CALLBACKS_PATH) {
        void this.list(new URL(req.url ?? '/', 'http://receiver').searchParams, res);
        return;
      }
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers[k] = v;
        let json: unknown;
        try { json = text ? JSON.parse(text) : undefined; } catch { json = undefined; }
        let signatureValid: boolean | undefined;
        if (this.secret !== undefined) {
          const given = Buffer.from(headers['x-davis-signature'] ?? '');
          const want = Buffer.from(webhookSignatureOf(this.secret, text));
          signatureValid = given.length === want.length && timingSafeEqual(given, want);
        }
        this.received.push({
          seq: ++this.seq, at: new Date().toISOString(), path: req.url ?? '/', headers, text,
          ...(json !== undefined ? { json } : {}), ...(signatureValid !== undefined ? { signatureValid } : {}),
        });
        res.writeHead(204).end();
        const w = this.waiters;
        this.waiters = [];
        for (const f of w) f();
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    this.server = server;
    const a = server.address() as AddressInfo;
    return `http://${host}:${a.port}/`;
  }

  /** `GET /_uma/callbacks`: the callbacks after `after`, waiting up to `waitMs` (≤ 30 s) for one when there is none yet. */
  private async list(q: URLSearchParams, res: http.ServerResponse): Promise<void> {
    const after = Number(q.get('after') ?? 0) || 0;
    const waitMs = Math.min(30000, Math.max(0, Number(q.get('waitMs') ?? 0) || 0));
    if (waitMs > 0 && !this.received.some((w) => w.seq > after)) await this.nextArrival(waitMs);
    const body = JSON.stringify({ checksSignatures: this.checksSignatures, last: this.seq, callbacks: this.received.filter((w) => w.seq > after) });
    res.writeHead(200, { 'content-type': 'application/json' }).end(body);
  }

  nextArrival(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      this.waiters.push(() => { clearTimeout(t); resolve(); });
    });
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (s) await new Promise<void>((r) => { s.closeAllConnections?.(); s.close(() => r()); });
  }
}

/**
 * The callbacks a receiver in another process got (`davis dev`'s), read from its
 * `GET /_uma/callbacks`: only those that arrive after {@link RemoteCallbacks.connect}.
 */
export class RemoteCallbacks implements CallbackSource {
  readonly received: ReceivedWebhook[] = [];
  private constructor(private readonly base: string, private last: number, readonly checksSignatures: boolean) {}

  /** Resolves when the receiver answers, undefined when nothing listens there. */
  static async connect(base: string): Promise<RemoteCallbacks | undefined> {
    const url = base.replace(/\/+$/, '');
    try {
      const page = await RemoteCallbacks.fetchPage(url, 0, 0);
      return new RemoteCallbacks(url, page.last, page.checksSignatures);
    } catch {
      return undefined;
    }
  }

  private static async fetchPage(base: string, after: number, waitMs: number): Promise<{ last: number; checksSignatures: boolean; callbacks: ReceivedWebhook[] }> {
    const res = await fetch(`${base}${CALLBACKS_PATH}?after=${after}&waitMs=${waitMs}`, { signal: AbortSignal.timeout(waitMs + 5000) });
    if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
    const page = (await res.json()) as { last?: unknown; checksSignatures?: unknown; callbacks?: unknown };
    if (typeof page.last !== 'number' || !Array.isArray(page.callbacks)) throw new Error('not a callback receiver');
    return { last: page.last, checksSignatures: page.checksSignatures === true, callbacks: page.callbacks as ReceivedWebhook[] };
  }

  async nextArrival(ms: number): Promise<void> {
    try {
      const page = await RemoteCallbacks.fetchPage(this.base, this.last, Math.min(ms, 30000));
      for (const w of page.callbacks) if (w.seq > this.last) this.received.push(w);
      this.last = Math.max(this.last, page.last);
    } catch {
      // The receiver went away: the step's deadline decides.
      await new Promise((r) => setTimeout(r, Math.min(ms, 200)));
    }
  }

  async stop(): Promise<void> {}
}
