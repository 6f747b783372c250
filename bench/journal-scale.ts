/**
 * The journal at scale (`npm run bench -- --only journal`): the reads the gateway and its
 * operators make, timed on a PostgreSQL journal of 100,000 messages and on one of 10,000,000,
 * on the real PostgreSQL of this machine, each in a database made for the run and dropped
 * after it. The same reads run on both in alternating rounds, so load from elsewhere on the
 * machine weighs on both sizes alike.
 *
 * - **status**: `journal.get(id)` on random ids (`GET /v1/messages/:id`);
 * - **list**: `journal.list(…)` with the filters the dashboard and `GET /v1/messages` pass
 *   (first page, state, type, state and type, a time range, state in a time range, the
 *   application number, the correlation id, direction), 50 a page as the dashboard asks;
 * - **predecessor**: `journal.hasUnsettledPredecessor(id)` on the newest outbound messages,
 *   the ones a dispatcher is about to send;
 * - **reference**: the central-reference search, which opens up to CENTRAL_REFERENCE_SCAN
 *   answered rows by design (answers are sealed, no index serves it), reported on its own.
 *
 * The schema is made by the journal's own migrations (`PostgresJournal.open`). A few messages
 * go through the adapter's whole lifecycle (insert, queued, sending, answer) and the bulk is
 * generated in the database with `INSERT … SELECT generate_series` in the same shape:
 * every column the adapter writes, and the events it writes for each path (accepted, queued,
 * sending, delivered or rejected; retries before a failure; refused; inbound notifications);
 * a check holds a generated message against one the adapter wrote. Bulk rows are stored in
 * clear (`key_id` NULL, as rows written before encryption): opening a sealed answer costs
 * microseconds whatever the table's size. Messages are 3 s apart (10 million: about a year),
 * the newest an hour ago. While the bulk is written the tables' keys, foreign key and
 * indexes are dropped, and made again after from their own definitions, as one loads a large
 * table; the tables are analysed before they are measured.
 *
 * Sizes: `BENCH_JOURNAL_SMALL` (default 100000) and `BENCH_JOURNAL_LARGE` (default 10000000)
 * rows, or the options (a smaller large size for a quick run); `BENCH_POSTGRES_URL` names the
 * server (default `postgres://postgres@127.0.0.1:5432/postgres`).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { listTypes } from '../src/catalogue/catalogue';
import type { MessageFilter } from '../src/journal/journal';
import { JournalKeyring } from '../src/journal/journal-cipher';
import { PostgresJournal } from '../src/journal/journal-postgres';

type Results = Record<string, number | string>;

/** Options of {@link benchJournalScale}. */
export interface JournalScaleOptions {
  /** Rows of the first measurement. @default 100000 (BENCH_JOURNAL_SMALL) */
  readonly small?: number;
  /** Rows of the second measurement. @default 10000000 (BENCH_JOURNAL_LARGE) */
  readonly large?: number;
  /** Server to make the temporary database on (a maintenance database URL). */
  readonly url?: string;
  /** Timed calls per read (list: per filter shape). @default 2000 (list 200) */
  readonly samples?: number;
  /** Progress lines. @default stderr */
  readonly log?: (line: string) => void;
}

/** Seconds between two generated messages: 10 million rows are about a year of traffic. */
const STEP_MS = 3000;
/** The newest messages of a fill are still in flight (accepted, queued, sending, retrying). */
const IN_FLIGHT = 500;
/** Messages per application (ordering key), within a window of five times as many consecutive messages. */
const PER_APP = 8;
/** Messages written through the adapter, to check the generated rows against. */
const THROUGH_ADAPTER = 20;

