/**
 * The evidence of one message: one JSON document an authority can hand to a court or a
 * supervisor, checkable offline with the CA certificate alone.
 *
 * ```
 * { "format": "davis-evidence/1", "exportedAt", "message": { id, type, direction, state, events, answer… },
 *   "holds": { "request": "<what the request part is>", "answer": "<what the answer part is, or why there is none>" },
 *   "request": { "xml": "<the signed wire XML as sent (outbound) or as received (inbound)>", "sha256" } | null,
 *   "answer":  { "xml": "<central's signed answer as received>", "sha256" } | null,
 *   "records": [ <the message's audit records, as stored> ],
 *   "proofs":  [ { "seq", "leafIndex", "treeSize", "path": ["<hex>", …] } ],   // RFC 6962 inclusion, one per record
 *   "checkpoint": <the signed checkpoint covering them, with its RFC 3161 token> | null,
 *   "missing": [ "<what the bundle cannot hold, and why>" ] }
 * ```
 *
 * `request`/`answer` are null once retention purged them (`retention.payloadDays`); the
 * records still hold the SHA-256 of the request (`contentDigest`), so a copy kept elsewhere
 * can be matched to them.
 *
 * For a notification (direction `inbound`) the request is central's signed notification as
 * received and there is no answer part: the gateway's signed acknowledgement is made when
 * central is answered and is not journaled (the journal keeps central's answers only); the
 * `notification.receive` record, outcome `ok`, is the log's statement that the gateway
 * verified, journaled and accepted it. `holds` says so in the bundle itself.
 */
import { X509Certificate } from 'node:crypto';
import { DavisError, isDavisError } from '../errors/errors';
import type { Journal, MessageRecord } from '../journal/journal';
import type { TrustStore } from '../signing/types';
import { verifyEnveloped } from '../signing/xmldsig';
import { sha256Hex } from '../util/sha256';
import type { AuditRecord } from './audit';
import type { AuditStore, StoredCheckpoint } from './audit-store';
import { recordHash, GENESIS_HASH } from './canonical';
import { checkpointDigest, parseCheckpoint, verifyCheckpointSignature, type CheckpointDocument } from './checkpoints';
import { inclusionProof, verifyInclusion } from './merkle';
import { chainsTo, verifyTimestampToken } from './tsp';

/** The `format` of bundles this version writes. */
export const EVIDENCE_FORMAT = 'davis-evidence/1';

/** One signed XML document in a bundle. */
export interface EvidenceDocument {
  readonly xml: string;
  /** SHA-256 (hex) of the UTF-8 text. */
  readonly sha256: string;
}

/** RFC 6962 inclusion proof of one record in the checkpoint's tree. */
export interface InclusionProof {
  readonly seq: number;
  /** 0-based leaf index (`seq - 1`). */
  readonly leafIndex: number;
  readonly treeSize: number;
  /** Audit path, hex, leaf to root. */
  readonly path: readonly string[];
}

/** The evidence bundle (see the module comment). */
export interface EvidenceBundle {
  readonly format: string;
  readonly exportedAt: string;
  readonly message: Omit<MessageRecord, 'bodyHash' | 'idempotencyKey'>;
  /** What the `request` and `answer` parts are for this message's direction (and why one is absent). */
  readonly holds: EvidenceHolds;
  readonly request: EvidenceDocument | null;
  readonly answer: EvidenceDocument | null;
  readonly records: readonly AuditRecord[];
  readonly proofs: readonly InclusionProof[];
  readonly checkpoint: CheckpointDocument | null;
  readonly missing: readonly string[];
}

/** What the two document parts of a bundle are. */
export interface EvidenceHolds {
  readonly request: string;
  readonly answer: string;
}

/** {@link EvidenceHolds} of an outbound message (sent to central) and of a notification (from central). */
export const HOLDS: Readonly<Record<'outbound' | 'inbound', EvidenceHolds>> = {
  outbound: {
    request: 'the signed wire XML the gateway sent to central (Request, signed by the gateway), byte for byte',
    answer: 'central\'s signed answer as received (Response, signed by central), byte for byte',
  },
  inbound: {
    request: 'central\'s signed notification as received (Request, signed by central), byte for byte',
    answer: 'none: the gateway answered central with a signed acknowledgement (Response, ACCEPTED/OK) made at that moment and not journaled; '
      + 'the notification.receive record (outcome ok) is the log\'s statement that the gateway verified, journaled and accepted the notification',
  },
};

