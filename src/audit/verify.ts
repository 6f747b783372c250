/**
 * `davis audit verify`: the whole audit log checked against itself and against the
 * checkpoints kept outside the database.
 *
 * 1. Checkpoints: each one's signature (with the certificate it carries, and with `trust`
 *    that this certificate chains to a trusted CA), its timestamp token if any, and the
 *    `previous` links between consecutive ones (judged after the records). Where a checkpoint exists both in the journal
 *    and as an exported file, the exported copy is the reference (the database cannot
 *    rewrite it); a journal copy that differs is reported once the records have been judged.
 * 2. The pruned prefix (`audit_pruned`: seq and hash of each record retention deleted): numbered
 *    1..k without a gap, not past the largest checkpoint, and at each checkpoint size within it
 *    the Merkle root over the pruned hashes equals the checkpoint's root. Its content is gone,
 *    so its links cannot be checked; the checkpoints that cover it vouch for it instead.
 * 3. Records, streamed in seq order from k + 1: the numbering has no gap, each record's hash
 *    is its canonical form's, each links to the one before (the first to the last pruned
 *    hash), and at each checkpoint size the Merkle root over the hashes so far (pruned ones
 *    first) equals the checkpoint's root.
 * 4. The log is at least as long as the largest checkpoint.
 *
 * The first problem stops the walk and is named: what is wrong (`modified`, `deleted`,
 * `inserted`, `reordered`, `truncated`, `recomputed`, or `checkpoint`) and the first record
 * it concerns. A chain recomputed from some record on has valid hashes and links, so only a
 * checkpoint over it shows it; then the first bad record lies between the last agreeing
 * checkpoint and the first disagreeing one, which is what is named.
 */
import { X509Certificate } from 'node:crypto';
import type { AuditStore, RawAuditRecord } from './audit-store';
import { GENESIS_HASH, recordHash, type RecordBody } from './canonical';
import { checkpointDigest, parseCheckpoint, verifyCheckpointSignature, type CheckpointDocument } from './checkpoints';
import { MerkleFrontier } from './merkle';
import { chainsTo, TimestampError, verifyTimestampToken } from './tsp';

/** What is wrong. */
export type AuditProblemKind = 'modified' | 'deleted' | 'inserted' | 'reordered' | 'truncated' | 'recomputed' | 'checkpoint';

/** The first problem found. */
export interface AuditProblem {
  readonly kind: AuditProblemKind;
  /** The first bad record (for `checkpoint`, absent). */
  readonly seq?: number;
  /** For a range (`recomputed`, `deleted` of several, `truncated`): the last record it may concern. */
  readonly toSeq?: number;
  /** The checkpoint (its size) involved, if any. */
  readonly checkpoint?: number;
  /** One sentence for the operator. */
  readonly detail: string;
}

/** The outcome of {@link verifyAuditLog}. */
export interface AuditVerifyReport {
  readonly ok: boolean;
  /** Records verified, the pruned ones included. */
  readonly records: number;
  /** Of those, records deleted by retention whose hashes stand in for them (`audit_pruned`). */
  readonly pruned: number;
  /** Checkpoints checked (journal and exported, by size). */
  readonly checkpoints: number;
  /** Exported checkpoint files compared. */
  readonly exported: number;
  /** Timestamp tokens verified. */
  readonly timestamps: number;
  readonly problem?: AuditProblem;
  /** Things that are not proof of tampering but an auditor should know (a checkpoint never exported, no timestamp). */
  readonly warnings: readonly string[];
}

/** Options of {@link verifyAuditLog}. */
export interface AuditVerifyOptions {
  /** Checkpoints exported out of the database (`audit.checkpointDir`, a copy an auditor kept). */
  readonly exported?: readonly { readonly file: string; readonly doc: CheckpointDocument }[];
  /** CAs the checkpoint signer's certificate must chain to; unset: the certificate in each checkpoint is taken as it is. */
  readonly trust?: readonly X509Certificate[];
  /** CAs the TSA's certificate must chain to; unset: checked against the token's own certificate. */
  readonly tsaTrust?: readonly X509Certificate[];
  /** Records read per query. @default 10000 */
  readonly batch?: number;
}

/** Records on each side of a bad one read to tell what happened to it. */
const WINDOW = 64;

