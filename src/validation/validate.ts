/**
 * JSON validation at the edge: every catalogue schema compiled once with ajv 8 (draft
 * 2020-12, ajv-formats, `allErrors`, `strict`), and ajv's errors turned into one
 * `{ pointer, message }` per problem with the pointer aimed at the offending field.
 *
 * Pointer convention (RFC 6901):
 * - `validatePayload` pointers are relative to the payload: `/applicant/surname`;
 * - `validateAnswer` pointers are relative to the answer data;
 * - `validateEnvelope` pointers are relative to the HTTP body: `/type`, `/payload`, and
 *   payload errors prefixed `/payload/…` (e.g. `/payload/applicant/surname`);
 * - a missing required property points at the property itself (`/applicant/surname`), an
 *   unexpected property at that property (`/applicant/nickname`), a property that must be
 *   absent at that property, a wrong choice (none or several of "exactly one of") at the
 *   choice object (`/fingerprints`), anything else at the failing value.
 *
 * After the JSON Schema, `validatePayload` runs the type's business rules (catalogue
 * `rules`: dates against each other, ages), only on a payload the schema accepted, so a rule
 * may rely on the schema's structure; their errors come back the same way.
 */
import Ajv2020, { type ErrorObject, type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { DavisError, type FieldError } from '../errors/errors';
import { getType, isInbound, listTypes } from '../catalogue/catalogue';
import { TRANSLITERATION_KEYWORD, type MessageTypeSpec } from '../catalogue/types';
import { escapePointerToken } from '../util/json-pointer';
import { regExpEngine } from '../util/base64';

let ajv: Ajv2020 | undefined;
const compiled = new Map<string, ValidateFunction>();
const compiledAnswers = new Map<string, ValidateFunction>();

/**
 * A new ajv instance configured as the catalogue schemas need: draft 2020-12, strict,
 * `allErrors`, formats, and the annotation keyword `x-icao-transliteration` (wire-only: it
 * asks the builder for a transliteration element and validates nothing).
 */
export function createAjv(options: { verbose?: boolean } = {}): Ajv2020 {
  const instance = new Ajv2020({ allErrors: true, strict: true, verbose: options.verbose ?? false, code: { regExp: regExpEngine } });
  addFormats(instance);
  instance.addKeyword(TRANSLITERATION_KEYWORD);
  return instance;
}

function getAjv(): Ajv2020 {
  // verbose: errors carry their schema, so messages can name the allowed values.
  ajv ??= createAjv({ verbose: true });
  return ajv;
}

/** @throws DavisError DAVIS_ERR_CATALOGUE_UNKNOWN_TYPE (errors at `/type`) */
function specFor(typeId: string): MessageTypeSpec {
  const spec = getType(typeId);
  if (!spec) {
    throw new DavisError('DAVIS_ERR_CATALOGUE_UNKNOWN_TYPE', `unknown message type "${typeId}"`, {
      errors: [{ pointer: '/type', message: `unknown message type "${typeId}"` }],
    });
  }
  return spec;
}

function validatorFor(spec: MessageTypeSpec): ValidateFunction {
  let fn = compiled.get(spec.id);
  if (!fn) {
    fn = getAjv().compile(spec.schema as Record<string, unknown>);
    compiled.set(spec.id, fn);
  }
  return fn;
}

/**
 * Compiles every catalogue schema (outbound and inbound types), answer schemas included, now (about 10 ms each) instead
 * of on first use, so a broken schema fails at start and the first request pays no compile cost.
 */
export function compileAll(): void {
  for (const t of listTypes({ direction: 'all' })) {
    validatorFor(t);
    if (t.answer) answerValidatorFor(t.id, t.answer.schema);
  }
}

function answerValidatorFor(typeId: string, schema: object): ValidateFunction {
  let fn = compiledAnswers.get(typeId);
  if (!fn) {
    fn = getAjv().compile(schema);
    compiledAnswers.set(typeId, fn);
  }
  return fn;
}

/**
 * Validates a payload against its catalogue type's JSON Schema. Returns one error per
 * problem (empty when valid), pointers relative to the payload (see the module comment).
 *
 * @throws DavisError DAVIS_ERR_CATALOGUE_UNKNOWN_TYPE when `typeId` is not in the catalogue
 *   (its `errors` point at `/type`).
 */
export function validatePayload(typeId: string, payload: unknown): FieldError[] {
  const spec = specFor(typeId);
  const fn = validatorFor(spec);
  if (!fn(payload)) return toFieldErrors(fn.errors ?? []);
  const rules = spec.rules ?? [];
  return rules.flatMap((r) => r.check(payload as Record<string, unknown>));
}

/**
 * Validates the data of a central answer (`CentralAnswer.data`) against the answer schema of
 * its type (the one its `answerTo` names). Returns one error per problem, pointers relative
 * to the data; `[{ pointer: '/answerTo', … }]` when `answerTo` names no type with answer data.
 * Answer schemas are compiled on first use (or by `compileAll`).
 */
export function validateAnswer(data: unknown): FieldError[] {
  const answerTo = data !== null && typeof data === 'object' && !Array.isArray(data) ? (data as Record<string, unknown>).answerTo : undefined;
  const spec = typeof answerTo === 'string' ? getType(answerTo) : undefined;
  if (!spec?.answer) return [{ pointer: '/answerTo', message: 'must name a catalogue type that has answer data' }];
  const fn = answerValidatorFor(spec.id, spec.answer.schema);
  return fn(data) ? [] : toFieldErrors(fn.errors ?? []);
}

/**
 * Like `validatePayload`, but throws when the payload is invalid.
 *
 * @throws DavisError DAVIS_ERR_VALIDATION_FAILED with `errors`; DAVIS_ERR_CATALOGUE_UNKNOWN_TYPE.
 */
export function assertValidPayload(typeId: string, payload: unknown): void {
  const errors = validatePayload(typeId, payload);
  if (errors.length) throw new DavisError('DAVIS_ERR_VALIDATION_FAILED', undefined, { errors });
}

/**
 * Validates the body of `POST /v1/messages`: `{ "type": "<catalogue id>", "payload": {…} }`,
 * nothing else. Payload errors come back prefixed `/payload`. Returns [] when valid.
 *
 * @throws DavisError DAVIS_ERR_CATALOGUE_UNKNOWN_TYPE (errors at `/type`) when `type` is a
 *   string that is not a catalogue id, or is the id of an inbound type (a central
 *   notification, which UMA never sends), so the API can answer with that code.
 */
export function validateEnvelope(body: unknown): FieldError[] {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    return [{ pointer: '', message: 'must be an object with "type" and "payload"' }];
  }
  const b = body as Record<string, unknown>;
  const errors: FieldError[] = [];
  for (const key of Object.keys(b)) {
    if (key !== 'type' && key !== 'payload') errors.push({ pointer: `/${escapePointerToken(key)}`, message: 'must NOT be present (only "type" and "payload")' });
  }
  const typeOk = typeof b.type === 'string' && b.type.length > 0;
  if (!('type' in b)) errors.push({ pointer: '/type', message: "must have required property 'type'" });
  else if (!typeOk) errors.push({ pointer: '/type', message: 'must be a non-empty string' });
  const payloadOk = b.payload !== null && typeof b.payload === 'object' && !Array.isArray(b.payload);
  if (!('payload' in b)) errors.push({ pointer: '/payload', message: "must have required property 'payload'" });
  else if (!payloadOk) errors.push({ pointer: '/payload', message: 'must be an object' });
  if (typeOk && !getType(b.type as string)) {
    throw new DavisError('DAVIS_ERR_CATALOGUE_UNKNOWN_TYPE', `unknown message type "${String(b.type)}"`, {
      errors: [{ pointer: '/type', message: `unknown message type "${String(b.type)}"` }, ...errors],
    });
  }
  if (typeOk && isInbound(b.type as string)) {
    throw new DavisError('DAVIS_ERR_CATALOGUE_UNKNOWN_TYPE', `"${String(b.type)}" is a central notification: UMA cannot send it`, {
      errors: [{ pointer: '/type', message: 'is an inbound (central → national) notification type, not one UMA sends' }, ...errors],
    });
  }
  if (typeOk && payloadOk) {
    for (const e of validatePayload(b.type as string, b.payload)) errors.push({ pointer: `/payload${e.pointer}`, message: e.message });
  }
  return errors;
}

