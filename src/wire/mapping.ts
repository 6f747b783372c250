/**
 * Schema-driven JSON ⇄ XML mapping of message payloads. There is no per-type code: the
 * catalogue JSON Schema of a type decides the element names, their order and how text is
 * turned back into JSON types.
 *
 * Rules (the "wire profile" of a JSON Schema; `compileShape` refuses a schema outside it, so
 * a new catalogue type either maps losslessly or fails at load):
 * - an object is an element whose children are its properties, in `properties` order, each
 *   an element named after the JSON key; an absent optional property has no element;
 * - an array is its items as repeated elements named after the property (no wrapper);
 *   every array has `minItems` ≥ 1, so "absent" is the only way to say "none" and the
 *   round trip is exact; arrays of arrays are refused;
 * - an object with `minProperties` = `maxProperties` = 1 and no `required` is a choice:
 *   exactly one of its properties (xs:choice on the wire);
 * - strings are text (C14N-escaped); booleans `true`/`false`; integers and numbers their
 *   XML Schema lexical form; the JSON type is restored from the schema when reading;
 * - `if`/`then`/`else`, `not`, `dependentRequired` and a `minProperties` of its own (without
 *   `maxProperties`: "at least n of these optional properties") are validation-only: they
 *   never add properties, so they do not change the mapping (nor, being co-occurrence rules,
 *   the XSD);
 * - a string property marked `"x-icao-transliteration": true` (beside its `$ref` or inline)
 *   is a name: the builder writes, right after its element, a sibling element
 *   `<name>Transliterated` with the ICAO 9303 transliteration the gateway computes (omitted
 *   when the name cannot be transliterated; see `icao-transliteration.ts`). The reader
 *   accepts and drops it, so the JSON read back is exactly the JSON written.
 */
// The one definition of C14N escaping, so built documents are canonical by construction.
import { TRANSLITERATION_KEYWORD } from '../catalogue/types';
import { escapeAttr, escapeText } from '../xml/c14n';
import { DavisError } from '../errors/errors';
import { escapePointerToken } from '../util/json-pointer';
import { TRANSLITERATED_SUFFIX, transliterateIcao } from './icao-transliteration';

/** Annotations carried from the JSON Schema into the XSD documentation. */
interface Annotated {
  /** JSON Schema `title`. */
  readonly title?: string;
  /** JSON Schema `description`. */
  readonly description?: string;
  /** Name under `$defs` when this shape came from a `$ref` (becomes a named XSD type). */
  readonly defName?: string;
}

/** An object: an element with one child element per present property. */
export interface ObjectShape extends Annotated {
  /** Discriminant. */
  readonly kind: 'object';
  /** Properties in schema order (the wire order). */
  readonly props: readonly PropShape[];
  /** True when exactly one property must be present (`minProperties` = `maxProperties` = 1). */
  readonly choice: boolean;
}

/** One property of an object shape. */
export interface PropShape {
  /** JSON key, also the element local name. */
  readonly name: string;
  /** Listed in the object's `required`. Always false for choice members. */
  readonly required: boolean;
  /** The property's value shape (for arrays: the array shape). */
  readonly shape: Shape;
  /** Property-level `title` (overrides the referenced definition's). */
  readonly title?: string;
  /** Property-level `description` (overrides the referenced definition's). */
  readonly description?: string;
  /**
   * `"x-icao-transliteration": true`: the wire also carries the element
   * `<name>Transliterated` (the ICAO 9303 transliteration the builder computes).
   */
  readonly transliterated?: boolean;
}

/** An array: repeated elements named after the property that holds it. */
export interface ArrayShape extends Annotated {
  /** Discriminant. */
  readonly kind: 'array';
  /** Shape of every item (never an array). */
  readonly item: Shape;
  /** At least 1 (wire profile rule). */
  readonly minItems: number;
  /** Upper bound, if any. */
  readonly maxItems?: number;
  /** `uniqueItems: true` (xs:unique on the wire for simple items). */
  readonly uniqueItems: boolean;
}

