import { readFileSync } from 'node:fs';
import path from 'node:path';
import Ajv from 'ajv';
import { DavisError } from '../errors/errors';

/**
 * Configuration: one step at start merges defaults, a JSON file (`--config`) and
 * `DAVIS_*` environment variables, validates the result (unknown keys rejected) and
 * freezes it. Only the frozen {@link Config} travels through the program.
 */

/** A static API token and the client it authenticates. */
export interface TokenClient {
  /** SHA-256 (hex) of the bearer token; the token itself is never stored. */
  readonly sha256: string;
  /** Client id recorded on every message it sends. */
  readonly clientId: string;
  /** Catalogue roles the client holds (see `davis catalogue`). */
  readonly roles: readonly string[];
}

export interface Config {
  /** `dev`: loopback requests without credentials act as an all-roles dev client. @default "production" */
  readonly mode: 'dev' | 'production';
  /** Folder for the SQLite journal and the dev PKI. @default ".davis" */
  readonly dataDir: string;
  /** Member State code written as the wire `Sender`. @default "FI" */
  readonly memberState: string;
  readonly gateway: {
    /** @default "127.0.0.1" */
    readonly host: string;
    /** @default 8080 */
    readonly port: number;
    /** Largest request body, bytes. @default 8388608 */
    readonly bodyLimit: number;
    /** Longest time to receive a whole request (headers and body), ms; a slower client gets 408. @default 60000 */
    readonly requestTimeoutMs: number;
    /** Longest time to receive the request headers, ms (keep it at most `requestTimeoutMs`). @default 15000 */
    readonly headersTimeoutMs: number;
    /** How long an idle keep-alive connection stays open, ms. @default 72000 */
    readonly keepAliveTimeoutMs: number;
    /** TLS for the API; with `caFile` client certificates are required and give the client id (CN) and roles (OU). */
    readonly tls?: { readonly certFile: string; readonly keyFile: string; readonly caFile?: string };
    /** Bearer tokens accepted when no client certificate is presented. @default [] */
    readonly tokens: readonly TokenClient[];
    /**
     * How central authenticates `POST /v1/central/notifications` besides its signature (always
     * checked against `signing.trust`): `client-cert` (mutual TLS) or `signature` alone (when
     * `signing.trust` holds only central's CA). @default "client-cert"
     */
    readonly notifyAuth: 'client-cert' | 'signature';
  };
  readonly amqp: {
    /** Broker URL (also read from `AMQP_URL`). @default "amqp://guest:guest@127.0.0.1:5672" */
    readonly url: string;
    /** Prefix of every exchange and queue name. @default "davis." */
    readonly prefix: string;
    /** Number of outbound shards (queues); messages of one application always share a shard. @default 8 */
    readonly shards: number;
    /** Longest wait for a publisher confirm, ms. @default 5000 */
    readonly confirmTimeoutMs: number;
    /** Messages waiting in the outbound and delay queues above which ingest answers 503. @default 100000 */
    readonly maxBacklog: number;
  };
  readonly journal: {
    /** @default "sqlite" */
    readonly driver: 'sqlite' | 'postgres';
    /** SQLite file; relative paths are under `dataDir`. @default "journal.sqlite" */
    readonly sqlitePath: string;
    /** PostgreSQL connection string, for `driver: "postgres"`. @default "postgres://postgres@127.0.0.1:5432/postgres" */
    readonly postgresUrl: string;
  };
  readonly signing: {
    /** PEM private key of the gateway's signing identity. */
    readonly keyFile?: string;
    /** PEM certificate matching `keyFile`. */
    readonly certFile?: string;
    /** PKCS#12 file instead of keyFile + certFile. */
    readonly p12File?: string;
    /** Passphrase of `p12File` (prefer `DAVIS_SIGNING_PASSPHRASE`). */
    readonly passphrase?: string;
    /** Trust anchors for central's signatures: a folder of PEM files or one PEM file. */
    readonly trust?: string;
  };
  readonly central: {
    /** Central endpoint URL. @default "https://127.0.0.1:8443/vis/v1/messages" */
    readonly url: string;
    /** CA file that central's TLS certificate must chain to. */
    readonly caFile?: string;
    /** Client certificate presented to central (mutual TLS). */
    readonly certFile?: string;
    readonly keyFile?: string;
    /** Timeout of one central request, ms. @default 10000 */
    readonly timeoutMs: number;
    /** GET here answers whether central is alive (circuit-breaker probe). @default the central URL */
    readonly probeUrl?: string;
    /** Delivery attempts before a message is `failed`. @default 12 */
    readonly maxAttempts: number;
    /** Age after which an undelivered message is `failed`, ms. @default 86400000 */
    readonly maxAgeMs: number;
    /** First retry delay, ms; doubles each attempt, with jitter. @default 1000 */
    readonly retryBaseMs: number;
    /** Longest retry delay, ms. @default 300000 */
    readonly retryMaxMs: number;
    /** Consecutive transport failures that open the circuit breaker. @default 5 */
    readonly breakerThreshold: number;
    /** First circuit-breaker cooldown before probing, ms (doubles up to 30 s). @default 1000 */
    readonly breakerCooldownMs: number;
  };
  readonly webhook: {
    /** UMA's callback URL; unset: no callbacks. */
    readonly url?: string;
    /** HMAC-SHA256 secret for `X-Davis-Signature` (prefer `DAVIS_WEBHOOK_SECRET`). */
    readonly secret?: string;
    /** @default 10 */
    readonly maxAttempts: number;
    /** @default 1000 */
    readonly retryBaseMs: number;
    /** @default 300000 */
    readonly retryMaxMs: number;
    /** @default 5000 */
    readonly timeoutMs: number;
  };
  /** Outbox relay: how often journaled-but-unconfirmed messages are published again, ms. @default 10000 */
  readonly relayIntervalMs: number;
  /** Graceful stop: longest wait for in-flight work on SIGTERM, ms. @default 30000 */
  readonly shutdownTimeoutMs: number;
  readonly mock: {
    /** @default "127.0.0.1" */
    readonly host: string;
    /** @default 8443 */
    readonly port: number;
    /** Control port (`/_mock/*`, plain HTTP, loopback only); 0 disables. @default 8444 */
    readonly controlPort: number;
  };
  readonly log: {
    /** pino level. @default "info" */
    readonly level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  };
}

