import { listTypes } from '../catalogue/catalogue';
import { ERRORS } from '../errors/errors';
import { LIST_QUERY } from './plugins/messages';
import { MESSAGE_STATES } from '../journal/journal';
import { escapeMarkup } from '../util/escape';

const problem = { $ref: '#/components/schemas/Problem' };
const problemResponse = (description: string) => ({ description, content: { 'application/problem+json': { schema: problem } } });
const idParam = { name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } };

/** The OpenAPI 3.1 description of the gateway API (served at `/docs/openapi.json`). */
export function openApiDocument(version: string): Record<string, unknown> {
  const outbound = listTypes({ direction: 'outbound' }).map((t) => t.id);
  return {
    openapi: '3.1.0',
    info: {
      title: 'DAVIS gateway API', version,
      description: 'National gateway between UMA and the central VIS. Errors are RFC 9457 problem documents with a stable `code` (see components.schemas.Problem and docs/errors.md).',
    },
    paths: {
      '/v1/messages': {
        post: {
          summary: 'Submit a message for central', operationId: 'submitMessage',
          parameters: [{ name: 'Idempotency-Key', in: 'header', required: false, schema: { type: 'string', maxLength: 200 } }],
          requestBody: {
            required: true,
            content: {
              'application/json': { schema: { type: 'object', required: ['type', 'payload'], additionalProperties: false, properties: { type: { enum: outbound }, payload: { type: 'object', description: 'The payload of the type: schemas/json/<type>.schema.json' } } } },
              'application/xml': { schema: { type: 'string', description: 'The wire Request document (schemas/wire/davis-wire.xsd); the gateway assigns the message id and signs it' } },
            },
          },
          responses: {
            202: { description: 'Journaled and confirmed by the broker', content: { 'application/json': { schema: { $ref: '#/components/schemas/Accepted' } } } },
            400: problemResponse('Malformed body'), 401: problemResponse('No credentials'), 403: problemResponse('Type not allowed for this client'),
            409: problemResponse('Idempotency-Key reused with another body'), 413: problemResponse('Body too large'), 415: problemResponse('Not JSON'),
            422: problemResponse('Validation failed: `errors` lists {pointer, message}'), 503: problemResponse('Journal or broker unavailable, or backlog over its limit; see Retry-After'),
          },
        },
        get: {
          summary: 'List messages (operators)', operationId: 'listMessages',
          parameters: Object.entries(LIST_QUERY.properties).map(([name, schema]) => ({ name, in: 'query', required: false, schema })),
          responses: { 200: { description: 'Newest first; `next` is the cursor of the next page' }, 403: problemResponse('Not an operator'), 422: problemResponse('A parameter repeated, unknown or out of range, or a cursor this gateway did not give') },
        },
      },
      '/v1/messages/{id}': {
        get: {
          summary: 'Status, history and central answer of a message', operationId: 'getMessage', parameters: [idParam],
          responses: { 200: { description: 'Status document', content: { 'application/json': { schema: { $ref: '#/components/schemas/Status' } } } }, 404: problemResponse('Unknown id') },
        },
      },
      '/v1/messages/{id}/retry': {
        post: {
          summary: 'Re-queue a failed message (operators)', operationId: 'retryMessage', parameters: [idParam],
          responses: { 202: { description: 'Queued again' }, 404: problemResponse('Unknown id'), 409: problemResponse('Not failed') },
        },
      },
      '/v1/central/notifications': {
        post: {
          summary: 'Central → national notification (signed wire XML)', operationId: 'centralNotification',
          requestBody: { required: true, content: { 'application/xml': { schema: { type: 'string' } } } },
          responses: { 201: { description: 'Journaled; signed acknowledgement' }, 200: { description: 'Repeat of a known notification; same acknowledgement' }, 400: problemResponse('Signature or XML refused'), 401: problemResponse('No client certificate'), 422: problemResponse('Schema or type refused') },
        },
      },
      '/health/live': { get: { summary: 'The process is up', responses: { 200: { description: 'ok' } } } },
      '/health/ready': { get: { summary: 'Broker, journal, signing key and central usable', responses: { 200: { description: 'ready' }, 503: { description: 'a check is down' } } } },
      '/metrics': { get: { summary: 'Prometheus metrics', responses: { 200: { description: 'text exposition 0.0.4' } } } },
    },
    components: {
      schemas: {
        Accepted: { type: 'object', properties: { id: { type: 'string' }, status: { type: 'string' }, links: { type: 'object' } } },
        Status: {
          type: 'object',
          properties: {
            id: { type: 'string' }, type: { type: 'string' }, direction: { enum: ['outbound', 'inbound'] },
            status: { enum: [...MESSAGE_STATES] },
            attempts: { type: 'integer' }, lastError: { type: 'string' }, nextAttemptAt: { type: 'string' },
            history: { type: 'array', items: { type: 'object', properties: { status: { type: 'string' }, at: { type: 'string' }, attempt: { type: 'integer' }, detail: { type: 'string' } } } },
            central: { type: 'object', properties: { result: { enum: ['ACCEPTED', 'REJECTED'] }, code: { type: 'string' }, reference: { type: 'string' }, reason: { type: 'string' }, data: { type: 'object' } } },
            webhook: { type: 'object' }, payload: { type: 'object', description: 'inbound messages only' },
          },
        },
        Problem: {
          type: 'object', required: ['type', 'title', 'status', 'code'],
          properties: {
            type: { type: 'string' }, title: { type: 'string' }, status: { type: 'integer' }, detail: { type: 'string' }, instance: { type: 'string' },
            code: { enum: Object.keys(ERRORS) }, correlationId: { type: 'string' }, retryable: { type: 'boolean' },
            errors: { type: 'array', items: { type: 'object', properties: { pointer: { type: 'string' }, message: { type: 'string' } } } },
          },
        },
      },
    },
  };
}