/** What an export needs. */
export interface EvidenceSources {
  readonly journal: Journal;
  readonly audit: AuditStore;
  /** Makes a checkpoint now, when the newest does not cover the message's records yet (the gateway's checkpointer). */
  readonly checkpoint?: () => Promise<StoredCheckpoint | undefined>;
}

const doc = (xml: string | undefined): EvidenceDocument | null => (xml ? { xml, sha256: sha256Hex(xml) } : null);

/** Records of one message, every page. */
async function recordsOf(audit: AuditStore, messageId: string): Promise<AuditRecord[]> {
  const out: AuditRecord[] = [];
  for (;;) {
    const page = await audit.list({ messageId, afterSeq: out.at(-1)?.seq ?? 0, limit: 1000 });
    out.push(...page);
    if (page.length < 1000) return out;
  }
}

/** Leaf inputs (the records' hashes, raw) of the first `size` records. */
async function leavesUpTo(audit: AuditStore, size: number): Promise<Buffer[]> {
  // Pruned records (retention) keep their hashes, so a proof still reaches a checkpoint made before the pruning.
  const leaves = await audit.leafHashes(0, size);
  if (leaves.length !== size) throw new DavisError('DAVIS_ERR_INTERNAL', { reason: `audit log has ${leaves.length} of ${size} leaves: run davis audit verify` });
  return leaves;
}

/**
 * Builds the evidence bundle of a message: its signed documents from the journal, its audit
 * records, and their inclusion proofs to the first checkpoint covering all of them (made now
 * when `checkpoint` is given and none covers them yet).
 *
 * @throws DavisError DAVIS_ERR_NOT_FOUND when the journal does not know the message
 */
export async function exportEvidence(messageId: string, src: EvidenceSources): Promise<EvidenceBundle> {
  const rec = await src.journal.get(messageId);
  if (!rec) throw new DavisError('DAVIS_ERR_NOT_FOUND', { what: 'message' });
  const { bodyHash: _b, idempotencyKey: _k, ...message } = rec;
  const missing: string[] = [];
  const request = doc(await src.journal.getWireXml(messageId));
  const answer = rec.direction === 'outbound' ? doc(await src.journal.getResponseXml(messageId)) : null;
  if (!request) missing.push('request: purged by retention (retention.payloadDays); the records keep its SHA-256 as contentDigest');
  if (rec.direction === 'outbound' && !answer) missing.push(rec.answer ? 'answer: purged by retention (retention.payloadDays)' : 'answer: central has not answered');
  if (rec.direction === 'inbound') missing.push('answer: a notification\'s evidence has no answer part; the gateway\'s acknowledgement to central is not journaled (see holds.answer)');
  const records = await recordsOf(src.audit, messageId);
  const last = records.at(-1)?.seq ?? 0;
  const covering = async (): Promise<StoredCheckpoint | undefined> => (await src.audit.checkpoints()).find((c) => c.size >= last);
  let cp = last ? await covering() : undefined;
  if (last && !cp && src.checkpoint) {
    await src.checkpoint();
    cp = await covering();
  }
  let checkpoint: CheckpointDocument | null = null;
  let proofs: InclusionProof[] = [];
  if (cp) {
    const stored = parseCheckpoint(cp.document);
    const token = (await src.audit.timestamps()).get(cp.size);
    checkpoint = stored.timestamp || !token ? stored : { ...stored, timestamp: token.toString('base64') };
    const leaves = await leavesUpTo(src.audit, cp.size);
    proofs = records.map((r) => ({ seq: r.seq, leafIndex: r.seq - 1, treeSize: cp.size, path: inclusionProof(r.seq - 1, leaves).map((b) => b.toString('hex')) }));
    if (!checkpoint.timestamp) missing.push('timestamp: no RFC 3161 token for this checkpoint (audit.tsaUrl unset, or the TSA has not answered yet)');
  } else if (records.length) {
    missing.push('checkpoint: no signed checkpoint covers these records yet');
  }
  return { format: EVIDENCE_FORMAT, exportedAt: new Date().toISOString(), message, holds: HOLDS[rec.direction], request, answer, records, proofs, checkpoint, missing };
}

/** One check of {@link verifyEvidence}. */
export interface EvidenceCheck {
  /** `request-signature`, `answer-signature`, `request-digest`, `record-hash`, `inclusion`, `checkpoint-signature`, `timestamp`, … */
  readonly check: string;
  readonly ok: boolean;
  /** What was checked, or what is wrong. */
  readonly detail: string;
}

/** Options of {@link verifyEvidence}. */
export interface EvidenceVerifyOptions {
  /** CA certificates the gateway's and central's signing certificates, and the checkpoint's, must chain to. */
  readonly trust: TrustStore;
  /** The TSA's anchors; without them the token is checked against its own certificate only. */
  readonly tsaTrust?: readonly X509Certificate[];
}

