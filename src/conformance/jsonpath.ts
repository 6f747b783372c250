/**
 * Queries on JSON documents (the gateway's status documents, HTTP answers, webhook bodies):
 * JSON Pointer (RFC 6901) for one value, and a JSONPath (RFC 9535) subset for several.
 *
 * JSONPath subset: `$`, `.name`, `['name']` / `["name"]`, `[n]` (negative from the end),
 * `[*]` / `.*`, `[a,b]` (names or indices), `[start:end]` slices, `..name` / `..*` / `..[n]`
 * (descendants), and filters `[?(@.a.b == 'x')]` / `[?@.a]` with `== != < <= > >=`, `&&`,
 * `||`, `!` and parentheses over `@`-relative paths and literals (strings, numbers, true,
 * false, null). Enough for suites; no functions, no script expressions.
 */

import { JsonQueryError } from '../util/json-pointer';

export { JsonQueryError, checkPointer, pointerTokens, getPointer, setPointer, removePointer, encodePointer } from '../util/json-pointer';

// ---------------------------------------------------------------------------------------
// JSONPath
// ---------------------------------------------------------------------------------------

type Selector =
  | { s: 'name'; name: string }
  | { s: 'index'; index: number }
  | { s: 'wildcard' }
  | { s: 'slice'; start?: number; end?: number; step?: number }
  | { s: 'filter'; f: Filter };

interface Segment { descendant: boolean; selectors: Selector[] }

type Operand = { o: 'path'; segments: Segment[] } | { o: 'literal'; v: unknown };
type Filter =
  | { f: 'exists'; path: Segment[] }
  | { f: 'cmp'; op: string; l: Operand; r: Operand }
  | { f: 'and' | 'or'; l: Filter; r: Filter }
  | { f: 'not'; x: Filter };

/** A parsed JSONPath. */
export interface CompiledJsonPath {
  readonly source: string;
  /** Every value the path selects, in document order. */
  evaluate(value: unknown): unknown[];
}

class PathParser {
  private i = 0;
  constructor(private readonly s: string) {}

  private err(msg: string): never { throw new JsonQueryError(msg, this.i); }
  private ws(): void { while (this.i < this.s.length && /\s/.test(this.s[this.i])) this.i++; }
  private eat(t: string): boolean {
    this.ws();
    if (this.s.startsWith(t, this.i)) { this.i += t.length; return true; }
    return false;
  }
  private need(t: string): void { if (!this.eat(t)) this.err(`expected "${t}"`); }

  parseRoot(): Segment[] {
    this.ws();
    if (this.s[this.i] !== '$') this.err('a JSONPath starts with "$"');
    this.i++;
    const segs = this.segments();
    this.ws();
    if (this.i < this.s.length) this.err(`unexpected "${this.s[this.i]}"`);
    return segs;
  }

  /** Segments after `$` or `@`, until something that is not a segment. */
  private segments(): Segment[] {
    const out: Segment[] = [];
    for (;;) {
      if (this.s.startsWith('..', this.i)) {
        this.i += 2;
        if (this.s[this.i] === '[') out.push({ descendant: true, selectors: this.bracket() });
        else out.push({ descendant: true, selectors: [this.dotName()] });
      } else if (this.s[this.i] === '.') {
        this.i++;
        out.push({ descendant: false, selectors: [this.dotName()] });
      } else if (this.s[this.i] === '[') {
        out.push({ descendant: false, selectors: this.bracket() });
      } else {
        return out;
      }
    }
  }

  private dotName(): Selector {
    if (this.s[this.i] === '*') { this.i++; return { s: 'wildcard' }; }
    const m = /^[A-Za-z_\u0080-\uFFFF][\w\u0080-\uFFFF-]*/.exec(this.s.slice(this.i));
    if (!m) this.err('expected a member name after "."');
    this.i += m[0].length;
    return { s: 'name', name: m[0] };
  }

  private bracket(): Selector[] {
    this.need('[');
    const sels: Selector[] = [];
    do {
      this.ws();
      sels.push(this.selector());
      this.ws();
    } while (this.eat(','));
    this.need(']');
    return sels;
  }

  private selector(): Selector {
    const c = this.s[this.i];
    if (c === '*') { this.i++; return { s: 'wildcard' }; }
    if (c === "'" || c === '"') return { s: 'name', name: this.stringLit() };
    if (c === '?') {
      this.i++;
      this.ws();
      return { s: 'filter', f: this.filterOr() };
    }
    const m = /^(-?\d+)?\s*(:\s*(-?\d+)?\s*(:\s*(-?\d+)?)?)?/.exec(this.s.slice(this.i));
    if (!m?.[0].trim()) this.err('expected a name, index, slice, "*" or filter');
    this.i += m[0].length;
    if (m[2] === undefined) return { s: 'index', index: Number(m[1]) };
    return {
      s: 'slice',
      ...(m[1] !== undefined ? { start: Number(m[1]) } : {}),
      ...(m[3] !== undefined ? { end: Number(m[3]) } : {}),
      ...(m[5] !== undefined ? { step: Number(m[5]) } : {}),
    };
  }

  private stringLit(): string {
    const q = this.s[this.i];
    let out = '';
    this.i++;
    while (this.i < this.s.length && this.s[this.i] !== q) {
      if (this.s[this.i] === '\\' && this.i + 1 < this.s.length) { out += this.s[this.i + 1]; this.i += 2; } else out += this.s[this.i++];
    }
    if (this.s[this.i] !== q) this.err('unterminated string');
    this.i++;
    return out;
  }

