/**
 * THE XML parser of the product: every XML document the gateway, the mock and the CLI read
 * goes through it (wire requests and answers, notifications, signatures, conformance
 * reports). A small non-validating XML 1.0 + Namespaces parser that builds the light tree
 * the canonicaliser, the signature verifier and the wire mapping walk. It is strict about
 * well-formedness (a signature verifier that guesses is a signature verifier that can be
 * fooled) and knows no DTD: only the five predefined entities and numeric character
 * references exist; a DOCTYPE or entity declaration is DAVIS_ERR_XML_DOCTYPE.
 *
 * Its work is linear in the input: one forward scan, no look-ahead that rescans the rest of
 * the document, hashed duplicate-attribute checks, and caps (`ParseOptions`) on depth,
 * attributes, namespace declarations, children and nodes, so that a hostile document is
 * refused after at most one pass, before any slower XML library (libxml2) sees it.
 *
 * Values in the tree are the XML information-set values: line ends normalised, attribute
 * whitespace normalised (every attribute is CDATA without a DTD), references decoded,
 * CDATA sections merged into the surrounding text.
 */
import { DavisError, type ErrorCode } from '../errors/errors';

/** The namespace bound to the `xml` prefix by the Namespaces recommendation. */
export const XML_NAMESPACE = 'http://www.w3.org/XML/1998/namespace';
/** The namespace of `xmlns` declarations themselves; nothing else may use it. */
export const XMLNS_NAMESPACE = 'http://www.w3.org/2000/xmlns/';

/**
 * In-scope namespace bindings of an element: prefix → namespace URI, `''` keys the default
 * namespace (an empty value means "no default namespace"). Shared by every element that
 * declares nothing new, so do not mutate it.
 */
export type NamespaceScope = ReadonlyMap<string, string>;

/** A namespace declaration (`xmlns` or `xmlns:p` attribute) as written on an element. */
export interface XmlNamespaceDecl {
  /** Declared prefix; `''` for the default namespace. */
  readonly prefix: string;
  /** Namespace URI; `''` only for `xmlns=""` (undeclaring the default namespace). */
  readonly uri: string;
}

/** An ordinary (non-`xmlns`) attribute. */
export interface XmlAttribute {
  /** The name as written, e.g. `xsi:type`. */
  readonly qname: string;
  /** `''` when unprefixed. */
  readonly prefix: string;
  readonly localName: string;
  /** Namespace URI; `''` for unprefixed attributes (they are in no namespace). */
  readonly namespaceURI: string;
  /** Normalised, decoded value. */
  readonly value: string;
}

/** An element with namespace-resolved names and source offsets into the parsed string. */
export interface XmlElement {
  readonly type: 'element';
  /** The name as written, e.g. `ds:Signature`. */
  readonly qname: string;
  /** `''` when unprefixed. */
  readonly prefix: string;
  readonly localName: string;
  /** Namespace URI; `''` when the element is in no namespace. */
  readonly namespaceURI: string;
  /** Ordinary attributes, in document order. */
  readonly attributes: readonly XmlAttribute[];
  /** Namespace declarations written on this element, in document order. */
  readonly namespaces: readonly XmlNamespaceDecl[];
  /** Every binding in scope here, inherited ones included. */
  readonly scope: NamespaceScope;
  readonly children: XmlNode[];
  readonly parent: XmlElement | null;
  /** Offset of the `<` that opens the start tag. */
  readonly start: number;
  /** Offset just after the `>` that closes the start tag. */
  readonly startTagEnd: number;
  /** Offset of the `</` of the end tag; equals `startTagEnd` for an empty-element tag. */
  readonly endTagStart: number;
  /** Offset just after the element (after its end tag, or after `/>`). */
  readonly end: number;
  /** Whether it was written as `<x/>`. */
  readonly selfClosing: boolean;
}

