/**
 * Generates `schemas/wire/davis-wire.xsd` from the catalogue: the envelope (Request,
 * Response) is fixed here; every catalogue type, outbound and inbound (central's
 * notifications travel in the same w:Request), contributes one global body element, and one
 * answer element (allowed in the response's `w:Data`) when central returns data for it, each
 * derived from its JSON Schema through the same mapping view (`compileShape`) the JSON ⇄ XML
 * mapping uses, so the XSD and the mapping cannot disagree on names, order or cardinality.
 * A `$defs` entry that is the same in every schema becomes one shared type (`Def.<name>`);
 * a name marked for transliteration gets its optional `<name>Transliterated` sibling.
 *
 * What the XSD cannot say (XSD 1.0 as libxml2 implements it) is left to the JSON Schema and
 * the parser: co-occurrence rules (`if`/`then`/`else`: e.g. representedMemberState present
 * iff representation is true), MessageType matching the body element, `Id` = `m-<MessageId>`,
 * `Sender` = `EU` exactly for the inbound (notification) types.
 *
 * Run `node dist/src/wire/xsd-generate.js --write` (after `npm run build`) to rewrite the
 * committed file; `--check` exits 1 when it is stale; no option prints the XSD.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { listTypes } from '../catalogue/catalogue';
import type { MessageTypeSpec } from '../catalogue/types';
import { packageRoot } from '../catalogue/schema-file';
import { escapeAttr, escapeText } from '../xml/c14n';
import { ICAO_TRANSLITERATION_MAX_LENGTH, ICAO_TRANSLITERATION_PATTERN, TRANSLITERATED_SUFFIX } from './icao-transliteration';
import { compileShape, type ArrayShape, type ObjectShape, type PropShape, type Shape, type StringShape } from './shape';
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

/** Path of the committed XSD, relative to the package root. */
export const XSD_RELATIVE_PATH = join('schemas', 'wire', 'davis-wire.xsd');

/** Absolute path of the committed XSD. */
export function xsdPath(): string {
  return join(packageRoot(), XSD_RELATIVE_PATH);
}

/** General categories both ECMAScript (`u` mode) and XSD regular expressions know. */
const CATEGORIES = new Set([
  'L', 'Lu', 'Ll', 'Lt', 'Lm', 'Lo', 'M', 'Mn', 'Mc', 'Me', 'N', 'Nd', 'Nl', 'No', 'P', 'Pc', 'Pd', 'Ps', 'Pe', 'Pi', 'Pf', 'Po',
  'Z', 'Zs', 'Zl', 'Zp', 'S', 'Sm', 'Sc', 'Sk', 'So', 'C', 'Cc', 'Cf', 'Co', 'Cn',
]);
/** Characters XSD lets you escape with a backslash. */
const XSD_ESCAPABLE = new Set(['\\', '|', '.', '-', '^', '?', '*', '+', '{', '}', '(', ')', '[', ']']);

function isXmlChar(cp: number): boolean {
  return cp === 0x9 || cp === 0xa || cp === 0xd || (cp >= 0x20 && cp <= 0xd7ff) || (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff);
}

/**
 * Translates an anchored ECMAScript pattern (unicode mode) into an XSD pattern with the same
 * language over strings XML can carry. Only the common subset is accepted: anything whose
 * meaning differs between the two dialects (`.`, `\d`, `\w`, `\s`, `\b`, lookarounds,
 * back-references, lazy quantifiers, `[` inside a class) is refused, so a new schema cannot
 * silently get a different check on the wire. Inside a negated class, characters XML cannot
 * carry (`\p{Cs}`, `\uFFFE`, …) are dropped: they cannot occur in a document anyway, and
 * libxml2 does not know `\p{Cs}`.
 *
 * @throws Error naming the construct when the pattern is outside the subset.
 */
