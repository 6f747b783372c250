import { Pool, type PoolClient } from 'pg';
import { DavisError } from '../errors/errors';
import type { CentralAnswer } from '../wire/types';
import {
  decodeCursor, encodeCursor, nowIso, type Journal, type MessageFilter, type MessageRecord, type MessageState,
  type NewMessage, type TransitionExtra, type WebhookStatus, toMessageRecord, toWaitingMessage, toWaitingMessages, type WaitingMessage, type WaitingRow,
  type JournalMaintenance, type RekeyOptions, type RekeyReport, REKEY_BATCH, keyCountName, type JournalRetention, purgedAnswer,
  CENTRAL_REFERENCE_SCAN, referencePage, trafficMinutes, type TrafficMinute,
} from './journal';
import { RowSealer, type JournalKeyring } from './journal-cipher';
import type { MigrationResult, MigrationStatus } from './migrations';
import { migratePostgres, postgresMigrationStatus } from './migrations/migrate-postgres';

/** Options of {@link PostgresJournal.open}. */
export interface PostgresJournalOptions {
  /**
   * Schema holding the journal's tables; created if absent. Lower-case letters, digits and
   * `_`, starting with a letter or `_`. Gateways that share work must name the same schema.
   * @default "davis"
   */
  readonly schema?: string;
  /** Most connections this gateway holds open. @default 10 */
  readonly poolSize?: number;
  /** Longest wait for a new connection, ms; past it the call throws. @default 5000 */
  readonly connectTimeoutMs?: number;
  /**
   * Told about errors of idle connections (e.g. the server restarted). They are otherwise
   * ignored: the connection is dropped and the next call opens another or throws.
   */
  readonly onIdleError?: (err: Error) => void;
  /**
   * Keys that seal the personal data (wire XML, answers) and open it. Without one, values
   * are stored in clear and sealed rows cannot be read: for tests and tools only;
   * `openJournal` always passes the configured keyring.
   */
  readonly keyring?: JournalKeyring;
}

/** Most messages one relay pass claims. */
const CLAIM_BATCH = 1000;

/** Settled states, as SQL; the same set as the SQLite adapter's. */
const SETTLED_SQL = "('delivered','rejected','failed','refused')";

/** The sealed values of a row, with the key they are sealed with (`seq` is BIGINT: text). */
interface SealedRow { seq: string; id: string; key_id: string | null; wire_xml: string; answer_json: string | null; response_xml: string | null }

interface Row {
  id: string; type: string; direction: 'outbound' | 'inbound'; state: MessageState; ordering_key: string; client_id: string;
  idempotency_key: string | null; body_hash: string; correlation_id: string; created_at: string; updated_at: string;
  attempts: number; last_error: string | null; next_attempt_at: string | null;
  answer_json: string | null; webhook_json: WebhookStatus | null; key_id: string | null; staff: string | null;
  events: { state: MessageState; at: string; attempt: number | null; detail: string | null }[];
}

