/**
 * The wire documents (request and response) of the DAVIS wire profile, namespace
 * `urn:davis-gateway:wire:1`: their builders and the readers of their envelopes.
 *
 * Builders write Exclusive XML Canonical form directly (no XML declaration, no whitespace
 * between elements, the one namespace declaration on the root, C14N escaping, start/end tag
 * pairs), so the signer digests the builder's bytes without re-parsing or canonicalising.
 * The signature (`ds:Signature`) is appended by the signing module as the root's last child.
 *
 * Readers walk the tree of THE XML parser (`src/xml/parser.ts`): `requestFromDocument` and
 * `responseFromDocument` take an already parsed (and, by `read-wire.ts`, verified) document,
 * so what is mapped is what was verified; `parseRequestXml`/`parseResponseXml` screen and
 * parse text first, for callers that verify nothing (the gateway's own journaled XML).
 */
import { DavisError } from '../errors/errors';
import { getType, getTypeByAnswerXmlName } from '../catalogue/catalogue';
import type { MessageTypeSpec } from '../catalogue/types';
import { screenAndParse } from '../xml/screen';
import type { XmlDocument, XmlElement } from '../xml/parser';
import type { CentralAnswer, WireHeader } from './types';
import { WIRE_XML_LIMITS } from './limits';
import { mappingError } from './mapping-error';
import { payloadToXml, xmlToPayload } from './payload-codec';
import { compileShape } from './shape';
import { escapeCanonicalAttr, escapeCanonicalText } from './wire-text';

/** Namespace URI of every wire element. */
export const WIRE_NS = 'urn:davis-gateway:wire:1';
/** The prefix the builders use for `WIRE_NS` (readers accept any prefix or a default namespace). */
export const WIRE_PREFIX = 'w';
/** XML-DSig namespace: a `ds:Signature` may be the last child of the root. */
export const DSIG_NS = 'http://www.w3.org/2000/09/xmldsig#';

/** The wire caps (see `WIRE_XML_LIMITS` in `limits.ts`, where each value is argued). */
export const WIRE_SCREEN_LIMITS = WIRE_XML_LIMITS;

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
/** The outcomes an answer may carry. */
const RESULTS = ['ACCEPTED', 'REJECTED'] as const;

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
  return requestFromDocument(screenAndParse(xml, WIRE_XML_LIMITS));
}

/**
 * Reads the request in a parsed document, as `parseRequestXml` does with text: the envelope
 * checks, then the body mapped from this very tree.
 *
 * @throws DavisError DAVIS_ERR_CATALOGUE_UNKNOWN_TYPE; DAVIS_ERR_WIRE_MAPPING with an
 *   XPath-like pointer.
 */
