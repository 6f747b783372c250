import { readFileSync } from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../catalogue/schema-file';

let cached: string | undefined;

/** The gateway's version, from package.json. */
export function packageVersion(): string {
  cached ??= (JSON.parse(readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
  return cached;
}
