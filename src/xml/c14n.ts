/**
 * Exclusive XML Canonicalization 1.0 (https://www.w3.org/TR/xml-exc-c14n/) over the light
 * tree of `xml-tree.ts`, for a whole document or for one element subtree (an element and
 * all its descendants, as XML-DSig same-document references and SignedInfo select them).
 */
import type { XmlDocument, XmlElement, XmlNode } from './parser';

/** Algorithm URI of exclusive canonicalization without comments. */
export const EXC_C14N = 'http://www.w3.org/2001/10/xml-exc-c14n#';
/** Algorithm URI of exclusive canonicalization with comments. */
export const EXC_C14N_WITH_COMMENTS = 'http://www.w3.org/2001/10/xml-exc-c14n#WithComments';

/** How to canonicalise. */
export interface ExcC14nOptions {
  /**
   * Keep comment nodes (the `#WithComments` variant). XML-DSig same-document references
   * drop comments before any transform, so only a SignedInfo canonicalisation uses this.
   * @default false
   */
  readonly withComments?: boolean;
  /**
   * The InclusiveNamespaces PrefixList: prefixes handled by the inclusive C14N rule (rendered
   * wherever in scope and not yet rendered) instead of only where visibly utilised. The
   * token `#default` stands for the default namespace.
   * @default []
   */
  readonly inclusivePrefixes?: readonly string[];
  /**
   * An element whose subtree is left out of the output, as the enveloped-signature
   * transform leaves out the Signature element.
   * @default undefined (nothing left out)
   */
  readonly exclude?: XmlElement;
}

interface Context {
  readonly withComments: boolean;
  /** Inclusive prefixes, `''` for `#default`; null when none (the common case, kept fast). */
  readonly inclusive: readonly string[] | null;
  readonly exclude: XmlElement | undefined;
}

/** Namespace bindings rendered by output ancestors: prefix → URI. */
type Rendered = ReadonlyMap<string, string>;
const NOTHING_RENDERED: Rendered = new Map();

/**
 * Canonicalises a document (top-level PIs and, with comments, top-level comments
 * included, each separated from the document element by a line feed) or an element
 * subtree (namespaces of its ancestors rendered on it as far as it visibly utilises them).
 * The result is the canonical text; its UTF-8 encoding is the canonical octet stream.
 */
export function canonicalize(node: XmlDocument | XmlElement, opts: ExcC14nOptions = {}): string {
  const ctx: Context = {
    withComments: opts.withComments === true,
    inclusive: opts.inclusivePrefixes?.length
      ? opts.inclusivePrefixes.map((p) => (p === '#default' ? '' : p))
      : null,
    exclude: opts.exclude,
  };
  if (node.type === 'element') return node === ctx.exclude ? '' : renderElement(node, NOTHING_RENDERED, ctx);
  let out = '';
  let afterRoot = false;
  for (const child of node.children) {
    if (child.type === 'element') {
      out += renderElement(child, NOTHING_RENDERED, ctx);
      afterRoot = true;
      continue;
    }
    const s = child.type === 'pi' ? renderPi(child.target, child.data) : ctx.withComments ? `<!--${child.value}-->` : '';
    if (s) out += afterRoot ? '\n' + s : s + '\n';
  }
  return out;
}

function renderPi(target: string, data: string): string {
  return data ? `<?${target} ${data}?>` : `<?${target}?>`;
}

/**
 * Adds `prefix` to the declarations `el` must render (a flat [prefix, uri, …] list) when its
 * binding differs from the one the output ancestors rendered; returns the list.
 */
function consider(el: XmlElement, rendered: Rendered, prefix: string, decls: string[] | undefined): string[] | undefined {
  if (prefix === 'xml') return decls; // implicitly declared; never rendered
  const uri = el.scope.get(prefix) ?? '';
  if ((rendered.get(prefix) ?? '') === uri) return decls;
  if (decls === undefined) return [prefix, uri];
  for (let k = 0; k < decls.length; k += 2) if (decls[k] === prefix) return decls;
  decls.push(prefix, uri);
  return decls;
}