/**
 * Checks a bundle offline: both XML signatures with the gateway's strict verifier, that the
 * request is the one the records name (digest), each record's hash, each inclusion proof
 * against the checkpoint's root, the checkpoint's signature (chained to `trust`) and its
 * timestamp token (over the checkpoint's digest). Returns every check; `ok` is false if any
 * failed.
 */
export function verifyEvidence(bundle: EvidenceBundle, opts: EvidenceVerifyOptions): { ok: boolean; checks: EvidenceCheck[] } {
  const checks: EvidenceCheck[] = [];
  const check = (name: string, fn: () => string): void => {
    try {
      checks.push({ check: name, ok: true, detail: fn() });
    } catch (err) {
      checks.push({ check: name, ok: false, detail: isDavisError(err) ? `${err.code}: ${err.message}` : (err as Error).message });
    }
  };
  if (bundle?.format !== EVIDENCE_FORMAT) return { ok: false, checks: [{ check: 'format', ok: false, detail: `not a ${EVIDENCE_FORMAT} bundle` }] };
  const signature = (name: string, d: EvidenceDocument | null): void => {
    if (!d) return;
    check(`${name}-signature`, () => {
      if (sha256Hex(d.xml) !== d.sha256) throw new Error('the document does not match its sha256');
      const v = verifyEnveloped(d.xml, opts.trust);
      return `signed by ${v.certificate.subject.replace(/\n/g, ', ')}`;
    });
  };
  signature('request', bundle.request);
  signature('answer', bundle.answer);
  const records = bundle.records ?? [];
  const request = bundle.request;
  if (request) {
    const named = records.filter((r) => r.contentDigest !== undefined);
    check('request-digest', () => {
      const other = named.find((r) => r.contentDigest !== request.sha256);
      if (other) throw new Error(`record ${other.seq} names another document (contentDigest ${other.contentDigest})`);
      return named.length ? `${named.length} record(s) name this request` : 'no record names a content digest';
    });
  }
  for (const r of records) {
    check('record-hash', () => {
      if (r.prevHash === GENESIS_HASH && r.seq !== 1) throw new Error(`record ${r.seq}: the genesis hash on a later record`);
      if (recordHash(r.prevHash, r) !== r.hash) throw new Error(`record ${r.seq}: its hash does not match its content (modified)`);
      return `record ${r.seq}`;
    });
  }
  const cp = bundle.checkpoint;
  if (cp) {
    check('checkpoint-signature', () => {
      const cert = verifyCheckpointSignature(cp);
      chainsTo(cert, cp.signature.certificates.slice(1).map((p) => new X509Certificate(p)), opts.trust.anchors, new Date(cp.checkpoint.time));
      return `checkpoint of ${cp.checkpoint.size} records signed by ${cert.subject.replace(/\n/g, ', ')}`;
    });
    const root = Buffer.from(cp.checkpoint.root, 'hex');
    for (const r of records) {
      check('inclusion', () => {
        const p = bundle.proofs.find((x) => x.seq === r.seq);
        if (!p) throw new Error(`record ${r.seq}: no inclusion proof`);
        if (p.treeSize !== cp.checkpoint.size || p.leafIndex !== r.seq - 1) throw new Error(`record ${r.seq}: the proof is for another tree or leaf`);
        if (!verifyInclusion(p.leafIndex, p.treeSize, Buffer.from(r.hash, 'hex'), p.path.map((h) => Buffer.from(h, 'hex')), root)) {
          throw new Error(`record ${r.seq}: not in the checkpoint's tree`);
        }
        return `record ${r.seq} is leaf ${p.leafIndex} of ${p.treeSize}`;
      });
    }
    const token = cp.timestamp;
    if (token) {
      check('timestamp', () => {
        const info = verifyTimestampToken(Buffer.from(token, 'base64'), Buffer.from(checkpointDigest(cp.checkpoint), 'hex'), opts.tsaTrust ?? []);
        return `time-stamped ${info.genTime.toISOString()} by ${info.tsaCertificate.subject.replace(/\n/g, ', ')}`;
      });
    }
  } else if (records.length) {
    checks.push({ check: 'checkpoint', ok: false, detail: 'no checkpoint: the records are not proven to be in the log' });
  }
  return { ok: checks.every((c) => c.ok), checks };
}

/** The categories of data an export hands out: those of its records. */
export function bundleCategories(bundle: EvidenceBundle): string[] {
  return [...new Set(bundle.records.flatMap((r) => r.dataCategories))].sort();
}