/** A string (also dates and base64 binaries). */
export interface StringShape extends Annotated {
  /** Discriminant. */
  readonly kind: 'string';
  /** Allowed values (`enum`, or `const` as a one-value list). */
  readonly enum?: readonly string[];
  /** ECMAScript pattern (unicode mode), anchored with `^…$`. */
  readonly pattern?: string;
  /** In Unicode code points, as JSON Schema and XSD both count. */
  readonly minLength?: number;
  /** In Unicode code points. */
  readonly maxLength?: number;
  /** `format: date` (xs:date on the wire). */
  readonly format?: 'date';
  /** `contentEncoding: base64` (xs:base64Binary on the wire). */
  readonly base64: boolean;
}

/** An integer; bounds are mandatory and within ±(2^53 − 1) so that text form is exact. */
export interface IntegerShape extends Annotated {
  /** Discriminant. */
  readonly kind: 'integer';
  /** Inclusive lower bound (exclusive bounds are converted). */
  readonly minimum: number;
  /** Inclusive upper bound. */
  readonly maximum: number;
}

/** A JSON number (xs:double on the wire). */
export interface NumberShape extends Annotated {
  /** Discriminant. */
  readonly kind: 'number';
  /** Inclusive lower bound. */
  readonly minimum?: number;
  /** Inclusive upper bound. */
  readonly maximum?: number;
  /** Exclusive lower bound. */
  readonly exclusiveMinimum?: number;
  /** Exclusive upper bound. */
  readonly exclusiveMaximum?: number;
}

/** A boolean (`true`/`false` on the wire). */
export interface BooleanShape extends Annotated {
  /** Discriminant. */
  readonly kind: 'boolean';
}

/** The mapping view of a JSON Schema node. */
export type Shape = ObjectShape | ArrayShape | StringShape | IntegerShape | NumberShape | BooleanShape;

/** A parsed XML element, namespace-resolved (produced by the wire parser). */
export interface XmlElement {
  /** Namespace URI, or undefined for no namespace. */
  readonly ns: string | undefined;
  /** Local name. */
  readonly local: string;
  /** Name as written (prefix:local), for error locations. */
  readonly qname: string;
  /** Attributes other than namespace declarations. */
  readonly attrs: readonly XmlAttribute[];
  /** Child elements and text (CDATA merged into text), in document order. */
  readonly children: readonly (XmlElement | string)[];
  /** 1-based line of the start tag. */
  readonly line: number;
}

/** A parsed attribute (namespace declarations excluded). */
export interface XmlAttribute {
  /** Namespace URI; undefined for an unprefixed attribute (never the default namespace). */
  readonly ns: string | undefined;
  /** Local name. */
  readonly local: string;
  /** Name as written. */
  readonly qname: string;
  /** Value after reference expansion and attribute-value normalisation. */
  readonly value: string;
}

const ANNOTATIONS = new Set(['title', 'description', '$comment', 'examples']);
const ROOT_ONLY = new Set(['$schema', '$id', '$defs']);
/** Validation-only keywords: checked by ajv, invisible to the mapping and the XSD. */
const VALIDATION_ONLY = new Set(['if', 'then', 'else', 'not', 'dependentRequired']);
const ALLOWED: Record<Shape['kind'], ReadonlySet<string>> = {
  object: new Set(['type', 'properties', 'required', 'additionalProperties', 'minProperties', 'maxProperties']),
  array: new Set(['type', 'items', 'minItems', 'maxItems', 'uniqueItems']),
  string: new Set(['type', 'enum', 'const', 'pattern', 'minLength', 'maxLength', 'format', 'contentEncoding', 'contentMediaType']),
  integer: new Set(['type', 'minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum']),
  number: new Set(['type', 'minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum']),
  boolean: new Set(['type']),
};
/** Element names must be NCNames not reserved by XML. */
const NCNAME = /^(?!xml)[A-Za-z_][A-Za-z0-9._-]*$/i;

type Json = Record<string, unknown>;

const shapeCache = new WeakMap<object, ObjectShape>();

/** Thrown (as a plain Error) when a catalogue schema is outside the wire profile: a programming error, found at load. */
function profileError(path: string, what: string): Error {
  return new Error(`JSON Schema outside the wire profile at ${path || '#'}: ${what}`);
}