  private filterOr(): Filter {
    let l = this.filterAnd();
    while (this.eat('||')) l = { f: 'or', l, r: this.filterAnd() };
    return l;
  }
  private filterAnd(): Filter {
    let l = this.filterUnary();
    while (this.eat('&&')) l = { f: 'and', l, r: this.filterUnary() };
    return l;
  }
  private filterUnary(): Filter {
    this.ws();
    if (this.s[this.i] === '!' && this.s[this.i + 1] !== '=') { this.i++; return { f: 'not', x: this.filterUnary() }; }
    if (this.s[this.i] === '(') {
      // Either a grouped filter or the legacy `?(...)` wrapper: both parse the same.
      this.i++;
      const f = this.filterOr();
      this.need(')');
      return f;
    }
    const l = this.operand();
    this.ws();
    const op = /^(==|!=|<=|>=|<|>)/.exec(this.s.slice(this.i));
    if (!op) {
      if (l.o !== 'path') this.err('a literal alone is not a filter');
      return { f: 'exists', path: l.segments };
    }
    this.i += op[0].length;
    this.ws();
    return { f: 'cmp', op: op[0], l, r: this.operand() };
  }

  private operand(): Operand {
    this.ws();
    const c = this.s[this.i];
    if (c === '@') {
      this.i++;
      return { o: 'path', segments: this.segments() };
    }
    if (c === '$') this.err('filters take @-relative paths only');
    if (c === "'" || c === '"') return { o: 'literal', v: this.stringLit() };
    const m = /^(-?\d+(\.\d+)?([eE][+-]?\d+)?|true|false|null)/.exec(this.s.slice(this.i));
    if (!m) this.err('expected @-path or a literal');
    this.i += m[0].length;
    return { o: 'literal', v: JSON.parse(m[0]) };
  }
}

function children(v: unknown): unknown[] {
  if (Array.isArray(v)) return v;
  if (v && typeof v === 'object') return Object.values(v);
  return [];
}

function applySelector(sel: Selector, v: unknown, out: unknown[]): void {
  switch (sel.s) {
    case 'name':
      if (v && typeof v === 'object' && !Array.isArray(v) && Object.prototype.hasOwnProperty.call(v, sel.name)) out.push((v as Record<string, unknown>)[sel.name]);
      return;
    case 'index':
      if (Array.isArray(v)) {
        const i = sel.index < 0 ? v.length + sel.index : sel.index;
        if (i >= 0 && i < v.length) out.push(v[i]);
      }
      return;
    case 'wildcard':
      out.push(...children(v));
      return;
    case 'slice': {
      if (!Array.isArray(v)) return;
      const n = v.length;
      const step = sel.step ?? 1;
      if (step === 0) return;
      const norm = (x: number) => (x < 0 ? Math.max(n + x, step > 0 ? 0 : -1) : Math.min(x, step > 0 ? n : n - 1));
      const start = sel.start !== undefined ? norm(sel.start) : step > 0 ? 0 : n - 1;
      const end = sel.end !== undefined ? norm(sel.end) : step > 0 ? n : -1;
      for (let i = start; step > 0 ? i < end : i > end; i += step) out.push(v[i]);
      return;
    }
    case 'filter':
      for (const c of children(v)) if (testFilter(sel.f, c)) out.push(c);
  }
}

function descend(v: unknown, out: unknown[]): void {
  out.push(v);
  for (const c of children(v)) descend(c, out);
}

function run(segments: Segment[], root: unknown): unknown[] {
  let nodes: unknown[] = [root];
  for (const seg of segments) {
    const next: unknown[] = [];
    for (const n of nodes) {
      const bases: unknown[] = [];
      if (seg.descendant) descend(n, bases);
      else bases.push(n);
      for (const b of bases) for (const sel of seg.selectors) applySelector(sel, b, next);
    }
    nodes = next;
  }
  return nodes;
}

function operandValue(o: Operand, current: unknown): { present: boolean; v: unknown } {
  if (o.o === 'literal') return { present: true, v: o.v };
  const r = run(o.segments, current);
  return r.length === 1 ? { present: true, v: r[0] } : { present: false, v: undefined };
}

function testFilter(f: Filter, current: unknown): boolean {
  switch (f.f) {
    case 'exists': return run(f.path, current).length > 0;
    case 'not': return !testFilter(f.x, current);
    case 'and': return testFilter(f.l, current) && testFilter(f.r, current);
    case 'or': return testFilter(f.l, current) || testFilter(f.r, current);
    case 'cmp': {
      const a = operandValue(f.l, current);
      const b = operandValue(f.r, current);
      if (f.op === '==') return a.present === b.present && (!a.present || jsonEqual(a.v, b.v));
      if (f.op === '!=') return !(a.present === b.present && (!a.present || jsonEqual(a.v, b.v)));
      if (!a.present || !b.present) return false;
      const x = a.v;
      const y = b.v;
      if (!((typeof x === 'number' && typeof y === 'number') || (typeof x === 'string' && typeof y === 'string'))) return false;
      switch (f.op) {
        case '<': return x < y;
        case '<=': return x <= y;
        case '>': return x > y;
        default: return x >= y;
      }
    }
  }
}

/** Deep equality of JSON values (object key order ignored). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => jsonEqual(x, b[i]));
  if (a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(b)) {
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    return ka.length === kb.length && ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && jsonEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
  }
  return false;
}

/**
 * Parses a JSONPath once.
 *
 * @throws JsonQueryError with the offset of the problem
 */
export function compileJsonPath(source: string): CompiledJsonPath {
  const segments = new PathParser(source).parseRoot();
  return { source, evaluate: (value) => run(segments, value) };
}
