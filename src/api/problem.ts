import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { DavisError, ERRORS, isDavisError, type ErrorCode } from '../errors/errors';

/** Fastify's own error codes mapped to ours, so every answer carries a DAVIS code. */
const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'DAVIS_ERR_REQUEST_UNSUPPORTED_MEDIA',
  FST_ERR_CTP_BODY_TOO_LARGE: 'DAVIS_ERR_REQUEST_TOO_LARGE',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'DAVIS_ERR_REQUEST_MALFORMED',
  FST_ERR_CTP_INVALID_JSON_BODY: 'DAVIS_ERR_REQUEST_MALFORMED',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'DAVIS_ERR_REQUEST_MALFORMED',
  FST_ERR_CTP_EMPTY_TYPE: 'DAVIS_ERR_REQUEST_UNSUPPORTED_MEDIA',
  FST_ERR_CTP_INVALID_TYPE: 'DAVIS_ERR_REQUEST_UNSUPPORTED_MEDIA',
  FST_ERR_VALIDATION: 'DAVIS_ERR_VALIDATION_FAILED',
};

/** Converts anything thrown into a DavisError (unknown errors become DAVIS_ERR_INTERNAL). */
export function toDavisError(err: unknown): DavisError {
  if (isDavisError(err)) return err;
  const fe = err as FastifyError;
  const mapped = fe && typeof fe.code === 'string' ? FASTIFY_CODES[fe.code] : undefined;
  if (mapped) return new DavisError(mapped, fe.message, { cause: err });
  if (fe instanceof SyntaxError) return new DavisError('DAVIS_ERR_REQUEST_MALFORMED', 'the body is not valid JSON', { cause: err });
  return new DavisError('DAVIS_ERR_INTERNAL', undefined, { cause: err });
}

/** Sends an RFC 9457 problem document with the stable `code`. */
export function sendProblem(reply: FastifyReply, req: FastifyRequest, err: DavisError): FastifyReply {
  const body: Record<string, unknown> = {
    type: `https://davis-gateway.invalid/errors/${err.code}`,
    title: ERRORS[err.code].title,
    status: err.status,
    code: err.code,
    detail: err.code === 'DAVIS_ERR_INTERNAL' ? 'internal error; see the gateway log for this correlation id' : err.message,
    instance: req.url.split('?')[0],
    correlationId: req.id,
    retryable: err.retryable,
  };
  if (err.errors) body.errors = err.errors;
  if (err.status === 503) reply.header('retry-after', '5');
  return reply.code(err.status).type('application/problem+json').send(body);
}
