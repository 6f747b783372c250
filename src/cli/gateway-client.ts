/**
 * How the operators' commands (`davis status`, `davis messages`) reach a running gateway over
 * its HTTP API: `--url` (default `http://127.0.0.1:8080`, or `DAVIS_URL`), a bearer token from
 * `--token` or `DAVIS_TOKEN`. For an HTTPS gateway with a private CA, Node reads the CA from
 * `NODE_EXTRA_CA_CERTS`.
 */
import { usageError, type Values } from './command';

/** `--url`, `--token` and `--json`, taken by every operator command. */
export const gatewayOptions = {
  url: { type: 'string' as const },
  token: { type: 'string' as const },
  json: { type: 'boolean' as const },
};

/** The help lines of {@link gatewayOptions}. */
export const GATEWAY_OPTIONS_HELP = `  --url URL       the gateway's API [default: $DAVIS_URL or http://127.0.0.1:8080]
  --token TOKEN   bearer token of an operator client [default: $DAVIS_TOKEN; none: a dev-mode gateway
                  on loopback needs none]
  --json          print the gateway's JSON answer instead of text`;

/** Where and as whom to call. */
export interface GatewayTarget {
  /** Base URL without a trailing slash. */
  readonly base: string;
  readonly token?: string;
}

/** The target from the flags and the environment, or a usage error naming the bad flag. */
export function gatewayTarget(v: Values, env: NodeJS.ProcessEnv = process.env): GatewayTarget {
  const raw = v.url !== undefined ? String(v.url) : env.DAVIS_URL || 'http://127.0.0.1:8080';
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw usageError(`--url "${raw}": not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw usageError(`--url "${raw}": must start with http:// or https://`);
  if (url.search || url.hash) throw usageError(`--url "${raw}": no query or fragment, only the gateway's base address`);
  const token = v.token !== undefined ? String(v.token) : env.DAVIS_TOKEN || undefined;
  if (token !== undefined && !/^[\x21-\x7e]+$/.test(token)) throw usageError('--token: must be printable characters without spaces');
  return { base: url.href.replace(/\/+$/, ''), ...(token !== undefined ? { token } : {}) };
}

/** The gateway could not be reached at all (refused, DNS, TLS, timeout): `main.ts`-style one line, exit 2. */
export class GatewayUnreachable extends Error {
  readonly code = 'USAGE';
}

/** One HTTP answer from the gateway. */
export interface GatewayAnswer {
  readonly status: number;
  /** The parsed JSON body (a problem document on errors), or undefined when the body is not JSON. */
  readonly body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** Calls the gateway; rejects only when it cannot be reached (any HTTP answer resolves). @default timeoutMs 10000 */
export async function callGateway(t: GatewayTarget, method: 'GET' | 'POST', path: string, body?: unknown, timeoutMs = 10000): Promise<GatewayAnswer> {
  let res: Response;
  try {
    res = await fetch(t.base + path, {
      method,
      headers: {
        accept: 'application/json, application/problem+json',
        ...(t.token ? { authorization: `Bearer ${t.token}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    const why = (err as Error).name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : cause?.code ?? cause?.message ?? (err as Error).message;
    throw new GatewayUnreachable(`cannot reach the gateway at ${t.base}: ${why} (is it running? see --url)`);
  }
  const text = await res.text();
  let parsed: unknown;
  try { parsed = text ? JSON.parse(text) : undefined; } catch { parsed = undefined; }
  return { status: res.status, body: parsed };
}

/** One line for an error answer: the problem's code and detail, or the HTTP status. */
export function problemLine(a: GatewayAnswer): string {
  const p = (a.body ?? {}) as { code?: unknown; detail?: unknown; title?: unknown };
  const code = typeof p.code === 'string' ? p.code : `HTTP ${a.status}`;
  const detail = typeof p.detail === 'string' ? p.detail : typeof p.title === 'string' ? p.title : '';
  return detail ? `${code}: ${detail.replace(/\s+/g, ' ')}` : code;
}

/** Exit code for an error answer: 2 when this client may not ask (401/403), else 1. */
export function exitOf(a: GatewayAnswer): number {
  return a.status === 401 || a.status === 403 ? 2 : 1;
}