/** SQL of every statement, for one schema (an identifier checked by `open`). */
function statements(s: string) {
  // One statement reads the row and its history, so both come from the same snapshot.
  const select = `SELECT m.id, m.type, m.direction, m.state, m.ordering_key, m.client_id, m.idempotency_key, m.body_hash,
      m.correlation_id, m.created_at, m.updated_at, m.attempts, m.last_error, m.next_attempt_at, m.answer_json, m.webhook_json, m.key_id, m.staff,
      COALESCE((SELECT json_agg(json_build_object('state', e.state, 'at', e.at, 'attempt', e.attempt, 'detail', e.detail) ORDER BY e.seq)
        FROM ${s}.events e WHERE e.message_id = m.id), '[]'::json) AS events
    FROM ${s}.messages m`;
  // A state change and its event are one statement (one implicit transaction): the UPDATE
  // takes the row lock, and a concurrent UPDATE of the same row waits, then re-checks its
  // WHERE against the committed row (READ COMMITTED), so a conditional move is decided once.
  // The event's seq is drawn under that lock, so history order is the order of the moves.
  // `transition` passes $2 = NULL (any state); `transitionFrom` names the state it moves from.
  const move = `WITH m AS (
      UPDATE ${s}.messages SET state = $3::text, updated_at = $4::text,
        attempts = GREATEST(attempts, COALESCE($5::int, attempts)),
        last_error = CASE WHEN $3::text IN ('retrying','failed','refused') THEN COALESCE($6::text, last_error) ELSE last_error END,
        next_attempt_at = $7::text
      WHERE id = $1::text AND ($2::text IS NULL OR state = $2::text) RETURNING id)
    INSERT INTO ${s}.events (message_id, state, at, attempt, detail) SELECT id, $3::text, $4::text, $5::int, $6::text FROM m`;
  return {
    select,
    // Serialises inserts of one ordering key (see `insert`). Two-int advisory keys: the
    // schema's hash and the key's hash; the single-bigint space is left to the DDL lock.
    keyLock: `SELECT pg_advisory_xact_lock(hashtext('${s}'), hashtext($1::text))`,
    insert: `WITH m AS (
        INSERT INTO ${s}.messages (id, type, direction, state, ordering_key, client_id, idempotency_key, body_hash, correlation_id, wire_xml, created_at, updated_at, key_id, staff)
        VALUES ($1, $2, $3, 'accepted', $4, $5, $6, $7, $8, $9, $10, $10, $11, $12) RETURNING id)
      INSERT INTO ${s}.events (message_id, state, at) SELECT id, 'accepted', $10 FROM m`,
    move,
    // Only if the row is under the key the answer is sealed with ($7): one key per row.
    answer: `WITH m AS (
        UPDATE ${s}.messages SET state = $2::text, updated_at = $3::text, next_attempt_at = NULL, answer_json = $4::text, response_xml = $5::text,
          wire_xml = COALESCE($8::text, wire_xml), key_id = $7::text
        WHERE id = $1::text AND ($8::text IS NOT NULL OR key_id IS NOT DISTINCT FROM $7::text) RETURNING id)
      INSERT INTO ${s}.events (message_id, state, at, detail) SELECT id, $2::text, $3::text, $6::text FROM m`,
    sealedOf: `SELECT seq, id, key_id, wire_xml, answer_json, response_xml FROM ${s}.messages WHERE id = $1 FOR UPDATE`,
    stale: `SELECT seq, id, key_id, wire_xml, answer_json, response_xml FROM ${s}.messages
      WHERE seq > $1 AND key_id IS DISTINCT FROM $2::text AND (NOT $3::boolean OR key_id IS NULL) ORDER BY seq LIMIT $4`,
    reseal: `UPDATE ${s}.messages m SET wire_xml = u.w, answer_json = u.a, response_xml = u.x, key_id = $1::text
      FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[]) AS u(id, old, w, a, x)
      WHERE m.id = u.id AND m.key_id IS NOT DISTINCT FROM u.old RETURNING u.old`,
    keyCounts: `SELECT key_id, count(*)::int AS n FROM ${s}.messages GROUP BY key_id`,
    requeue: `WITH m AS (
        UPDATE ${s}.messages SET state = 'queued', updated_at = $2::text, attempts = 0, next_attempt_at = NULL
        WHERE id = $1::text AND state = 'failed' RETURNING id)
      INSERT INTO ${s}.events (message_id, state, at, detail) SELECT id, 'queued', $2::text, $3::text FROM m`,
    webhook: `UPDATE ${s}.messages SET webhook_json = $2::json WHERE id = $1`,
    get: `${select} WHERE m.id = $1`,
    wire: `SELECT wire_xml, key_id FROM ${s}.messages WHERE id = $1`,
    idem: `${select} WHERE m.client_id = $1 AND m.idempotency_key = $2 AND m.state <> 'refused' ORDER BY m.seq DESC LIMIT 1`,
    unpublished: `SELECT id FROM ${s}.messages WHERE state = 'accepted' AND direction = 'outbound' AND created_at < $1 ORDER BY seq`,
    // SKIP LOCKED: a relay claiming at the same moment takes other rows instead of waiting for these.
    claim: `UPDATE ${s}.messages SET relay_lease_until = $2::text WHERE id IN (
        SELECT id FROM ${s}.messages WHERE state = 'accepted' AND direction = 'outbound' AND created_at < $1::text
          AND (relay_lease_until IS NULL OR relay_lease_until < $3::text) ORDER BY seq LIMIT $4 FOR UPDATE SKIP LOCKED)
      RETURNING id, seq::text AS seq`,
    release: `UPDATE ${s}.messages SET relay_lease_until = NULL WHERE id = ANY($1::text[])`,
    predecessor: `SELECT 1 FROM ${s}.messages p JOIN ${s}.messages m ON m.id = $1
      WHERE p.ordering_key = m.ordering_key AND p.direction = 'outbound' AND p.seq < m.seq AND p.state NOT IN ${SETTLED_SQL} LIMIT 1`,
    // One statement: the mark is set only while the predecessor is unsettled (see the port).
    waitFor: `UPDATE ${s}.messages m SET order_wait_since = $2::text WHERE m.id = $1::text AND EXISTS (
        SELECT 1 FROM ${s}.messages p WHERE p.ordering_key = m.ordering_key AND p.direction = 'outbound' AND p.seq < m.seq
          AND p.state NOT IN ${SETTLED_SQL})`,
    nextWaiting: `SELECT n.id, n.type, n.ordering_key, n.correlation_id, n.staff, n.order_wait_since
      FROM ${s}.messages m JOIN ${s}.messages n ON n.ordering_key = m.ordering_key AND n.seq > m.seq
      WHERE m.id = $1 AND n.direction = 'outbound' AND n.state NOT IN ${SETTLED_SQL} ORDER BY n.seq LIMIT 1`,
    clearWaiting: `UPDATE ${s}.messages SET order_wait_since = NULL WHERE id = $1 AND order_wait_since = $2`,
    stranded: `SELECT m.id, m.type, m.ordering_key, m.correlation_id, m.staff, m.order_wait_since FROM ${s}.messages m
      WHERE m.order_wait_since IS NOT NULL AND m.order_wait_since < $1 AND m.state = 'queued' AND NOT EXISTS (
        SELECT 1 FROM ${s}.messages p WHERE p.ordering_key = m.ordering_key AND p.direction = 'outbound' AND p.seq < m.seq
          AND p.state NOT IN ${SETTLED_SQL})
      ORDER BY m.seq LIMIT $2`,
    counts: `SELECT state, count(*)::int AS n FROM ${s}.messages GROUP BY state`,
    traffic: `SELECT substr(at, 1, 16) AS minute, state, count(*)::int AS n FROM ${s}.events
      WHERE at >= $1 AND state IN ('accepted','delivered','rejected','failed') GROUP BY 1, 2`,
    response: `SELECT response_xml, key_id FROM ${s}.messages WHERE id = $1`,
    purgeable: `SELECT id, key_id, answer_json FROM ${s}.messages
      WHERE purged_at IS NULL AND updated_at < $1 AND state IN ${SETTLED_SQL} ORDER BY updated_at LIMIT $2 FOR UPDATE SKIP LOCKED`,
    purge: `UPDATE ${s}.messages SET wire_xml = $1::text, answer_json = $2::text, response_xml = NULL, key_id = $3::text, purged_at = $4::text
      WHERE id = $5::text AND key_id IS NOT DISTINCT FROM $6::text AND purged_at IS NULL`,
    countPurgeable: `SELECT count(*)::int AS n FROM ${s}.messages WHERE purged_at IS NULL AND updated_at < $1 AND state IN ${SETTLED_SQL}`,
    countExpired: `SELECT count(*)::int AS n FROM ${s}.messages WHERE created_at < $1 AND state IN ${SETTLED_SQL}`,
    deleteExpired: `WITH doomed AS (
        SELECT id FROM ${s}.messages WHERE created_at < $1 AND state IN ${SETTLED_SQL} ORDER BY created_at LIMIT $2 FOR UPDATE SKIP LOCKED),
      ev AS (DELETE FROM ${s}.events WHERE message_id IN (SELECT id FROM doomed))
      DELETE FROM ${s}.messages WHERE id IN (SELECT id FROM doomed)`,
  };
}

