import { Pool, type PoolClient } from 'pg';
import type { AuditEvent, AuditFilter, AuditRecord } from './audit';
import {
  AppendQueue, chain, countPrunable, filterSql, fromRow, prunablePrefix, RECORD_COLUMNS, rowValues, toAuditRecord,
  type AuditStore, type CheckpointTransaction, type PrunedRecord, type RawAuditRecord, type RecordRow, type StoredCheckpoint,
} from './audit-store';
import { checkEvent, toCheckpoint } from './audit-store-sqlite';
import { GENESIS_HASH } from './canonical';
import { listenOnEveryConnection } from '../journal/journal-postgres';

/**
 * The audit log in the PostgreSQL journal's schema, on the journal's pool. Every append
 * batch takes a transaction-scoped advisory lock on the log before it reads the chain head,
 * so gateways sharing the database append one after the other and the chain never forks
 * (the `seq` primary key would refuse a fork even without the lock).
 */
export class PostgresAuditStore implements AuditStore {
  private readonly listeners: ((head: number) => void)[] = [];
  private readonly queue: AppendQueue;
  private readonly s: string;

  /**
   * The tables are the journal's (`journal/migrations/003-audit.ts`).
   *
   * @param pool the journal's pool (`PostgresJournal.connection`)
   * @param schema the journal's schema name, unquoted
   */
  constructor(private readonly pool: Pool, private readonly schema: string) {
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new Error(`audit: schema name ${JSON.stringify(schema)} must be lower-case letters, digits and _`);
    this.s = `"${schema}"`;
    this.queue = new AppendQueue((events) => this.append(events), (head) => { for (const l of this.listeners) l(head); });
  }

  /** Tables come with the journal's migrations: nothing to wait for. */
  ready(): Promise<void> {
    return Promise.resolve();
  }

  /**
   * A store on its own small pool, for `davis audit verify` (which only reads). Resolves
   * once the database answered; close it with the returned `close`.
   *
   * @throws Error when the database cannot be reached
   */
  static async connect(url: string, schema: string): Promise<{ store: PostgresAuditStore; close(): Promise<void> }> {
    const pool = new Pool({ connectionString: url, max: 2, connectionTimeoutMillis: 5000, application_name: 'davis-audit-verify' });
    pool.on('error', () => undefined);
    listenOnEveryConnection(pool);
    try {
      const store = new PostgresAuditStore(pool, schema);
      await pool.query('SELECT 1');
      return { store, close: () => pool.end() };
    } catch (err) {
      await pool.end().catch(() => undefined);
      throw err;
    }
  }

  async record(event: AuditEvent): Promise<AuditRecord> {
    checkEvent(event);
    return this.queue.push(event);
  }

  private append(events: readonly AuditEvent[]): Promise<AuditRecord[]> {
    return this.tx(async (c) => {
      await c.query('SELECT pg_advisory_xact_lock(hashtext($1::text), hashtext(\'audit-append\'))', [this.schema]);
      const last = (await c.query<{ seq: string; hash: string }>(`SELECT seq, hash FROM ${this.s}.audit_records ORDER BY seq DESC LIMIT 1`)).rows[0];
      const records = chain(events, Number(last?.seq ?? 0), last?.hash ?? GENESIS_HASH, new Date().toISOString());
      const n = RECORD_COLUMNS.length;
      const values = records.map((_, i) => `(${RECORD_COLUMNS.map((__, j) => `$${i * n + j + 1}`).join(', ')})`).join(', ');
      await c.query(`INSERT INTO ${this.s}.audit_records (${RECORD_COLUMNS.join(', ')}) VALUES ${values}`, records.flatMap(rowValues));
      return records;
    });
  }

  onAppend(listener: (headSeq: number) => void): void {
    this.listeners.push(listener);
  }

  async list(filter: AuditFilter): Promise<readonly AuditRecord[]> {
    const { where, args, limit } = filterSql(filter, (i) => `$${i}`);
    const rows = (await this.pool.query<RecordRow>(`SELECT * FROM ${this.s}.audit_records ${where} ORDER BY seq LIMIT ${limit}`, args)).rows;
    return rows.map((r) => toAuditRecord(fromRow(r)));
  }

