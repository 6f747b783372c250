/**
 * Generators of HTTP requests for the API fuzz: targets from the OpenAPI document, bodies from
 * the catalogue's valid examples and mutations of them (wrong types, missing and extra keys,
 * huge strings, unicode edge cases, duplicated keys, broken UTF-8, hostile XML shapes), bad
 * content types and charsets, random paths, query strings and headers.
 */
import fc from 'fast-check';
import type { InjectOptions } from 'fastify';
import { openApiDocument } from '../../src/api/openapi';
import { listTypes } from '../../src/catalogue/catalogue';
import type { SigningKey } from '../../src/signing/types';
import { signCanonical } from '../../src/signing/xmldsig';
import { buildRequestXml } from '../../src/wire/envelope';
import { loadExamples } from '../validation/examples';
import { FUZZ_TOKENS } from './fuzz-stack';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

const examplesOf = (direction: 'outbound' | 'inbound') => listTypes({ direction })
  .flatMap((t) => loadExamples(t.id).valid.map((e) => ({ type: t.id, payload: e.payload as Json })));
export const OUTBOUND_EXAMPLES = examplesOf('outbound');
export const INBOUND_EXAMPLES = examplesOf('inbound');

const API = openApiDocument('fuzz') as { paths: Record<string, Record<string, { parameters?: { name: string; in: string; schema: Record<string, unknown> }[] }>> };

// ---------------------------------------------------------------------------------------------
// values

const UNICODE_EDGES = [
  '\u0000', '\u0007', '\uFEFF', '\u202E', '\u200B', '\u2028', '\u2029', '\uD800', '\uDFFF', '\uDBFF\uDFFF', 'e\u0301', '\u0130',
  '\uFFFD', '\uFFFF', '😀', '👩‍👩‍👧', 'Ⅻ', 'ǅ', 'ß', 'İı', '\u00A0', '\t\r\n', '"', '\\', '</x>', ']]>', '&amp;', '&#0;', '%00', '${x}', '{{x}}',
];

const weirdString = fc.oneof(
  { weight: 4, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 3, arbitrary: fc.constantFrom(...UNICODE_EDGES) },
  { weight: 2, arbitrary: fc.tuple(fc.constantFrom(...UNICODE_EDGES), fc.string({ maxLength: 10 })).map(([a, b]) => b + a + b) },
  { weight: 1, arbitrary: fc.integer({ min: 1000, max: 300_000 }).map((n) => 'Ä'.repeat(n)) },
  { weight: 1, arbitrary: fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty') },
);

const weirdValue: fc.Arbitrary<Json> = fc.oneof(
  { weight: 3, arbitrary: weirdString },
  { weight: 2, arbitrary: fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.constantFrom(0, -0, 1e308, -1, 2 ** 53 + 1)) },
  { weight: 1, arbitrary: fc.boolean() },
  { weight: 1, arbitrary: fc.constant(null) },
  { weight: 1, arbitrary: fc.array(fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>, { maxLength: 5 }) },
  { weight: 1, arbitrary: fc.dictionary(weirdString, fc.jsonValue({ maxDepth: 1 }) as fc.Arbitrary<Json>, { maxKeys: 4 }) },
  { weight: 1, arbitrary: fc.integer({ min: 100, max: 5000 }).map((n) => Array.from({ length: n }, () => 'x') as Json) },
);

interface Op { kind: 'replace' | 'delete' | 'add'; path: number[]; key: string; value: Json }

const op: fc.Arbitrary<Op> = fc.record({
  kind: fc.constantFrom('replace' as const, 'delete' as const, 'add' as const),
  path: fc.array(fc.nat(), { maxLength: 6 }),
  key: weirdString,
  value: weirdValue,
});

/** Applies a mutation to a copy of `v`: the path picks a child by index at each level. */
function mutate(v: Json, o: Op): Json {
  const root: Json = structuredClone(v);
  let parent: Json = root;
  let depth = 0;
  for (;;) {
    const kids = parent !== null && typeof parent === 'object' ? Object.keys(parent) : [];
    if (kids.length === 0) break;
    const k = kids[(o.path[depth] ?? 0) % kids.length];
    const child: Json = (parent as Record<string, Json>)[k];
    const last = depth >= o.path.length - 1 || child === null || typeof child !== 'object' || Object.keys(child).length === 0;
    if (last) {
      const target = parent as Record<string, Json>;
      if (o.kind === 'replace') target[k] = o.value;
      else if (o.kind === 'delete') { if (Array.isArray(target)) target.splice(Number(k), 1); else Reflect.deleteProperty(target, k); }
      else if (Array.isArray(target)) target.push(o.value);
      else Object.defineProperty(target, o.key, { value: o.value, enumerable: true, writable: true, configurable: true });
      return root;
    }
    parent = child;
    depth++;
  }
  return o.kind === 'replace' ? o.value : root;
}

