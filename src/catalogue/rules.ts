/**
 * Building blocks of catalogue business rules: checks on schema-valid payloads that JSON
 * Schema cannot express (one date against another, ages). Dates are `YYYY-MM-DD` strings
 * (the schemas' `format: date`), so comparing them as strings compares them as dates.
 */
import type { FieldError } from '../errors/errors';
import type { BusinessRule } from './types';

type Json = Readonly<Record<string, unknown>>;

/** The value at a JSON Pointer (RFC 6901), or undefined. */
export function valueAt(payload: unknown, pointer: string): unknown {
  let v: unknown = payload;
  if (pointer === '') return v;
  for (const raw of pointer.split('/').slice(1)) {
    const token = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[token];
  }
  return v;
}

/** Full years between a date of birth and a later date (both `YYYY-MM-DD`). */
export function ageOn(dateOfBirth: string, on: string): number {
  const years = Number(on.slice(0, 4)) - Number(dateOfBirth.slice(0, 4));
  return on.slice(5) < dateOfBirth.slice(5) ? years - 1 : years;
}

/** Age of majority for the minors rules (Art 9(4)(m), 22a(1)(i)): 18 [I: national law decides; 18 everywhere in the Schengen area]. */
export const AGE_OF_MAJORITY = 18;

/**
 * Rule: the date at `earlier` is not after the date at `later` (skipped when either is absent).
 * The error points at `later`.
 */
export function notAfter(id: string, earlier: string, later: string, description: string): BusinessRule {
  return {
    id,
    description,
    check(p: Json): FieldError[] {
      const a = valueAt(p, earlier);
      const b = valueAt(p, later);
      if (typeof a !== 'string' || typeof b !== 'string' || a <= b) return [];
      return [{ pointer: later, message: `must not be before ${earlier.slice(1).replace(/\//g, '.')} (${description})` }];
    },
  };
}

/**
 * Rule: an applicant who is a minor on the application date has a parental authority or
 * legal guardian (the array at `guardians` is present). The error points at `guardians`.
 */
export function minorNeedsGuardian(id: string, dateOfBirth: string, applicationDate: string, guardians: string, article: string): BusinessRule {
  return {
    id,
    description: `an applicant under ${AGE_OF_MAJORITY} on the application date has a parental authority or legal guardian (${article})`,
    check(p: Json): FieldError[] {
      const dob = valueAt(p, dateOfBirth);
      const on = valueAt(p, applicationDate);
      if (typeof dob !== 'string' || typeof on !== 'string' || ageOn(dob, on) >= AGE_OF_MAJORITY) return [];
      if (valueAt(p, guardians) !== undefined) return [];
      return [{ pointer: guardians, message: `is required: the applicant is a minor on the application date (${article})` }];
    },
  };
}

/** Rule: two values differ (skipped when either is absent); the error points at `second`. */
export function differ(id: string, first: string, second: string, description: string): BusinessRule {
  return {
    id,
    description,
    check(p: Json): FieldError[] {
      const a = valueAt(p, first);
      const b = valueAt(p, second);
      if (a === undefined || b === undefined || a !== b) return [];
      return [{ pointer: second, message: `must differ from ${first.slice(1).replace(/\//g, '.')} (${description})` }];
    },
  };
}