  async head(): Promise<number> {
    return headOf(this.pool, this.s);
  }

  async readRows(afterSeq: number, limit: number): Promise<RawAuditRecord[]> {
    const rows = (await this.pool.query<RecordRow>(`SELECT * FROM ${this.s}.audit_records WHERE seq > $1 ORDER BY seq LIMIT $2`, [afterSeq, limit])).rows;
    return rows.map(fromRow);
  }

  async withCheckpointLock<T>(fn: (tx: CheckpointTransaction) => Promise<T>): Promise<T> {
    return this.tx(async (c) => {
      await c.query('SELECT pg_advisory_xact_lock(hashtext($1::text), hashtext(\'audit-checkpoint\'))', [this.schema]);
      const select = `SELECT size, digest, document, frontier FROM ${this.s}.audit_checkpoints`;
      return fn({
        latest: async () => toCheckpoint((await c.query<CheckpointRow>(`${select} ORDER BY size DESC LIMIT 1`)).rows[0]),
        head: () => headOf(c, this.s),
        hashes: (after, upTo) => leafHashesOf(c, this.s, after, upTo),
        save: async (cp) => {
          const res = await c.query(`INSERT INTO ${this.s}.audit_checkpoints (size, digest, document, frontier, created_at) VALUES ($1, $2, $3, $4, $5)
            ON CONFLICT DO NOTHING`, [cp.size, cp.digest, cp.document, JSON.stringify(cp.frontier), new Date().toISOString()]);
          return res.rowCount === 1;
        },
      });
    });
  }

  async checkpoints(): Promise<StoredCheckpoint[]> {
    const rows = (await this.pool.query<CheckpointRow>(`SELECT size, digest, document, frontier FROM ${this.s}.audit_checkpoints ORDER BY size`)).rows;
    return rows.map((r) => toCheckpoint(r)!);
  }

  async addTimestamp(size: number, token: Buffer): Promise<void> {
    await this.pool.query(`INSERT INTO ${this.s}.audit_timestamps (size, token, created_at) VALUES ($1, $2, $3) ON CONFLICT (size) DO NOTHING`,
      [size, token, new Date().toISOString()]);
  }

  async timestamps(): Promise<Map<number, Buffer>> {
    const rows = (await this.pool.query<{ size: string; token: Buffer }>(`SELECT size, token FROM ${this.s}.audit_timestamps ORDER BY size`)).rows;
    return new Map(rows.map((r) => [Number(r.size), r.token]));
  }

  async readPruned(afterSeq: number, limit: number): Promise<PrunedRecord[]> {
    const rows = (await this.pool.query<{ seq: string; hash: string; pruned_at: string }>(
      `SELECT seq, hash, pruned_at FROM ${this.s}.audit_pruned WHERE seq > $1 ORDER BY seq LIMIT $2`, [afterSeq, limit])).rows;
    return rows.map((r) => ({ seq: Number(r.seq), hash: r.hash, prunedAt: r.pruned_at }));
  }

  async leafHashes(afterSeq: number, upTo: number): Promise<Buffer[]> {
    return leafHashesOf(this.pool, this.s, afterSeq, upTo);
  }

