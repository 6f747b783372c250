/**
 * A namespace-aware XPath 1.0 evaluator over the gateway's own XML tree (`parseXml`), for
 * the assertions suites make on the wire XML central received.
 *
 * Why our own: the npm `xpath` package needs a W3C DOM (another parser and its quirks); the
 * gateway already has a strict, namespace-resolving parser that the signature code trusts,
 * and the subset suites need is small. Supported:
 *
 * - location paths, absolute and relative, `//`, `.`, `..`, `*`, `prefix:*`, `@name`, `@*`,
 *   `text()`, `node()`, `comment()`, `processing-instruction()`, and the axes child,
 *   attribute, self, parent, descendant(-or-self), ancestor(-or-self), following-sibling,
 *   preceding-sibling;
 * - predicates (`[2]`, `[last()]`, `[@Id='m-1']`, `[w:Code='OK']`, nested paths);
 * - `or and = != < <= > >= + - * div mod |` and unary minus, with XPath 1.0 comparison rules
 *   for node-sets;
 * - functions: last position count string concat contains starts-with ends-with
 *   substring substring-before substring-after string-length normalize-space translate not
 *   true false boolean number sum round floor ceiling name local-name namespace-uri.
 *
 * Names: a prefixed name test matches by namespace URI (prefixes come from the caller's
 * map, not from the document); an unprefixed name matches elements in NO namespace, as in
 * XPath 1.0, so wire elements always need a prefix (`w:Header`).
 */
import type { XmlAttribute, XmlComment, XmlDocument, XmlElement, XmlProcessingInstruction, XmlText } from './parser';
import { parseXml } from './parser';

/** A node an expression can select. */
export type XNode =
  | { readonly kind: 'root'; readonly doc: XmlDocument }
  | { readonly kind: 'element'; readonly el: XmlElement }
  | { readonly kind: 'attribute'; readonly owner: XmlElement; readonly attr: XmlAttribute; readonly index: number }
  | { readonly kind: 'text'; readonly node: XmlText; readonly parent: XmlElement }
  | { readonly kind: 'comment'; readonly node: XmlComment; readonly parent: XmlElement | null }
  | { readonly kind: 'pi'; readonly node: XmlProcessingInstruction; readonly parent: XmlElement | null };

/** The value of an XPath expression. */
export type XPathValue = XNode[] | string | number | boolean;

/** A syntax or namespace error in an expression; `offset` is the position in the expression. */
export class XPathError extends Error {
  constructor(message: string, readonly offset: number) {
    super(message);
    this.name = 'XPathError';
  }
}

/** An expression parsed once, evaluated against any number of documents. */
export interface CompiledXPath {
  readonly source: string;
  /** Evaluates against a parsed document, the root node as context. */
  evaluate(doc: XmlDocument): XPathValue;
}

/** Prefixes every suite may use without declaring them. */
export const DEFAULT_NAMESPACES: Readonly<Record<string, string>> = Object.freeze({
  w: 'urn:davis-gateway:wire:1',
  ds: 'http://www.w3.org/2000/09/xmldsig#',
});

// ---------------------------------------------------------------------------------------
// Tokens
// ---------------------------------------------------------------------------------------

type TokKind = 'op' | 'name' | 'literal' | 'number' | 'eof';
interface Token { kind: TokKind; value: string; at: number }

