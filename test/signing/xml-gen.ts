/**
 * fast-check generator of namespace-heavy XML documents for the canonicalisation and
 * interoperability properties: declarations at every level, prefixes reused and shadowed,
 * the default namespace changed and undeclared, attributes needing escapes, CR/LF/tab as
 * literals and as character references, non-ASCII text, empty elements both ways,
 * comments, PIs and CDATA sections.
 *
 * The arbitrary produces an abstract tree; `serialize` turns it into well-formed XML,
 * adding the declarations a chosen prefix needs and dropping attributes that would clash.
 */
import fc from 'fast-check';

const PREFIXES = ['', 'p', 'q', 'r'];
const URIS = ['urn:a', 'urn:b', 'http://example.com/ns#x', 'urn:\u00fc:ns', ''];
const LOCALS = ['a', 'b', 'item', 'x-y', '\u00e9', 'n.1'];
const ATTR_LOCALS = ['a', 'b', 'id', 'z', '\u00e9'];
/** Serialized text pieces; none is a lone `]`, so `]]>` cannot appear by accident. */
const TEXT_TOKENS = [
  'a', 'Z', ' ', '  ', '\u00e9', '\u4e2d', '\u{1F600}', '&amp;', '&lt;', '&gt;', '>', '"', "'", '&quot;', '&apos;',
  '\n', '\r\n', '\r', '&#13;', '&#xD;', '\t', '&#9;', '&#10;', ']]&gt;', '&#x1F600;', '&#233;',
];
/** Serialized pieces of a double-quoted attribute value. */
const ATTR_TOKENS = [
  'a', ' ', '\u00e9', '\u{1F600}', '&amp;', '&lt;', '>', '&quot;', "'", '\t', '\n', '\r\n', '\r', '&#9;', '&#10;', '&#13;', '&#xA;',
];
const CDATA_TOKENS = ['a', '<', '&', '>', ' ', '\r\n', '\n', '\u00e9', ']'];
const COMMENT_TOKENS = ['a', ' ', '-a', '\u00e9', '\n', '<&>'];
const PI_TARGETS = ['pi', 'x-app'];
const PI_TOKENS = ['a', ' ', '?', '\u00e9', '&', '<'];

export interface GElement {
  t: 'el';
  prefix: number;
  local: number;
  decls: { p: number; u: number }[];
  attrs: { p: number; l: number; v: string[] }[];
  kids: GNode[];
  selfClose: boolean;
}
export type GNode =
  | GElement
  | { t: 'text'; v: string[] }
  | { t: 'cdata'; v: string[] }
  | { t: 'comment'; v: string[] }
  | { t: 'pi'; target: number; v: string[] };

export interface GDocument {
  decl: boolean;
  prolog: GNode[];
  root: GElement;
  epilog: GNode[];
  rootId: boolean;
}

const tokens = (pool: string[], max: number): fc.Arbitrary<string[]> => fc.array(fc.constantFrom(...pool), { maxLength: max });
const text: fc.Arbitrary<GNode> = fc.record({ t: fc.constant('text' as const), v: tokens(TEXT_TOKENS, 8) });
const cdata: fc.Arbitrary<GNode> = fc.record({ t: fc.constant('cdata' as const), v: tokens(CDATA_TOKENS, 5) });
const comment: fc.Arbitrary<GNode> = fc.record({ t: fc.constant('comment' as const), v: tokens(COMMENT_TOKENS, 4) });
const pi: fc.Arbitrary<GNode> = fc.record({ t: fc.constant('pi' as const), target: fc.nat(PI_TARGETS.length - 1), v: tokens(PI_TOKENS, 4) });

const tree = fc.letrec<{ node: GNode; el: GElement }>((tie) => ({
  node: fc.oneof(
    { maxDepth: 4, depthIdentifier: 'xml' },
    { weight: 3, arbitrary: text },
    { weight: 4, arbitrary: tie('el') },
    { weight: 1, arbitrary: cdata },
    { weight: 1, arbitrary: comment },
    { weight: 1, arbitrary: pi },
  ),
  el: fc.record({
    t: fc.constant('el' as const),
    prefix: fc.nat(PREFIXES.length - 1),
    local: fc.nat(LOCALS.length - 1),
    decls: fc.array(fc.record({ p: fc.nat(PREFIXES.length - 1), u: fc.nat(URIS.length - 1) }), { maxLength: 3 }),
    attrs: fc.array(fc.record({ p: fc.nat(PREFIXES.length - 1), l: fc.nat(ATTR_LOCALS.length - 1), v: tokens(ATTR_TOKENS, 6) }), { maxLength: 4 }),
    kids: fc.array(tie('node'), { maxLength: 4, depthIdentifier: 'xml' }),
    selfClose: fc.boolean(),
  }),
}));

