/**
 * What goes into an Art 34 record (Reg. (EC) 767/2008 Art 34, as amended by (EU) 2021/1134):
 * the data categories a message carries, the categories used as query criteria, the authority
 * code the payload names, and one builder per processing operation. Everything here reads
 * names from the catalogue schemas and never copies a value of the payload into a record,
 * except the authority code (an identifier of an authority, not of a person).
 */
import type { MessageTypeSpec } from '../catalogue/types';
import { DavisError } from '../errors/errors';
import type { AuditEvent, AuditOperation } from './audit';

type Schema = Readonly<Record<string, unknown>>;

/** Deepest path a category names (`applicant.address.city`); deeper fields fold into it. */
const MAX_DEPTH = 3;

/** Purposes of operations that are not a message of the catalogue. */
export const PURPOSES = Object.freeze({
  /** Reading and exporting records, and retention: data-protection monitoring and security. */
  monitoring: 'Reg. (EC) 767/2008 Art 34(2): data-protection monitoring and security of processing',
  /** Retention deletes what its period has passed. */
  retention: 'Reg. (EC) 767/2008 Art 23 and Art 34(2): retention periods',
  /** Keys and trust anchors: security of processing. */
  security: 'Reg. (EC) 767/2008 Art 32: security of processing',
  /** An operator re-queuing a message continues its original purpose; this is used when the type is unknown. */
  operations: 'Reg. (EC) 767/2008 Art 32: operation of the national interface',
});

function resolve(root: Schema, s: unknown): Schema | undefined {
  let cur = s as Schema | undefined;
  for (let hops = 0; cur && typeof cur.$ref === 'string' && hops < 16; hops++) {
    const m = /^#\/\$defs\/([^/]+)$/.exec(cur.$ref);
    const defs = root.$defs as Record<string, Schema> | undefined;
    cur = m && defs && Object.hasOwn(defs, m[1]) ? defs[m[1]] : undefined;
  }
  return cur && typeof cur === 'object' ? cur : undefined;
}

/** `propertiesOf` per schema object: the catalogue's schemas are frozen for the process's life. */
const propertiesMemo = new WeakMap<Schema, WeakMap<Schema, ReadonlyMap<string, Schema>>>();

/** The declared properties of a (resolved) object schema, its `allOf`/`oneOf`/`anyOf` branches included. */
function propertiesOf(root: Schema, s: Schema): ReadonlyMap<string, Schema> {
  let byRoot = propertiesMemo.get(root);
  if (!byRoot) propertiesMemo.set(root, (byRoot = new WeakMap()));
  let props = byRoot.get(s);
  if (!props) byRoot.set(s, (props = collectProperties(root, s)));
  return props;
}

function collectProperties(root: Schema, s: Schema): Map<string, Schema> {
  const out = new Map<string, Schema>();
  const visit = (x: Schema | undefined, depth: number): void => {
    if (!x || depth > 8) return;
    const props = x.properties as Record<string, unknown> | undefined;
    if (props && typeof props === 'object') {
      for (const k of Object.keys(props)) if (!out.has(k)) { const r = resolve(root, props[k]); if (r) out.set(k, r); }
    }
    for (const kw of ['allOf', 'oneOf', 'anyOf'] as const) {
      const list = x[kw];
      if (Array.isArray(list)) for (const b of list) visit(resolve(root, b), depth + 1);
    }
  };
  visit(s, 0);
  return out;
}

/** A biometric field: an object offering a `reference` into the national biometric store (facial image, fingerprints). */
function isBiometric(root: Schema, s: Schema): boolean {
  const ref = (s.properties as Record<string, Schema> | undefined)?.reference;
  return !!ref && typeof ref.$ref === 'string' && ref.$ref.endsWith('/BiometricReference') && resolve(root, ref) !== undefined;
}

/**
 * The data categories present in `value`, as dotted field names of `schema`
 * (`applicant.surname`, `travelDocument.number`, `biometrics.fingerprints`), sorted and unique.
 *
 * Only keys the schema declares under `properties` become names: a key that is not declared
 * (a map's keys, which could be data) is never copied, its parent is named instead. Arrays
 * name their items' fields without an index. Biometric fields (an object with a `reference`
 * to the biometric store) are named `biometrics.<field>` whichever form they take.
 */
