/**
 * The catalogue: one registry of every message type the gateway carries. Adding a type is
 * one JSON Schema under `schemas/json/`, one file under `src/catalogue/types/` and one line
 * in `ENTRIES` below; validation, the wire mapping and the XSD are derived from the schema.
 */
import type { MessageTypeSpec } from './types';
import { visApplicationCreate } from './types/vis-application-create';

/** Every message type, in catalogue order. Frozen: callers cannot add or replace entries. */
const ENTRIES: readonly MessageTypeSpec[] = Object.freeze([visApplicationCreate]);

const BY_ID: ReadonlyMap<string, MessageTypeSpec> = (() => {
  const map = new Map<string, MessageTypeSpec>();
  const xmlNames = new Set<string>();
  for (const spec of ENTRIES) {
    // A duplicate id or body element name would make routing or wire parsing ambiguous:
    // fail at load, not at the first message.
    if (map.has(spec.id)) throw new Error(`duplicate catalogue id ${spec.id}`);
    if (xmlNames.has(spec.xmlName)) throw new Error(`duplicate catalogue xmlName ${spec.xmlName}`);
    map.set(spec.id, spec);
    xmlNames.add(spec.xmlName);
  }
  return map;
})();

/** The catalogue entry for `id`, or `undefined` when the gateway does not know the type. */
export function getType(id: string): MessageTypeSpec | undefined {
  return BY_ID.get(id);
}

/** Every catalogue entry, in catalogue order (frozen array of frozen entries). */
export function listTypes(): readonly MessageTypeSpec[] {
  return ENTRIES;
}

/** The catalogue entry whose wire body element is named `xmlName`, or `undefined`. */
export function getTypeByXmlName(xmlName: string): MessageTypeSpec | undefined {
  return ENTRIES.find((t) => t.xmlName === xmlName);
}