/**
 * Compiles a catalogue JSON Schema (its root must be an object schema) into the mapping
 * view, checking that it stays inside the wire profile. Cached per schema object.
 *
 * @throws Error when the schema uses a construct the wire profile cannot map losslessly.
 */
export function compileShape(schema: Readonly<Record<string, unknown>>): ObjectShape {
  const cached = shapeCache.get(schema);
  if (cached) return cached;
  const defs = (schema.$defs ?? {}) as Json;
  const defShapes = new Map<string, Shape>();
  const resolving = new Set<string>();

  const resolveRef = (ref: unknown, path: string): Shape => {
    const m = typeof ref === 'string' ? /^#\/\$defs\/([A-Za-z_][A-Za-z0-9._-]*)$/.exec(ref) : null;
    if (!m) throw profileError(path, `only local "#/$defs/Name" references are supported, got ${String(ref)}`);
    const name = m[1]!;
    const done = defShapes.get(name);
    if (done) return done;
    if (!(name in defs)) throw profileError(path, `unknown definition ${name}`);
    if (resolving.has(name)) throw profileError(path, `recursive definition ${name}`);
    resolving.add(name);
    const shape = compileNode(defs[name] as Json, `#/$defs/${name}`, name);
    resolving.delete(name);
    defShapes.set(name, shape);
    return shape;
  };

  const compileNode = (node: Json, path: string, defName?: string): Shape => {
    if (node === null || typeof node !== 'object' || Array.isArray(node)) throw profileError(path, 'schema must be an object');
    const base: { title?: string; description?: string; defName?: string } = {};
    if (typeof node.title === 'string') base.title = node.title;
    if (typeof node.description === 'string') base.description = node.description;
    if (defName !== undefined) base.defName = defName;
    const type = node.type;
    if (type !== 'object' && type !== 'array' && type !== 'string' && type !== 'integer' && type !== 'number' && type !== 'boolean') {
      throw profileError(path, `"type" must be one of object, array, string, integer, number, boolean (got ${JSON.stringify(type)})`);
    }
    for (const key of Object.keys(node)) {
      const ok =
        ANNOTATIONS.has(key) ||
        ALLOWED[type].has(key) ||
        (type === 'object' && VALIDATION_ONLY.has(key)) ||
        (path === '' && ROOT_ONLY.has(key));
      if (!ok) throw profileError(path, `keyword "${key}" is not supported for type ${type}`);
    }
    switch (type) {
      case 'object':
        return compileObject(node, path, base);
      case 'array': {
        const minItems = node.minItems;
        if (typeof minItems !== 'number' || !Number.isInteger(minItems) || minItems < 1) {
          throw profileError(path, 'arrays need minItems >= 1 (an empty array has no lossless wire form)');
        }
        const itemNode = node.items as Json | undefined;
        if (!itemNode || typeof itemNode !== 'object') throw profileError(path, 'arrays need an "items" schema');
        const itemValue = propValueShape(itemNode, `${path}/items`);
        if (itemValue.transliterated) throw profileError(`${path}/items`, `${TRANSLITERATION_KEYWORD} is only supported on object properties, not on array items`);
        const item = itemValue.shape;
        if (item.kind === 'array') throw profileError(path, 'arrays of arrays have no wire form');
        const maxItems = node.maxItems;
        if (maxItems !== undefined && (typeof maxItems !== 'number' || !Number.isInteger(maxItems) || maxItems < minItems)) {
          throw profileError(path, 'maxItems must be an integer >= minItems');
        }
        const out: ArrayShape = { ...base, kind: 'array', item, minItems, uniqueItems: node.uniqueItems === true };
        return maxItems === undefined ? out : { ...out, maxItems: maxItems as number };
      }
      case 'string': {
        const s: { -readonly [K in keyof StringShape]?: StringShape[K] } = { ...base, kind: 'string', base64: false };
        if (node.const !== undefined) {
          if (typeof node.const !== 'string') throw profileError(path, 'const must be a string');
          s.enum = [node.const];
        }
        if (node.enum !== undefined) {
          if (!Array.isArray(node.enum) || node.enum.length === 0 || !node.enum.every((v) => typeof v === 'string')) {
            throw profileError(path, 'enum must be a non-empty list of strings');
          }
          if (s.enum) throw profileError(path, 'use enum or const, not both');
          s.enum = node.enum as string[];
        }
        if (node.pattern !== undefined) {
          if (typeof node.pattern !== 'string' || !node.pattern.startsWith('^') || !node.pattern.endsWith('$')) {
            throw profileError(path, 'patterns must be anchored with ^…$ (XSD patterns are implicitly anchored)');
          }
          try {
            new RegExp(node.pattern, 'u');
          } catch (e) {
            throw profileError(path, `pattern does not compile in unicode mode: ${(e as Error).message}`);
          }
          s.pattern = node.pattern;
        }
        if (node.minLength !== undefined) s.minLength = nonNegativeInt(node.minLength, `${path}/minLength`);
        if (node.maxLength !== undefined) s.maxLength = nonNegativeInt(node.maxLength, `${path}/maxLength`);
        if (node.format !== undefined) {
          if (node.format !== 'date') throw profileError(path, `format ${String(node.format)} is not supported (only "date")`);
          if (s.pattern || s.enum) throw profileError(path, 'format date cannot be combined with pattern or enum');
          s.format = 'date';
        }
        if (node.contentEncoding !== undefined) {
          if (node.contentEncoding !== 'base64') throw profileError(path, 'only contentEncoding base64 is supported');
          if (s.enum || s.format) throw profileError(path, 'base64 cannot be combined with enum or format');
          s.base64 = true;
        }
        return s as StringShape;
      }
      case 'integer': {
        const min = boundOf(node, 'minimum', 'exclusiveMinimum', path, 1);
        const max = boundOf(node, 'maximum', 'exclusiveMaximum', path, -1);
        if (min === undefined || max === undefined) {
          throw profileError(path, 'integers need minimum and maximum (within ±(2^53 − 1)) so their text form is exact');
        }
        if (!Number.isSafeInteger(min) || !Number.isSafeInteger(max) || min > max) {
          throw profileError(path, 'integer bounds must be safe integers with minimum <= maximum');
        }
        return { ...base, kind: 'integer', minimum: min, maximum: max };
      }
      case 'number': {
        const n: { -readonly [K in keyof NumberShape]?: NumberShape[K] } = { ...base, kind: 'number' };
        for (const k of ['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum'] as const) {
          const v = node[k];
          if (v === undefined) continue;
          if (typeof v !== 'number' || !Number.isFinite(v)) throw profileError(path, `${k} must be a finite number`);
          n[k] = v;
        }
        return n as NumberShape;
      }
      case 'boolean':
        return { ...base, kind: 'boolean' };
    }
  };

  /**
   * A property or item schema: either a `$ref` (plus annotations) or an inline schema; either
   * may carry the transliteration keyword (checked by the caller: only object properties).
   */
  const propValueShape = (node: Json, path: string): { shape: Shape; title?: string; description?: string; transliterated: boolean } => {
    if (node === null || typeof node !== 'object' || Array.isArray(node)) throw profileError(path, 'schema must be an object');
    const marker = node[TRANSLITERATION_KEYWORD];
    if (marker !== undefined && marker !== true) throw profileError(path, `${TRANSLITERATION_KEYWORD} must be true when present`);
    const transliterated = marker === true;
    if ('$ref' in node) {
      for (const key of Object.keys(node)) {
        if (key !== '$ref' && key !== TRANSLITERATION_KEYWORD && !ANNOTATIONS.has(key)) throw profileError(path, `"${key}" beside $ref is not supported`);
      }
      const out: { shape: Shape; title?: string; description?: string; transliterated: boolean } = { shape: resolveRef(node.$ref, path), transliterated };
      if (typeof node.title === 'string') out.title = node.title;
      if (typeof node.description === 'string') out.description = node.description;
      return out;
    }
    const inline: Json = { ...node };
    delete inline[TRANSLITERATION_KEYWORD];
    return { shape: compileNode(inline, path), transliterated };
  };

  const compileObject = (node: Json, path: string, base: Annotated): ObjectShape => {
    if (node.additionalProperties !== false) throw profileError(path, 'objects need "additionalProperties": false');
    const properties = (node.properties ?? {}) as Json;
    if (typeof properties !== 'object' || Array.isArray(properties)) throw profileError(path, 'properties must be an object');
    const required = node.required ?? [];
    if (!Array.isArray(required) || !required.every((r) => typeof r === 'string' && r in properties)) {
      throw profileError(path, '"required" must list declared properties');
    }
    const minP = node.minProperties;
    const maxP = node.maxProperties;
    const choice = minP === 1 && maxP === 1;
    // minProperties alone ("at least n of the optional properties") is validation-only.
    const atLeast = maxP === undefined && typeof minP === 'number' && Number.isInteger(minP) && minP >= 1;
    if (!choice && !atLeast && (minP !== undefined || maxP !== undefined)) {
      throw profileError(path, 'maxProperties is only supported in the choice form (minProperties = maxProperties = 1); minProperties alone must be an integer >= 1');
    }
    if (choice && required.length > 0) throw profileError(path, 'a choice object (minProperties = maxProperties = 1) cannot have required properties');
    const props: PropShape[] = [];
    for (const [name, sub] of Object.entries(properties)) {
      if (!NCNAME.test(name)) throw profileError(`${path}/properties/${name}`, 'property names must be XML NCNames');
      const v = propValueShape(sub as Json, `${path}/properties/${name}`);
      if (choice && v.shape.kind === 'array') throw profileError(`${path}/properties/${name}`, 'choice members cannot be arrays');
      const p: { -readonly [K in keyof PropShape]?: PropShape[K] } = { name, required: required.includes(name), shape: v.shape };
      if (v.title !== undefined) p.title = v.title;
      if (v.description !== undefined) p.description = v.description;
      if (v.transliterated) {
        const where = `${path}/properties/${name}`;
        const s = v.shape;
        if (s.kind !== 'string' || s.enum || s.format || s.base64) throw profileError(where, `${TRANSLITERATION_KEYWORD} is only supported on free-text strings`);
        if (choice) throw profileError(where, `${TRANSLITERATION_KEYWORD} is not supported on choice members`);
        const derived = `${name}${TRANSLITERATED_SUFFIX}`;
        if (derived in properties) throw profileError(where, `the transliteration element ${derived} would clash with the property of that name`);
        p.transliterated = true;
      }
      props.push(p as PropShape);
    }
    if (choice && props.length < 1) throw profileError(path, 'a choice needs at least one property');
    // Conditionals may only talk about declared properties: they must never add structure.
    for (const k of ['if', 'then', 'else'] as const) {
      const c = node[k] as Json | undefined;
      if (c === undefined) continue;
      for (const key of Object.keys(c)) {
        if (key !== 'properties' && key !== 'required' && !ANNOTATIONS.has(key)) {
          throw profileError(`${path}/${k}`, `only "properties" and "required" are supported in ${k}`);
        }
      }
      const cp = (c.properties ?? {}) as Json;
      const cr = (c.required ?? []) as unknown[];
      if (![...Object.keys(cp), ...cr].every((n) => typeof n === 'string' && n in properties)) {
        throw profileError(`${path}/${k}`, 'conditionals may only name declared properties');
      }
    }
    return { ...base, kind: 'object', props, choice };
  };

  if (schema.type !== 'object') throw profileError('', 'the root of a catalogue schema must be an object');
  const root = compileNode(schema as Json, '') as ObjectShape;
  shapeCache.set(schema, root);
  return root;
}