export function toXsdPattern(js: string): string {
  if (!js.startsWith('^') || !js.endsWith('$') || js.endsWith('\\$')) throw new Error(`pattern must be anchored with ^…$: ${js}`);
  const src = js.slice(1, -1);
  let out = '';
  let inClass = false;
  let negated = false;
  const bad = (what: string): never => {
    throw new Error(`pattern ${js}: ${what} is not supported on the wire (ECMAScript and XSD differ)`);
  };
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    if (c === '\\') {
      const e = src[i + 1];
      if (e === undefined) bad('a trailing backslash');
      if (e === 'p' || e === 'P') {
        const m = /^\{([A-Za-z]+)\}/.exec(src.slice(i + 2));
        if (!m || !CATEGORIES.has(m[1]) && m[1] !== 'Cs') bad(`\\${e}{…} other than a general category`);
        if (m![1] === 'Cs') {
          if (!(inClass && negated && e === 'p')) bad('\\p{Cs} outside a negated class');
        } else {
          out += `\\${e}{${m![1]}}`;
        }
        i += 2 + m![0].length - 1;
        continue;
      }
      if (e === 'u') {
        const m = /^u(?:\{([0-9A-Fa-f]{1,6})\}|([0-9A-Fa-f]{4}))/.exec(src.slice(i + 1));
        if (!m) bad('a malformed \\u escape');
        const cp = parseInt(m![1] ?? m![2], 16);
        i += m![0].length;
        const next = src[i + 1];
        const prev = out[out.length - 1];
        if (!isXmlChar(cp)) {
          if (!(inClass && negated) || next === '-' || prev === '-') bad('a character XML cannot carry, outside a negated class or in a range');
          continue;
        }
        const ch = String.fromCodePoint(cp);
        out += XSD_ESCAPABLE.has(ch) ? `\\${ch}` : ch;
        continue;
      }
      if (e === 'n' || e === 'r' || e === 't') {
        out += `\\${e}`;
        i++;
        continue;
      }
      if (e === '/') {
        out += '/';
        i++;
        continue;
      }
      if (e !== undefined && XSD_ESCAPABLE.has(e)) {
        out += `\\${e}`;
        i++;
        continue;
      }
      bad(`the escape \\${e}`);
    }
    if (inClass) {
      if (c === ']') {
        inClass = false;
        out += c;
      } else if (c === '[') {
        bad('"[" inside a character class');
      } else {
        out += c;
      }
      continue;
    }
    switch (c) {
      case '[':
        inClass = true;
        negated = src[i + 1] === '^';
        out += c;
        if (negated) {
          out += '^';
          i++;
        }
        break;
      case '(':
        if (src[i + 1] === '?') {
          if (src[i + 2] === ':') {
            out += '(';
            i += 2;
          } else {
            bad('lookarounds and named groups');
          }
        } else {
          out += c;
        }
        break;
      case '.':
        bad('"." (it excludes different characters in the two dialects)');
        break;
      case '^':
      case '$':
        bad(`"${c}" inside the pattern`);
        break;
      case '*':
      case '+':
      case '?':
      case '}':
        if (src[i + 1] === '?') bad('lazy quantifiers');
        out += c;
        break;
      default:
        out += c;
    }
  }
  if (inClass) bad('an unterminated class');
  return out;
}

// ---------------------------------------------------------------------------------------

class Writer {
  private readonly lines: string[] = [];
  line(depth: number, s: string): void {
    this.lines.push(`${'  '.repeat(depth)}${s}`);
  }
  toString(): string {
    return `${this.lines.join('\n')}\n`;
  }
}

function doc(w: Writer, depth: number, ...texts: (string | undefined)[]): void {
  const t = texts.filter((x): x is string => x !== undefined && x !== '').join(': ');
  if (t === '') return;
  w.line(depth, `<xs:annotation><xs:documentation>${escapeText(t)}</xs:documentation></xs:annotation>`);
}

