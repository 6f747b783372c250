/**
 * Runtime XSD validation of wire documents with libxmljs2 (libxml2).
 *
 * libxml2 2.9.9 as vendored by libxmljs2 aborts the process on some entity documents, reads
 * local files with `noent`, and slows down quadratically on tens of thousands of attributes
 * or namespace declarations, so it only ever sees a document THE parser accepted first
 * (`screenAndParse` with the wire caps): `validateDocument` takes that tree, `validate`
 * makes it. libxml2 parses with entity substitution, DTD loading and network off.
 *
 * libxmljs2 compiles the XSD inside every validation, and the whole-catalogue XSD takes
 * about 2 ms to compile. A document carries one catalogue element (its body element, for
 * outbound messages and inbound notifications alike, or the
 * answer element in `w:Data`), so by default each document is validated against the XSD of
 * that element alone (`generateXsd(types, { only })`: same verdict for that document, about
 * five times faster), made on first use and kept. A document whose element the catalogue
 * does not know is validated against the committed whole XSD, which then names the problem.
 */
import { readFileSync } from 'node:fs';
import * as libxml from 'libxmljs2';
import type { FieldError } from '../errors/errors';
import { DavisError } from '../errors/errors';
import { screenAndParse, type ScreenLimits } from '../xml/screen';
import type { XmlDocument, XmlElement } from '../xml/parser';
import { WIRE_NS } from './envelope';
import { WIRE_XML_LIMITS } from './limits';
import { listTypes } from '../catalogue/catalogue';
import { generateXsd, xsdPath } from './xsd-generate';

/** A compiled wire XSD. */
export interface XsdValidator {
  /**
   * Validates one wire document against the XSD. Returns one error per libxml2 complaint
   * (empty when valid); each pointer is the XPath-like location of the element concerned
   * with its line in the input, e.g. `/w:Request/w:Body/w:ApplicationCreate/w:applicant/w:surname (line 1)`.
   * The document element must be w:Request or w:Response (the catalogue body elements are
   * global in the XSD too, but never a document on their own).
   *
   * @throws DavisError DAVIS_ERR_XML_DOCTYPE / _TOO_LARGE / _TOO_DEEP / _LIMIT / _MALFORMED
   *   from screening and parsing, DAVIS_ERR_XML_MALFORMED when libxml2 finds the document not
   *   well-formed.
   */
  validate(xml: string): FieldError[];
  /**
   * Validates a document THE parser has already accepted (`screenAndParse` with the wire
   * caps), as `validate` does; the tree also locates the errors, in one linear pass.
   *
   * @throws DavisError DAVIS_ERR_XML_MALFORMED when libxml2 finds the document not well-formed.
   */
  validateDocument(doc: XmlDocument): FieldError[];
}

/** Options of `createXsdValidator`. */
export interface XsdValidatorOptions {
  /**
   * XSD text to use instead of the committed `schemas/wire/davis-wire.xsd` (tests). Given,
   * every document is validated against it whole (no per-element XSDs).
   */
  readonly xsd?: string;
  /** Screening and parser caps of `validate`. @default WIRE_XML_LIMITS */
  readonly limits?: ScreenLimits;
}

/** Parser options for documents from outside: no entities, no DTD, no network. */
const SAFE_PARSE: libxml.ParserOptions = { noent: false, dtdload: false, dtdvalid: false, nonet: true, huge: false, noblanks: false, big_lines: true };

/**
 * Loads the wire XSD once (and checks that it compiles); the returned validator is reused
 * for every document. Note: libxmljs2 recompiles the parsed XSD inside each validation.
 *
 * @throws Error when the XSD file cannot be read or does not compile (a broken install).
 */
export function createXsdValidator(options: XsdValidatorOptions = {}): XsdValidator {
  const xsdText = options.xsd ?? readFileSync(xsdPath(), 'utf8');
  const xsdDoc = libxml.parseXml(xsdText, SAFE_PARSE);
  // libxmljs2 0.37 compiles the schema inside every validate() call (no cached-schema API),
  // so a broken XSD would only show at the first message: compile it once now to fail at start.
  try {
    libxml.parseXml(`<w:Response xmlns:w="${WIRE_NS}"/>`, SAFE_PARSE).validate(xsdDoc);
  } catch (err) {
    throw new Error(`the wire XSD does not compile: ${(err as Error).message}`, { cause: err });
  }
  const limits = options.limits ?? WIRE_XML_LIMITS;
  // Per-element XSDs (see the module comment), keyed by the element name; '' = no element.
  const known = options.xsd === undefined ? new Set(listTypes({ direction: 'all' }).flatMap((t) => [t.xmlName, ...(t.answer ? [t.answer.xmlName] : [])])) : new Set<string>();
  const subsets = new Map<string, libxml.Document>();
  const schemaFor = (root: XmlElement): libxml.Document => {
    if (options.xsd !== undefined) return xsdDoc;
    const holderName = root.localName === 'Request' ? 'Body' : 'Data';
    const holder = firstElement(root, (e) => e.namespaceURI === WIRE_NS && e.localName === holderName);
    const item = holder ? firstElement(holder, () => true) : undefined;
    const key = item?.namespaceURI === WIRE_NS ? item.localName : holder ? undefined : '';
    if (key === undefined || (key !== '' && !known.has(key))) return xsdDoc;
    let doc = subsets.get(key);
    if (!doc) {
      doc = libxml.parseXml(generateXsd(listTypes({ direction: 'all' }), { only: key }), SAFE_PARSE);
      subsets.set(key, doc);
    }
    return doc;
  };
  const validateDocument = (doc: XmlDocument): FieldError[] => {
    const root = doc.root;
    if (root.namespaceURI !== WIRE_NS || (root.localName !== 'Request' && root.localName !== 'Response')) {
      return [{ pointer: '/ (line 1)', message: `the document element must be {${WIRE_NS}}Request or Response` }];
    }
    const schema = schemaFor(root);
    const docEl = parseForLibxml(doc.source);
    if (docEl.validate(schema)) return [];
    // Validity is settled; locate the errors. libxml2 reports only the line of each
    // element, and our canonical documents are one line, so re-validate a copy with one
    // start tag per line and map each reported line back to its element.
    const located = locate(doc);
    const copy = parseForLibxml(located.text);
    if (copy.validate(schema)) {
      // Cannot happen (the copy differs only by ignorable white space); keep the original lines.
      return docEl.validationErrors.map((e) => ({ pointer: `/ (line ${e.line ?? 0})`, message: messageOf(e) }));
    }
    return copy.validationErrors.map((e) => {
      const at = located.byLine.get(e.line ?? 0);
      return { pointer: at ? `${at.path} (line ${at.line})` : `/ (line ${e.line ?? 0})`, message: messageOf(e) };
    });
  };
  return {
    validate: (xml: string): FieldError[] => validateDocument(screenAndParse(xml, limits)),
    validateDocument,
  };
}