const NCNAME = '[A-Za-z_\\u00C0-\\uFFFF][\\w.\\-\\u00B7\\u00C0-\\uFFFF]*';
const NAME_RE = new RegExp(`^(?:${NCNAME}:\\*|${NCNAME}(?::${NCNAME})?|\\*)`);
const OPERATOR_NAMES = new Set(['and', 'or', 'div', 'mod']);

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  // XPath 1.0 §3.7: `*` and operator names are operators unless the previous token starts a step.
  const prevAllowsOperator = (): boolean => {
    const p = out.at(-1);
    if (!p) return false;
    if (p.kind === 'op') return p.value === ')' || p.value === ']' || p.value === '.' || p.value === '..';
    if (p.kind === 'name' && OPERATOR_NAMES.has(p.value) && (p as Token & { operator?: boolean }).operator) return false;
    return true;
  };
  while (i < src.length) {
    const c = src[i];
    if (/\s/.test(c)) { i++; continue; }
    const two = src.slice(i, i + 2);
    if (['//', '::', '..', '!=', '<=', '>='].includes(two)) {
      out.push({ kind: 'op', value: two, at: i });
      i += 2;
      continue;
    }
    if (c === '"' || c === "'") {
      const end = src.indexOf(c, i + 1);
      if (end < 0) throw new XPathError('unterminated string literal', i);
      out.push({ kind: 'literal', value: src.slice(i + 1, end), at: i });
      i = end + 1;
      continue;
    }
    const num = /^(?:\d+(?:\.\d*)?|\.\d+)/.exec(src.slice(i));
    if (num) {
      out.push({ kind: 'number', value: num[0], at: i });
      i += num[0].length;
      continue;
    }
    if (c === '*' && prevAllowsOperator()) {
      out.push({ kind: 'op', value: '*', at: i });
      i++;
      continue;
    }
    if ('()[].@,/|+-=<>'.includes(c)) {
      out.push({ kind: 'op', value: c, at: i });
      i++;
      continue;
    }
    const m = NAME_RE.exec(src.slice(i));
    if (m) {
      const operator = OPERATOR_NAMES.has(m[0]) && prevAllowsOperator();
      out.push(Object.assign({ kind: 'name' as const, value: m[0], at: i }, operator ? { operator: true } : {}));
      i += m[0].length;
      continue;
    }
    throw new XPathError(`unexpected character "${c}"`, i);
  }
  out.push({ kind: 'eof', value: '', at: src.length });
  return out;
}

// ---------------------------------------------------------------------------------------
// AST
// ---------------------------------------------------------------------------------------

type Axis = 'child' | 'attribute' | 'self' | 'parent' | 'descendant' | 'descendant-or-self' | 'ancestor' | 'ancestor-or-self' | 'following-sibling' | 'preceding-sibling';
const AXES: ReadonlySet<string> = new Set(['child', 'attribute', 'self', 'parent', 'descendant', 'descendant-or-self', 'ancestor', 'ancestor-or-self', 'following-sibling', 'preceding-sibling']);

type NodeTest =
  | { t: 'any-name' }
  | { t: 'ns-any'; ns: string }
  | { t: 'name'; ns: string; local: string }
  | { t: 'type'; type: 'node' | 'text' | 'comment' | 'processing-instruction' };

interface Step { axis: Axis; test: NodeTest; predicates: Expr[] }

type Expr =
  | { e: 'literal'; v: string }
  | { e: 'number'; v: number }
  | { e: 'call'; name: string; args: Expr[]; at: number }
  | { e: 'binary'; op: string; l: Expr; r: Expr }
  | { e: 'neg'; x: Expr }
  | { e: 'path'; absolute: boolean; steps: Step[] }
  | { e: 'filter'; primary: Expr; predicates: Expr[]; steps: Step[] };

const FUNCTIONS: Record<string, [number, number]> = {
  last: [0, 0], position: [0, 0], count: [1, 1], string: [0, 1], concat: [2, 99], contains: [2, 2],
  'starts-with': [2, 2], 'ends-with': [2, 2], substring: [2, 3], 'substring-before': [2, 2], 'substring-after': [2, 2],
  'string-length': [0, 1], 'normalize-space': [0, 1], translate: [3, 3], not: [1, 1], true: [0, 0], false: [0, 0],
  boolean: [1, 1], number: [0, 1], sum: [1, 1], round: [1, 1], floor: [1, 1], ceiling: [1, 1], name: [0, 1],
  'local-name': [0, 1], 'namespace-uri': [0, 1],
};

class Parser {
  private i = 0;
  constructor(private readonly toks: Token[], private readonly ns: Readonly<Record<string, string>>) {}

  private peek(k = 0): Token { return this.toks[Math.min(this.i + k, this.toks.length - 1)]; }
  private next(): Token { return this.toks[this.i++]; }
  private isOp(v: string, k = 0): boolean { const t = this.peek(k); return t.kind === 'op' && t.value === v; }
  private isOpName(v: string): boolean { const t = this.peek() as Token & { operator?: boolean }; return t.kind === 'name' && t.value === v && !!t.operator; }
  private expect(v: string): void {
    if (!this.isOp(v)) throw new XPathError(`expected "${v}"${this.peek().kind === 'eof' ? ' at the end' : ` but found "${this.peek().value}"`}`, this.peek().at);
    this.i++;
  }

  parse(): Expr {
    const e = this.or();
    if (this.peek().kind !== 'eof') throw new XPathError(`unexpected "${this.peek().value}"`, this.peek().at);
    return e;
  }

