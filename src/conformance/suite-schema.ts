/**
 * JSON Schemas (draft-07, ajv) of a suite file. The loader validates in three layers so that
 * a mistake gives one clear message rather than a cascade of `oneOf` branches: the suite
 * skeleton, then each `cases` item as a case or a `from-examples` generator, then each
 * step against the schema of its kind.
 */
import { MATCHER_KEYS } from './matchers';
import { PHASES } from './types';

const str = { type: 'string', minLength: 1 };
/** A duration: `250ms`, `30s`, `2m`, or a number of milliseconds. */
const duration = { anyOf: [{ type: 'string', pattern: '^\\s*\\d+(\\.\\d+)?\\s*(ms|s|m)\\s*$' }, { type: 'integer', minimum: 0 }] };
const name = { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_-]*$' };
const namespaces = { type: 'object', additionalProperties: { type: 'string', minLength: 1 }, propertyNames: { pattern: '^[A-Za-z_][A-Za-z0-9_.-]*$' } };
const stringMap = { type: 'object', additionalProperties: { type: 'string' } };
const pointerMap = { type: 'object', propertyNames: { pattern: '^(/.*)?$' } };

/** A check: exactly one locator, and matcher keys (none: the value must exist). */
const check = {
  type: 'object',
  properties: {
    pointer: { type: 'string' },
    path: { type: 'string', pattern: '^\\s*\\$' },
    xpath: str,
    namespaces,
    ...Object.fromEntries(MATCHER_KEYS.map((k) => [k, {}])),
  },
  additionalProperties: false,
};
const checks = { type: 'array', items: check };

/** Where a payload comes from (send and notify). */
const payloadSources = {
  type: str,
  payload: { type: 'object' },
  'payload-file': str,
  example: { type: 'string', pattern: '^[^/]+/[^/]+$' },
  set: pointerMap,
  remove: { type: 'array', items: { type: 'string' } },
  replace: { type: 'object' },
};

/** One ESP configuration entry of `mock-state: {esp-hits: …}` (the mock's `EspHitConfig`). */
const espEntry = {
  type: 'object',
  properties: {
    identity: {
      type: 'object',
      properties: { surname: str, firstNames: str, dateOfBirth: str },
      required: ['surname'],
      additionalProperties: false,
    },
    travelDocument: {
      type: 'object',
      properties: { number: str, issuingCountry: str },
      required: ['number'],
      additionalProperties: false,
    },
    hits: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          sourceSystem: str, recordId: str, matchedOn: { type: 'array', items: str },
          identity: { type: 'object' }, travelDocument: { type: 'object' }, detail: { type: 'string' },
        },
        required: ['sourceSystem', 'recordId'],
        additionalProperties: false,
      },
    },
  },
  required: ['hits'],
  additionalProperties: false,
};