const str = { type: 'string', minLength: 1 };
const port = { type: 'integer', minimum: 0, maximum: 65535 };
const posInt = { type: 'integer', minimum: 1 };

/** JSON Schema of the configuration; `additionalProperties: false` everywhere so a typo is an error. */
export const CONFIG_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['mode', 'dataDir', 'memberState', 'gateway', 'amqp', 'journal', 'signing', 'central', 'webhook', 'mock', 'log', 'relayIntervalMs', 'shutdownTimeoutMs'],
  properties: {
    relayIntervalMs: { type: 'integer', minimum: 100 },
    shutdownTimeoutMs: { type: 'integer', minimum: 0 },
    mode: { enum: ['dev', 'production'] },
    dataDir: str,
    memberState: { type: 'string', pattern: '^[A-Z]{2}$' },
    gateway: {
      type: 'object', additionalProperties: false, required: ['host', 'port', 'bodyLimit', 'tokens', 'notifyAuth'],
      properties: {
        host: str, port, bodyLimit: { type: 'integer', minimum: 1024, maximum: 67108864 },
        requestTimeoutMs: { type: 'integer', minimum: 1 }, headersTimeoutMs: { type: 'integer', minimum: 1 }, keepAliveTimeoutMs: { type: 'integer', minimum: 1 },
        notifyAuth: { enum: ['client-cert', 'signature'] },
        tls: {
          type: 'object', additionalProperties: false, required: ['certFile', 'keyFile'],
          properties: { certFile: str, keyFile: str, caFile: str },
        },
        tokens: {
          type: 'array',
          items: {
            type: 'object', additionalProperties: false, required: ['sha256', 'clientId', 'roles'],
            properties: {
              sha256: { type: 'string', pattern: '^[0-9a-f]{64}$' }, clientId: str,
              roles: { type: 'array', items: str },
            },
          },
        },
      },
    },
    amqp: {
      type: 'object', additionalProperties: false, required: ['url', 'prefix', 'shards', 'confirmTimeoutMs', 'maxBacklog'],
      properties: {
        url: { type: 'string', pattern: '^amqps?://' }, prefix: { type: 'string', pattern: '^[A-Za-z0-9._-]*$' },
        shards: { type: 'integer', minimum: 1, maximum: 256 }, confirmTimeoutMs: posInt, maxBacklog: posInt,
      },
    },
    journal: {
      type: 'object', additionalProperties: false, required: ['driver', 'sqlitePath', 'postgresUrl'],
      properties: { driver: { enum: ['sqlite', 'postgres'] }, sqlitePath: str, postgresUrl: { type: 'string', pattern: '^postgres(ql)?://' } },
    },
    signing: {
      type: 'object', additionalProperties: false,
      properties: { keyFile: str, certFile: str, p12File: str, passphrase: { type: 'string' }, trust: str },
    },
    central: {
      type: 'object', additionalProperties: false,
      required: ['url', 'timeoutMs', 'maxAttempts', 'maxAgeMs', 'retryBaseMs', 'retryMaxMs', 'breakerThreshold', 'breakerCooldownMs'],
      properties: {
        url: { type: 'string', pattern: '^https?://' }, probeUrl: { type: 'string', pattern: '^https?://' }, caFile: str, certFile: str, keyFile: str,
        timeoutMs: posInt, maxAttempts: { type: 'integer', minimum: 1, maximum: 1000 }, maxAgeMs: posInt, retryBaseMs: posInt, retryMaxMs: posInt,
        breakerThreshold: posInt, breakerCooldownMs: posInt,
      },
    },
    webhook: {
      type: 'object', additionalProperties: false, required: ['maxAttempts', 'retryBaseMs', 'retryMaxMs', 'timeoutMs'],
      properties: {
        url: { type: 'string', pattern: '^https?://' }, secret: { type: 'string', minLength: 16 },
        maxAttempts: { type: 'integer', minimum: 1, maximum: 1000 }, retryBaseMs: posInt, retryMaxMs: posInt, timeoutMs: posInt,
      },
    },
    mock: {
      type: 'object', additionalProperties: false, required: ['host', 'port', 'controlPort'],
      properties: { host: str, port, controlPort: port },
    },
    log: {
      type: 'object', additionalProperties: false, required: ['level'],
      properties: { level: { enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] } },
    },
  },
} as const;

