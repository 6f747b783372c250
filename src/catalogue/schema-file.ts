import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

let cachedRoot: string | undefined;

/**
 * The folder holding the project's `package.json`. Walking up from this file (rather than a
 * fixed `../..`) keeps schema loading working both from `src/` under ts-jest and from the
 * compiled `dist/src/`.
 *
 * @throws Error when no `package.json` is found above this file (a broken install).
 */
export function packageRoot(): string {
  if (cachedRoot !== undefined) return cachedRoot;
  let dir = __dirname;
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'schemas'))) {
      cachedRoot = dir;
      return dir;
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no package.json with a schemas/ folder above ${__dirname}`);
    dir = parent;
  }
}

/**
 * Reads and parses `schemas/json/<fileName>` from the package root. Called once per type at
 * catalogue load; the result is deep-frozen by the caller.
 */
export function readJsonSchemaFile(fileName: string): Record<string, unknown> {
  const text = readFileSync(join(packageRoot(), 'schemas', 'json', fileName), 'utf8');
  const parsed: unknown = JSON.parse(text);
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new Error(`schemas/json/${fileName} is not a JSON object`);
  }
  return parsed as Record<string, unknown>;
}
