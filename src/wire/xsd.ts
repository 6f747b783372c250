/**
 * Runtime XSD validation of wire documents with libxmljs2 (libxml2).
 *
 * libxml2 2.9.9 as vendored by libxmljs2 aborts the process on some entity documents and
 * reads local files with `noent`, so it only ever sees SCREENED XML: `validate` screens
 * first (wire limits), and parses with entity substitution, DTD loading and network off.
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
import { screenXml, type ScreenLimits } from '../xml/screen';
import { WIRE_NS, WIRE_SCREEN_LIMITS } from './envelope';
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
   * @throws DavisError DAVIS_ERR_XML_DOCTYPE / _TOO_LARGE / _TOO_DEEP / _MALFORMED from
   *   screening, DAVIS_ERR_XML_MALFORMED when libxml2 finds the document not well-formed.
   */
  validate(xml: string): FieldError[];
}

/** Options of `createXsdValidator`. */
export interface XsdValidatorOptions {
  /**
   * XSD text to use instead of the committed `schemas/wire/davis-wire.xsd` (tests). Given,
   * every document is validated against it whole (no per-element XSDs).
   */
  readonly xsd?: string;
  /** Screening limits. @default WIRE_SCREEN_LIMITS (8 MiB, depth 32) */
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
  const limits = options.limits ?? WIRE_SCREEN_LIMITS;
  // Per-element XSDs (see the module comment), keyed by the element name; '' = no element.
  const known = options.xsd === undefined ? new Set(listTypes({ direction: 'all' }).flatMap((t) => [t.xmlName, ...(t.answer ? [t.answer.xmlName] : [])])) : new Set<string>();
  const subsets = new Map<string, libxml.Document>();
  const schemaFor = (root: libxml.Element): libxml.Document => {
    if (options.xsd !== undefined) return xsdDoc;
    const holder = root.name() === 'Request' ? 'Body' : 'Data';
    // libxmljs2 answers undefined or null for "not found", depending on the version.
    const item = (root.get(`w:${holder}/*`, { w: WIRE_NS }) ?? undefined) as libxml.Element | undefined;
    const hasHolder = (root.get(`w:${holder}`, { w: WIRE_NS }) ?? undefined) !== undefined;
    const key = item !== undefined && item.namespace()?.href() === WIRE_NS ? item.name() : hasHolder ? undefined : '';
    if (key === undefined || (key !== '' && !known.has(key))) return xsdDoc;
    let doc = subsets.get(key);
    if (!doc) {
      doc = libxml.parseXml(generateXsd(listTypes({ direction: 'all' }), { only: key }), SAFE_PARSE);
      subsets.set(key, doc);
    }
    return doc;
  };
  return {
    validate(xml: string): FieldError[] {
      const screened = screenXml(xml, limits);
      const docEl = parseForLibxml(screened);
      const root = docEl.root();
      if (!root || root.namespace()?.href() !== WIRE_NS || (root.name() !== 'Request' && root.name() !== 'Response')) {
        return [{ pointer: '/ (line 1)', message: `the document element must be {${WIRE_NS}}Request or Response` }];
      }
      const schema = schemaFor(root);
      if (docEl.validate(schema)) return [];
      // Validity is settled; locate the errors. libxml2 reports only the line of each
      // element, and our canonical documents are one line, so re-validate a copy with one
      // start tag per line and map each reported line back to its element.
      const located = locate(screened);
      const copy = parseForLibxml(located.text);
      if (copy.validate(schema)) {
        // Cannot happen (the copy differs only by ignorable white space); keep the original lines.
        return docEl.validationErrors.map((e) => ({ pointer: `/ (line ${e.line ?? 0})`, message: messageOf(e) }));
      }
      return copy.validationErrors.map((e) => {
        const at = located.byLine.get(e.line ?? 0);
        return { pointer: at ? `${at.path} (line ${at.line})` : `/ (line ${e.line ?? 0})`, message: messageOf(e) };
      });
    },
  };
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
 * Rewrites a screened document so that every element start tag begins a new line (a newline
 * is inserted only where the text before the tag is white space, i.e. in element-only
 * content, where XSD ignores it), and maps each line of the rewritten text to the element
 * whose start tag opens it. Comments, CDATA and processing instructions are skipped over,
 * never split; in mixed content (none in the wire profile) elements may share a line, and
 * the line's first element is named.
 */
function locate(xml: string): { text: string; byLine: Map<number, LocatedElement> } {
  const parts: string[] = [];
  const byLine = new Map<number, LocatedElement>();
  const stack: { path: string; counts: Map<string, number> }[] = [];
  const top = new Map<string, number>();
  let line = 1; // line in the original at position i
  let inserted = 0; // newlines inserted so far
  let copied = 0;
  let lastTagEnd = 0; // end of the previous markup, or -1 when text (CDATA) came after it
  let first = true;
  let i = 0;
  const advance = (to: number): void => {
    for (let j = xml.indexOf('\n', i); j !== -1 && j < to; j = xml.indexOf('\n', j + 1)) line++;
    i = to;
  };
  while (i < xml.length) {
    const lt = xml.indexOf('<', i);
    if (lt < 0) break;
    advance(lt);
    if (xml.startsWith('<!--', i)) {
      advance(xml.indexOf('-->', i + 4) + 3);
      lastTagEnd = i;
      continue;
    }
    if (xml.startsWith('<![CDATA[', i)) {
      advance(xml.indexOf(']]>', i + 9) + 3);
      lastTagEnd = -1;
      continue;
    }
    if (xml.startsWith('<?', i)) {
      advance(xml.indexOf('?>', i + 2) + 2);
      lastTagEnd = i;
      continue;
    }
    const gt = tagEnd(xml, i + 1);
    const tag = xml.slice(i, gt + 1);
    if (tag.startsWith('</')) {
      stack.pop();
    } else {
      const qname = /^<([^\s/>]+)/.exec(tag)![1]!;
      const parent = stack[stack.length - 1];
      const counts = parent ? parent.counts : top;
      const n = (counts.get(qname) ?? 0) + 1;
      counts.set(qname, n);
      const path = `${parent ? parent.path : ''}/${qname}${n > 1 ? `[${n}]` : ''}`;
      if (!first && lastTagEnd >= 0 && /^[ \t\r\n]*$/.test(xml.slice(lastTagEnd, i))) {
        parts.push(xml.slice(copied, i), '\n');
        copied = i;
        inserted++;
      }
      first = false;
      const outLine = line + inserted;
      if (!byLine.has(outLine)) byLine.set(outLine, { path, line });
      if (!tag.endsWith('/>')) stack.push({ path, counts: new Map() });
    }
    advance(gt + 1);
    lastTagEnd = i;
  }
  parts.push(xml.slice(copied));
  return { text: parts.join(''), byLine };
}

/** Index of the `>` closing the tag that starts before `from`, skipping quoted attribute values. */
function tagEnd(xml: string, from: number): number {
  let quote = '';
  for (let j = from; j < xml.length; j++) {
    const c = xml[j]!;
    if (quote) {
      if (c === quote) quote = '';
    } else if (c === '"' || c === "'") {
      quote = c;
    } else if (c === '>') {
      return j;
    }
  }
  return xml.length - 1;
}
