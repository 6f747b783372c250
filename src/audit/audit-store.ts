/**
 * What the SQLite and PostgreSQL audit stores share: the store interface the checkpointer and
 * the verifier use beside the {@link AuditLog} port, the table layout, the row mapping and
 * the group commit of appends.
 *
 * Tables (both dialects): `audit_records` (one row per record, never updated: a trigger
 * refuses UPDATE), `audit_checkpoints` (one row per signed checkpoint, keyed by its size,
 * never updated or deleted) and `audit_timestamps` (the RFC 3161 token of a checkpoint,
 * added after it, since the TSA is asked outside the checkpoint's lock) and `audit_pruned` (the
 * seq and hash of each record retention deleted: see {@link AuditStore.deleteRecordsBefore}).
 */
import type { AuditEvent, AuditFilter, AuditLog, AuditRecord } from './audit';
import { GENESIS_HASH, recordHash } from './canonical';

/** A checkpoint as stored: the signed document (JSON text, as exported) and what the next checkpoint continues from. */
export interface StoredCheckpoint {
  /** Records covered (the tree size). */
  readonly size: number;
  /** SHA-256 (hex) of the checkpoint's canonical body: what the next checkpoint names as `previous`. */
  readonly digest: string;
  /** The signed checkpoint, JSON text exactly as written to `audit.checkpointDir` (see `checkpoints.ts`). */
  readonly document: string;
  /** The Merkle frontier after `size` records (`MerkleFrontier.toJSON`); not trusted by the verifier, which recomputes it. */
  readonly frontier: readonly string[];
}

/** What a checkpointer does under the store's checkpoint lock (held across gateway instances). */
export interface CheckpointTransaction {
  /** The newest checkpoint, if any. */
  latest(): Promise<StoredCheckpoint | undefined>;
  /** The newest record's seq (0 when the log is empty). */
  head(): Promise<number>;
  /** Hashes (raw) of the records with `afterSeq < seq <= upTo`, in seq order. */
  hashes(afterSeq: number, upTo: number): Promise<Buffer[]>;
  /** Stores a new checkpoint; false when another instance extended the sequence meanwhile (nothing stored). */
  save(cp: StoredCheckpoint): Promise<boolean>;
}

/** A stored row as the verifier reads it: categories as stored (a list, or the text when it is not a JSON list of strings). */
export interface RawAuditRecord extends Omit<AuditRecord, 'dataCategories' | 'queryCategories'> {
  readonly dataCategories: readonly string[] | string;
  readonly queryCategories?: readonly string[] | string;
}

/** The audit log with what checkpoints, verification and evidence need. */
export interface AuditStore extends AuditLog {
  /** Resolves once the tables exist. */
  ready(): Promise<void>;
  /** Called after each committed batch of appends with the newest seq. */
  onAppend(listener: (headSeq: number) => void): void;
  /** The newest record's seq (0 when empty). */
  head(): Promise<number>;
  /** Rows with `seq > afterSeq`, in seq order, at most `limit`, exactly as stored. */
  readRows(afterSeq: number, limit: number): Promise<RawAuditRecord[]>;
  /** Runs `fn` holding the checkpoint lock (one checkpointer at a time, across instances). */
  withCheckpointLock<T>(fn: (tx: CheckpointTransaction) => Promise<T>): Promise<T>;
  /** Every stored checkpoint, by size. */
  checkpoints(): Promise<StoredCheckpoint[]>;
  /** Adds the RFC 3161 token (DER of the TimeStampToken ContentInfo) of the checkpoint of `size`. */
  addTimestamp(size: number, token: Buffer): Promise<void>;
  /** Timestamp tokens by checkpoint size. */
  timestamps(): Promise<Map<number, Buffer>>;
  /** Entries of `audit_pruned` with `seq > afterSeq`, in seq order, at most `limit`, exactly as stored. */
  readPruned(afterSeq: number, limit: number): Promise<PrunedRecord[]>;
  /**
   * Leaf inputs (raw hashes) of positions `afterSeq < seq <= upTo`, in seq order: the pruned
   * hashes, then the records' (what an inclusion proof over a pruned log is built from).
   */
  leafHashes(afterSeq: number, upTo: number): Promise<Buffer[]>;
  /**
   * Retention (Art 34(2)): deletes up to `limit` of the oldest records stamped before `before`,
   * keeping each one's seq and hash in `audit_pruned`, in one transaction. Only a prefix of the
   * log that the newest checkpoint covers goes, and only records whose hash and link verify
   * (a tampered record is left for `davis audit verify` to name, not erased with its evidence).
   * Returns how many were deleted; fewer than `limit` means nothing more is due.
   */
  deleteRecordsBefore(before: string, limit: number): Promise<number>;
  /**
   * How many records {@link deleteRecordsBefore} would delete now, called until it returns
   * fewer than its limit, with the same cutoff (a dry run: nothing is changed).
   */
  countRecordsBefore(before: string): Promise<number>;
}

