/**
 * The screen every XML document from outside passes before anything reads it: the byte cap
 * and the refusal of DTD declarations (entity expansion and external entities live there),
 * then THE parser (`parseXml`) with its structural caps. One linear pass each; the tree it
 * returns is the one the caller acts on, and only a document it accepted may be handed to
 * another XML library (libxml2 for XSD validation).
 */
import { DavisError } from '../errors/errors';
import { parseXml, type ParseOptions, type XmlDocument } from './parser';

/** Caps applied to every XML document that comes from outside, before and while it is parsed. */
export interface ScreenLimits extends ParseOptions {
  /** Largest document accepted, in bytes (UTF-8). @default 8388608 (8 MiB: a message with a facial image, fingerprints and a document scan at their caps is about 6.1 MiB) */
  readonly maxBytes: number;
  /** Deepest element nesting accepted. @default 32 */
  readonly maxDepth: number;
}

/** Screening limits for XML that is not wire XML; the other parser caps keep `DEFAULT_PARSE_LIMITS`. */
export const DEFAULT_SCREEN_LIMITS: ScreenLimits = Object.freeze({ maxBytes: 8 * 1024 * 1024, maxDepth: 32 });

/**
 * Screens and parses an XML document from outside: the size cap, the refusal of DOCTYPE and
 * ENTITY declarations, then `parseXml` with the caps in `limits`. Returns the tree; read
 * everything from it rather than parsing the text again.
 *
 * @throws DavisError DAVIS_ERR_XML_TOO_LARGE, DAVIS_ERR_XML_DOCTYPE, DAVIS_ERR_XML_TOO_DEEP,
 *   DAVIS_ERR_XML_LIMIT, DAVIS_ERR_XML_MALFORMED
 */
export function screenAndParse(input: string | Buffer, limits: ScreenLimits = DEFAULT_SCREEN_LIMITS): XmlDocument {
  return parseXml(screenDeclarations(input, limits), limits);
}

/**
 * Screens an XML document from outside (see `screenAndParse`) and returns its text, for a
 * caller that only needs the verdict before handing the text on. Prefer `screenAndParse`
 * when the content is read afterwards.
 *
 * @throws DavisError as `screenAndParse`
 */
export function screenXml(input: string | Buffer, limits: ScreenLimits = DEFAULT_SCREEN_LIMITS): string {
  return screenAndParse(input, limits).source;
}

// Bytes that are not UTF-8 are refused, never patched with U+FFFD (a name would change silently).
const UTF8_DECODER = new TextDecoder('utf-8', { fatal: true });

function decodeUtf8(bytes: Buffer): string {
  try {
    return UTF8_DECODER.decode(bytes);
  } catch {
    throw new DavisError('DAVIS_ERR_XML_MALFORMED', 'the document is not valid UTF-8');
  }
}

const DECLARATION = /^<!\s*(DOCTYPE|ENTITY|ELEMENT|ATTLIST|NOTATION)/i;

/**
 * The part of the screen that comes before any parser: the size cap and the refusal of
 * DOCTYPE and entity declarations anywhere in the text (inside comments and CDATA too: a
 * parser must never be the one to decide). Returns the document as a string, without a
 * leading byte order mark.
 *
 * @throws DavisError DAVIS_ERR_XML_TOO_LARGE, DAVIS_ERR_XML_DOCTYPE
 */
export function screenDeclarations(input: string | Buffer, limits: Pick<ScreenLimits, 'maxBytes'> = DEFAULT_SCREEN_LIMITS): string {
  const bytes = typeof input === 'string' ? (input.length * 3 <= limits.maxBytes ? input.length : Buffer.byteLength(input, 'utf8')) : input.length;
  if (bytes > limits.maxBytes) {
    throw new DavisError('DAVIS_ERR_XML_TOO_LARGE', `XML document is ${bytes} bytes; the limit is ${limits.maxBytes}`);
  }
  let xml = typeof input === 'string' ? input : decodeUtf8(input);
  if (xml.charCodeAt(0) === 0xfeff) xml = xml.slice(1);
  // Only the (rare) places where `<!` occurs are examined, each over a bounded window.
  for (let at = xml.indexOf('<!'); at >= 0; at = xml.indexOf('<!', at + 2)) {
    if (DECLARATION.test(xml.slice(at, at + 64))) throw new DavisError('DAVIS_ERR_XML_DOCTYPE');
  }
  return xml;
}