/** A global element of the XSD: a catalogue type's body element or the element of its answer data. */
interface RootElement {
  /** Element local name (`ApplicationCreate`, `ApplicationSearchAnswer`). */
  readonly xmlName: string;
  /** The JSON Schema it is generated from. */
  readonly schema: Readonly<Record<string, unknown>>;
  /** Documentation of the element. */
  readonly docs: readonly (string | undefined)[];
}

/** Prefix of the named types shared by every root element that uses them (`w:Def.CountryCode`). */
const SHARED_PREFIX = 'Def';

/**
 * The `$defs` that become one shared named type (`Def.<name>`) instead of one copy per root
 * element: a definition is shared when every schema that defines it compiles it to the same
 * shape and every definition it uses is shared too. The catalogue schemas copy the same
 * definitions (CountryCode, Address, …) into each file, so this keeps the XSD small (libxml2
 * compiles the whole XSD on every validation). A definition that differs between schemas
 * keeps a copy per root element, named `<xmlName>.<name>`.
 */
class SharedTypes {
  private readonly shareable: ReadonlySet<string>;
  private readonly used = new Map<string, Shape>();

  constructor(roots: readonly RootElement[]) {
    const signatures = new Map<string, Set<string>>();
    const deps = new Map<string, Set<string>>();
    const visit = (shape: Shape, owner: string | undefined, seen: Set<Shape>): void => {
      if (shape.defName !== undefined && shape.defName !== owner) {
        if (owner !== undefined) deps.get(owner)!.add(shape.defName);
        if (seen.has(shape)) return;
        seen.add(shape);
        if (!signatures.has(shape.defName)) {
          signatures.set(shape.defName, new Set());
          deps.set(shape.defName, new Set());
        }
        signatures.get(shape.defName)!.add(JSON.stringify(shape));
        owner = shape.defName;
      }
      if (shape.kind === 'object') for (const p of shape.props) visit(p.shape, owner, seen);
      else if (shape.kind === 'array') visit(shape.item, owner, seen);
    };
    for (const r of roots) visit(compileShape(r.schema), undefined, new Set());
    const ok = new Set([...signatures].filter(([, sigs]) => sigs.size === 1).map(([name]) => name));
    // A shared type may only use shared types: drop, until stable, those that use a non-shared one.
    for (let changed = true; changed; ) {
      changed = false;
      for (const name of ok) {
        if ([...deps.get(name)!].some((d) => !ok.has(d))) {
          ok.delete(name);
          changed = true;
        }
      }
    }
    this.shareable = ok;
  }

  /** True when `defName` is written once as `Def.<defName>`. */
  isShared(defName: string): boolean {
    return this.shareable.has(defName);
  }

  /** Records that a shared type is used (it is written by `write`). */
  use(defName: string, shape: Shape): void {
    if (!this.used.has(defName)) this.used.set(defName, shape);
  }

  /** Writes every shared type used, in order of first use. */
  write(w: Writer): void {
    const gen = new TypeGenerator(SHARED_PREFIX, this);
    const written = new Set<string>();
    for (let pending = [...this.used.keys()]; pending.length > 0; pending = [...this.used.keys()].filter((k) => !written.has(k))) {
      for (const name of pending) {
        written.add(name);
        gen.namedType(w, name, this.used.get(name)!);
      }
    }
  }
}

/** Generates one global element (a body element or an answer element) and the named types only it uses. */
class TypeGenerator {
  private readonly named = new Map<string, Shape>();

  /** @param prefix prefix of the element's own (not shared) named types: its xmlName */
  constructor(
    private readonly prefix: string,
    private readonly shared: SharedTypes,
  ) {}

  private typeName(defName: string): string {
    return `${this.shared.isShared(defName) ? SHARED_PREFIX : this.prefix}.${defName}`;
  }

