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

/**
 * A local HTTP endpoint standing in for UMA's webhook: keeps every callback (answering
 * 204) so `expect-webhook` steps can look for the one they expect.
 */
export class WebhookReceiver {
  readonly received: ReceivedWebhook[] = [];
  private server?: http.Server;
  private seq = 0;
  private waiters: (() => void)[] = [];

  constructor(private readonly secret?: string) {}

  /** Listens on `host:port` (0: any free port); resolves with the URL to configure as `webhook.url`. */
  async start(port: number, host = '127.0.0.1'): Promise<string> {
    const server = http.createServer((req, res) => {
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

  /** Resolves at the next callback or after `ms`, whichever is first. */
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