// ---------------------------------------------------------------------------------------------
// text and byte level

type TextOp =
  | { kind: 'duplicate-key' } | { kind: 'truncate'; at: number } | { kind: 'bom' } | { kind: 'deep'; n: number }
  | { kind: 'bad-utf8'; at: number; bytes: number[] } | { kind: 'splice'; at: number; s: string } | { kind: 'escaped-key' };

const BAD_UTF8 = [[0xff], [0xfe, 0xff], [0xc0, 0xaf], [0xe0, 0x80, 0xaf], [0xe2, 0x82], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0x80], [0xf8, 0x88, 0x80, 0x80, 0x80]];

const textOp: fc.Arbitrary<TextOp> = fc.oneof(
  fc.constant({ kind: 'duplicate-key' as const }),
  fc.constant({ kind: 'escaped-key' as const }),
  fc.nat().map((at) => ({ kind: 'truncate' as const, at })),
  fc.constant({ kind: 'bom' as const }),
  fc.integer({ min: 1, max: 20_000 }).map((n) => ({ kind: 'deep' as const, n })),
  fc.tuple(fc.nat(), fc.constantFrom(...BAD_UTF8)).map(([at, bytes]) => ({ kind: 'bad-utf8' as const, at, bytes })),
  fc.tuple(fc.nat(), fc.oneof(fc.constantFrom('{', '}', '[', ']', ',', ':', '"', '\\', '\\u', '\\ud800', 'null', '1e999', '-', '<', '&', '<!DOCTYPE x>'), weirdString))
    .map(([at, s]) => ({ kind: 'splice' as const, at, s })),
);

