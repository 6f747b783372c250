/**
 * `from-examples`: one case per example payload under `schemas/examples/<type>/`, generated
 * when the suite is loaded, so a message type added to the catalogue with its examples is
 * covered without editing any suite.
 *
 * - `valid-*.json`: sent with its ordering key (the application number) made unique to the
 *   run, after the prerequisites the suite names (e.g. the application file a decision
 *   needs, sent with the same key); expected `delivered` with central `ACCEPTED`/`OK` unless
 *   the suite's `outcomes` say otherwise; the wire XML central received is checked
 *   (message type, id, body element, one enveloped signature over the whole document).
 * - `invalid-*.json` with its sibling `invalid-*.expect.json` (`{code, errors: [{pointer}]}`):
 *   sent as is; expected the HTTP status of that code and exactly those pointers (under
 *   `/payload`).
 * - Central's notifications (inbound types) are pushed by the mock (`notify`) instead: a valid
 *   one must be acknowledged (201), journaled as `inbound`/`delivered` with its payload; an
 *   invalid one refused (422 with `DAVIS_ERR_WIRE_SCHEMA` when the XSD already rejects it, else
 *   the example's code) and not journaled. An invalid example without a wire form (the mock
 *   cannot build it, so central could not send it) gives no case: it cannot exist on the wire
 *   (its JSON Schema refusal is covered by the payload validation tests).
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { listTypes, getType } from '../catalogue/catalogue';
import { packageRoot } from '../catalogue/schema-file';
import { ERRORS } from '../errors/errors';
import { buildRequestXml } from '../wire/envelope';
import { getPointer } from './jsonpath';
import type { Case, Check, InputFile, Phase, SourceRef, Step } from './types';

/** One example file. */
export interface ExampleFile {
  /** File name without `.json`, e.g. `valid-adult`. */
  readonly name: string;
  readonly file: string;
  readonly data: unknown;
  readonly sha256: string;
  /** For invalid examples: what the gateway must answer; `xsdRejects`: the wire XSD already refuses it. */
  readonly expect?: { readonly code: string; readonly pointers: readonly string[]; readonly xsdRejects?: boolean };
}

/** The default examples folder (`<package>/schemas/examples`). */
export function defaultExamplesDir(): string {
  return path.join(packageRoot(), 'schemas', 'examples');
}

function sha256(buf: Buffer | string): string {
  return createHash('sha256').update(buf).digest('hex');
}

/** Reads the valid and invalid examples of a type, sorted by name; none when the folder is missing. */
export function readExamples(type: string, dir = defaultExamplesDir()): { valid: ExampleFile[]; invalid: ExampleFile[] } {
  const folder = path.join(dir, type);
  if (!existsSync(folder)) return { valid: [], invalid: [] };
  const files = readdirSync(folder).filter((f) => f.endsWith('.json') && !f.endsWith('.expect.json')).sort();
  const read = (f: string): ExampleFile => {
    const file = path.join(folder, f);
    const buf = readFileSync(file);
    let data = JSON.parse(buf.toString('utf8')) as unknown;
    let expect: ExampleFile['expect'];
    if (f.startsWith('invalid-')) {
      const sibling = file.replace(/\.json$/, '.expect.json');
      let raw: { code?: string; errors?: { pointer: string }[]; xsd?: { rejects?: boolean } } | undefined;
      if (existsSync(sibling)) raw = JSON.parse(readFileSync(sibling, 'utf8'));
      else if (data && typeof data === 'object' && '$expect' in data) {
        // The expectation may live inside the example; it is not part of the payload.
        const { $expect, ...rest } = data as Record<string, unknown>;
        raw = $expect as typeof raw;
        data = rest;
      }
      expect = {
        code: raw?.code ?? 'DAVIS_ERR_VALIDATION_FAILED', pointers: (raw?.errors ?? []).map((e) => e.pointer),
        ...(typeof raw?.xsd?.rejects === 'boolean' ? { xsdRejects: raw.xsd.rejects } : {}),
      };
    }
    return { name: f.replace(/\.json$/, ''), file, data, sha256: sha256(buf), ...(expect ? { expect } : {}) };
  };
  return {
    valid: files.filter((f) => f.startsWith('valid-')).map(read),
    invalid: files.filter((f) => f.startsWith('invalid-')).map(read),
  };
}