/**
 * The shared journal: PostgreSQL, for several gateways working on one database. Same
 * behaviour as the SQLite adapter; what SQLite gets from its single writer, this one gets
 * from row locks (conditional moves) and a per-ordering-key advisory lock (insertion order).
 * Connection errors are thrown as they come; callers map them to DAVIS_ERR_JOURNAL_UNAVAILABLE.
 */
export class PostgresJournal implements Journal, JournalMaintenance, JournalRetention {
  private closed = false;
  private schemaName = 'davis';

  /** The pool and the (unquoted) schema, for stores that keep their tables in the journal's schema (the audit log); the journal ends the pool. */
  get connection(): { readonly pool: Pool; readonly schema: string } {
    return { pool: this.pool, schema: this.schemaName };
  }

  private constructor(
    private readonly pool: Pool, private readonly sql: ReturnType<typeof statements>, private readonly sealer: RowSealer,
    readonly migration: MigrationResult,
  ) {}

  /**
   * Connects, applies pending migrations (creating the schema and tables on a new database,
   * adopting a 0.1.0 journal; see `migrations/migrate-postgres.ts`) and returns the journal.
   * Several gateways starting at once is safe: migrations run under an advisory lock, each
   * once. With nothing pending, the role needs no CREATE privilege.
   *
   * @param url `postgres://user[:password]@host[:port]/database`
   * @throws Error when the schema name is not a plain identifier or the database cannot be reached
   * @throws DavisError DAVIS_ERR_JOURNAL_SCHEMA when the schema was written by a newer release
   */
  static async open(url: string, opts: PostgresJournalOptions = {}): Promise<PostgresJournal> {
    const schema = opts.schema ?? 'davis';
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
      throw new Error(`journal: schema name ${JSON.stringify(schema)} must be lower-case letters, digits and _`);
    }
    const pool = new Pool({
      connectionString: url, max: opts.poolSize ?? 10, connectionTimeoutMillis: opts.connectTimeoutMs ?? 5000,
      application_name: 'davis-gateway',
    });
    // Without a listener an idle connection's error would end the process.
    pool.on('error', (err) => opts.onIdleError?.(err));
    listenOnEveryConnection(pool);
    const quoted = `"${schema}"`;
    let migration: MigrationResult;
    try {
      migration = await migratePostgres(pool, quoted, schema);
    } catch (err) {
      await pool.end().catch(() => undefined);
      throw err;
    }
    const journal = new PostgresJournal(pool, statements(quoted), new RowSealer(opts.keyring), migration);
    journal.schemaName = schema;
    return journal;
  }

  /**
   * What is applied and pending in a schema, changing nothing (reading needs no privilege
   * beyond `schema_migrations`).
   * @throws DavisError DAVIS_ERR_JOURNAL_SCHEMA; Error when the database cannot be reached
   */
  static async migrationStatus(url: string, schema = 'davis'): Promise<MigrationStatus> {
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new Error(`journal: schema name ${JSON.stringify(schema)} must be lower-case letters, digits and _`);
    const pool = new Pool({ connectionString: url, max: 1, connectionTimeoutMillis: 5000, application_name: 'davis-gateway' });
    pool.on('error', () => undefined);
    listenOnEveryConnection(pool);
    try {
      return await postgresMigrationStatus(pool, `"${schema}"`);
    } finally {
      await pool.end().catch(() => undefined);
    }
  }

  /**
   * Inserts under an advisory lock on the ordering key: seq is drawn and committed while no
   * other insert of the same key can draw one, so per key seq order is commit order (as with
   * SQLite's single writer) and a message never becomes visible before an earlier-seq sibling.
   */
  async insert(msg: NewMessage): Promise<void> {
    const at = nowIso();
    await inTransaction(this.pool, async (c) => {
      await c.query(this.sql.keyLock, [msg.orderingKey]);
      await c.query(this.sql.insert, [
        msg.id, msg.type, msg.direction, msg.orderingKey, msg.clientId, msg.idempotencyKey ?? null, msg.bodyHash,
        msg.correlationId, this.sealer.seal(msg.wireXml, msg.id, 'wire_xml'), at, this.sealer.keyId, msg.staff ?? null,
      ]);
    });
  }

  async transition(id: string, state: MessageState, extra: TransitionExtra = {}): Promise<void> {
    if (!(await this.move(id, undefined, state, extra))) throw new Error(`journal: no message ${id}`);
  }

  async transitionFrom(id: string, from: MessageState, to: MessageState, extra: TransitionExtra = {}): Promise<boolean> {
    return this.move(id, from, to, extra);
  }

  private async move(id: string, from: MessageState | undefined, to: MessageState, extra: TransitionExtra): Promise<boolean> {
    const res = await this.pool.query(this.sql.move, [
      id, from ?? null, to, nowIso(), extra.attempt ?? null, extra.detail ?? null, extra.nextAttemptAt ?? null,
    ]);
    return res.rowCount === 1;
  }

  async hasUnsettledPredecessor(id: string): Promise<boolean> {
    return (await this.pool.query(this.sql.predecessor, [id])).rowCount !== 0;
  }

  async waitForPredecessor(id: string): Promise<boolean> {
    return (await this.pool.query(this.sql.waitFor, [id, nowIso()])).rowCount === 1;
  }

  async nextWaiting(id: string): Promise<WaitingMessage | undefined> {
    return toWaitingMessage((await this.pool.query<WaitingRow>(this.sql.nextWaiting, [id])).rows[0]);
  }

  async clearWaiting(id: string, since: string): Promise<void> {
    await this.pool.query(this.sql.clearWaiting, [id, since]);
  }

  async strandedWaiting(olderThan: string, limit: number): Promise<WaitingMessage[]> {
    return toWaitingMessages((await this.pool.query<WaitingRow>(this.sql.stranded, [olderThan, limit])).rows);
  }

  async requeueFailed(id: string, detail: string): Promise<boolean> {
    return (await this.pool.query(this.sql.requeue, [id, nowIso(), detail])).rowCount === 1;
  }

  async recordWebhook(id: string, status: Omit<WebhookStatus, 'updatedAt'>): Promise<void> {
    await this.pool.query(this.sql.webhook, [id, JSON.stringify({ ...status, updatedAt: nowIso() })]);
  }

  async countByState(): Promise<Partial<Record<MessageState, number>>> {
    const out: Partial<Record<MessageState, number>> = {};
    for (const r of (await this.pool.query<{ state: MessageState; n: number }>(this.sql.counts)).rows) out[r.state] = r.n;
    return out;
  }

  async recordAnswer(id: string, answer: CentralAnswer, responseXml: string): Promise<MessageState> {
    const state: MessageState = answer.result === 'ACCEPTED' ? 'delivered' : 'rejected';
    const s = this.sealer;
    const args = (wire: string | null) => [
      id, state, nowIso(), s.seal(JSON.stringify(answer), id, 'answer_json'), s.seal(responseXml, id, 'response_xml'),
      answer.result === 'ACCEPTED' ? null : answer.code, s.keyId, wire,
    ];
    if ((await this.pool.query(this.sql.answer, args(null))).rowCount === 1) return state;
    // The row is under another key (written before a rotation), or absent: reseal its wire
    // XML with the answer, holding the row.
    await inTransaction(this.pool, async (c) => {
      const row = (await c.query<SealedRow>(this.sql.sealedOf, [id])).rows.at(0);
      if (!row) throw new Error(`journal: no message ${id}`);
      await c.query(this.sql.answer, args(s.seal(s.open(row.wire_xml, row.key_id, id, 'wire_xml'), id, 'wire_xml')));
    });
    return state;
  }

  async get(id: string): Promise<MessageRecord | undefined> {
    const row = (await this.pool.query<Row>(this.sql.get, [id])).rows.at(0);
    return row ? this.toRecord(row) : undefined;
  }

  async getWireXml(id: string): Promise<string | undefined> {
    const row = (await this.pool.query<{ wire_xml: string; key_id: string | null }>(this.sql.wire, [id])).rows.at(0);
    const xml = row ? this.sealer.open(row.wire_xml, row.key_id, id, 'wire_xml') : undefined;
    return xml === '' ? undefined : xml;
  }

  async getResponseXml(id: string): Promise<string | undefined> {
    const row = (await this.pool.query<{ response_xml: string | null; key_id: string | null }>(this.sql.response, [id])).rows.at(0);
    return row?.response_xml ? this.sealer.open(row.response_xml, row.key_id, id, 'response_xml') : undefined;
  }

  async retentionCounts(payloadsBefore: string, messagesBefore: string): Promise<{ payloads: number; messages: number }> {
    const [p, m] = await Promise.all([
      this.pool.query<{ n: number }>(this.sql.countPurgeable, [payloadsBefore]),
      this.pool.query<{ n: number }>(this.sql.countExpired, [messagesBefore]),
    ]);
    return { payloads: p.rows[0].n, messages: m.rows[0].n };
  }

  async purgePayloads(before: string, limit: number): Promise<number> {
    const at = nowIso();
    let n = 0;
    await inTransaction(this.pool, async (c) => {
      const rows = (await c.query<{ id: string; key_id: string | null; answer_json: string | null }>(this.sql.purgeable, [before, limit])).rows;
      for (const r of rows) {
        const answer = purgedAnswer(this.sealer.open0(r.answer_json, r.key_id, r.id, 'answer_json'));
        const res = await c.query(this.sql.purge, [this.sealer.seal('', r.id, 'wire_xml'), this.sealer.seal0(answer, r.id, 'answer_json'),
          this.sealer.keyId, at, r.id, r.key_id]);
        n += res.rowCount ?? 0;
      }
    });
    return n;
  }

  async deleteMessages(before: string, limit: number): Promise<number> {
    return (await this.pool.query(this.sql.deleteExpired, [before, limit])).rowCount ?? 0;
  }

  async findByIdempotencyKey(clientId: string, key: string): Promise<MessageRecord | undefined> {
    const row = (await this.pool.query<Row>(this.sql.idem, [clientId, key])).rows.at(0);
    return row ? this.toRecord(row) : undefined;
  }

  async list(filter: MessageFilter): Promise<{ items: MessageRecord[]; nextCursor?: string }> {
    const where: string[] = [];
    const args: unknown[] = [];
    const arg = (v: unknown): string => { args.push(v); return `$${args.length}`; };
    if (filter.type) where.push(`m.type = ${arg(filter.type)}`);
    if (filter.state) where.push(`m.state = ${arg(filter.state)}`);
    if (filter.direction) where.push(`m.direction = ${arg(filter.direction)}`);
    if (filter.from) where.push(`m.created_at >= ${arg(filter.from)}`);
    if (filter.to) where.push(`m.created_at < ${arg(filter.to)}`);
    if (filter.orderingKey) where.push(`m.ordering_key = ${arg(filter.orderingKey)}`);
    if (filter.correlationId) where.push(`m.correlation_id = ${arg(filter.correlationId)}`);
    if (filter.centralReference) where.push('m.answer_json IS NOT NULL');
    if (filter.cursor) {
      const [at, id] = decodeCursor(filter.cursor);
      const a = arg(at);
      where.push(`(m.created_at < ${a} OR (m.created_at = ${a} AND m.id < ${arg(id)}))`);
    }
    const limit = Math.min(Math.max(filter.limit ?? 100, 1), 1000);
    const ref = filter.centralReference;
    const rows = (await this.pool.query<Row>(`${this.sql.select} ${where.length ? 'WHERE ' + where.join(' AND ') : ''}
      ORDER BY m.created_at DESC, m.id DESC LIMIT ${arg(ref ? CENTRAL_REFERENCE_SCAN : limit + 1)}`, args)).rows;
    if (ref) return referencePage(rows, (r) => this.toRecord(r), ref, limit);
    const page = rows.slice(0, limit);
    const items = page.map((r) => this.toRecord(r));
    const last = page.at(-1);
    return rows.length > limit && last ? { items, nextCursor: encodeCursor(last.created_at, last.id) } : { items };
  }

  async trafficByMinute(since: string): Promise<TrafficMinute[]> {
    const rows = (await this.pool.query<{ minute: string; state: string; n: number }>(this.sql.traffic, [since])).rows;
    return trafficMinutes(since, rows);
  }

  async unpublished(olderThan: string, leaseMs?: number): Promise<string[]> {
    if (leaseMs === undefined) return (await this.pool.query<{ id: string }>(this.sql.unpublished, [olderThan])).rows.map((r) => r.id);
    const now = Date.now();
    const rows = (await this.pool.query<{ id: string; seq: string }>(this.sql.claim,
      [olderThan, new Date(now + leaseMs).toISOString(), new Date(now).toISOString(), CLAIM_BATCH])).rows;
    return rows.sort((a, b) => (BigInt(a.seq) < BigInt(b.seq) ? -1 : 1)).map((r) => r.id);
  }

  async releaseUnpublished(ids: readonly string[]): Promise<void> {
    if (ids.length) await this.pool.query(this.sql.release, [ids]);
  }

  async ping(): Promise<void> {
    await this.pool.query('SELECT 1');
  }

  /**
   * Reseals, batch by batch in seq order, every row not under the current key (rows in clear
   * from 0.1.0, rows under a previous key): one UPDATE per batch, each row only if its key
   * did not change meanwhile (a gateway recording an answer resealed it), so it is safe
   * while gateways run.
   */
  async rekey(opts: RekeyOptions = {}): Promise<RekeyReport> {
    const keyId = this.sealer.keyId;
    if (keyId === null) throw new DavisError('DAVIS_ERR_JOURNAL_KEY', { reason: 'no journal key is configured: nothing to seal with' });
    const s = this.sealer;
    const fromKeys: Record<string, number> = {};
    let after = '0';
    let rewritten = 0;
    let batches = 0;
    for (;;) {
      const rows = (await this.pool.query<SealedRow>(this.sql.stale, [after, keyId, !!opts.clearOnly, opts.batchSize ?? REKEY_BATCH])).rows;
      if (!rows.length) break;
      const cols: (string | null)[][] = [[], [], [], [], []];
      for (const r of rows) {
        cols[0].push(r.id);
        cols[1].push(r.key_id);
        cols[2].push(s.seal(s.open(r.wire_xml, r.key_id, r.id, 'wire_xml'), r.id, 'wire_xml'));
        cols[3].push(s.seal0(s.open0(r.answer_json, r.key_id, r.id, 'answer_json'), r.id, 'answer_json'));
        cols[4].push(s.seal0(s.open0(r.response_xml, r.key_id, r.id, 'response_xml'), r.id, 'response_xml'));
      }
      const done = await this.pool.query<{ old: string | null }>(this.sql.reseal, [keyId, ...cols]);
      for (const d of done.rows) fromKeys[keyCountName(d.old)] = (fromKeys[keyCountName(d.old)] ?? 0) + 1;
      rewritten += done.rowCount ?? 0;
      batches++;
      after = rows[rows.length - 1].seq;
      opts.onBatch?.(rewritten);
    }
    return { keyId, rewritten, fromKeys, batches };
  }

  async keyCounts(): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const r of (await this.pool.query<{ key_id: string | null; n: number }>(this.sql.keyCounts)).rows) out[keyCountName(r.key_id)] = r.n;
    return out;
  }

  private toRecord(row: Row): MessageRecord {
    const answer = row.answer_json !== null ? JSON.parse(this.sealer.open(row.answer_json, row.key_id, row.id, 'answer_json')) as CentralAnswer : null;
    return toMessageRecord({ ...row, answer, webhook: row.webhook_json }, row.events);
  }

  /** Ends the pool; a second call does nothing. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }
}

/**
 * Gives every connection of `pool` an 'error' listener of its own for its whole life. pg-pool
 * removes its listener from a connection it hands out, and hands a released connection to a
 * waiting `pool.connect()` at once: the new owner's listener comes a microtask later, after
 * `await`, and a server message read in the same chunk as the last answer (the FATAL of a
 * terminated backend behind a ReadyForQuery) would be an 'error' event with no listener,
 * ending the process. With this one the connection is marked broken (its next query fails,
 * and the caller releases it with the error, so it is not reused).
 */
export function listenOnEveryConnection(pool: Pool): void {
  pool.on('connect', (client: PoolClient) => { client.on('error', () => undefined); });
}

/** Runs `fn` in a transaction on one pooled connection; a connection that failed is not reused. */
async function inTransaction(pool: Pool, fn: (c: PoolClient) => Promise<void>): Promise<void> {
  const c = await pool.connect();
  let broken: Error | true | undefined;
  // A checked-out connection has no listener of the pool's: the server ending it between two
  // statements (a restart) would otherwise be an unhandled 'error' event, ending the process.
  const onError = (err: Error): void => { broken = err; };
  c.on('error', onError);
  try {
    await c.query('BEGIN');
    await fn(c);
    await c.query('COMMIT');
  } catch (err) {
    await c.query('ROLLBACK').catch((e: unknown) => { broken = e instanceof Error ? e : true; });
    throw err;
  } finally {
    c.off('error', onError);
    c.release(broken);
  }
}

