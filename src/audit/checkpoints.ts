/**
 * Signed checkpoints of the audit log (after Certificate Transparency's C2SP tlog-checkpoint
 * and X-Road's time-stamped batches): every `audit.checkpointEvery` records or
 * `audit.checkpointIntervalMs` (whichever comes first) and at every graceful stop, the
 * RFC 6962 Merkle root over all records so far is signed with the gateway's signing key,
 * linked to the previous checkpoint by digest, time-stamped by an RFC 3161 TSA when
 * `audit.tsaUrl` is set, stored in the journal, written to `audit.checkpointDir` and, when
 * `audit.checkpointUrl` is set, POSTed there. Copies outside the database are what make
 * truncation and a recomputed chain visible (`davis audit verify --checkpoints DIR`).
 *
 * A checkpoint file is JSON:
 * ```
 * { "checkpoint": { "format": "davis-audit-checkpoint/1", "size": 20000, "root": "<hex>",
 *                   "previous": "<hex digest of the previous checkpoint> | null", "time": "<ISO 8601>" },
 *   "signature": { "algorithm": "rsa-sha256", "value": "<base64>", "certificates": ["<PEM>", …] },
 *   "timestamp": "<base64 DER of the RFC 3161 TimeStampToken>" }
 * ```
 * The signed bytes are the canonical JSON (`canonical.ts`) of `checkpoint`, UTF-8; the
 * checkpoint's digest is their SHA-256, and the timestamp token's imprint is that digest,
 * so `openssl ts -verify -digest <digest> -token_in -in <token>` checks it.
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createHash, sign as cryptoSign, verify as cryptoVerify, X509Certificate } from 'node:crypto';
import path from 'node:path';
import type { Logger } from 'pino';
import type { SigningKey } from '../signing/types';
import type { AuditStore, StoredCheckpoint } from './audit-store';
import { canonicalJson } from './canonical';
import { MerkleFrontier } from './merkle';
import { requestTimestamp } from './tsp';

/** The `format` of checkpoints this version writes. */
export const CHECKPOINT_FORMAT = 'davis-audit-checkpoint/1';

/** What a checkpoint commits to. */
export interface CheckpointBody {
  readonly format: string;
  /** Records covered: the first `size` records by seq. */
  readonly size: number;
  /** RFC 6962 Merkle root (hex) over their hashes. */
  readonly root: string;
  /** Digest of the previous checkpoint, null for the first. */
  readonly previous: string | null;
  /** When it was made, ISO 8601 UTC. */
  readonly time: string;
}

/** A signed checkpoint, as exported. */
export interface CheckpointDocument {
  readonly checkpoint: CheckpointBody;
  readonly signature: {
    readonly algorithm: string;
    /** Base64 signature over the canonical body. */
    readonly value: string;
    /** The signer's certificate first, then its intermediates, PEM: enough to verify offline. */
    readonly certificates: readonly string[];
  };
  /** Base64 DER of the RFC 3161 TimeStampToken over the checkpoint's digest, when a TSA is configured. */
  readonly timestamp?: string;
}

/** The bytes a checkpoint's signature and digest cover. */
export function checkpointBytes(body: CheckpointBody): Buffer {
  return Buffer.from(canonicalJson(body as unknown as Parameters<typeof canonicalJson>[0]), 'utf8');
}

/** The digest (SHA-256, hex) of a checkpoint: what the next one names as `previous`. */
export function checkpointDigest(body: CheckpointBody): string {
  return createHash('sha256').update(checkpointBytes(body)).digest('hex');
}

const HASH_OF: Readonly<Record<string, string>> = {
  'rsa-sha256': 'sha256', 'rsa-sha384': 'sha384', 'rsa-sha512': 'sha512', 'ecdsa-sha256': 'sha256', 'ecdsa-sha384': 'sha384',
};

/** Signs a checkpoint body with the gateway's key (Node crypto: PKCS#1 v1.5 or ECDSA, DER). */
export function signCheckpoint(body: CheckpointBody, key: SigningKey): CheckpointDocument {
  const value = cryptoSign(HASH_OF[key.algorithm], checkpointBytes(body), key.privateKey).toString('base64');
  return { checkpoint: body, signature: { algorithm: key.algorithm, value, certificates: [key.certificate, ...key.chain].map((c) => c.toString()) } };
}

/**
 * Checks a checkpoint's signature against the certificate it carries; returns that
 * certificate. Whether the certificate is trusted is the caller's question.
 *
 * @throws Error naming what is wrong
 */