/** Reads one example by `<type>/<name>` (name with or without `.json`). */
export function readExample(ref: string, dir = defaultExamplesDir()): { type: string; name: string; file: string; data: unknown; sha256: string } {
  const [type, rawName] = ref.split('/');
  const name = rawName.replace(/\.json$/, '');
  const file = path.join(dir, type, `${name}.json`);
  const buf = readFileSync(file);
  return { type, name, file, data: JSON.parse(buf.toString('utf8')), sha256: sha256(buf) };
}

/** What a `from-examples` item asks for (already schema-checked). */
export interface GeneratorSpec {
  readonly types: 'all' | readonly string[];
  readonly phase: Phase;
  readonly idPrefix: string;
  readonly tags: readonly string[];
  readonly include: 'all' | 'valid' | 'invalid';
  /**
   * `<type>/<example>`, `<type>` or `*` → what is sent first: `<type>` (its first valid
   * example) or `<type>/<example>`. `*` applies only to prerequisites sharing the ordering key.
   */
  readonly prerequisites: Readonly<Record<string, readonly string[]>>;
  /**
   * Pointers of identifiers central keeps unique (application, sticker, document numbers):
   * made unique to the run in every generated payload, and given to the prerequisites the
   * values of the example under test so that they prepare exactly what it refers to.
   * The type's ordering key is always one.
   */
  readonly uniqueKeys: readonly string[];
  /** `<type>` or `<type>/<example>` → the outcome expected instead of delivered/ACCEPTED/OK. */
  readonly outcomes: Readonly<Record<string, { status?: string | string[]; central?: Record<string, unknown>; attempts?: unknown }>>;
  /** `<type>/<example>` → why it is skipped. */
  readonly skip: Readonly<Record<string, string>>;
  /** Extra checks on the wire XML of every valid example. */
  readonly xml: readonly Check[];
  readonly namespaces: Readonly<Record<string, string>>;
}

/** The checks every valid example's wire XML must pass; `m` is the exchange name. */
function wireChecks(type: string, xmlName: string, ns: Readonly<Record<string, string>>): Check[] {
  const c = (xpath: string, spec: unknown): Check => ({ xpath, namespaces: ns, spec });
  return [
    c('/w:Request/w:Header/w:MessageType', type),
    c('/w:Request/w:Header/w:MessageId', '${m}'),
    c('string(/w:Request/@Id)', 'm-${m}'),
    c('local-name(/w:Request/w:Body/*)', xmlName),
    c('count(/w:Request/w:Body/*)', 1),
    c('count(/w:Request/ds:Signature)', 1),
    c("count(/w:Request/ds:Signature/ds:SignedInfo/ds:Reference[@URI=''])", 1),
  ];
}

/**
 * Expands a generator into cases. Types without examples give a skipped case saying so, so
 * that a catalogue type missing its examples shows in every report.
 */
