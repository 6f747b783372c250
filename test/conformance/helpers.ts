import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { conformanceCommand } from '../../src/cli/commands/conformance';

/** The bundled suite folder. */
export const SUITE_DIR = path.join(__dirname, '..', '..', 'conformance', 'suites');
const EXAMPLES = path.join(__dirname, '..', '..', 'schemas', 'examples');

/** Runs `davis conformance …` the way main.ts does (parseArgs with the command's options), capturing output. */
export async function conformance(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const a = parseArgs({ args, options: { ...conformanceCommand.options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
  let out = '';
  let err = '';
  const code = await conformanceCommand.run(a.values, a.positionals, { out: (s) => { out += s; }, err: (s) => { err += s; } });
  return { code, out, err };
}

export { freePort } from '../helpers/gateway-process';

/** Keys whose values are personal data in every catalogue type. */
const PERSONAL_KEY = /^(surname|firstNames|surnameAtBirth|dateOfBirth|placeOfBirth|street|visaStickerNumber|newVisaStickerNumber|documentNumber)$/;

/**
 * Names, birth dates and places, streets and document numbers found in the example payloads
 * and the bundled payload file: none may appear where personal data must not.
 */
export function personalValues(): Set<string> {
  const out = new Set<string>();
  // A place of birth may also be where an authority sits: such a value is not evidence of a leak.
  const elsewhere = new Set<string>();
  const walk = (v: unknown, key: string, parent: string): void => {
    if (typeof v === 'string') {
      if (v.length >= 5 && (PERSONAL_KEY.test(key) || (key === 'number' && /document/i.test(parent)))) out.add(v);
      else elsewhere.add(v);
    } else if (Array.isArray(v)) v.forEach((x) => walk(x, key, parent));
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, k, key);
  };
  for (const type of readdirSync(EXAMPLES)) {
    for (const f of readdirSync(path.join(EXAMPLES, type)).filter((n) => n.endsWith('.json') && !n.endsWith('.expect.json'))) {
      walk(JSON.parse(readFileSync(path.join(EXAMPLES, type, f), 'utf8')), '', '');
    }
  }
  walk(JSON.parse(readFileSync(path.join(SUITE_DIR, 'payloads', 'application.json'), 'utf8')), '', '');
  for (const v of elsewhere) out.delete(v);
  return out;
}

/** The personal values that occur in a text. */
export function leaks(text: string, values: Set<string>): string[] {
  return [...values].filter((v) => text.includes(v));
}
