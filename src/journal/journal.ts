import type { CentralAnswer } from '../wire/types';
import type { MigrationResult } from './migrations/migration';

/**
 * The journal port: every message, its state changes with timestamps, and the central
 * answer. The SQLite adapter is the embedded default; a PostgreSQL adapter implements the
 * same interface for several gateways sharing the work. No driver type leaks past here.
 */

/** Message states. `accepted → queued → sending → delivered | rejected`, `sending → retrying → … → failed`; `refused` means the gateway answered 503 and never sends it. */
export type MessageState = (typeof MESSAGE_STATES)[number];

/** Every message state, in lifecycle order (query checks, the dashboard, the OpenAPI document). */
export const MESSAGE_STATES = Object.freeze(['accepted', 'queued', 'sending', 'retrying', 'delivered', 'rejected', 'failed', 'refused'] as const);

/** States after which nothing more is sent. */
export const TERMINAL_STATES: ReadonlySet<MessageState> = new Set(['delivered', 'rejected', 'failed', 'refused']);

/** A new outbound message, as journaled before it is published. */
export interface NewMessage {
  readonly id: string;
  readonly type: string;
  readonly direction: 'outbound' | 'inbound';
  /** The ordering key (application number). */
  readonly orderingKey: string;
  readonly clientId: string;
  readonly idempotencyKey?: string;
  /** SHA-256 (hex) of the request body, to tell a replay from a conflicting reuse of the key. */
  readonly bodyHash: string;
  /** The signed wire XML, exactly as it will be sent. */
  readonly wireXml: string;
  /** Correlation id of the HTTP request that created it. */
  readonly correlationId: string;
  /** The staff member who acted (`X-Davis-Staff`), for the message's audit record. */
  readonly staff?: string;
}

/** A message waiting for an earlier one of its application, as the dispatcher publishes it again. */
export interface WaitingMessage {
  readonly id: string;
  readonly type: string;
  readonly orderingKey: string;
  readonly correlationId: string;
  readonly staff?: string;
  /** When it was marked waiting (ISO 8601): the mark is cleared only if still this one. */
  readonly waitingSince: string;
}

/** One state change. */
export interface StateEvent {
  readonly state: MessageState;
  /** ISO 8601 UTC with milliseconds. */
  readonly at: string;
  /** Attempt number, for sending/retrying. */
  readonly attempt?: number;
  /** Error code or reason, for retrying/failed/refused/rejected. */
  readonly detail?: string;
}

/** Everything known about one message. */
export interface MessageRecord {
  readonly id: string;
  readonly type: string;
  readonly direction: 'outbound' | 'inbound';
  readonly state: MessageState;
  readonly orderingKey: string;
  readonly clientId: string;
  readonly idempotencyKey?: string;
  readonly bodyHash: string;
  readonly correlationId: string;
  /** The staff member who acted (`X-Davis-Staff`), when UMA said so. */
  readonly staff?: string;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly attempts: number;
  readonly lastError?: string;
  /** When the next delivery attempt is due (state `retrying`). */
  readonly nextAttemptAt?: string;
  /** The callback to UMA about this message's outcome, if a webhook is configured. */
  readonly webhook?: WebhookStatus;
  readonly events: readonly StateEvent[];
  readonly answer?: CentralAnswer;
}

/** The state of the callback to UMA about one message. */
export interface WebhookStatus {
  readonly event: string;
  readonly state: 'pending' | 'delivered' | 'failed';
  readonly attempts: number;
  readonly lastError?: string;
  readonly updatedAt: string;
}

/** Filter for listing messages (ops). */
export interface MessageFilter {
  readonly type?: string;
  readonly state?: MessageState;
  readonly direction?: 'outbound' | 'inbound';
  /** Created at or after (ISO 8601). */
  readonly from?: string;
  /** Created before (ISO 8601). */
  readonly to?: string;
  /** The ordering key (application number), exactly. */
  readonly orderingKey?: string;
  /** Correlation id of the request that created the message, exactly. */
  readonly correlationId?: string;
  /**
   * Central's reference in the answer, exactly. Answers are sealed (journal-cipher), so no index
   * serves this: the adapters open at most {@link CENTRAL_REFERENCE_SCAN} answered rows per page
   * and give a cursor to scan on when that was not the end.
   */
  readonly centralReference?: string;
  /** @default 100 */
  readonly limit?: number;
  /** Opaque cursor from the previous page. */
  readonly cursor?: string;
}