function nonNegativeInt(v: unknown, path: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw profileError(path, 'must be a non-negative integer');
  return v;
}

/** Inclusive integer bound from `minimum`/`exclusiveMinimum` (step +1) or `maximum`/`exclusiveMaximum` (step −1). */
function boundOf(node: Json, incl: string, excl: string, path: string, step: 1 | -1): number | undefined {
  const a = node[incl];
  const b = node[excl];
  const vals: number[] = [];
  if (a !== undefined) {
    if (typeof a !== 'number') throw profileError(path, `${incl} must be a number`);
    vals.push(step === 1 ? Math.ceil(a) : Math.floor(a));
  }
  if (b !== undefined) {
    if (typeof b !== 'number') throw profileError(path, `${excl} must be a number`);
    vals.push(step === 1 ? Math.floor(b) + 1 : Math.ceil(b) - 1);
  }
  if (vals.length === 0) return undefined;
  return step === 1 ? Math.max(...vals) : Math.min(...vals);
}

// ---------------------------------------------------------------------------------------
// Canonical escaping (Exclusive XML Canonicalization 1.0, which uses the C14N 1.0 rules)

/** Characters XML 1.0 cannot carry at all (not even as references). Lone surrogates included. */
const NON_XML_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

/** True when every character of `s` is an XML 1.0 `Char`. */
export function isXmlText(s: string): boolean {
  return !NON_XML_CHAR.test(s);
}

