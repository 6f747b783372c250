/**
 * Loads the example payloads of every catalogue type from `schemas/examples/<type>/`:
 * `valid-*.json`, and `invalid-*.json` with their sibling `invalid-*.expect.json`.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../src/catalogue/schema-file';

/** What an invalid example must produce. */
export interface Expectation {
  /** Catalogue error code of the rejection. */
  readonly code: string;
  /** Every pointer the JSON validation must report, no more, no less. */
  readonly errors: readonly { readonly pointer: string }[];
  /** Whether the wire XSD rejects the example forced to XML; if not, why it cannot. */
  readonly xsd: { readonly rejects: boolean; readonly why?: string };
}

/** One example file. */
export interface Example {
  readonly type: string;
  readonly file: string;
  readonly payload: unknown;
  readonly expect?: Expectation;
}

export function examplesDir(type: string): string {
  return join(packageRoot(), 'schemas', 'examples', type);
}

export function loadExamples(type: string): { valid: Example[]; invalid: Example[] } {
  const dir = examplesDir(type);
  if (!existsSync(dir)) return { valid: [], invalid: [] };
  const files = readdirSync(dir).sort();
  const read = (f: string): unknown => JSON.parse(readFileSync(join(dir, f), 'utf8'));
  const valid = files.filter((f) => /^valid-.*\.json$/.test(f)).map((file) => ({ type, file, payload: read(file) }));
  const invalid = files
    .filter((f) => /^invalid-.*\.json$/.test(f) && !f.endsWith('.expect.json'))
    .map((file) => ({ type, file, payload: read(file), expect: read(file.replace(/\.json$/, '.expect.json')) as Expectation }));
  return { valid, invalid };
}

/** The example answer data of a type: `schemas/examples/<type>/answer-*.json` (what central returns). */
export function loadAnswerExamples(type: string): { type: string; file: string; data: Record<string, unknown> }[] {
  const dir = examplesDir(type);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => /^answer-.*\.json$/.test(f))
    .sort()
    .map((file) => ({ type, file, data: JSON.parse(readFileSync(join(dir, file), 'utf8')) as Record<string, unknown> }));
}
