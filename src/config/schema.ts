import { Type, type Static, type TSchema, type TProperties, type ObjectOptions, type SchemaOptions } from '@sinclair/typebox';

/**
 * The configuration's one definition: its shape, its defaults and its documentation in one
 * JSON Schema, built with TypeBox so that the TypeScript type is derived from it. ajv fills
 * the defaults (`useDefaults`) and rejects unknown keys (`additionalProperties: false` on
 * every object), see `load.ts`.
 */

/** A closed object: a typo in a key is an error, never silently ignored. */
function section<P extends TProperties>(properties: P, options: ObjectOptions = {}) {
  return Type.Object(properties, { additionalProperties: false, ...options });
}

/** One of some strings, as a plain JSON Schema `enum` (what ajv reports as "must be equal to one of the allowed values"). */
function oneOf<const V extends readonly string[]>(values: V, options: SchemaOptions = {}) {
  return Type.Unsafe<V[number]>({ enum: [...values], ...options });
}

const str = (options: SchemaOptions = {}) => Type.String({ minLength: 1, ...options });
const port = (options: SchemaOptions) => Type.Integer({ minimum: 0, maximum: 65535, ...options });
const posInt = (options: SchemaOptions) => Type.Integer({ minimum: 1, ...options });
const httpUrl = (options: SchemaOptions) => Type.String({ pattern: '^https?://', ...options });
const optional = <T extends TSchema>(t: T) => Type.Optional(t);

/** A static API token and the client it authenticates. */
export const TOKEN_CLIENT_SCHEMA = section({
  sha256: Type.String({ pattern: '^[0-9a-f]{64}$', description: 'SHA-256 (hex) of the bearer token; the token itself is never stored.' }),
  clientId: str({ description: 'Client id recorded on every message it sends.' }),
  roles: Type.Array(str(), { description: 'Catalogue roles the client holds (see `davis catalogue`).' }),
});

