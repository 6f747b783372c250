/**
 * `davis conformance record`: turns traffic in the journal into a replayable suite whose
 * expectations are the outcomes that were observed.
 *
 * - Payloads are not kept as JSON in the journal, only inside the signed wire XML: each
 *   message's payload is read back from it (`parseRequestXml`).
 * - Messages that share an identifier (application, sticker, document or consultation
 *   number) depend on each other at central, so they form one case, replayed in the order
 *   they were accepted, each waiting for its outcome before the next is sent.
 * - Identifiers become `${unique-like:…}` templates (shaped like the recorded value), so a
 *   replay against the same central does not collide with what the recording created, and
 *   relations between messages (a duplicate is still a duplicate) are kept.
 * - Only settled outcomes are expectations: `delivered` and `rejected` with central's
 *   result and code. Messages that `failed` (transport trouble) or were `refused` (503)
 *   cannot be reproduced by a healthy stack; they are listed in the case's description and
 *   left out; a case with nothing else is written as skipped. Unsettled messages are left out.
 * - A case whose outcomes depended on central state the recording does not recreate (a file
 *   created before the window or by another Member State, a consultation another Member State
 *   opened, MID links, hits of the automated queries) cannot give the same outcomes on a
 *   replay: it is written whole, as skipped, saying what it depended on.
 */
import { stringify } from 'yaml';
import { getType } from '../catalogue/catalogue';
import type { Journal, MessageRecord } from '../journal/journal';
import { validatePayload } from '../validation/validate';
import { parseRequestXml } from '../wire/envelope';
import { getPointer } from './jsonpath';
import { Pseudonymizer } from './pseudonymize';

/** Identifiers made unique to each replay (with each type's ordering key). */
export const DEFAULT_UNIQUE_KEYS: readonly string[] = Object.freeze([
  '/applicationNumber', '/examinedApplicationNumber', '/visaStickerNumber', '/newVisaStickerNumber',
  '/documentNumber', '/newDocumentNumber', '/consultationId',
]);

/** Options of a recording. */
export interface RecordOptions {
  readonly journal: Journal;
  /** Messages created at or after (ISO 8601). */
  readonly since: string;
  /** Messages created before (ISO 8601). @default now */
  readonly until?: string;
  readonly pseudonymize?: boolean;
  /** Only these message types. */
  readonly types?: readonly string[];
  /** @default DEFAULT_UNIQUE_KEYS */
  readonly uniqueKeys?: readonly string[];
  /** Suite id. @default `recorded-<since, compact>` */
  readonly suiteId?: string;
  /** Secret of the pseudonyms (tests); random by default. */
  readonly pseudonymKey?: Buffer;
}

/** What a recording produced. */
export interface Recording {
  /** The suite as YAML text. */
  readonly yaml: string;
  readonly messages: number;
  readonly cases: number;
  /** Messages left out, by reason (counts). */
  readonly leftOut: Readonly<Record<string, number>>;
  /** Fields pseudonymised, by kind. */
  readonly pseudonymised: Readonly<Record<string, number>>;
  /** Cases written as skipped because they depend on central state the recording does not recreate. */
  readonly dependentCases: number;
}

/** A recording cannot be made. */
export class RecordError extends Error {
  readonly code = 'CONFORMANCE_RECORD';
}

/** Parses `--since`/`--until`: ISO 8601, or a duration back from now (`90s`, `30m`, `2h`, `7d`). */
export function parseTime(s: string, now = new Date()): string {
  const rel = /^(\d+)\s*(s|m|h|d)$/.exec(s.trim());
  if (rel) return new Date(now.getTime() - Number(rel[1]) * { s: 1e3, m: 6e4, h: 3.6e6, d: 8.64e7 }[rel[2] as 's']).toISOString();
  const t = Date.parse(s);
  if (Number.isNaN(t)) throw new RecordError(`not a time: "${s}" (ISO 8601, or 30m, 2h, 7d back from now)`);
  return new Date(t).toISOString();
}

async function listAll(journal: Journal, from: string, to: string): Promise<MessageRecord[]> {
  const out: MessageRecord[] = [];
  let cursor: string | undefined;
  do {
    const page = await journal.list({ direction: 'outbound', from, to, limit: 1000, ...(cursor ? { cursor } : {}) });
    out.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  // The journal lists newest first; a replay goes in the order things happened.
  return out.sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : 0));
}

/** Escapes `${` so recorded text is never read as a template. */
function escapeTemplates(v: unknown): unknown {
  if (typeof v === 'string') return v.replace(/\$\{/g, '$${');
  if (Array.isArray(v)) return v.map(escapeTemplates);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, escapeTemplates(x)]));
  return v;
}

/** Replaces identifier values (whole or inside longer strings) by their templates. */
function templated(v: unknown, map: ReadonlyMap<string, string>): unknown {
  if (typeof v === 'string') {
    if (map.has(v)) return map.get(v);
    let s = v;
    for (const [k, t] of map) if (k.length >= 4 && s.includes(k)) s = s.split(k).join(t);
    return s;
  }
  if (Array.isArray(v)) return v.map((x) => templated(x, map));
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, templated(x, map)]));
  return v;
}