/** What is kept of a record retention deleted. */
export interface PrunedRecord {
  readonly seq: number;
  /** The record's hash (hex), as it was. */
  readonly hash: string;
  /** When it was pruned (ISO 8601). */
  readonly prunedAt: string;
}

/** The hash a row would have at position `seq` (its stored position by default). */
export function rowHash(r: RawAuditRecord, seq = r.seq): string {
  return recordHash(r.prevHash, { ...(r as unknown as AuditRecord), seq });
}

/**
 * The records of `rows` (read in seq order after the last pruned one, `after`) that may be
 * pruned: the leading run that is numbered without a gap, stamped before `before`, not past
 * `coveredTo` (the newest checkpoint's size), and whose hashes and links verify.
 */
export function prunablePrefix(rows: readonly RawAuditRecord[], after: { seq: number; hash: string }, before: string, coveredTo: number): RawAuditRecord[] {
  const out: RawAuditRecord[] = [];
  let { seq, hash } = after;
  for (const r of rows) {
    if (r.seq !== seq + 1 || r.seq > coveredTo || !(r.at < before) || r.prevHash !== hash || rowHash(r) !== r.hash) break;
    out.push(r);
    seq = r.seq;
    hash = r.hash;
  }
  return out;
}

/**
 * The number of records a retention run would prune: the length of {@link prunablePrefix}
 * over the whole log after the last pruned record `after`, read in pages of `page` rows.
 */
export async function countPrunable(
  read: (afterSeq: number, limit: number) => Promise<RawAuditRecord[]>, after: { seq: number; hash: string }, before: string, coveredTo: number, page = 1000,
): Promise<number> {
  let last = after;
  let n = 0;
  while (coveredTo > last.seq) {
    const rows = await read(last.seq, Math.min(page, coveredTo - last.seq));
    const prefix = prunablePrefix(rows, last, before, coveredTo);
    n += prefix.length;
    if (!prefix.length || prefix.length < rows.length) break;
    const end = prefix[prefix.length - 1];
    last = { seq: end.seq, hash: end.hash };
  }
  return n;
}

/** Columns of `audit_records`, in insert order. */
export const RECORD_COLUMNS = [
  'seq', 'at', 'operation', 'purpose', 'data_categories', 'query_categories', 'client_id', 'authority', 'staff',
  'message_id', 'message_type', 'outcome', 'content_digest', 'correlation_id', 'prev_hash', 'hash',
] as const;

/** A row of `audit_records` as the drivers return it. */
export interface RecordRow {
  seq: number | string; at: string; operation: string; purpose: string; data_categories: string; query_categories: string | null;
  client_id: string; authority: string | null; staff: string | null; message_id: string | null; message_type: string | null;
  outcome: string; content_digest: string | null; correlation_id: string | null; prev_hash: string; hash: string;
}

/** Parameters of one `audit_records` row, in {@link RECORD_COLUMNS} order. */
export function rowValues(r: AuditRecord): unknown[] {
  return [
    r.seq, r.at, r.operation, r.purpose, JSON.stringify(r.dataCategories), r.queryCategories ? JSON.stringify(r.queryCategories) : null,
    r.clientId, r.authority ?? null, r.staff ?? null, r.messageId ?? null, r.messageType ?? null, r.outcome,
    r.contentDigest ?? null, r.correlationId ?? null, r.prevHash, r.hash,
  ];
}

function list(raw: string): readonly string[] | string {
  try {
    const v: unknown = JSON.parse(raw);
    return Array.isArray(v) && v.every((x) => typeof x === 'string') ? v as string[] : raw;
  } catch {
    return raw;
  }
}