  /**
   * One transaction per batch, holding the checkpoint lock (so the newest checkpoint cannot
   * move under it) and the append lock (so no record is chained while the prefix is read).
   */
  async deleteRecordsBefore(before: string, limit: number): Promise<number> {
    return this.tx(async (c) => {
      await c.query('SELECT pg_advisory_xact_lock(hashtext($1::text), hashtext(\'audit-checkpoint\'))', [this.schema]);
      await c.query('SELECT pg_advisory_xact_lock(hashtext($1::text), hashtext(\'audit-append\'))', [this.schema]);
      const { last, coveredTo } = await this.pruneBounds(c);
      if (coveredTo <= last.seq) return 0;
      const rows = (await c.query<RecordRow>(`SELECT * FROM ${this.s}.audit_records WHERE seq > $1 ORDER BY seq LIMIT $2`,
        [last.seq, Math.min(limit, coveredTo - last.seq)])).rows.map(fromRow);
      const doomed = prunablePrefix(rows, last, before, coveredTo);
      if (!doomed.length) return 0;
      await c.query(`INSERT INTO ${this.s}.audit_pruned (seq, hash, pruned_at) SELECT s, h, $3 FROM unnest($1::bigint[], $2::text[]) AS t(s, h)`,
        [doomed.map((r) => r.seq), doomed.map((r) => r.hash), new Date().toISOString()]);
      await c.query(`DELETE FROM ${this.s}.audit_records WHERE seq > $1 AND seq <= $2`, [last.seq, doomed[doomed.length - 1].seq]);
      return doomed.length;
    });
  }

  async countRecordsBefore(before: string): Promise<number> {
    const { last, coveredTo } = await this.pruneBounds(this.pool);
    return countPrunable((after, limit) => this.readRows(after, limit), last, before, coveredTo);
  }

  /** Where pruning starts (the last pruned record) and how far it may go. */
  private async pruneBounds(c: Pick<Pool | PoolClient, 'query'>): Promise<{ last: { seq: number; hash: string }; coveredTo: number }> {
    const lastRow = (await c.query<{ seq: string; hash: string }>(`SELECT seq, hash FROM ${this.s}.audit_pruned ORDER BY seq DESC LIMIT 1`)).rows[0];
    const last = lastRow ? { seq: Number(lastRow.seq), hash: lastRow.hash } : { seq: 0, hash: GENESIS_HASH };
    // The newest record always stays: appends chain after it.
    const coveredTo = Math.min(
      Number((await c.query<{ size: string | null }>(`SELECT max(size) AS size FROM ${this.s}.audit_checkpoints`)).rows[0]?.size ?? 0),
      (await headOf(c, this.s)) - 1);
    return { last, coveredTo };
  }

  /** Waits for queued appends; the pool belongs to the journal, which ends it. */
  async close(): Promise<void> {
    await this.queue.idle();
  }

  private async tx<T>(fn: (c: PoolClient) => Promise<T>): Promise<T> {
    const c = await this.pool.connect();
    let broken: Error | true | undefined;
    // See the journal's inTransaction: without it a server restart between statements ends the process.
    const onError = (err: Error): void => { broken = err; };
    c.on('error', onError);
    try {
      await c.query('BEGIN');
      const out = await fn(c);
      await c.query('COMMIT');
      return out;
    } catch (err) {
      await c.query('ROLLBACK').catch((e: unknown) => { broken = e instanceof Error ? e : true; });
      throw err;
    } finally {
      c.off('error', onError);
      c.release(broken);
    }
  }
}

interface CheckpointRow { size: string; digest: string; document: string; frontier: string }

/** Pruned hashes, then the records' (a record whose seq is also pruned is not a leaf twice). */
async function leafHashesOf(q: Pick<Pool | PoolClient, 'query'>, s: string, after: number, upTo: number): Promise<Buffer[]> {
  const rows = (await q.query<{ hash: string }>(`SELECT seq, hash FROM ${s}.audit_pruned WHERE seq > $1 AND seq <= $2
    UNION ALL SELECT seq, hash FROM ${s}.audit_records WHERE seq > GREATEST($1, (SELECT coalesce(max(seq), 0) FROM ${s}.audit_pruned)) AND seq <= $2
    ORDER BY seq`, [after, upTo])).rows;
  return rows.map((r) => Buffer.from(r.hash, 'hex'));
}

async function headOf(q: Pick<Pool | PoolClient, 'query'>, s: string): Promise<number> {
  return Number((await q.query<{ seq: string }>(`SELECT seq FROM ${s}.audit_records ORDER BY seq DESC LIMIT 1`)).rows[0]?.seq ?? 0);
}