  /** The global element (and afterwards the named types only it uses). */
  write(w: Writer, root: RootElement): void {
    const shape = compileShape(root.schema);
    w.line(1, `<xs:element name="${root.xmlName}">`);
    doc(w, 2, ...root.docs);
    this.complexType(w, 2, shape, undefined, root.xmlName);
    this.uniques(w, 2, shape, root.xmlName);
    w.line(1, '</xs:element>');
    // Named types, in order of first use, each once; new ones found while writing are appended.
    const written = new Set<string>();
    for (let pending = [...this.named.keys()]; pending.length > 0; pending = [...this.named.keys()].filter((k) => !written.has(k))) {
      for (const name of pending) {
        written.add(name);
        this.namedType(w, name, this.named.get(name)!);
      }
    }
  }

  /** One named type (global complexType or simpleType). */
  namedType(w: Writer, defName: string, shape: Shape): void {
    const name = this.typeName(defName);
    if (shape.kind === 'object') this.complexType(w, 1, shape, name, name);
    else this.simpleType(w, 1, shape as Exclude<Shape, ObjectShape | ArrayShape>, name);
  }

  /** `path` names identity constraints uniquely: the global element or named type, then property names. */
  private complexType(w: Writer, depth: number, shape: ObjectShape, name: string | undefined, path: string): void {
    w.line(depth, name ? `<xs:complexType name="${name}">` : '<xs:complexType>');
    if (name) doc(w, depth + 1, shape.title, shape.description);
    const group = shape.choice ? 'xs:choice' : 'xs:sequence';
    if (shape.props.length === 0) {
      w.line(depth + 1, `<${group}/>`);
    } else {
      w.line(depth + 1, `<${group}>`);
      for (const p of shape.props) this.element(w, depth + 2, p, shape.choice, path);
      w.line(depth + 1, `</${group}>`);
    }
    w.line(depth, '</xs:complexType>');
  }

  private element(w: Writer, depth: number, p: PropShape, inChoice: boolean, parentPath: string): void {
    const path = `${parentPath}.${p.name}`;
    let valueShape: Shape = p.shape;
    let occurs = '';
    let wrapOptional = false;
    if (p.shape.kind === 'array') {
      const a: ArrayShape = p.shape;
      valueShape = a.item;
      const max = a.maxItems === undefined ? 'unbounded' : String(a.maxItems);
      // An optional array of at least n > 1 items is "none, or n..max": an optional sequence around it.
      wrapOptional = !p.required && a.minItems > 1;
      const min = p.required || wrapOptional ? a.minItems : 0;
      occurs = `${min === 1 ? '' : ` minOccurs="${min}"`}${max === '1' ? '' : ` maxOccurs="${max}"`}`;
    } else if (!p.required && !inChoice) {
      occurs = ' minOccurs="0"';
    }
    const d = wrapOptional ? depth + 1 : depth;
    if (wrapOptional) w.line(depth, '<xs:sequence minOccurs="0">');
    // A named type documents itself; an element repeats only what the property says about its use.
    const own = p.shape.kind === 'array' ? p.shape : valueShape;
    const documentation = own.defName !== undefined ? [p.title, p.description] : [p.title ?? own.title, p.description ?? own.description];
    const hasUniques = valueShape.kind === 'object' && valueShape.props.some((q) => q.shape.kind === 'array' && q.shape.uniqueItems && q.shape.item.kind !== 'object');
    const ref = this.typeRef(valueShape);
    if (ref !== undefined && !hasUniques && documentation.every((x) => x === undefined)) {
      w.line(d, `<xs:element name="${p.name}" type="${ref}"${occurs}/>`);
    } else {
      w.line(d, `<xs:element name="${p.name}"${ref !== undefined ? ` type="${ref}"` : ''}${occurs}>`);
      doc(w, d + 1, ...documentation);
      if (ref === undefined) {
        if (valueShape.kind === 'object') this.complexType(w, d + 1, valueShape, undefined, path);
        else this.simpleType(w, d + 1, valueShape as Exclude<Shape, ObjectShape | ArrayShape>, undefined);
      }
      if (valueShape.kind === 'object') this.uniques(w, d + 1, valueShape, path);
      w.line(d, '</xs:element>');
    }
    if (wrapOptional) w.line(depth, '</xs:sequence>');
    if (p.transliterated) {
      // The gateway-computed ICAO 9303 transliteration of the name (absent when it cannot be computed).
      w.line(depth, `<xs:element name="${p.name}${TRANSLITERATED_SUFFIX}" type="w:IcaoTransliteration" minOccurs="0"/>`);
    }
  }