  private or(): Expr {
    let l = this.and();
    while (this.isOpName('or')) { this.next(); l = { e: 'binary', op: 'or', l, r: this.and() }; }
    return l;
  }
  private and(): Expr {
    let l = this.equality();
    while (this.isOpName('and')) { this.next(); l = { e: 'binary', op: 'and', l, r: this.equality() }; }
    return l;
  }
  private equality(): Expr {
    let l = this.relational();
    while (this.isOp('=') || this.isOp('!=')) { const op = this.next().value; l = { e: 'binary', op, l, r: this.relational() }; }
    return l;
  }
  private relational(): Expr {
    let l = this.additive();
    while (this.isOp('<') || this.isOp('>') || this.isOp('<=') || this.isOp('>=')) {
      const op = this.next().value;
      l = { e: 'binary', op, l, r: this.additive() };
    }
    return l;
  }
  private additive(): Expr {
    let l = this.multiplicative();
    while (this.isOp('+') || this.isOp('-')) { const op = this.next().value; l = { e: 'binary', op, l, r: this.multiplicative() }; }
    return l;
  }
  private multiplicative(): Expr {
    let l = this.unary();
    while (this.isOp('*') || this.isOpName('div') || this.isOpName('mod')) {
      const op = this.next().value;
      l = { e: 'binary', op, l, r: this.unary() };
    }
    return l;
  }
  private unary(): Expr {
    if (this.isOp('-')) { this.next(); return { e: 'neg', x: this.unary() }; }
    return this.union();
  }
  private union(): Expr {
    let l = this.pathExpr();
    while (this.isOp('|')) { this.next(); l = { e: 'binary', op: '|', l, r: this.pathExpr() }; }
    return l;
  }

  private pathExpr(): Expr {
    const t = this.peek();
    const startsPrimary = t.kind === 'literal' || t.kind === 'number' || this.isOp('(') ||
      (t.kind === 'name' && this.isOp('(', 1) && !['node', 'text', 'comment', 'processing-instruction'].includes(t.value));
    if (startsPrimary) {
      const primary = this.primary();
      const predicates: Expr[] = [];
      while (this.isOp('[')) predicates.push(this.predicate());
      const steps: Step[] = [];
      if (this.isOp('/') || this.isOp('//')) this.relativePath(steps, true);
      return predicates.length || steps.length ? { e: 'filter', primary, predicates, steps } : primary;
    }
    const steps: Step[] = [];
    if (this.isOp('/')) {
      this.next();
      if (this.startsStep()) this.relativePath(steps, false);
      return { e: 'path', absolute: true, steps };
    }
    if (this.isOp('//')) {
      this.next();
      steps.push({ axis: 'descendant-or-self', test: { t: 'type', type: 'node' }, predicates: [] });
      this.relativePath(steps, false);
      return { e: 'path', absolute: true, steps };
    }
    if (!this.startsStep()) {
      const tk = this.peek();
      throw new XPathError(tk.kind === 'eof' ? 'expression ends too early' : `unexpected "${tk.value}"`, tk.at);
    }
    this.relativePath(steps, false);
    return { e: 'path', absolute: false, steps };
  }

  private startsStep(): boolean {
    const t = this.peek();
    return (t.kind === 'name' && !(t as Token & { operator?: boolean }).operator) || this.isOp('.') || this.isOp('..') || this.isOp('@');
  }

  /** Reads `Step (('/'|'//') Step)*`; with `leadingSeparator` the first separator is required. */
  private relativePath(steps: Step[], leadingSeparator: boolean): void {
    if (!leadingSeparator) steps.push(this.step());
    while (this.isOp('/') || this.isOp('//')) {
      if (this.next().value === '//') steps.push({ axis: 'descendant-or-self', test: { t: 'type', type: 'node' }, predicates: [] });
      steps.push(this.step());
    }
  }

