import type { Logger } from 'pino';
import type { AuditLog } from '../audit/audit';
import { purgeEvent, type Actor, type PurgeCounts } from '../audit/records';
import type { Config } from '../config/config';
import type { JournalRetention } from '../journal/journal';

const DAY_MS = 86_400_000;

/**
 * What an audit store offers to drop records older than their period (both stores have it:
 * `AuditStore.deleteRecordsBefore`). Optional: an audit log without it keeps every record, and
 * a run reports 0 for them.
 */
export interface AuditRetention {
  /** Deletes up to `limit` of the oldest records stamped before `before` (only whole checkpointed ranges); returns how many. */
  deleteRecordsBefore(before: string, limit: number): Promise<number>;
  /** How many records a run with this cutoff would delete (for a dry run). */
  countRecordsBefore(before: string): Promise<number>;
}

/**
 * The retention operations of a journal adapter (both adapters have them; the wiring holds the journal by its port).
 * @throws Error for a journal without them
 */
export function retentionOf(journal: object): JournalRetention {
  const j = journal as Partial<JournalRetention>;
  if (typeof j.purgePayloads !== 'function' || typeof j.deleteMessages !== 'function' || typeof j.retentionCounts !== 'function') {
    throw new Error('retention: the journal has no retention operations');
  }
  return journal as JournalRetention;
}

/** Options of {@link Retention}. */
export interface RetentionOptions {
  readonly journal: JournalRetention;
  /** Where the run's `retention.purge` record goes, and whose old records it deletes when it can. */
  readonly audit?: AuditLog & Partial<AuditRetention>;
  readonly policy: Config['retention'];
  readonly logger: Logger;
  /** The clock, ms since the epoch. @default Date.now */
  readonly now?: () => number;
}

/** What one run removed, or (dry run) would remove, and the cutoffs it used. */
export interface RetentionReport extends PurgeCounts {
  readonly dryRun: boolean;
  /** Payloads of messages settled before this were purged (ISO 8601). */
  readonly payloadCutoff: string;
  /** Messages created, and audit records stamped, before this were deleted (ISO 8601). */
  readonly recordCutoff: string;
  readonly batches: number;
}

/**
 * Retention and minimisation (Reg. (EC) 767/2008 Art 23 and Art 34; Reg. (EU) 2016/679 Art
 * 5(1)(c) and (e)): the personal data of settled messages (wire XML, central's answer XML and
 * data, notifications alike) goes after `retention.payloadDays`; message metadata and audit
 * records after `retention.recordDays` (the Art 23 period plus one year). Work is done in
 * batches of `retention.batchSize`, each one short transaction with the event loop free in
 * between, so traffic goes on. The audit chain commits to content digests, not content, so
 * it still verifies after a purge. Each run leaves one `retention.purge` record (with its
 * counts, zero included); a dry run counts, changes nothing and records nothing.
 */
export class Retention {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<RetentionReport> | undefined;

  constructor(private readonly opts: RetentionOptions) {}

  /** Runs now; a run already under way is joined, not doubled. */
  run(options: { dryRun?: boolean; actor?: Actor } = {}): Promise<RetentionReport> {
    if (options.dryRun) return this.once(true, options.actor);
    this.running ??= this.once(false, options.actor).finally(() => { this.running = undefined; });
    return this.running;
  }

  /** Runs every `retention.intervalMs` (the first run one interval after start). */
  start(): void {
    if (this.timer || this.opts.policy.intervalMs === 0) return;
    this.timer = setInterval(() => {
      this.run().catch((err: unknown) => this.opts.logger.error({ err: { message: (err as Error).message } }, 'retention run failed; the next run retries'));
    }, this.opts.policy.intervalMs);
    this.timer.unref();
  }

  /** Stops the timer and waits for a run under way. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
  }

  private async once(dryRun: boolean, actor: Actor = { clientId: 'retention' }): Promise<RetentionReport> {
    const { journal, audit, policy, logger } = this.opts;
    const now = (this.opts.now ?? Date.now)();
    const payloadCutoff = new Date(now - policy.payloadDays * DAY_MS).toISOString();
    const recordCutoff = new Date(now - policy.recordDays * DAY_MS).toISOString();
    if (dryRun) {
      const c = await journal.retentionCounts(payloadCutoff, recordCutoff);
      const auditRecords = audit?.countRecordsBefore ? await audit.countRecordsBefore(recordCutoff) : 0;
      return { dryRun, payloadCutoff, recordCutoff, payloads: c.payloads, messages: c.messages, auditRecords, batches: 0 };
    }
    const size = policy.batchSize;
    let batches = 0;
    const drain = async (step: () => Promise<number>): Promise<number> => {
      let total = 0;
      for (;;) {
        const n = await step();
        batches++;
        total += n;
        await new Promise((r) => setImmediate(r));
        if (n < size) return total;
      }
    };
    const payloads = await drain(() => journal.purgePayloads(payloadCutoff, size));
    const messages = await drain(() => journal.deleteMessages(recordCutoff, size));
    const prune = audit?.deleteRecordsBefore?.bind(audit);
    const auditRecords = prune ? await drain(() => prune(recordCutoff, size)) : 0;
    const counts = { payloads, messages, auditRecords };
    await audit?.record(purgeEvent(counts, actor));
    if (payloads || messages || auditRecords) logger.info({ ...counts, payloadCutoff, recordCutoff }, 'retention purged');
    return { dryRun, payloadCutoff, recordCutoff, ...counts, batches };
  }
}