function envInt(name: string, dflt: number): number {
  const v = process.env[name];
  if (v === undefined || v === '') return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive whole number, not ${JSON.stringify(v)}`);
  return n;
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))];
}

const round2 = (x: number) => Math.round(x * 100) / 100;

/** Times `n` sequential calls after a warm-up of a tenth as many; milliseconds, sorted. */
async function timed(n: number, call: (k: number) => Promise<unknown>): Promise<number[]> {
  for (let k = 0; k < Math.ceil(n / 10); k++) await call(k);
  const ms: number[] = [];
  for (let k = 0; k < n; k++) {
    const t = process.hrtime.bigint();
    await call(k);
    ms.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return ms.sort((a, b) => a - b);
}

/**
 * One statement that appends generated messages `$1 + 1 … $2` with their events. Message i is
 * created at `$3 + i × STEP_MS` (ms since the epoch); messages after `$4` are still in flight;
 * `$5`, `$6` are the outbound and inbound type ids. The path a message took (and so its state,
 * columns and events) is a function of i; ids are random UUIDs, as the gateway's are.
 */
function fillSql(s: string): string {
  // u(salt): a uniform number in [0, 1) from i, stable across runs.
  const u = (salt: number) => `((hashint8(i * 31 + ${salt}) & 2147483647)::float8 / 2147483648)`;
  const path = `CASE
      WHEN ${u(1)} < 0.03 THEN 'inbound'
      WHEN i > $4::bigint THEN (ARRAY['accepted','queued','sending','retrying'])[1 + (i % 4)::int]
      WHEN ${u(2)} < 0.90 THEN 'delivered'
      WHEN ${u(2)} < 0.96 THEN 'rejected'
      WHEN ${u(2)} < 0.975 THEN 'failed'
      WHEN ${u(2)} < 0.985 THEN 'refused'
      ELSE 'delivered' END`;
  const at = (offsetMs: string) => `to_char(g.ts + (${offsetMs}) * interval '1 millisecond', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
  // Each message's facts, computed once for its row and its events.
  return `WITH g AS MATERIALIZED (
      SELECT i, gen_random_uuid()::text AS id, ${path} AS path, ${u(3)} AS t,
        to_timestamp(($3::bigint + i * ${STEP_MS}) / 1000.0) AT TIME ZONE 'UTC' AS ts
      FROM generate_series($1::bigint + 1, $2::bigint) AS i),
    m AS (INSERT INTO ${s}.messages (id, type, direction, state, ordering_key, client_id, idempotency_key, body_hash,
        correlation_id, wire_xml, created_at, updated_at, attempts, last_error, next_attempt_at, answer_json, response_xml, webhook_json, key_id)
      SELECT g.id,
        CASE WHEN g.path = 'inbound' THEN ($6::text[])[1 + floor(g.t * cardinality($6::text[]))::int]
          ELSE ($5::text[])[1 + floor(power(g.t, 3) * cardinality($5::text[]))::int] END,
        CASE WHEN g.path = 'inbound' THEN 'inbound' ELSE 'outbound' END,
        CASE WHEN g.path = 'inbound' THEN 'delivered' ELSE g.path END,
        'FI' || lpad(((g.i / ${PER_APP * 5}) * 5 + g.i % 5)::text, 12, '0'),
        CASE WHEN g.path = 'inbound' THEN 'central' ELSE 'uma' END,
        CASE WHEN g.path = 'inbound' THEN NULL ELSE 'key-' || to_hex(g.i) END,
        lpad(to_hex(hashint8(g.i)), 8, '0') || lpad(to_hex(g.i), 56, '0'),
        gen_random_uuid()::text,
        '<Request><Header><MessageId>' || g.id || '</MessageId></Header><Body/></Request>',
        ${at('0')},
        ${at(`CASE WHEN g.path IN ('delivered','rejected','inbound') THEN 180 WHEN g.path = 'failed' THEN 90000 WHEN g.path = 'refused' THEN 5 ELSE 10 END`)},
        CASE g.path WHEN 'delivered' THEN 1 WHEN 'rejected' THEN 1 WHEN 'failed' THEN 2 WHEN 'sending' THEN 1 WHEN 'retrying' THEN 1 ELSE 0 END,
        CASE g.path WHEN 'failed' THEN 'DAVIS_ERR_CENTRAL_UNAVAILABLE' WHEN 'retrying' THEN 'DAVIS_ERR_CENTRAL_UNAVAILABLE' WHEN 'refused' THEN 'DAVIS_ERR_BROKER_UNAVAILABLE' END,
        CASE WHEN g.path = 'retrying' THEN ${at('60000')} END,
        CASE g.path
          WHEN 'delivered' THEN '{"responseId":"R' || lpad(to_hex(g.i), 35, '0') || '","inReplyTo":"' || g.id
            || '","result":"ACCEPTED","code":"OK","centralReference":"VIS-' || lpad(g.i::text, 12, '0') || '","created":"' || ${at('170')} || '"}'
          WHEN 'rejected' THEN '{"responseId":"R' || lpad(to_hex(g.i), 35, '0') || '","inReplyTo":"' || g.id
            || '","result":"REJECTED","code":"VIS_ERR_DUPLICATE_APPLICATION","created":"' || ${at('170')} || '"}' END,
        CASE WHEN g.path IN ('delivered','rejected') THEN '<Response><InReplyTo>' || g.id || '</InReplyTo></Response>' END,
        CASE WHEN g.path IN ('delivered','rejected','failed') THEN ('{"event":"message.' || g.path || '","state":"delivered","attempts":1,"updatedAt":"' || ${at('400')} || '"}')::json END,
        NULL
      FROM g)
    INSERT INTO ${s}.events (message_id, state, at, attempt, detail)
    SELECT g.id, e.state, ${at('e.ms')}, e.attempt, e.detail
    FROM g CROSS JOIN LATERAL (VALUES
      ('accepted', 0, NULL::int, NULL::text, true),
      ('queued', 5, NULL, NULL, g.path NOT IN ('accepted','refused','inbound')),
      ('refused', 5, NULL, 'DAVIS_ERR_BROKER_UNAVAILABLE', g.path = 'refused'),
      ('sending', 10, 1, NULL, g.path IN ('sending','retrying','delivered','rejected','failed')),
      ('retrying', 60, 1, 'DAVIS_ERR_CENTRAL_UNAVAILABLE', g.path IN ('retrying','failed')),
      ('delivered', 180, NULL, NULL, g.path = 'delivered'),
      ('delivered', 180, NULL, 'received from central, signature verified', g.path = 'inbound'),
      ('rejected', 180, NULL, 'VIS_ERR_DUPLICATE_APPLICATION', g.path = 'rejected'),
      ('sending', 60000, 2, NULL, g.path = 'failed'),
      ('failed', 90000, 2, 'DAVIS_ERR_CENTRAL_UNAVAILABLE', g.path = 'failed')
    ) AS e(state, ms, attempt, detail, happens)
    WHERE e.happens`;
}

/** The two tables' indexes and constraints, as statements that drop them and that make them again. */
interface Rebuild { drop: string[]; create: string[] }

/**
 * Every index and constraint of `messages` and `events` (the primary keys, the unique id, the
 * foreign key from events, the migrations' indexes), read from the catalogue: the foreign key
 * is dropped first and made last (which checks every event against its message again).
 */
async function indexesAndConstraints(db: Client, schema: string): Promise<Rebuild> {
  const q = `"${schema}"`;
  const cons = (await db.query<{ tbl: string; name: string; def: string; fk: boolean }>(`SELECT t.relname AS tbl, c.conname AS name,
        pg_get_constraintdef(c.oid) AS def, c.contype = 'f' AS fk
      FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid JOIN pg_namespace n ON n.oid = t.relnamespace
      WHERE n.nspname = $1 AND t.relname IN ('messages', 'events') AND c.contype IN ('p', 'u', 'f')`, [schema])).rows;
  const idx = (await db.query<{ name: string; def: string }>(`SELECT i.relname AS name, pg_get_indexdef(i.oid) AS def
      FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace
      WHERE n.nspname = $1 AND t.relname IN ('messages', 'events')
        AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.oid)`, [schema])).rows;
  const fks = cons.filter((c) => c.fk);
  const keys = cons.filter((c) => !c.fk);
  return {
    drop: [
      ...fks.map((c) => `ALTER TABLE ${q}.${c.tbl} DROP CONSTRAINT "${c.name}"`),
      ...keys.map((c) => `ALTER TABLE ${q}.${c.tbl} DROP CONSTRAINT "${c.name}"`),
      ...idx.map((x) => `DROP INDEX ${q}."${x.name}"`),
    ],
    create: [
      ...keys.map((c) => `ALTER TABLE ${q}.${c.tbl} ADD CONSTRAINT "${c.name}" ${c.def}`),
      ...idx.map((x) => x.def),
      ...fks.map((c) => `ALTER TABLE ${q}.${c.tbl} ADD CONSTRAINT "${c.name}" ${c.def}`),
    ],
  };
}

interface Pools {
  ids: string[];
  outboundRecent: string[];
  orderingKeys: string[];
  correlationIds: string[];
  references: string[];
  first: string;
  last: string;
}

/** Random rows of the journal to read (chosen untimed). */
async function pools(db: Client, s: string, n: number): Promise<Pools> {
  const max = Number((await db.query<{ m: string }>(`SELECT max(seq)::text AS m FROM ${s}.messages`)).rows[0].m);
  const seqs = Array.from({ length: n }, () => 1 + Math.floor(Math.random() * max));
  const rows = (await db.query<{ id: string; ordering_key: string; correlation_id: string }>(
    `SELECT id, ordering_key, correlation_id FROM ${s}.messages WHERE seq = ANY($1::bigint[])`, [seqs])).rows;
  const shuffle = <T>(a: T[]): T[] => { for (let i = a.length - 1; i > 0; i--) { const j = Math.floor(Math.random() * (i + 1)); [a[i], a[j]] = [a[j], a[i]]; } return a; };
  const recent = (await db.query<{ id: string }>(`SELECT id FROM ${s}.messages WHERE direction = 'outbound' ORDER BY seq DESC LIMIT 20000`)).rows.map((r) => r.id);
  const refs = (await db.query<{ r: string }>(`SELECT answer_json::json->>'centralReference' AS r FROM ${s}.messages
      WHERE seq = ANY($1::bigint[]) AND key_id IS NULL AND answer_json::json->>'centralReference' IS NOT NULL`, [seqs.slice(0, 2000)])).rows.map((r) => r.r);
  // The generated rows' span (the adapter's few are written now, after it).
  const range = (await db.query<{ first: string; last: string }>(`SELECT min(created_at) AS first, max(created_at) AS last FROM ${s}.messages WHERE key_id IS NULL`)).rows[0];
  return {
    ids: shuffle(rows.map((r) => r.id)), outboundRecent: shuffle(recent),
    orderingKeys: shuffle(rows.map((r) => r.ordering_key)), correlationIds: shuffle(rows.map((r) => r.correlation_id)),
    references: shuffle(refs), first: range.first, last: range.last,
  };
}

/** The list filters measured, each a function of the sample number. */
function listShapes(p: Pools, outboundTypes: readonly string[]): Record<string, (k: number) => MessageFilter> {
  const t0 = Date.parse(p.first);
  const span = Date.parse(p.last) - t0;
  const window = (k: number, ms: number) => {
    const from = t0 + ((k * 7919) % 1000) / 1000 * Math.max(0, span - ms);
    return { from: new Date(from).toISOString(), to: new Date(from + ms).toISOString() };
  };
  const pick = <T>(a: readonly T[], k: number): T => a[k % a.length];
  const states = ['failed', 'rejected', 'retrying', 'delivered'] as const;
  const HOUR = 3_600_000;
  return {
    first_page: () => ({ limit: 50 }),
    state: (k) => ({ state: pick(states, k), limit: 50 }),
    type: (k) => ({ type: pick(outboundTypes, k), limit: 50 }),
    state_type: (k) => ({ state: pick(states, k), type: pick(outboundTypes, k * 3 + 1), limit: 50 }),
    time_range: (k) => ({ ...window(k, HOUR), limit: 50 }),
    state_time_range: (k) => ({ state: pick(states, k), ...window(k, 24 * HOUR), limit: 50 }),
    application: (k) => ({ orderingKey: pick(p.orderingKeys, k), limit: 50 }),
    correlation: (k) => ({ correlationId: pick(p.correlationIds, k), limit: 50 }),
    inbound: () => ({ direction: 'inbound', limit: 50 }),
  };
}

/** The reads timed, by name, each a function of the sample number, with how many samples each takes. */
async function readsOf(journal: PostgresJournal, db: Client, s: string, samples: number): Promise<{ name: string; n: number; call: (k: number) => Promise<unknown> }[]> {
  const p = await pools(db, s, samples);
  const outboundTypes = listTypes().map((t) => t.id);
  return [
    { name: 'status', n: samples, call: (k) => journal.get(p.ids[k % p.ids.length]) },
    { name: 'predecessor', n: samples, call: (k) => journal.hasUnsettledPredecessor(p.outboundRecent[k % p.outboundRecent.length]) },
    ...Object.entries(listShapes(p, outboundTypes)).map(([name, shape]) => ({ name: `list_${name}`, n: Math.max(20, Math.round(samples / 10)), call: (k: number) => journal.list(shape(k)) })),
    { name: 'reference', n: Math.max(10, Math.round(samples / 100)), call: (k) => journal.list({ centralReference: p.references[k % p.references.length], limit: 50 }) },
  ];
}

/** Rounds the samples are taken in, each read on each journal in turn. */
const ROUNDS = 5;

/**
 * Times the same reads on every journal in alternating rounds (status on the small one, on the
 * large one, predecessor on the small one…), so load from elsewhere on the machine weighs on
 * both sizes alike; figures `journal_<read>_<p50|p99>_ms_<tag>`, the list's pooled over its
 * filters and each filter's p99 on its own.
 */
async function measure(subjects: readonly { tag: string; journal: PostgresJournal; db: Client }[], s: string, samples: number, out: Results, log: (l: string) => void): Promise<void> {
  const reads = await Promise.all(subjects.map((x) => readsOf(x.journal, x.db, s, samples)));
  const got: Record<string, number[]>[] = subjects.map(() => ({}));
  for (let r = 0; r < ROUNDS; r++) {
    for (let i = 0; i < reads[0].length; i++) {
      for (let j = 0; j < subjects.length; j++) {
        const read = reads[j][i];
        const per = Math.max(2, Math.ceil(read.n / ROUNDS));
        (got[j][read.name] ??= []).push(...await timed(per, (k) => read.call(r * per + k)));
      }
    }
  }
  subjects.forEach(({ tag }, j) => {
    const sorted = (v: number[]) => [...v].sort((a, b) => a - b);
    const list = sorted(Object.entries(got[j]).filter(([n]) => n.startsWith('list_')).flatMap(([, v]) => v));
    for (const [name, v] of Object.entries(got[j])) if (name.startsWith('list_')) out[`journal_${name}_p99_ms_${tag}`] = round2(percentile(sorted(v), 0.99));
    for (const [name, v] of [['status', sorted(got[j].status)], ['list', list], ['predecessor', sorted(got[j].predecessor)], ['reference', sorted(got[j].reference)]] as const) {
      out[`journal_${name}_p50_ms_${tag}`] = round2(percentile(v, 0.5));
      out[`journal_${name}_p99_ms_${tag}`] = round2(percentile(v, 0.99));
    }
    const f = (n: string) => `${out[`journal_${n}_p50_ms_${tag}`]}/${out[`journal_${n}_p99_ms_${tag}`]}`;
    log(`journal ${tag}: p50/p99 status ${f('status')} ms, list ${f('list')} ms, predecessor ${f('predecessor')} ms, reference search ${f('reference')} ms`);
  });
}

/** Messages through the adapter's whole lifecycle, to hold the generated rows against. */
async function throughAdapter(journal: PostgresJournal, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let k = 0; k < n; k++) {
    const id = randomUUID();
    await journal.insert({
      id, type: 'vis.application.create', direction: 'outbound', orderingKey: `FIADAPTER${k}`, clientId: 'uma', idempotencyKey: randomUUID(),
      bodyHash: randomBytes(32).toString('hex'), wireXml: `<Request><Header><MessageId>${id}</MessageId></Header><Body/></Request>`, correlationId: randomUUID(),
    });
    await journal.transitionFrom(id, 'accepted', 'queued');
    await journal.transition(id, 'sending', { attempt: 1 });
    await journal.recordAnswer(id, { responseId: randomUUID(), inReplyTo: id, result: 'ACCEPTED', code: 'OK', centralReference: `VIS-ADAPTER-${k}`, created: new Date().toISOString() },
      `<Response><InReplyTo>${id}</InReplyTo></Response>`);
    await journal.recordWebhook(id, { event: 'message.delivered', state: 'delivered', attempts: 1 });
    ids.push(id);
  }
  return ids;
}

