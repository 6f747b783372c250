/**
 * The wire documents (request and response) of the DAVIS wire profile, namespace
 * `urn:davis-gateway:wire:1`, and the strict XML parser that reads them.
 *
 * Builders write Exclusive XML Canonical form directly (no XML declaration, no whitespace
 * between elements, the one namespace declaration on the root, C14N escaping, start/end tag
 * pairs), so the signer digests the builder's bytes without re-parsing or canonicalising.
 * The signature (`ds:Signature`) is appended by the signing module as the root's last child.
 *
 * The parser is a small hand-written XML 1.0 + Namespaces parser rather than fast-xml-parser:
 * it is strict where fast-xml-parser is lenient (undefined entities, `&` in text, numeric
 * references only with `htmlEntities`, which also decodes HTML names that XML does not
 * define; no line-end or attribute-value normalisation; no namespace resolution), and it
 * gives line numbers for error locations. It expects SCREENED input (no DOCTYPE, so the
 * only entities are the five predefined ones); the parse functions below screen first.
 */
import { DavisError } from '../errors/errors';
import { getType, getTypeByAnswerXmlName } from '../catalogue/catalogue';
import type { MessageTypeSpec } from '../catalogue/types';
import { screenXml, type ScreenLimits } from '../xml/screen';
import type { CentralAnswer, WireHeader } from './types';
import {
  compileShape,
  escapeCanonicalAttr,
  escapeCanonicalText,
  mappingError,
  payloadToXml,
  xmlToPayload,
  type XmlAttribute,
  type XmlElement,
} from './mapping';

/** Namespace URI of every wire element. */
export const WIRE_NS = 'urn:davis-gateway:wire:1';
/** The prefix the builders use for `WIRE_NS` (readers accept any prefix or a default namespace). */
export const WIRE_PREFIX = 'w';
/** XML-DSig namespace: a `ds:Signature` may be the last child of the root. */
export const DSIG_NS = 'http://www.w3.org/2000/09/xmldsig#';

/**
 * Screening limits for wire documents. The default 1 MiB of `screenXml` is too small: a
 * request may embed a facial image (≤ 1 MiB of base64), fingerprints (≤ 4 MiB) and a
 * document scan (≤ 1 MiB), plus text and a signature. Every reader of wire XML (API XML
 * bodies, the mock central, the dispatcher reading answers) should screen with these.
 * maxBytes 8 MiB; maxDepth 32.
 */
export const WIRE_SCREEN_LIMITS: ScreenLimits = Object.freeze({ maxBytes: 8 * 1024 * 1024, maxDepth: 32 });

/**
 * Message and response ids: letters, digits, `.`, `_`, `-` (a UUID fits). Restricted so
 * that `m-<id>` / `r-<id>` is an XML NCName, as an `Id` attribute of type xs:ID must be.
 */
export const WIRE_ID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$';
/**
 * Sender: ISO 3166-1 alpha-2 of the sending State, or `EU` (`WIRE_CENTRAL_SENDER`, the
 * exceptionally reserved ISO code) for central's notifications.
 */
export const WIRE_SENDER_PATTERN = '^[A-Z]{2}$';
/**
 * The `Sender` of every inbound (central → national) notification, and of nothing else:
 * `buildRequestXml` and `parseRequestXml` refuse an inbound type from another sender and an
 * outbound type from `EU` (a co-occurrence rule the XSD cannot express).
 */
export const WIRE_CENTRAL_SENDER = 'EU';
/** Creation time: UTC with `Z`, optional fraction (milliseconds from the gateway). */
export const WIRE_CREATED_PATTERN = '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,9})?Z$';
/** Central result codes such as `OK` or `VIS_ERR_DUPLICATE_APPLICATION`. */
export const WIRE_CODE_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$';
/** Longest central reference, in characters. */
export const WIRE_MAX_REFERENCE = 200;
/** Longest rejection reason, in characters. */
export const WIRE_MAX_REASON = 4000;

const ID_RE = new RegExp(WIRE_ID_PATTERN);
const SENDER_RE = new RegExp(WIRE_SENDER_PATTERN);
const CREATED_RE = new RegExp(WIRE_CREATED_PATTERN);
const CODE_RE = new RegExp(WIRE_CODE_PATTERN);

/** Options of `buildRequestXml`. */
export interface BuildRequestOptions {
  /**
   * Map the payload even when it does not fit its schema (negative conformance cases and
   * tests): see `ToXmlOptions.lenient`. @default false
   */
  readonly lenient?: boolean;
}