/**
 * Turns ajv errors into field errors: aims each at the field (see the module comment), drops
 * the `if` wrapper errors (the `then`/`else` errors beneath them already say what is wrong)
 * and duplicates.
 */
function toFieldErrors(errors: readonly ErrorObject[]): FieldError[] {
  const out: FieldError[] = [];
  const seen = new Set<string>();
  for (const e of errors) {
    if (e.keyword === 'if') continue;
    const fe = toFieldError(e);
    const key = `${fe.pointer}\u0000${fe.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(fe);
  }
  return out;
}

function toFieldError(e: ErrorObject): FieldError {
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'required':
      return { pointer: `${e.instancePath}/${escapePointerToken(String(p.missingProperty))}`, message: 'is required' };
    case 'additionalProperties':
      return { pointer: `${e.instancePath}/${escapePointerToken(String(p.additionalProperty))}`, message: 'is not allowed here (not in the schema)' };
    case 'false schema':
      return { pointer: e.instancePath, message: 'must be absent here' };
    case 'minProperties':
    case 'maxProperties': {
      const parent = e.parentSchema;
      const props = (parent?.properties ?? {}) as Record<string, unknown>;
      const names = Object.keys(props);
      if (p.limit === 1 && parent?.minProperties === 1 && parent.maxProperties === 1) {
        return { pointer: e.instancePath, message: `must have exactly one of: ${names.join(', ')}` };
      }
      if (e.keyword === 'minProperties' && parent?.maxProperties === undefined) {
        // "at least n properties" with required ones counted: name the optional ones that satisfy it.
        const required = new Set((parent?.required ?? []) as string[]);
        const optional = names.filter((n) => !required.has(n));
        return { pointer: e.instancePath, message: `must have at least one of: ${optional.join(', ')}` };
      }
      return { pointer: e.instancePath, message: e.message ?? e.keyword };
    }
    case 'enum':
      return { pointer: e.instancePath, message: `must be one of: ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}` };
    case 'const':
      return { pointer: e.instancePath, message: `must be ${JSON.stringify(p.allowedValue)}` };
    case 'format':
      return { pointer: e.instancePath, message: `must be a valid ${String(p.format)}${p.format === 'date' ? ' (YYYY-MM-DD, a real calendar date)' : ''}` };
    case 'uniqueItems':
      return { pointer: e.instancePath, message: `must not repeat items (items ${String(p.j)} and ${String(p.i)} are equal)` };
    default:
      return { pointer: e.instancePath, message: e.message ?? e.keyword };
  }
}