  private step(): Step {
    if (this.isOp('.')) { this.next(); return { axis: 'self', test: { t: 'type', type: 'node' }, predicates: [] }; }
    if (this.isOp('..')) { this.next(); return { axis: 'parent', test: { t: 'type', type: 'node' }, predicates: [] }; }
    let axis: Axis = 'child';
    if (this.isOp('@')) {
      this.next();
      axis = 'attribute';
    } else if (this.peek().kind === 'name' && this.isOp('::', 1)) {
      const name = this.next();
      if (!AXES.has(name.value)) throw new XPathError(`axis "${name.value}" is not supported`, name.at);
      this.next();
      axis = name.value as Axis;
    }
    const t = this.next();
    if (t.kind !== 'name') throw new XPathError(t.kind === 'eof' ? 'a step is missing at the end' : `expected a name test but found "${t.value}"`, t.at);
    let test: NodeTest;
    if (['node', 'text', 'comment', 'processing-instruction'].includes(t.value) && this.isOp('(')) {
      this.next();
      if (t.value === 'processing-instruction' && this.peek().kind === 'literal') this.next();
      this.expect(')');
      test = { t: 'type', type: t.value as 'node' };
    } else if (t.value === '*') {
      test = { t: 'any-name' };
    } else {
      const colon = t.value.indexOf(':');
      if (colon < 0) {
        test = { t: 'name', ns: '', local: t.value };
      } else {
        const prefix = t.value.slice(0, colon);
        // Own keys only: a prefix such as "constructor" must not find Object.prototype's.
        const ns = Object.hasOwn(this.ns, prefix) ? this.ns[prefix] : undefined;
        if (ns === undefined) throw new XPathError(`namespace prefix "${prefix}" is not declared (declare it under "namespaces")`, t.at);
        const local = t.value.slice(colon + 1);
        test = local === '*' ? { t: 'ns-any', ns } : { t: 'name', ns, local };
      }
    }
    const predicates: Expr[] = [];
    while (this.isOp('[')) predicates.push(this.predicate());
    return { axis, test, predicates };
  }

  private predicate(): Expr {
    this.expect('[');
    const e = this.or();
    this.expect(']');
    return e;
  }

  private primary(): Expr {
    const t = this.next();
    if (t.kind === 'literal') return { e: 'literal', v: t.value };
    if (t.kind === 'number') return { e: 'number', v: Number(t.value) };
    if (t.kind === 'op' && t.value === '(') {
      const e = this.or();
      this.expect(')');
      return e;
    }
    // function call
    const arity = Object.hasOwn(FUNCTIONS, t.value) ? FUNCTIONS[t.value] : undefined;
    if (!arity) throw new XPathError(`function "${t.value}()" is not supported`, t.at);
    this.expect('(');
    const args: Expr[] = [];
    if (!this.isOp(')')) {
      args.push(this.or());
      while (this.isOp(',')) { this.next(); args.push(this.or()); }
    }
    this.expect(')');
    if (args.length < arity[0] || args.length > arity[1]) throw new XPathError(`${t.value}() takes ${arity[0] === arity[1] ? arity[0] : `${arity[0]}-${arity[1]}`} argument(s)`, t.at);
    return { e: 'call', name: t.value, args, at: t.at };
  }
}

// ---------------------------------------------------------------------------------------
// Evaluation
// ---------------------------------------------------------------------------------------

interface Ctx { node: XNode; pos: number; size: number }

function orderKey(n: XNode): number {
  switch (n.kind) {
    case 'root': return -1;
    case 'element': return n.el.start;
    // Attributes come after their element's start and before its children.
    case 'attribute': return n.owner.start + (n.index + 1) / 1e4;
    default: return n.node.start;
  }
}

function identity(n: XNode): object {
  switch (n.kind) {
    case 'root': return n.doc;
    case 'element': return n.el;
    case 'attribute': return n.attr;
    default: return n.node;
  }
}

function sortUnique(nodes: XNode[]): XNode[] {
  const seen = new Set<object>();
  const out: XNode[] = [];
  for (const n of nodes) {
    const id = identity(n);
    if (!seen.has(id)) { seen.add(id); out.push(n); }
  }
  return out.sort((a, b) => orderKey(a) - orderKey(b));
}

function childNodes(n: XNode): XNode[] {
  if (n.kind === 'root') {
    return n.doc.children.map((c): XNode => c.type === 'element' ? { kind: 'element', el: c } : c.type === 'comment' ? { kind: 'comment', node: c, parent: null } : { kind: 'pi', node: c, parent: null });
  }
  if (n.kind !== 'element') return [];
  const el = n.el;
  return el.children.map((c): XNode => {
    switch (c.type) {
      case 'element': return { kind: 'element', el: c };
      case 'text': return { kind: 'text', node: c, parent: el };
      case 'comment': return { kind: 'comment', node: c, parent: el };
      default: return { kind: 'pi', node: c, parent: el };
    }
  });
}