  /** xs:unique for each array of simple values marked uniqueItems (arrays of objects: JSON Schema only). */
  private uniques(w: Writer, depth: number, shape: ObjectShape, path: string): void {
    for (const q of shape.props) {
      if (q.shape.kind !== 'array' || !q.shape.uniqueItems || q.shape.item.kind === 'object') continue;
      w.line(depth, `<xs:unique name="${path}.${q.name}.unique"><xs:selector xpath="w:${q.name}"/><xs:field xpath="."/></xs:unique>`);
    }
  }

  /** A type attribute value when the shape has a name (built-in or $defs), else undefined (anonymous type). */
  private typeRef(shape: Shape): string | undefined {
    if (shape.defName !== undefined) {
      if (this.shared.isShared(shape.defName)) this.shared.use(shape.defName, shape);
      else if (!this.named.has(shape.defName)) this.named.set(shape.defName, shape);
      return `w:${this.typeName(shape.defName)}`;
    }
    if (shape.kind === 'boolean') return 'xs:boolean';
    if (shape.kind === 'string' && !shape.enum && !shape.pattern && shape.minLength === undefined && shape.maxLength === undefined && !shape.format && !shape.base64) {
      return 'xs:string';
    }
    return undefined;
  }

  private simpleType(w: Writer, depth: number, shape: Exclude<Shape, ObjectShape | ArrayShape>, name: string | undefined): void {
    w.line(depth, name ? `<xs:simpleType name="${name}">` : '<xs:simpleType>');
    if (name) doc(w, depth + 1, shape.title, shape.description);
    const facets: string[] = [];
    let base: string;
    switch (shape.kind) {
      case 'boolean':
        base = 'xs:boolean';
        break;
      case 'integer':
        base = 'xs:integer';
        facets.push(`<xs:minInclusive value="${shape.minimum}"/>`, `<xs:maxInclusive value="${shape.maximum}"/>`);
        break;
      case 'number':
        base = 'xs:double';
        if (shape.minimum !== undefined) facets.push(`<xs:minInclusive value="${shape.minimum}"/>`);
        if (shape.exclusiveMinimum !== undefined) facets.push(`<xs:minExclusive value="${shape.exclusiveMinimum}"/>`);
        if (shape.maximum !== undefined) facets.push(`<xs:maxInclusive value="${shape.maximum}"/>`);
        if (shape.exclusiveMaximum !== undefined) facets.push(`<xs:maxExclusive value="${shape.exclusiveMaximum}"/>`);
        break;
      case 'string':
        base = this.stringFacets(shape, facets);
        break;
    }
    if (facets.length === 0) {
      w.line(depth + 1, `<xs:restriction base="${base}"/>`);
    } else {
      w.line(depth + 1, `<xs:restriction base="${base}">`);
      for (const f of facets) w.line(depth + 2, f);
      w.line(depth + 1, '</xs:restriction>');
    }
    w.line(depth, '</xs:simpleType>');
  }