/** Character data (text and CDATA sections merged), decoded. */
export interface XmlText {
  readonly type: 'text';
  readonly value: string;
  /** Offset of the first character of the run in the source. */
  readonly start: number;
  /** Offset just after the run. */
  readonly end: number;
}

/** A comment; `value` is what lies between `<!--` and `-->`. */
export interface XmlComment {
  readonly type: 'comment';
  readonly value: string;
  readonly start: number;
  readonly end: number;
}

/** A processing instruction (the XML declaration is not one and is not kept as a node). */
export interface XmlProcessingInstruction {
  readonly type: 'pi';
  readonly target: string;
  /** The data after the target, leading whitespace removed. */
  readonly data: string;
  readonly start: number;
  readonly end: number;
}

/** Any node that can be a child of an element. */
export type XmlNode = XmlElement | XmlText | XmlComment | XmlProcessingInstruction;

/** A parsed document. */
export interface XmlDocument {
  readonly type: 'document';
  /** Top-level nodes in order: comments and PIs around the single document element. */
  readonly children: readonly (XmlElement | XmlComment | XmlProcessingInstruction)[];
  /** The document element. */
  readonly root: XmlElement;
  /** The source string the offsets refer to. */
  readonly source: string;
}

/**
 * Structural caps of one parse; each is refused with a coded DavisError as soon as it is
 * crossed. The wire profile's values are `WIRE_XML_LIMITS` (src/wire/limits.ts).
 */
export interface ParseOptions {
  /**
   * Deepest element nesting accepted (also keeps the recursive walkers off the stack limit).
   * Refused with DAVIS_ERR_XML_TOO_DEEP. @default 64
   */
  readonly maxDepth?: number;
  /** Most ordinary attributes on one element. DAVIS_ERR_XML_LIMIT. @default 256 */
  readonly maxAttributes?: number;
  /** Most namespace declarations (`xmlns`, `xmlns:p`) on one element. DAVIS_ERR_XML_LIMIT. @default 64 */
  readonly maxNamespaceDeclarations?: number;
  /**
   * Most namespace declarations in the whole document. Each declaring element copies its
   * in-scope bindings, so this also bounds that copying. DAVIS_ERR_XML_LIMIT. @default 1024
   */
  readonly maxTotalNamespaceDeclarations?: number;
  /** Most child nodes (elements, text runs, comments, PIs) of one element. DAVIS_ERR_XML_LIMIT. @default 10000 */
  readonly maxChildren?: number;
  /** Most nodes (elements, text runs, comments, PIs) in the document. DAVIS_ERR_XML_LIMIT. @default 200000 */
  readonly maxNodes?: number;
}

/** The caps `parseXml` applies when a caller gives none: generous for any XML the product handles. */
export const DEFAULT_PARSE_LIMITS: Readonly<Required<ParseOptions>> = Object.freeze({
  maxDepth: 64,
  maxAttributes: 256,
  maxNamespaceDeclarations: 64,
  maxTotalNamespaceDeclarations: 1024,
  maxChildren: 10_000,
  maxNodes: 200_000,
});

/** Bindings every element starts with. */
const INITIAL_SCOPE: NamespaceScope = new Map([['xml', XML_NAMESPACE]]);