/**
 * Escapes character data exactly as C14N does (`&amp; &lt; &gt; &#xD;`), so the builder's
 * output is already canonical.
 *
 * @throws DavisError DAVIS_ERR_WIRE_MAPPING when `s` holds a character XML cannot carry.
 */
export function escapeCanonicalText(s: string, where = ''): string {
  if (NON_XML_CHAR.test(s)) throw mappingError(where, 'text holds a character that XML 1.0 cannot carry');
  return escapeText(s);
}

/**
 * Escapes an attribute value exactly as C14N does (`&amp; &lt; &quot; &#x9; &#xA; &#xD;`).
 *
 * @throws DavisError DAVIS_ERR_WIRE_MAPPING when `s` holds a character XML cannot carry.
 */
export function escapeCanonicalAttr(s: string, where = ''): string {
  if (NON_XML_CHAR.test(s)) throw mappingError(where, 'attribute holds a character that XML 1.0 cannot carry');
  return escapeAttr(s);
}

/** A DAVIS_ERR_WIRE_MAPPING error naming one location. */
export function mappingError(pointer: string, message: string): DavisError {
  return new DavisError('DAVIS_ERR_WIRE_MAPPING', `${pointer || '/'}: ${message}`, { errors: [{ pointer: pointer || '/', message }] });
}

