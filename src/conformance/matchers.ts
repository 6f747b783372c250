/**
 * What an expected value in a suite means. A scalar, a list, or an object without matcher
 * keys is compared for equality; an object made of matcher keys applies each of them:
 *
 * ```yaml
 * code: OK                          # equals
 * reference: { matches: '^VIS-FI-' }
 * attempts: { gte: 2 }
 * status: { one-of: [delivered, rejected] }
 * ```
 *
 * Equality is JSON equality, except that a string and a number or boolean compare by their
 * text (`"2"` equals `2`): XPath and HTTP headers give strings, YAML authors write numbers.
 */
import { jsonEqual } from './jsonpath';

/** The keys that make an object a matcher rather than a literal value. */
export const MATCHER_KEYS = Object.freeze([
  'equals', 'not-equals', 'matches', 'not-matches', 'contains', 'not-contains', 'starts-with', 'exists', 'count',
  'length', 'one-of', 'gt', 'gte', 'lt', 'lte',
] as const);

/** One matcher key. */
export type MatcherKey = (typeof MATCHER_KEYS)[number];

const KEYS: ReadonlySet<string> = new Set(MATCHER_KEYS);

/** What a matcher is applied to. */
export interface Subject {
  /** The value found (`undefined` when nothing was found). */
  readonly value: unknown;
  /** Whether anything was found (a pointer that resolved, a path or XPath with results). */
  readonly present: boolean;
  /** How many results a JSONPath or XPath gave; for a pointer, the length of an array value. */
  readonly count?: number;
}

/** The outcome of one matcher. */
export interface MatchResult {
  readonly ok: boolean;
  /** Why it failed (empty when ok). */
  readonly problems: readonly string[];
}

/** Whether `spec` is a matcher object (as opposed to a literal to compare with). */
export function isMatcher(spec: unknown): spec is Record<string, unknown> {
  return !!spec && typeof spec === 'object' && !Array.isArray(spec) && Object.keys(spec).length > 0 && Object.keys(spec).every((k) => KEYS.has(k));
}

/**
 * Problems in a matcher object that a loader should report (unknown keys mixed with
 * matcher keys, a bad regular expression, a non-number for a comparison).
 */
export function checkMatcher(spec: unknown): string[] {
  if (!spec || typeof spec !== 'object' || Array.isArray(spec)) return [];
  const keys = Object.keys(spec);
  const known = keys.filter((k) => KEYS.has(k));
  if (!known.length) return [];
  const problems: string[] = [];
  const unknown = keys.filter((k) => !KEYS.has(k));
  if (unknown.length) problems.push(`unknown matcher key(s) ${unknown.map((k) => `"${k}"`).join(', ')} (matchers: ${MATCHER_KEYS.join(', ')})`);
  const s = spec as Record<string, unknown>;
  for (const k of ['matches', 'not-matches'] as const) {
    if (s[k] !== undefined) {
      if (typeof s[k] !== 'string') problems.push(`${k} takes a regular expression string`);
      else if (!s[k].includes('${')) {
        try { new RegExp(s[k], 'u'); } catch (err) { problems.push(`${k}: ${(err as Error).message}`); }
      }
    }
  }
  for (const k of ['gt', 'gte', 'lt', 'lte'] as const) {
    if (s[k] !== undefined && typeof s[k] !== 'number' && !(typeof s[k] === 'string' && s[k].includes('${'))) problems.push(`${k} takes a number`);
  }
  if (s.exists !== undefined && typeof s.exists !== 'boolean') problems.push('exists takes true or false');
  if (s['one-of'] !== undefined && !Array.isArray(s['one-of'])) problems.push('one-of takes a list');
  for (const k of ['count', 'length'] as const) {
    if (s[k] !== undefined && typeof s[k] !== 'number') problems.push(...checkMatcher(s[k]).map((p) => `${k}: ${p}`));
  }
  return problems;
}

/** Equality as suites mean it (see the module comment). */
export function looseEqual(expected: unknown, actual: unknown): boolean {
  if (jsonEqual(expected, actual)) return true;
  const scalar = (v: unknown) => typeof v === 'number' || typeof v === 'boolean';
  if ((typeof expected === 'string' && scalar(actual)) || (typeof actual === 'string' && scalar(expected))) return String(expected) === String(actual);
  if (Array.isArray(expected) && Array.isArray(actual)) return expected.length === actual.length && expected.every((e, i) => looseEqual(e, actual[i]));
  return false;
}

