import { DavisError } from '../errors/errors';

/** Caps applied to every XML document that comes from outside, before any parser sees it. */
export interface ScreenLimits {
  /** Largest document accepted, in bytes (UTF-8). @default 8388608 (8 MiB: a message with a facial image, fingerprints and a document scan at their caps is about 6.1 MiB) */
  readonly maxBytes: number;
  /** Deepest element nesting accepted. @default 32 */
  readonly maxDepth: number;
}

export const DEFAULT_SCREEN_LIMITS: ScreenLimits = Object.freeze({ maxBytes: 8 * 1024 * 1024, maxDepth: 32 });

/**
 * Screens an XML document from outside: refuses DOCTYPE and ENTITY declarations
 * (the entity-expansion and external-entity attacks live there), caps size and nesting
 * depth. It does not parse; it scans markup boundaries, so it is cheap and cannot be
 * tricked by the features it refuses. Returns the document as a string.
 *
 * @throws DavisError DAVIS_ERR_XML_TOO_LARGE, DAVIS_ERR_XML_DOCTYPE, DAVIS_ERR_XML_TOO_DEEP,
 *   DAVIS_ERR_XML_MALFORMED
 */
export function screenXml(input: string | Buffer, limits: ScreenLimits = DEFAULT_SCREEN_LIMITS): string {
  const xml = screenDeclarations(input, limits);
  let depth = 0;
  let i = 0;
  const n = xml.length;
  while (i < n) {
    const lt = xml.indexOf('<', i);
    if (lt < 0) break;
    const next = xml.charCodeAt(lt + 1);
    if (next === 0x21 /* ! */) {
      if (xml.startsWith('<!--', lt)) {
        const end = xml.indexOf('-->', lt + 4);
        if (end < 0) throw new DavisError('DAVIS_ERR_XML_MALFORMED', 'unterminated comment');
        i = end + 3;
      } else if (xml.startsWith('<![CDATA[', lt)) {
        const end = xml.indexOf(']]>', lt + 9);
        if (end < 0) throw new DavisError('DAVIS_ERR_XML_MALFORMED', 'unterminated CDATA section');
        i = end + 3;
      } else {
        throw new DavisError('DAVIS_ERR_XML_MALFORMED', 'unexpected markup declaration');
      }
      continue;
    }
    if (next === 0x3f /* ? */) {
      const end = xml.indexOf('?>', lt + 2);
      if (end < 0) throw new DavisError('DAVIS_ERR_XML_MALFORMED', 'unterminated processing instruction');
      i = end + 2;
      continue;
    }
    const gt = findTagEnd(xml, lt + 1);
    if (gt < 0) throw new DavisError('DAVIS_ERR_XML_MALFORMED', 'unterminated tag');
    if (next === 0x2f /* / */) {
      depth--;
      if (depth < 0) throw new DavisError('DAVIS_ERR_XML_MALFORMED', 'unbalanced end tag');
    } else if (xml.charCodeAt(gt - 1) !== 0x2f) {
      depth++;
      if (depth > limits.maxDepth) {
        throw new DavisError('DAVIS_ERR_XML_TOO_DEEP', `XML nesting exceeds ${limits.maxDepth} levels`);
      }
    }
    i = gt + 1;
  }
  return xml;
}

const DECLARATION = /^<!\s*(DOCTYPE|ENTITY|ELEMENT|ATTLIST|NOTATION)/i;

/**
 * The part of {@link screenXml} that no parser can do safely for itself: the size cap and
 * the refusal of DOCTYPE and entity declarations. For the gateway's own parser
 * (`src/signing/xml-tree.ts`), which caps depth itself without recursion and knows no DTD,
 * this is the whole screen; every other parser gets the full {@link screenXml}.
 *
 * @throws DavisError DAVIS_ERR_XML_TOO_LARGE, DAVIS_ERR_XML_DOCTYPE
 */
export function screenDeclarations(input: string | Buffer, limits: ScreenLimits = DEFAULT_SCREEN_LIMITS): string {
  const bytes = typeof input === 'string' ? (input.length * 3 <= limits.maxBytes ? input.length : Buffer.byteLength(input, 'utf8')) : input.length;
  if (bytes > limits.maxBytes) {
    throw new DavisError('DAVIS_ERR_XML_TOO_LARGE', `XML document is ${bytes} bytes; the limit is ${limits.maxBytes}`);
  }
  let xml = typeof input === 'string' ? input : input.toString('utf8');
  if (xml.charCodeAt(0) === 0xfeff) xml = xml.slice(1);
  // Refuse the declarations anywhere, case-insensitively: a parser must never see them.
  // Only the (rare) places where `<!` occurs are examined.
  for (let at = xml.indexOf('<!'); at >= 0; at = xml.indexOf('<!', at + 2)) {
    if (DECLARATION.test(xml.slice(at, at + 64))) throw new DavisError('DAVIS_ERR_XML_DOCTYPE');
  }
  return xml;
}

/** Index of the `>` that closes the tag starting before `from`, skipping quoted attribute values. */
function findTagEnd(xml: string, from: number): number {
  // Fast path: no quote before the first `>` means no attribute value can hide one.
  const gt = xml.indexOf('>', from);
  if (gt < 0) return -1;
  const q1 = xml.indexOf('"', from);
  const q2 = xml.indexOf("'", from);
  if ((q1 < 0 || q1 > gt) && (q2 < 0 || q2 > gt)) return gt;
  let quote = 0;
  for (let j = from; j < xml.length; j++) {
    const c = xml.charCodeAt(j);
    if (quote) {
      if (c === quote) quote = 0;
    } else if (c === 0x22 || c === 0x27) {
      quote = c;
    } else if (c === 0x3e) {
      return j;
    }
  }
  return -1;
}