/** The first element child of `el` that `test` accepts. */
function firstElement(el: XmlElement, test: (e: XmlElement) => boolean): XmlElement | undefined {
  for (const c of el.children) if (c.type === 'element' && test(c)) return c;
  return undefined;
}

/**
 * libxml2's message, with the offending VALUE replaced by "…": values are personal data
 * (names, document numbers) and these messages reach logs and central answers (STYLE 13).
 * Element names, facets and patterns stay, so the message still says what is wrong.
 */
function messageOf(e: Error): string {
  return (e.message || String(e))
    .trim()
    .replace(/The value '[\s\S]*?' (is|has) /g, "The value '…' $1 ")
    .replace(/^(Element '[^']*': )'[\s\S]*?' (is not a valid value)/, "$1'…' $2")
    .replace(/key-sequence \[[\s\S]*?\] in unique/g, 'key-sequence […] in unique');
}

function parseForLibxml(xml: string): libxml.Document {
  try {
    return libxml.parseXml(xml, SAFE_PARSE);
  } catch (err) {
    const e = err as { message?: string; line?: number };
    const line = e.line ?? 0;
    throw new DavisError('DAVIS_ERR_XML_MALFORMED', `line ${line}: ${(e.message ?? 'not well-formed').trim()}`, {
      cause: err,
      errors: [{ pointer: `line ${line}`, message: (e.message ?? 'not well-formed').trim() }],
    });
  }
}

interface LocatedElement {
  /** XPath-like path with prefixes as written and [n] for repeated siblings. */
  readonly path: string;
  /** Line of the start tag in the original document. */
  readonly line: number;
}

/**
 * Rewrites a parsed document's text so that every element start tag begins a new line (a
 * newline is inserted only where what precedes the tag is not character data, or is white
 * space, i.e. in element-only content, where XSD ignores it), and maps each line of the
 * rewritten text to the element whose start tag opens it. The tree gives every element's
 * offset, so this is one pass over the elements in document order and one forward pass
 * over the text for line numbers: linear. In mixed content (none in the wire profile)
 * elements may share a line, and the line's first element is named.
 */
function locate(doc: XmlDocument): { text: string; byLine: Map<number, LocatedElement> } {
  const src = doc.source;
  const parts: string[] = [];
  const byLine = new Map<number, LocatedElement>();
  let copied = 0;
  let inserted = 0;
  // Line counting moves forward only, as elements come in document order.
  let counted = 0;
  let line = 1;
  const lineOf = (at: number): number => {
    for (; counted < at; counted++) {
      const c = src.charCodeAt(counted);
      if (c === 0x0a || (c === 0x0d && src.charCodeAt(counted + 1) !== 0x0a)) line++;
    }
    return line;
  };
  const visit = (el: XmlElement, path: string, newline: boolean): void => {
    const original = lineOf(el.start);
    if (newline) {
      parts.push(src.slice(copied, el.start), '\n');
      copied = el.start;
      inserted++;
    }
    const outLine = original + inserted;
    if (!byLine.has(outLine)) byLine.set(outLine, { path, line: original });
    const counts = new Map<string, number>();
    let afterText = false;
    for (const c of el.children) {
      if (c.type === 'text') {
        afterText = !/^[ \t\r\n]*$/.test(c.value);
        continue;
      }
      if (c.type === 'element') {
        const n = (counts.get(c.qname) ?? 0) + 1;
        counts.set(c.qname, n);
        visit(c, `${path}/${c.qname}${n > 1 ? `[${n}]` : ''}`, !afterText);
      }
      afterText = false;
    }
  };
  visit(doc.root, `/${doc.root.qname}`, false);
  parts.push(src.slice(copied));
  return { text: parts.join(''), byLine };
}
