/** `davis validate FILE...`: JSON messages against the catalogue, wire XML against the XSD. */
import { getType } from '../../catalogue/catalogue';
import { isDavisError, type FieldError } from '../../errors/errors';
import { checkEnvelope } from '../../exchange/submit';
import { validatePayload } from '../../validation/validate';
import { readWire } from '../../wire/read-wire';
import { createXsdValidator, type XsdValidator } from '../../wire/xsd';
import { readInput, type Command } from '../command';

const HELP = `Usage: davis validate FILE...

Validates each file: a JSON message ({"type": "...", "payload": {...}}) against the catalogue
schema, or a wire XML document (screened and parsed, the XSD, then mapped to its type and
checked against that type's schema; the signature is not checked: see davis verify). Prints "FILE: valid" or one line per
error: "FILE: POINTER: reason".

Exit codes: 0 all valid, 1 some invalid, 2 a file cannot be read.
`;

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
  options: {},
  help: HELP,
  async run(_v, files, io) {
    if (!files.length) {
      io.err(HELP);
      return 2;
    }
    let invalid = false;
    const xsd = createXsdValidator();
    for (const file of files) {
      const text = readInput(file, io);
      if (text === undefined) return 2;
      let errors: FieldError[];
      try {
        errors = text.trimStart().startsWith('<') ? validateWireXml(text, xsd) : validateJsonMessage(text);
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
function validateWireXml(text: string, xsd: XsdValidator): FieldError[] {
  readWire(text, { xsd, validate: true });
  return [];
}