/** A delivered generated message must read back as the adapter's own does (same fields, same history). */
async function checkShape(journal: PostgresJournal, db: Client, s: string, adapterId: string): Promise<void> {
  const gen = (await db.query<{ id: string }>(`SELECT id FROM ${s}.messages WHERE key_id IS NULL AND state = 'delivered' AND direction = 'outbound' LIMIT 1`)).rows[0].id;
  const [a, g] = [await journal.get(adapterId), await journal.get(gen)];
  if (!a || !g) throw new Error('journal bench: a message written for the check does not read back');
  const shape = (r: NonNullable<typeof a>) => JSON.stringify({ keys: Object.keys(r).sort(), answer: Object.keys(r.answer ?? {}).sort(), events: r.events.map((e) => e.state) });
  if (shape(a) !== shape(g)) throw new Error(`journal bench: generated rows differ from the adapter's: ${shape(g)} vs ${shape(a)}`);
}

/** Appends generated messages up to `to` rows in all, with the secondary indexes dropped meanwhile. */
async function grow(db: Client, s: string, schema: string, from: number, to: number, startMs: number, log: (l: string) => void): Promise<void> {
  const t = Date.now();
  const outbound = listTypes().map((x) => x.id);
  const inbound = listTypes({ direction: 'inbound' }).map((x) => x.id);
  const sql = fillSql(s);
  const rebuild = await indexesAndConstraints(db, schema);
  await db.query('SET maintenance_work_mem = \'512MB\'');
  for (const d of rebuild.drop) await db.query(d);
  const chunk = 1_000_000;
  for (let a = from; a < to; a += chunk) {
    const b = Math.min(to, a + chunk);
    const args = [a, b, startMs, to - IN_FLIGHT, outbound, inbound];
    await db.query(sql, args);
    log(`journal: ${b.toLocaleString('en')} rows (${Math.round((Date.now() - t) / 1000)} s)`);
  }
  for (const c of rebuild.create) await db.query(c);
  await db.query(`ANALYZE ${s}.messages`);
  await db.query(`ANALYZE ${s}.events`);
  log(`journal: ${to.toLocaleString('en')} rows with indexes rebuilt and analysed in ${Math.round((Date.now() - t) / 1000)} s`);
}

