import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { DavisError } from '../errors/errors';
import type { CentralAnswer } from '../wire/types';
import {
  decodeCursor, encodeCursor, nowIso, type Journal, type MessageFilter, type MessageRecord, type MessageState, type NewMessage, type EventRow, toMessageRecord, toWaitingMessage, toWaitingMessages, type WaitingMessage, type WaitingRow,
  type TransitionExtra, type WebhookStatus, type JournalMaintenance, type JournalRetention, type RekeyOptions, type RekeyReport, REKEY_BATCH, keyCountName, purgedAnswer,
  CENTRAL_REFERENCE_SCAN, referencePage, trafficMinutes, type TrafficMinute,
} from './journal';
import { RowSealer, type JournalKeyring } from './journal-cipher';
import { migrateSqlite, sqliteMigrationStatus } from './migrations/migrate-sqlite';
import type { MigrationResult, MigrationStatus } from './migrations';
import type { SqliteConnection } from './migrations/migration';

/** Most messages one relay pass claims. */
const CLAIM_BATCH = 1000;

/** States after which a message needs nothing more (as SQL). */
const SETTLED_SQL = "('delivered','rejected','failed','refused')";

interface Row {
  id: string; type: string; direction: 'outbound' | 'inbound'; state: MessageState; ordering_key: string; client_id: string;
  idempotency_key: string | null; body_hash: string; correlation_id: string; created_at: string; updated_at: string;
  attempts: number; last_error: string | null; next_attempt_at: string | null; answer_json: string | null; webhook_json: string | null;
  key_id: string | null; staff: string | null;
}

/** The sealed values of a row, with the key they are sealed with. */
interface SealedRow { seq: number; id: string; key_id: string | null; wire_xml: string; answer_json: string | null; response_xml: string | null }

/** Options of {@link SqliteJournal}. */
export interface SqliteJournalOptions {
  /**
   * Keys that seal the personal data (wire XML, answers) and open it. Without one, values
   * are stored in clear and sealed rows cannot be read: for tests and tools only;
   * `openJournal` always passes the configured keyring.
   */
  readonly keyring?: JournalKeyring;
}

/** A write waiting for the next group commit (`SqliteJournal.write`). */
interface PendingWrite {
  readonly run: () => unknown;
  readonly resolve: (value: unknown) => void;
  readonly reject: (err: unknown) => void;
  /** An accept: the batch commits with `synchronous=FULL`. */
  readonly durable: boolean;
}

const COLUMNS = 'id, type, direction, state, ordering_key, client_id, idempotency_key, body_hash, correlation_id, created_at, updated_at, attempts, last_error, next_attempt_at, answer_json, webhook_json, key_id, staff';
const UPDATE_SET = `state = @to, updated_at = @at, attempts = MAX(attempts, COALESCE(@attempt, attempts)),
  last_error = CASE WHEN @to IN ('retrying','failed','refused') THEN COALESCE(@detail, last_error) ELSE last_error END,
  next_attempt_at = @next`;

/** The migration runner's view of a connection. */
function connection(db: Database.Database): SqliteConnection {
  return {
    exec: (sql) => { db.exec(sql); },
    all: (sql, ...args) => db.prepare(sql).all(...args),
    run: (sql, ...args) => { db.prepare(sql).run(...args); },
    immediate: (fn) => db.transaction(fn).immediate(),
    busyTimeout: (ms) => {
      const before = db.pragma('busy_timeout', { simple: true }) as number;
      db.pragma(`busy_timeout = ${ms}`);
      return before;
    },
  };
}

/**
 * What is applied and pending in a journal file, changing nothing; a missing file is an
 * empty journal (nothing is created).
 * @throws DavisError DAVIS_ERR_JOURNAL_SCHEMA (newer than this release, or an edited migration)
 */