/**
 * Builds the request document for one message, in Exclusive XML Canonical form: a message
 * of an outbound type from a Member State to central, or a notification of an inbound type
 * from central (`sender` = `EU`) to a Member State; the document is the same.
 * The payload is expected to be valid against the type's JSON Schema.
 *
 * @throws DavisError DAVIS_ERR_CATALOGUE_UNKNOWN_TYPE for a type not in the catalogue;
 *   DAVIS_ERR_WIRE_MAPPING for a header value outside the wire profile (a sender that does
 *   not fit the type's direction included, see `WIRE_CENTRAL_SENDER`) or a payload value
 *   that cannot be represented (pointers: `/header/<field>` or the payload JSON pointer).
 */
export function buildRequestXml(header: WireHeader, payload: unknown, options: BuildRequestOptions = {}): string {
  const spec = requireType(header.type);
  checkHeaderField('/header/messageId', header.messageId, ID_RE);
  checkHeaderField('/header/sender', header.sender, SENDER_RE);
  const senderProblem = senderMismatch(spec, header.sender);
  if (senderProblem) throw mappingError('/header/sender', senderProblem);
  checkHeaderField('/header/created', header.created, CREATED_RE);
  const body = payloadToXml(compileShape(spec.schema), payload, { prefix: WIRE_PREFIX, lenient: options.lenient ?? false });
  return (
    `<w:Request xmlns:w="${WIRE_NS}" Id="m-${escapeCanonicalAttr(header.messageId)}">` +
    '<w:Header>' +
    el('MessageId', header.messageId) +
    el('MessageType', header.type) +
    el('Sender', header.sender) +
    el('Created', header.created) +
    '</w:Header>' +
    `<w:Body><w:${spec.xmlName}>${body}</w:${spec.xmlName}></w:Body>` +
    '</w:Request>'
  );
}

/**
 * Reads a request document: screens it (wire limits), parses it strictly, checks the
 * envelope (root, header, `Id` = `m-<MessageId>`, `Sender` = `EU` exactly when the type is
 * inbound, one body element matching the header's type, at most a trailing `ds:Signature`,
 * which is ignored here) and maps the body back to JSON through the type's schema. Inbound
 * notifications are read like outbound messages: check `isInbound(header.type)` for the
 * direction you expect. It does not verify the signature (the caller does) nor
 * validate the payload: run `validatePayload` on the result.
 *
 * @throws DavisError DAVIS_ERR_XML_* from screening or parsing; DAVIS_ERR_CATALOGUE_UNKNOWN_TYPE;
 *   DAVIS_ERR_WIRE_MAPPING with an XPath-like pointer for anything else.
 */
export function parseRequestXml(xml: string): { header: WireHeader; payload: unknown } {
  const root = parseXmlDocument(screenXml(xml, WIRE_SCREEN_LIMITS));
  const rootPath = `/${root.qname}`;
  if (root.ns !== WIRE_NS || root.local !== 'Request') throw mappingError(rootPath, `expected {${WIRE_NS}}Request`);
  const id = onlyIdAttribute(root, rootPath);
  const [headerEl, bodyEl] = envelopeChildren(root, rootPath, ['Header', 'Body']);
  const h = readFields(headerEl!, `${rootPath}/${headerEl!.qname}`, ['MessageId', 'MessageType', 'Sender', 'Created']);
  const header: WireHeader = { messageId: h.MessageId!, type: h.MessageType!, sender: h.Sender!, created: h.Created! };
  if (id !== `m-${header.messageId}`) throw mappingError(`${rootPath}/@Id`, 'Id must be "m-" followed by the MessageId');
  const spec = getType(header.type);
  if (!spec) {
    throw new DavisError('DAVIS_ERR_CATALOGUE_UNKNOWN_TYPE', `unknown message type ${header.type}`, {
      errors: [{ pointer: `${rootPath}/${headerEl!.qname}/MessageType`, message: 'not a catalogue type' }],
    });
  }
  const senderProblem = senderMismatch(spec, header.sender);
  if (senderProblem) {
    const prefix = headerEl!.qname.includes(':') ? `${headerEl!.qname.split(':')[0]}:` : '';
    throw mappingError(`${rootPath}/${headerEl!.qname}/${prefix}Sender`, senderProblem);
  }
  const bodyPath = `${rootPath}/${bodyEl!.qname}`;
  rejectAttributes(bodyEl!, bodyPath);
  const items = elementChildren(bodyEl!, bodyPath);
  if (items.length !== 1) throw mappingError(bodyPath, 'the body holds exactly one message element');
  const msg = items[0]!;
  const msgPath = `${bodyPath}/${msg.qname}`;
  if (msg.ns !== WIRE_NS || msg.local !== spec.xmlName) {
    throw mappingError(msgPath, `MessageType ${spec.id} needs the body element ${spec.xmlName}`);
  }
  return { header, payload: xmlToPayload(compileShape(spec.schema), msg, WIRE_NS, msgPath) };
}