/** What a type creates at central for later messages to refer to: the pointer of its identifier. */
const CREATES: Readonly<Record<string, string>> = Object.freeze({
  'vis.application.create': '/applicationNumber',
  'vis.lsvrp.application.create': '/applicationNumber',
  'vismail.consultation.request': '/consultationId',
});

/**
 * What a replayable message's outcome depended on that the messages before it in its case
 * (`created`: identifiers they created at central) do not recreate; undefined when nothing.
 */
function externalDependency(it: Item, created: ReadonlySet<string>): string | undefined {
  const code = it.rec.answer?.code;
  const delivered = it.rec.state === 'delivered';
  const at = (ptr: string): string | undefined => {
    const v = getPointer(it.payload, ptr);
    return typeof v === 'string' ? v : undefined;
  };
  const file = at('/applicationNumber');
  const fileKnown = file !== undefined && created.has(file);
  switch (it.type) {
    case 'vis.application.search':
    case 'io.esp.search':
      return undefined; // answered whatever central holds; only the outcome is expected
    case 'vis.application.create':
    case 'vis.lsvrp.application.create':
      return code === 'VIS_ERR_DUPLICATE_APPLICATION' && !fileKnown ? 'an application file created before the recording or by another Member State' : undefined;
    case 'io.mid.link.verify':
    case 'io.mid.icf.retrieve':
      return code === 'VIS_ERR_UNKNOWN_LINK' ? undefined : 'a MID link (the MID creates links, not this gateway)';
    case 'vismail.consultation.reply': {
      const c = at('/consultationId');
      if (code === 'VIS_ERR_UNKNOWN_CONSULTATION' || (c !== undefined && created.has(c))) return undefined;
      return 'a consultation another Member State opened, or one opened before the recording';
    }
    case 'vis.hit.verify':
      if (delivered || code === 'VIS_ERR_HIT_ALREADY_VERIFIED') return 'hits of the automated queries (what the ESP found)';
      break;
    default:
      break;
  }
  if (file === undefined || code === 'VIS_ERR_UNKNOWN_APPLICATION' || fileKnown) return undefined;
  return 'an application file created before the recording or by another Member State';
}

interface Item {
  readonly rec: MessageRecord;
  readonly type: string;
  payload: unknown;
  readonly ids: string[];
}