const esc = escapeMarkup;

/** The docs page's style (`GET /docs/docs.css`): served, not inline, under the strict CSP. */
export const DOCS_CSS = 'body{font:14px/1.4 system-ui,sans-serif;margin:2em;max-width:70em}table{border-collapse:collapse;width:100%;margin-bottom:2em}td,th{border-bottom:1px solid #ddd;padding:.3em .6em;text-align:left;vertical-align:top}code{font-size:13px}';

/** A page that lists the API (no scripts; its one style sheet from the gateway). */
export function docsPage(doc: Record<string, any>): string {
  const rows = Object.entries(doc.paths as Record<string, Record<string, any>>).flatMap(([p, ops]) =>
    Object.entries(ops).map(([m, op]) => `<tr><td><code>${m.toUpperCase()}</code></td><td><code>${esc(p)}</code></td><td>${esc(op.summary ?? '')}</td><td>${Object.keys(op.responses ?? {}).join(' ')}</td></tr>`));
  const codes = Object.entries(ERRORS).map(([c, e]) => `<tr><td><code>${c}</code></td><td>${e.status}</td><td>${e.retryable ? 'yes' : 'no'}</td><td>${esc(e.title)}</td></tr>`);
  const types = listTypes({ direction: 'all' }).map((t) => `<tr><td><code>${esc(t.id)}</code></td><td>${esc(t.article)}</td><td>${esc(t.title)}</td></tr>`);
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>DAVIS gateway API</title>
<link rel="stylesheet" href="/docs/docs.css"></head>
<body><h1>DAVIS gateway API ${esc(String(doc.info.version))}</h1><p>${esc(String(doc.info.description))} Machine-readable: <a href="/docs/openapi.json">openapi.json</a>.</p>
<h2>Endpoints</h2><table><tr><th>method</th><th>path</th><th>what</th><th>statuses</th></tr>${rows.join('')}</table>
<h2>Message types</h2><table><tr><th>type</th><th>legal basis</th><th>what</th></tr>${types.join('')}</table>
<h2>Error codes</h2><table><tr><th>code</th><th>HTTP</th><th>retryable</th><th>meaning</th></tr>${codes.join('')}</table></body></html>`;
}
