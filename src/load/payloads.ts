/**
 * The bodies a load sends: the valid examples of each message type
 * (`schemas/examples/<type>/valid-*.json`), each message with its own ordering key (the field
 * the catalogue names, e.g. `applicationNumber`) so that central sees distinct applications.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { getType } from '../catalogue/catalogue';
import { packageRoot } from '../catalogue/schema-file';

/** One example payload of one type. */
export interface PayloadTemplate {
  readonly type: string;
  /** The example's file name, e.g. `valid-adult-business-representation.json`. */
  readonly file: string;
  readonly payload: Readonly<Record<string, unknown>>;
  /** Top-level payload field holding the ordering key (from the catalogue), when it is one. */
  readonly keyField?: string;
}

/** Why a `--types` list cannot be loaded: names the type. */
export class PayloadError extends Error {
  readonly code = 'USAGE';
}

/**
 * Every valid example of each type, in file-name order. Throws {@link PayloadError} for an
 * unknown type, an inbound type (UMA never sends it) or a type without a valid example.
 */
export function loadTemplates(types: readonly string[], root = packageRoot()): PayloadTemplate[] {
  const out: PayloadTemplate[] = [];
  for (const type of types) {
    const spec = getType(type);
    if (!spec) throw new PayloadError(`--types: unknown message type "${type}" (davis catalogue lists them)`);
    if (spec.direction !== 'outbound') throw new PayloadError(`--types: "${type}" is sent by central, not by UMA`);
    const dir = path.join(root, 'schemas', 'examples', type);
    let files: string[];
    try {
      files = readdirSync(dir).filter((n) => /^valid-.*\.json$/.test(n)).sort();
    } catch {
      files = [];
    }
    if (!files.length) throw new PayloadError(`--types: no valid example for "${type}" in ${dir}`);
    const m = /^\/([^/~]+)$/.exec(spec.orderingKey);
    for (const file of files) {
      const payload = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as Record<string, unknown>;
      out.push({ type, file, payload, ...(m && typeof payload[m[1]] === 'string' ? { keyField: m[1] } : {}) });
    }
  }
  return out;
}

/**
 * The JSON body `{"type", "payload"}` of a message from `t`, its ordering key set to `key`
 * when the type has one (`key` must fit the field's pattern: capitals, digits and `-`).
 */
export function messageBody(t: PayloadTemplate, key?: string): string {
  const payload = key !== undefined && t.keyField ? { ...t.payload, [t.keyField]: key } : t.payload;
  return JSON.stringify({ type: t.type, payload });
}