/** A journal in a database of its own, filled to `rows` messages (ending an hour ago; the adapter's few now). */
async function filledJournal(base: URL, rows: number, log: (l: string) => void, made: string[]): Promise<{ journal: PostgresJournal; db: Client }> {
  const dbName = `davis_bench_journal_${process.pid}_${randomBytes(3).toString('hex')}`;
  const admin = new Client({ connectionString: base.toString() });
  admin.on('error', () => undefined);
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${dbName}`);
    made.push(dbName);
  } finally {
    await admin.end();
  }
  const url = new URL(base.toString());
  url.pathname = `/${dbName}`;
  const db = new Client({ connectionString: url.toString() });
  // A connection the server ends (a restart) fails the query in progress; without a listener
  // its error event would also end the process before the databases are dropped.
  db.on('error', () => undefined);
  await db.connect();
  const journal = await PostgresJournal.open(url.toString(), { schema: 'davis', keyring: new JournalKeyring(randomBytes(32)) });
  const s = '"davis"';
  const generated = rows - THROUGH_ADAPTER;
  await grow(db, s, 'davis', 0, generated, Date.now() - 3_600_000 - generated * STEP_MS, log);
  const adapterIds = await throughAdapter(journal, THROUGH_ADAPTER);
  await checkShape(journal, db, s, adapterIds[0]);
  return { journal, db };
}

/**
 * Fills two temporary PostgreSQL journals, of `small` and of `large` messages, times the same
 * reads on both in alternating rounds and writes the figures into `out`, with the ratios of
 * the p99 on the large journal to the p99 on the small one. Both databases are dropped after.
 */
export async function benchJournalScale(out: Results, opts: JournalScaleOptions = {}): Promise<void> {
  const small = opts.small ?? envInt('BENCH_JOURNAL_SMALL', 100_000);
  const large = opts.large ?? envInt('BENCH_JOURNAL_LARGE', 10_000_000);
  if (large < small || small <= THROUGH_ADAPTER + IN_FLIGHT) throw new Error(`journal bench: sizes ${small} and ${large}: the large must be at least the small, the small above ${THROUGH_ADAPTER + IN_FLIGHT}`);
  const samples = opts.samples ?? 2000;
  const log = opts.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const base = new URL(opts.url ?? process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
  const made: string[] = [];
  const open: { journal: PostgresJournal; db: Client }[] = [];
  try {
    const [ts, tl] = [label(small), label(large)];
    open.push(await filledJournal(base, small, log, made));
    open.push(await filledJournal(base, large, log, made));
    out.journal_rows_small = small;
    out.journal_rows_large = large;
    await measure([{ tag: ts, ...open[0] }, { tag: tl, ...open[1] }], '"davis"', samples, out, log);
    for (const name of ['status', 'list', 'predecessor', 'reference']) {
      out[`journal_${name}_p99_ratio`] = round2(Number(out[`journal_${name}_p99_ms_${tl}`]) / Number(out[`journal_${name}_p99_ms_${ts}`]));
    }
  } finally {
    for (const o of open) {
      await o.journal.close().catch(() => undefined);
      await o.db.end().catch(() => undefined);
    }
    await dropDatabases(base, made, log);
  }
}

/**
 * Drops the run's databases on a fresh connection (one held through the run may have been
 * ended by the server), trying again for a while if the server is restarting.
 */
async function dropDatabases(base: URL, names: readonly string[], log: (l: string) => void): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const dropper = new Client({ connectionString: base.toString() });
    dropper.on('error', () => undefined);
    try {
      await dropper.connect();
      for (const name of names) await dropper.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      return;
    } catch (err) {
      if (attempt === 10) {
        log(`journal bench: could not drop database(s) ${names.join(', ')}: ${(err as Error).message}`);
        return;
      }
      await new Promise((r) => setTimeout(r, 3000));
    } finally {
      await dropper.end().catch(() => undefined);
    }
  }
}

/** `100k`, `10m`: the size in a figure's name. */
function label(n: number): string {
  if (n % 1_000_000 === 0) return `${n / 1_000_000}m`;
  if (n % 1000 === 0) return `${n / 1000}k`;
  return String(n);
}
