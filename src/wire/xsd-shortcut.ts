/**
 * A sound shortcut in front of the wire XSD: `createXsdShortcut` walks a parsed wire
 * document (THE parser's tree) against the same compiled shapes (`compileShape`) the XSD is
 * generated from (`xsd-generate.ts`), and answers true only when libxml2 would find the
 * document valid against that XSD. Every other answer is "not sure": the caller then asks
 * libxml2 (`withXsdShortcut` does), so a refusal is always libxml2's own, with its messages.
 * libxmljs2 recompiles the XSD on every validation (about 1 ms for a 4 KB message); this walk
 * costs a few hundredths of that.
 *
 * Soundness is argued construct by construct against what the generator writes; wherever
 * XSD is more lenient than the walk needs to be (whitespace around dates, numbers and
 * booleans, `+1` or `007` for integers, comments and CDATA, an XML declaration, attributes
 * of the XML Schema instance namespace, base64 with stray characters), the walk says "not
 * sure" rather than re-implementing XSD:
 *
 * - the document: nothing but the document element (no XML declaration, comment, PI, CDATA
 *   section: no `<!` or `<?` anywhere), so libxml2 parses the same characters the tree holds;
 * - `w:Request` / `w:Response`: the one attribute `Id` (xs:ID, an ASCII NCName here), the
 *   header, body or result and data elements in the XSD's order, and at most a trailing
 *   element in the XML-DSig namespace (the XSD's lax wildcard). In it, every element is in the
 *   XML-DSig or Exclusive C14N namespace (neither is declared by the XSD, so lax validation
 *   finds no declaration to apply) and no attribute has a prefix (no `xsi:type`, `xsi:nil`,
 *   `xml:id`);
 * - an object: no attributes, only elements and whitespace between them; a sequence matched
 *   particle by particle in schema order (property names are distinct, so the match is
 *   deterministic): a required property once, an optional one at most once, an array
 *   between `minItems` and `maxItems` times (zero times when optional), a transliteration
 *   element (`<name>Transliterated`, w:IcaoTransliteration) at most once right after its
 *   property; a choice exactly one element of one member; `uniqueItems` arrays of simple
 *   values (the XSD's xs:unique) with no two equal values (compared in their XSD value
 *   space: `1` and `true` are one boolean);
 * - a simple value: no attributes, only text; xs:string by enumeration, pattern (the
 *   ECMAScript pattern the XSD pattern is translated from by `toXsdPattern`, which admits
 *   only constructs that mean the same in both dialects) and lengths in code points; dates
 *   `YYYY-MM-DD` that exist (year 0001 or later); base64 in canonical form (no white space,
 *   zero pad bits) with the XSD's length facets in octets; integers `-?(0|[1-9]…)` of at most
 *   15 digits within the bounds; doubles in JSON number form, not within 1e-9 of a bound;
 *   booleans `true`, `false`, `1`, `0`; header timestamps by their pattern and a real date and
 *   time of day (hours to 23, seconds to 59).
 *
 * test/wire/xsd-shortcut.test.ts checks, case by case, that every document it accepts is
 * accepted by libxmljs2 and by the system xmllint, on every example, the conformance
 * payloads and mutations of them.
 */
import { listTypes } from '../catalogue/catalogue';
import type { MessageTypeSpec } from '../catalogue/types';
import { EXC_C14N } from '../xml/c14n';
import type { XmlDocument, XmlElement } from '../xml/parser';
import { ICAO_TRANSLITERATION_MAX_LENGTH, ICAO_TRANSLITERATION_PATTERN, TRANSLITERATED_SUFFIX } from './icao-transliteration';
import { compileShape, type ArrayShape, type ObjectShape, type Shape, type StringShape } from './shape';
import {
  DSIG_NS,
  WIRE_CODE_PATTERN,
  WIRE_CREATED_PATTERN,
  WIRE_ID_PATTERN,
  WIRE_MAX_REASON,
  WIRE_MAX_REFERENCE,
  WIRE_NS,
  WIRE_SENDER_PATTERN,
} from './envelope';
import type { XsdValidator } from './xsd';
import { isCanonicalBase64 } from '../util/base64';