export function sqliteJournalStatus(file: string): MigrationStatus {
  let db: Database.Database;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
  } catch (err) {
    if ((err as { code?: string }).code === 'SQLITE_CANTOPEN') return sqliteMigrationStatus(EMPTY);
    throw err;
  }
  try {
    return sqliteMigrationStatus(connection(db));
  } finally {
    db.close();
  }
}

/** A database with no tables, for the status of a file that does not exist. */
const EMPTY: SqliteConnection = {
  exec: () => undefined, all: () => [], run: () => undefined, immediate: (fn) => fn(), busyTimeout: () => 0,
};

/**
 * The embedded journal: one SQLite file in WAL mode with `synchronous=FULL`, so a message
 * answered 202 survives a power cut. better-sqlite3 is synchronous; each call is a short
 * local transaction, so the async port adds no waiting.
 */
export class SqliteJournal implements Journal, JournalMaintenance, JournalRetention {
  private readonly db: Database.Database;
  private readonly stmts;
  private readonly sealer: RowSealer;
  readonly migration: MigrationResult;

  /**
   * Opens (and creates if needed) the journal file and applies pending migrations (see
   * `migrations/migrate-sqlite.ts`). `:memory:` gives a throwaway journal.
   * @throws DavisError DAVIS_ERR_JOURNAL_SCHEMA when the file was written by a newer release
   */
  constructor(file: string, opts: SqliteJournalOptions = {}) {
    if (file !== ':memory:') mkdirSync(path.dirname(file), { recursive: true });
    this.sealer = new RowSealer(opts.keyring);
    this.db = new Database(file);
    // Before anything that takes a lock: a second process opening the file waits, not fails.
    this.db.pragma('busy_timeout = 5000');
    this.db.pragma('journal_mode = WAL');
    // Freed and overwritten cells are zeroed, so a row rewritten by rekey (or deleted) leaves
    // no clear copy in the file's free space.
    this.db.pragma('secure_delete = ON');
    // The group commit runs each write in a savepoint; their statement journal stays in
    // memory instead of a temporary file opened, unlinked and closed per transaction.
    this.db.pragma('temp_store = MEMORY');
    // NORMAL in WAL mode: a commit survives a process crash, and the accept batches below
    // switch to FULL so what was answered 202 also survives a power cut. A state change lost
    // to a power cut only means a message is sent again, which central's idempotency absorbs.
    this.db.pragma('synchronous = NORMAL');
    try {
      this.migration = migrateSqlite(connection(this.db));
    } catch (err) {
      this.db.close();
      throw err;
    }
    this.stmts = {
      insert: this.db.prepare(`INSERT INTO messages (id, type, direction, state, ordering_key, client_id, idempotency_key, body_hash, correlation_id, wire_xml, created_at, updated_at, key_id, staff)
        VALUES (@id, @type, @direction, 'accepted', @orderingKey, @clientId, @idempotencyKey, @bodyHash, @correlationId, @wireXml, @at, @at, @keyId, @staff)`),
      event: this.db.prepare('INSERT INTO events (message_id, state, at, attempt, detail) VALUES (?, ?, ?, ?, ?)'),
      update: this.db.prepare(`UPDATE messages SET ${UPDATE_SET} WHERE id = @id`),
      updateFrom: this.db.prepare(`UPDATE messages SET ${UPDATE_SET} WHERE id = @id AND state = @from`),
      answer: this.db.prepare(`UPDATE messages SET state = ?, updated_at = ?, next_attempt_at = NULL, answer_json = ?, response_xml = ?,
        wire_xml = COALESCE(?, wire_xml), key_id = ? WHERE id = ?`),
      stale: this.db.prepare(`SELECT seq, id, key_id, wire_xml, answer_json, response_xml FROM messages
        WHERE seq > ? AND (key_id IS NULL OR key_id <> ?) AND (? = 0 OR key_id IS NULL) ORDER BY seq LIMIT ?`),
      reseal: this.db.prepare('UPDATE messages SET wire_xml = ?, answer_json = ?, response_xml = ?, key_id = ? WHERE id = ? AND key_id IS ?'),
      keyCounts: this.db.prepare('SELECT key_id, count(*) AS n FROM messages GROUP BY key_id'),
      requeue: this.db.prepare("UPDATE messages SET state = 'queued', updated_at = ?, attempts = 0, next_attempt_at = NULL WHERE id = ? AND state = 'failed'"),
      webhook: this.db.prepare('UPDATE messages SET webhook_json = ? WHERE id = ?'),
      get: this.db.prepare(`SELECT ${COLUMNS} FROM messages WHERE id = ?`),
      events: this.db.prepare('SELECT state, at, attempt, detail FROM events WHERE message_id = ? ORDER BY seq'),
      wire: this.db.prepare('SELECT wire_xml, key_id FROM messages WHERE id = ?'),
      keyOf: this.db.prepare('SELECT key_id FROM messages WHERE id = ?'),
      idem: this.db.prepare(`SELECT ${COLUMNS} FROM messages WHERE client_id = ? AND idempotency_key = ? AND state <> 'refused' ORDER BY seq DESC LIMIT 1`),
      unpublished: this.db.prepare("SELECT id FROM messages WHERE state = 'accepted' AND direction = 'outbound' AND created_at < ? ORDER BY seq"),
      claim: this.db.prepare(`UPDATE messages SET relay_lease_until = ? WHERE id IN (
          SELECT id FROM messages WHERE state = 'accepted' AND direction = 'outbound' AND created_at < ?
            AND (relay_lease_until IS NULL OR relay_lease_until < ?) ORDER BY seq LIMIT ?)
        RETURNING id, seq`),
      release: this.db.prepare('UPDATE messages SET relay_lease_until = NULL WHERE id = ?'),
      predecessor: this.db.prepare(`SELECT 1 FROM messages p JOIN messages m ON m.id = ?
        WHERE p.ordering_key = m.ordering_key AND p.direction = 'outbound' AND p.seq < m.seq AND p.state NOT IN ${SETTLED_SQL} LIMIT 1`),
      waitFor: this.db.prepare(`UPDATE messages SET order_wait_since = ? WHERE id = ? AND EXISTS (
          SELECT 1 FROM messages p WHERE p.ordering_key = messages.ordering_key AND p.direction = 'outbound' AND p.seq < messages.seq
            AND p.state NOT IN ${SETTLED_SQL})`),
      nextWaiting: this.db.prepare(`SELECT n.id, n.type, n.ordering_key, n.correlation_id, n.staff, n.order_wait_since
        FROM messages m JOIN messages n ON n.ordering_key = m.ordering_key AND n.seq > m.seq
        WHERE m.id = ? AND n.direction = 'outbound' AND n.state NOT IN ${SETTLED_SQL} ORDER BY n.seq LIMIT 1`),
      clearWaiting: this.db.prepare('UPDATE messages SET order_wait_since = NULL WHERE id = ? AND order_wait_since = ?'),
      stranded: this.db.prepare(`SELECT m.id, m.type, m.ordering_key, m.correlation_id, m.staff, m.order_wait_since FROM messages m
        WHERE m.order_wait_since IS NOT NULL AND m.order_wait_since < ? AND m.state = 'queued' AND NOT EXISTS (
          SELECT 1 FROM messages p WHERE p.ordering_key = m.ordering_key AND p.direction = 'outbound' AND p.seq < m.seq
            AND p.state NOT IN ${SETTLED_SQL})
        ORDER BY m.seq LIMIT ?`),
      counts: this.db.prepare('SELECT state, count(*) AS n FROM messages GROUP BY state'),
      ping: this.db.prepare('SELECT 1'),
      response: this.db.prepare('SELECT response_xml, key_id FROM messages WHERE id = ?'),
      purgeable: this.db.prepare(`SELECT id, key_id, answer_json FROM messages
        WHERE purged_at IS NULL AND updated_at < ? AND state IN ${SETTLED_SQL} ORDER BY updated_at LIMIT ?`),
      purge: this.db.prepare(`UPDATE messages SET wire_xml = ?, answer_json = ?, response_xml = NULL, key_id = ?, purged_at = ?
        WHERE id = ? AND key_id IS ? AND purged_at IS NULL`),
      countPurgeable: this.db.prepare(`SELECT count(*) AS n FROM messages WHERE purged_at IS NULL AND updated_at < ? AND state IN ${SETTLED_SQL}`),
      expired: this.db.prepare(`SELECT id FROM messages WHERE created_at < ? AND state IN ${SETTLED_SQL} ORDER BY created_at LIMIT ?`),
      countExpired: this.db.prepare(`SELECT count(*) AS n FROM messages WHERE created_at < ? AND state IN ${SETTLED_SQL}`),
      deleteEvents: this.db.prepare('DELETE FROM events WHERE message_id = ?'),
      deleteMessage: this.db.prepare('DELETE FROM messages WHERE id = ?'),
    };
  }

