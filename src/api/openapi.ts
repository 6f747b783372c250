import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { listTypes } from '../catalogue/catalogue';
import { packageRoot } from '../catalogue/schema-file';
import type { MessageTypeSpec } from '../catalogue/types';
import { ERRORS } from '../errors/errors';
import { LIST_QUERY, WIRE_QUERY } from './plugins/messages';
import { TRAFFIC_QUERY } from '../ops/dashboard-queries';
import { AUDIT_QUERY } from './plugins/audit';
import { MESSAGE_STATES } from '../journal/journal';
import { escapeMarkup } from '../util/escape';

type Json = Record<string, unknown>;

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const problemResponse = (description: string) => ({ description, content: { 'application/problem+json': { schema: ref('Problem') } } });
const idParam = { name: 'id', in: 'path', required: true, description: 'The message id the gateway assigned.', schema: { type: 'string', format: 'uuid' } };
/** `X-Davis-Staff`: who acted in UMA, recorded in the Art 34 record of the request (an identifier, never a name). */
const staffHeader = {
  name: 'X-Davis-Staff', in: 'header', required: false,
  description: 'Identifier of the staff member acting in UMA (not a name), recorded in the audit record of the operation (Reg. 767/2008 Art 34). 1-64 visible ASCII characters, no spaces; anything else is 422 with pointer `/headers/x-davis-staff`.',
  schema: { type: 'string', pattern: '^[\\x21-\\x7e]{1,64}$', maxLength: 64 },
};
/** Routes anyone may call: no credentials asked. */
const open: readonly Json[] = [];
const correlation = {
  'X-Correlation-Id': { description: 'The request\'s correlation id (the one sent, when valid, else a new one): on every log line about it.', schema: { type: 'string' } },
};

/**
 * The catalogue's "no control characters" pattern uses Unicode property escapes, which only
 * regex engines in Unicode mode accept; many OpenAPI tools (Spectral, generators) compile
 * patterns without it. The same set spelled with code-unit ranges means the same in both
 * modes: a surrogate pair (one astral character) passes, a lone surrogate does not.
 */
const PORTABLE_PATTERNS: Readonly<Record<string, string>> = {
  '^[^\\p{Cc}\\p{Cs}\\uFFFE\\uFFFF]+$': '^(?:[^\\u0000-\\u001F\\u007F-\\u009F\\uD800-\\uDFFF\\uFFFE\\uFFFF]|[\\uD800-\\uDBFF][\\uDC00-\\uDFFF])+$',
};

/** Schema keywords of the catalogue's files that mean nothing inside an OpenAPI document. */
const DROPPED = new Set(['$schema', '$id', '$defs']);

/**
 * The catalogue's JSON Schemas as components. Each schema's `$defs` become components of
 * their own (shared by name when every type defines them alike, else `<type>.<name>`), so
 * every `$ref` resolves inside the one document, whatever tool reads it.
 */
function payloadComponents(types: readonly MessageTypeSpec[]): Record<string, Json> {
  const defs = new Map<string, Map<string, Json>>();
  for (const t of types) {
    for (const [name, def] of Object.entries((t.schema.$defs ?? {}) as Record<string, Json>)) {
      const byText = defs.get(name) ?? new Map<string, Json>();
      byText.set(JSON.stringify(def), def);
      defs.set(name, byText);
    }
  }
  const out: Record<string, Json> = {};
  const defName = (t: string, name: string) => (defs.get(name)!.size === 1 ? name : `${t}.${name}`);
  const rewrite = (t: string, v: unknown): unknown => {
    if (Array.isArray(v)) return v.map((x) => rewrite(t, x));
    if (!v || typeof v !== 'object') return v;
    return Object.fromEntries(Object.entries(v as Json).filter(([k]) => !DROPPED.has(k)).map(([k, x]) => {
      if (k === '$ref' && typeof x === 'string' && x.startsWith('#/$defs/')) return [k, `#/components/schemas/${defName(t, x.slice(8))}`];
      if (k === 'pattern' && typeof x === 'string' && Object.hasOwn(PORTABLE_PATTERNS, x)) return [k, PORTABLE_PATTERNS[x]];
      return [k, rewrite(t, x)];
    }));
  };
  for (const t of types) {
    out[t.id] = rewrite(t.id, t.schema) as Json;
    for (const [name, def] of Object.entries((t.schema.$defs ?? {}) as Record<string, Json>)) out[defName(t.id, name)] = rewrite(t.id, def) as Json;
  }
  return out;
}

