/**
 * `${…}` templates in suite values, and the seeded values they can produce.
 *
 * - `${name}`: a variable (suite or case `variables`, a `capture`, or an exchange name, whose
 *   value is the message id);
 * - `${run}`, `${seed}`, `${case}`: the run id, the run seed, the case id;
 * - `${unique:NAME}`: an identifier unique to this run, the case and NAME, the same every
 *   time the case uses NAME (e.g. `R4K2ZQ-7FQ21B`): application numbers, idempotency keys;
 * - `${unique-like:NAME:EXAMPLE}`: the same, shaped like EXAMPLE (its digits replaced, and its
 *   letters too when it has fewer than six digits; separators kept), for fields whose
 *   pattern a plain unique value would not fit (e.g. `${unique-like:app:FI-HEL-2025-000123}`);
 * - `${random:NAME}`: eight digits from the run seed, the case and NAME (the same seed gives
 *   the same digits);
 * - `${date:+30d}` / `${date:-1y}` / `${date:0}`: today (UTC) shifted, as YYYY-MM-DD;
 * - `${now}`: the current time (ISO 8601); not reproducible, use sparingly;
 * - `${env:NAME}`: an environment variable (secrets, endpoints).
 *
 * A string that is exactly one `${…}` takes the variable's value with its JSON type (a
 * number stays a number); anywhere else the value is written into the text. `$${` writes a
 * literal `${`.
 */
import { seededRandom } from '../util/seeded-random';
import { createHash } from 'node:crypto';

/** A template refers to something that does not exist, or is malformed. */
export class TemplateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TemplateError';
  }
}

/** What templates are resolved against. */
export interface TemplateScope {
  readonly runId: string;
  readonly seed: number;
  readonly caseId: string;
  /** Variables visible to the case (suite variables, case variables, captures, exchange ids). */
  readonly vars: ReadonlyMap<string, unknown>;
  /** Environment for `${env:…}`. @default process.env */
  readonly env?: NodeJS.ProcessEnv;
  /** Today for `${date:…}`. @default now */
  readonly today?: Date;
}

const TOKEN = /\$\$\{|\$\{([^}]*)\}/g;
const VAR_NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
const FUNCTIONS = new Set(['unique', 'unique-like', 'random', 'env', 'date']);
const BUILTINS = new Set(['run', 'seed', 'case', 'now']);

/** 32-bit hash of parts, for seeding (stable across runs and platforms). */
export function hash32(...parts: (string | number)[]): number {
  return createHash('sha256').update(parts.join('\u0000')).digest().readUInt32BE(0);
}


/** `${unique:NAME}` for a run, case and name. */
export function uniqueValue(runId: string, caseId: string, name: string): string {
  const h = createHash('sha256').update(`${runId}\u0000${caseId}\u0000${name}`).digest();
  return `${runId}-${(h.readUInt32BE(0) % 36 ** 6).toString(36).toUpperCase().padStart(6, '0')}`;
}

/** `${unique-like:NAME:EXAMPLE}` for a run, case and name. */
export function uniqueLike(runId: string, caseId: string, name: string, example: string): string {
  const r = seededRandom(hash32(runId, caseId, name));
  const digits = (example.match(/[0-9]/g) ?? []).length;
  const letters = digits < 6;
  const A = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
  return [...example].map((ch) => {
    if (/[0-9]/.test(ch)) return String(Math.floor(r() * 10));
    if (letters && /[A-Z]/.test(ch)) return A[Math.floor(r() * 26)];
    if (letters && /[a-z]/.test(ch)) return A[Math.floor(r() * 26)].toLowerCase();
    return ch;
  }).join('');
}

/** `${random:NAME}` for a seed, case and name. */
export function randomDigits(seed: number, caseId: string, name: string): string {
  const r = seededRandom(hash32(seed, caseId, name));
  let s = '';
  for (let i = 0; i < 8; i++) s += Math.floor(r() * 10);
  return s;
}

function shiftDate(today: Date, arg: string): string {
  const m = /^\s*([+-]?\d+)\s*([dmy]?)\s*$/.exec(arg);
  if (!m) throw new TemplateError(`\${date:${arg}}: expected an offset like +30d, -1y or 0`);
  const n = Number(m[1]);
  const d = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate()));
  if (m[2] === 'y') d.setUTCFullYear(d.getUTCFullYear() + n);
  else if (m[2] === 'm') d.setUTCMonth(d.getUTCMonth() + n);
  else d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