/** JSON Schema of the configuration, with every default and what each key means. */
export const CONFIG_SCHEMA = section({
  mode: oneOf(['dev', 'production'] as const, { default: 'production', description: '`dev`: loopback requests without credentials act as an all-roles dev client.' }),
  dataDir: str({ default: '.davis', description: 'Folder for the SQLite journal and the dev PKI.' }),
  memberState: Type.String({ pattern: '^[A-Z]{2}$', default: 'FI', description: 'Member State code written as the wire `Sender`.' }),
  gateway: section({
    host: str({ default: '127.0.0.1' }),
    port: port({ default: 8080 }),
    bodyLimit: Type.Integer({ minimum: 1024, maximum: 67108864, default: 8 * 1024 * 1024, description: 'Largest request body, bytes.' }),
    requestTimeoutMs: posInt({ default: 60000, description: 'Longest time to receive a whole request (headers and body), ms; a slower client gets 408.' }),
    headersTimeoutMs: posInt({ default: 15000, description: 'Longest time to receive the request headers, ms (keep it at most `requestTimeoutMs`).' }),
    keepAliveTimeoutMs: posInt({ default: 72000, description: 'How long an idle keep-alive connection stays open, ms.' }),
    tls: optional(section({ certFile: str(), keyFile: str(), caFile: optional(str()) }, {
      description: 'TLS for the API; with `caFile` client certificates are required and give the client id (CN) and roles (OU).',
    })),
    tokens: Type.Array(TOKEN_CLIENT_SCHEMA, { default: [], description: 'Bearer tokens accepted when no client certificate is presented.' }),
    notifyAuth: oneOf(['client-cert', 'signature'] as const, {
      default: 'client-cert',
      description: 'How central authenticates `POST /v1/central/notifications` besides its signature (always checked against `signing.trust`): `client-cert` (mutual TLS) or `signature` alone (when `signing.trust` holds only central\'s CA).',
    }),
    pressure: section({
      maxEventLoopDelayMs: Type.Integer({
        minimum: 0, default: 1000,
        description: 'Mean event-loop delay over a one-second sample above which requests get 503 with `Retry-After`, ms; a sample with no tick at all counts as over it. 0 turns the check off.',
      }),
      maxHeapUsedBytes: optional(posInt({ description: 'Heap in use above which requests get 503, bytes. @default 90% of the V8 heap limit' })),
      maxRssBytes: optional(posInt({ description: 'Resident memory above which requests get 503, bytes. @default 90% of the machine\'s memory' })),
      retryAfterSeconds: posInt({ default: 10, description: '`Retry-After` of a 503 under pressure, s.' }),
    }, { default: {}, description: 'Backpressure (@fastify/under-pressure); `GET /health/live` is never refused.' }),
    rateLimit: section({
      max: Type.Integer({ minimum: 0, default: 2000, description: 'Requests per window per client (authenticated: its client id; otherwise its IP address); 0 turns the limit off.' }),
      windowMs: posInt({ default: 1000, description: 'Length of the rate-limit window, ms.' }),
    }, { default: {}, description: 'Rate limit (@fastify/rate-limit): over it, 429 with `Retry-After`.' }),
  }, { default: {} }),
  metrics: section({
    listen: optional(Type.Boolean({ description: 'Serve `GET /metrics` on a listener of its own (`metrics.host`:`metrics.port`). @default true in production, false in dev mode' })),
    host: str({ default: '127.0.0.1', description: 'Address of the metrics listener.' }),
    port: port({ default: 9464, description: 'Port of the metrics listener (0: any free port).' }),
    api: optional(oneOf(['open', 'auth', 'off'] as const, {
      description: '`GET /metrics` on the API port: `open` to anyone, `auth` for clients holding one of `metrics.roles`, `off` (404). @default `open` in dev mode, `off` in production',
    })),
    roles: Type.Array(str(), { default: ['operator', 'admin'], description: 'Roles that may read `/metrics` on the API port when `metrics.api` is `auth`.' }),
  }, { default: {} }),
  amqp: section({
    urls: Type.Array(Type.String({ pattern: '^amqps?://' }), {
      minItems: 1, default: ['amqp://guest:guest@127.0.0.1:5672'],
      description: 'Broker nodes of one RabbitMQ cluster, tried in turn on connect and on every reconnect (also read from `AMQP_URL`, comma-separated).',
    }),
    url: Type.String({ pattern: '^amqps?://', default: 'amqp://guest:guest@127.0.0.1:5672', description: 'Deprecated: one broker node, the same as `urls: [url]`; after loading it holds the first of `urls`.' }),
    prefix: Type.String({ pattern: '^[A-Za-z0-9._-]*$', default: 'davis.', description: 'Prefix of every exchange and queue name.' }),
    shards: Type.Integer({ minimum: 1, maximum: 256, default: 8, description: 'Number of outbound shards (queues); messages of one application always share a shard.' }),
    outboundPrefetch: Type.Integer({
      minimum: 1, maximum: 256, default: 8,
      description: 'Outbound messages each shard has in flight at once (sending to central meanwhile). Order per application does not depend on it: the journal holds a message back while an earlier one of its application is unsettled.',
    }),
    confirmTimeoutMs: posInt({ default: 5000, description: 'Longest wait for a publisher confirm, ms.' }),
    maxBacklog: posInt({ default: 100000, description: 'Messages waiting in the outbound and delay queues above which ingest answers 503.' }),
    quorumGroupSize: posInt({ default: 3, description: 'Replicas of each quorum queue at its declaration (`x-quorum-initial-group-size`); RabbitMQ caps it at the cluster size.' }),
    deliveryLimit: posInt({ default: 100, description: 'Deliveries of one work item (returns to its queue by crashes, reconnects and requeues) after which RabbitMQ dead-letters it to the parking queue (`x-delivery-limit`).' }),
  }, { default: {} }),
  journal: section({
    driver: oneOf(['sqlite', 'postgres'] as const, { default: 'sqlite' }),
    sqlitePath: str({ default: 'journal.sqlite', description: 'SQLite file; relative paths are under `dataDir`.' }),
    postgresUrl: Type.String({ pattern: '^postgres(ql)?://', default: 'postgres://postgres@127.0.0.1:5432/postgres', description: 'PostgreSQL connection string, for `driver: "postgres"`.' }),
    keyFile: optional(str({ description: 'File holding the key that encrypts personal data in the journal (base64 of 32 random bytes); later lines are previous keys, still read. In dev mode with no key: `<dataDir>/journal.key`, generated.' })),
    key: optional(str({ description: 'The journal key itself, base64 of 32 bytes, instead of `keyFile` (prefer `DAVIS_JOURNAL_KEY`).' })),
    previousKeys: optional(Type.Array(str(), { description: 'Previous journal keys (base64), read until `davis journal rekey` has resealed their rows.' })),
  }, { default: {} }),
  audit: section({
    checkpointDir: optional(str({ description: 'Folder the signed audit checkpoints are written to, outside the journal; unset: `<dataDir>/audit-checkpoints`.' })),
    checkpointEvery: posInt({ default: 10000, description: 'A signed checkpoint once this many audit records are not covered by one (as X-Road\'s batches).' }),
    checkpointIntervalMs: Type.Integer({ minimum: 1000, default: 60000, description: 'A signed checkpoint at least this often while records are not covered, ms; and one at every graceful stop.' }),
    tsaUrl: optional(httpUrl({ description: 'RFC 3161 time-stamping authority; each checkpoint gets a token from it. Unset: no timestamps.' })),
    checkpointUrl: optional(httpUrl({ description: 'Each checkpoint document is also POSTed here (JSON), e.g. to a write-once store. Unset: nowhere.' })),
  }, { default: {} }),
  signing: section({
    keyFile: optional(str({ description: 'PEM private key of the gateway\'s signing identity.' })),
    certFile: optional(str({ description: 'PEM certificate matching `keyFile`.' })),
    p12File: optional(str({ description: 'PKCS#12 file instead of keyFile + certFile.' })),
    passphrase: optional(Type.String({ description: 'Passphrase of `p12File` (prefer `DAVIS_SIGNING_PASSPHRASE`).' })),
    trust: optional(str({ description: 'Trust anchors for central\'s signatures: a folder of PEM files or one PEM file. Superseded by `signing.central.trust`.' })),
    central: optional(section({
      trust: Type.Array(str(), { minItems: 1, description: 'Central\'s own trust anchors, and the CRLs checked with them: folders (every *.pem, *.crt, *.crl) or files.' }),
      subjects: optional(Type.Array(str(), { description: 'Subject DNs central signs with, RFC 4514 (`CN=…, O=…`); attribute order and case do not matter.' })),
      fingerprints: optional(Type.Array(Type.String({ pattern: '^([0-9A-Fa-f]{2}:?){31}[0-9A-Fa-f]{2}$' }), { description: 'SHA-256 of central\'s certificate or of its SubjectPublicKeyInfo, hex (colons allowed).' })),
    }, {
      description: 'Who central is: answers and notifications must be signed, and the notification endpoint\'s TLS client must be, by a certificate that chains to `trust` AND matches a subject or fingerprint. In dev mode with no pin, the development PKI\'s central subject is pinned.',
    })),
    ocsp: optional(section({
      url: optional(httpUrl({ description: 'OCSP responder; unset: the URL in the certificate\'s authorityInfoAccess.' })),
      timeoutMs: posInt({ default: 5000, description: 'Longest wait for one OCSP answer, ms.' }),
      wholeChain: Type.Boolean({ default: false, description: 'Ask about every certificate below the anchor, not only the signer.' }),
    }, { description: 'Check central\'s signing certificate with OCSP; no usable answer refuses the document.' })),
  }, { default: {} }),
  central: section({
    url: httpUrl({ default: 'https://127.0.0.1:8443/vis/v1/messages', description: 'Central endpoint URL.' }),
    probeUrl: optional(httpUrl({ description: 'GET here answers whether central is alive (circuit-breaker probe); unset: the central URL.' })),
    caFile: optional(str({ description: 'CA file that central\'s TLS certificate must chain to.' })),
    certFile: optional(str({ description: 'Client certificate presented to central (mutual TLS).' })),
    keyFile: optional(str({ description: 'Key of `certFile`.' })),
    timeoutMs: posInt({ default: 10000, description: 'Deadline of one central request from connect to the last byte of the answer, ms.' }),
    maxAttempts: Type.Integer({ minimum: 1, maximum: 1000, default: 12, description: 'Delivery attempts before a message is `failed`.' }),
    maxAgeMs: posInt({ default: 86400000, description: 'Age after which an undelivered message is `failed`, ms.' }),
    retryBaseMs: posInt({ default: 1000, description: 'First retry delay, ms; doubles each attempt, with jitter.' }),
    retryMaxMs: posInt({ default: 300000, description: 'Longest retry delay, ms.' }),
    breakerThreshold: posInt({ default: 5, description: 'Consecutive transport failures that open the circuit breaker.' }),
    breakerCooldownMs: posInt({ default: 1000, description: 'First circuit-breaker cooldown before probing, ms (doubles up to 30 s).' }),
  }, { default: {} }),
  webhook: section({
    url: optional(httpUrl({ description: 'UMA\'s callback URL; unset: no callbacks.' })),
    secret: optional(Type.String({ minLength: 16, description: 'HMAC-SHA256 secret for `X-Davis-Signature` (prefer `DAVIS_WEBHOOK_SECRET`).' })),
    maxAttempts: Type.Integer({ minimum: 1, maximum: 1000, default: 10, description: 'Attempts before a callback is given up.' }),
    retryBaseMs: posInt({ default: 1000, description: 'First retry delay, ms; doubles each attempt, with jitter.' }),
    retryMaxMs: posInt({ default: 300000, description: 'Longest retry delay, ms.' }),
    timeoutMs: posInt({ default: 5000, description: 'Timeout of one callback, ms.' }),
  }, { default: {} }),
  retention: section({
    payloadDays: Type.Integer({ minimum: 0, default: 90, description: 'Days after a message settles (delivered, rejected, failed, refused; a notification once received) before its personal data (wire XML, central\'s answer XML and data) is purged from the journal; the metadata stays. See docs/audit.md for the legal basis.' }),
    recordDays: Type.Integer({ minimum: 1, default: 2192, description: 'Days message metadata and audit records are kept: the Reg. (EC) 767/2008 Art 23 period (5 years) plus the one year of Art 34, 6 × 365 + 2 leap days.' }),
    intervalMs: Type.Integer({ minimum: 0, default: 3600000, description: 'How often the gateway runs retention, ms; 0: never (run `davis retention run` instead).' }),
    batchSize: Type.Integer({ minimum: 1, maximum: 10000, default: 500, description: 'Messages (or records) per retention transaction; the event loop runs between batches.' }),
  }, { default: {} }),
  relayIntervalMs: Type.Integer({ minimum: 100, default: 10000, description: 'Outbox relay: how often journaled-but-unconfirmed messages are published again, ms.' }),
  shutdownTimeoutMs: Type.Integer({ minimum: 0, default: 30000, description: 'Graceful stop: longest wait for open HTTP requests, and then for in-flight deliveries, on SIGTERM or SIGINT, ms; a second signal exits at once.' }),
  mock: section({
    host: str({ default: '127.0.0.1' }),
    port: port({ default: 8443 }),
    controlPort: port({ default: 8444, description: 'Control port (`/_mock/*`, plain HTTP, loopback only); 0 disables.' }),
  }, { default: {} }),
  log: section({
    level: oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, { default: 'info', description: 'pino level.' }),
  }, { default: {} }),
});

type DeepReadonly<T> = T extends (infer U)[] ? readonly DeepReadonly<U>[] : T extends object ? { readonly [K in keyof T]: DeepReadonly<T[K]> } : T;

/** The validated, frozen configuration: the only form that travels through the program. */
export type Config = DeepReadonly<Static<typeof CONFIG_SCHEMA>>;

/** A static API token and the client it authenticates. */
export type TokenClient = Config['gateway']['tokens'][number];