/** The valid examples of a type (`schemas/examples/<type>/valid-*.json`), by file name. */
function validExamples(type: string): { name: string; data: unknown }[] {
  const dir = path.join(packageRoot(), 'schemas', 'examples', type);
  let names: string[];
  try {
    names = readdirSync(dir).filter((f) => /^valid-.*\.json$/.test(f)).sort();
  } catch {
    return [];
  }
  return names.map((f) => ({ name: f.slice(0, -5), data: JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as unknown }));
}

/** One `{type, payload}` variant per type: `type` is the constant that selects `payload`'s schema. */
function envelopeOf(t: MessageTypeSpec): Json {
  return {
    type: 'object', title: t.id, description: `${t.title} (${t.article})`,
    required: ['type', 'payload'], additionalProperties: false,
    properties: { type: { const: t.id }, payload: ref(t.id) },
  };
}

const HISTORY_ITEM = { type: 'object', properties: { status: { type: 'string' }, at: { type: 'string', format: 'date-time' }, attempt: { type: 'integer' }, detail: { type: 'string' } } };

/** The OpenAPI 3.1 description of the gateway API (served at `/docs/openapi.json`). */
export function openApiDocument(version: string): Json {
  const outbound = listTypes({ direction: 'outbound' });
  const inbound = listTypes({ direction: 'inbound' });
  const submitExamples = Object.fromEntries(outbound.flatMap((t) => validExamples(t.id).slice(0, 1).map((e) => [
    `${t.id}.${e.name}`, { summary: `${t.id}: ${e.name}`, value: { type: t.id, payload: e.data } },
  ])));
  const notificationExamples = Object.fromEntries(inbound.flatMap((t) => validExamples(t.id).slice(0, 1).map((e) => [
    `${t.id}.${e.name}`, { summary: `${t.id}: ${e.name}`, value: { event: 'notification.received', sentAt: '2025-06-01T10:00:00.000Z', message: { id: '0a6f3a62-8e4b-4c8e-9d55-5b7c1f0e2a11', type: t.id, direction: 'inbound', status: 'delivered', history: [{ status: 'delivered', at: '2025-06-01T10:00:00.000Z' }], payload: e.data } } },
  ])));
  const codes = Object.entries(ERRORS);
  const webhookHeaders = [
    { name: 'X-Davis-Event', in: 'header', required: true, description: 'The event, as in the body\'s `event`.', schema: ref('WebhookEvent') },
    { name: 'X-Davis-Message-Id', in: 'header', required: true, description: 'The message the event is about.', schema: { type: 'string', format: 'uuid' } },
    { name: 'X-Davis-Signature', in: 'header', required: false, description: '`sha256=` and the hex HMAC-SHA256 of the exact body bytes under `webhook.secret`; present when a secret is configured. Compare in constant time before trusting the body.', schema: { type: 'string', pattern: '^sha256=[0-9a-f]{64}$' } },
  ];
  const webhookResponses = {
    '2XX': { description: 'Taken: any 2xx ends the retries.' },
    default: { description: 'Any other answer, or none within webhook.timeoutMs: the gateway retries with backoff up to webhook.maxAttempts.' },
  };
  const page = (summary: string, operationId: string, type: string, description: string) => ({
    get: { tags: ['pages'], summary, description, operationId, security: open, responses: { 200: { description: 'The file', content: { [type]: { schema: { type: 'string' } } } } } },
  });

  return {
    openapi: '3.1.0',
    info: {
      title: 'DAVIS gateway API', version,
      description: 'National gateway between UMA and the central VIS. Errors are RFC 9457 problem documents with a stable `code` (see components.schemas.Problem and docs/errors.md). Outcomes and central\'s notifications reach UMA by signed callbacks (see `webhooks`).',
      contact: { name: 'DAVIS gateway operators' },
      license: { name: 'EUPL-1.2', identifier: 'EUPL-1.2' },
    },
    servers: [{ url: '/', description: 'This gateway' }],
    tags: [
      { name: 'messages', description: 'UMA → central messages: submit, status, listing, retry.' },
      { name: 'central', description: 'Central → national notifications.' },
      { name: 'audit', description: 'Records of processing (Art 34) and evidence, for auditors.' },
      { name: 'operations', description: 'Health, metrics and the operators\' summary.' },
      { name: 'pages', description: 'The dashboard, this reference and their files.' },
    ],
    security: [{ bearer: [] }, { mutualTLS: [] }],
    paths: {
      '/v1/messages': {
        post: {
          tags: ['messages'], summary: 'Submit a message for central', operationId: 'submitMessage',
          description: 'Validated (JSON Schema, then the type\'s business rules), signed, journaled and published; `202` only once the broker confirmed. The same `Idempotency-Key` with the same body answers the same again.',
          parameters: [
            { name: 'Idempotency-Key', in: 'header', required: false, description: 'Client key of the request: the same key and body give the same answer; another body gives 409.', schema: { type: 'string', pattern: '^[\\x21-\\x7e]{1,200}$' } },
            staffHeader,
          ],
          requestBody: {
            required: true,
            content: {
              'application/json': { schema: ref('Submission'), examples: submitExamples },
              'application/xml': { schema: { type: 'string', description: 'The wire Request document (schemas/wire/davis-wire.xsd); the gateway assigns the message id and signs it' } },
            },
          },
          responses: {
            202: {
              description: 'Journaled and confirmed by the broker',
              headers: { Location: { description: 'The status document', schema: { type: 'string' } }, 'Idempotent-Replay': { description: '`true` when this is the answer given before for the same key', schema: { type: 'string' } }, ...correlation },
              content: { 'application/json': { schema: ref('Accepted') } },
            },
            400: problemResponse('Malformed body'), 401: problemResponse('No credentials'), 403: problemResponse('Type not allowed for this client'),
            409: problemResponse('Idempotency-Key reused with another body'), 413: problemResponse('Body too large'), 415: problemResponse('Not JSON'),
            422: problemResponse('Validation failed: `errors` lists {pointer, message}'), 429: problemResponse('Over the rate limit; see Retry-After'),
            503: problemResponse('Journal or broker unavailable, or backlog over its limit; see Retry-After'),
          },
        },
        get: {
          tags: ['messages'], summary: 'List messages (operators)', operationId: 'listMessages', description: 'Newest first, a page at a time.',
          parameters: Object.entries(LIST_QUERY.properties).map(([name, schema]) => ({ name, in: 'query', required: false, schema })),
          responses: {
            200: { description: 'Newest first; `next` is the cursor of the next page', content: { 'application/json': { schema: ref('MessagePage') } } },
            401: problemResponse('No credentials'), 403: problemResponse('Not an operator'),
            422: problemResponse('A parameter repeated, unknown or out of range, or a cursor this gateway did not give'),
          },
        },
      },
      '/v1/messages/{id}': {
        get: {
          tags: ['messages'], summary: 'Status, history and central answer of a message', operationId: 'getMessage', parameters: [idParam, staffHeader],
          description: 'What UMA polls. Notifications (inbound) carry their payload. Reading central data (an answer with `data`: searches, retrievals, ESP and ICF; a notification\'s payload) leaves a `message.read` audit record.',
          responses: { 200: { description: 'Status document', content: { 'application/json': { schema: ref('Status') } } }, 401: problemResponse('No credentials'), 404: problemResponse('Unknown id') },
        },
      },
      '/v1/messages/{id}/retry': {
        post: {
          tags: ['messages'], summary: 'Re-queue a failed message (operators)', operationId: 'retryMessage', parameters: [idParam, staffHeader],
          description: 'A dead-lettered (`failed`) message goes back to the queue. For the `operator` and `admin` roles (`observer` reads only). An optional `reason` is recorded in the message\'s history.',
          requestBody: { required: false, content: { 'application/json': { schema: { type: 'object', additionalProperties: false, properties: { reason: { type: 'string', minLength: 1, maxLength: 200 } } } } } },
          responses: { 202: { description: 'Queued again', content: { 'application/json': { schema: ref('Accepted') } } }, 401: problemResponse('No credentials'), 403: problemResponse('Not an operator'), 404: problemResponse('Unknown id'), 409: problemResponse('Not failed') },
        },
      },
      '/v1/messages/{id}/wire': {
        get: {
          tags: ['messages'], summary: 'The signed request or central\'s signed answer (operators)', operationId: 'getWireDocument',
          parameters: [idParam, ...Object.entries(WIRE_QUERY.properties).map(([name, schema]) => ({ name, in: 'query', required: false, schema })), staffHeader],
          description: 'For the `operator`, `observer` and `admin` roles: the XML exactly as sent or as received, as a download. The reading is recorded (`message.read`).',
          responses: {
            200: { description: 'The signed XML document', content: { 'application/xml': { schema: { type: 'string' } } } },
            401: problemResponse('No credentials'), 403: problemResponse('Not an operator'), 404: problemResponse('Unknown id, no answer yet, or purged'),
            422: problemResponse('Unknown part'),
          },
        },
      },
      '/v1/messages/{id}/evidence': {
        get: {
          tags: ['audit'], summary: 'Evidence of a message (auditors)', operationId: 'getEvidence', parameters: [idParam, staffHeader],
          description: 'For the `auditor` and `admin` roles. The signed request as sent, central\'s signed answer as received, the audit records about the message with their RFC 6962 inclusion proof to a signed checkpoint and its RFC 3161 token (format `davis-evidence/1`, see docs/audit.md): `davis evidence verify FILE --trust CA` checks it offline. The export is recorded (`evidence.export`).',
          responses: { 200: { description: 'Evidence bundle', content: { 'application/json': { schema: { type: 'object' } } } }, 401: problemResponse('No credentials'), 403: problemResponse('Not an auditor'), 404: problemResponse('Unknown id') },
        },
      },
      '/v1/audit': {
        get: {
          tags: ['audit'], summary: 'Records of processing (auditors)', operationId: 'listAudit',
          description: 'For the `auditor` and `admin` roles. The append-only, hash-chained audit trail, filtered, oldest first; `next.afterSeq` pages on. The read is itself recorded (`audit.read`, with the names of the filters used).',
          parameters: [...Object.entries(AUDIT_QUERY.properties).map(([name, schema]) => ({ name, in: 'query', required: false, schema })), staffHeader],
          responses: { 200: { description: 'Audit records, oldest first', content: { 'application/json': { schema: { type: 'object' } } } }, 401: problemResponse('No credentials'), 403: problemResponse('Not an auditor'), 422: problemResponse('A parameter repeated, unknown or out of range') },
        },
      },
      '/v1/central/notifications': {
        post: {
          tags: ['central'], summary: 'Central → national notification (signed wire XML)', operationId: 'centralNotification',
          description: 'Central (mutual TLS, its pinned certificate) posts a signed wire Request; the gateway verifies, journals and answers with a signed acknowledgement, then tells UMA by a callback.',
          security: [{ mutualTLS: [] }],
          requestBody: { required: true, content: { 'application/xml': { schema: { type: 'string' } } } },
          responses: {
            201: { description: 'Journaled; signed acknowledgement', content: { 'application/xml': { schema: { type: 'string' } } } },
            200: { description: 'Repeat of a known notification; same acknowledgement', content: { 'application/xml': { schema: { type: 'string' } } } },
            400: problemResponse('Signature or XML refused'), 401: problemResponse('No client certificate'), 415: problemResponse('Not XML'), 422: problemResponse('Schema or type refused'),
          },
        },
      },
      '/health/live': { get: { tags: ['operations'], summary: 'The process is up', description: 'Answers whatever the load.', operationId: 'live', security: open, responses: { 200: { description: 'ok', content: { 'application/json': { schema: { type: 'object', properties: { status: { const: 'ok' } } } } } } } } },
      '/health/ready': {
        get: {
          tags: ['operations'], summary: 'Broker, journal, signing key and central usable', description: 'One entry per check, with the reason of a check that is down.', operationId: 'ready', security: open,
          responses: { 200: { description: 'ready', content: { 'application/json': { schema: ref('Readiness') } } }, 503: { description: 'a check is down', content: { 'application/json': { schema: ref('Readiness') } } } },
        },
      },
      '/metrics': {
        get: {
          tags: ['operations'], summary: 'Prometheus metrics', operationId: 'metrics',
          description: 'On the API in dev mode or for the operator and admin roles; in production on its own loopback listener (metrics.*).',
          responses: { 200: { description: 'text exposition 0.0.4', content: { 'text/plain': { schema: { type: 'string' } } } }, 401: problemResponse('No credentials'), 403: problemResponse('Not an operator') },
        },
      },
      '/ops/summary': {
        get: {
          tags: ['operations'], summary: 'Live facts for the operators\' page', operationId: 'opsSummary', description: 'Broker, circuit, backlog, certificate lifetime, counts.',
          responses: { 200: { description: 'Summary', content: { 'application/json': { schema: { type: 'object' } } } }, 401: problemResponse('No credentials'), 403: problemResponse('Not an operator') },
        },
      },
      '/ops/traffic': {
        get: {
          tags: ['operations'], summary: 'Messages per minute (the dashboard\'s chart)', operationId: 'opsTraffic',
          description: 'Messages that entered accepted, delivered, rejected or failed, per minute (UTC), oldest first, every minute up to now.',
          parameters: Object.entries(TRAFFIC_QUERY.properties).map(([name, schema]) => ({ name, in: 'query', required: false, schema })),
          responses: {
            200: {
              description: 'Per minute', content: {
                'application/json': {
                  schema: {
                    type: 'object', required: ['minutes'],
                    properties: { minutes: { type: 'array', items: { type: 'object', required: ['minute', 'accepted', 'delivered', 'rejected', 'failed'], properties: { minute: { type: 'string' }, accepted: { type: 'integer' }, delivered: { type: 'integer' }, rejected: { type: 'integer' }, failed: { type: 'integer' } } } } },
                  },
                },
              },
            },
            401: problemResponse('No credentials'), 403: problemResponse('Not an operator or observer'), 422: problemResponse('minutes out of range'),
          },
        },
      },
      '/ops': page('The operators\' dashboard', 'opsPage', 'text/html', 'HTML page; its script and style are the files below.'),
      '/ops/dashboard.js': page('The dashboard\'s script', 'opsScript', 'text/javascript', 'Served as a file: the CSP allows no inline script.'),
      '/ops/dashboard.css': page('The dashboard\'s style sheet', 'opsStyle', 'text/css', 'Served as a file: the CSP allows no inline style.'),
      '/docs': page('This reference (interactive)', 'docsPage', 'text/html', 'Renders /docs/openapi.json with files served by the gateway.'),
      '/docs/openapi.json': {
        get: { tags: ['pages'], summary: 'This document', description: 'OpenAPI 3.1.', operationId: 'openApi', security: open, responses: { 200: { description: 'The document', content: { 'application/json': { schema: { type: 'object' } } } } } },
      },
      '/docs/docs.css': page('The reference\'s style sheet', 'docsStyle', 'text/css', 'Served as a file: the CSP allows no inline style.'),
      '/docs/assets/{file}': {
        get: {
          tags: ['pages'], summary: 'A file of the reference\'s viewer', description: 'The viewer\'s script, style and start script, from the gateway\'s own installation.', operationId: 'docsAsset', security: open,
          parameters: [{ name: 'file', in: 'path', required: true, description: 'File name.', schema: { type: 'string', pattern: '^[A-Za-z0-9._-]+$' } }],
          responses: { 200: { description: 'The file', content: { 'application/octet-stream': { schema: { type: 'string' } } } }, 404: problemResponse('No such file') },
        },
      },
      '/favicon.ico': { get: { tags: ['pages'], summary: 'No icon', description: 'Answers 204, so browsers stop asking.', operationId: 'favicon', security: open, responses: { 204: { description: 'No icon' } } } },
    },
    webhooks: {
      messageOutcome: {
        post: {
          summary: 'A message settled', operationId: 'onMessageOutcome', tags: ['messages'],
          description: 'POSTed to `webhook.url` when a message is delivered, rejected by central or failed (retries exhausted). Sent through the broker: at least once, in any order; use `message.id` and `event` to drop repeats.',
          parameters: webhookHeaders,
          requestBody: { required: true, content: { 'application/json': { schema: ref('WebhookOutcome') } } },
          responses: webhookResponses,
        },
      },
      notificationReceived: {
        post: {
          summary: 'Central sent a notification', operationId: 'onNotificationReceived', tags: ['central'],
          description: 'POSTed to `webhook.url` when central\'s notification is journaled; `message.payload` is the notification as central sent it.',
          parameters: webhookHeaders,
          requestBody: { required: true, content: { 'application/json': { schema: ref('WebhookNotification'), examples: notificationExamples } } },
          responses: webhookResponses,
        },
      },
    },
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'A static API token (gateway.tokens: its SHA-256 and the client\'s roles).' },
        mutualTLS: { type: 'mutualTLS', description: 'A client certificate issued by the API\'s CA (gateway.tls.caFile); central presents its pinned certificate.' },
      },
      schemas: {
        Submission: {
          description: 'What UMA sends: a catalogue type and its payload, one variant per outbound type.',
          oneOf: outbound.map((t) => ref(`Submission.${t.id}`)),
          discriminator: { propertyName: 'type', mapping: Object.fromEntries(outbound.map((t) => [t.id, `#/components/schemas/Submission.${t.id}`])) },
        },
        ...Object.fromEntries(outbound.map((t) => [`Submission.${t.id}`, envelopeOf(t)])),
        ...payloadComponents([...outbound, ...inbound]),
        Accepted: {
          type: 'object', required: ['id', 'status', 'links'],
          properties: { id: { type: 'string', format: 'uuid' }, status: ref('MessageState'), links: { type: 'object', properties: { self: { type: 'string' } } } },
        },
        MessageState: { type: 'string', enum: [...MESSAGE_STATES] },
        Status: {
          type: 'object', required: ['id', 'type', 'direction', 'status', 'history'],
          properties: {
            id: { type: 'string' }, type: { type: 'string' }, direction: { type: 'string', enum: ['outbound', 'inbound'] },
            status: ref('MessageState'), orderingKey: { type: 'string' }, createdAt: { type: 'string', format: 'date-time' }, updatedAt: { type: 'string', format: 'date-time' },
            attempts: { type: 'integer' }, lastError: { type: 'string' }, nextAttemptAt: { type: 'string', format: 'date-time' },
            history: { type: 'array', items: HISTORY_ITEM },
            central: {
              type: 'object',
              properties: {
                result: { type: 'string', enum: ['ACCEPTED', 'REJECTED'] }, code: { type: 'string' }, reference: { type: 'string' }, reason: { type: 'string' },
                answeredAt: { type: 'string', format: 'date-time' }, responseId: { type: 'string' }, data: { type: 'object', description: 'The data central returned (searches, retrievals).' },
              },
            },
            webhook: { type: 'object', properties: { event: { type: 'string' }, state: { type: 'string', enum: ['pending', 'delivered', 'failed'] }, attempts: { type: 'integer' }, lastError: { type: 'string' } } },
            payload: { type: 'object', description: 'inbound messages only' },
            links: { type: 'object', properties: { self: { type: 'string' } } },
          },
        },
        MessagePage: { type: 'object', required: ['items'], properties: { items: { type: 'array', items: ref('Status') }, next: { type: 'string', description: 'Cursor of the next page; absent on the last.' } } },
        Readiness: { type: 'object', properties: { status: { type: 'string', enum: ['ok', 'down'] }, checks: { type: 'object', additionalProperties: { type: 'object', properties: { status: { type: 'string', enum: ['ok', 'down'] }, reason: { type: 'string' } } } } } },
        Problem: {
          type: 'object', required: ['type', 'title', 'status', 'code'],
          description: 'RFC 9457 problem document.',
          properties: {
            type: { type: 'string' }, title: { type: 'string' }, status: { type: 'integer' }, detail: { type: 'string' }, instance: { type: 'string' },
            code: {
              type: 'string', enum: codes.map(([c]) => c),
              description: `Stable error codes (docs/errors.md):\n\n| code | HTTP | retryable | meaning |\n|---|---|---|---|\n${codes.map(([c, e]) => `| ${c} | ${e.status} | ${e.retryable ? 'yes' : 'no'} | ${e.title} |`).join('\n')}`,
            },
            correlationId: { type: 'string' }, retryable: { type: 'boolean' },
            errors: { type: 'array', items: { type: 'object', required: ['pointer', 'message'], properties: { pointer: { type: 'string', description: 'JSON Pointer into the request (`/payload/...`, `/headers/...`, `/query/...`).' }, message: { type: 'string' } } } },
          },
        },
        WebhookEvent: { type: 'string', enum: ['message.delivered', 'message.rejected', 'message.failed', 'notification.received'] },
        WebhookOutcome: {
          type: 'object', required: ['event', 'sentAt', 'message'],
          properties: { event: { type: 'string', enum: ['message.delivered', 'message.rejected', 'message.failed'] }, sentAt: { type: 'string', format: 'date-time' }, message: ref('Status') },
        },
        WebhookNotification: {
          type: 'object', required: ['event', 'sentAt', 'message'],
          properties: {
            event: { const: 'notification.received' }, sentAt: { type: 'string', format: 'date-time' },
            message: {
              allOf: [ref('Status')],
              type: 'object', required: ['payload'],
              properties: { payload: { oneOf: inbound.map((t) => ref(t.id)) } },
            },
          },
        },
      },
    },
  };
}

