import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const EXAMPLES = path.join(__dirname, '..', '..', 'schemas', 'examples', 'vis.application.create');

/** The first valid `vis.application.create` example. */
export function applicationExample(): Record<string, any> {
  const name = readdirSync(EXAMPLES).filter((f) => /^valid-.*\.json$/.test(f)).sort()[0];
  return JSON.parse(readFileSync(path.join(EXAMPLES, name), 'utf8'));
}

let counter = 0;
/** A valid application with a fresh application number (central refuses duplicates). */
export function freshApplication(number?: string): Record<string, any> {
  const p = structuredClone(applicationExample());
  p.applicationNumber = number ?? `FI-T-${process.pid.toString(36)}-${Date.now().toString(36)}-${(counter++).toString(36)}`.toUpperCase().slice(0, 30);
  return p;
}
