/** `davis validate [--type T] FILE...`: JSON messages or bare payloads against the catalogue, wire XML against the XSD. */
import path from 'node:path';
import { getType } from '../../catalogue/catalogue';
import { isDavisError, type FieldError } from '../../errors/errors';
import { checkEnvelope } from '../../exchange/submit';
import { validatePayload } from '../../validation/validate';
import { readWire } from '../../wire/read-wire';
import { createXsdValidator, type XsdValidator } from '../../wire/xsd';
import { readInput, usageError, type Command } from '../command';

const HELP = `Usage: davis validate [--type T] FILE...

Validates each file: a JSON message ({"type": "...", "payload": {...}}) against the catalogue
schema, or a wire XML document (screened and parsed, the XSD, then mapped to its type and
checked against that type's schema; the signature is not checked: see davis verify).

A bare payload (what goes under "payload") is validated as type T with --type T, and as the
folder's type without it when the file lies in schemas/examples/<type>/ (the examples'
*.expect.json files are skipped). Errors carry the pointers the API answers for the same
payload sent as {"type": T, "payload": FILE}, i.e. under /payload.

Prints "FILE: valid" or one line per error: "FILE: POINTER: reason".

Options:
  --type T   the catalogue type of bare payload files (see davis catalogue)
  --help     this text

Exit codes: 0 all valid, 1 some invalid, 2 usage or a file cannot be read.
`;

/** The type of a bare payload in `schemas/examples/<type>/`, from its path. */
export function exampleTypeOf(file: string): string | undefined {
  const parts = path.resolve(file).split(path.sep);
  const i = parts.length - 3;
  return i >= 1 && parts[i] === 'examples' && parts[i - 1] === 'schemas' && getType(parts[i + 1]) ? parts[i + 1] : undefined;
}

/** A bare payload of `type`, with the API's pointers (under `/payload`). */
function validateBarePayload(text: string, type: string): FieldError[] {
  let payload: unknown;
  try {
    payload = JSON.parse(text);
  } catch (err) {
    return [{ pointer: '', message: `not JSON: ${(err as Error).message}` }];
  }
  if (!payload || typeof payload !== 'object' || Array.isArray(payload)) return [{ pointer: '/payload', message: 'must be an object' }];
  return validatePayload(type, payload as Record<string, unknown>).map((e) => ({ pointer: `/payload${e.pointer}`, message: e.message }));
}

function validateJsonMessage(text: string): FieldError[] {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (err) {
    return [{ pointer: '', message: `not JSON: ${(err as Error).message}` }];
  }
  const { type, payload } = checkEnvelope(body);
  if (!getType(type)) return [{ pointer: '/type', message: `unknown message type "${type}"` }];
  return validatePayload(type, payload).map((e) => ({ pointer: `/payload${e.pointer}`, message: e.message }));
}

export const validateCommand: Command = {
  options: { type: { type: 'string' } },
  help: HELP,
  async run(v, files, io) {
    if (!files.length) throw usageError('at least one FILE is required');
    const given = v.type === undefined ? undefined : String(v.type);
    if (given !== undefined && !getType(given)) throw usageError(`--type "${given}": not a catalogue message type (see davis catalogue)`);
    let invalid = false;
    const xsd = createXsdValidator();
    for (const file of files) {
      const inferred = given === undefined ? exampleTypeOf(file) : undefined;
      if (inferred && file.endsWith('.expect.json')) {
        io.out(`${file}: skipped (what an invalid example must produce)\n`);
        continue;
      }
      const text = readInput(file, io);
      if (text === undefined) return 2;
      let errors: FieldError[];
      try {
        const type = given ?? inferred;
        errors = text.trimStart().startsWith('<') ? validateWireXml(text, xsd, given)
          : type !== undefined ? validateBarePayload(text, type) : validateJsonMessage(text);
      } catch (err) {
        if (!isDavisError(err)) throw err;
        errors = err.errors?.length ? [...err.errors] : [{ pointer: '', message: `${err.code}: ${err.message}` }];
      }
      if (errors.length) {
        invalid = true;
        for (const e of errors) io.out(`${file}: ${e.pointer || '/'}: ${e.message}\n`);
      } else {
        io.out(`${file}: valid\n`);
      }
    }
    return invalid ? 1 : 0;
  },
};

/** A wire request or response read as the gateway reads one, minus the signature: no error, or the first step's. */
function validateWireXml(text: string, xsd: XsdValidator, type?: string): FieldError[] {
  const read = readWire(text, { xsd, validate: true });
  const actual = read.kind === 'request' ? read.header.type : undefined;
  if (type !== undefined && actual !== type) return [{ pointer: '', message: `a ${actual ?? 'central answer'} document, not --type ${type}` }];
  return [];
}