const outside = fc.array(fc.oneof(comment, pi), { maxLength: 2 });

/** Documents of the generator. */
export const documentArb: fc.Arbitrary<GDocument> = fc.record({
  decl: fc.boolean(),
  prolog: outside,
  root: tree.el,
  epilog: outside,
  rootId: fc.boolean(),
});

/** How to write a generated document. */
export interface SerializeOptions {
  /** Keep comments. @default true */
  comments?: boolean;
  /** Keep the CR line ends and CR references (some oracles normalise differently). @default true */
  carriageReturns?: boolean;
  /** Markup put inside the document element, after its content. */
  appendToRoot?: string;
  /** Leave out everything outside the document element. @default false */
  bare?: boolean;
  /** Only ASCII namespace names (libxml2 refuses IRIs as namespace names). @default false */
  asciiNamespaces?: boolean;
  /** No `<`, `&` or `>` in comments (xml-crypto escapes comment content, which C14N does not). @default false */
  plainComments?: boolean;
  /** Leave out processing instructions (xml-crypto cannot canonicalise them). @default false */
  noPis?: boolean;
}

export function serialize(doc: GDocument, o: SerializeOptions = {}): string {
  const keepComments = o.comments !== false;
  const keepCr = o.carriageReturns !== false;
  const pieces = (v: string[]): string => (keepCr ? v : v.filter((t) => !t.includes('\r') && t !== '&#13;' && t !== '&#xD;')).join('');
  const uriOf = (k: number): string => (o.asciiNamespaces ? URIS[k].replace('\u00fc', 'u') : URIS[k]);
  const misc = (n: GNode): string => {
    if (n.t === 'comment') {
      if (!keepComments) return '';
      const v = pieces(n.v);
      return `<!--${o.plainComments ? v.replace(/[<&>]/g, '') : v}-->`;
    }
    if (n.t === 'pi') {
      if (o.noPis) return '';
      const data = pieces(n.v);
      return `<?${PI_TARGETS[n.target]}${data ? ' ' + data : ''}?>`;
    }
    return '';
  };
  const node = (n: GNode, scope: ReadonlyMap<string, string>, extra?: string, rootId?: boolean): string => {
    switch (n.t) {
      case 'text': return pieces(n.v);
      case 'cdata': return `<![CDATA[${pieces(n.v).replace(/]]>/g, ']] >')}]]>`;
      case 'comment':
      case 'pi': return misc(n);
      case 'el': return element(n, scope, extra, rootId);
    }
  };
  const element = (e: GElement, scope: ReadonlyMap<string, string>, extra?: string, rootId?: boolean): string => {
    const declared = new Map<string, string>();
    for (const d of e.decls) {
      const p = PREFIXES[d.p];
      const u = uriOf(d.u);
      if ((p !== '' && u === '') || declared.has(p)) continue;
      declared.set(p, u);
    }
    const inScope = (p: string): string | undefined => (declared.has(p) ? declared.get(p) : scope.get(p));
    const ep = PREFIXES[e.prefix];
    if (ep !== '' && inScope(ep) === undefined) declared.set(ep, uriOf(e.local % 4));
    const attrs: { q: string; p: string; l: string; uri: string; v: string }[] = [];
    for (const a of e.attrs) {
      const ap = PREFIXES[a.p];
      const l = ATTR_LOCALS[a.l];
      if (ap !== '' && inScope(ap) === undefined) declared.set(ap, uriOf((a.l + 1) % 4));
      const q = ap ? `${ap}:${l}` : l;
      const uri = ap ? inScope(ap)! : '';
      if (attrs.some((x) => x.q === q || (ap !== '' && x.p !== '' && x.uri === uri && x.l === l))) continue;
      attrs.push({ q, p: ap, l, uri, v: pieces(a.v) });
    }
    const inner = new Map(scope);
    for (const [p, u] of declared) inner.set(p, u);
    const qname = ep ? `${ep}:${LOCALS[e.local]}` : LOCALS[e.local];
    let s = '<' + qname;
    for (const [p, u] of declared) s += p ? ` xmlns:${p}="${u}"` : ` xmlns="${u}"`;
    for (const a of attrs) s += ` ${a.q}="${a.v}"`;
    if (rootId) s += ' Id="root-1"';
    const kids = e.kids.map((k) => node(k, inner)).join('') + (extra ?? '');
    if (!kids && e.selfClose) return s + '/>';
    return s + '>' + kids + '</' + qname + '>';
  };
  const root = element(doc.root, new Map(), o.appendToRoot, doc.rootId);
  if (o.bare) return root;
  const prolog = doc.prolog.map(misc).join('');
  const epilog = doc.epilog.map(misc).join('');
  return (doc.decl ? '<?xml version="1.0" encoding="UTF-8"?>\n' : '') + prolog + '\n' + root + '\n' + epilog;
}