  private stringFacets(s: StringShape, facets: string[]): string {
    if (s.format === 'date') {
      // xs:date alone also takes time zones and years beyond 9999; JSON "date" does not.
      facets.push('<xs:pattern value="[0-9]{4}-[0-9]{2}-[0-9]{2}"/>');
      return 'xs:date';
    }
    if (s.base64) {
      // xs:base64Binary length facets count decoded octets, JSON Schema counts characters:
      // n characters (n a multiple of 4) carry between 3n/4 − 2 and 3n/4 octets. The JSON
      // pattern (canonical base64) is not repeated: xs:base64Binary checks the lexical form.
      if (s.minLength !== undefined && s.minLength > 0) facets.push(`<xs:minLength value="${Math.max(0, 3 * Math.ceil(s.minLength / 4) - 2)}"/>`);
      if (s.maxLength !== undefined) facets.push(`<xs:maxLength value="${3 * Math.floor(s.maxLength / 4)}"/>`);
      return 'xs:base64Binary';
    }
    for (const v of s.enum ?? []) facets.push(`<xs:enumeration value="${escapeAttr(v)}"/>`);
    if (s.pattern !== undefined) facets.push(`<xs:pattern value="${escapeAttr(toXsdPattern(s.pattern))}"/>`);
    if (s.minLength !== undefined && s.minLength > 0) facets.push(`<xs:minLength value="${s.minLength}"/>`);
    if (s.maxLength !== undefined) facets.push(`<xs:maxLength value="${s.maxLength}"/>`);
    return 'xs:string';
  }
}

/** Options of `generateXsd`. */
export interface GenerateXsdOptions {
  /**
   * Keep only the global element with this name (a body element such as `VisaIssue`, or an
   * answer element such as `ApplicationSearchAnswer`; `''` for none) and the types it uses:
   * the envelope (with the MessageType list of every type) stays whole. A document whose
   * body (or `w:Data`) element is `only` gets the same verdict from this XSD as from the
   * full one; libxml2 compiles the XSD on each validation, so the runtime validator uses
   * these small ones (see `xsd.ts`). @default every element
   */
  readonly only?: string;
}

/**
 * The XSD text for the given catalogue types (default: the whole catalogue, outbound and
 * inbound types). Deterministic:
 * the same catalogue always gives the same bytes, so a test can compare it with the
 * committed file.
 */