/**
 * Builds the response document carrying one central answer, in Exclusive XML Canonical form.
 * `answer.data`, when present, travels in `w:Data` as one element named after the answer of
 * the type its `answerTo` names (e.g. `w:ApplicationSearchAnswer`), mapped through that
 * type's answer schema with the same generic mapping as request payloads (so the data reads
 * back exactly; names get their ICAO transliteration elements like in requests).
 *
 * @throws DavisError DAVIS_ERR_WIRE_MAPPING for a field outside the wire profile, or `data`
 *   whose `answerTo` names no catalogue type with answer data, or that does not map
 *   (pointers: `/data/…`).
 */
export function buildResponseXml(answer: CentralAnswer): string {
  checkHeaderField('/responseId', answer.responseId, ID_RE);
  checkHeaderField('/inReplyTo', answer.inReplyTo, ID_RE);
  checkHeaderField('/created', answer.created, CREATED_RE);
  checkHeaderField('/code', answer.code, CODE_RE);
  if (answer.result !== 'ACCEPTED' && answer.result !== 'REJECTED') throw mappingError('/result', 'must be ACCEPTED or REJECTED');
  if (answer.centralReference !== undefined && !(answer.centralReference.length >= 1 && [...answer.centralReference].length <= WIRE_MAX_REFERENCE)) {
    throw mappingError('/centralReference', `must be 1-${WIRE_MAX_REFERENCE} characters`);
  }
  if (answer.reason !== undefined && !(answer.reason.length >= 1 && [...answer.reason].length <= WIRE_MAX_REASON)) {
    throw mappingError('/reason', `must be 1-${WIRE_MAX_REASON} characters`);
  }
  const data = answer.data !== undefined ? dataXml(answer.data) : '';
  return (
    `<w:Response xmlns:w="${WIRE_NS}" Id="r-${escapeCanonicalAttr(answer.responseId)}">` +
    '<w:Header>' +
    el('MessageId', answer.responseId) +
    el('InReplyTo', answer.inReplyTo) +
    el('Created', answer.created) +
    '</w:Header>' +
    '<w:Result>' +
    el('Outcome', answer.result) +
    el('Code', answer.code) +
    (answer.centralReference !== undefined ? el('CentralReference', answer.centralReference) : '') +
    (answer.reason !== undefined ? el('Reason', answer.reason) : '') +
    '</w:Result>' +
    data +
    '</w:Response>'
  );
}

/** The `w:Data` element of an answer's data (see `buildResponseXml`). */
function dataXml(data: Readonly<Record<string, unknown>>): string {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) throw mappingError('/data', 'must be an object');
  const answerTo = data.answerTo;
  const spec = typeof answerTo === 'string' ? getType(answerTo) : undefined;
  if (!spec?.answer) throw mappingError('/data/answerTo', 'must name a catalogue type that has answer data');
  let body: string;
  try {
    body = payloadToXml(compileShape(spec.answer.schema), data, { prefix: WIRE_PREFIX });
  } catch (err) {
    // Re-aim the payload pointer at /data so the caller sees where in the answer it failed.
    if (err instanceof DavisError && err.code === 'DAVIS_ERR_WIRE_MAPPING') {
      const pointer = `/data${err.errors?.[0]?.pointer === '/' ? '' : (err.errors?.[0]?.pointer ?? '')}`;
      throw mappingError(pointer, err.errors?.[0]?.message ?? 'does not map');
    }
    throw err;
  }
  const name = spec.answer.xmlName;
  return `<w:Data><w:${name}>${body}</w:${name}></w:Data>`;
}