/** Rows a `centralReference` search opens per page, newest first. */
export const CENTRAL_REFERENCE_SCAN = 5000;

/** What happened in one minute (UTC), for the traffic chart. */
export interface TrafficMinute {
  /** Start of the minute, `YYYY-MM-DDTHH:MMZ`. */
  readonly minute: string;
  readonly accepted: number;
  readonly delivered: number;
  readonly rejected: number;
  readonly failed: number;
}

/** Minutes from their event rows: every minute from `since` to now, empty ones with zeros. */
export function trafficMinutes(since: string, rows: readonly { minute: string; state: string; n: number }[], now = Date.now()): TrafficMinute[] {
  const counts = new Map<string, Partial<Record<string, number>>>();
  for (const r of rows) {
    const c = counts.get(r.minute) ?? {};
    c[r.state] = (c[r.state] ?? 0) + r.n;
    counts.set(r.minute, c);
  }
  const out: TrafficMinute[] = [];
  for (let t = Math.floor(Date.parse(since) / 60000) * 60000; t <= now; t += 60000) {
    const minute = new Date(t).toISOString().slice(0, 16);
    const c = counts.get(minute) ?? {};
    out.push({ minute: `${minute}Z`, accepted: c.accepted ?? 0, delivered: c.delivered ?? 0, rejected: c.rejected ?? 0, failed: c.failed ?? 0 });
  }
  return out;
}

/**
 * One page of a `centralReference` search from up to {@link CENTRAL_REFERENCE_SCAN} rows
 * (newest first, answered only): the matches, and a cursor after the last match shown or, when
 * the scan stopped at its cap, after the last row opened.
 */
export function referencePage<R extends { created_at: string; id: string }>(
  rows: readonly R[], toRecord: (r: R) => MessageRecord, ref: string, limit: number,
): { items: MessageRecord[]; nextCursor?: string } {
  const items: MessageRecord[] = [];
  for (const r of rows) {
    const rec = toRecord(r);
    if (rec.answer?.centralReference !== ref) continue;
    if (items.length === limit) {
      const last = items[items.length - 1];
      return { items, nextCursor: encodeCursor(last.createdAt, last.id) };
    }
    items.push(rec);
  }
  const last = rows.at(-1);
  return rows.length === CENTRAL_REFERENCE_SCAN && last ? { items, nextCursor: encodeCursor(last.created_at, last.id) } : { items };
}