function applyText(text: string, o: TextOp): Buffer {
  switch (o.kind) {
    case 'duplicate-key': return Buffer.from(text.replace(/^\s*\{/, '{"type":"vis.application.create",'));
    case 'escaped-key': return Buffer.from(text.replace(/^\s*\{/, '{"\\u0074ype":"vis.application.delete",'));
    case 'truncate': return Buffer.from(text.slice(0, o.at % (text.length + 1)));
    case 'bom': return Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)]);
    case 'deep': return Buffer.from(text.startsWith('<') ? '<a>'.repeat(o.n) + '</a>'.repeat(o.n) : '['.repeat(o.n) + text + ']'.repeat(o.n));
    case 'bad-utf8': {
      const b = Buffer.from(text);
      // inside a string literal where there is one, else anywhere
      const q = text.indexOf('"', o.at % (text.length + 1));
      const at = q >= 0 ? Buffer.byteLength(text.slice(0, q + 1)) : o.at % (b.length + 1);
      return Buffer.concat([b.subarray(0, at), Buffer.from(o.bytes), b.subarray(at)]);
    }
    case 'splice': {
      const at = o.at % (text.length + 1);
      return Buffer.from(text.slice(0, at) + o.s + text.slice(at));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// XML

const UUIDISH = fc.uuid({ version: 4 });

function wireXml(ex: { type: string; payload: Json }, id: string, sender: string): string | undefined {
  try {
    return buildRequestXml({ messageId: id, type: ex.type, sender, created: new Date().toISOString() }, ex.payload);
  } catch {
    return undefined;
  }
}

/**
 * Shapes that made XML readers slow or unsafe (issue 10: attributes, namespace declarations,
 * siblings, depth, unterminated values), each at a few sizes up to the worst seen, built once:
 * building them per run would cost more than sending them.
 */
const HOSTILE_XML: readonly string[] = [1_000, 20_000, 60_000].flatMap((n) => [
  `<Request${Array.from({ length: n }, (_, i) => ` a${i}="v"`).join('')}/>`,
  `<Request${Array.from({ length: Math.min(n, 20_000) }, (_, i) => ` xmlns:p${i}="urn:x${i}"`).join('')}><p0:x/></Request>`,
  `<Request xmlns="urn:davis:wire:1"><Body>${'<x/>'.repeat(n * 3)}</Body></Request>`,
  `${'<a>'.repeat(n)}${'</a>'.repeat(n)}`,
  `<r a="${'x'.repeat(n * 5)}`,
  `<r>${'<!-- c -->'.repeat(n)}</r>`,
  `<r>${'<?pi x?>'.repeat(n)}</r>`,
  `<r>${'&amp;'.repeat(n)}</r>`,
]).concat([
  '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]><Request>&lol2;</Request>',
  '<!DOCTYPE r SYSTEM "file:///etc/passwd"><r/>',
  '<r xmlns:xi="http://www.w3.org/2001/XInclude"><xi:include href="file:///etc/passwd"/></r>',
  '<r a="1" a="2"/>',
  '<r><![CDATA[<x>]]></r><r/>',
  '<?xml version="1.1" encoding="ISO-8859-1"?><r>\u00e4</r>',
  '<r>&#x0;&#xD800;</r>',
  '<Request xmlns="urn:davis:wire:1" xmlns:ds="urn:not-dsig"><ds:Signature/></Request>',
]);
const hostileXml: fc.Arbitrary<string> = fc.constantFrom(...HOSTILE_XML);

// ---------------------------------------------------------------------------------------------
// bodies

export interface Body { kind: string; bytes?: Buffer }

const jsonEnvelope: fc.Arbitrary<Body> = fc.tuple(fc.constantFrom(...OUTBOUND_EXAMPLES), fc.array(op, { maxLength: 3 }), fc.option(textOp, { freq: 4 }), fc.boolean())
  .map(([ex, ops, t, asInbound]) => {
    let payload = ex.payload;
    for (const o of ops) payload = mutate(payload, o);
    const env: Json = { type: asInbound ? (INBOUND_EXAMPLES[0]?.type ?? ex.type) : ex.type, payload };
    const text = JSON.stringify(ops.length && ops[0].path.length === 0 ? mutate(env, ops[0]) : env);
    return { kind: `json:${ex.type}:${ops.map((o) => o.kind).join(',')}${t ? `:${t.kind}` : ''}`, bytes: t ? applyText(text, t) : Buffer.from(text) };
  });

function xmlBody(signer: () => SigningKey): fc.Arbitrary<Body> {
  return fc.oneof(
    { weight: 3, arbitrary: fc.tuple(fc.constantFrom(...OUTBOUND_EXAMPLES, ...INBOUND_EXAMPLES), UUIDISH, fc.constantFrom('FI', 'EU', 'SE', 'xx'), fc.option(textOp, { freq: 2 }), fc.boolean())
      .map(([ex, id, sender, t, sign]) => {
        const xml = wireXml(ex, id, sender) ?? '<Request/>';
        let text = xml;
        if (sign) { try { text = signCanonical(xml, signer()); } catch { /* unsignable: stays unsigned */ } }
        return { kind: `xml:${ex.type}${sign ? ':signed' : ''}${t ? `:${t.kind}` : ''}`, bytes: t ? applyText(text, t) : Buffer.from(text) };
      }) },
    { weight: 2, arbitrary: hostileXml.map((x) => ({ kind: 'xml:hostile', bytes: Buffer.from(x) })) },
    { weight: 1, arbitrary: fc.string({ maxLength: 200 }).map((s) => ({ kind: 'xml:text', bytes: Buffer.from(`<${s}>`) })) },
  );
}

const otherBody: fc.Arbitrary<Body> = fc.oneof(
  fc.constant({ kind: 'none' }),
  fc.constant({ kind: 'empty', bytes: Buffer.alloc(0) }),
  fc.jsonValue({ maxDepth: 4 }).map((v) => ({ kind: 'json:random', bytes: Buffer.from(JSON.stringify(v)) })),
  // a JSON string holding XML is a JSON string (issue 10, finding 5)
  fc.constantFrom(...OUTBOUND_EXAMPLES).map((ex) => ({ kind: 'json:string-xml', bytes: Buffer.from(JSON.stringify(wireXml(ex, '00000000-0000-4000-8000-000000000001', 'FI') ?? '<r/>')) })),
  fc.uint8Array({ maxLength: 2048 }).map((b) => ({ kind: 'bytes', bytes: Buffer.from(b) })),
  fc.string({ maxLength: 200 }).map((s) => ({ kind: 'text', bytes: Buffer.from(s) })),
);

// ---------------------------------------------------------------------------------------------
// requests

const CONTENT_TYPES = [
  'application/json', 'application/json; charset=utf-8', 'application/json;charset="UTF-8"', 'application/json; charset=iso-8859-1',
  'application/json; charset=utf-16', 'application/xml', 'application/xml; charset=utf-8', 'text/xml', 'text/xml; charset=windows-1252',
  'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/problem+json', 'application/json-seq',
  'APPLICATION/JSON', 'application/json; charset', 'application/json; charset=', ';', '*/*', 'application/*', 'application/xml+json',
];

const printable = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 80 });