/** True only when the document is certainly valid against the wire XSD; false: ask libxml2. */
export type XsdShortcut = (doc: XmlDocument) => boolean;

/** Checks one element against its declaration. */
type ElementCheck = (el: XmlElement) => boolean;
/** Checks the text of a simple-typed element. */
type TextCheck = (text: string) => boolean;

const BLANK = /^[ \t\r\n]*$/;
/** An NCName in ASCII (xs:ID values: the wire's `m-<id>` and `r-<id>`). */
const ASCII_NCNAME = /^[A-Za-z_][A-Za-z0-9._-]*$/;
/** Names inside the signature: short ASCII names, which every XML parser takes alike. */
const PLAIN_NAME = /^[A-Za-z][A-Za-z0-9]{0,63}$/;

function isWire(el: XmlElement, localName: string): boolean {
  return el.localName === localName && el.namespaceURI === WIRE_NS;
}

/** The element children, or undefined when anything but elements and white space is there. */
function elementChildren(el: XmlElement): XmlElement[] | undefined {
  const out: XmlElement[] = [];
  for (const c of el.children) {
    if (c.type === 'element') out.push(c);
    else if (c.type !== 'text' || !BLANK.test(c.value)) return undefined;
  }
  return out;
}

/** The text of a simple-typed element, or undefined when it has attributes or element children. */
function simpleText(el: XmlElement): string | undefined {
  if (el.attributes.length > 0) return undefined;
  let text = '';
  for (const c of el.children) {
    if (c.type !== 'text') return undefined;
    text += c.value;
  }
  return text;
}

function simpleElement(check: TextCheck): ElementCheck {
  return (el) => {
    const text = simpleText(el);
    return text !== undefined && check(text);
  };
}

/** Length in Unicode code points, as XSD and JSON Schema count. */
function codePoints(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) n--;
  }
  return n;
}