/** Records a suite from the journal. */
export async function recordSuite(opts: RecordOptions): Promise<Recording> {
  const until = opts.until ?? new Date().toISOString();
  if (opts.since >= until) throw new RecordError(`--since (${opts.since}) must be before --until (${until})`);
  const all = await listAll(opts.journal, opts.since, until);
  const leftOut: Record<string, number> = {};
  const skip = (why: string) => { leftOut[why] = (leftOut[why] ?? 0) + 1; };
  const pseudo = opts.pseudonymize ? new Pseudonymizer(opts.pseudonymKey) : undefined;
  const uniqueKeys = opts.uniqueKeys ?? DEFAULT_UNIQUE_KEYS;
  const items: Item[] = [];
  for (const rec of all) {
    if (opts.types && !opts.types.includes(rec.type)) continue;
    if (!['delivered', 'rejected', 'failed', 'refused'].includes(rec.state)) { skip(`not settled (${rec.state})`); continue; }
    const xml = await opts.journal.getWireXml(rec.id);
    let parsed: ReturnType<typeof parseRequestXml>;
    try {
      parsed = parseRequestXml(xml ?? '');
    } catch {
      skip('wire XML not readable by this version');
      continue;
    }
    let payload = parsed.payload;
    if (pseudo) payload = pseudonymizeValid(pseudo, parsed.header.type, payload);
    const spec = getType(parsed.header.type);
    const ids = [...new Set([spec?.orderingKey, ...uniqueKeys].filter((k): k is string => !!k)
      .map((k) => getPointer(payload, k)).filter((v): v is string => typeof v === 'string' && v.length >= 4 && !v.includes(':') && !v.includes('}')))];
    items.push({ rec, type: parsed.header.type, payload, ids });
  }

  // Messages sharing an identifier depend on each other: union-find over identifier values.
  const parent = new Map<string, string>();
  const find = (x: string): string => {
    let r = x;
    while (parent.get(r) !== r) r = parent.get(r)!;
    parent.set(x, r);
    return r;
  };
  const union = (a: string, b: string) => { parent.set(find(a), find(b)); };
  for (const it of items) {
    const node = `msg:${it.rec.id}`;
    parent.set(node, node);
    for (const id of it.ids) {
      if (!parent.has(id)) parent.set(id, id);
      union(node, id);
    }
  }
  const groups = new Map<string, Item[]>();
  for (const it of items) {
    const root = find(`msg:${it.rec.id}`);
    if (!groups.has(root)) groups.set(root, []);
    groups.get(root)!.push(it);
  }

  const cases: Record<string, unknown>[] = [];
  let n = 0;
  let dependent = 0;
  for (const group of groups.values()) {
    n++;
    const replayable = group.filter((it) => it.rec.state === 'delivered' || it.rec.state === 'rejected');
    const notReplayed = group.filter((it) => !replayable.includes(it));
    for (const it of notReplayed) skip(`${it.rec.state} (transport trouble at the time; not reproducible by a healthy stack)`);
    // One stand-in per identifier value, shaped like the (pseudonymised) value.
    const map = new Map<string, string>();
    // Under --pseudonymize the shape example is itself pseudonymised: no recorded identifier is written.
    for (const it of group) for (const v of it.ids) if (!map.has(v)) map.set(v, `\${unique-like:id${map.size + 1}:${pseudo ? pseudo.shape(v, 'identifier') : v}}`);
    const steps: Record<string, unknown>[] = [];
    const created = new Set<string>();
    const depends = new Set<string>();
    for (const it of replayable) {
      const why = externalDependency(it, created);
      if (why) depends.add(why);
      const ptr = CREATES[it.type];
      const v = ptr !== undefined && it.rec.state === 'delivered' ? getPointer(it.payload, ptr) : undefined;
      if (typeof v === 'string') created.add(v);
    }
    if (depends.size) dependent++;
    replayable.forEach((it, k) => {
      const name = `m${k + 1}`;
      steps.push({ send: { type: it.type, payload: templated(escapeTemplates(it.payload), map), as: name } });
      const a = it.rec.answer;
      steps.push({
        expect: {
          message: name, http: 202, status: it.rec.state,
          ...(a ? { central: { result: a.result, code: a.code } } : {}),
        },
      });
    });
    const types = [...new Set(group.map((it) => it.type))];
    const id = `REC-${String(n).padStart(4, '0')}`;
    const article = [...new Set(types.map((t) => getType(t)?.article).filter(Boolean))].join('; ') || 'recorded traffic';
    const outcomes = replayable.map((it) => `${it.type} ${it.rec.state}${it.rec.answer ? ` ${it.rec.answer.code}` : ''}`);
    cases.push({
      id,
      title: outcomes.join(', ').slice(0, 300) || `${types.join(', ')} (not replayable)`,
      article,
      tags: ['recorded', ...types],
      ...(!replayable.length ? { skip: `only messages that ${[...new Set(notReplayed.map((it) => it.rec.state))].join(' or ')} when recorded` }
        : depends.size ? { skip: `depends on central state the recording does not recreate: ${[...depends].join('; ')}` } : {}),
      steps: replayable.length ? steps : [{ wait: 0 }],
    });
  }

  const since = opts.since;
  const suite = {
    suite: opts.suiteId ?? `recorded-${since.replace(/[^0-9T]/g, '').slice(0, 15)}`,
    title: `Traffic recorded from the journal, ${since} to ${until}`,
    version: 1,
    interface: 'urn:davis-gateway:wire:1',
    phase: 'compliance',
    description: `Recorded ${new Date().toISOString()}: ${items.length} message(s) in ${cases.length} case(s)` +
      `${pseudo ? '; names, birth dates, places of birth, document numbers, addresses, contacts and biometric data pseudonymised' : ''}.` +
      ' Identifiers are made unique to each replay; expectations are the outcomes observed.',
    recorded: {
      since, until, messages: items.length, cases: cases.length, pseudonymized: !!pseudo,
      ...(Object.keys(leftOut).length ? { leftOut } : {}),
    },
    cases,
  };
  const header = [
    '# Recorded by `davis conformance record`. Replay: davis conformance run THIS_FILE',
    pseudo ? '# Pseudonymised: review free-text fields (descriptions, justifications) before sharing.'
      : '# NOT pseudonymised: this file holds personal data from real traffic. Use --pseudonymize to share it.',
    '',
  ].join('\n');
  return {
    yaml: header + stringify(suite, { lineWidth: 0, aliasDuplicateObjects: false }),
    messages: items.length, cases: cases.length, leftOut,
    pseudonymised: pseudo ? { ...pseudo.counts } : {}, dependentCases: dependent,
  };
}

/**
 * Pseudonymises a payload and checks it still passes its schema; tries other variants
 * before giving up (a pseudonymised payload that the gateway refuses replays nothing).
 */
function pseudonymizeValid(p: Pseudonymizer, type: string, payload: unknown): unknown {
  const wasValid = validatePayload(type, payload).length === 0;
  let pointers: string[] = [];
  for (let variant = 0; variant < 6; variant++) {
    const out = p.payload(payload, variant);
    if (!wasValid) return out;
    const errors = validatePayload(type, out);
    if (!errors.length) return out;
    pointers = errors.map((e) => e.pointer);
  }
  // Only pointers: the message must not echo the values it failed to hide.
  throw new RecordError(`a pseudonymised ${type} payload does not validate at ${pointers.join(', ')}; record without --pseudonymize or extend the pseudonymiser`);
}
