/**
 * Expectations: how a check in a suite (a matcher on a JSON pointer, a JSONPath, an XPath on
 * the wire XML) becomes a {@link CheckResult}, and how a failure is told without printing
 * data that may be personal.
 */
import type { CaseRun } from './case-run';
import { compileJsonPath, getPointer } from './jsonpath';
import { applyMatcher, type Subject } from './matchers';
import type { Check, CheckResult } from './types';
import type { XmlDocument } from '../xml/parser';
import { compileXPath, xpathResultToJson } from '../xml/xpath';

/** Message states after which nothing changes (but an operator retry). */
export const TERMINAL = new Set(['delivered', 'rejected', 'failed', 'refused']);

/** Whether a central reason is a bare code (safe to print) rather than free text that may echo data. */
export function isCode(s: unknown): s is string {
  return typeof s === 'string' && /^[A-Z][A-Z0-9_.:-]{1,80}$/.test(s);
}

/** `central VIS_ERR_X (DAVIS_ERR_Y)`, or the last error code, for a status document. */
export function causeOf(doc: Record<string, any> | undefined): string | undefined {
  if (!doc) return undefined;
  const c = doc.central as Record<string, unknown> | undefined;
  if (c?.code && c.code !== 'OK') return `central ${String(c.code)}${isCode(c.reason) ? ` (${c.reason})` : ''}`;
  if (typeof doc.lastError === 'string' && doc.status !== 'delivered') {
    const m = /^([A-Z][A-Z0-9_]+)(?::\s*([A-Z][A-Z0-9_]+))?/.exec(doc.lastError);
    if (m) return `${doc.status} ${m[1]}${m[2] ? ` (${m[2]})` : ''}`;
  }
  return undefined;
}

/** Applies a matcher to a subject. */
export function check(name: string, spec: unknown, subject: Subject, sensitive = false): CheckResult {
  const r = applyMatcher(spec, subject);
  return { name, ok: r.ok, expected: spec, actual: subject.value, problems: r.problems, ...(sensitive ? { sensitive } : {}) };
}

/** Evaluates a pointer or path locator on a JSON document. */
export function locate(cr: CaseRun, c: Check, doc: unknown): Subject {
  if (c.pointer !== undefined) {
    const v = getPointer(doc, cr.resolveText(c.pointer));
    return { value: v, present: v !== undefined, ...(Array.isArray(v) ? { count: v.length } : {}) };
  }
  const all = compileJsonPath(cr.resolveText(c.path!)).evaluate(doc);
  return { value: all.length === 1 ? all[0] : all.length ? all : undefined, present: all.length > 0, count: all.length };
}

/** A check on a JSON document (a response, a status document, a callback). */
export function jsonCheck(what: string, cr: CaseRun, c: Check, doc: unknown, sensitive: boolean): CheckResult {
  return check(`${what} ${c.pointer ?? c.path}`, cr.resolve(c.spec), locate(cr, c, doc), sensitive);
}

/** A check on the wire XML central received. */
export function xpathCheck(cr: CaseRun, c: Check, doc: XmlDocument): CheckResult {
  const expr = cr.resolveText(c.xpath!);
  const v = compileXPath(expr, c.namespaces).evaluate(doc);
  const value = xpathResultToJson(v);
  const count = Array.isArray(v) ? v.length : undefined;
  // Values from the wire XML may be payload data (names, dates): never printed on the console.
  return check(`xpath ${expr}`, cr.resolve(c.spec), { value, present: (value !== undefined && value !== '') || (count ?? 0) > 0, ...(count !== undefined ? { count } : {}) }, true);
}

/** One line for a failed check, without sensitive values. */
export function checkSummary(c: CheckResult): string {
  if (c.sensitive) return `${c.name}: ${c.problems.map((p) => p.replace(/got .*$/, 'got a different value (see the HTML report)')).join('; ')}`;
  return `${c.name}: ${c.problems.join('; ')}`;
}