export function categoriesOf(schema: Schema, value: unknown, prefix = ''): string[] {
  const out = new Set<string>();
  const walk = (s: Schema | undefined, v: unknown, path: string, depth: number): void => {
    if (v === undefined || v === null) return;
    if (Array.isArray(v)) {
      const items = s ? resolve(schema, s.items) : undefined;
      for (const item of v) walk(items, item, path, depth);
      if (!v.length && path) out.add(path);
      return;
    }
    const props = s && typeof v === 'object' ? propertiesOf(schema, s) : undefined;
    if (!props?.size || depth >= MAX_DEPTH) {
      if (path) out.add(path);
      return;
    }
    let named = false;
    for (const k of Object.keys(v)) {
      const ps = props.get(k);
      if (!ps) continue;
      named = true;
      const child = path ? `${path}.${k}` : k;
      if (isBiometric(schema, ps)) out.add(`biometrics.${k}`);
      else walk(ps, (v as Record<string, unknown>)[k], child, depth + 1);
    }
    if (!named && path) out.add(path);
  };
  walk(schema, value, prefix, prefix ? prefix.split('.').length : 0);
  return [...out].sort();
}

/** Payload members holding the search criteria of a query type. */
const CRITERIA_KEYS = ['criteria', 'query'] as const;

/**
 * The categories used as query criteria: for a type central answers with data (searches and
 * retrievals), the fields under `criteria` / `query` when the payload has them, otherwise
 * every field sent (a retrieval's keys). Undefined for types that query nothing.
 */
export function queryCategoriesOf(spec: MessageTypeSpec, payload: unknown): string[] | undefined {
  if (!spec.answer) return undefined;
  const p = payload && typeof payload === 'object' ? payload as Record<string, unknown> : {};
  const props = propertiesOf(spec.schema, spec.schema);
  for (const k of CRITERIA_KEYS) {
    if (p[k] !== undefined && props.has(k)) return categoriesOf(spec.schema, { [k]: p[k] });
  }
  return categoriesOf(spec.schema, payload);
}

/** Payload members naming the acting authority (`AuthorityRef` in the schemas), in order of preference. */
const AUTHORITY_KEYS = ['authority', 'verifyingAuthority'] as const;
const AUTHORITY_CODE = /^[A-Z0-9][A-Z0-9._-]{0,31}$/;

/** The authority code the payload names (`authority.code`, `verifyingAuthority.code`), if it names one. */
export function authorityOf(payload: unknown): string | undefined {
  if (!payload || typeof payload !== 'object') return undefined;
  for (const k of AUTHORITY_KEYS) {
    const a = (payload as Record<string, unknown>)[k];
    const code = a && typeof a === 'object' ? (a as Record<string, unknown>).code : undefined;
    if (typeof code === 'string' && AUTHORITY_CODE.test(code)) return code;
  }
  return undefined;
}

/** `X-Davis-Staff`: an identifier of the staff member who acted (not a name): 1-64 visible ASCII characters, no spaces. */
export const STAFF_PATTERN = /^[\x21-\x7e]{1,64}$/;

/**
 * The staff identifier of a request's `X-Davis-Staff` header, or undefined when there is none.
 *
 * @throws DavisError DAVIS_ERR_VALIDATION_FAILED when the header is repeated or not an identifier
 */
export function staffOf(header: string | string[] | undefined): string | undefined {
  if (header === undefined) return undefined;
  if (typeof header !== 'string' || !STAFF_PATTERN.test(header)) {
    throw new DavisError('DAVIS_ERR_VALIDATION_FAILED', 'X-Davis-Staff must be one identifier of 1-64 visible ASCII characters, no spaces', {
      errors: [{ pointer: '/headers/x-davis-staff', message: 'not a staff identifier (1-64 visible ASCII characters, no spaces)' }],
    });
  }
  return header;
}

/** Who acted, as every builder takes it. */
export interface Actor {
  readonly clientId: string;
  readonly staff?: string;
  readonly correlationId?: string;
}

function actorFields(a: Actor): Pick<AuditEvent, 'clientId' | 'staff' | 'correlationId'> {
  return { clientId: a.clientId, ...(a.staff !== undefined ? { staff: a.staff } : {}), ...(a.correlationId !== undefined ? { correlationId: a.correlationId } : {}) };
}

/** What a message record needs: its type, id, payload (read for names only) and the digest of its signed XML. */
export interface MessageFacts {
  readonly spec: MessageTypeSpec;
  readonly messageId: string;
  readonly payload: unknown;
  /** SHA-256 (hex) of the signed wire XML. */
  readonly contentDigest?: string;
}

