/**
 * The wire profile of a JSON Schema, and the compiler that turns a catalogue schema into the
 * shape the payload codec (`payload-codec.ts`) and the XSD generator walk. Schema-driven
 * JSON ⇄ XML mapping of message payloads. There is no per-type code: the
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
import { TRANSLITERATED_SUFFIX } from './icao-transliteration';

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
/** Element names must be NCNames not reserved by XML (also the names the lenient codec writes). */
export const WIRE_ELEMENT_NAME = /^(?!xml)[A-Za-z_][A-Za-z0-9._-]*$/i;

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
    const name = m[1];
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
        return maxItems === undefined ? out : { ...out, maxItems: maxItems };
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
          s.enum = node.enum;
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
      if (!WIRE_ELEMENT_NAME.test(name)) throw profileError(`${path}/properties/${name}`, 'property names must be XML NCNames');
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
  const root = compileNode(schema, '') as ObjectShape;
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