function parentOf(n: XNode, doc: XmlDocument): XNode | undefined {
  switch (n.kind) {
    case 'root': return undefined;
    case 'element': return n.el.parent ? { kind: 'element', el: n.el.parent } : { kind: 'root', doc };
    case 'attribute': return { kind: 'element', el: n.owner };
    default: return n.parent ? { kind: 'element', el: n.parent } : { kind: 'root', doc };
  }
}

function descendants(n: XNode, out: XNode[]): void {
  for (const c of childNodes(n)) {
    out.push(c);
    descendants(c, out);
  }
}

function axisNodes(axis: Axis, n: XNode, doc: XmlDocument): XNode[] {
  switch (axis) {
    case 'child': return childNodes(n);
    case 'attribute': return n.kind === 'element' ? n.el.attributes.map((attr, index): XNode => ({ kind: 'attribute', owner: n.el, attr, index })) : [];
    case 'self': return [n];
    case 'parent': { const p = parentOf(n, doc); return p ? [p] : []; }
    case 'descendant': { const out: XNode[] = []; descendants(n, out); return out; }
    case 'descendant-or-self': { const out: XNode[] = [n]; descendants(n, out); return out; }
    case 'ancestor':
    case 'ancestor-or-self': {
      const out: XNode[] = axis === 'ancestor-or-self' ? [n] : [];
      for (let p = parentOf(n, doc); p; p = parentOf(p, doc)) out.push(p);
      return out;
    }
    case 'following-sibling':
    case 'preceding-sibling': {
      if (n.kind === 'attribute' || n.kind === 'root') return [];
      const p = parentOf(n, doc);
      if (!p) return [];
      const sibs = childNodes(p);
      const id = identity(n);
      const at = sibs.findIndex((s) => identity(s) === id);
      return axis === 'following-sibling' ? sibs.slice(at + 1) : sibs.slice(0, at).reverse();
    }
  }
}

function matches(test: NodeTest, n: XNode, axis: Axis): boolean {
  if (test.t === 'type') {
    if (test.type === 'node') return true;
    if (test.type === 'text') return n.kind === 'text';
    if (test.type === 'comment') return n.kind === 'comment';
    return n.kind === 'pi';
  }
  // The principal node type of the attribute axis is the attribute; of the others, the element.
  const principal = axis === 'attribute' ? 'attribute' : 'element';
  if (n.kind !== principal) return false;
  const ns = n.kind === 'element' ? n.el.namespaceURI : n.attr.namespaceURI;
  const local = n.kind === 'element' ? n.el.localName : n.attr.localName;
  if (test.t === 'any-name') return true;
  if (test.t === 'ns-any') return ns === test.ns;
  return ns === test.ns && local === test.local;
}

/** The XPath string-value of a node. */
export function stringValue(n: XNode): string {
  switch (n.kind) {
    case 'root': return elementText(n.doc.root);
    case 'element': return elementText(n.el);
    case 'attribute': return n.attr.value;
    case 'text': return n.node.value;
    case 'comment': return n.node.value;
    case 'pi': return n.node.data;
  }
}

function elementText(el: XmlElement): string {
  let s = '';
  for (const c of el.children) {
    if (c.type === 'text') s += c.value;
    else if (c.type === 'element') s += elementText(c);
  }
  return s;
}

function toStr(v: XPathValue): string {
  if (Array.isArray(v)) return v.length ? stringValue(v[0]) : '';
  if (typeof v === 'number') {
    if (Number.isNaN(v)) return 'NaN';
    if (Number.isInteger(v)) return String(v);
    return String(v);
  }
  return String(v);
}

function toNum(v: XPathValue): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  const s = toStr(v).trim();
  return /^-?(\d+(\.\d*)?|\.\d+)$/.test(s) ? Number(s) : NaN;
}

function toBool(v: XPathValue): boolean {
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'number') return v !== 0 && !Number.isNaN(v);
  if (typeof v === 'string') return v.length > 0;
  return v;
}

function compareAtoms(op: string, a: string | number | boolean, b: string | number | boolean): boolean {
  if (op === '=' || op === '!=') {
    let eq: boolean;
    if (typeof a === 'boolean' || typeof b === 'boolean') eq = toBool(a) === toBool(b);
    else if (typeof a === 'number' || typeof b === 'number') eq = toNum(a) === toNum(b);
    else eq = a === b;
    return op === '=' ? eq : !eq;
  }
  const x = toNum(a);
  const y = toNum(b);
  switch (op) {
    case '<': return x < y;
    case '<=': return x <= y;
    case '>': return x > y;
    default: return x >= y;
  }
}

