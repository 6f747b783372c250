/**
 * The audit port: one record for every processing operation (Reg. (EC) 767/2008 Art 34, as
 * amended by (EU) 2021/1134), append-only and hash-chained, with signed Merkle checkpoints.
 *
 * A record names what was done, why, by whom and with which categories of data — never a
 * data value. Use cases depend on this interface only; the SQLite and PostgreSQL stores are
 * adapters beside it.
 */

/** The processing operations that leave a record. */
export const AUDIT_OPERATIONS = Object.freeze([
  /** A message was sent to central (one record when it settles: delivered, rejected or failed). */
  'message.send',
  /** A central notification was received and verified. */
  'notification.receive',
  /** A message's central data (search, retrieve, ESP and ICF answers carry personal data) was read. */
  'message.read',
  /** An operator re-queued a failed message. */
  'message.retry',
  /** Evidence of a message was exported. */
  'evidence.export',
  /** Audit records were read (the auditor role). */
  'audit.read',
  /** Retention removed payloads or records. */
  'retention.purge',
  /** The signing key or the trust anchors were reloaded. */
  'pki.reload',
  /** The journal's data key was rotated. */
  'journal.rekey',
] as const);

/** One of {@link AUDIT_OPERATIONS}. */
export type AuditOperation = (typeof AUDIT_OPERATIONS)[number];

/** What the caller knows about an operation; the log adds the time, sequence and chain. */
export interface AuditEvent {
  readonly operation: AuditOperation;
  /** Purpose: the legal basis, for a message the catalogue article of its type (e.g. `Reg. (EC) 767/2008 Art 9`). */
  readonly purpose: string;
  /** Categories of data transmitted or read: field names and categories (e.g. `applicant.surname`, `biometrics.facialImage`), never values. */
  readonly dataCategories: readonly string[];
  /** Categories used as query criteria (search and retrieve types), never values. */
  readonly queryCategories?: readonly string[];
  /** The authenticated client (client id of the certificate or token, `central`, or `operator`). */
  readonly clientId: string;
  /** The authority code the payload names (e.g. the competent visa authority), when it names one. */
  readonly authority?: string;
  /** The staff member who acted, as UMA reports it (`X-Davis-Staff`): an identifier, not a name. */
  readonly staff?: string;
  /** The message the operation concerns. */
  readonly messageId?: string;
  /** The message type, when there is a message. */
  readonly messageType?: string;
  /** `ok`, or the outcome in one word or code: `delivered`, `rejected`, `failed`, `refused`, a DAVIS_ERR_* code. */
  readonly outcome: string;
  /** SHA-256 (hex) of the content the operation concerned (e.g. the signed wire XML), so that the chain commits to content it does not hold. */
  readonly contentDigest?: string;
  /** Correlation id of the request that caused it. */
  readonly correlationId?: string;
}

/** A stored record: the event plus its place in the chain. */
export interface AuditRecord extends AuditEvent {
  /** 1-based position in the log. */
  readonly seq: number;
  /** ISO 8601 UTC with milliseconds. */
  readonly at: string;
  /** SHA-256 (hex) of the previous record's `hash` (64 zeros for the first). */
  readonly prevHash: string;
  /** SHA-256 (hex) over `prevHash` and the record's canonical form. */
  readonly hash: string;
}

/** Filter of `GET /v1/audit` and `AuditLog.list`. */
export interface AuditFilter {
  readonly messageId?: string;
  readonly operation?: AuditOperation;
  readonly clientId?: string;
  /** Inclusive lower bound on `at`. */
  readonly from?: string;
  /** Exclusive upper bound on `at`. */
  readonly to?: string;
  /** Records after this sequence number (paging). */
  readonly afterSeq?: number;
  /** @default 100 */
  readonly limit?: number;
}

/** The audit log as the use cases see it. */
export interface AuditLog {
  /** Appends one record; resolves once it is durable. */
  record(event: AuditEvent): Promise<AuditRecord>;
  /** Records matching the filter, in sequence order. */
  list(filter: AuditFilter): Promise<readonly AuditRecord[]>;
}