// XML 1.0 (5th ed.) Char production, negated: anything matching is not allowed in a document.
const INVALID_CHAR = /[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;
// The same without the `u` flag, surrogates included: a third faster on the common all-BMP
// document; when it hits, the exact check above decides.
// eslint-disable-next-line no-control-regex -- the control characters XML forbids are exactly what this matches
const MAYBE_INVALID_CHAR = /[\x00-\x08\x0B\x0C\x0E-\x1F\uD800-\uDFFF\uFFFE\uFFFF]/;
const NAME_START =
  'A-Z_a-z\\u00C0-\\u00D6\\u00D8-\\u00F6\\u00F8-\\u02FF\\u0370-\\u037D\\u037F-\\u1FFF\\u200C-\\u200D' +
  '\\u2070-\\u218F\\u2C00-\\u2FEF\\u3001-\\uD7FF\\uF900-\\uFDCF\\uFDF0-\\uFFFD\\u{10000}-\\u{EFFFF}';
const NAME_CHAR = NAME_START + '\\-.0-9\\u00B7\\u0300-\\u036F\\u203F-\\u2040';
/** NCName: a Name without colons, as the Namespaces recommendation requires of every part. */
// eslint-disable-next-line no-misleading-character-class -- the combining marks are code point ranges of the Name production, not sequences
const NCNAME = new RegExp(`^[${NAME_START}][${NAME_CHAR}]*$`, 'u');

/** A parsed qualified name. */
interface QName {
  readonly prefix: string;
  readonly local: string;
}

// Names repeat a lot in one document and across documents of one wire profile; validating
// each distinct name once keeps name checks off the profile.
const qnameCache = new Map<string, QName>();
const QNAME_CACHE_MAX = 4096;

/**
 * A refusal inside the parse, with its offset; `parseXml` turns it into a DavisError with the
 * line number, counted then (once, in one pass) rather than tracked on the hot path.
 */
class XmlFault extends Error {
  constructor(readonly code: ErrorCode, readonly detail: string, readonly at: number | undefined) {
    super(detail);
    this.name = 'XmlFault';
  }
}

function malformed(detail: string, at?: number): XmlFault {
  return new XmlFault('DAVIS_ERR_XML_MALFORMED', detail, at);
}

function limit(detail: string, at: number): XmlFault {
  return new XmlFault('DAVIS_ERR_XML_LIMIT', detail, at);
}

/**
 * 1-based line of offset `at` in `src`, counting LF, CRLF and a lone CR as one line end each
 * (as XML's line-end normalisation does, and as libxml2 numbers lines). Linear; call it only
 * when reporting an error.
 */
export function lineAt(src: string, at: number): number {
  let line = 1;
  const end = Math.min(at, src.length);
  for (let i = 0; i < end; i++) {
    const c = src.charCodeAt(i);
    if (c === 0x0a || (c === 0x0d && src.charCodeAt(i + 1) !== 0x0a)) line++;
  }
  return line;
}

function toDavisError(f: XmlFault, src: string): DavisError {
  const at = f.at ?? src.length;
  const line = lineAt(src, at);
  return new DavisError(f.code, `line ${line}: ${f.detail} (offset ${at})`, { errors: [{ pointer: `line ${line}`, message: f.detail }] });
}

function parseQName(name: string, at: number): QName {
  const cached = qnameCache.get(name);
  if (cached) return cached;
  const colon = name.indexOf(':');
  let q: QName;
  if (colon < 0) {
    if (!NCNAME.test(name)) throw malformed(`invalid name "${name}"`, at);
    q = { prefix: '', local: name };
  } else {
    const prefix = name.slice(0, colon);
    const local = name.slice(colon + 1);
    if (!NCNAME.test(prefix) || !NCNAME.test(local)) throw malformed(`invalid qualified name "${name}"`, at);
    q = { prefix, local };
  }
  if (qnameCache.size >= QNAME_CACHE_MAX) qnameCache.clear();
  qnameCache.set(name, q);
  return q;
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x09 || c === 0x0d;
}

/** Whether `c` ends a name in a tag (whitespace or one of the tag delimiters). */
function endsName(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x09 || c === 0x0d || c === 0x3e || c === 0x2f || c === 0x3d ||
    c === 0x3f || c === 0x3c || c === 0x22 || c === 0x27 || Number.isNaN(c);
}

function decodeReference(ref: string, at: number): string {
  switch (ref) {
    case 'lt': return '<';
    case 'gt': return '>';
    case 'amp': return '&';
    case 'quot': return '"';
    case 'apos': return "'";
  }
  let code: number;
  if (/^#x0*[0-9a-fA-F]{1,6}$/.test(ref)) code = parseInt(ref.slice(2), 16);
  else if (/^#0*[0-9]{1,7}$/.test(ref)) code = parseInt(ref.slice(1), 10);
  else throw malformed(`undefined entity reference "&${ref.slice(0, 20)};"`, at);
  if (code > 0x10ffff) throw malformed('character reference out of range', at);
  const ch = String.fromCodePoint(code);
  if (INVALID_CHAR.test(ch)) throw malformed('character reference to a character XML does not allow', at);
  return ch;
}

/** Decodes references in `raw` (which starts at `at`), applying `norm` to the literal runs. */
function decodeWithReferences(raw: string, at: number, norm: (s: string) => string): string {
  let out = '';
  let i = 0;
  for (;;) {
    const amp = raw.indexOf('&', i);
    if (amp < 0) return out + norm(raw.slice(i));
    const semi = raw.indexOf(';', amp + 1);
    if (semi < 0 || semi - amp > 40) throw malformed('unterminated reference', at + amp);
    out += norm(raw.slice(i, amp)) + decodeReference(raw.slice(amp + 1, semi), at + amp);
    i = semi + 1;
  }
}

function normaliseLineEnds(s: string): string {
  return s.includes('\r') ? s.replace(/\r\n?/g, '\n') : s;
}

function normaliseAttributeSpace(s: string): string {
  // Line ends are normalised first (CRLF is one space), then every literal whitespace
  // character becomes a space; characters from references are left alone.
  return /[\t\n\r]/.test(s) ? s.replace(/\r\n|[\t\n\r]/g, ' ') : s;
}

function decodeText(raw: string, at: number): string {
  if (!raw.includes('&')) return normaliseLineEnds(raw);
  return decodeWithReferences(raw, at, normaliseLineEnds);
}

function decodeAttribute(raw: string, at: number): string {
  if (raw.includes('<')) throw malformed('"<" in an attribute value', at);
  if (!raw.includes('&')) return normaliseAttributeSpace(raw);
  return decodeWithReferences(raw, at, normaliseAttributeSpace);
}

interface RawAttr {
  name: string;
  value: string;
  at: number;
}

interface MutableElement {
  type: 'element';
  qname: string;
  prefix: string;
  localName: string;
  namespaceURI: string;
  attributes: XmlAttribute[];
  namespaces: XmlNamespaceDecl[];
  scope: NamespaceScope;
  children: XmlNode[];
  parent: XmlElement | null;
  start: number;
  startTagEnd: number;
  endTagStart: number;
  end: number;
  selfClosing: boolean;
}

// Version 1.0 only and, when declared, UTF-8 only: the document reaches the parser as a
// decoded string, so any other declared encoding would be a lie about the bytes it came from.
const XML_DECL =
  /<\?xml[ \t\r\n]+version[ \t\r\n]*=[ \t\r\n]*(["'])([^"']*)\1(?:[ \t\r\n]+encoding[ \t\r\n]*=[ \t\r\n]*(["'])([A-Za-z][A-Za-z0-9._-]*)\3)?(?:[ \t\r\n]+standalone[ \t\r\n]*=[ \t\r\n]*(["'])(?:yes|no)\5)?[ \t\r\n]*\?>/y;
const UTF8 = /^utf-?8$/i;
/** Markup declarations of a DTD: refused with their own code wherever they appear. */
const DECLARATION = /<!(?:DOCTYPE|ENTITY|ELEMENT|ATTLIST|NOTATION)/iy;

/** Internal, mutable view of the caps. */
interface Caps {
  maxDepth: number;
  maxAttributes: number;
  maxNamespaceDeclarations: number;
  maxTotalNamespaceDeclarations: number;
  maxChildren: number;
  maxNodes: number;
}

/** Running counts for the document-wide caps. */
interface Budget {
  nodes: number;
  namespaces: number;
}

/**
 * Parses an XML document into the light tree. Anything from outside goes through
 * `screenAndParse` (src/xml/screen.ts), which adds the byte cap; this function alone is
 * enough for XML the product made itself.
 *
 * @throws DavisError DAVIS_ERR_XML_MALFORMED on any well-formedness or namespace error,
 *   DAVIS_ERR_XML_DOCTYPE on a DOCTYPE or other DTD declaration, DAVIS_ERR_XML_TOO_DEEP beyond
 *   `maxDepth`, DAVIS_ERR_XML_LIMIT beyond any other cap; each with `line N (offset O)` in the
 *   message and `line N` as `errors[0].pointer`.
 */
export function parseXml(xml: string, opts: ParseOptions = {}): XmlDocument {
  const caps: Caps = { ...DEFAULT_PARSE_LIMITS, ...stripUndefined(opts) };
  try {
    return parse(xml, caps);
  } catch (err) {
    if (err instanceof XmlFault) throw toDavisError(err, xml);
    throw err;
  }
}

/** The caps `opts` sets (it may be a wider object, such as screening limits). */
function stripUndefined(opts: ParseOptions): Partial<Caps> {
  const out: Partial<Caps> = {};
  for (const k of Object.keys(DEFAULT_PARSE_LIMITS) as (keyof Caps)[]) {
    const v = opts[k];
    if (typeof v === 'number') out[k] = v;
  }
  return out;
}

function parse(xml: string, caps: Caps): XmlDocument {
  const maxDepth = caps.maxDepth;
  const bad = MAYBE_INVALID_CHAR.test(xml) ? INVALID_CHAR.exec(xml) : null;
  if (bad) throw malformed('character XML does not allow', bad.index);

  const n = xml.length;
  // A byte order mark is not part of the document (the offsets still count it).
  let i = xml.charCodeAt(0) === 0xfeff ? 1 : 0;
  const top: (XmlElement | XmlComment | XmlProcessingInstruction)[] = [];
  let root: MutableElement | null = null;
  const stack: MutableElement[] = [];
  let current: MutableElement | null = null;
  const budget: Budget = { nodes: 0, namespaces: 0 };
  // Pending character data of the current element, merged across CDATA sections.
  let text = '';
  let textStart = -1;
  let textEnd = -1;

  XML_DECL.lastIndex = i;
  const m = XML_DECL.exec(xml);
  if (m) {
    const version = m[2];
    // An optional group that did not take part is undefined: `at` says so in the type.
    const encoding = m.at(4);
    if (version !== '1.0') throw malformed(`XML version ${version.slice(0, 10)} not supported (1.0 only)`, i);
    if (encoding !== undefined && !UTF8.test(encoding)) throw malformed(`encoding ${encoding.slice(0, 40)} not supported (UTF-8 only)`, i);
    i = XML_DECL.lastIndex;
  } else if (xml.startsWith('<?xml', i) && /[ \t\r\n?]/.test(xml.charAt(i + 5))) {
    throw malformed('invalid XML declaration', i);
  }

  const addNode = (parent: MutableElement | null, node: XmlNode, at: number): void => {
    if (++budget.nodes > caps.maxNodes) throw limit(`more than ${caps.maxNodes} nodes`, at);
    if (parent) {
      if (parent.children.length >= caps.maxChildren) throw limit(`more than ${caps.maxChildren} children in <${parent.qname}>`, at);
      parent.children.push(node);
    } else {
      top.push(node as XmlElement | XmlComment | XmlProcessingInstruction);
    }
  };
  const flushText = (): void => {
    if (textStart >= 0 && current) addNode(current, { type: 'text', value: text, start: textStart, end: textEnd }, textStart);
    text = '';
    textStart = -1;
  };
  const addText = (value: string, start: number, end: number): void => {
    if (textStart < 0) textStart = start;
    text += value;
    textEnd = end;
  };
  // Most raw attributes one start tag may hold before its namespace declarations are told apart.
  const maxRawAttributes = caps.maxAttributes + caps.maxNamespaceDeclarations;

  while (i < n) {
    const lt = xml.indexOf('<', i);
    const stop = lt < 0 ? n : lt;
    if (stop > i) {
      const raw = xml.slice(i, stop);
      if (current) {
        const cdataEnd = raw.indexOf(']]>');
        if (cdataEnd >= 0) throw malformed('"]]>" in character data', i + cdataEnd);
        addText(decodeText(raw, i), i, stop);
      } else if (!/^[ \t\r\n]*$/.test(raw)) {
        throw malformed('text outside the document element', i);
      }
    }
    if (lt < 0) break;
    const c1 = xml.charCodeAt(lt + 1);

    if (c1 === 0x21 /* ! */) {
      if (xml.startsWith('<!--', lt)) {
        const close = xml.indexOf('--', lt + 4);
        if (close < 0 || xml.charCodeAt(close + 2) !== 0x3e) throw malformed('"--" inside a comment or unterminated comment', lt);
        flushText();
        addNode(current, { type: 'comment', value: normaliseLineEnds(xml.slice(lt + 4, close)), start: lt, end: close + 3 }, lt);
        i = close + 3;
        continue;
      }
      if (xml.startsWith('<![CDATA[', lt)) {
        if (!current) throw malformed('CDATA section outside the document element', lt);
        const close = xml.indexOf(']]>', lt + 9);
        if (close < 0) throw malformed('unterminated CDATA section', lt);
        addText(normaliseLineEnds(xml.slice(lt + 9, close)), lt, close + 3);
        i = close + 3;
        continue;
      }
      DECLARATION.lastIndex = lt;
      if (DECLARATION.test(xml)) throw new XmlFault('DAVIS_ERR_XML_DOCTYPE', 'DOCTYPE and entity declarations are refused', lt);
      throw malformed('markup declaration not allowed', lt);
    }

    if (c1 === 0x3f /* ? */) {
      const close = xml.indexOf('?>', lt + 2);
      if (close < 0) throw malformed('unterminated processing instruction', lt);
      let j = lt + 2;
      while (!endsName(xml.charCodeAt(j))) j++;
      const target = xml.slice(lt + 2, j);
      if (!NCNAME.test(target)) throw malformed('invalid processing instruction target', lt);
      if (target.toLowerCase() === 'xml') throw malformed('XML declaration not at the start, or reserved PI target', lt);
      if (j < close && !isSpace(xml.charCodeAt(j))) throw malformed('processing instruction target not followed by space', lt);
      while (j < close && isSpace(xml.charCodeAt(j))) j++;
      flushText();
      addNode(current, { type: 'pi', target, data: normaliseLineEnds(xml.slice(j, close)), start: lt, end: close + 2 }, lt);
      i = close + 2;
      continue;
    }

    if (c1 === 0x2f /* / */) {
      if (!current) throw malformed('end tag without a start tag', lt);
      let j = lt + 2;
      while (!endsName(xml.charCodeAt(j))) j++;
      const name = xml.slice(lt + 2, j);
      if (name !== current.qname) throw malformed(`end tag </${name.slice(0, 40)}> does not match <${current.qname}>`, lt);
      while (j < n && isSpace(xml.charCodeAt(j))) j++;
      if (xml.charCodeAt(j) !== 0x3e) throw malformed('malformed end tag', lt);
      flushText();
      current.endTagStart = lt;
      current.end = j + 1;
      stack.pop();
      current = stack.length ? stack[stack.length - 1] : null;
      i = j + 1;
      continue;
    }

    // Start tag or empty-element tag.
    if (!current && root) throw malformed('more than one document element', lt);
    let j = lt + 1;
    while (!endsName(xml.charCodeAt(j))) j++;
    const qname = xml.slice(lt + 1, j);
    if (qname.length === 0) throw malformed('"<" not starting a tag', lt);
    const attrs: RawAttr[] = [];
    let selfClosing = false;
    for (;;) {
      const before = j;
      while (j < n && isSpace(xml.charCodeAt(j))) j++;
      const c = xml.charCodeAt(j);
      if (c === 0x3e) { j++; break; }
      if (c === 0x2f) {
        if (xml.charCodeAt(j + 1) !== 0x3e) throw malformed('"/" not followed by ">" in a tag', j);
        selfClosing = true;
        j += 2;
        break;
      }
      if (j >= n) throw malformed('unterminated start tag', lt);
      if (j === before) throw malformed('attributes must be separated by whitespace', j);
      if (attrs.length >= maxRawAttributes) throw limit(`more than ${maxRawAttributes} attributes and namespace declarations on <${qname.slice(0, 40)}>`, j);
      const nameStart = j;
      while (!endsName(xml.charCodeAt(j))) j++;
      const aname = xml.slice(nameStart, j);
      if (aname.length === 0) throw malformed('invalid character in a tag', j);
      while (j < n && isSpace(xml.charCodeAt(j))) j++;
      if (xml.charCodeAt(j) !== 0x3d) throw malformed('attribute without "="', j);
      j++;
      while (j < n && isSpace(xml.charCodeAt(j))) j++;
      const q = xml.charCodeAt(j);
      if (q !== 0x22 && q !== 0x27) throw malformed('attribute value not quoted', j);
      const close = xml.indexOf(q === 0x22 ? '"' : "'", j + 1);
      if (close < 0) throw malformed('unterminated attribute value', j);
      attrs.push({ name: aname, value: xml.slice(j + 1, close), at: j + 1 });
      j = close + 1;
    }

    flushText();
    const parent: MutableElement | null = current;
    const el = buildElement(qname, attrs, parent, lt, j, caps, budget);
    el.selfClosing = selfClosing;
    addNode(parent, el, lt);
    if (!parent) root = el;
    if (selfClosing) {
      el.endTagStart = j;
      el.end = j;
    } else {
      if (stack.length >= maxDepth) throw new XmlFault('DAVIS_ERR_XML_TOO_DEEP', `XML nesting exceeds ${maxDepth} levels`, lt);
      stack.push(el);
      current = el;
    }
    i = j;
  }

  if (current) throw malformed(`unclosed element <${current.qname}>`);
  if (!root) throw malformed('no document element');
  return { type: 'document', children: top, root, source: xml };
}

/** Up to this many attributes, pairwise comparison is cheaper than a Set (and still O(k)). */
const SMALL_ATTRIBUTE_COUNT = 8;

function buildElement(
  qname: string, raw: RawAttr[], parent: MutableElement | null, start: number, startTagEnd: number, caps: Caps, budget: Budget,
): MutableElement {
  const q = parseQName(qname, start);
  let scope: NamespaceScope = parent ? parent.scope : INITIAL_SCOPE;
  const namespaces: XmlNamespaceDecl[] = [];
  const ordinary: { q: QName; name: string; value: string; at: number }[] = [];
  let writable: Map<string, string> | null = null;
  const names = raw.length > SMALL_ATTRIBUTE_COUNT ? new Set<string>() : null;

  for (let k = 0; k < raw.length; k++) {
    const a = raw[k];
    if (names) {
      if (names.has(a.name)) throw malformed(`duplicate attribute "${a.name}"`, a.at);
      names.add(a.name);
    } else {
      for (let l = 0; l < k; l++) {
        if (raw[l].name === a.name) throw malformed(`duplicate attribute "${a.name}"`, a.at);
      }
    }
    const aq = parseQName(a.name, a.at);
    const value = decodeAttribute(a.value, a.at);
    let declared: string | null = null;
    if (aq.prefix === '' && aq.local === 'xmlns') {
      declared = '';
      if (value === XML_NAMESPACE || value === XMLNS_NAMESPACE) throw malformed('reserved namespace bound as default', a.at);
    } else if (aq.prefix === 'xmlns') {
      declared = aq.local;
      if (declared === 'xmlns') throw malformed('the xmlns prefix cannot be declared', a.at);
      if (value === '') throw malformed(`namespace prefix "${declared}" bound to the empty string`, a.at);
      if ((declared === 'xml') !== (value === XML_NAMESPACE)) throw malformed('the xml prefix and its namespace go only together', a.at);
      if (value === XMLNS_NAMESPACE) throw malformed('the xmlns namespace cannot be bound', a.at);
    }
    if (declared !== null) {
      if (namespaces.length >= caps.maxNamespaceDeclarations) {
        throw limit(`more than ${caps.maxNamespaceDeclarations} namespace declarations on <${qname}>`, a.at);
      }
      if (++budget.namespaces > caps.maxTotalNamespaceDeclarations) {
        throw limit(`more than ${caps.maxTotalNamespaceDeclarations} namespace declarations in the document`, a.at);
      }
      namespaces.push({ prefix: declared, uri: value });
      if (declared !== 'xml') {
        if (!writable) {
          writable = new Map(scope);
          scope = writable;
        }
        writable.set(declared, value);
      }
    } else {
      if (ordinary.length >= caps.maxAttributes) throw limit(`more than ${caps.maxAttributes} attributes on <${qname}>`, a.at);
      ordinary.push({ q: aq, name: a.name, value, at: a.at });
    }
  }

  let namespaceURI: string;
  if (q.prefix === '') namespaceURI = scope.get('') ?? '';
  else if (q.prefix === 'xmlns') throw malformed('element name with the xmlns prefix', start);
  else {
    const uri = scope.get(q.prefix);
    if (uri === undefined) throw malformed(`undeclared namespace prefix "${q.prefix}"`, start);
    namespaceURI = uri;
  }

  const attributes = new Array<XmlAttribute>(ordinary.length);
  // Expanded names of the prefixed attributes: two prefixes may name one namespace.
  const expanded = ordinary.length > SMALL_ATTRIBUTE_COUNT ? new Set<string>() : null;
  for (let k = 0; k < ordinary.length; k++) {
    const o = ordinary[k];
    let ns = '';
    if (o.q.prefix !== '') {
      const uri = scope.get(o.q.prefix);
      if (uri === undefined) throw malformed(`undeclared namespace prefix "${o.q.prefix}"`, o.at);
      ns = uri;
      if (expanded) {
        const key = `${ns} ${o.q.local}`;
        if (expanded.has(key)) throw malformed(`duplicate attribute {${ns}}${o.q.local}`, o.at);
        expanded.add(key);
      } else {
        for (let l = 0; l < k; l++) {
          const p = attributes[l];
          if (p.namespaceURI === ns && p.localName === o.q.local) throw malformed(`duplicate attribute {${ns}}${o.q.local}`, o.at);
        }
      }
    }
    attributes[k] = { qname: o.name, prefix: o.q.prefix, localName: o.q.local, namespaceURI: ns, value: o.value };
  }

  return {
    type: 'element', qname, prefix: q.prefix, localName: q.local, namespaceURI, attributes, namespaces, scope,
    children: [], parent, start, startTagEnd, endTagStart: startTagEnd, end: startTagEnd, selfClosing: false,
  };
}

/** The value of the attribute with this local name and namespace (default: no namespace), if present. */
export function getAttribute(el: XmlElement, localName: string, namespaceURI = ''): string | undefined {
  for (const a of el.attributes) {
    if (a.localName === localName && a.namespaceURI === namespaceURI) return a.value;
  }
  return undefined;
}

/** The element children of `el`, in order. */
export function childElements(el: XmlElement): XmlElement[] {
  const out: XmlElement[] = [];
  for (const c of el.children) if (c.type === 'element') out.push(c);
  return out;
}

/**
 * The concatenated character data directly inside `el` (not of descendants). Comments and
 * PIs between text runs are skipped, so a comment cannot truncate a value the way it can
 * with parsers that return the first text node only.
 */
export function textContent(el: XmlElement): string {
  let s = '';
  for (const c of el.children) if (c.type === 'text') s += c.value;
  return s;
}