// ---------------------------------------------------------------------------------------
// JSON → XML

/** Options of `payloadToXml`. */
export interface ToXmlOptions {
  /** Namespace prefix of every element (declared by the enclosing document). @default 'w' */
  readonly prefix?: string;
  /**
   * Force any JSON to XML, for negative tests and conformance cases: unknown properties
   * become elements after the known ones, values of the wrong type are written as text,
   * empty arrays are dropped. Never used on the production path, where payloads are
   * schema-valid. @default false
   */
  readonly lenient?: boolean;
}

/**
 * Maps a (schema-valid) payload to the canonical XML of its children: one element per
 * present property, in schema order, no whitespace between elements, C14N escaping.
 * Required properties are not checked here (that is JSON Schema validation's job).
 *
 * @throws DavisError DAVIS_ERR_WIRE_MAPPING when the value cannot be represented (unknown
 *   property, wrong JSON type, empty array, non-finite number, character XML cannot carry),
 *   unless `lenient`; `errors[0].pointer` is the JSON pointer of the offending value.
 */
export function payloadToXml(shape: ObjectShape, payload: unknown, options: ToXmlOptions = {}): string {
  const prefix = options.prefix ?? 'w';
  const lenient = options.lenient ?? false;
  const out: string[] = [];

  const open = (name: string): string => `<${prefix}:${name}>`;
  const close = (name: string): string => `</${prefix}:${name}>`;

  const emitObjectChildren = (s: ObjectShape, value: unknown, ptr: string): void => {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      if (lenient) {
        emitScalarText(value, ptr);
        return;
      }
      throw mappingError(ptr, 'expected an object');
    }
    const obj = value as Record<string, unknown>;
    const known = new Set<string>();
    for (const p of s.props) {
      known.add(p.name);
      if (!Object.prototype.hasOwnProperty.call(obj, p.name)) continue;
      const v = obj[p.name];
      if (v === undefined) continue;
      emitProperty(p.name, p.shape, v, `${ptr}/${escapePointerToken(p.name)}`);
      if (p.transliterated && typeof v === 'string') {
        const t = transliterateIcao(v);
        if (t !== undefined) out.push(open(p.name + TRANSLITERATED_SUFFIX), t, close(p.name + TRANSLITERATED_SUFFIX));
      }
    }
    for (const key of Object.keys(obj)) {
      if (known.has(key) || obj[key] === undefined) continue;
      if (!lenient) throw mappingError(`${ptr}/${escapePointerToken(key)}`, 'property not in the schema');
      if (NCNAME.test(key)) emitLoose(key, obj[key]);
    }
  };

  const emitProperty = (name: string, s: Shape, v: unknown, ptr: string): void => {
    if (s.kind === 'array') {
      if (!Array.isArray(v)) {
        if (!lenient) throw mappingError(ptr, 'expected an array');
        emitElement(name, s.item, v, ptr);
        return;
      }
      if (v.length === 0 && !lenient) throw mappingError(ptr, 'empty arrays have no wire form (absent the property instead)');
      v.forEach((item, i) => emitElement(name, s.item, item, `${ptr}/${i}`));
      return;
    }
    emitElement(name, s, v, ptr);
  };

  const emitElement = (name: string, s: Shape, v: unknown, ptr: string): void => {
    out.push(open(name));
    if (s.kind === 'object') emitObjectChildren(s, v, ptr);
    else if (s.kind === 'array') emitScalarText(v, ptr); // unreachable: arrays of arrays are refused
    else out.push(escapeCanonicalText(scalarText(s, v, ptr), ptr));
    out.push(close(name));
  };

  const scalarText = (s: StringShape | IntegerShape | NumberShape | BooleanShape, v: unknown, ptr: string): string => {
    switch (s.kind) {
      case 'string':
        if (typeof v === 'string') return v;
        break;
      case 'boolean':
        if (typeof v === 'boolean') return v ? 'true' : 'false';
        break;
      case 'integer':
        if (typeof v === 'number' && Number.isSafeInteger(v)) return numberText(v);
        break;
      case 'number':
        if (typeof v === 'number' && Number.isFinite(v)) return numberText(v);
        break;
    }
    if (lenient) return looseText(v);
    throw mappingError(ptr, `expected ${s.kind === 'integer' ? 'a safe integer' : s.kind === 'number' ? 'a finite number' : `a ${s.kind}`}`);
  };

  const emitScalarText = (v: unknown, ptr: string): void => {
    out.push(escapeCanonicalText(looseText(v), ptr));
  };

  /** Lenient only: a value with no schema, written structurally so negative cases reach the XSD. */
  const emitLoose = (name: string, v: unknown): void => {
    if (Array.isArray(v)) {
      for (const item of v) emitLoose(name, item);
      return;
    }
    out.push(open(name));
    if (v !== null && typeof v === 'object') {
      for (const [k, sub] of Object.entries(v)) if (NCNAME.test(k)) emitLoose(k, sub);
    } else {
      out.push(escapeCanonicalText(looseText(v), ''));
    }
    out.push(close(name));
  };

  emitObjectChildren(shape, payload, '');
  return out.join('');
}