/** Schema of each step kind's body, by kind. */
export const STEP_SCHEMAS: Readonly<Record<string, object>> = Object.freeze({
  send: {
    type: 'object',
    properties: {
      ...payloadSources,
      body: {},
      raw: { type: 'string' },
      'content-type': str,
      headers: stringMap,
      as: name,
    },
    additionalProperties: false,
  },
  expect: {
    type: 'object',
    properties: {
      message: name,
      http: {},
      headers: { type: 'object' },
      response: checks,
      problem: {
        type: 'object',
        properties: {
          code: {},
          pointers: { type: 'array', items: { type: 'string' } },
          'includes-pointers': { type: 'array', items: { type: 'string' } },
        },
        additionalProperties: false,
      },
      status: { anyOf: [str, { type: 'array', items: str, minItems: 1 }] },
      central: {
        type: 'object',
        properties: { result: {}, code: {}, reference: {}, reason: {}, responseId: {}, answeredAt: {}, data: {} },
        additionalProperties: false,
      },
      attempts: {},
      json: checks,
      xml: checks,
      namespaces,
      received: {
        type: 'object',
        properties: {
          includes: { type: 'array', items: name },
          excludes: { type: 'array', items: name },
          order: { type: 'array', items: name, minItems: 2 },
          repeats: { type: 'object', propertyNames: name },
          codes: { type: 'object', propertyNames: name },
        },
        additionalProperties: false,
        minProperties: 1,
      },
      within: duration,
    },
    additionalProperties: false,
    minProperties: 1,
  },
  capture: {
    type: 'object',
    minProperties: 1,
    propertyNames: name,
    additionalProperties: {
      type: 'object',
      properties: {
        message: name,
        from: { enum: ['status', 'response', 'wire'] },
        pointer: { type: 'string' },
        path: { type: 'string', pattern: '^\\s*\\$' },
        xpath: str,
        namespaces,
      },
      additionalProperties: false,
    },
  },
  mock: {
    type: 'object',
    properties: {
      faults: {
        type: 'object',
        properties: {
          latencyMs: { type: 'integer', minimum: 0 },
          errorRate: { type: 'number', minimum: 0, maximum: 1 },
          errorStatus: { type: 'integer', minimum: 100, maximum: 599 },
          resetRate: { type: 'number', minimum: 0, maximum: 1 },
          resetAfterRate: { type: 'number', minimum: 0, maximum: 1 },
          malformedRate: { type: 'number', minimum: 0, maximum: 1 },
          unsignedRate: { type: 'number', minimum: 0, maximum: 1 },
          refuseForMs: { type: 'integer', minimum: 0 },
        },
        // Faults the mock learns later pass through; the mock itself refuses unknown names.
        additionalProperties: true,
      },
      seed: { type: 'integer', minimum: 0 },
      clear: { const: true },
      reset: { const: true },
    },
    additionalProperties: false,
    minProperties: 1,
  },
  wait: duration,
  request: {
    type: 'object',
    properties: {
      method: { enum: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'] },
      path: { type: 'string', pattern: '^/' },
      base: { enum: ['gateway', 'mock'] },
      body: {},
      headers: stringMap,
      as: name,
    },
    required: ['path'],
    additionalProperties: false,
  },
  notify: {
    type: 'object',
    properties: { ...payloadSources, 'message-id': str, body: {}, as: name },
    additionalProperties: false,
  },
  'mock-state': {
    type: 'object',
    properties: {
      apply: {
        type: 'object',
        properties: { ...payloadSources, sender: str },
        required: ['sender'],
        additionalProperties: false,
      },
      link: {
        type: 'object',
        properties: {
          linkId: str,
          colour: str,
          records: {
            type: 'array',
            minItems: 2,
            items: { type: 'object', properties: { system: str, recordId: str }, required: ['system', 'recordId'], additionalProperties: false },
          },
          verifierMemberState: str,
          verifierName: str,
          singleIdentificationNumber: str,
        },
        required: ['linkId', 'records'],
        additionalProperties: false,
      },
      'esp-hits': { anyOf: [espEntry, { type: 'array', items: espEntry, minItems: 1 }] },
      'clear-esp-hits': { const: true },
      as: name,
    },
    additionalProperties: false,
    minProperties: 1,
  },
  'expect-webhook': {
    type: 'object',
    properties: {
      event: {},
      message: name,
      headers: { type: 'object' },
      json: checks,
      signature: { enum: ['valid', 'absent', 'any'] },
      within: duration,
      as: name,
    },
    additionalProperties: false,
  },
});

/** Step kinds, in documentation order. */
export const STEP_KINDS = Object.freeze(Object.keys(STEP_SCHEMAS));

const id = { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$' };
const tags = { type: 'array', items: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._:-]*$' }, uniqueItems: true };
const phase = { enum: [...PHASES] };

/** A case (an item of `cases` without `from-examples`). */
export const CASE_SCHEMA = {
  type: 'object',
  properties: {
    id,
    title: str,
    article: str,
    phase,
    tags,
    skip: str,
    requires: { type: 'array', items: { enum: ['webhook'] }, uniqueItems: true },
    variables: { type: 'object' },
    steps: { type: 'array', minItems: 1, items: { type: 'object' } },
  },
  required: ['id', 'title', 'article', 'steps'],
  additionalProperties: false,
};

/** A generator: one case per example file under `schemas/examples/<type>/`. */
export const GENERATOR_SCHEMA = {
  type: 'object',
  properties: {
    'from-examples': { anyOf: [str, { type: 'array', items: str, minItems: 1 }] },
    phase,
    'id-prefix': { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._:-]*$' },
    tags,
    include: { enum: ['all', 'valid', 'invalid'] },
    prerequisites: { type: 'object', additionalProperties: { type: 'array', items: str } },
    'unique-keys': { type: 'array', items: { type: 'string', pattern: '^/' } },
    outcomes: {
      type: 'object',
      additionalProperties: {
        type: 'object',
        properties: { status: { anyOf: [str, { type: 'array', items: str }] }, central: { type: 'object' }, attempts: {} },
        additionalProperties: false,
      },
    },
    skip: { type: 'object', additionalProperties: str },
    xml: checks,
  },
  required: ['from-examples'],
  additionalProperties: false,
};

/** The suite skeleton (cases and steps are checked item by item). */
export const SUITE_SCHEMA = {
  type: 'object',
  properties: {
    suite: id,
    title: str,
    version: { type: ['string', 'number'] },
    interface: str,
    description: { type: 'string' },
    phase,
    namespaces,
    variables: { type: 'object' },
    defaults: {
      type: 'object',
      properties: { within: duration, poll: duration },
      additionalProperties: false,
    },
    'exit-criteria': {
      type: 'object',
      propertyNames: phase,
      additionalProperties: {
        type: 'object',
        properties: { 'max-failures': { type: 'integer', minimum: 0 } },
        additionalProperties: false,
      },
    },
    webhook: {
      type: 'object',
      properties: { secret: str },
      additionalProperties: false,
    },
    recorded: { type: 'object' },
    cases: { type: 'array', minItems: 1, items: { type: 'object' } },
  },
  required: ['suite', 'title', 'cases'],
  additionalProperties: false,
};

// What a document that passed the schemas above looks like: the loader reads it through these.

type Duration = string | number;

/** A check item (`json`, `response`, `xml`) as written: one locator and matcher keys. */
export interface RawCheck {
  readonly pointer?: string;
  readonly path?: string;
  readonly xpath?: string;
  readonly namespaces?: Readonly<Record<string, string>>;
  readonly [matcher: string]: unknown;
}

/** Where a payload comes from, as written. */
export interface RawPayloadSource {
  readonly type?: string;
  readonly payload?: Readonly<Record<string, unknown>>;
  readonly 'payload-file'?: string;
  readonly example?: string;
  readonly set?: Readonly<Record<string, unknown>>;
  readonly remove?: readonly string[];
  readonly replace?: Readonly<Record<string, unknown>>;
}

/** Each step kind's body as written, by kind. */
export interface RawStepBodies {
  readonly send: RawPayloadSource & {
    readonly body?: unknown; readonly raw?: string; readonly 'content-type'?: string;
    readonly headers?: Readonly<Record<string, string>>; readonly as?: string;
  };
  readonly notify: RawPayloadSource & { readonly 'message-id'?: string; readonly body?: unknown; readonly as?: string };
  readonly expect: {
    readonly message?: string;
    readonly http?: unknown;
    readonly headers?: Readonly<Record<string, unknown>>;
    readonly response?: readonly RawCheck[];
    readonly problem?: { readonly code?: unknown; readonly pointers?: readonly string[]; readonly 'includes-pointers'?: readonly string[] };
    readonly status?: string | readonly string[];
    readonly central?: Readonly<Record<string, unknown>>;
    readonly attempts?: unknown;
    readonly json?: readonly RawCheck[];
    readonly xml?: readonly RawCheck[];
    readonly namespaces?: Readonly<Record<string, string>>;
    readonly received?: {
      readonly includes?: readonly string[]; readonly excludes?: readonly string[]; readonly order?: readonly string[];
      readonly repeats?: Readonly<Record<string, unknown>>; readonly codes?: Readonly<Record<string, unknown>>;
    };
    readonly within?: Duration;
  };
  readonly capture: Readonly<Record<string, {
    readonly message?: string; readonly from?: 'status' | 'response' | 'wire';
    readonly pointer?: string; readonly path?: string; readonly xpath?: string; readonly namespaces?: Readonly<Record<string, string>>;
  }>>;
  readonly mock: { readonly faults?: Readonly<Record<string, unknown>>; readonly seed?: number; readonly clear?: true; readonly reset?: true };
  readonly wait: Duration;
  readonly request: {
    readonly method?: string; readonly path: string; readonly base?: 'gateway' | 'mock'; readonly body?: unknown;
    readonly headers?: Readonly<Record<string, string>>; readonly as?: string;
  };
  readonly 'mock-state': {
    readonly apply?: RawPayloadSource & { readonly sender: string };
    readonly link?: { readonly colour?: string; readonly [field: string]: unknown };
    readonly 'esp-hits'?: unknown;
    readonly 'clear-esp-hits'?: true;
    readonly as?: string;
  };
  readonly 'expect-webhook': {
    readonly event?: unknown; readonly message?: string; readonly headers?: Readonly<Record<string, unknown>>;
    readonly json?: readonly RawCheck[]; readonly signature?: 'valid' | 'absent' | 'any'; readonly within?: Duration; readonly as?: string;
  };
}

/** A step that passed its kind's schema: the kind and its body. */
export type RawStep = { [K in keyof RawStepBodies]: { readonly kind: K; readonly body: RawStepBodies[K] } }[keyof RawStepBodies];

/** A case as written. */
export interface RawCase {
  readonly id: string;
  readonly title: string;
  readonly article: string;
  readonly phase?: (typeof PHASES)[number];
  readonly tags?: readonly string[];
  readonly skip?: string;
  readonly requires?: readonly 'webhook'[];
  readonly variables?: Readonly<Record<string, unknown>>;
  readonly steps: readonly unknown[];
}

/** A `from-examples` generator as written. */
export interface RawGenerator {
  readonly 'from-examples': string | readonly string[];
  readonly phase?: (typeof PHASES)[number];
  readonly 'id-prefix'?: string;
  readonly tags?: readonly string[];
  readonly include?: 'all' | 'valid' | 'invalid';
  readonly prerequisites?: Readonly<Record<string, readonly string[]>>;
  readonly 'unique-keys'?: readonly string[];
  readonly outcomes?: Readonly<Record<string, { status?: string | string[]; central?: Record<string, unknown>; attempts?: unknown }>>;
  readonly skip?: Readonly<Record<string, string>>;
  readonly xml?: readonly RawCheck[];
}

/** The suite skeleton as written. */
export interface RawSuite {
  readonly suite: string;
  readonly title: string;
  readonly version?: string | number;
  readonly interface?: string;
  readonly description?: string;
  readonly phase?: (typeof PHASES)[number];
  readonly namespaces?: Readonly<Record<string, string>>;
  readonly variables?: Readonly<Record<string, unknown>>;
  readonly defaults?: { readonly within?: Duration; readonly poll?: Duration };
  readonly 'exit-criteria'?: Readonly<Partial<Record<(typeof PHASES)[number], { readonly 'max-failures'?: number }>>>;
  readonly webhook?: { readonly secret?: string };
  readonly recorded?: Readonly<Record<string, unknown>>;
  readonly cases: readonly unknown[];
}
