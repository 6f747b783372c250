import { TLSSocket } from 'node:tls';
import { X509Certificate } from 'node:crypto';
import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../../config/config';
import { DavisError } from '../../errors/errors';
import type { InboundService } from '../../exchange/receive';
import { isLoopback } from './auth';
import { XmlBody } from '../body';

export interface CentralOptions {
  readonly config: Config;
  readonly inbound: InboundService;
}

async function central(app: FastifyInstance, deps: CentralOptions): Promise<void> {
  const { config } = deps;
  // Central → national: signed wire XML. Production needs central's client certificate (mutual
  // TLS); in dev mode loopback may post. The signature is checked in every mode. The transport
  // check is an onRequest hook: it runs before the content-type parser reads any byte.
  app.addHook('onRequest', async (req) => {
    const sock = req.raw.socket;
    const viaCert = sock instanceof TLSSocket && sock.authorized;
    const devLocal = config.mode === 'dev' && isLoopback(req.raw.socket.remoteAddress);
    if (!viaCert && !devLocal && config.gateway.notifyAuth !== 'signature') {
      throw new DavisError('DAVIS_ERR_AUTH_REQUIRED', 'central must present its client certificate');
    }
    // The API's CA also issues UMA clients: the certificate must be central's pinned one.
    if (viaCert && deps.inbound.central) deps.inbound.central.assertCertificate(new X509Certificate(sock.getPeerCertificate().raw));
  });
  app.post('/v1/central/notifications', async (req, reply) => {
    // Only the XML content-type parser makes an XmlBody: a JSON string holding XML is refused.
    if (!(req.body instanceof XmlBody)) throw new DavisError('DAVIS_ERR_REQUEST_UNSUPPORTED_MEDIA', 'send the signed wire XML as application/xml');
    const res = await deps.inbound.receive(req.body.text, req.id);
    return reply.code(res.repeat ? 200 : 201).type('application/xml; charset=utf-8').header('location', `/v1/messages/${res.record.id}`).send(res.ackXml);
  });
}

/** Central's route: inbound notifications. Encapsulated. */
export const centralPlugin = fp(central, { name: 'davis-central', fastify: '5.x', encapsulate: true });
