import Database from 'better-sqlite3';
import { AUDIT_OPERATIONS, type AuditEvent, type AuditFilter, type AuditRecord } from './audit';
import {
  AppendQueue, chain, countPrunable, filterSql, fromRow, prunablePrefix, RECORD_COLUMNS, rowValues, toAuditRecord,
  type AuditStore, type CheckpointTransaction, type PrunedRecord, type RawAuditRecord, type RecordRow, type StoredCheckpoint,
} from './audit-store';
import { GENESIS_HASH } from './canonical';

const OPERATIONS: ReadonlySet<string> = new Set(AUDIT_OPERATIONS);

/** Refuses an event that names no known operation: a programming error, caught before it is chained. */
export function checkEvent(e: AuditEvent): void {
  if (!OPERATIONS.has(e.operation)) throw new TypeError(`audit: unknown operation ${JSON.stringify(e.operation)}`);
  if (!Array.isArray(e.dataCategories)) throw new TypeError('audit: dataCategories must be a list');
}

/**
 * The audit log in the SQLite journal's file, on the journal's own connection. Appends run
 * in `BEGIN IMMEDIATE` transactions (the write lock is taken before the chain head is read),
 * so even a second process on the same file cannot fork the chain.
 */
export class SqliteAuditStore implements AuditStore {
  private readonly stmts;
  private readonly listeners: ((head: number) => void)[] = [];
  private readonly queue: AppendQueue;
  private lock: Promise<unknown> = Promise.resolve();

  /** On the journal's connection (`SqliteJournal.database`), whose migrations created the tables (`journal/migrations/003-audit.ts`). */
  constructor(private readonly db: Database.Database) {
    this.stmts = {
      last: db.prepare('SELECT seq, hash FROM audit_records ORDER BY seq DESC LIMIT 1'),
      insert: db.prepare(`INSERT INTO audit_records (${RECORD_COLUMNS.join(', ')}) VALUES (${RECORD_COLUMNS.map(() => '?').join(', ')})`),
      rows: db.prepare('SELECT * FROM audit_records WHERE seq > ? ORDER BY seq LIMIT ?'),
      hashes: db.prepare(`SELECT seq, hash FROM audit_pruned WHERE seq > @after AND seq <= @upTo
        UNION ALL SELECT seq, hash FROM audit_records WHERE seq > max(@after, (SELECT coalesce(max(seq), 0) FROM audit_pruned)) AND seq <= @upTo ORDER BY seq`),
      pruned: db.prepare('SELECT seq, hash, pruned_at FROM audit_pruned WHERE seq > ? ORDER BY seq LIMIT ?'),
      lastPruned: db.prepare('SELECT seq, hash FROM audit_pruned ORDER BY seq DESC LIMIT 1'),
      insertPruned: db.prepare('INSERT INTO audit_pruned (seq, hash, pruned_at) VALUES (?, ?, ?)'),
      deletePruned: db.prepare('DELETE FROM audit_records WHERE seq > ? AND seq <= ?'),
      latest: db.prepare('SELECT size, digest, document, frontier FROM audit_checkpoints ORDER BY size DESC LIMIT 1'),
      checkpoints: db.prepare('SELECT size, digest, document, frontier FROM audit_checkpoints ORDER BY size'),
      saveCheckpoint: db.prepare('INSERT INTO audit_checkpoints (size, digest, document, frontier, created_at) VALUES (?, ?, ?, ?, ?)'),
      addTimestamp: db.prepare('INSERT OR IGNORE INTO audit_timestamps (size, token, created_at) VALUES (?, ?, ?)'),
      timestamps: db.prepare('SELECT size, token FROM audit_timestamps ORDER BY size'),
    };
    this.queue = new AppendQueue(async (events) => this.append(events), (head) => { for (const l of this.listeners) l(head); });
  }

  /** Tables come with the journal's migrations: nothing to wait for. */
  ready(): Promise<void> {
    return Promise.resolve();
  }

  /**
   * A store on a journal file opened read-only, for `davis audit verify` (the file is never
   * migrated or written; appends on it fail). Close it with the returned `close`.
   */
  static openReadOnly(file: string): { store: SqliteAuditStore; close(): Promise<void> } {
    const db = new Database(file, { readonly: true, fileMustExist: true });
    return { store: new SqliteAuditStore(db), close: () => { db.close(); return Promise.resolve(); } };
  }

  async record(event: AuditEvent): Promise<AuditRecord> {
    checkEvent(event);
    return this.queue.push(event);
  }

  private append(events: readonly AuditEvent[]): AuditRecord[] {
    const tx = this.db.transaction(() => {
      const last = this.stmts.last.get() as { seq: number; hash: string } | undefined;
      const records = chain(events, last?.seq ?? 0, last?.hash ?? GENESIS_HASH, new Date().toISOString());
      for (const r of records) this.stmts.insert.run(...rowValues(r));
      return records;
    });
    return tx.immediate();
  }

  onAppend(listener: (headSeq: number) => void): void {
    this.listeners.push(listener);
  }

  async list(filter: AuditFilter): Promise<readonly AuditRecord[]> {
    const { where, args, limit } = filterSql(filter, () => '?');
    const rows = this.db.prepare(`SELECT * FROM audit_records ${where} ORDER BY seq LIMIT ?`).all(...args, limit) as RecordRow[];
    return rows.map((r) => toAuditRecord(fromRow(r)));
  }