/** A short JSON rendering for messages. */
export function show(v: unknown, max = 160): string {
  if (v === undefined) return 'nothing';
  const s = JSON.stringify(v) ?? String(v);
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

function toNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Number(v))) return Number(v);
  return NaN;
}

/** Applies `spec` to `subject`. */
export function applyMatcher(spec: unknown, subject: Subject): MatchResult {
  const problems: string[] = [];
  const v = subject.value;
  if (!isMatcher(spec)) {
    if (!looseEqual(spec, v)) problems.push(`expected ${show(spec)}, got ${show(v)}`);
    return { ok: !problems.length, problems };
  }
  const s = spec as Record<MatcherKey, unknown>;
  if (s.exists !== undefined && s.exists !== subject.present) problems.push(s.exists ? 'expected a value, found nothing' : `expected nothing, found ${show(v)}`);
  if ('equals' in s && !looseEqual(s.equals, v)) problems.push(`expected ${show(s.equals)}, got ${show(v)}`);
  if ('not-equals' in s && looseEqual(s['not-equals'], v)) problems.push(`expected anything but ${show(s['not-equals'])}`);
  if (s['one-of'] !== undefined && !(s['one-of'] as unknown[]).some((x) => looseEqual(x, v))) problems.push(`expected one of ${show(s['one-of'])}, got ${show(v)}`);
  const items = Array.isArray(v) ? v : [v];
  if (s.matches !== undefined) {
    const re = new RegExp(String(s.matches), 'u');
    if (v === undefined || !items.every((x) => x !== undefined && re.test(typeof x === 'string' ? x : JSON.stringify(x)))) problems.push(`expected to match /${String(s.matches)}/, got ${show(v)}`);
  }
  if (s['not-matches'] !== undefined) {
    const re = new RegExp(String(s['not-matches']), 'u');
    if (items.some((x) => x !== undefined && re.test(typeof x === 'string' ? x : JSON.stringify(x)))) problems.push(`expected not to match /${String(s['not-matches'])}/, got ${show(v)}`);
  }
  if (s['starts-with'] !== undefined && !(typeof v === 'string' && v.startsWith(String(s['starts-with'])))) problems.push(`expected to start with ${show(s['starts-with'])}, got ${show(v)}`);
  if ('contains' in s && !contains(v, s.contains)) problems.push(`expected ${show(v)} to contain ${show(s.contains)}`);
  if ('not-contains' in s && v !== undefined && contains(v, s['not-contains'])) problems.push(`expected ${show(v)} not to contain ${show(s['not-contains'])}`);
  for (const [k, cmp] of [['gt', (a: number, b: number) => a > b], ['gte', (a: number, b: number) => a >= b], ['lt', (a: number, b: number) => a < b], ['lte', (a: number, b: number) => a <= b]] as const) {
    if (s[k] === undefined) continue;
    const n = toNumber(v);
    if (Number.isNaN(n) || !cmp(n, toNumber(s[k]))) problems.push(`expected ${k === 'gt' ? '>' : k === 'gte' ? '≥' : k === 'lt' ? '<' : '≤'} ${show(s[k])}, got ${show(v)}`);
  }
  if (s.count !== undefined) {
    const count = subject.count ?? (Array.isArray(v) ? v.length : subject.present ? 1 : 0);
    const r = applyMatcher(s.count, { value: count, present: true });
    if (!r.ok) problems.push(`count: ${r.problems.join('; ')}`);
  }
  if (s.length !== undefined) {
    const len = typeof v === 'string' ? [...v].length : Array.isArray(v) ? v.length : undefined;
    const r = applyMatcher(s.length, { value: len, present: len !== undefined });
    if (!r.ok) problems.push(`length: ${r.problems.join('; ')}`);
  }
  return { ok: !problems.length, problems };
}

function contains(haystack: unknown, needle: unknown): boolean {
  if (Array.isArray(haystack)) {
    const wanted = Array.isArray(needle) ? needle : [needle];
    return wanted.every((w) => haystack.some((h) => looseEqual(w, h)));
  }
  if (typeof haystack === 'string') return haystack.includes(String(needle));
  if (haystack && typeof haystack === 'object' && needle && typeof needle === 'object' && !Array.isArray(needle)) {
    return Object.entries(needle).every(([k, x]) => looseEqual(x, (haystack as Record<string, unknown>)[k]));
  }
  return false;
}