/** XML Schema lexical form of a finite number that `Number()` reads back to the same value (−0 included). */
function numberText(v: number): string {
  return Object.is(v, -0) ? '-0' : String(v);
}

function looseText(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v === null || v === undefined) return '';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}


// ---------------------------------------------------------------------------------------
// XML → JSON

const XS_INTEGER = /^[+-]?[0-9]+$/;
const XS_DOUBLE = /^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([Ee][+-]?[0-9]+)?$/;
const XML_WS = /^[ \t\r\n]*$/;

/**
 * Maps the children of `element` back to JSON using `shape`: element names select the
 * properties, repeated elements rebuild arrays, text becomes the schema's JSON type.
 * Structure is checked (unknown or misplaced elements, text where elements belong,
 * attributes, repeated non-array elements); values keep XSD value semantics (whitespace
 * is collapsed for dates, numbers, booleans and base64, as XSD does before checking them).
 * Required properties and facets are not checked: validate the result with the JSON Schema.
 *
 * @param ns namespace URI every data element must be in
 * @param path XPath-like location of `element`, used in error pointers
 * @throws DavisError DAVIS_ERR_WIRE_MAPPING with `errors[0].pointer` the XPath-like
 *   location of the offending element
 */
export function xmlToPayload(shape: ObjectShape, element: XmlElement, ns: string, path: string): Record<string, unknown> {
  return readObject(shape, element, ns, path);
}