const headers = fc.record({
  'content-type': fc.option(fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...CONTENT_TYPES) }, { weight: 1, arbitrary: printable }), { freq: 8 }),
  authorization: fc.option(fc.oneof(
    fc.constant(`Bearer ${FUZZ_TOKENS.admin}`), fc.constant(`Bearer ${FUZZ_TOKENS.uma}`), fc.constant('Bearer '), printable.map((s) => `Bearer ${s}`),
    printable.map((s) => `Basic ${s}`), printable,
  ), { freq: 2 }),
  'idempotency-key': fc.option(fc.oneof(printable, fc.string({ maxLength: 300 }).map((s) => encodeURIComponent(s)), fc.constant('k'.repeat(201))), { freq: 4 }),
  'x-correlation-id': fc.option(printable, { freq: 4 }),
  extra: fc.array(fc.tuple(fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/), printable), { maxLength: 3 }),
}).map(({ extra, ...h }) => {
  const out: Record<string, string> = {};
  for (const [k, v] of extra) if (!['content-length', 'transfer-encoding', 'host', 'connection', 'expect', 'content-encoding'].includes(k)) out[k] = v;
  for (const [k, v] of Object.entries(h)) if (v !== null) out[k] = v;
  return out;
});

/** A value for a query parameter of the OpenAPI document, valid for its schema or not. */
function paramValue(schema: Record<string, unknown>): fc.Arbitrary<string> {
  const valid: fc.Arbitrary<string>[] = [];
  if (Array.isArray(schema.enum)) valid.push(fc.constantFrom(...(schema.enum as string[])));
  if (schema.type === 'integer') valid.push(fc.integer({ min: -10, max: 6000 }).map(String));
  if (schema.anyOf) valid.push(fc.date({ noInvalidDate: true, min: new Date(0), max: new Date(4e12) }).map((d) => d.toISOString()), fc.constantFrom('2025-01-01', '2025-13-40', '2025-02-30T25:61:61Z'));
  if (schema.pattern) valid.push(fc.base64String({ maxLength: 80 }).map((s) => s.replace(/\+/g, '-').replace(/\//g, '_').replace(/=/g, '')));
  return fc.oneof(...valid, fc.string({ maxLength: 30 }), fc.constantFrom('', '%', '%zz', '%00', '\u0000', 'x'.repeat(600)));
}

const QUERY = (API.paths['/v1/messages'].get.parameters ?? []).filter((p) => p.in === 'query');

const listQuery: fc.Arbitrary<string> = fc.array(
  fc.oneof(
    { weight: 5, arbitrary: fc.constantFrom(...QUERY).chain((p) => paramValue(p.schema).map((v) => `${p.name}=${encodeURIComponent(v)}`)) },
    { weight: 1, arbitrary: fc.tuple(fc.string({ maxLength: 10 }), fc.string({ maxLength: 10 })).map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`) },
    { weight: 1, arbitrary: fc.constantFrom('type', 'limit', 'cursor', 'limit[]', 'status[0]', '__proto__[x]', '&', '=', '==', '%') },
  ), { maxLength: 5 },
).map((parts) => (parts.length ? `?${parts.join('&')}` : ''));

const idSegment = (known: () => string[]): fc.Arbitrary<string> => fc.oneof(
  { weight: 3, arbitrary: fc.nat().map((i) => { const k = known(); return k.length ? k[i % k.length] : '00000000-0000-4000-8000-000000000000'; }) },
  { weight: 2, arbitrary: UUIDISH },
  { weight: 2, arbitrary: fc.string({ maxLength: 40 }).map(encodeURIComponent) },
  { weight: 1, arbitrary: fc.constantFrom('%', '%zz', '%c0%af', '..', '%2e%2e%2f', 'x'.repeat(120), 'x'.repeat(5000), '%F0%9F%98%80', '%00') },
);

/** Every (method, path) of the OpenAPI document, with `{id}` to fill. */
const OPERATIONS = Object.entries(API.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => ({ method: m.toUpperCase(), path: p })));

const extraPaths = fc.oneof(
  fc.constantFrom('/', '/docs', '/docs/openapi.json', '/docs/docs.css', '/ops', '/ops/summary', '/ops/dashboard.js', '/ops/dashboard.css', '/favicon.ico', '/v1', '/v1/', '/v1/messages/', '//v1/messages', '/v1/messages/../messages', '/V1/MESSAGES', '/health', '/health/live/', '/_mock/received'),
  fc.webPath({ size: 'small' }).map((p) => (p.startsWith('/') ? p : `/${p}`)),
  fc.array(fc.string({ maxLength: 12 }).map(encodeURIComponent), { minLength: 1, maxLength: 6 }).map((s) => `/${s.join('/')}`),
);

export interface FuzzRequest {
  readonly kind: string;
  readonly inject: InjectOptions;
}

export function requests(known: () => string[], signer: () => SigningKey): fc.Arbitrary<FuzzRequest> {
  const target = fc.oneof(
    { weight: 8, arbitrary: fc.constantFrom(...OPERATIONS) },
    { weight: 1, arbitrary: fc.record({ method: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD'), path: extraPaths }) },
  ).chain((t) => fc.tuple(fc.constant(t), idSegment(known), t.path === '/v1/messages' && t.method === 'GET' ? listQuery : fc.oneof(fc.constant(''), listQuery)))
    .map(([t, id, q]) => ({ method: t.method, url: t.path.replace('{id}', id) + q }));
  const body = fc.oneof({ weight: 5, arbitrary: jsonEnvelope }, { weight: 3, arbitrary: xmlBody(signer) }, { weight: 2, arbitrary: otherBody });
  const anything = fc.tuple(target, headers, body, fc.constantFrom('127.0.0.1', '127.0.0.1', '127.0.0.1', '192.0.2.10', '::1')).map(([t, h, b, remoteAddress]) => {
    const hdrs = { ...h };
    // a content type that fits the body most of the time, so the deeper layers are reached
    if (!('content-type' in hdrs) && b.bytes) hdrs['content-type'] = b.kind.startsWith('xml') ? 'application/xml' : 'application/json';
    const withBody = b.bytes !== undefined && t.method !== 'GET' && t.method !== 'HEAD';
    return {
      kind: `${t.method} ${t.url.slice(0, 80)} [${b.kind}]`,
      inject: { method: t.method, url: t.url, headers: hdrs, remoteAddress, ...(withBody ? { payload: b.bytes } : {}) },
    };
  });
  // Requests a well-behaved client sends, with at most one mutation of the payload: without
  // them few requests would get past the edge into validation, mapping, signing and the journal.
  const submitJson = fc.tuple(fc.constantFrom(...OUTBOUND_EXAMPLES), fc.option(op, { freq: 2 }), fc.option(fc.constantFrom(`Bearer ${FUZZ_TOKENS.admin}`), { freq: 2 }), fc.option(printable.filter((k) => /^[\x21-\x7e]{1,200}$/.test(k)), { freq: 2 }))
    .map(([ex, o, auth, key]): FuzzRequest => ({
      kind: `POST /v1/messages [json:${ex.type}${o ? `:${o.kind}` : ''}]`,
      inject: {
        method: 'POST', url: '/v1/messages', remoteAddress: '127.0.0.1',
        headers: { 'content-type': 'application/json', ...(auth ? { authorization: auth } : {}), ...(key ? { 'idempotency-key': key } : {}) },
        payload: JSON.stringify({ type: ex.type, payload: o ? mutate(ex.payload, o) : ex.payload }),
      },
    }));
  const submitXml = fc.tuple(fc.constantFrom(...OUTBOUND_EXAMPLES), UUIDISH).map(([ex, id]): FuzzRequest => ({
    kind: `POST /v1/messages [xml:${ex.type}]`,
    inject: { method: 'POST', url: '/v1/messages', remoteAddress: '127.0.0.1', headers: { 'content-type': 'application/xml' }, payload: wireXml(ex, id, 'FI') ?? '<Request/>' },
  }));
  const notify = fc.tuple(fc.constantFrom(...INBOUND_EXAMPLES), UUIDISH, fc.boolean()).map(([ex, id, sign]): FuzzRequest => {
    const xml = wireXml(ex, id, 'EU') ?? '<Request/>';
    let text = xml;
    if (sign) { try { text = signCanonical(xml, signer()); } catch { /* unsignable */ } }
    return { kind: `POST /v1/central/notifications [${ex.type}${sign ? ':signed' : ''}]`, inject: { method: 'POST', url: '/v1/central/notifications', remoteAddress: '127.0.0.1', headers: { 'content-type': 'application/xml' }, payload: text } };
  });
  return fc.oneof({ weight: 6, arbitrary: anything }, { weight: 2, arbitrary: submitJson }, { weight: 1, arbitrary: submitXml }, { weight: 1, arbitrary: notify });
}
