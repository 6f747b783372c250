import { sha256Hex } from '../../util/sha256';
import type { TLSSocket } from 'node:tls';
import fp from 'fastify-plugin';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Config } from '../../config/config';
import { DavisError } from '../../errors/errors';
import type { Client } from '../../exchange/submit';

declare module 'fastify' {
  interface FastifyRequest {
    /** Who is calling; set by {@link FastifyInstance.authenticate}, null before. */
    davisClient: Client | null;
  }
  interface FastifyInstance {
    /**
     * The `onRequest` hook a route group adds once: it identifies the client and applies the
     * route's `config.operatorOnly` role check before any content-type parser reads the body.
     */
    authenticate: (req: FastifyRequest) => Promise<void>;
  }
  interface FastifyContextConfig {
    /** Only operations staff ({@link isOperator}) may call this route; the value is the reason given to others. */
    operatorOnly?: string;
    /** With `operatorOnly`: the `observer` role (read only) may call it too. */
    observersToo?: boolean;
  }
}

export interface AuthOptions {
  readonly config: Config;
}

const DEV_CLIENT: Client = Object.freeze({ id: 'dev-client', roles: [], all: true });

/** The client an authenticated route acts for (the hook ran, so it is set). */
export function clientOf(req: FastifyRequest): Client {
  if (!req.davisClient) throw new DavisError('DAVIS_ERR_AUTH_REQUIRED', 'present a client certificate or a bearer token');
  return req.davisClient;
}

/** Who is calling: client certificate, bearer token, or (dev mode, loopback) the dev client. */
export function identify(req: FastifyRequest, config: Config): Client {
  const sock = req.raw.socket as TLSSocket;
  if (typeof sock.getPeerCertificate === 'function' && sock.authorized) {
    const cert = sock.getPeerCertificate();
    const cn = cert?.subject?.CN;
    if (cn) {
      const ou = cert.subject.OU;
      const roles = (Array.isArray(ou) ? ou : ou ? [ou] : []).flatMap((s) => String(s).split(/[,\s]+/)).filter(Boolean);
      return { id: String(cn), roles, all: roles.includes('admin') };
    }
  }
  const auth = req.headers.authorization;
  if (auth && /^Bearer\s+/i.test(auth)) {
    const sha = sha256Hex(auth.replace(/^Bearer\s+/i, '').trim());
    const tok = config.gateway.tokens.find((t) => t.sha256 === sha);
    if (!tok) throw new DavisError('DAVIS_ERR_AUTH_REQUIRED', 'unknown bearer token');
    return { id: tok.clientId, roles: tok.roles, all: tok.roles.includes('admin') };
  }
  if (config.mode === 'dev' && isLoopback(req.raw.socket.remoteAddress)) return DEV_CLIENT;
  throw new DavisError('DAVIS_ERR_AUTH_REQUIRED', 'present a client certificate or a bearer token');
}

/** Operations staff who may act (retry): the `operator` role, or a client allowed everything (dev client, `admin`). */
export function isOperator(client: Client): boolean {
  return client.all || client.roles.includes('operator');
}

/** Operations staff who may read every message and the operations pages: operators and the `observer` role. */
export function isObserver(client: Client): boolean {
  return isOperator(client) || client.roles.includes('observer');
}

/** Whether the peer is this machine (dev mode lets loopback act as the dev client). */
export function isLoopback(addr: string | undefined): boolean {
  return !!addr && (addr === '::1' || addr.startsWith('127.') || addr.startsWith('::ffff:127.'));
}

async function auth(app: FastifyInstance, opts: AuthOptions): Promise<void> {
  app.decorateRequest('davisClient', null);
  app.decorate('authenticate', async (req: FastifyRequest): Promise<void> => {
    const client = identify(req, opts.config);
    req.davisClient = client;
    const operatorOnly = req.routeOptions.config.operatorOnly;
    if (operatorOnly && !(req.routeOptions.config.observersToo ? isObserver(client) : isOperator(client))) throw new DavisError('DAVIS_ERR_AUTH_FORBIDDEN', operatorOnly);
  });
}

/** Client identification for the route groups (not encapsulated: the decorators are shared). */
export const authPlugin = fp(auth, { name: 'davis-auth', fastify: '5.x' });