export function generateExampleCases(g: GeneratorSpec, suiteId: string, source: SourceRef, dir = defaultExamplesDir()): { cases: Case[]; inputs: InputFile[]; problems: string[] } {
  const cases: Case[] = [];
  const inputs: InputFile[] = [];
  const problems: string[] = [];
  // `all`: every type, central's notifications (inbound) included.
  const catalogue = listTypes({ direction: 'all' });
  const types = g.types === 'all' ? catalogue.map((t) => t.id) : [...g.types];
  const cwd = process.cwd();
  const rel = (f: string) => (f.startsWith(cwd + path.sep) ? path.relative(cwd, f) : f);
  for (const type of types) {
    const spec = getType(type);
    if (!spec) {
      problems.push(`from-examples: "${type}" is not a catalogue type (davis catalogue lists them)`);
      continue;
    }
    let ex: ReturnType<typeof readExamples>;
    try {
      ex = readExamples(type, dir);
    } catch (err) {
      problems.push(`from-examples: cannot read the examples of ${type}: ${(err as Error).message}`);
      continue;
    }
    const base = { article: spec.article, phase: g.phase, requires: [], variables: {}, suiteId, source };
    if (!ex.valid.length && !ex.invalid.length) {
      cases.push({
        ...base, id: `${g.idPrefix}-${type}`, title: `${spec.title}: no examples`, tags: [...g.tags, type],
        skip: `no examples under schemas/examples/${type}/`, steps: [],
      });
      continue;
    }
    if (spec.direction === 'inbound') {
      // Central's notifications: UMA never sends them; the mock pushes them (`notify`).
      const notifyCases = inboundCases(g, type, ex, base);
      for (const e of [...ex.valid, ...ex.invalid]) inputs.push({ file: rel(e.file), sha256: e.sha256 });
      cases.push(...notifyCases.filter((c) => g.include === 'all' || c.tags.includes(g.include)));
      continue;
    }
    const prereqRefs = (e: ExampleFile): string[] => {
      const own = g.prerequisites[`${type}/${e.name}`] ?? g.prerequisites[type];
      return (own ?? g.prerequisites['*'] ?? []).filter((ref) => {
        const pt = ref.split('/')[0];
        const ps = getType(pt);
        // `*` only applies where the prerequisite shares the ordering key (the same application).
        return pt !== type && ps && (own !== undefined || ps.orderingKey === spec.orderingKey);
      });
    };
    if (g.include !== 'invalid') {
      for (const e of ex.valid) {
        inputs.push({ file: rel(e.file), sha256: e.sha256 });
        const id = `${g.idPrefix}-${type}-${e.name}`;
        const outcome = g.outcomes[`${type}/${e.name}`] ?? g.outcomes[type];
        const keys = [...new Set([spec.orderingKey, ...g.uniqueKeys])];
        // Every identifier value gets one run-unique stand-in, the same wherever it appears.
        const stand = new Map<string, string>();
        const standIn = (v: string): string => {
          if (!stand.has(v)) stand.set(v, `\${unique-like:k${stand.size + 1}:${v}}`);
          return stand.get(v)!;
        };
        const idsOf = (data: unknown): Map<string, string> => {
          const out = new Map<string, string>();
          for (const k of keys) {
            const v = getPointer(data, k);
            if (typeof v === 'string' && v.length >= 4 && !v.includes('}') && !v.includes(':')) out.set(k, v);
          }
          return out;
        };
        const mine = idsOf(e.data);
        for (const v of mine.values()) standIn(v);
        const steps: Step[] = [];
        let index = 0;
        let problem: string | undefined;
        prereqRefs(e).forEach((ref, k) => {
          const [pt, pname] = ref.split('/');
          const pex = pname ? readExamples(pt, dir).valid.find((x) => x.name === pname) : readExamples(pt, dir).valid[0];
          if (!pex) {
            problem = `from-examples: prerequisite ${ref} of ${type}/${e.name} has no such valid example`;
            return;
          }
          inputs.push({ file: rel(pex.file), sha256: pex.sha256 });
          const theirs = idsOf(pex.data);
          const set: Record<string, string> = {};
          const replace: Record<string, string> = {};
          for (const [key, v] of theirs) {
            // The prerequisite prepares what the example refers to: same key, the example's value.
            if (mine.has(key)) set[key] = standIn(mine.get(key)!);
            else replace[v] = standIn(v);
          }
          for (const [v, t] of stand) if (!(v in replace)) replace[v] = t;
          const name = `pre${k + 1}`;
          steps.push({
            kind: 'send', index: index++, source, type: pt, example: { type: pt, name: pex.name, data: pex.data },
            ...(Object.keys(set).length ? { set } : {}), replace, as: name,
          });
          steps.push({ kind: 'expect', index: index++, source, message: name, http: 202, status: 'delivered', central: { result: 'ACCEPTED' } });
        });
        if (problem) { problems.push(problem); continue; }
        steps.push({
          kind: 'send', index: index++, source, type,
          example: { type, name: e.name, data: e.data },
          replace: Object.fromEntries(stand), as: 'm',
        });
        steps.push({
          kind: 'expect', index: index++, source, message: 'm', http: 202,
          status: outcome?.status ?? 'delivered',
          central: outcome?.central ?? { result: 'ACCEPTED', code: 'OK' },
          ...(outcome?.attempts !== undefined ? { attempts: outcome.attempts } : {}),
          xml: [...wireChecks(type, spec.xmlName, g.namespaces), ...g.xml],
        });
        const skip = g.skip[`${type}/${e.name}`] ?? g.skip[type];
        cases.push({
          ...base, id, title: `${type} ${e.name}: ${outcome ? 'answered by central as the suite expects' : 'accepted and answered by central'}`,
          tags: [...g.tags, 'valid', type], steps, generated: { type, example: e.name }, ...(skip ? { skip } : {}),
        });
      }
    }
    if (g.include !== 'valid') {
      for (const e of ex.invalid) {
        inputs.push({ file: rel(e.file), sha256: e.sha256 });
        const code = e.expect!.code;
        const status = (ERRORS as Record<string, { status: number } | undefined>)[code]?.status ?? 422;
        const skip = g.skip[`${type}/${e.name}`] ?? g.skip[type];
        cases.push({
          ...base, id: `${g.idPrefix}-${type}-${e.name}`,
          title: `${type} ${e.name}: refused with ${code}`,
          tags: [...g.tags, 'invalid', type], generated: { type, example: e.name }, ...(skip ? { skip } : {}),
          steps: [
            { kind: 'send', index: 0, source, type, example: { type, name: e.name, data: e.data }, as: 'm' },
            {
              kind: 'expect', index: 1, source, message: 'm', http: status,
              problem: { code, ...(e.expect!.pointers.length ? { pointers: e.expect!.pointers.map((p) => `/payload${p}`) } : {}) },
            },
          ],
        });
      }
    }
  }
  return { cases, inputs, problems };
}

