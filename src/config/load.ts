import { readFileSync } from 'node:fs';
import path from 'node:path';
import Ajv, { type ErrorObject } from 'ajv';
import { DavisError, reasonOf, type FieldError } from '../errors/errors';
import { deepFreeze } from '../util/deep-freeze';
import { encodePointer } from '../util/json-pointer';
import { CONFIG_SCHEMA, type Config } from './schema';

/**
 * Configuration: one step at start merges command overrides, a JSON file (`--config`) and
 * `DAVIS_*` environment variables (then `AMQP_URL`), lets ajv fill the schema's defaults and
 * validate the result (unknown keys rejected), and freezes it. Only the frozen
 * {@link Config} travels through the program.
 */

/** Environment variables beyond the generic `DAVIS_<SECTION>_<KEY>` form. */
const ENV_ALIASES: Readonly<Record<string, string>> = {
  AMQP_URL: 'amqp.urls',
  DAVIS_PORT: 'gateway.port',
  DAVIS_HOST: 'gateway.host',
  DAVIS_MODE: 'mode',
  DAVIS_DATA_DIR: 'dataDir',
  DAVIS_MEMBER_STATE: 'memberState',
  DAVIS_LOG_LEVEL: 'log.level',
};

/** Variables of the operator commands (`davis status`, `davis messages`), not of the gateway: set in an operator's shell, they are no configuration error. */
const CLIENT_VARIABLES: ReadonlySet<string> = new Set(['DAVIS_URL', 'DAVIS_TOKEN']);

interface SchemaNode { type?: unknown; properties?: Record<string, SchemaNode> }

/** Every leaf path of the schema with its environment variable name, e.g. `central.timeoutMs` → `DAVIS_CENTRAL_TIMEOUT_MS`. */
export function envVariables(): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (schema: SchemaNode, prefix: string[]): void => {
    for (const [key, sub] of Object.entries(schema.properties ?? {})) {
      const p = [...prefix, key];
      if (sub.type === 'object') walk(sub, p);
      else out.set('DAVIS_' + p.map((s) => s.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()).join('_'), p.join('.'));
    }
  };
  walk(CONFIG_SCHEMA as SchemaNode, []);
  for (const [name, p] of Object.entries(ENV_ALIASES)) out.set(name, p);
  return out;
}

function leafSchema(p: string): SchemaNode {
  let node = CONFIG_SCHEMA as SchemaNode;
  for (const part of p.split('.')) {
    const next = node.properties?.[part];
    if (!next) throw new Error(`no configuration setting ${p}`);
    node = next;
  }
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

function isObject(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}

function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] = isObject(v) && isObject(b) ? deepMerge(b, v) : v;
  }
  return out;
}

const ajv = new Ajv({ allErrors: true, strict: true, useDefaults: true });
const validateConfig = ajv.compile<Config>(CONFIG_SCHEMA);

/** Where configuration comes from, besides the defaults. */
export interface ConfigSources {
  /** A JSON file (`--config`). */
  readonly file?: string;
  /** Environment; only `DAVIS_*` and `AMQP_URL` are read. @default process.env */
  readonly env?: NodeJS.ProcessEnv;
  /** Values set by the command (e.g. `davis dev` sets `mode: "dev"`), applied before the file and env. */
  readonly overrides?: Record<string, unknown>;
}

/** The schema's defaults alone: what `davis serve` uses when neither a file nor a variable says otherwise. */
export function defaultConfig(): Config {
  const value: Record<string, unknown> = {};
  validateConfig(value);
  return deepFreeze(value as unknown as Config);
}

function readFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new DavisError('DAVIS_ERR_CONFIG_FILE', { file, reason: `cannot be read: ${reasonOf(e)}` }, { cause: e });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new DavisError('DAVIS_ERR_CONFIG_FILE', { file, reason: `not JSON: ${(e as Error).message}` }, { cause: e });
  }
  if (!isObject(parsed)) throw new DavisError('DAVIS_ERR_CONFIG_FILE', { file, reason: 'must hold a JSON object' });
  return resolveFilePaths(parsed, path.dirname(path.resolve(file)));
}

/** One problem per ajv error, aimed at the key; `variable` names the environment variable the value came from. */
function toProblem(err: ErrorObject, fromEnv: ReadonlyMap<string, string>): FieldError {
  if (err.keyword === 'additionalProperties') {
    const pointer = `${err.instancePath}/${(err.params as { additionalProperty: string }).additionalProperty}`;
    return { pointer, message: 'unknown key' };
  }
  const allowed = err.keyword === 'enum' ? ` (${(err.params as { allowedValues: unknown[] }).allowedValues.join(', ')})` : '';
  const variable = fromEnv.get(err.instancePath);
  return { pointer: err.instancePath, message: `${err.message ?? 'invalid'}${allowed}`, ...(variable ? { variable } : {}) };
}

