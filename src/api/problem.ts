import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { DavisError, ERRORS, isDavisError, type ErrorCode } from '../errors/errors';

/** Fastify's own error codes mapped to ours, so every answer carries a DAVIS code. */
const FASTIFY_CODES: Partial<Record<string, ErrorCode>> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'DAVIS_ERR_REQUEST_UNSUPPORTED_MEDIA',
  FST_ERR_CTP_BODY_TOO_LARGE: 'DAVIS_ERR_REQUEST_TOO_LARGE',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'DAVIS_ERR_REQUEST_MALFORMED',
  FST_ERR_CTP_INVALID_JSON_BODY: 'DAVIS_ERR_REQUEST_MALFORMED',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'DAVIS_ERR_REQUEST_MALFORMED',
  FST_ERR_CTP_EMPTY_TYPE: 'DAVIS_ERR_REQUEST_UNSUPPORTED_MEDIA',
  FST_ERR_CTP_INVALID_TYPE: 'DAVIS_ERR_REQUEST_UNSUPPORTED_MEDIA',
  FST_ERR_VALIDATION: 'DAVIS_ERR_VALIDATION_FAILED',
  FST_ERR_BAD_URL: 'DAVIS_ERR_REQUEST_BAD_URL',
  FST_ERR_MAX_PARAM_LENGTH: 'DAVIS_ERR_REQUEST_URI_TOO_LONG',
};

/** A fastify error that has no entry above is still the client's fault when its status says so. */
function byStatus(status: number): ErrorCode | undefined {
  if (status === 404) return 'DAVIS_ERR_NOT_FOUND';
  if (status === 413) return 'DAVIS_ERR_REQUEST_TOO_LARGE';
  if (status === 414) return 'DAVIS_ERR_REQUEST_URI_TOO_LONG';
  if (status === 415) return 'DAVIS_ERR_REQUEST_UNSUPPORTED_MEDIA';
  return status >= 400 && status < 500 ? 'DAVIS_ERR_REQUEST_MALFORMED' : undefined;
}

const CONTEXT_POINTER: Record<string, string> = { querystring: '/query', params: '/params', headers: '/headers', body: '' };

/** Schema errors as `{pointer, message}`, the pointer naming the part of the request (`/query/limit`). */
function schemaErrors(fe: FastifyError & { validation?: { instancePath: string; message?: string; params?: Record<string, unknown> }[]; validationContext?: string }): { pointer: string; message: string }[] {
  const base = CONTEXT_POINTER[fe.validationContext ?? 'body'] ?? '';
  return (fe.validation ?? []).map((e) => {
    const extra = e.params.additionalProperty ?? e.params.missingProperty;
    const path = typeof extra === 'string' ? `${e.instancePath}/${extra.replace(/~/g, '~0').replace(/\//g, '~1')}` : e.instancePath;
    return { pointer: base + path, message: typeof extra === 'string' && e.params.additionalProperty ? 'unknown parameter' : e.message ?? 'invalid' };
  });
}

function isFastifyError(err: unknown): err is FastifyError {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' && err.code.startsWith('FST_');
}

/** Converts anything thrown into a DavisError (unknown errors become DAVIS_ERR_INTERNAL). */
export function toDavisError(err: unknown): DavisError {
  if (isDavisError(err)) return err;
  if (isFastifyError(err)) {
    const mapped = FASTIFY_CODES[err.code] ?? (typeof err.statusCode === 'number' ? byStatus(err.statusCode) : undefined);
    if (mapped === 'DAVIS_ERR_VALIDATION_FAILED') {
      const errors = schemaErrors(err);
      return new DavisError(mapped, `${errors.length} validation error(s)`, { cause: err, errors });
    }
    if (mapped) return new DavisError(mapped, err.message, { cause: err });
  }
  if (err instanceof SyntaxError) return new DavisError('DAVIS_ERR_REQUEST_MALFORMED', 'the body is not valid JSON', { cause: err });
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
  // Backpressure and the rate limit set their own Retry-After; other 503s suggest five seconds.
  if ((err.status === 503 || err.status === 429) && !reply.hasHeader('retry-after')) reply.header('retry-after', '5');
  return reply.code(err.status).type('application/problem+json').send(body);
}