function renderElement(el: XmlElement, rendered: Rendered, ctx: Context): string {
  // Namespace nodes to output: visibly utilised prefixes (and the InclusiveNamespaces ones)
  // whose binding differs from what the output ancestors already rendered.
  let decls = consider(el, rendered, el.prefix, undefined);
  const attrs = el.attributes;
  for (const a of attrs) if (a.prefix !== '') decls = consider(el, rendered, a.prefix, decls);
  if (ctx.inclusive) {
    for (const p of ctx.inclusive) if (p === '' || el.scope.has(p)) decls = consider(el, rendered, p, decls);
  }

  let s = '<' + el.qname;
  let childRendered = rendered;
  if (decls !== undefined) {
    const d = decls;
    const next = new Map(rendered);
    const order: number[] = [];
    for (let k = 0; k < d.length; k += 2) {
      next.set(d[k], d[k + 1]);
      order.push(k);
    }
    if (order.length > 1) order.sort((a, b) => compareCodePoints(d[a], d[b]));
    for (const k of order) s += (d[k] === '' ? ' xmlns="' : ' xmlns:' + d[k] + '="') + escapeAttr(d[k + 1]) + '"';
    childRendered = next;
  }

  if (attrs.length === 1) {
    s += ' ' + attrs[0].qname + '="' + escapeAttr(attrs[0].value) + '"';
  } else if (attrs.length > 1) {
    const sorted = attrs.slice().sort((a, b) => compareCodePoints(a.namespaceURI, b.namespaceURI) || compareCodePoints(a.localName, b.localName));
    for (const a of sorted) s += ' ' + a.qname + '="' + escapeAttr(a.value) + '"';
  }
  s += '>';

  const children: readonly XmlNode[] = el.children;
  for (const c of children) {
    switch (c.type) {
      case 'text':
        s += escapeText(c.value);
        break;
      case 'element':
        if (c !== ctx.exclude) s += renderElement(c, childRendered, ctx);
        break;
      case 'comment':
        if (ctx.withComments) s += '<!--' + c.value + '-->';
        break;
      case 'pi':
        s += renderPi(c.target, c.data);
        break;
    }
  }
  return s + '</' + el.qname + '>';
}

/** Text node escaping of C14N: `&`, `<`, `>` and CR (a literal CR would be read back as LF). */
export function escapeText(s: string): string {
  // A scan with slices beats a regex replace with a callback on the short runs of a message.
  let out = '';
  let last = 0;
  for (let i = 0; i < s.length; i++) {
    let rep: string;
    switch (s.charCodeAt(i)) {
      case 0x26: rep = '&amp;'; break;
      case 0x3c: rep = '&lt;'; break;
      case 0x3e: rep = '&gt;'; break;
      case 0x0d: rep = '&#xD;'; break;
      default: continue;
    }
    out += s.slice(last, i) + rep;
    last = i + 1;
  }
  return last === 0 ? s : out + s.slice(last);
}

/** Attribute value escaping of C14N: `&`, `<`, `"` and the whitespace a parser would turn into spaces. */
export function escapeAttr(s: string): string {
  let out = '';
  let last = 0;
  for (let i = 0; i < s.length; i++) {
    let rep: string;
    switch (s.charCodeAt(i)) {
      case 0x26: rep = '&amp;'; break;
      case 0x3c: rep = '&lt;'; break;
      case 0x22: rep = '&quot;'; break;
      case 0x09: rep = '&#x9;'; break;
      case 0x0a: rep = '&#xA;'; break;
      case 0x0d: rep = '&#xD;'; break;
      default: continue;
    }
    out += s.slice(last, i) + rep;
    last = i + 1;
  }
  return last === 0 ? s : out + s.slice(last);
}

/**
 * Orders strings by Unicode code point, as C14N requires; JavaScript's `<` compares UTF-16
 * code units, which puts supplementary characters before U+E000–U+FFFF.
 */
export function compareCodePoints(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800 && y >= 0xd800) {
      // Surrogates (D800–DFFF) encode code points above FFFF: move them after E000–FFFF.
      x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
      y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
    }
    return x < y ? -1 : 1;
  }
  return a.length - b.length;
}
