import { sha256Hex } from '../util/sha256';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { DavisError } from '../errors/errors';

/** SHA-256 of each request's raw body as received: same bytes = same body (idempotency). */
const rawHashes = new WeakMap<FastifyRequest, string>();

/** The raw body hash the content-type parser recorded, if it parsed a body. */
export function rawBodyHash(req: FastifyRequest): string | undefined {
  return rawHashes.get(req);
}

/** Only JSON and (wire) XML: anything else is 415, not a string to validate. */
export function registerBodyParsers(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    rawHashes.set(req, sha256Hex(body as string));
    try {
      done(null, JSON.parse(body as string));
    } catch (err) {
      done(new DavisError('DAVIS_ERR_REQUEST_MALFORMED', 'the body is not valid JSON', { cause: err }), undefined);
    }
  });
  app.addContentTypeParser(['application/xml', 'text/xml'], { parseAs: 'string' }, (_req, body, done) => done(null, body));
}