function resolve(expr: string, scope: TemplateScope): unknown {
  const e = expr.trim();
  const colon = e.indexOf(':');
  if (colon > 0) {
    const fn = e.slice(0, colon);
    const arg = e.slice(colon + 1);
    switch (fn) {
      case 'unique': return uniqueValue(scope.runId, scope.caseId, arg);
      case 'unique-like': {
        const sep = arg.indexOf(':');
        if (sep <= 0) throw new TemplateError(`\${${e}}: expected unique-like:NAME:EXAMPLE`);
        return uniqueLike(scope.runId, scope.caseId, arg.slice(0, sep), arg.slice(sep + 1));
      }
      case 'random': return randomDigits(scope.seed, scope.caseId, arg);
      case 'env': {
        const v = (scope.env ?? process.env)[arg];
        if (v === undefined) throw new TemplateError(`\${env:${arg}}: the environment variable is not set`);
        return v;
      }
      case 'date': return shiftDate(scope.today ?? new Date(), arg);
      default: throw new TemplateError(`\${${e}}: unknown function "${fn}" (unique, unique-like, random, env, date)`);
    }
  }
  if (e === 'run') return scope.runId;
  if (e === 'seed') return scope.seed;
  if (e === 'case') return scope.caseId;
  if (e === 'now') return new Date().toISOString();
  if (!scope.vars.has(e)) throw new TemplateError(`\${${e}}: undefined variable "${e}"`);
  return scope.vars.get(e);
}

/** Resolves the templates in one string (see the module comment for whole-value typing). */
export function interpolateString(s: string, scope: TemplateScope): unknown {
  if (!s.includes('${')) return s;
  const whole = /^\$\{([^}]*)\}$/.exec(s);
  if (whole) return resolve(whole[1], scope);
  return s.replace(TOKEN, (m, expr: string | undefined) => {
    if (m === '$${') return '${';
    const v = resolve(expr ?? '', scope);
    return typeof v === 'string' ? v : JSON.stringify(v);
  });
}

/** Resolves templates in every string of a JSON value (object keys included), returning a copy. */
export function interpolate(value: unknown, scope: TemplateScope): unknown {
  if (typeof value === 'string') return interpolateString(value, scope);
  if (Array.isArray(value)) return value.map((v) => interpolate(v, scope));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[String(interpolateString(k, scope))] = interpolate(v, scope);
    return out;
  }
  return value;
}

/**
 * Load-time check of every template in a value: malformed `${`, unknown functions, bad
 * variable names. Variables themselves are only known at run time.
 */
export function templateProblems(value: unknown): string[] {
  const out: string[] = [];
  const visit = (v: unknown): void => {
    if (typeof v === 'string') {
      const stripped = v.replace(/\$\$\{/g, '');
      let i = stripped.indexOf('${');
      while (i >= 0) {
        const end = stripped.indexOf('}', i);
        if (end < 0) {
          out.push(`unterminated "\${" in ${JSON.stringify(v.length > 60 ? v.slice(0, 60) + '…' : v)}`);
          break;
        }
        const expr = stripped.slice(i + 2, end).trim();
        const colon = expr.indexOf(':');
        if (colon > 0) {
          const fn = expr.slice(0, colon);
          if (!FUNCTIONS.has(fn)) out.push(`\${${expr}}: unknown function "${fn}" (unique, unique-like, random, env, date)`);
          else if (fn === 'unique-like' && !/^[^:]+:./.test(expr.slice(colon + 1))) out.push(`\${${expr}}: expected unique-like:NAME:EXAMPLE`);
          else if (fn === 'date' && !/^\s*[+-]?\d+\s*[dmy]?\s*$/.test(expr.slice(colon + 1))) out.push(`\${${expr}}: expected an offset like +30d, -1y or 0`);
        } else if (!VAR_NAME.test(expr) && !BUILTINS.has(expr)) {
          out.push(`\${${expr}}: not a variable name`);
        }
        i = stripped.indexOf('${', end);
      }
    } else if (Array.isArray(v)) v.forEach(visit);
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) { visit(k); visit(x); }
  };
  visit(value);
  return out;
}