export function verifyCheckpointSignature(doc: CheckpointDocument): X509Certificate {
  const hash = HASH_OF[doc.signature?.algorithm];
  if (!hash) throw new Error(`signature algorithm ${JSON.stringify(doc.signature?.algorithm)} not accepted`);
  const pem = doc.signature.certificates?.[0];
  if (!pem) throw new Error('no signing certificate');
  const cert = new X509Certificate(pem);
  const when = Date.parse(doc.checkpoint.time);
  if (!(when >= Date.parse(cert.validFrom) && when <= Date.parse(cert.validTo))) throw new Error('signed outside the certificate\'s validity');
  if (!cryptoVerify(hash, checkpointBytes(doc.checkpoint), cert.publicKey, Buffer.from(doc.signature.value, 'base64'))) throw new Error('signature does not verify');
  return cert;
}

/** Reads a checkpoint document from JSON text. @throws Error when it is not one */
export function parseCheckpoint(text: string): CheckpointDocument {
  const doc = JSON.parse(text) as CheckpointDocument;
  const b = doc?.checkpoint;
  if (!b || typeof b !== 'object' || !Number.isSafeInteger(b.size) || typeof b.root !== 'string' || typeof b.time !== 'string'
    || !(b.previous === null || typeof b.previous === 'string') || typeof doc.signature?.value !== 'string') {
    throw new Error('not an audit checkpoint');
  }
  return doc;
}

/** File name of the checkpoint of `size` in `audit.checkpointDir` (sorts by size). */
export function checkpointFileName(size: number): string {
  return `checkpoint-${String(size).padStart(12, '0')}.json`;
}

/** Writes a checkpoint file atomically (temporary file, then rename). */
export function writeCheckpointFile(dir: string, doc: CheckpointDocument): string {
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, checkpointFileName(doc.checkpoint.size));
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(doc, null, 2) + '\n');
  renameSync(tmp, file);
  return file;
}

/** An exported checkpoint file that cannot be read as one. */
export class CheckpointFileError extends Error {
  constructor(readonly file: string, reason: string) {
    super(`${file}: ${reason}`);
    this.name = 'CheckpointFileError';
  }
}

/**
 * Every checkpoint file in a folder (`checkpoint-*.json`), by size.
 *
 * @throws CheckpointFileError when one is not a checkpoint
 */
export function readCheckpointFiles(dir: string): { file: string; doc: CheckpointDocument }[] {
  return readdirSync(dir).filter((n) => /^checkpoint-\d+\.json$/.test(n)).sort()
    .map((n) => {
      const file = path.join(dir, n);
      try {
        return { file, doc: parseCheckpoint(readFileSync(file, 'utf8')) };
      } catch (err) {
        throw new CheckpointFileError(file, (err as Error).message);
      }
    })
    .sort((a, b) => a.doc.checkpoint.size - b.doc.checkpoint.size);
}

/** Options of {@link Checkpointer}. */
export interface CheckpointerOptions {
  readonly store: AuditStore;
  /** The gateway's signing key, fetched at each checkpoint (so a reloaded key is used). */
  readonly signingKey: () => SigningKey;
  /** A checkpoint once this many records are not covered. @default 10000 */
  readonly every?: number;
  /** A checkpoint at least this often while records are not covered, ms. @default 60000 */
  readonly intervalMs?: number;
  /** Folder the checkpoint files are written to. */
  readonly dir?: string;
  /** RFC 3161 TSA; unset: no timestamps. */
  readonly tsaUrl?: string;
  /** Where each checkpoint document is POSTed (JSON); unset: nowhere. */
  readonly postUrl?: string;
  readonly logger: Logger;
  /** @default () => new Date() */
  readonly now?: () => Date;
}

/**
 * Makes the checkpoints of one gateway. With several gateways on one PostgreSQL journal,
 * each runs one; the store's checkpoint lock lets one at a time extend the sequence, and a
 * gateway that finds the records already covered does nothing.
 */
export class Checkpointer {
  private timer?: NodeJS.Timeout;
  private running?: Promise<StoredCheckpoint | undefined>;
  private covered = 0;
  private stopped = false;
  private readonly every: number;
  private lastAt?: number;

  constructor(private readonly opts: CheckpointerOptions) {
    this.every = opts.every ?? 10000;
    opts.store.onAppend((head) => {
      if (!this.stopped && head - this.covered >= this.every) void this.batch().catch(() => undefined);
    });
  }

  /**
   * When the newest checkpoint this gateway has seen (made by it or by another instance on
   * the same log) was made, ms since the epoch; undefined until the first pass.
   */
  get lastCheckpointMs(): number | undefined {
    return this.lastAt;
  }

  /** Starts the interval timer. */
  start(): void {
    this.stopped = false;
    this.timer = setInterval(() => void this.checkpoint().catch(() => undefined), this.opts.intervalMs ?? 60000);
    this.timer.unref();
  }