/** Defaults: what `davis serve` uses when neither a file nor a variable says otherwise. */
export function defaultConfig(): Record<string, unknown> {
  return {
    mode: 'production',
    dataDir: '.davis',
    memberState: 'FI',
    gateway: { host: '127.0.0.1', port: 8080, bodyLimit: 8 * 1024 * 1024, requestTimeoutMs: 60000, headersTimeoutMs: 15000, keepAliveTimeoutMs: 72000, tokens: [], notifyAuth: 'client-cert' },
    amqp: { url: 'amqp://guest:guest@127.0.0.1:5672', prefix: 'davis.', shards: 8, confirmTimeoutMs: 5000, maxBacklog: 100000 },
    journal: { driver: 'sqlite', sqlitePath: 'journal.sqlite', postgresUrl: 'postgres://postgres@127.0.0.1:5432/postgres' },
    signing: {},
    central: {
      url: 'https://127.0.0.1:8443/vis/v1/messages', timeoutMs: 10000, maxAttempts: 12, maxAgeMs: 86400000,
      retryBaseMs: 1000, retryMaxMs: 300000, breakerThreshold: 5, breakerCooldownMs: 1000,
    },
    webhook: { maxAttempts: 10, retryBaseMs: 1000, retryMaxMs: 300000, timeoutMs: 5000 },
    relayIntervalMs: 10000,
    shutdownTimeoutMs: 30000,
    mock: { host: '127.0.0.1', port: 8443, controlPort: 8444 },
    log: { level: 'info' },
  };
}

/** Environment variables beyond the generic `DAVIS_<SECTION>_<KEY>` form. */
const ENV_ALIASES: Record<string, string> = {
  AMQP_URL: 'amqp.url',
  DAVIS_PORT: 'gateway.port',
  DAVIS_HOST: 'gateway.host',
  DAVIS_MODE: 'mode',
  DAVIS_DATA_DIR: 'dataDir',
  DAVIS_MEMBER_STATE: 'memberState',
  DAVIS_LOG_LEVEL: 'log.level',
};

/** Every leaf path of the schema with its environment variable name, e.g. `central.timeoutMs` → `DAVIS_CENTRAL_TIMEOUT_MS`. */
export function envVariables(): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (schema: Record<string, unknown>, prefix: string[]): void => {
    const props = schema.properties as Record<string, Record<string, unknown>> | undefined;
    for (const [key, sub] of Object.entries(props ?? {})) {
      const p = [...prefix, key];
      if (sub.type === 'object') walk(sub, p);
      else out.set('DAVIS_' + p.map((s) => s.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()).join('_'), p.join('.'));
    }
  };
  walk(CONFIG_SCHEMA as unknown as Record<string, unknown>, []);
  for (const [name, p] of Object.entries(ENV_ALIASES)) out.set(name, p);
  return out;
}

function leafSchema(p: string): Record<string, unknown> {
  let node = CONFIG_SCHEMA as unknown as Record<string, unknown>;
  for (const part of p.split('.')) node = (node.properties as Record<string, Record<string, unknown>>)[part];
  return node;
}

function setPath(target: Record<string, unknown>, p: string, value: unknown): void {
  const parts = p.split('.');
  let node = target;
  for (const part of parts.slice(0, -1)) {
    if (typeof node[part] !== 'object' || node[part] === null) node[part] = {};
    node = node[part] as Record<string, unknown>;
  }
  node[parts[parts.length - 1]] = value;
}