export interface Journal {
  /** Records a new message in state `accepted`. Throws if the id exists. */
  insert(msg: NewMessage): Promise<void>;
  /** Appends a state change; `attempt`, `detail` and `nextAttemptAt` update what operators see. */
  transition(id: string, state: MessageState, extra?: TransitionExtra): Promise<void>;
  /**
   * Moves a message from `from` to `to` only if it is still in `from`, atomically; returns
   * whether it moved. Ingest and dispatcher race on fresh messages: this settles who wins.
   */
  transitionFrom(id: string, from: MessageState, to: MessageState, extra?: TransitionExtra): Promise<boolean>;
  /**
   * Whether an outbound message with the same ordering key, accepted earlier, is not yet
   * settled (delivered, rejected, failed or refused). Such a message must go first.
   */
  hasUnsettledPredecessor(id: string): Promise<boolean>;
  /**
   * Atomically: when an earlier outbound message with the same ordering key is unsettled,
   * marks this one as waiting for it and returns true; otherwise changes nothing and returns
   * false. A waiting message leaves the broker and is published again when its predecessor
   * settles ({@link nextWaiting}), so it does not cycle through a delay queue meanwhile.
   */
  waitForPredecessor(id: string): Promise<boolean>;
  /** The first unsettled outbound message after `id` with the same ordering key, if it is marked waiting. */
  nextWaiting(id: string): Promise<WaitingMessage | undefined>;
  /** Ends a waiting mark once the message is published again (only if the mark is still `since`). */
  clearWaiting(id: string, since: string): Promise<void>;
  /**
   * Messages marked waiting before `olderThan` whose predecessors are all settled, oldest
   * first: a wake lost to a crash or a race between gateways; the outbox relay publishes them.
   */
  strandedWaiting(olderThan: string, limit: number): Promise<WaitingMessage[]>;
  /** Operator retry: `failed` → `queued` with the attempt counter reset; false if the message is not `failed`. */
  requeueFailed(id: string, detail: string): Promise<boolean>;
  /** Records the state of the webhook about a message. */
  recordWebhook(id: string, status: Omit<WebhookStatus, 'updatedAt'>): Promise<void>;
  /** Number of messages per state (metrics). */
  countByState(): Promise<Partial<Record<MessageState, number>>>;
  /** Records the central answer and the terminal state it implies, in one step. */
  recordAnswer(id: string, answer: CentralAnswer, responseXml: string): Promise<MessageState>;
  /** The message with its history, or undefined. */
  get(id: string): Promise<MessageRecord | undefined>;
  /** The signed wire XML of a message (undefined once retention purged it). */
  getWireXml(id: string): Promise<string | undefined>;
  /** Central's signed answer exactly as received (undefined before an answer, and once retention purged it). */
  getResponseXml(id: string): Promise<string | undefined>;
  /** The live (not `refused`) message created by this client with this idempotency key. */
  findByIdempotencyKey(clientId: string, key: string): Promise<MessageRecord | undefined>;
  /** Messages newest first, with a cursor for the next page. */
  list(filter: MessageFilter): Promise<{ items: MessageRecord[]; nextCursor?: string }>;
  /**
   * Messages that entered `accepted`, `delivered`, `rejected` or `failed` per minute since
   * `since` (ISO 8601), every minute up to now, oldest first (the dashboard's chart).
   */
  trafficByMinute(since: string): Promise<TrafficMinute[]>;
  /**
   * Ids of messages still `accepted` and created before `olderThan` (the outbox relay's work),
   * oldest first. With `leaseMs` the call claims them for that long: another call (another
   * gateway's relay) within the lease gets none of them, so two relays never publish the same
   * message at once; a relay that dies leaves its claim to expire.
   */
  unpublished(olderThan: string, leaseMs?: number): Promise<string[]>;
  /** Ends the claims on these messages before their lease runs out (the relay could not publish them). */
  releaseUnpublished(ids: readonly string[]): Promise<void>;
  /** Answers quickly whether the store is usable (readiness). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** What retention (`src/exchange/retention.ts`) asks of a journal; every call is one short transaction. */
export interface JournalRetention {
  /** How many messages a purge with these cutoffs would touch (`davis retention run --dry-run`). */
  retentionCounts(payloadsSettledBefore: string, messagesCreatedBefore: string): Promise<{ payloads: number; messages: number }>;
  /**
   * Removes the personal data of up to `limit` settled messages last changed before `before`:
   * the wire XML (an empty value), central's response XML and the answer's `data`; the
   * metadata (states, result code, central reference) stays. Returns how many it purged.
   */
  purgePayloads(before: string, limit: number): Promise<number>;
  /** Deletes up to `limit` settled messages created before `before`, with their state events; returns how many. */
  deleteMessages(before: string, limit: number): Promise<number>;
}

/** A stored answer (JSON text) without its `data`, the personal data central returned; null stays null. */
export function purgedAnswer(answerJson: string | null): string | null {
  if (answerJson === null) return null;
  const { data: _data, ...rest } = JSON.parse(answerJson) as CentralAnswer;
  return JSON.stringify(rest);
}

/** Options of {@link JournalMaintenance.rekey}. */
export interface RekeyOptions {
  /** Rows per transaction. @default 500 */
  readonly batchSize?: number;
  /** Only rows stored in clear (0.1.0 rows), not those under a previous key. @default false */
  readonly clearOnly?: boolean;
  /** Told the running count after each batch. */
  readonly onBatch?: (rewritten: number) => void;
}

/** What a rekey did. */
export interface RekeyReport {
  /** Id of the key every rewritten row is now sealed with. */
  readonly keyId: string;
  /** Rows rewritten. */
  readonly rewritten: number;
  /** Rows rewritten, by the key they were under before (`clear` for rows stored in clear). */
  readonly fromKeys: Readonly<Record<string, number>>;
  readonly batches: number;
}

/** Rows per rekey transaction, unless told otherwise. */
export const REKEY_BATCH = 500;

/** The name a key id goes by in counts: the id, or `clear` for rows stored in clear. */
export function keyCountName(keyId: string | null): string {
  return keyId ?? 'clear';
}

/** Operations on the store itself, for `davis journal` (not part of the message lifecycle). */
export interface JournalMaintenance {
  /** What opening the journal migrated. */
  readonly migration: MigrationResult;
  /** Reseals every row not under the current key with it, in batches; rows in clear included. */
  rekey(opts?: RekeyOptions): Promise<RekeyReport>;
  /** Rows per key id (`clear`: stored in clear). */
  keyCounts(): Promise<Record<string, number>>;
}

/** Optional facts recorded with a state change. */
export interface TransitionExtra {
  readonly attempt?: number;
  /** Error code or reason. */
  readonly detail?: string;
  /** ISO 8601 time of the next attempt (for `retrying`). */
  readonly nextAttemptAt?: string;
}

/** Current time as the journal writes it. */
export function nowIso(): string {
  return new Date().toISOString();
}

/**
 * Encodes a list cursor: base64url of `createdAt|id`, stable under inserts and opaque to
 * clients. Every adapter pages by (created_at, id) descending, so a cursor means the same
 * position whichever adapter wrote it.
 */
export function encodeCursor(at: string, id: string): string {
  return Buffer.from(`${at}|${id}`).toString('base64url');
}

/** Decodes a cursor from {@link encodeCursor}; an unreadable one gives `['', '']` (an empty page). */
export function decodeCursor(cursor: string): [string, string] {
  const s = Buffer.from(cursor, 'base64url').toString('utf8');
  const i = s.indexOf('|');
  return i < 0 ? ['', ''] : [s.slice(0, i), s.slice(i + 1)];
}

/** A `messages` row as both adapters store it (answer and webhook already parsed from JSON). */
export interface MessageRow {
  id: string; type: string; direction: 'outbound' | 'inbound'; state: MessageState; ordering_key: string; client_id: string;
  idempotency_key: string | null; body_hash: string; correlation_id: string; created_at: string; updated_at: string; staff: string | null;
  attempts: number; last_error: string | null; next_attempt_at: string | null;
  answer: CentralAnswer | null; webhook: WebhookStatus | null;
}

/** The columns of a waiting message as both adapters select them. */
export interface WaitingRow { id: string; type: string; ordering_key: string; correlation_id: string; staff: string | null; order_wait_since: string | null }

/** A {@link WaitingMessage} from its row; undefined when the row is not marked waiting. */
export function toWaitingMessage(row: WaitingRow | undefined): WaitingMessage | undefined {
  if (row?.order_wait_since == null) return undefined;
  return {
    id: row.id, type: row.type, orderingKey: row.ordering_key, correlationId: row.correlation_id, waitingSince: row.order_wait_since,
    ...(row.staff !== null ? { staff: row.staff } : {}),
  };
}

/** The waiting messages of rows that are all marked waiting (the relay's query selects only those). */
export function toWaitingMessages(rows: readonly WaitingRow[]): WaitingMessage[] {
  return rows.flatMap((r) => toWaitingMessage(r) ?? []);
}

/** An `events` row. */
export interface EventRow { state: MessageState; at: string; attempt: number | null; detail: string | null }

/** The record the port returns, from a row and its events (shared by the adapters so they cannot drift). */
export function toMessageRecord(row: MessageRow, events: readonly EventRow[]): MessageRecord {
  return {
    id: row.id, type: row.type, direction: row.direction, state: row.state, orderingKey: row.ordering_key,
    clientId: row.client_id, bodyHash: row.body_hash, correlationId: row.correlation_id,
    createdAt: row.created_at, updatedAt: row.updated_at, attempts: row.attempts,
    events: events.map((e) => ({
      state: e.state, at: e.at,
      ...(e.attempt !== null ? { attempt: e.attempt } : {}),
      ...(e.detail !== null ? { detail: e.detail } : {}),
    })),
    ...(row.idempotency_key !== null ? { idempotencyKey: row.idempotency_key } : {}),
    ...(row.staff !== null ? { staff: row.staff } : {}),
    ...(row.last_error !== null ? { lastError: row.last_error } : {}),
    ...(row.next_attempt_at !== null ? { nextAttemptAt: row.next_attempt_at } : {}),
    ...(row.answer !== null ? { answer: row.answer } : {}),
    ...(row.webhook !== null ? { webhook: row.webhook } : {}),
  };
}