const dotted = (pointer: string) => pointer.replace(/^\//, '').replace(/\//g, '.') || '(root)';

function describe(p: FieldError): string {
  if (p.message === 'unknown key') return `unknown key "${dotted(p.pointer)}"`;
  if (p.pointer === '' && p.variable) return `${p.variable}: ${p.message}`;
  return `${dotted(p.pointer)}: ${p.message}${p.variable ? ` (from ${p.variable})` : ''}`;
}

/**
 * Builds the frozen configuration. Precedence, lowest first: defaults, command overrides,
 * file, environment. Relative file paths in the file are resolved against the file's folder.
 *
 * @throws DavisError DAVIS_ERR_CONFIG_FILE (unreadable or not JSON), DAVIS_ERR_CONFIG_INVALID
 *   (unknown key, unknown `DAVIS_*` variable, or a bad value; `errors` holds one
 *   `{pointer, message, variable?}` per problem)
 */
export function loadConfig(sources: ConfigSources = {}): Config {
  let merged = deepMerge({}, sources.overrides ?? {});
  if (sources.file) merged = deepMerge(merged, readFile(sources.file));
  const env = sources.env ?? process.env;
  const vars = envVariables();
  const problems: FieldError[] = [];
  const fromEnv = new Map<string, string>();
  for (const [name, raw] of Object.entries(env)) {
    if (raw === undefined || !(name.startsWith('DAVIS_') || name === 'AMQP_URL') || CLIENT_VARIABLES.has(name)) continue;
    const p = vars.get(name);
    if (!p) {
      problems.push({ pointer: '', variable: name, message: 'unknown environment variable' });
      continue;
    }
    const pointer = encodePointer(p.split('.'));
    const schema = leafSchema(p);
    let value: unknown = raw;
    if (schema.type === 'integer') {
      value = /^-?\d+$/.test(raw.trim()) ? Number(raw) : raw;
    } else if (name === 'AMQP_URL') {
      value = raw.split(',').map((u) => u.trim()).filter((u) => u.length > 0);
    } else if (schema.type === 'array') {
      try {
        value = JSON.parse(raw);
      } catch {
        problems.push({ pointer, variable: name, message: 'must be a JSON array' });
        continue;
      }
    }
    fromEnv.set(pointer, name);
    setPath(merged, p, value);
    // The environment names the nodes: a deprecated `amqp.url` from the file must not contradict them.
    if (name === 'AMQP_URL' && Array.isArray(value)) setPath(merged, 'amqp.url', value[0]);
  }
  problems.push(...brokerUrls(merged));
  if (!validateConfig(merged)) problems.push(...(validateConfig.errors ?? []).map((e) => toProblem(e, fromEnv)));
  if (problems.length) {
    throw new DavisError('DAVIS_ERR_CONFIG_INVALID', { problems: problems.map(describe).join('; ') }, { errors: problems });
  }
  const cfg = merged as unknown as { dataDir: string };
  cfg.dataDir = path.resolve(cfg.dataDir);
  return deepFreeze(cfg as unknown as Config);
}

/**
 * `amqp.url` (deprecated) and `amqp.urls` name the same thing: either alone fills the other
 * (`url` is the first node), so code reading either sees the same broker. Both given and
 * disagreeing is a mistake worth stopping for.
 */
function brokerUrls(merged: Record<string, unknown>): FieldError[] {
  const a = merged.amqp as { url?: unknown; urls?: unknown } | undefined;
  if (!a || typeof a !== 'object') return [];
  // A bad `url` is reported once, under its own key, not again as a bad `urls` entry.
  if (a.urls === undefined && typeof a.url === 'string') a.urls = [/^amqps?:\/\//.test(a.url) ? a.url : 'amqp://'];
  else if (Array.isArray(a.urls) && a.url === undefined && typeof a.urls[0] === 'string') a.url = a.urls[0];
  else if (Array.isArray(a.urls) && typeof a.url === 'string' && !a.urls.includes(a.url)) {
    return [{ pointer: '/amqp/url', message: 'deprecated: give the broker nodes in amqp.urls only' }];
  }
  return [];
}

const FILE_KEYS = new Set(['certFile', 'keyFile', 'caFile', 'p12File', 'trust', 'dataDir']);

function resolveFilePaths(o: Record<string, unknown>, base: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) {
    if (typeof v === 'string' && FILE_KEYS.has(k)) out[k] = path.resolve(base, v);
    else if (Array.isArray(v) && FILE_KEYS.has(k)) out[k] = v.map((x: unknown) => (typeof x === 'string' ? path.resolve(base, x) : x));
    else if (isObject(v)) out[k] = resolveFilePaths(v, base);
    else out[k] = v;
  }
  return out;
}

/** Absolute path of the SQLite journal. */
export function sqliteFile(cfg: Config): string {
  return path.resolve(cfg.dataDir, cfg.journal.sqlitePath);
}