function isLeap(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** A calendar date that exists, year 0001 to 9999. */
function realDate(y: number, m: number, d: number): boolean {
  if (y < 1 || m < 1 || m > 12 || d < 1) return false;
  return d <= (m === 2 && isLeap(y) ? 29 : MONTH_DAYS[m - 1]);
}

const DATE = /^([0-9]{4})-([0-9]{2})-([0-9]{2})$/;
const isDate: TextCheck = (t) => {
  const m = DATE.exec(t);
  return m !== null && realDate(Number(m[1]), Number(m[2]), Number(m[3]));
};

const CREATED_RE = new RegExp(WIRE_CREATED_PATTERN);
/** w:Timestamp: xs:dateTime restricted by the creation-time pattern. */
const isTimestamp: TextCheck = (t) => {
  if (!CREATED_RE.test(t)) return false;
  // The pattern fixes the positions: YYYY-MM-DDThh:mm:ss…Z.
  const n = (from: number, to: number): number => Number(t.slice(from, to));
  return realDate(n(0, 4), n(5, 7), n(8, 10)) && n(11, 13) <= 23 && n(14, 16) <= 59 && n(17, 19) <= 59;
};

const BASE64_CANONICAL = { test: isCanonicalBase64 };
/** Octets of canonical base64 (no white space, zero pad bits), or -1. */
function base64Octets(t: string): number {
  if (!BASE64_CANONICAL.test(t)) return -1;
  const pad = t.endsWith('==') ? 2 : t.endsWith('=') ? 1 : 0;
  return (t.length / 4) * 3 - pad;
}

function stringCheck(s: StringShape): TextCheck {
  if (s.format === 'date') return isDate;
  if (s.base64) {
    // The XSD's facets (xsd-generate.ts stringFacets): octets, from the JSON lengths in characters.
    const min = s.minLength !== undefined && s.minLength > 0 ? Math.max(0, 3 * Math.ceil(s.minLength / 4) - 2) : 0;
    const max = s.maxLength !== undefined ? 3 * Math.floor(s.maxLength / 4) : Infinity;
    return (t) => {
      const octets = base64Octets(t);
      return octets >= min && octets <= max;
    };
  }
  const values = s.enum ? new Set(s.enum) : undefined;
  const pattern = s.pattern !== undefined ? new RegExp(s.pattern, 'u') : undefined;
  const min = s.minLength ?? 0;
  const max = s.maxLength;
  const counted = min > 0 || max !== undefined;
  return (t) => {
    if (values && !values.has(t)) return false;
    if (pattern && !pattern.test(t)) return false;
    if (counted) {
      const n = codePoints(t);
      if (n < min || (max !== undefined && n > max)) return false;
    }
    return true;
  };
}

const INTEGER = /^-?(?:0|[1-9][0-9]{0,14})$/;
const JSON_NUMBER = /^-?(?:0|[1-9][0-9]{0,20})(?:\.[0-9]{1,20})?(?:[eE][+-]?[0-9]{1,3})?$/;

/** Not within 1e-9 (relative) of a bound: the comparison cannot depend on how either side rounds. */
function clearOf(v: number, bound: number): boolean {
  return Math.abs(v - bound) > 1e-9 * Math.max(1, Math.abs(bound));
}

function valueCheck(shape: Exclude<Shape, ObjectShape | ArrayShape>): TextCheck {
  switch (shape.kind) {
    case 'string':
      return stringCheck(shape);
    case 'boolean':
      return (t) => t === 'true' || t === 'false' || t === '1' || t === '0';
    case 'integer':
      return (t) => {
        if (!INTEGER.test(t)) return false;
        const v = Number(t);
        return v >= shape.minimum && v <= shape.maximum;
      };
    case 'number':
      return (t) => {
        if (!JSON_NUMBER.test(t)) return false;
        const v = Number(t);
        if (!Number.isFinite(v) || Math.abs(v) > 1e300) return false;
        const { minimum: lo, maximum: hi, exclusiveMinimum: xlo, exclusiveMaximum: xhi } = shape;
        return (lo === undefined || (clearOf(v, lo) && v > lo)) && (hi === undefined || (clearOf(v, hi) && v < hi)) &&
          (xlo === undefined || (clearOf(v, xlo) && v > xlo)) && (xhi === undefined || (clearOf(v, xhi) && v < xhi));
      };
  }
}

/** The XSD value of a simple item, for xs:unique: equal keys for equal values. */
function uniqueKey(shape: Shape): (t: string) => string {
  if (shape.kind === 'boolean') return (t) => (t === '1' || t === 'true' ? 'true' : 'false');
  if (shape.kind === 'integer' || shape.kind === 'number') return (t) => String(Number(t));
  // Strings compare as written; dates and base64 are accepted in one lexical form per value.
  return (t) => t;
}

interface Particle {
  readonly name: string;
  readonly required: boolean;
  /** Occurrences allowed when present: 1..1 for a single value, minItems..maxItems for an array. */
  readonly min: number;
  readonly max: number;
  readonly check: ElementCheck;
  readonly transliterated: boolean;
  /** For `uniqueItems` arrays of simple values: the XSD value of an item. */
  readonly unique?: (t: string) => string;
}

const isTransliteration = simpleElement(stringCheck({ kind: 'string', base64: false, pattern: ICAO_TRANSLITERATION_PATTERN, maxLength: ICAO_TRANSLITERATION_MAX_LENGTH }));

/** Compiles element checks from shapes, once per shape object. */
class Compiler {
  private readonly done = new Map<Shape, ElementCheck>();

  element(shape: Shape): ElementCheck {
    let check = this.done.get(shape);
    if (!check) {
      // An array is never an element's own shape (its items are); compileShape has no recursion.
      check = shape.kind === 'object' ? this.object(shape) : shape.kind === 'array' ? () => false : simpleElement(valueCheck(shape));
      this.done.set(shape, check);
    }
    return check;
  }

  private object(shape: ObjectShape): ElementCheck {
    const particles: Particle[] = shape.props.map((p) => {
      const a = p.shape.kind === 'array' ? p.shape : undefined;
      const item = a ? a.item : p.shape;
      return {
        name: p.name,
        required: p.required,
        min: a ? a.minItems : 1,
        max: a ? (a.maxItems ?? Infinity) : 1,
        check: this.element(item),
        transliterated: p.transliterated === true,
        ...(a?.uniqueItems && item.kind !== 'object' ? { unique: uniqueKey(item) } : {}),
      };
    });
    if (shape.choice) {
      // Choice members are single values (compileShape refuses arrays and transliteration there).
      const byName = new Map(particles.map((p) => [p.name, p]));
      return (el) => {
        if (el.attributes.length > 0) return false;
        const kids = elementChildren(el);
        if (kids?.length !== 1 || kids[0].namespaceURI !== WIRE_NS) return false;
        return byName.get(kids[0].localName)?.check(kids[0]) === true;
      };
    }
    return (el) => {
      if (el.attributes.length > 0) return false;
      const kids = elementChildren(el);
      if (!kids) return false;
      let i = 0;
      for (const p of particles) {
        const first = i;
        while (i < kids.length && i - first < p.max && isWire(kids[i], p.name)) {
          if (!p.check(kids[i])) return false;
          i++;
        }
        const k = i - first;
        if (k === 0 ? p.required : k < p.min) return false;
        if (p.unique && k > 1) {
          const seen = new Set<string>();
          for (let j = first; j < i; j++) {
            const key = p.unique(simpleText(kids[j]) ?? '');
            if (seen.has(key)) return false;
            seen.add(key);
          }
        }
        if (p.transliterated && i < kids.length && isWire(kids[i], p.name + TRANSLITERATED_SUFFIX)) {
          if (!isTransliteration(kids[i])) return false;
          i++;
        }
      }
      return i === kids.length;
    };
  }
}

/** Inside the lax wildcard: elements of namespaces the XSD does not declare, unprefixed attributes only. */
function signatureSubtree(el: XmlElement): boolean {
  if ((el.namespaceURI !== DSIG_NS && el.namespaceURI !== EXC_C14N) || !PLAIN_NAME.test(el.localName)) return false;
  for (const a of el.attributes) if (a.prefix !== '' || !PLAIN_NAME.test(a.localName)) return false;
  for (const c of el.children) if (c.type === 'element' && !signatureSubtree(c)) return false;
  return true;
}

/** Named wire children in order, each once, the optional ones (third member true) possibly absent. */
type Parts = readonly (readonly [name: string, check: ElementCheck, optional?: boolean])[];

/** How many of `kids` the parts match from the start, or -1 when one fails its check or a required one is missing. */
function matchParts(kids: readonly XmlElement[], parts: Parts): number {
  let i = 0;
  for (const [name, check, optional] of parts) {
    if (i < kids.length && isWire(kids[i], name)) {
      if (!check(kids[i])) return -1;
      i++;
    } else if (!optional) {
      return -1;
    }
  }
  return i;
}

/** A complex element with exactly `parts` as its content. */
function sequenceOf(el: XmlElement, parts: Parts): boolean {
  if (el.attributes.length > 0) return false;
  const kids = elementChildren(el);
  if (!kids) return false;
  return matchParts(kids, parts) === kids.length;
}

/** The only attribute is `Id`, an xs:ID. */
function idOnly(root: XmlElement): boolean {
  return root.attributes.length === 1 && root.attributes[0].qname === 'Id' && ASCII_NCNAME.test(root.attributes[0].value);
}

/**
 * The shortcut for documents of `types` (default: the whole catalogue, outbound and inbound,
 * the XSD `generateXsd` writes for them).
 */
export function createXsdShortcut(types: readonly MessageTypeSpec[] = listTypes({ direction: 'all' })): XsdShortcut {
  const compiler = new Compiler();
  const bodies = new Map(types.map((t) => [t.xmlName, compiler.element(compileShape(t.schema))]));
  const answers = new Map(types.flatMap((t) => (t.answer ? [[t.answer.xmlName, compiler.element(compileShape(t.answer.schema))] as const] : [])));
  const typeIds = new Set(types.map((t) => t.id));
  const str = (pattern: string | undefined, minLength?: number, maxLength?: number): ElementCheck =>
    simpleElement(stringCheck({ kind: 'string', base64: false, ...(pattern !== undefined ? { pattern } : {}), ...(minLength !== undefined ? { minLength } : {}), ...(maxLength !== undefined ? { maxLength } : {}) }));
  const messageId = str(WIRE_ID_PATTERN);
  const timestamp = simpleElement(isTimestamp);
  const oneOf = (checks: ReadonlyMap<string, ElementCheck>): ElementCheck => (el) => {
    if (el.attributes.length > 0) return false;
    const kids = elementChildren(el);
    if (kids?.length !== 1 || kids[0].namespaceURI !== WIRE_NS) return false;
    return checks.get(kids[0].localName)?.(kids[0]) === true;
  };
  const requestHeader: Parts = [
    ['MessageId', messageId],
    ['MessageType', simpleElement((t) => typeIds.has(t))],
    ['Sender', str(WIRE_SENDER_PATTERN)],
    ['Created', timestamp],
  ];
  const responseHeader: Parts = [['MessageId', messageId], ['InReplyTo', messageId], ['Created', timestamp]];
  const result: Parts = [
    ['Outcome', simpleElement((t) => t === 'ACCEPTED' || t === 'REJECTED')],
    ['Code', str(WIRE_CODE_PATTERN)],
    ['CentralReference', str(undefined, 1, WIRE_MAX_REFERENCE), true],
    ['Reason', str(undefined, 1, WIRE_MAX_REASON), true],
  ];
  const request: Parts = [['Header', (el) => sequenceOf(el, requestHeader)], ['Body', oneOf(bodies)]];
  // The XSD declares w:Data only when some type has answer data.
  const response: Parts = [['Header', (el) => sequenceOf(el, responseHeader)], ['Result', (el) => sequenceOf(el, result)], ...(answers.size > 0 ? [['Data', oneOf(answers), true] as const] : [])];

  /** The document element: `Id`, its parts in order, then at most one element of the lax XML-DSig wildcard. */
  const envelope = (root: XmlElement, parts: Parts): boolean => {
    if (!idOnly(root)) return false;
    const kids = elementChildren(root);
    if (!kids) return false;
    const i = matchParts(kids, parts);
    if (i < 0) return false;
    return i === kids.length || (i === kids.length - 1 && kids[i].namespaceURI === DSIG_NS && signatureSubtree(kids[i]));
  };

  return (doc) => {
    const root = doc.root;
    const src = doc.source;
    if (doc.children.length !== 1 || root.start !== 0 || src.includes('<!') || src.includes('<?')) return false;
    if (root.namespaceURI !== WIRE_NS) return false;
    try {
      if (root.localName === 'Request') return envelope(root, request);
      if (root.localName === 'Response') return envelope(root, response);
    } catch {
      // Not sure (cannot happen on a tree THE parser built): libxml2 decides.
    }
    return false;
  };
}

/**
 * `xsd` with the shortcut in front of `validateDocument`: a document the shortcut is sure of
 * is valid (no libxml2), any other is validated by `xsd` as before, with its errors.
 * `validate(text)` is `xsd`'s own (it screens and parses with the caps `xsd` was made with).
 * Pass the `types` `xsd` was generated from when it is not the committed whole-catalogue XSD.
 */
export function withXsdShortcut(xsd: XsdValidator, types?: readonly MessageTypeSpec[]): XsdValidator {
  const sure = createXsdShortcut(types);
  return {
    validate: (xml) => xsd.validate(xml),
    validateDocument: (doc) => (sure(doc) ? [] : xsd.validateDocument(doc)),
  };
}