function readObject(shape: ObjectShape, el: XmlElement, ns: string, path: string): Record<string, unknown> {
  rejectAttributes(el, path);
  const byName = new Map<string, PropShape>(shape.props.map((p) => [p.name, p]));
  const derivedOf = new Map<string, PropShape>(shape.props.filter((p) => p.transliterated).map((p) => [p.name + TRANSLITERATED_SUFFIX, p]));
  const collected = new Map<string, unknown>();
  const counts = new Map<string, number>();
  const derivedSeen = new Set<string>();
  for (const child of el.children) {
    if (typeof child === 'string') {
      if (!XML_WS.test(child)) throw mappingError(path, 'text is not allowed in an element that holds other elements');
      continue;
    }
    const n = (counts.get(child.qname) ?? 0) + 1;
    counts.set(child.qname, n);
    const childPath = `${path}/${child.qname}${n > 1 ? `[${n}]` : ''}`;
    const base = child.ns === ns ? derivedOf.get(child.local) : undefined;
    if (base) {
      // The gateway-computed transliteration: checked for shape, then dropped (UMA never sent it).
      if (!collected.has(base.name) || derivedSeen.has(base.name)) throw mappingError(childPath, 'element not expected here');
      derivedSeen.add(base.name);
      readValue({ kind: 'string', base64: false }, child, ns, childPath);
      continue;
    }
    const prop = child.ns === ns ? byName.get(child.local) : undefined;
    if (!prop) throw mappingError(childPath, 'element not expected here');
    if (prop.shape.kind === 'array') {
      const item = readValue(prop.shape.item, child, ns, childPath);
      const list = (collected.get(prop.name) as unknown[] | undefined) ?? [];
      list.push(item);
      collected.set(prop.name, list);
    } else {
      if (collected.has(prop.name)) throw mappingError(childPath, 'element repeated');
      collected.set(prop.name, readValue(prop.shape, child, ns, childPath));
    }
  }
  // Insert keys in schema order, so the object looks like what UMA sent.
  const out: Record<string, unknown> = {};
  for (const p of shape.props) if (collected.has(p.name)) out[p.name] = collected.get(p.name);
  return out;
}

function readValue(shape: Shape, el: XmlElement, ns: string, path: string): unknown {
  if (shape.kind === 'object') return readObject(shape, el, ns, path);
  if (shape.kind === 'array') throw mappingError(path, 'arrays of arrays have no wire form');
  rejectAttributes(el, path);
  let text = '';
  for (const child of el.children) {
    if (typeof child !== 'string') throw mappingError(`${path}/${child.qname}`, 'element not allowed in a simple value');
    text += child;
  }
  switch (shape.kind) {
    case 'string':
      if (shape.base64) return text.replace(/[ \t\r\n]/g, '');
      return shape.format === 'date' ? text.replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, '') : text;
    case 'boolean': {
      const t = text.trim();
      if (t === 'true' || t === '1') return true;
      if (t === 'false' || t === '0') return false;
      throw mappingError(path, 'not an xs:boolean');
    }
    case 'integer': {
      const t = text.trim();
      if (!XS_INTEGER.test(t)) throw mappingError(path, 'not an xs:integer');
      const v = Number(t);
      if (!Number.isSafeInteger(v)) throw mappingError(path, 'integer outside ±(2^53 − 1)');
      return v;
    }
    case 'number': {
      const t = text.trim();
      if (!XS_DOUBLE.test(t)) throw mappingError(path, 'not a finite xs:double');
      return Number(t);
    }
  }
}

function rejectAttributes(el: XmlElement, path: string): void {
  if (el.attrs.length > 0) throw mappingError(`${path}/@${el.attrs[0]!.qname}`, 'attributes are not allowed on data elements');
}