  async head(): Promise<number> {
    return (this.stmts.last.get() as { seq: number } | undefined)?.seq ?? 0;
  }

  async readRows(afterSeq: number, limit: number): Promise<RawAuditRecord[]> {
    return (this.stmts.rows.all(afterSeq, limit) as RecordRow[]).map(fromRow);
  }

  /**
   * SQLite has one writer per file and normally one gateway per file, so an in-process lock
   * keeps this store's checkpointers apart; `save` re-reads the newest checkpoint in a
   * `BEGIN IMMEDIATE` transaction and declines when another handle on the file extended the
   * sequence meanwhile.
   */
  async withCheckpointLock<T>(fn: (tx: CheckpointTransaction) => Promise<T>): Promise<T> {
    let seen: number | undefined;
    const latestSize = () => Number((this.stmts.latest.get() as CheckpointRow | undefined)?.size ?? 0);
    const run = this.lock.then(() => fn({
      latest: () => {
        seen = latestSize();
        return Promise.resolve(toCheckpoint(this.stmts.latest.get() as CheckpointRow | undefined));
      },
      head: () => this.head(),
      hashes: (after, upTo) => this.leafHashes(after, upTo),
      save: (cp) => Promise.resolve(this.db.transaction(() => {
        if (latestSize() !== (seen ?? 0)) return false;
        this.stmts.saveCheckpoint.run(cp.size, cp.digest, cp.document, JSON.stringify(cp.frontier), new Date().toISOString());
        return true;
      }).immediate()),
    }));
    this.lock = run.catch(() => undefined);
    return run;
  }

  async checkpoints(): Promise<StoredCheckpoint[]> {
    return (this.stmts.checkpoints.all() as CheckpointRow[]).map((r) => toCheckpoint(r)!);
  }

  async addTimestamp(size: number, token: Buffer): Promise<void> {
    this.stmts.addTimestamp.run(size, token, new Date().toISOString());
  }

  async timestamps(): Promise<Map<number, Buffer>> {
    return new Map((this.stmts.timestamps.all() as { size: number; token: Buffer }[]).map((r) => [r.size, r.token]));
  }

  async readPruned(afterSeq: number, limit: number): Promise<PrunedRecord[]> {
    return (this.stmts.pruned.all(afterSeq, limit) as PrunedRow[]).map((r) => ({ seq: Number(r.seq), hash: r.hash, prunedAt: r.pruned_at }));
  }

  async leafHashes(afterSeq: number, upTo: number): Promise<Buffer[]> {
    return (this.stmts.hashes.all({ after: afterSeq, upTo }) as { hash: string }[]).map((r) => Buffer.from(r.hash, 'hex'));
  }

  /** Where pruning starts (the last pruned record) and how far it may go. */
  private pruneBounds(): { last: { seq: number; hash: string }; coveredTo: number } {
    const last = (this.stmts.lastPruned.get() as { seq: number; hash: string } | undefined) ?? { seq: 0, hash: GENESIS_HASH };
    // The newest record always stays: appends chain after it.
    const coveredTo = Math.min(Number((this.stmts.latest.get() as CheckpointRow | undefined)?.size ?? 0), ((this.stmts.last.get() as { seq: number } | undefined)?.seq ?? 0) - 1);
    return { last, coveredTo };
  }

  /** One `BEGIN IMMEDIATE` transaction per batch, so appends wait for at most one batch. */
  async deleteRecordsBefore(before: string, limit: number): Promise<number> {
    return this.db.transaction(() => {
      const { last, coveredTo } = this.pruneBounds();
      if (coveredTo <= last.seq) return 0;
      const rows = (this.stmts.rows.all(last.seq, Math.min(limit, coveredTo - last.seq)) as RecordRow[]).map(fromRow);
      const doomed = prunablePrefix(rows, last, before, coveredTo);
      if (!doomed.length) return 0;
      const at = new Date().toISOString();
      for (const r of doomed) this.stmts.insertPruned.run(r.seq, r.hash, at);
      this.stmts.deletePruned.run(last.seq, doomed[doomed.length - 1].seq);
      return doomed.length;
    }).immediate();
  }

  async countRecordsBefore(before: string): Promise<number> {
    const { last, coveredTo } = this.pruneBounds();
    return countPrunable((after, limit) => this.readRows(after, limit), last, before, coveredTo);
  }

  /** Waits for queued appends; the connection belongs to the journal, which closes it. */
  async close(): Promise<void> {
    await this.queue.idle();
  }
}

interface CheckpointRow { size: number | string; digest: string; document: string; frontier: string }
interface PrunedRow { seq: number | string; hash: string; pruned_at: string }

/** A checkpoint row as stored (`frontier` as JSON text in SQLite, JSON in PostgreSQL). */
export function toCheckpoint(r: CheckpointRow | undefined): StoredCheckpoint | undefined {
  if (!r) return undefined;
  let frontier: string[] = [];
  try { frontier = JSON.parse(r.frontier) as string[]; } catch { /* the verifier recomputes it */ }
  return { size: Number(r.size), digest: r.digest, document: r.document, frontier };
}