export function generateXsd(types: readonly MessageTypeSpec[] = listTypes({ direction: 'all' }), options: GenerateXsdOptions = {}): string {
  const keep = (xmlName: string): boolean => options.only === undefined || options.only === xmlName;
  const w = new Writer();
  w.line(0, '<?xml version="1.0" encoding="UTF-8"?>');
  w.line(0, '<!--');
  w.line(1, 'DAVIS wire profile, namespace urn:davis-gateway:wire:1.');
  w.line(1, 'GENERATED by src/wire/xsd-generate.ts from the catalogue JSON Schemas (schemas/json/): do not edit.');
  w.line(1, 'Regenerate: npm run build, then node dist/src/wire/xsd-generate.js with the write option (see that file).');
  w.line(1, 'Not expressible in XSD 1.0, checked elsewhere: co-occurrence rules of the JSON Schemas (if/then/else),');
  w.line(1, 'MessageType matching the body element, Id = "m-" + MessageId and Sender = EU exactly for the central');
  w.line(1, 'notification (inbound) types (parser), uniqueness of array items that');
  w.line(1, 'are objects (JSON Schema), "at least one of" rules (minProperties), business rules (dates, minors).');
  w.line(1, 'Elements named <name>Transliterated carry the ICAO 9303 transliteration the gateway computes from <name>.');
  w.line(0, '-->');
  w.line(0, `<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:w="${WIRE_NS}" targetNamespace="${WIRE_NS}" elementFormDefault="qualified" attributeFormDefault="unqualified" version="1">`);

  w.line(1, '<xs:element name="Request">');
  doc(w, 2, 'A message from a Member State to central, or a notification from central (Sender EU) to a Member State. Signed: ds:Signature is the last child, referencing the root by Id');
  w.line(2, '<xs:complexType>');
  w.line(3, '<xs:sequence>');
  w.line(4, '<xs:element name="Header" type="w:RequestHeader"/>');
  w.line(4, '<xs:element name="Body" type="w:RequestBody"/>');
  w.line(4, `<xs:any namespace="${DSIG_NS}" processContents="lax" minOccurs="0"/>`);
  w.line(3, '</xs:sequence>');
  w.line(3, '<xs:attribute name="Id" type="xs:ID" use="required"/>');
  w.line(2, '</xs:complexType>');
  w.line(1, '</xs:element>');

  w.line(1, '<xs:complexType name="RequestHeader">');
  w.line(2, '<xs:sequence>');
  w.line(3, '<xs:element name="MessageId" type="w:MessageId"/>');
  w.line(3, '<xs:element name="MessageType" type="w:MessageType"/>');
  w.line(3, '<xs:element name="Sender" type="w:Sender"/>');
  w.line(3, '<xs:element name="Created" type="w:Timestamp"/>');
  w.line(2, '</xs:sequence>');
  w.line(1, '</xs:complexType>');

  w.line(1, '<xs:complexType name="RequestBody">');
  doc(w, 2, 'Exactly one message element; it must be the one for the MessageType in the header (checked by the parser)');
  w.line(2, '<xs:choice>');
  for (const t of types) if (keep(t.xmlName)) w.line(3, `<xs:element ref="w:${t.xmlName}"/>`);
  w.line(2, '</xs:choice>');
  w.line(1, '</xs:complexType>');

  w.line(1, '<xs:element name="Response">');
  doc(w, 2, 'Central answer to one request. Signed like a request');
  w.line(2, '<xs:complexType>');
  w.line(3, '<xs:sequence>');
  w.line(4, '<xs:element name="Header" type="w:ResponseHeader"/>');
  w.line(4, '<xs:element name="Result" type="w:Result"/>');
  const answers = types.filter((t) => t.answer !== undefined && keep(t.answer.xmlName));
  if (answers.length > 0) {
    w.line(4, '<xs:element name="Data" minOccurs="0">');
    doc(w, 5, 'Data returned with an accepted answer (searches, retrievals): the answer element of the request type');
    w.line(5, '<xs:complexType>');
    w.line(6, '<xs:choice>');
    for (const t of answers) w.line(7, `<xs:element ref="w:${t.answer!.xmlName}"/>`);
    w.line(6, '</xs:choice>');
    w.line(5, '</xs:complexType>');
    w.line(4, '</xs:element>');
  }
  w.line(4, `<xs:any namespace="${DSIG_NS}" processContents="lax" minOccurs="0"/>`);
  w.line(3, '</xs:sequence>');
  w.line(3, '<xs:attribute name="Id" type="xs:ID" use="required"/>');
  w.line(2, '</xs:complexType>');
  w.line(1, '</xs:element>');

  w.line(1, '<xs:complexType name="ResponseHeader">');
  w.line(2, '<xs:sequence>');
  w.line(3, '<xs:element name="MessageId" type="w:MessageId"/>');
  w.line(3, '<xs:element name="InReplyTo" type="w:MessageId"/>');
  w.line(3, '<xs:element name="Created" type="w:Timestamp"/>');
  w.line(2, '</xs:sequence>');
  w.line(1, '</xs:complexType>');

  w.line(1, '<xs:complexType name="Result">');
  w.line(2, '<xs:sequence>');
  w.line(3, '<xs:element name="Outcome" type="w:Outcome"/>');
  w.line(3, '<xs:element name="Code" type="w:ResultCode"/>');
  w.line(3, '<xs:element name="CentralReference" type="w:CentralReference" minOccurs="0"/>');
  w.line(3, '<xs:element name="Reason" type="w:Reason" minOccurs="0"/>');
  w.line(2, '</xs:sequence>');
  w.line(1, '</xs:complexType>');

  const simple = (name: string, base: string, facets: string[], documentation?: string): void => {
    w.line(1, `<xs:simpleType name="${name}">`);
    if (documentation) doc(w, 2, documentation);
    w.line(2, `<xs:restriction base="${base}">`);
    for (const f of facets) w.line(3, f);
    w.line(2, '</xs:restriction>');
    w.line(1, '</xs:simpleType>');
  };
  simple('MessageId', 'xs:string', [`<xs:pattern value="${escapeAttr(toXsdPattern(WIRE_ID_PATTERN))}"/>`], 'Message id (a UUID fits); "m-" or "r-" + id is the root Id');
  simple('MessageType', 'xs:string', types.map((t) => `<xs:enumeration value="${escapeAttr(t.id)}"/>`), 'Catalogue id of the message type');
  simple('Sender', 'xs:string', [`<xs:pattern value="${escapeAttr(toXsdPattern(WIRE_SENDER_PATTERN))}"/>`], 'Sending State, ISO 3166-1 alpha-2; EU for central notifications (inbound types)');
  simple('Timestamp', 'xs:dateTime', [`<xs:pattern value="${escapeAttr(toXsdPattern(WIRE_CREATED_PATTERN))}"/>`], 'UTC time with Z');
  simple('Outcome', 'xs:string', ['<xs:enumeration value="ACCEPTED"/>', '<xs:enumeration value="REJECTED"/>']);
  simple('ResultCode', 'xs:string', [`<xs:pattern value="${escapeAttr(toXsdPattern(WIRE_CODE_PATTERN))}"/>`]);
  simple('CentralReference', 'xs:string', ['<xs:minLength value="1"/>', `<xs:maxLength value="${WIRE_MAX_REFERENCE}"/>`]);
  simple('Reason', 'xs:string', ['<xs:minLength value="1"/>', `<xs:maxLength value="${WIRE_MAX_REASON}"/>`]);
  simple(
    'IcaoTransliteration',
    'xs:string',
    [`<xs:pattern value="${escapeAttr(toXsdPattern(ICAO_TRANSLITERATION_PATTERN))}"/>`, `<xs:maxLength value="${ICAO_TRANSLITERATION_MAX_LENGTH}"/>`],
    'ICAO 9303 Part 3 transliteration of the preceding name element, computed by the gateway (A-Z words, one space between)',
  );

  const roots: { root: RootElement; source: string }[] = [];
  for (const t of types) {
    if (keep(t.xmlName)) roots.push({ root: { xmlName: t.xmlName, schema: t.schema, docs: [`${t.id} (${t.article})`, ...(t.direction === 'inbound' ? ['central notification, Sender EU'] : []), t.title] }, source: `${t.id}.schema.json` });
    if (t.answer && keep(t.answer.xmlName)) roots.push({ root: { xmlName: t.answer.xmlName, schema: t.answer.schema, docs: [`Answer data of ${t.id}`, String(t.answer.schema.title ?? '')] }, source: `${t.id}.answer.schema.json` });
  }
  const shared = new SharedTypes(roots.map((r) => r.root));
  for (const { root, source } of roots) {
    w.line(0, '');
    w.line(1, `<!-- ${escapeText(root.xmlName)}: generated from schemas/json/${escapeText(source)} -->`);
    new TypeGenerator(root.xmlName, shared).write(w, root);
  }
  w.line(0, '');
  w.line(1, `<!-- Definitions shared by the schemas above (the same $defs entry in each) -->`);
  shared.write(w);
  w.line(0, '</xs:schema>');
  return w.toString();
}

/** CLI: `--write` rewrites the committed XSD, `--check` exits 1 when it is stale, else print. */
function main(argv: readonly string[]): number {
  const xsd = generateXsd();
  if (argv.includes('--write')) {
    writeFileSync(xsdPath(), xsd);
    process.stdout.write(`wrote ${xsdPath()}\n`);
    return 0;
  }
  if (argv.includes('--check')) {
    let current = '';
    try {
      current = readFileSync(xsdPath(), 'utf8');
    } catch {
      // a missing file is stale too
    }
    if (current === xsd) return 0;
    process.stderr.write(`${XSD_RELATIVE_PATH} is stale: run npm run build && node dist/src/wire/xsd-generate.js --write\n`);
    return 1;
  }
  process.stdout.write(xsd);
  return 0;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
