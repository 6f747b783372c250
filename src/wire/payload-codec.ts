/**
 * The payload codec: a message payload (JSON) to the canonical XML of its body element and
 * back, driven by the type's compiled shape (`shape.ts`, where the rules are). The reader
 * walks the tree of THE XML parser (`src/xml/parser.ts`), the very tree the signature was
 * verified on; comments and processing instructions in it are ignored.
 */
import type { XmlElement } from '../xml/parser';
import { escapePointerToken } from '../util/json-pointer';
import { TRANSLITERATED_SUFFIX, transliterateIcao } from './icao-transliteration';
import { mappingError } from './mapping-error';
import { WIRE_ELEMENT_NAME, type BooleanShape, type IntegerShape, type NumberShape, type ObjectShape, type PropShape, type Shape, type StringShape } from './shape';
import { escapeCanonicalText } from './wire-text';


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
      if (WIRE_ELEMENT_NAME.test(key)) emitLoose(key, obj[key]);
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
      for (const [k, sub] of Object.entries(v)) if (WIRE_ELEMENT_NAME.test(k)) emitLoose(k, sub);
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
    if (child.type !== 'element') {
      if (child.type === 'text' && !XML_WS.test(child.value)) throw mappingError(path, 'text is not allowed in an element that holds other elements');
      continue;
    }
    const n = (counts.get(child.qname) ?? 0) + 1;
    counts.set(child.qname, n);
    const childPath = `${path}/${child.qname}${n > 1 ? `[${n}]` : ''}`;
    const base = child.namespaceURI === ns ? derivedOf.get(child.localName) : undefined;
    if (base) {
      // The gateway-computed transliteration: checked for shape, then dropped (UMA never sent it).
      if (!collected.has(base.name) || derivedSeen.has(base.name)) throw mappingError(childPath, 'element not expected here');
      derivedSeen.add(base.name);
      readValue({ kind: 'string', base64: false }, child, ns, childPath);
      continue;
    }
    const prop = child.namespaceURI === ns ? byName.get(child.localName) : undefined;
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
    if (child.type === 'element') throw mappingError(`${path}/${child.qname}`, 'element not allowed in a simple value');
    if (child.type === 'text') text += child.value;
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
  if (el.attributes.length > 0) throw mappingError(`${path}/@${el.attributes[0].qname}`, 'attributes are not allowed on data elements');
}