function compare(op: string, a: XPathValue, b: XPathValue): boolean {
  const aSet = Array.isArray(a);
  const bSet = Array.isArray(b);
  if (aSet && bSet) return a.some((x) => b.some((y) => compareAtoms(op, stringValue(x), stringValue(y))));
  if (aSet) {
    if (typeof b === 'boolean') return compareAtoms(op, toBool(a), b);
    return a.some((x) => compareAtoms(op, typeof b === 'number' ? toNum(stringValue(x)) : stringValue(x), b as string | number));
  }
  if (bSet) {
    if (typeof a === 'boolean') return compareAtoms(op, a, toBool(b));
    return b.some((y) => compareAtoms(op, a, typeof a === 'number' ? toNum(stringValue(y)) : stringValue(y)));
  }
  return compareAtoms(op, a, b);
}

function nodeName(n: XNode | undefined): { name: string; local: string; ns: string } {
  if (!n) return { name: '', local: '', ns: '' };
  if (n.kind === 'element') return { name: n.el.qname, local: n.el.localName, ns: n.el.namespaceURI };
  if (n.kind === 'attribute') return { name: n.attr.qname, local: n.attr.localName, ns: n.attr.namespaceURI };
  if (n.kind === 'pi') return { name: n.node.target, local: n.node.target, ns: '' };
  return { name: '', local: '', ns: '' };
}

class Evaluator {
  constructor(private readonly doc: XmlDocument) {}

  eval(e: Expr, ctx: Ctx): XPathValue {
    switch (e.e) {
      case 'literal': return e.v;
      case 'number': return e.v;
      case 'neg': return -toNum(this.eval(e.x, ctx));
      case 'call': return this.call(e, ctx);
      case 'path': {
        const start: XNode[] = [e.absolute ? { kind: 'root', doc: this.doc } : ctx.node];
        return this.steps(start, e.steps);
      }
      case 'filter': {
        const v = this.eval(e.primary, ctx);
        if (!e.predicates.length && !e.steps.length) return v;
        if (!Array.isArray(v)) throw new XPathError('predicates and paths apply to node-sets only', 0);
        let nodes = v;
        for (const p of e.predicates) nodes = this.filter(nodes, p);
        return this.steps(nodes, e.steps);
      }
      case 'binary': return this.binary(e.op, e.l, e.r, ctx);
    }
  }

  private binary(op: string, l: Expr, r: Expr, ctx: Ctx): XPathValue {
    if (op === 'or') return toBool(this.eval(l, ctx)) || toBool(this.eval(r, ctx));
    if (op === 'and') return toBool(this.eval(l, ctx)) && toBool(this.eval(r, ctx));
    const a = this.eval(l, ctx);
    const b = this.eval(r, ctx);
    switch (op) {
      case '|':
        if (!Array.isArray(a) || !Array.isArray(b)) throw new XPathError('"|" joins node-sets only', 0);
        return sortUnique([...a, ...b]);
      case '+': return toNum(a) + toNum(b);
      case '-': return toNum(a) - toNum(b);
      case '*': return toNum(a) * toNum(b);
      case 'div': return toNum(a) / toNum(b);
      case 'mod': return toNum(a) % toNum(b);
      default: return compare(op, a, b);
    }
  }

  private steps(start: XNode[], steps: Step[]): XNode[] {
    let nodes = start;
    for (const s of steps) {
      const next: XNode[] = [];
      for (const n of nodes) {
        let sel = axisNodes(s.axis, n, this.doc).filter((c) => matches(s.test, c, s.axis));
        // Predicates count positions along the axis direction (reverse axes count backwards).
        for (const p of s.predicates) sel = this.filter(sel, p);
        next.push(...sel);
      }
      nodes = sortUnique(next);
    }
    return nodes;
  }

  private filter(nodes: XNode[], pred: Expr): XNode[] {
    return nodes.filter((node, i) => {
      const v = this.eval(pred, { node, pos: i + 1, size: nodes.length });
      return typeof v === 'number' ? v === i + 1 : toBool(v);
    });
  }