/**
 * Reads a response document (screened, strictly parsed; a trailing `ds:Signature` is
 * ignored: the caller verifies it). An optional `w:Data` after `w:Result` holds exactly one
 * answer element; it is mapped back to JSON through the answer schema of the type that
 * element belongs to (`data`). The data is not validated here: use `validateAnswer`.
 *
 * @throws DavisError DAVIS_ERR_XML_* from screening or parsing; DAVIS_ERR_WIRE_MAPPING with
 *   an XPath-like pointer for anything else.
 */
export function parseResponseXml(xml: string): CentralAnswer {
  const root = parseXmlDocument(screenXml(xml, WIRE_SCREEN_LIMITS));
  const rootPath = `/${root.qname}`;
  if (root.ns !== WIRE_NS || root.local !== 'Response') throw mappingError(rootPath, `expected {${WIRE_NS}}Response`);
  const id = onlyIdAttribute(root, rootPath);
  const [headerEl, resultEl, dataEl] = envelopeChildren(root, rootPath, ['Header', 'Result'], ['Data']);
  const h = readFields(headerEl!, `${rootPath}/${headerEl!.qname}`, ['MessageId', 'InReplyTo', 'Created']);
  const r = readFields(resultEl!, `${rootPath}/${resultEl!.qname}`, ['Outcome', 'Code'], ['CentralReference', 'Reason']);
  if (id !== `r-${h.MessageId}`) throw mappingError(`${rootPath}/@Id`, 'Id must be "r-" followed by the MessageId');
  if (r.Outcome !== 'ACCEPTED' && r.Outcome !== 'REJECTED') {
    throw mappingError(`${rootPath}/${resultEl!.qname}/Outcome`, 'must be ACCEPTED or REJECTED');
  }
  const answer: { -readonly [K in keyof CentralAnswer]: CentralAnswer[K] } = {
    responseId: h.MessageId!,
    inReplyTo: h.InReplyTo!,
    result: r.Outcome,
    code: r.Code!,
    created: h.Created!,
  };
  if (r.CentralReference !== undefined) answer.centralReference = r.CentralReference;
  if (r.Reason !== undefined) answer.reason = r.Reason;
  if (dataEl) answer.data = readData(dataEl, `${rootPath}/${dataEl.qname}`);
  return answer;
}

/** Maps a `w:Data` element back to the answer data (see `parseResponseXml`). */
function readData(dataEl: XmlElement, path: string): Record<string, unknown> {
  rejectAttributes(dataEl, path);
  const items = elementChildren(dataEl, path);
  if (items.length !== 1) throw mappingError(path, 'Data holds exactly one answer element');
  const item = items[0]!;
  const itemPath = `${path}/${item.qname}`;
  const spec = item.ns === WIRE_NS ? getTypeByAnswerXmlName(item.local) : undefined;
  if (!spec?.answer) throw mappingError(itemPath, 'not the answer element of a catalogue type');
  return xmlToPayload(compileShape(spec.answer.schema), item, WIRE_NS, itemPath);
}

// ---------------------------------------------------------------------------------------
// envelope helpers

function el(name: string, text: string): string {
  return `<w:${name}>${escapeCanonicalText(text)}</w:${name}>`;
}

function requireType(type: string): MessageTypeSpec {
  const spec = getType(type);
  if (!spec) {
    throw new DavisError('DAVIS_ERR_CATALOGUE_UNKNOWN_TYPE', `unknown message type ${type}`, {
      errors: [{ pointer: '/header/type', message: 'not a catalogue type' }],
    });
  }
  return spec;
}

/** Why `sender` cannot send a message of `spec`'s direction, or undefined when it can (see `WIRE_CENTRAL_SENDER`). */
function senderMismatch(spec: MessageTypeSpec, sender: string): string | undefined {
  if (spec.direction === 'inbound' && sender !== WIRE_CENTRAL_SENDER) return `must be ${WIRE_CENTRAL_SENDER}: ${spec.id} is a central notification`;
  if (spec.direction === 'outbound' && sender === WIRE_CENTRAL_SENDER) return `${WIRE_CENTRAL_SENDER} sends central notifications only; ${spec.id} is sent by a Member State`;
  return undefined;
}

function checkHeaderField(pointer: string, value: unknown, re: RegExp): void {
  if (typeof value !== 'string' || !re.test(value)) throw mappingError(pointer, `must match ${re.source}`);
}

function onlyIdAttribute(root: XmlElement, path: string): string {
  let id: string | undefined;
  for (const a of root.attrs) {
    if (a.ns === undefined && a.local === 'Id') id = a.value;
    else throw mappingError(`${path}/@${a.qname}`, 'attribute not allowed');
  }
  if (id === undefined) throw mappingError(`${path}/@Id`, 'missing Id attribute');
  return id;
}