/** A stored row as read, without judging it (the verifier does). */
export function fromRow(row: RecordRow): RawAuditRecord {
  const opt = <T>(v: T | null): T | undefined => (v === null ? undefined : v);
  return {
    seq: Number(row.seq), at: row.at, operation: row.operation as AuditRecord['operation'], purpose: row.purpose,
    dataCategories: list(row.data_categories), queryCategories: row.query_categories === null ? undefined : list(row.query_categories),
    clientId: row.client_id, authority: opt(row.authority), staff: opt(row.staff), messageId: opt(row.message_id),
    messageType: opt(row.message_type), outcome: row.outcome, contentDigest: opt(row.content_digest),
    correlationId: opt(row.correlation_id), prevHash: row.prev_hash, hash: row.hash,
  };
}

/** A stored row as a record of the port (categories that are not a list read as empty). */
export function toAuditRecord(raw: RawAuditRecord): AuditRecord {
  const cats = (v: readonly string[] | string | undefined) => (typeof v === 'string' ? [] : v);
  return { ...raw, dataCategories: cats(raw.dataCategories) ?? [], queryCategories: cats(raw.queryCategories) };
}

/** Chains `events` after the record `(seq, hash)`, stamping each with `at`. */
export function chain(events: readonly AuditEvent[], seq: number, prevHash: string, at: string): AuditRecord[] {
  const out: AuditRecord[] = [];
  let prev = prevHash || GENESIS_HASH;
  for (const e of events) {
    const body = { ...eventFields(e), seq: ++seq, at };
    const hash = recordHash(prev, body);
    out.push({ ...body, prevHash: prev, hash });
    prev = hash;
  }
  return out;
}

/** The fields of an event that a record keeps (a caller's extra members are not recorded). */
function eventFields(e: AuditEvent): AuditEvent {
  return {
    operation: e.operation, purpose: e.purpose, dataCategories: [...e.dataCategories],
    ...(e.queryCategories ? { queryCategories: [...e.queryCategories] } : {}),
    clientId: e.clientId, authority: e.authority, staff: e.staff, messageId: e.messageId, messageType: e.messageType,
    outcome: e.outcome, contentDigest: e.contentDigest, correlationId: e.correlationId,
  };
}

/** WHERE clause and arguments of an {@link AuditFilter}; `param(i)` writes the i-th (1-based) placeholder. */
export function filterSql(f: AuditFilter, param: (i: number) => string): { where: string; args: unknown[]; limit: number } {
  const clauses: string[] = [];
  const args: unknown[] = [];
  const add = (sql: string, v: unknown) => { args.push(v); clauses.push(sql.replace('?', param(args.length))); };
  if (f.messageId !== undefined) add('message_id = ?', f.messageId);
  if (f.operation !== undefined) add('operation = ?', f.operation);
  if (f.clientId !== undefined) add('client_id = ?', f.clientId);
  if (f.from !== undefined) add('at >= ?', f.from);
  if (f.to !== undefined) add('at < ?', f.to);
  if (f.afterSeq !== undefined) add('seq > ?', f.afterSeq);
  const limit = Math.min(Math.max(Math.trunc(f.limit ?? 100), 1), 1000);
  return { where: clauses.length ? `WHERE ${clauses.join(' AND ')}` : '', args, limit };
}

/**
 * Group commit of appends: events recorded in the same turn of the event loop (or while a
 * batch is being written) are chained and written together, so concurrent requests share
 * one transaction and one lock instead of queueing behind one each.
 */
export class AppendQueue {
  private pending: { event: AuditEvent; resolve: (r: AuditRecord) => void; reject: (e: unknown) => void }[] = [];
  private running = false;

  constructor(private readonly write: (events: readonly AuditEvent[]) => Promise<AuditRecord[]>, private readonly after: (head: number) => void) {}

  /** Queues one event; resolves with its record once the batch holding it is committed. */
  push(event: AuditEvent): Promise<AuditRecord> {
    return new Promise((resolve, reject) => {
      this.pending.push({ event, resolve, reject });
      if (!this.running) {
        this.running = true;
        setImmediate(() => void this.drain());
      }
    });
  }

  /** Resolves when nothing is queued or being written. */
  async idle(): Promise<void> {
    while (this.running) await new Promise((r) => setImmediate(r));
  }

  private async drain(): Promise<void> {
    while (this.pending.length) {
      const batch = this.pending.splice(0, 1000);
      try {
        const records = await this.write(batch.map((b) => b.event));
        batch.forEach((b, i) => b.resolve(records[i]));
        this.after(records[records.length - 1].seq);
      } catch (err) {
        for (const b of batch) b.reject(err);
      }
    }
    this.running = false;
  }
}