interface Reference { size: number; digest: string; doc: CheckpointDocument; source: 'journal' | 'exported'; journalDigest?: string }

/** Verifies the audit log of `store` (see the module comment). */
export async function verifyAuditLog(store: AuditStore, opts: AuditVerifyOptions = {}): Promise<AuditVerifyReport> {
  const warnings: string[] = [];
  let timestamps = 0;
  /** Sizes of the checkpoints without a timestamp token. */
  const unstamped: number[] = [];
  const counts = { records: 0, pruned: 0, checkpoints: 0, exported: opts.exported?.length ?? 0 };
  const fail = (problem: AuditProblem): AuditVerifyReport => ({ ok: false, ...counts, timestamps, problem, warnings });

  // 1. Checkpoints.
  const refs = new Map<number, Reference>();
  const tokens = await store.timestamps();
  for (const cp of await store.checkpoints()) {
    let doc: CheckpointDocument;
    try {
      doc = parseCheckpoint(cp.document);
    } catch {
      return fail({ kind: 'checkpoint', checkpoint: cp.size, detail: `the journal's checkpoint ${cp.size} is not a checkpoint document` });
    }
    const token = tokens.get(cp.size);
    refs.set(cp.size, { size: cp.size, digest: checkpointDigest(doc.checkpoint), doc: token ? { ...doc, timestamp: token.toString('base64') } : doc, source: 'journal', journalDigest: cp.digest });
  }
  for (const { file, doc } of opts.exported ?? []) {
    const size = doc.checkpoint.size;
    const j = refs.get(size);
    refs.set(size, { size, digest: checkpointDigest(doc.checkpoint), doc, source: 'exported', journalDigest: j?.digest });
    if (!j) warnings.push(`checkpoint ${size} (${file}) is not in the journal`);
  }
  const ordered = [...refs.values()].sort((a, b) => a.size - b.size);
  counts.checkpoints = ordered.length;
  let previous: Reference | undefined;
  let broken: AuditProblem | undefined;
  for (const r of ordered) {
    const b = r.doc.checkpoint;
    if (b.size !== r.size) return fail({ kind: 'checkpoint', checkpoint: r.size, detail: `checkpoint stored as size ${r.size} says size ${b.size}` });
    try {
      const cert = verifyCheckpointSignature(r.doc);
      if (opts.trust?.length) chainsTo(cert, r.doc.signature.certificates.slice(1).map((p) => new X509Certificate(p)), opts.trust, new Date(b.time));
    } catch (err) {
      return fail({ kind: 'checkpoint', checkpoint: r.size, detail: `checkpoint ${r.size} (${r.source}): ${(err as Error).message}` });
    }
    if (r.doc.timestamp) {
      try {
        const info = verifyTimestampToken(Buffer.from(r.doc.timestamp, 'base64'), Buffer.from(r.digest, 'hex'), opts.tsaTrust);
        if (Math.abs(info.genTime.getTime() - Date.parse(b.time)) > 24 * 3600_000) warnings.push(`checkpoint ${r.size} was time-stamped ${info.genTime.toISOString()}, a day or more from its own time`);
        timestamps++;
      } catch (err) {
        const why = err instanceof TimestampError ? err.reason : (err as Error).message;
        return fail({ kind: 'checkpoint', checkpoint: r.size, detail: `checkpoint ${r.size} (${r.source}): timestamp token: ${why}` });
      }
    } else {
      unstamped.push(r.size);
    }
    const expected = previous ? previous.digest : null;
    if (b.previous !== expected && !broken) {
      // Judged after the records: a replaced sequence of checkpoints is better named by the records it misrepresents.
      const detail = previous
        ? `checkpoint ${r.size} does not follow checkpoint ${previous.size} (a checkpoint between them is missing or was replaced)`
        : `checkpoint ${r.size} names a previous checkpoint that is neither in the journal nor exported`;
      broken = { kind: 'checkpoint', checkpoint: r.size, detail };
    }
    previous = r;
  }

  const batch = opts.batch ?? 10000;
  const frontier = new MerkleFrontier();
  const largest = ordered.at(-1);
  let lastAgreeing = 0;
  let refIndex = 0;
  /** The first checkpoint of size `e` whose root differs from the tree so far, if any. */
  const disagreeing = (e: number): Reference | undefined => {
    while (refIndex < ordered.length && ordered[refIndex].size === e) {
      const ref = ordered[refIndex++];
      if (frontier.root().toString('hex') !== ref.doc.checkpoint.root) return ref;
      lastAgreeing = e;
    }
    return undefined;
  };

  // 2. The pruned prefix.
  let prevHash = GENESIS_HASH;
  for (;;) {
    const pruned = await store.readPruned(counts.pruned, batch);
    if (!pruned.length) break;
    for (const p of pruned) {
      const e = counts.pruned + 1;
      if (p.seq !== e) {
        return fail({
          kind: 'deleted', seq: e, toSeq: p.seq - 1,
          detail: `audit_pruned has no hash for record(s) ${e}..${p.seq - 1}: they were deleted from the pruned prefix`,
        });
      }
      if (!/^[0-9a-f]{64}$/.test(p.hash)) return fail({ kind: 'modified', seq: e, detail: `the pruned hash of record ${e} (audit_pruned) is not a SHA-256 hash` });
      frontier.push(Buffer.from(p.hash, 'hex'));
      counts.pruned = counts.records = e;
      prevHash = p.hash;
      const ref = disagreeing(e);
      if (ref) {
        return fail({
          kind: 'modified', seq: lastAgreeing + 1, toSeq: e, checkpoint: e,
          detail: `the pruned hashes of records ${lastAgreeing + 1}..${e} (audit_pruned) do not give the Merkle root of the ${ref.source} checkpoint ${e}: audit_pruned was altered in that range`,
        });
      }
    }
  }
  if (counts.pruned > (largest?.size ?? 0)) {
    const from = (largest?.size ?? 0) + 1;
    return fail({
      kind: 'deleted', seq: from, toSeq: counts.pruned,
      detail: `records ${from}..${counts.pruned} were pruned past the largest checkpoint (${largest?.size ?? 0}): nothing vouches for their hashes`,
    });
  }
  if (counts.pruned) {
    const first = (await store.readRows(0, 1))[0];
    if (first && first.seq <= counts.pruned) {
      return fail({ kind: 'inserted', seq: first.seq, detail: `record ${first.seq} is still present but audit_pruned lists it as deleted: audit_pruned was written outside retention` });
    }
  }

  // 3. Records.
  let prev: RawAuditRecord | undefined;
  for (;;) {
    const rows = await store.readRows(prev?.seq ?? counts.pruned, batch);
    if (!rows.length) break;
    for (const r of rows) {
      const e = counts.records + 1;
      if (r.seq !== e || r.prevHash !== prevHash || hashOf(r, r.seq) !== r.hash) {
        if (!prev && counts.pruned && r.seq === e && hashOf(r, r.seq) === r.hash) {
          return fail({
            kind: 'modified', seq: counts.pruned,
            detail: `the pruned hash of record ${counts.pruned} (audit_pruned) is not the one record ${e} links to: audit_pruned was altered`,
          });
        }
        const ctx = await store.readRows(Math.max(counts.pruned, e - 1 - WINDOW), 2 * WINDOW + 1);
        return fail(classify(e, r, prev, prevHash, ctx));
      }
      frontier.push(Buffer.from(r.hash, 'hex'));
      counts.records = e;
      prev = r;
      prevHash = r.hash;
      const ref = disagreeing(e);
      if (ref) {
        const pruned = lastAgreeing < counts.pruned ? ` (records up to ${counts.pruned} were pruned: audit_pruned may have been altered instead)` : '';
        return fail({
          kind: 'recomputed', seq: lastAgreeing + 1, toSeq: e, checkpoint: e,
          detail: `records ${lastAgreeing + 1}..${e} form a valid chain, but its Merkle root differs from the ${ref.source} checkpoint ${e} signed ${ref.doc.checkpoint.time}: the chain was recomputed from a record in that range${pruned}`,
        });
      }
    }
  }

  // 4. Length.
  if (largest && counts.records < largest.size) {
    return fail({
      kind: 'truncated', seq: counts.records + 1, toSeq: largest.size, checkpoint: largest.size,
      detail: `the log ends at record ${counts.records}, but checkpoint ${largest.size} (${largest.source}) covers ${largest.size} records: records ${counts.records + 1}..${largest.size} were deleted`,
    });
  }
  if (broken) return fail(broken);
  for (const r of ordered) {
    if (r.source === 'exported' && r.journalDigest !== undefined && r.journalDigest !== r.digest) {
      return fail({ kind: 'checkpoint', checkpoint: r.size, detail: `the journal's checkpoint ${r.size} differs from the exported one (replaced in the database)` });
    }
  }
  if (unstamped.length) {
    warnings.push(`${unstamped.length} checkpoint(s) have no RFC 3161 timestamp (audit.tsaUrl unset when they were made, or the TSA did not answer), the first of ${unstamped[0]} records`);
  }
  if (largest && largest.size < counts.records) warnings.push(`records ${largest.size + 1}..${counts.records} are not covered by a checkpoint yet`);
  if (!largest && counts.records) warnings.push('no checkpoint: nothing outside the database vouches for these records');
  if (opts.exported && ordered.some((r) => r.source === 'journal')) {
    warnings.push(`${ordered.filter((r) => r.source === 'journal').length} checkpoint(s) of the journal have no exported copy`);
  }
  return { ok: true, ...counts, timestamps, warnings };
}