function messageEvent(operation: AuditOperation, m: MessageFacts, actor: Actor, outcome: string): AuditEvent {
  const authority = authorityOf(m.payload);
  const query = queryCategoriesOf(m.spec, m.payload);
  return {
    operation, purpose: m.spec.article, dataCategories: categoriesOf(m.spec.schema, m.payload),
    ...(query ? { queryCategories: query } : {}),
    ...actorFields(actor), ...(authority ? { authority } : {}),
    messageId: m.messageId, messageType: m.spec.id, outcome,
    ...(m.contentDigest ? { contentDigest: m.contentDigest } : {}),
  };
}

/** `message.send`: a message settled (`delivered`, `rejected`, `failed`, or `refused` at intake). */
export function sendEvent(m: MessageFacts, actor: Actor, outcome: string): AuditEvent {
  return messageEvent('message.send', m, actor, outcome);
}

/** `notification.receive`: a verified central notification was journaled (`clientId` is `central`). */
export function receiveEvent(m: MessageFacts, correlationId: string): AuditEvent {
  return messageEvent('notification.receive', m, { clientId: 'central', correlationId }, 'ok');
}

/**
 * `message.read`: a client read a message's central data: the answer's `data` (searches,
 * retrievals, ESP and ICF answers) or an inbound notification's payload. The categories are
 * those of what was read.
 */
export function readEvent(spec: MessageTypeSpec, messageId: string, read: { answerData?: unknown; payload?: unknown }, actor: Actor): AuditEvent {
  const cats = new Set<string>();
  if (read.payload !== undefined) for (const c of categoriesOf(spec.schema, read.payload)) cats.add(c);
  if (read.answerData !== undefined && spec.answer) for (const c of categoriesOf(spec.answer.schema, read.answerData, 'answer')) cats.add(c);
  return {
    operation: 'message.read', purpose: spec.article, dataCategories: [...cats].sort(), ...actorFields(actor),
    messageId, messageType: spec.id, outcome: 'ok',
  };
}

/** `message.retry`: an operator re-queued a failed message (outcome `ok` or the refusal's code). */
export function retryEvent(spec: MessageTypeSpec | undefined, messageId: string, actor: Actor, outcome: string): AuditEvent {
  return {
    operation: 'message.retry', purpose: spec?.article ?? PURPOSES.operations, dataCategories: [], ...actorFields(actor),
    messageId, ...(spec ? { messageType: spec.id } : {}), outcome,
  };
}

/** `evidence.export`: the evidence bundle of a message was exported (the categories are those of its documents). */
export function exportEvent(messageId: string, messageType: string | undefined, dataCategories: readonly string[], actor: Actor, outcome: string): AuditEvent {
  return {
    operation: 'evidence.export', purpose: PURPOSES.monitoring, dataCategories: [...dataCategories], ...actorFields(actor),
    messageId, ...(messageType ? { messageType } : {}), outcome,
  };
}

/** `audit.read`: audit records were listed; the query categories are the filter's names, never its values. */
export function auditReadEvent(filterNames: readonly string[], actor: Actor, count: number): AuditEvent {
  return {
    operation: 'audit.read', purpose: PURPOSES.monitoring, dataCategories: ['audit.records'],
    queryCategories: [...filterNames].sort(), ...actorFields(actor), outcome: `ok:${count}`,
  };
}

/** What one retention run removed (counts only). */
export interface PurgeCounts {
  readonly payloads: number;
  readonly messages: number;
  readonly auditRecords: number;
}

/** `retention.purge`: one record per retention run, with what it removed. */
export function purgeEvent(counts: PurgeCounts, actor: Actor): AuditEvent {
  const cats = [
    ...(counts.payloads ? ['message.wireXml', 'message.answer'] : []),
    ...(counts.messages ? ['message.metadata'] : []),
    ...(counts.auditRecords ? ['audit.records'] : []),
  ];
  return {
    operation: 'retention.purge', purpose: PURPOSES.retention, dataCategories: cats, ...actorFields(actor),
    outcome: `ok:payloads=${counts.payloads},messages=${counts.messages},auditRecords=${counts.auditRecords}`,
  };
}

/** `pki.reload`: the signing key or the trust anchors were reloaded (`ok`, or the refusal's code). */
export function pkiReloadEvent(what: 'signing-key' | 'trust-anchors', outcome: string): AuditEvent {
  return {
    operation: 'pki.reload', purpose: PURPOSES.security, dataCategories: [what === 'signing-key' ? 'pki.signingKey' : 'pki.trustAnchors'],
    clientId: 'operator', outcome,
  };
}