  /**
   * Covers every record not covered yet, in checkpoints of at most `every` records; resolves
   * with the newest one made (undefined when there was nothing to cover). Runs after any pass
   * already under way.
   */
  async checkpoint(): Promise<StoredCheckpoint | undefined> {
    let last: StoredCheckpoint | undefined;
    for (;;) {
      const cp = await this.serial(false);
      if (!cp) return last;
      last = cp;
    }
  }

  /** One checkpoint of exactly `every` records, when that many are not covered yet. */
  private batch(): Promise<StoredCheckpoint | undefined> {
    return this.serial(true);
  }

  /** One {@link make} at a time. */
  private async serial(fullBatchOnly: boolean): Promise<StoredCheckpoint | undefined> {
    while (this.running) await this.running.catch(() => undefined);
    const run = this.make(fullBatchOnly);
    this.running = run;
    try {
      return await run;
    } catch (err) {
      this.opts.logger.error({ err }, 'audit checkpoint failed');
      throw err;
    } finally {
      this.running = undefined;
    }
  }

  /** Stops the timer and makes the final checkpoint (a graceful stop leaves no record uncovered). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.checkpoint().catch(() => undefined);
  }

  /**
   * Covers at most `every` new records (X-Road's batch cap), so a checkpoint's size does not
   * depend on how many records arrived while it was being made. With `fullBatchOnly`, does
   * nothing unless a whole batch is waiting.
   */
  private async make(fullBatchOnly: boolean): Promise<StoredCheckpoint | undefined> {
    const { store } = this.opts;
    const made = await store.withCheckpointLock(async (tx) => {
      const latest = await tx.latest();
      if (latest) this.lastAt = Date.parse((JSON.parse(latest.document) as CheckpointDocument).checkpoint.time);
      const from = latest?.size ?? 0;
      const logHead = await tx.head();
      if (logHead <= from || (fullBatchOnly && logHead - from < this.every)) {
        this.covered = from;
        return undefined;
      }
      const head = Math.min(logHead, from + this.every);
      let frontier = latest ? restoreFrontier(latest) : new MerkleFrontier();
      if (!frontier) {
        frontier = new MerkleFrontier();
        for (const h of await tx.hashes(0, from)) frontier.push(h);
      }
      for (const h of await tx.hashes(from, head)) frontier.push(h);
      if (frontier.size !== head) throw new Error(`audit: ${frontier.size} records found for a log of ${head} (a gap in seq)`);
      const body: CheckpointBody = {
        format: CHECKPOINT_FORMAT, size: head, root: frontier.root().toString('hex'), previous: latest?.digest ?? null,
        time: (this.opts.now?.() ?? new Date()).toISOString(),
      };
      const doc = signCheckpoint(body, this.opts.signingKey());
      const cp: StoredCheckpoint = { size: head, digest: checkpointDigest(body), document: JSON.stringify(doc), frontier: frontier.toJSON() };
      if (!(await tx.save(cp))) return undefined;
      this.covered = head;
      this.lastAt = Date.parse(body.time);
      return { cp, doc };
    });
    if (!made) return undefined;
    let doc = made.doc;
    if (this.opts.tsaUrl) {
      try {
        const token = await requestTimestamp(this.opts.tsaUrl, Buffer.from(made.cp.digest, 'hex'));
        await store.addTimestamp(made.cp.size, token);
        doc = { ...doc, timestamp: token.toString('base64') };
      } catch (err) {
        this.opts.logger.warn({ err, size: made.cp.size }, 'audit checkpoint not time-stamped');
      }
    }
    if (this.opts.dir) writeCheckpointFile(this.opts.dir, doc);
    if (this.opts.postUrl) await this.post(doc);
    this.opts.logger.info({ size: made.cp.size, digest: made.cp.digest, timestamped: doc.timestamp !== undefined }, 'audit checkpoint');
    return made.cp;
  }

  private async post(doc: CheckpointDocument): Promise<void> {
    try {
      const res = await fetch(this.opts.postUrl!, {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(doc), signal: AbortSignal.timeout(10000),
      });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
    } catch (err) {
      this.opts.logger.warn({ err, size: doc.checkpoint.size }, 'audit checkpoint not delivered to audit.checkpointUrl');
    }
  }
}

/** The frontier a stored checkpoint carries, if it gives back the checkpoint's root. */
function restoreFrontier(cp: StoredCheckpoint): MerkleFrontier | undefined {
  try {
    const f = MerkleFrontier.restore(cp.size, cp.frontier);
    return f.root().toString('hex') === parseCheckpoint(cp.document).checkpoint.root ? f : undefined;
  } catch {
    return undefined;
  }
}