/** Example data as a literal in checks (checks are templates: `${` is written `$${`). */
function literal(v: unknown): unknown {
  if (typeof v === 'string') return v.replace(/\$\{/g, '$${');
  if (Array.isArray(v)) return v.map(literal);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, literal(x)]));
  return v;
}

/**
 * Cases for a notification type (inbound): the mock pushes each example as central would
 * (`notify`). Valid: acknowledged 201, journaled `inbound`/`delivered`, the payload kept as
 * central sent it. Invalid: refused with the code the XSD or the JSON Schema gives, nothing
 * journaled; none when the example has no wire form (central could not send it).
 */
function inboundCases(
  g: GeneratorSpec, type: string, ex: { valid: ExampleFile[]; invalid: ExampleFile[] },
  base: Pick<Case, 'article' | 'phase' | 'requires' | 'variables' | 'suiteId' | 'source'>,
): Case[] {
  const source = base.source;
  const out: Case[] = [];
  for (const e of ex.valid) {
    const skip = g.skip[`${type}/${e.name}`] ?? g.skip[type];
    out.push({
      ...base, id: `${g.idPrefix}-${type}-${e.name}`,
      title: `${type} ${e.name}: pushed by central, acknowledged and journaled with its payload`,
      tags: [...g.tags, 'valid', 'notification', type], generated: { type, example: e.name }, ...(skip ? { skip } : {}),
      steps: [
        { kind: 'notify', index: 0, source, type, example: { type, name: e.name, data: e.data }, as: 'm' },
        {
          kind: 'expect', index: 1, source, message: 'm',
          response: [
            { pointer: '/gatewayStatus', namespaces: {}, spec: { equals: 201 } },
            { pointer: '/gatewayAnswer', namespaces: {}, spec: { contains: '<w:InReplyTo>${m}</w:InReplyTo>' } },
          ],
          status: 'delivered',
          json: [
            { pointer: '/type', namespaces: {}, spec: { equals: type } },
            { pointer: '/direction', namespaces: {}, spec: { equals: 'inbound' } },
            { pointer: '/payload', namespaces: {}, spec: { equals: literal(e.data) } },
          ],
        },
      ],
    });
  }
  for (const e of ex.invalid) {
    const id = `${g.idPrefix}-${type}-${e.name}`;
    const tags = [...g.tags, 'invalid', 'notification', type];
    if (!hasWireForm(type, e.data)) continue;
    const code = e.expect!.xsdRejects ? 'DAVIS_ERR_WIRE_SCHEMA' : e.expect!.code;
    const status = (ERRORS as Record<string, { status: number } | undefined>)[code]?.status ?? 422;
    const skip = g.skip[`${type}/${e.name}`] ?? g.skip[type];
    out.push({
      ...base, id, title: `${type} ${e.name}: refused with ${code} when central sends it, not journaled`,
      tags, generated: { type, example: e.name }, ...(skip ? { skip } : {}),
      steps: [
        { kind: 'notify', index: 0, source, type, example: { type, name: e.name, data: e.data }, as: 'm' },
        {
          kind: 'expect', index: 1, source, message: 'm',
          response: [
            { pointer: '/gatewayStatus', namespaces: {}, spec: { equals: status } },
            { pointer: '/gatewayAnswer', namespaces: {}, spec: { matches: `"code"\\s*:\\s*"${code}"` } },
          ],
        },
        { kind: 'request', index: 2, source, method: 'GET', path: '/v1/messages/${m}', base: 'gateway', as: 'journal' },
        { kind: 'expect', index: 3, source, message: 'journal', http: 404 },
      ],
    });
  }
  return out;
}

/** Whether a payload can be written as a wire Request at all (central could send it). */
function hasWireForm(type: string, payload: unknown): boolean {
  try {
    buildRequestXml({ messageId: '00000000-0000-4000-8000-000000000000', type, sender: 'EU', created: '2025-01-01T00:00:00Z' }, payload);
    return true;
  } catch {
    return false;
  }
}