  /**
   * Group commit: the per-message writes (accepts, state changes, answers, order marks,
   * webhook status) issued in the same turn of the event loop are written in one transaction,
   * so concurrent requests and deliveries share one commit instead of paying one each (a
   * commit costs ~100 µs of CPU here, most of it in the kernel: `npm run bench -- --only
   * gateway`). Each write runs in a savepoint of its own, so one that fails (a duplicate id,
   * a message that is not there) fails alone. A batch holding an accept commits with
   * `synchronous=FULL`, so what was answered 202 survives a power cut; the rest use NORMAL.
   * Every promise settles after the commit: whoever awaits a write reads it back.
   */
  private write<T>(run: () => T, durable = false): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pendingWrites.push({ run, resolve: resolve as (v: unknown) => void, reject, durable });
      if (this.pendingWrites.length === 1) setImmediate(() => this.flushWrites());
    });
  }

  private readonly pendingWrites: PendingWrite[] = [];

  private flushWrites(): void {
    const batch = this.pendingWrites.splice(0);
    if (!batch.length) return;
    if (!this.db.open) {
      for (const b of batch) b.reject(new Error('journal closed'));
      return;
    }
    const durable = batch.some((b) => b.durable);
    const results: { ok: boolean; value: unknown }[] = [];
    try {
      if (durable) this.db.pragma('synchronous = FULL');
      this.db.transaction(() => {
        for (const b of batch) {
          try {
            results.push({ ok: true, value: this.db.transaction(b.run)() });
          } catch (err) {
            results.push({ ok: false, value: err });
          }
        }
      })();
    } catch (err) {
      for (const b of batch) b.reject(err);
      return;
    } finally {
      if (durable) this.db.pragma('synchronous = NORMAL');
    }
    batch.forEach((b, i) => (results[i].ok ? b.resolve(results[i].value) : b.reject(results[i].value)));
  }

  insert(msg: NewMessage): Promise<void> {
    return this.write(() => {
      const at = nowIso();
      this.stmts.insert.run({
        ...msg, idempotencyKey: msg.idempotencyKey ?? null, staff: msg.staff ?? null, at,
        wireXml: this.sealer.seal(msg.wireXml, msg.id, 'wire_xml'), keyId: this.sealer.keyId,
      });
      this.stmts.event.run(msg.id, 'accepted', at, null, null);
    }, true);
  }

  async transition(id: string, state: MessageState, extra: TransitionExtra = {}): Promise<void> {
    if (!(await this.move(this.stmts.update, id, undefined, state, extra))) throw new Error(`journal: no message ${id}`);
  }

  transitionFrom(id: string, from: MessageState, to: MessageState, extra: TransitionExtra = {}): Promise<boolean> {
    return this.move(this.stmts.updateFrom, id, from, to, extra);
  }

  private move(stmt: Database.Statement, id: string, from: MessageState | undefined, to: MessageState, extra: TransitionExtra): Promise<boolean> {
    return this.write(() => {
      const at = nowIso();
      const res = stmt.run({ id, from: from ?? null, to, at, attempt: extra.attempt ?? null, detail: extra.detail ?? null, next: extra.nextAttemptAt ?? null });
      if (res.changes !== 1) return false;
      this.stmts.event.run(id, to, at, extra.attempt ?? null, extra.detail ?? null);
      return true;
    });
  }

  async hasUnsettledPredecessor(id: string): Promise<boolean> {
    return this.stmts.predecessor.get(id) !== undefined;
  }

  waitForPredecessor(id: string): Promise<boolean> {
    return this.write(() => this.stmts.waitFor.run(nowIso(), id).changes === 1);
  }

  async nextWaiting(id: string): Promise<WaitingMessage | undefined> {
    return toWaitingMessage(this.stmts.nextWaiting.get(id) as WaitingRow | undefined);
  }

  async clearWaiting(id: string, since: string): Promise<void> {
    await this.write(() => this.stmts.clearWaiting.run(id, since));
  }

  async strandedWaiting(olderThan: string, limit: number): Promise<WaitingMessage[]> {
    return toWaitingMessages(this.stmts.stranded.all(olderThan, limit) as WaitingRow[]);
  }

  requeueFailed(id: string, detail: string): Promise<boolean> {
    return this.write(() => {
      const at = nowIso();
      if (this.stmts.requeue.run(at, id).changes !== 1) return false;
      this.stmts.event.run(id, 'queued', at, null, detail);
      return true;
    });
  }

  async recordWebhook(id: string, status: Omit<WebhookStatus, 'updatedAt'>): Promise<void> {
    await this.write(() => this.stmts.webhook.run(JSON.stringify({ ...status, updatedAt: nowIso() }), id));
  }

  async countByState(): Promise<Partial<Record<MessageState, number>>> {
    const out: Partial<Record<MessageState, number>> = {};
    for (const r of this.stmts.counts.all() as { state: MessageState; n: number }[]) out[r.state] = r.n;
    return out;
  }

  async recordAnswer(id: string, answer: CentralAnswer, responseXml: string): Promise<MessageState> {
    const state: MessageState = answer.result === 'ACCEPTED' ? 'delivered' : 'rejected';
    await this.write(() => {
      const at = nowIso();
      const row = this.stmts.keyOf.get(id) as { key_id: string | null } | undefined;
      if (!row) throw new Error(`journal: no message ${id}`);
      // One key per row: a row sealed before a rotation gets its wire XML resealed with the answer.
      let wire: string | null = null;
      if (this.sealer.isStale(row.key_id)) {
        const sealed = this.stmts.wire.get(id) as { wire_xml: string; key_id: string | null };
        wire = this.sealer.seal(this.sealer.open(sealed.wire_xml, sealed.key_id, id, 'wire_xml'), id, 'wire_xml');
      }
      const res = this.stmts.answer.run(state, at, this.sealer.seal(JSON.stringify(answer), id, 'answer_json'),
        this.sealer.seal(responseXml, id, 'response_xml'), wire, this.sealer.keyId, id);
      if (res.changes !== 1) throw new Error(`journal: no message ${id}`);
      this.stmts.event.run(id, state, at, null, answer.result === 'ACCEPTED' ? null : answer.code);
    });
    return state;
  }

  async get(id: string): Promise<MessageRecord | undefined> {
    const row = this.stmts.get.get(id) as Row | undefined;
    return row ? this.toRecord(row) : undefined;
  }

  async getWireXml(id: string): Promise<string | undefined> {
    const row = this.stmts.wire.get(id) as { wire_xml: string; key_id: string | null } | undefined;
    const xml = row ? this.sealer.open(row.wire_xml, row.key_id, id, 'wire_xml') : undefined;
    return xml === '' ? undefined : xml;
  }

  async getResponseXml(id: string): Promise<string | undefined> {
    const row = this.stmts.response.get(id) as { response_xml: string | null; key_id: string | null } | undefined;
    return row?.response_xml ? this.sealer.open(row.response_xml, row.key_id, id, 'response_xml') : undefined;
  }

  async retentionCounts(payloadsBefore: string, messagesBefore: string): Promise<{ payloads: number; messages: number }> {
    return {
      payloads: (this.stmts.countPurgeable.get(payloadsBefore) as { n: number }).n,
      messages: (this.stmts.countExpired.get(messagesBefore) as { n: number }).n,
    };
  }

  async purgePayloads(before: string, limit: number): Promise<number> {
    const at = nowIso();
    return this.db.transaction(() => {
      let n = 0;
      for (const r of this.stmts.purgeable.all(before, limit) as { id: string; key_id: string | null; answer_json: string | null }[]) {
        const answer = purgedAnswer(this.sealer.open0(r.answer_json, r.key_id, r.id, 'answer_json'));
        n += this.stmts.purge.run(this.sealer.seal('', r.id, 'wire_xml'), this.sealer.seal0(answer, r.id, 'answer_json'),
          this.sealer.keyId, at, r.id, r.key_id).changes;
      }
      return n;
    })();
  }

  async deleteMessages(before: string, limit: number): Promise<number> {
    return this.db.transaction(() => {
      let n = 0;
      for (const r of this.stmts.expired.all(before, limit) as { id: string }[]) {
        this.stmts.deleteEvents.run(r.id);
        n += this.stmts.deleteMessage.run(r.id).changes;
      }
      return n;
    })();
  }

  async findByIdempotencyKey(clientId: string, key: string): Promise<MessageRecord | undefined> {
    const row = this.stmts.idem.get(clientId, key) as Row | undefined;
    return row ? this.toRecord(row) : undefined;
  }

  async list(filter: MessageFilter): Promise<{ items: MessageRecord[]; nextCursor?: string }> {
    const where: string[] = [];
    const args: unknown[] = [];
    if (filter.type) { where.push('type = ?'); args.push(filter.type); }
    if (filter.state) { where.push('state = ?'); args.push(filter.state); }
    if (filter.direction) { where.push('direction = ?'); args.push(filter.direction); }
    if (filter.from) { where.push('created_at >= ?'); args.push(filter.from); }
    if (filter.to) { where.push('created_at < ?'); args.push(filter.to); }
    if (filter.orderingKey) { where.push('ordering_key = ?'); args.push(filter.orderingKey); }
    if (filter.correlationId) { where.push('correlation_id = ?'); args.push(filter.correlationId); }
    if (filter.centralReference) where.push('answer_json IS NOT NULL');
    if (filter.cursor) {
      const [at, id] = decodeCursor(filter.cursor);
      where.push('(created_at < ? OR (created_at = ? AND id < ?))');
      args.push(at, at, id);
    }
    const limit = Math.min(Math.max(filter.limit ?? 100, 1), 1000);
    const ref = filter.centralReference;
    const rows = this.db.prepare(`SELECT ${COLUMNS} FROM messages ${where.length ? 'WHERE ' + where.join(' AND ') : ''}
      ORDER BY created_at DESC, id DESC LIMIT ?`).all(...args, ref ? CENTRAL_REFERENCE_SCAN : limit + 1) as Row[];
    if (ref) return referencePage(rows, (r) => this.toRecord(r), ref, limit);
    const page = rows.slice(0, limit);
    const items = page.map((r) => this.toRecord(r));
    const last = page.at(-1);
    return rows.length > limit && last ? { items, nextCursor: encodeCursor(last.created_at, last.id) } : { items };
  }

  async trafficByMinute(since: string): Promise<TrafficMinute[]> {
    const rows = this.db.prepare(`SELECT substr(at, 1, 16) AS minute, state, count(*) AS n FROM events
      WHERE at >= ? AND state IN ('accepted','delivered','rejected','failed') GROUP BY minute, state`).all(since) as { minute: string; state: string; n: number }[];
    return trafficMinutes(since, rows);
  }

  async unpublished(olderThan: string, leaseMs?: number): Promise<string[]> {
    if (leaseMs === undefined) return (this.stmts.unpublished.all(olderThan) as { id: string }[]).map((r) => r.id);
    const now = Date.now();
    const rows = this.stmts.claim.all(new Date(now + leaseMs).toISOString(), olderThan, new Date(now).toISOString(), CLAIM_BATCH) as { id: string; seq: number }[];
    return rows.sort((a, b) => a.seq - b.seq).map((r) => r.id);
  }

  async releaseUnpublished(ids: readonly string[]): Promise<void> {
    this.db.transaction(() => { for (const id of ids) this.stmts.release.run(id); })();
  }

  async ping(): Promise<void> {
    this.stmts.ping.get();
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }

  /** The connection, for stores that keep their tables in the journal's file (the audit log); the journal closes it. */
  get database(): Database.Database {
    return this.db;
  }

  /**
   * Reseals, batch by batch in seq order, every row not under the current key (rows in clear
   * from 0.1.0, rows under a previous key). Each batch is one short transaction, and the
   * event loop runs between batches, so a gateway on the same file keeps working. A row is
   * rewritten only if its key did not change meanwhile (an answer recorded since resealed it).
   */
  async rekey(opts: RekeyOptions = {}): Promise<RekeyReport> {
    const keyId = this.sealer.keyId;
    if (keyId === null) throw new DavisError('DAVIS_ERR_JOURNAL_KEY', { reason: 'no journal key is configured: nothing to seal with' });
    const size = opts.batchSize ?? REKEY_BATCH;
    const fromKeys: Record<string, number> = {};
    let after = 0;
    let rewritten = 0;
    let batches = 0;
    for (;;) {
      const rows = this.stmts.stale.all(after, keyId, opts.clearOnly ? 1 : 0, size) as SealedRow[];
      if (!rows.length) break;
      this.db.transaction(() => {
        for (const r of rows) {
          const [w, a, x] = this.resealed(r);
          if (this.stmts.reseal.run(w, a, x, keyId, r.id, r.key_id).changes === 1) {
            rewritten++;
            fromKeys[keyCountName(r.key_id)] = (fromKeys[keyCountName(r.key_id)] ?? 0) + 1;
          }
        }
      })();
      batches++;
      after = rows[rows.length - 1].seq;
      opts.onBatch?.(rewritten);
      await new Promise((r) => setImmediate(r));
    }
    return { keyId, rewritten, fromKeys, batches };
  }

  async keyCounts(): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const r of this.stmts.keyCounts.all() as { key_id: string | null; n: number }[]) out[keyCountName(r.key_id)] = r.n;
    return out;
  }

  private resealed(r: SealedRow): [string, string | null, string | null] {
    const s = this.sealer;
    return [
      s.seal(s.open(r.wire_xml, r.key_id, r.id, 'wire_xml'), r.id, 'wire_xml'),
      s.seal0(s.open0(r.answer_json, r.key_id, r.id, 'answer_json'), r.id, 'answer_json'),
      s.seal0(s.open0(r.response_xml, r.key_id, r.id, 'response_xml'), r.id, 'response_xml'),
    ];
  }

  private toRecord(row: Row): MessageRecord {
    return toMessageRecord({
      ...row,
      answer: row.answer_json !== null ? JSON.parse(this.sealer.open(row.answer_json, row.key_id, row.id, 'answer_json')) as CentralAnswer : null,
      webhook: row.webhook_json !== null ? JSON.parse(row.webhook_json) as WebhookStatus : null,
    }, this.stmts.events.all(row.id) as EventRow[]);
  }

}