/** The hash a row would have at position `seq`. */
function hashOf(r: RawAuditRecord, seq: number): string {
  return recordHash(r.prevHash, { ...(r as unknown as RecordBody), seq });
}

/**
 * What happened at position `e`, where row `r` fails a check: told apart by where its hash
 * says it was written (its seq inside the hash) and what it and its neighbours link to.
 */
function classify(e: number, r: RawAuditRecord, prev: RawAuditRecord | undefined, prevHash: string, ctx: readonly RawAuditRecord[]): AuditProblem {
  if (r.seq > e) {
    return {
      kind: 'deleted', seq: e, toSeq: r.seq - 1,
      detail: r.seq - 1 === e ? `record ${e} is missing` : `records ${e}..${r.seq - 1} are missing`,
    };
  }
  const later = ctx.filter((x) => x.seq > r.seq);
  const next = later[0];
  const hashFits = hashOf(r, r.seq) === r.hash;
  if (hashFits) {
    // Its own hash is right: what is wrong is the link to the record before it.
    if (later.some((x) => x.hash === r.prevHash)) {
      return { kind: 'reordered', seq: e, detail: `record ${e} links to a record that now comes after it: records were reordered` };
    }
    if (prev && r.prevHash === prev.prevHash) {
      return { kind: 'inserted', seq: e - 1, detail: `record ${e - 1} was inserted: record ${e} links past it to record ${e - 2}` };
    }
    return {
      kind: 'modified', seq: e - 1,
      detail: `record ${e - 1} was modified and its hash recomputed: record ${e} still links to its original hash`,
    };
  }
  let written: number | undefined;
  for (let d = 1; d <= WINDOW && written === undefined; d++) {
    if (hashOf(r, e + d) === r.hash) written = e + d;
    else if (e - d >= 1 && hashOf(r, e - d) === r.hash) written = e - d;
  }
  if (written !== undefined) {
    if (later.some((x) => x.hash === r.prevHash)) {
      return { kind: 'reordered', seq: e, detail: `record ${e} was written as record ${written} and links to a record that now comes after it: records were reordered` };
    }
    if (written > e) {
      const n = written - e;
      return { kind: 'deleted', seq: e, toSeq: e + n - 1, detail: `${n} record(s) before this one were deleted and the rest renumbered: the record now numbered ${e} was written as ${written}` };
    }
    return { kind: 'inserted', seq: written, toSeq: e - 1, detail: `record(s) ${written}..${e - 1} were inserted and the rest renumbered: the record now numbered ${e} was written as ${written}` };
  }
  if (next && next.prevHash === prevHash) {
    return { kind: 'inserted', seq: e, detail: `record ${e} was inserted: record ${e + 1} links past it` };
  }
  if (r.prevHash !== prevHash && !(next && next.prevHash === r.hash)) {
    return { kind: 'modified', seq: e, detail: `record ${e} was modified: neither its hash nor its link is the one the chain has` };
  }
  return { kind: 'modified', seq: e, detail: `record ${e} was modified: its content does not give its hash` };
}