function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] = v && typeof v === 'object' && !Array.isArray(v) && b && typeof b === 'object' && !Array.isArray(b)
      ? deepMerge(b as Record<string, unknown>, v as Record<string, unknown>)
      : v;
  }
  return out;
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}

const ajv = new Ajv({ allErrors: true, strict: true });
const validateConfig = ajv.compile(CONFIG_SCHEMA);

/** Where configuration comes from, besides the defaults. */
export interface ConfigSources {
  /** A JSON file (`--config`). */
  readonly file?: string;
  /** Environment; only `DAVIS_*` and `AMQP_URL` are read. @default process.env */
  readonly env?: NodeJS.ProcessEnv;
  /** Values set by the command (e.g. `davis dev` sets `mode: "dev"`), applied before the file and env. */
  readonly overrides?: Record<string, unknown>;
}

/**
 * Builds the frozen configuration. Precedence, lowest first: defaults, command overrides,
 * file, environment. Relative file paths in the file are resolved against the file's folder.
 *
 * @throws DavisError DAVIS_ERR_CONFIG_FILE (unreadable or not JSON), DAVIS_ERR_CONFIG_INVALID
 *   (unknown key, unknown `DAVIS_*` variable, or a bad value; the message names each one)
 */
export function loadConfig(sources: ConfigSources = {}): Config {
  let merged = deepMerge(defaultConfig(), sources.overrides ?? {});
  if (sources.file) {
    let text: string;
    try {
      text = readFileSync(sources.file, 'utf8');
    } catch (e) {
      throw new DavisError('DAVIS_ERR_CONFIG_FILE', `cannot read configuration file ${sources.file}: ${(e as Error).message}`, { cause: e });
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (e) {
      throw new DavisError('DAVIS_ERR_CONFIG_FILE', `configuration file ${sources.file} is not JSON: ${(e as Error).message}`, { cause: e });
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new DavisError('DAVIS_ERR_CONFIG_FILE', `configuration file ${sources.file} must hold a JSON object`);
    }
    merged = deepMerge(merged, resolveFilePaths(parsed as Record<string, unknown>, path.dirname(path.resolve(sources.file))));
  }
  const env = sources.env ?? process.env;
  const vars = envVariables();
  const problems: string[] = [];
  for (const [name, raw] of Object.entries(env)) {
    if (raw === undefined || !(name.startsWith('DAVIS_') || name === 'AMQP_URL')) continue;
    const p = vars.get(name);
    if (!p) {
      problems.push(`unknown environment variable ${name}`);
      continue;
    }
    const schema = leafSchema(p);
    let value: unknown = raw;
    if (schema.type === 'integer') {
      value = /^-?\d+$/.test(raw.trim()) ? Number(raw) : raw;
    } else if (schema.type === 'array') {
      try {
        value = JSON.parse(raw);
      } catch {
        problems.push(`${name} must be a JSON array`);
        continue;
      }
    }
    setPath(merged, p, value);
  }
  if (!validateConfig(merged)) {
    for (const err of validateConfig.errors ?? []) {
      const where = (err.instancePath || '/').replace(/^\//, '').replace(/\//g, '.') || '(root)';
      if (err.keyword === 'additionalProperties') {
        const extra = (err.params as { additionalProperty: string }).additionalProperty;
        problems.push(`unknown key "${where === '(root)' ? extra : `${where}.${extra}`}"`);
      } else {
        problems.push(`${where}: ${err.message}${err.keyword === 'enum' ? ` (${(err.params as { allowedValues: unknown[] }).allowedValues.join(', ')})` : ''}`);
      }
    }
  }
  if (problems.length) {
    throw new DavisError('DAVIS_ERR_CONFIG_INVALID', `invalid configuration: ${problems.join('; ')}`);
  }
  const cfg = merged as unknown as Config;
  (cfg as { dataDir: string }).dataDir = path.resolve(cfg.dataDir);
  return deepFreeze(cfg);
}

const FILE_KEYS = new Set(['certFile', 'keyFile', 'caFile', 'p12File', 'trust', 'sqlitePath', 'dataDir']);

function resolveFilePaths(o: Record<string, unknown>, base: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) {
    if (typeof v === 'string' && FILE_KEYS.has(k) && k !== 'sqlitePath') out[k] = path.resolve(base, v);
    else if (v && typeof v === 'object' && !Array.isArray(v)) out[k] = resolveFilePaths(v as Record<string, unknown>, base);
    else out[k] = v;
  }
  return out;
}

/** Absolute path of the SQLite journal. */
export function sqliteFile(cfg: Config): string {
  return path.resolve(cfg.dataDir, cfg.journal.sqlitePath);
}

/** A URL without its password, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable URL)';
  }
}