export function requestFromDocument(doc: XmlDocument): { header: WireHeader; payload: unknown } {
  const root = doc.root;
  const rootPath = `/${root.qname}`;
  if (root.namespaceURI !== WIRE_NS || root.localName !== 'Request') throw mappingError(rootPath, `expected {${WIRE_NS}}Request`);
  const id = onlyIdAttribute(root, rootPath);
  const { required: [headerEl, bodyEl] } = envelopeChildren(root, rootPath, ['Header', 'Body']);
  const h = readFields(headerEl, `${rootPath}/${headerEl.qname}`, ['MessageId', 'MessageType', 'Sender', 'Created']);
  const header: WireHeader = { messageId: h.MessageId, type: h.MessageType, sender: h.Sender, created: h.Created };
  if (id !== `m-${header.messageId}`) throw mappingError(`${rootPath}/@Id`, 'Id must be "m-" followed by the MessageId');
  const spec = getType(header.type);
  if (!spec) {
    throw new DavisError('DAVIS_ERR_CATALOGUE_UNKNOWN_TYPE', `unknown message type ${header.type}`, {
      errors: [{ pointer: `${rootPath}/${headerEl.qname}/MessageType`, message: 'not a catalogue type' }],
    });
  }
  const senderProblem = senderMismatch(spec, header.sender);
  if (senderProblem) {
    const prefix = headerEl.qname.includes(':') ? `${headerEl.qname.split(':')[0]}:` : '';
    throw mappingError(`${rootPath}/${headerEl.qname}/${prefix}Sender`, senderProblem);
  }
  const bodyPath = `${rootPath}/${bodyEl.qname}`;
  rejectAttributes(bodyEl, bodyPath);
  const items = elementChildren(bodyEl, bodyPath);
  if (items.length !== 1) throw mappingError(bodyPath, 'the body holds exactly one message element');
  const msg = items[0];
  const msgPath = `${bodyPath}/${msg.qname}`;
  if (msg.namespaceURI !== WIRE_NS || msg.localName !== spec.xmlName) {
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
  // The type says so, but the answer may come from a caller that is not type-checked.
  if (!(RESULTS as readonly string[]).includes(answer.result)) throw mappingError('/result', 'must be ACCEPTED or REJECTED');
  if (answer.centralReference !== undefined && !(answer.centralReference.length >= 1 && Array.from(answer.centralReference).length <= WIRE_MAX_REFERENCE)) {
    throw mappingError('/centralReference', `must be 1-${WIRE_MAX_REFERENCE} characters`);
  }
  if (answer.reason !== undefined && !(answer.reason.length >= 1 && Array.from(answer.reason).length <= WIRE_MAX_REASON)) {
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
function dataXml(data: unknown): string {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) throw mappingError('/data', 'must be an object');
  const answerTo = (data as Readonly<Record<string, unknown>>).answerTo;
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
  return responseFromDocument(screenAndParse(xml, WIRE_XML_LIMITS));
}

/**
 * Reads the answer in a parsed document, as `parseResponseXml` does with text.
 *
 * @throws DavisError DAVIS_ERR_WIRE_MAPPING with an XPath-like pointer.
 */
export function responseFromDocument(doc: XmlDocument): CentralAnswer {
  const root = doc.root;
  const rootPath = `/${root.qname}`;
  if (root.namespaceURI !== WIRE_NS || root.localName !== 'Response') throw mappingError(rootPath, `expected {${WIRE_NS}}Response`);
  const id = onlyIdAttribute(root, rootPath);
  const { required: [headerEl, resultEl], optional: [dataEl] } = envelopeChildren(root, rootPath, ['Header', 'Result'], ['Data']);
  const h = readFields(headerEl, `${rootPath}/${headerEl.qname}`, ['MessageId', 'InReplyTo', 'Created']);
  const r = readFields(resultEl, `${rootPath}/${resultEl.qname}`, ['Outcome', 'Code'], ['CentralReference', 'Reason']);
  if (id !== `r-${h.MessageId}`) throw mappingError(`${rootPath}/@Id`, 'Id must be "r-" followed by the MessageId');
  if (r.Outcome !== 'ACCEPTED' && r.Outcome !== 'REJECTED') {
    throw mappingError(`${rootPath}/${resultEl.qname}/Outcome`, 'must be ACCEPTED or REJECTED');
  }
  const answer: { -readonly [K in keyof CentralAnswer]: CentralAnswer[K] } = {
    responseId: h.MessageId,
    inReplyTo: h.InReplyTo,
    result: r.Outcome,
    code: r.Code,
    created: h.Created,
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
  const item = items[0];
  const itemPath = `${path}/${item.qname}`;
  const spec = item.namespaceURI === WIRE_NS ? getTypeByAnswerXmlName(item.localName) : undefined;
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
  for (const a of root.attributes) {
    if (a.namespaceURI === '' && a.localName === 'Id') id = a.value;
    else throw mappingError(`${path}/@${a.qname}`, 'attribute not allowed');
  }
  if (id === undefined) throw mappingError(`${path}/@Id`, 'missing Id attribute');
  return id;
}

/**
 * The root's wire children: `names` in order, then each of `optional` (in order) when
 * present, then optionally one trailing ds:Signature. Absent optional ones are `undefined`.
 */
function envelopeChildren(
  root: XmlElement, path: string, names: readonly string[], optional: readonly string[] = [],
): { required: XmlElement[]; optional: (XmlElement | undefined)[] } {
  const kids = elementChildren(root, path);
  const out: XmlElement[] = [];
  const outOptional: (XmlElement | undefined)[] = [];
  let i = 0;
  for (const name of names) {
    const k = kids.at(i);
    if (k?.namespaceURI !== WIRE_NS || k.localName !== name) {
      throw mappingError(k ? `${path}/${k.qname}` : path, `expected {${WIRE_NS}}${name}${k ? '' : ' (missing)'}`);
    }
    out.push(k);
    i++;
  }
  for (const name of optional) {
    const k = kids.at(i);
    if (k?.namespaceURI === WIRE_NS && k.localName === name) {
      outOptional.push(k);
      i++;
    } else {
      outOptional.push(undefined);
    }
  }
  const rest = kids.slice(i);
  if (rest.length > 1 || (rest.length === 1 && !(rest[0].namespaceURI === DSIG_NS && rest[0].localName === 'Signature'))) {
    throw mappingError(`${path}/${rest[0].qname}`, 'only one ds:Signature may follow');
  }
  return { required: out, optional: outOptional };
}

function elementChildren(parent: XmlElement, path: string): XmlElement[] {
  const out: XmlElement[] = [];
  for (const c of parent.children) {
    if (c.type === 'element') out.push(c);
    else if (c.type === 'text' && !/^[ \t\r\n]*$/.test(c.value)) throw mappingError(path, 'text is not allowed here');
  }
  return out;
}

function rejectAttributes(e: XmlElement, path: string): void {
  if (e.attributes.length > 0) throw mappingError(`${path}/@${e.attributes[0].qname}`, 'attribute not allowed');
}

/** Reads a sequence of simple text children: `required` in order, then `optional` in order. */
function readFields<R extends string, O extends string = never>(
  parent: XmlElement, path: string, required: readonly R[], optional: readonly O[] = [],
): Record<R, string> & Partial<Record<O, string>> {
  rejectAttributes(parent, path);
  const kids = elementChildren(parent, path);
  const out: Partial<Record<string, string>> = {};
  let i = 0;
  for (const name of [...required, ...optional]) {
    const k = kids.at(i);
    if (k?.namespaceURI === WIRE_NS && k.localName === name) {
      const kPath = `${path}/${k.qname}`;
      rejectAttributes(k, kPath);
      let text = '';
      for (const c of k.children) {
        if (c.type === 'element') throw mappingError(`${kPath}/${c.qname}`, 'element not allowed in a simple value');
        if (c.type === 'text') text += c.value;
      }
      out[name] = text;
      i++;
    } else if ((required as readonly string[]).includes(name)) {
      throw mappingError(k ? `${path}/${k.qname}` : path, `expected {${WIRE_NS}}${name}`);
    }
  }
  if (i < kids.length) throw mappingError(`${path}/${kids[i].qname}`, 'element not expected here');
  // Every required name was found or the loop threw.
  return out as Record<R, string> & Partial<Record<O, string>>;
}