  private call(e: Extract<Expr, { e: 'call' }>, ctx: Ctx): XPathValue {
    const a = (k: number): XPathValue => this.eval(e.args[k], ctx);
    const str = (k: number): string => (e.args.length > k ? toStr(a(k)) : stringValue(ctx.node));
    const nodesArg = (k: number): XNode[] => {
      const v = a(k);
      if (!Array.isArray(v)) throw new XPathError(`${e.name}() needs a node-set`, e.at);
      return v;
    };
    switch (e.name) {
      case 'last': return ctx.size;
      case 'position': return ctx.pos;
      case 'count': return nodesArg(0).length;
      case 'string': return str(0);
      case 'concat': return e.args.map((_, k) => toStr(a(k))).join('');
      case 'contains': return toStr(a(0)).includes(toStr(a(1)));
      case 'starts-with': return toStr(a(0)).startsWith(toStr(a(1)));
      case 'ends-with': return toStr(a(0)).endsWith(toStr(a(1)));
      case 'substring': {
        const s = toStr(a(0));
        const from = Math.round(toNum(a(1)));
        const len = e.args.length > 2 ? Math.round(toNum(a(2))) : Infinity;
        return Array.from(s).filter((_, i) => i + 1 >= from && i + 1 < from + len).join('');
      }
      case 'substring-before': { const s = toStr(a(0)); const t = toStr(a(1)); const i = s.indexOf(t); return i < 0 ? '' : s.slice(0, i); }
      case 'substring-after': { const s = toStr(a(0)); const t = toStr(a(1)); const i = s.indexOf(t); return i < 0 ? '' : s.slice(i + t.length); }
      case 'string-length': return Array.from(str(0)).length;
      case 'normalize-space': return str(0).replace(/[ \t\r\n]+/g, ' ').trim();
      case 'translate': {
        const s = toStr(a(0)); const from = Array.from(toStr(a(1))); const to = Array.from(toStr(a(2)));
        return Array.from(s).map((ch) => { const i = from.indexOf(ch); return i < 0 ? ch : (to[i] ?? ''); }).join('');
      }
      case 'not': return !toBool(a(0));
      case 'true': return true;
      case 'false': return false;
      case 'boolean': return toBool(a(0));
      case 'number': return e.args.length ? toNum(a(0)) : toNum(stringValue(ctx.node));
      case 'sum': return nodesArg(0).reduce((s, n) => s + toNum(stringValue(n)), 0);
      case 'round': return Math.round(toNum(a(0)));
      case 'floor': return Math.floor(toNum(a(0)));
      case 'ceiling': return Math.ceil(toNum(a(0)));
      case 'name': return nodeName(e.args.length ? nodesArg(0)[0] : ctx.node).name;
      case 'local-name': return nodeName(e.args.length ? nodesArg(0)[0] : ctx.node).local;
      case 'namespace-uri': return nodeName(e.args.length ? nodesArg(0)[0] : ctx.node).ns;
      default: throw new XPathError(`function "${e.name}()" is not supported`, e.at);
    }
  }
}

/**
 * Parses an expression once. `namespaces` maps the prefixes the expression uses to URIs
 * (merged over {@link DEFAULT_NAMESPACES}).
 *
 * @throws XPathError on a syntax error, an unsupported function or axis, or an undeclared prefix
 */
export function compileXPath(source: string, namespaces: Readonly<Record<string, string>> = {}): CompiledXPath {
  const ns = { ...DEFAULT_NAMESPACES, ...namespaces };
  const ast = new Parser(tokenize(source), ns).parse();
  return {
    source,
    evaluate(doc: XmlDocument): XPathValue {
      return new Evaluator(doc).eval(ast, { node: { kind: 'root', doc }, pos: 1, size: 1 });
    },
  };
}

/** Parses `xml` (already screened by the caller when it comes from outside) and evaluates. */
export function evaluateXPath(xml: string | XmlDocument, source: string, namespaces: Readonly<Record<string, string>> = {}): XPathValue {
  const doc = typeof xml === 'string' ? parseXml(xml) : xml;
  return compileXPath(source, namespaces).evaluate(doc);
}

/**
 * The JSON value assertions compare with: a node-set of one node becomes its string value,
 * a larger one the list of string values, an empty one `undefined`; other results as is.
 */
export function xpathResultToJson(v: XPathValue): string | number | boolean | string[] | undefined {
  if (!Array.isArray(v)) return v;
  if (v.length === 0) return undefined;
  if (v.length === 1) return stringValue(v[0]);
  return v.map(stringValue);
}