/**
 * The root's wire children: `names` in order, then each of `optional` (in order) when
 * present, then optionally one trailing ds:Signature. Absent optional ones are `undefined`.
 */
function envelopeChildren(root: XmlElement, path: string, names: readonly string[], optional: readonly string[] = []): (XmlElement | undefined)[] {
  const kids = elementChildren(root, path);
  const out: (XmlElement | undefined)[] = [];
  let i = 0;
  for (const name of names) {
    const k = kids[i];
    if (!k || k.ns !== WIRE_NS || k.local !== name) {
      throw mappingError(k ? `${path}/${k.qname}` : path, `expected {${WIRE_NS}}${name}${k ? '' : ' (missing)'}`);
    }
    out.push(k);
    i++;
  }
  for (const name of optional) {
    const k = kids[i];
    if (k && k.ns === WIRE_NS && k.local === name) {
      out.push(k);
      i++;
    } else {
      out.push(undefined);
    }
  }
  const rest = kids.slice(i);
  if (rest.length > 1 || (rest.length === 1 && !(rest[0]!.ns === DSIG_NS && rest[0]!.local === 'Signature'))) {
    throw mappingError(`${path}/${rest[0]!.qname}`, 'only one ds:Signature may follow');
  }
  return out;
}

function elementChildren(parent: XmlElement, path: string): XmlElement[] {
  const out: XmlElement[] = [];
  for (const c of parent.children) {
    if (typeof c === 'string') {
      if (!/^[ \t\r\n]*$/.test(c)) throw mappingError(path, 'text is not allowed here');
    } else {
      out.push(c);
    }
  }
  return out;
}

function rejectAttributes(e: XmlElement, path: string): void {
  if (e.attrs.length > 0) throw mappingError(`${path}/@${e.attrs[0]!.qname}`, 'attribute not allowed');
}

/** Reads a sequence of simple text children: `required` in order, then `optional` in order. */
function readFields(parent: XmlElement, path: string, required: readonly string[], optional: readonly string[] = []): Record<string, string | undefined> {
  rejectAttributes(parent, path);
  const kids = elementChildren(parent, path);
  const out: Record<string, string | undefined> = {};
  let i = 0;
  for (const name of [...required, ...optional]) {
    const k = kids[i];
    if (k && k.ns === WIRE_NS && k.local === name) {
      const kPath = `${path}/${k.qname}`;
      rejectAttributes(k, kPath);
      let text = '';
      for (const c of k.children) {
        if (typeof c !== 'string') throw mappingError(`${kPath}/${c.qname}`, 'element not allowed in a simple value');
        text += c;
      }
      out[name] = text;
      i++;
    } else if (required.includes(name)) {
      throw mappingError(k ? `${path}/${k.qname}` : path, `expected {${WIRE_NS}}${name}`);
    }
  }
  if (i < kids.length) throw mappingError(`${path}/${kids[i]!.qname}`, 'element not expected here');
  return out;
}

// ---------------------------------------------------------------------------------------
// strict XML 1.0 + Namespaces parser (screened input: no DTD)

const XML_NS = 'http://www.w3.org/XML/1998/namespace';
const XMLNS_NS = 'http://www.w3.org/2000/xmlns/';
const NAME_START = ':A-Z_a-z\\u00C0-\\u00D6\\u00D8-\\u00F6\\u00F8-\\u02FF\\u0370-\\u037D\\u037F-\\u1FFF\\u200C-\\u200D\\u2070-\\u218F\\u2C00-\\u2FEF\\u3001-\\uD7FF\\uF900-\\uFDCF\\uFDF0-\\uFFFD\\u{10000}-\\u{EFFFF}';
const NAME_CHAR = `${NAME_START}\\-.0-9\\u00B7\\u0300-\\u036F\\u203F-\\u2040`;
const NAME_RE = new RegExp(`[${NAME_START}][${NAME_CHAR}]*`, 'uy');
const WS_RE = /[ \t\n]+/y;
const NON_XML_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;
const PREDEFINED: Record<string, string> = { amp: '&', lt: '<', gt: '>', apos: "'", quot: '"' };

interface RawAttr {
  readonly qname: string;
  readonly value: string;
}

interface OpenElement {
  readonly qname: string;
  readonly rawAttrs: readonly RawAttr[];
  readonly scope: ReadonlyMap<string, string>;
  readonly children: (XmlElement | string)[];
  readonly line: number;
  element?: XmlElement;
}