const esc = escapeMarkup;

/** The docs page's own style (`GET /docs/docs.css`): served, not inline, under the strict CSP. */
export const DOCS_CSS = 'body{margin:0}noscript{display:block;font:14px/1.4 system-ui,sans-serif;margin:2em;max-width:70em}noscript table{border-collapse:collapse;width:100%;margin-bottom:2em}noscript td,noscript th{border-bottom:1px solid #ddd;padding:.3em .6em;text-align:left;vertical-align:top}';

/**
 * The viewer's start script (`GET /docs/assets/docs-init.js`): a file, as the CSP allows no
 * inline script. No validator badge (it would call another host), no "try it out" on the
 * webhooks (they are the gateway's calls, not UMA's).
 */
export const DOCS_INIT_JS = `window.addEventListener('DOMContentLoaded', function () {
  window.ui = SwaggerUIBundle({
    url: '/docs/openapi.json',
    dom_id: '#reference',
    deepLinking: true,
    validatorUrl: null,
    withCredentials: true,
    defaultModelsExpandDepth: 0,
    docExpansion: 'list',
  });
});
`;

/**
 * The interactive reference: Swagger UI from the gateway's own files (no other host), and for
 * a browser without scripts the same operations and error codes as tables.
 */
export function docsPage(doc: Record<string, any>): string {
  const rows = Object.entries(doc.paths as Record<string, Record<string, any>>).flatMap(([p, ops]) =>
    Object.entries(ops).map(([m, op]) => `<tr><td><code>${m.toUpperCase()}</code></td><td><code>${esc(p)}</code></td><td>${esc(op.summary ?? '')}</td><td>${Object.keys(op.responses ?? {}).join(' ')}</td></tr>`));
  const codes = Object.entries(ERRORS).map(([c, e]) => `<tr><td><code>${c}</code></td><td>${e.status}</td><td>${e.retryable ? 'yes' : 'no'}</td><td>${esc(e.title)}</td></tr>`);
  const types = listTypes({ direction: 'all' }).map((t) => `<tr><td><code>${esc(t.id)}</code></td><td>${esc(t.article)}</td><td>${esc(t.title)}</td></tr>`);
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>DAVIS gateway API</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css"><link rel="stylesheet" href="/docs/docs.css">
<script src="/docs/assets/swagger-ui-bundle.js"></script><script src="/docs/assets/docs-init.js"></script></head>
<body><div id="reference"></div><noscript><h1>DAVIS gateway API ${esc(String(doc.info.version))}</h1><p>${esc(String(doc.info.description))} Machine-readable: <a href="/docs/openapi.json">openapi.json</a>.</p>
<h2>Endpoints</h2><table><tr><th>method</th><th>path</th><th>what</th><th>statuses</th></tr>${rows.join('')}</table>
<h2>Message types</h2><table><tr><th>type</th><th>legal basis</th><th>what</th></tr>${types.join('')}</table>
<h2>Error codes</h2><table><tr><th>code</th><th>HTTP</th><th>retryable</th><th>meaning</th></tr>${codes.join('')}</table></noscript></body></html>`;
}

/** One file of the viewer, as served. */
export interface DocsAsset {
  readonly type: string;
  readonly body: Buffer;
}

const IMAGE_EXT: Readonly<Record<string, string>> = { 'image/svg+xml': 'svg', 'image/png': 'png', 'image/jpeg': 'jpg', 'image/gif': 'gif' };

/**
 * Swagger UI's style sheet draws its icons from `data:` URLs, which the CSP's `img-src 'self'`
 * refuses. Each becomes a file of its own under `/docs/assets/`, and the sheet points there.
 */
function externaliseImages(css: string, files: Map<string, DocsAsset>): string {
  let n = 0;
  const file = (mime: string, params: string, data: string): string => {
    const body = params.includes(';base64') ? Buffer.from(data, 'base64') : Buffer.from(percentDecode(data.replace(/\\(.)/g, '$1')));
    const name = `css-image-${++n}.${IMAGE_EXT[mime] ?? 'bin'}`;
    files.set(name, { type: mime, body });
    return `url("/docs/assets/${name}")`;
  };
  return css
    .replace(/url\("data:([^;,"]+)((?:;[^;,"]+)*),((?:\\.|[^"\\])*)"\)/g, (_m, mime: string, params: string, data: string) => file(mime, params, data))
    .replace(/url\(data:([^;,)]+)((?:;[^;,)]+)*),([^)]*)\)/g, (_m, mime: string, params: string, data: string) => file(mime, params, data));
}

function percentDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

let docsAssets: Map<string, DocsAsset> | undefined;

/**
 * The files the gateway serves under `/docs/assets/`: Swagger UI's script and style sheet from
 * its npm package (read once, at first use), the images of the sheet, and the start script.
 */
export function docsAsset(name: string): DocsAsset | undefined {
  if (!docsAssets) {
    const dir = path.dirname(require.resolve('swagger-ui-dist/package.json'));
    const files = new Map<string, DocsAsset>();
    files.set('docs-init.js', { type: 'text/javascript; charset=utf-8', body: Buffer.from(DOCS_INIT_JS) });
    files.set('swagger-ui-bundle.js', { type: 'text/javascript; charset=utf-8', body: readFileSync(path.join(dir, 'swagger-ui-bundle.js')) });
    files.set('swagger-ui.css', { type: 'text/css; charset=utf-8', body: Buffer.from(externaliseImages(readFileSync(path.join(dir, 'swagger-ui.css'), 'utf8'), files)) });
    docsAssets = files;
  }
  return docsAssets.get(name);
}