/**
 * Parses a SCREENED XML document (see `screenXml`) into a namespace-resolved element tree.
 * Enforces XML 1.0 well-formedness as far as a DTD-less document needs it: legal characters,
 * names, matching tags, unique attributes, only the five predefined entities, legal character
 * references, `]]>` not in text, comments and PIs well-formed; line ends and attribute values
 * normalised as XML 1.0 §2.11 and §3.3.3 require; Namespaces in XML 1.0 prefixes resolved.
 * Comments and processing instructions are dropped; CDATA becomes text.
 *
 * @throws DavisError DAVIS_ERR_XML_MALFORMED with the line in the message and pointer
 *   (`line N`); DAVIS_ERR_XML_DOCTYPE if a DOCTYPE reached it unscreened.
 */
export function parseXmlDocument(input: string): XmlElement {
  // §2.11: CRLF and lone CR become LF before parsing (a CR written as &#xD; survives).
  const xml = (input.charCodeAt(0) === 0xfeff ? input.slice(1) : input).replace(/\r\n?/g, '\n');
  const n = xml.length;
  let pos = 0;
  let lineAtPos = 1;
  let linePos = 0;
  const lineOf = (at: number): number => {
    // Positions only move forward, so counting incrementally keeps the parser linear.
    if (at < linePos) {
      linePos = 0;
      lineAtPos = 1;
    }
    for (let i = xml.indexOf('\n', linePos); i !== -1 && i < at; i = xml.indexOf('\n', i + 1)) lineAtPos++;
    linePos = at;
    return lineAtPos;
  };
  const fail = (msg: string, at = pos): never => {
    const line = lineOf(Math.min(at, n));
    throw new DavisError('DAVIS_ERR_XML_MALFORMED', `line ${line}: ${msg}`, { errors: [{ pointer: `line ${line}`, message: msg }] });
  };
  {
    const bad = NON_XML_CHAR.exec(xml);
    if (bad) fail('character not allowed in XML', bad.index);
  }

  const skipWs = (): boolean => {
    WS_RE.lastIndex = pos;
    if (WS_RE.test(xml)) {
      pos = WS_RE.lastIndex;
      return true;
    }
    return false;
  };
  const readName = (): string => {
    NAME_RE.lastIndex = pos;
    const m = NAME_RE.exec(xml);
    if (!m) return fail('name expected');
    pos = NAME_RE.lastIndex;
    return m[0];
  };
  const expect = (s: string): void => {
    if (!xml.startsWith(s, pos)) fail(`"${s}" expected`);
    pos += s.length;
  };

  /** A reference starting at `pos` (on '&'); returns its replacement text. */
  const readReference = (): string => {
    const end = xml.indexOf(';', pos);
    if (end < 0 || end - pos > 40) return fail('"&" must start a reference (escape it as &amp;)');
    const body = xml.slice(pos + 1, end);
    let out: string;
    if (body.startsWith('#x')) {
      if (!/^#x[0-9A-Fa-f]+$/.test(body)) return fail(`bad character reference &${body};`);
      out = codePoint(parseInt(body.slice(2), 16));
    } else if (body.startsWith('#')) {
      if (!/^#[0-9]+$/.test(body)) return fail(`bad character reference &${body};`);
      out = codePoint(parseInt(body.slice(1), 10));
    } else {
      const v = PREDEFINED[body];
      if (v === undefined) return fail(`undefined entity &${body}; (no DTD: only amp, lt, gt, apos, quot)`);
      out = v;
    }
    pos = end + 1;
    return out;
  };
  const codePoint = (cp: number): string => {
    const ok =
      cp === 0x9 || cp === 0xa || cp === 0xd || (cp >= 0x20 && cp <= 0xd7ff) || (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff);
    if (!ok) return fail('character reference to a character not allowed in XML');
    return String.fromCodePoint(cp);
  };

  const readAttrValue = (): string => {
    const q = xml[pos];
    if (q !== '"' && q !== "'") return fail('quoted attribute value expected');
    pos++;
    let out = '';
    for (;;) {
      const c = xml[pos];
      if (c === undefined) return fail('unterminated attribute value');
      if (c === q) {
        pos++;
        return out;
      }
      if (c === '<') return fail('"<" not allowed in an attribute value');
      if (c === '&') out += readReference();
      else {
        // §3.3.3: literal white space in an attribute value becomes a space.
        out += c === '\t' || c === '\n' ? ' ' : c;
        pos++;
      }
    }
  };

  const skipComment = (): void => {
    const end = xml.indexOf('--', pos + 4);
    if (end < 0) fail('unterminated comment');
    if (xml[end + 2] !== '>') fail('"--" not allowed inside a comment', end);
    pos = end + 3;
  };
  const skipPI = (): void => {
    pos += 2;
    const target = readName();
    if (target.toLowerCase() === 'xml') fail('XML declaration only allowed at the very start');
    if (target.includes(':')) fail('processing instruction targets cannot contain ":"');
    const end = xml.indexOf('?>', pos);
    if (end < 0) fail('unterminated processing instruction');
    if (end > pos && !skipWs()) fail('space expected after the processing instruction target');
    pos = end + 2;
  };
  const skipMisc = (): void => {
    for (;;) {
      skipWs();
      if (xml.startsWith('<!--', pos)) skipComment();
      else if (xml.startsWith('<?', pos)) skipPI();
      else return;
    }
  };

  // XML declaration
  if (xml.startsWith('<?xml', 0) && /[ \t\n?]/.test(xml[5] ?? '')) {
    const end = xml.indexOf('?>');
    if (end < 0) fail('unterminated XML declaration');
    const decl = xml.slice(5, end);
    const m = /^[ \t\n]+version[ \t\n]*=[ \t\n]*(["'])1\.0\1(?:[ \t\n]+encoding[ \t\n]*=[ \t\n]*(["'])([A-Za-z][A-Za-z0-9._-]*)\2)?(?:[ \t\n]+standalone[ \t\n]*=[ \t\n]*(["'])(yes|no)\4)?[ \t\n]*$/.exec(decl);
    if (!m) fail('bad XML declaration (version 1.0 required)');
    const enc = m![3];
    // The document reached us as a decoded string; only a UTF-8 declaration is truthful.
    if (enc !== undefined && !/^utf-?8$/i.test(enc)) fail(`encoding ${enc} not supported (UTF-8 only)`);
    pos = end + 2;
  }
  skipMisc();
  if (xml.startsWith('<!DOCTYPE', pos)) throw new DavisError('DAVIS_ERR_XML_DOCTYPE');
  if (xml[pos] !== '<') fail('root element expected');

  const stack: OpenElement[] = [];
  let root: XmlElement | undefined;
  const rootScope: ReadonlyMap<string, string> = new Map([['xml', XML_NS]]);

  const resolve = (qname: string, scope: ReadonlyMap<string, string>, isAttr: boolean, at: number): { ns: string | undefined; local: string } => {
    const colon = qname.indexOf(':');
    if (colon < 0) return { ns: isAttr ? undefined : scope.get(''), local: qname };
    const prefix = qname.slice(0, colon);
    const local = qname.slice(colon + 1);
    if (prefix === '' || local === '' || local.includes(':')) return fail(`"${qname}" is not a qualified name`, at);
    const ns = scope.get(prefix);
    if (ns === undefined) return fail(`namespace prefix "${prefix}" is not declared`, at);
    return { ns, local };
  };

  const finish = (open: OpenElement, at: number): XmlElement => {
    const { ns, local } = resolve(open.qname, open.scope, false, at);
    const attrs: XmlAttribute[] = [];
    const seen = new Set<string>();
    for (const a of open.rawAttrs) {
      if (a.qname === 'xmlns' || a.qname.startsWith('xmlns:')) continue;
      const r = resolve(a.qname, open.scope, true, at);
      const key = `${r.ns ?? ''}\u0000${r.local}`;
      if (seen.has(key)) fail(`attribute {${r.ns ?? ''}}${r.local} repeated`, at);
      seen.add(key);
      attrs.push({ ns: r.ns, local: r.local, qname: a.qname, value: a.value });
    }
    return { ns, local, qname: open.qname, attrs, children: open.children, line: open.line };
  };

  while (pos < n) {
    if (stack.length === 0 && root) break;
    const lt = xml.indexOf('<', pos);
    const parent = stack[stack.length - 1];
    // character data up to the next markup
    const textEnd = lt < 0 ? n : lt;
    if (textEnd > pos) {
      if (!parent) fail('text outside the root element');
      let seg = xml.slice(pos, textEnd);
      if (seg.includes(']]>')) fail('"]]>" not allowed in text', pos + seg.indexOf(']]>'));
      if (seg.includes('&')) {
        let out = '';
        const segStart = pos;
        let i = 0;
        for (let amp = seg.indexOf('&'); amp >= 0; amp = seg.indexOf('&', i)) {
          out += seg.slice(i, amp);
          pos = segStart + amp;
          out += readReference();
          i = pos - segStart;
        }
        out += seg.slice(i);
        seg = out;
      }
      pushText(parent!.children, seg);
      pos = textEnd;
    }
    if (lt < 0) break;
    pos = lt;
    if (xml.startsWith('<!--', pos)) {
      skipComment();
    } else if (xml.startsWith('<![CDATA[', pos)) {
      if (!parent) fail('CDATA outside the root element');
      const end = xml.indexOf(']]>', pos + 9);
      if (end < 0) fail('unterminated CDATA section');
      pushText(parent!.children, xml.slice(pos + 9, end));
      pos = end + 3;
    } else if (xml.startsWith('<?', pos)) {
      skipPI();
    } else if (xml.startsWith('<!', pos)) {
      if (xml.startsWith('<!DOCTYPE', pos)) throw new DavisError('DAVIS_ERR_XML_DOCTYPE');
      fail('markup declaration not allowed');
    } else if (xml[pos + 1] === '/') {
      const at = pos;
      pos += 2;
      const name = readName();
      skipWs();
      expect('>');
      const open = stack.pop();
      if (!open) return fail('end tag without a start tag', at);
      if (open.qname !== name) fail(`end tag </${name}> does not match <${open.qname}>`, at);
      const done = finish(open, at);
      if (stack.length > 0) stack[stack.length - 1]!.children.push(done);
      else root = done;
    } else {
      if (!parent && root) fail('only one root element is allowed');
      const at = pos;
      const line = lineOf(at);
      pos++;
      const qname = readName();
      const rawAttrs: RawAttr[] = [];
      const names = new Set<string>();
      let selfClosing = false;
      for (;;) {
        const hadWs = skipWs();
        if (xml.startsWith('/>', pos)) {
          pos += 2;
          selfClosing = true;
          break;
        }
        if (xml[pos] === '>') {
          pos++;
          break;
        }
        if (!hadWs) fail('space expected between attributes');
        const aName = readName();
        skipWs();
        expect('=');
        skipWs();
        const value = readAttrValue();
        if (names.has(aName)) fail(`attribute ${aName} repeated`);
        names.add(aName);
        rawAttrs.push({ qname: aName, value });
      }
      // namespace declarations of this element
      let scope = parent ? parent.scope : rootScope;
      for (const a of rawAttrs) {
        if (a.qname === 'xmlns' || a.qname.startsWith('xmlns:')) {
          const prefix = a.qname === 'xmlns' ? '' : a.qname.slice(6);
          if (prefix === 'xmlns') fail('the xmlns prefix cannot be declared', at);
          if (prefix === 'xml' ? a.value !== XML_NS : a.value === XML_NS || a.value === XMLNS_NS) {
            fail('reserved namespace misused', at);
          }
          if (prefix !== '' && a.value === '') fail(`prefix "${prefix}" cannot be undeclared in XML 1.0`, at);
          if (prefix === '' && a.qname !== 'xmlns') fail(`"${a.qname}" is not a namespace declaration`, at);
          if (prefix.includes(':')) fail(`"${a.qname}" is not a namespace declaration`, at);
          if (scope === (parent ? parent.scope : rootScope)) scope = new Map(scope);
          (scope as Map<string, string>).set(prefix, a.value);
          if (prefix === '' && a.value === '') (scope as Map<string, string>).delete('');
        }
      }
      const open: OpenElement = { qname, rawAttrs, scope, children: [], line };
      if (selfClosing) {
        const done = finish(open, at);
        if (parent) parent.children.push(done);
        else root = done;
      } else {
        stack.push(open);
      }
    }
  }
  if (stack.length > 0) fail(`element <${stack[stack.length - 1]!.qname}> is not closed`, n);
  if (!root) fail('no root element', n);
  skipMisc();
  if (pos < n) fail('content after the root element');
  return root!;
}

/** Appends text, merging with a preceding text node (CDATA and references split text otherwise). */
function pushText(children: (XmlElement | string)[], s: string): void {
  if (s === '') return;
  const last = children.length - 1;
  if (last >= 0 && typeof children[last] === 'string') children[last] = (children[last] as string) + s;
  else children.push(s);
}
