/**
 * The signing key's and the trust store's lifecycle: loaded once at start (a bad key refuses
 * the start), then reloaded without a restart — on demand (`reload()`, what SIGHUP calls)
 * and when the files change on disk — without losing a message in flight.
 *
 * Why this is safe for in-flight work: a holder never mutates a loaded key or trust store;
 * a reload builds a new frozen object and swaps one reference. Callers fetch `current()` once
 * per message and keep that object for the whole message, so a message that started with the
 * old key finishes with it, and the next message gets the new one. A reload that fails
 * (unreadable, mismatched, expired, half-written files) keeps the old object.
 *
 * Why the folders are watched rather than the files: editors, `openssl`/cert tools and
 * secret managers replace a file by writing a temporary name and renaming it over the old
 * one; a watch on the old file's inode would see nothing after the first swap. Watching the
 * folder and filtering names sees every swap. Kubernetes secret volumes swap a `..data`
 * symlink instead, so events on `..data*` names count too.
 */
import { EventEmitter } from 'node:events';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { X509Certificate } from 'node:crypto';
import type { Logger } from 'pino';
import { DavisError, isDavisError, type ErrorCode } from '../errors/errors';
import { certificateInfo, loadSigningKey, loadTrustStore, secondsUntilExpiry, type SigningKeyOptions } from './pki';
import type { SigningKey, TrustStore } from './types';

/** Seconds in a day. */
const DAY = 86_400;

/** Default expiry-warning thresholds, in days left. */
export const DEFAULT_EXPIRY_WARNING_DAYS: readonly number[] = Object.freeze([30, 14, 7]);

/** Options shared by the file-backed holders. */
export interface ReloadOptions {
  /** Where reloads, failures and expiry warnings are logged. */
  readonly logger: Logger;
  /** Reload when the files change on disk (folder watch). @default true */
  readonly watch?: boolean;
  /**
   * Quiet time after the last file event before reloading, so that a pair of files replaced
   * one after the other is read once, after both are in place. @default 500
   */
  readonly debounceMs?: number;
}

/** Identifying facts about a certificate that are safe to log (no subject names). */
export interface CertificateSummary {
  /** Serial number, hex, as Node prints it. */
  readonly serial: string;
  /** SHA-256 fingerprint, colon-separated hex. */
  readonly fingerprint: string;
  /** End of validity, ISO 8601. */
  readonly notAfter: string;
}

/** Payload of the `reloaded` event of `SigningKeyStore`. */
export interface KeyReloadedEvent {
  readonly previous: CertificateSummary;
  readonly current: CertificateSummary;
  /** False when the files held the same certificate and key as before. */
  readonly changed: boolean;
}

/** Payload of the `expiry` event of `SigningKeyStore`. */
export interface ExpiryEvent {
  /** The threshold crossed, in days; 0 once the certificate has expired. */
  readonly thresholdDays: number;
  /** Seconds until notAfter (≤ 0 when expired). */
  readonly secondsLeft: number;
  readonly certificate: CertificateSummary;
}

/** Payload of the `reloaded` event of `TrustStoreHolder`. */
export interface TrustReloadedEvent {
  /** Number of anchors now trusted. */
  readonly anchors: number;
  /** SHA-256 fingerprints of anchors that were not trusted before. */
  readonly added: readonly string[];
  /** SHA-256 fingerprints of anchors that are no longer trusted. */
  readonly removed: readonly string[];
}

/** Events of `SigningKeyStore`. */
export interface SigningKeyStoreEvents {
  reloaded: [KeyReloadedEvent];
  'reload-failed': [DavisError];
  expiry: [ExpiryEvent];
}

/** Events of `TrustStoreHolder`. */
export interface TrustStoreHolderEvents {
  reloaded: [TrustReloadedEvent];
  'reload-failed': [DavisError];
}

/** Summarises a certificate for logs and events. */
export function summarizeCertificate(cert: X509Certificate): CertificateSummary {
  return {
    serial: cert.serialNumber,
    fingerprint: cert.fingerprint256,
    notAfter: new Date(certificateInfo(cert).notAfter).toISOString(),
  };
}

function asDavisError(e: unknown, code: ErrorCode, detail: string): DavisError {
  return isDavisError(e) ? e : new DavisError(code, detail, { cause: e });
}

/**
 * Watches the folders of some files and calls `onChange` after `debounceMs` of quiet
 * following the last relevant event. `match(dir, name)` says whether a name in a folder is
 * relevant (a null name — some platforms omit it — always is).
 */
class FolderWatch {
  private readonly watchers: fs.FSWatcher[] = [];
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    dirs: Iterable<string>,
    private readonly match: (dir: string, name: string) => boolean,
    private readonly debounceMs: number,
    private readonly onChange: () => void,
    logger: Logger,
  ) {
    for (const dir of dirs) {
      let w: fs.FSWatcher;
      try {
        w = fs.watch(dir, { persistent: false }, (_event, name) => this.event(dir, name === null ? null : String(name)));
      } catch (e) {
        // Reloading on SIGHUP still works; say why file changes will not be seen.
        logger.warn({ event: 'pki-watch-failed', dir, reason: (e as NodeJS.ErrnoException).code ?? (e as Error).message },
          'cannot watch folder for certificate changes');
        continue;
      }
      w.on('error', (e: NodeJS.ErrnoException) => {
        // E.g. the folder itself was removed; an unhandled 'error' would crash the process.
        logger.warn({ event: 'pki-watch-failed', dir, reason: e.code ?? e.message }, 'folder watch stopped');
        w.close();
      });
      this.watchers.push(w);
    }
  }

  private event(dir: string, name: string | null): void {
    if (this.closed) return;
    if (name !== null && !name.startsWith('..data') && !this.match(dir, name)) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (!this.closed) this.onChange();
    }, this.debounceMs);
    this.timer.unref();
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    for (const w of this.watchers.splice(0)) w.close();
  }
}

/** Folder → names to watch in it, for a list of files. */
function foldersOf(files: readonly string[]): Map<string, Set<string>> {
  const byDir = new Map<string, Set<string>>();
  for (const f of files) {
    const abs = path.resolve(f);
    const dir = path.dirname(abs);
    let names = byDir.get(dir);
    if (!names) byDir.set(dir, (names = new Set()));
    names.add(path.basename(abs));
  }
  return byDir;
}

// ---------------------------------------------------------------------------------------
// Signing key
// ---------------------------------------------------------------------------------------

/** Options of `SigningKeyStore`: where the key comes from (as `loadSigningKey`) and how it is kept. */
export interface SigningKeyStoreOptions extends Omit<SigningKeyOptions, 'now'>, ReloadOptions {
  /** The clock, for validity checks and expiry warnings; injectable for tests. @default () => new Date() */
  readonly now?: () => Date;
  /** How often the expiry check runs after the one at start. @default 3_600_000 (one hour) */
  readonly checkIntervalMs?: number;
  /**
   * Days-left thresholds at which a warning is logged, once each per certificate.
   * @default [30, 14, 7]
   */
  readonly expiryWarningDays?: readonly number[];
}

/**
 * Holds the gateway's signing identity and keeps it current: reload on demand and on file
 * changes, expiry warnings, and a refused start when the key is unusable.
 *
 * Events: `reloaded` (KeyReloadedEvent), `reload-failed` (DavisError; the old key stays),
 * `expiry` (ExpiryEvent, when a warning threshold is crossed or the certificate expires).
 *
 * @example
 * const store = new SigningKeyStore({ keyFile, certFile, logger });
 * process.on('SIGHUP', () => store.reload());
 * signEnveloped(xml, store.current()); // fetch once per message
 * store.close();                       // at shutdown
 */
export class SigningKeyStore extends EventEmitter<SigningKeyStoreEvents> {
  private key: SigningKey;
  private readonly source: SigningKeyOptions;
  private readonly logger: Logger;
  private readonly now: () => Date;
  private readonly thresholds: readonly number[];
  private readonly watch: FolderWatch | undefined;
  private readonly checkTimer: NodeJS.Timeout;
  /** Thresholds already reported for the current certificate (0 = expired). */
  private warned = new Set<number>();
  private lastFailure: DavisError | null = null;

  /**
   * Loads the key synchronously, so that a start with a bad key is refused before anything
   * listens, then runs the first expiry check and starts watching.
   *
   * @throws DavisError DAVIS_ERR_PKI_KEY (unreadable, wrong password, unsupported key),
   *   DAVIS_ERR_PKI_MISMATCH (certificate of another key), DAVIS_ERR_PKI_EXPIRED
   */
  constructor(opts: SigningKeyStoreOptions) {
    super();
    const { logger, watch, debounceMs, now, checkIntervalMs, expiryWarningDays, ...source } = opts;
    this.source = source;
    this.logger = logger;
    this.now = now ?? (() => new Date());
    this.thresholds = [...(expiryWarningDays ?? DEFAULT_EXPIRY_WARNING_DAYS)].sort((a, b) => b - a);
    this.key = this.load();
    this.checkExpiry();
    this.checkTimer = setInterval(() => this.checkExpiry(), checkIntervalMs ?? 3_600_000);
    this.checkTimer.unref();
    if (watch ?? true) {
      const byDir = foldersOf(this.files());
      this.watch = new FolderWatch(byDir.keys(), (dir, name) => byDir.get(dir)?.has(name) ?? false,
        debounceMs ?? 500, () => this.reload(), logger);
    }
  }

  /** The files the key is read from. */
  files(): string[] {
    const s = this.source;
    const main = s.p12File ? [s.p12File] : [s.keyFile, s.certFile].filter((f): f is string => !!f);
    return [...main, ...(s.chainFiles ?? [])];
  }

  private load(): SigningKey {
    try {
      return loadSigningKey({ ...this.source, now: this.now() });
    } catch (e) {
      throw asDavisError(e, 'DAVIS_ERR_PKI_KEY', 'Cannot load the signing key');
    }
  }

  /** The key to sign with now. Fetch it once per message and keep it for that message. */
  current(): SigningKey {
    return this.key;
  }

  /** The error of the last reload, or null when it succeeded (or none failed yet); for readiness reports. */
  get lastReloadError(): DavisError | null {
    return this.lastFailure;
  }

  /**
   * Reads the files again. On success the new key replaces the old one in one step and
   * `reloaded` is emitted; on failure the old key stays, a warning with the error code is
   * logged and `reload-failed` is emitted. Never throws.
   *
   * @returns whether the new files were loaded
   */
  reload(): boolean {
    let next: SigningKey;
    try {
      next = this.load();
    } catch (e) {
      const err = e as DavisError;
      this.lastFailure = err;
      this.logger.warn({
        event: 'signing-key-reload-failed', code: err.code, detail: err.message,
        kept: summarizeCertificate(this.key.certificate),
      }, 'signing key reload failed; keeping the current key');
      this.emit('reload-failed', err);
      return false;
    }
    const previous = this.key;
    const changed = previous.certificate.fingerprint256 !== next.certificate.fingerprint256 ||
      !previous.privateKey.equals(next.privateKey) ||
      previous.chain.length !== next.chain.length ||
      previous.chain.some((c, k) => c.fingerprint256 !== next.chain[k].fingerprint256);
    this.key = next;
    this.lastFailure = null;
    if (previous.certificate.fingerprint256 !== next.certificate.fingerprint256) this.warned = new Set();
    const current = summarizeCertificate(next.certificate);
    this.logger.info({
      event: 'signing-key-reloaded', changed, ...current, secondsUntilExpiry: this.secondsUntilExpiry(),
    }, 'signing key reloaded');
    this.emit('reloaded', { previous: summarizeCertificate(previous.certificate), current, changed });
    this.checkExpiry();
    return true;
  }

  /** Seconds until the current certificate expires (negative once expired), by the store's clock. */
  secondsUntilExpiry(): number {
    return secondsUntilExpiry(this.key.certificate, this.now());
  }

  /**
   * Logs a `warn` when the current certificate has crossed a warning threshold not yet
   * reported for it (only the nearest threshold when several are crossed at once), and an
   * `error` once when it has expired. Runs at start, after each reload and on the interval;
   * public so tests (and an operator command) can run it at once.
   */
  checkExpiry(): void {
    const secondsLeft = this.secondsUntilExpiry();
    const certificate = summarizeCertificate(this.key.certificate);
    if (secondsLeft <= 0) {
      if (this.warned.has(0)) return;
      this.warned.add(0);
      this.logger.error({ event: 'signing-cert-expiry', thresholdDays: 0, secondsLeft, ...certificate },
        'signing certificate has expired');
      this.emit('expiry', { thresholdDays: 0, secondsLeft, certificate });
      return;
    }
    const crossed = this.thresholds.filter((d) => secondsLeft <= d * DAY && !this.warned.has(d));
    if (!crossed.length) return;
    for (const d of crossed) this.warned.add(d);
    const thresholdDays = Math.min(...crossed);
    this.logger.warn({ event: 'signing-cert-expiry', thresholdDays, secondsLeft, ...certificate },
      'signing certificate expires soon');
    this.emit('expiry', { thresholdDays, secondsLeft, certificate });
  }

  /** Stops the folder watch and the expiry timer. The current key stays usable. */
  close(): void {
    this.watch?.close();
    clearInterval(this.checkTimer);
  }
}

// ---------------------------------------------------------------------------------------
// Trust store
// ---------------------------------------------------------------------------------------

/** Options of `TrustStoreHolder`. */
export interface TrustStoreHolderOptions extends ReloadOptions {
  /** Folders (every `*.pem` / `*.crt` in it) and files of trust anchors, as `loadTrustStore` takes. */
  readonly paths: string | readonly string[];
}

const TRUST_FILE = /\.(pem|crt)$/i;

/**
 * Holds the trust anchors for verifying central's signatures and keeps them current: a CA
 * file added to (or removed from) the trust folder, or a trust file replaced, takes effect
 * without a restart. Same contract as `SigningKeyStore`: fetch `current()` once per
 * verification; a failed reload keeps the old anchors.
 *
 * Events: `reloaded` (TrustReloadedEvent), `reload-failed` (DavisError).
 *
 * @throws DavisError DAVIS_ERR_PKI_TRUST from the constructor when nothing can be loaded
 */
export class TrustStoreHolder extends EventEmitter<TrustStoreHolderEvents> {
  private trust: TrustStore;
  private readonly paths: readonly string[];
  private readonly logger: Logger;
  private readonly watch: FolderWatch | undefined;
  private lastFailure: DavisError | null = null;

  constructor(opts: TrustStoreHolderOptions) {
    super();
    this.paths = typeof opts.paths === 'string' ? [opts.paths] : [...opts.paths];
    this.logger = opts.logger;
    this.trust = this.load();
    if (opts.watch ?? true) {
      const folders = new Set<string>(); // watched whole: any PEM/CRT name counts
      const files: string[] = [];
      for (const p of this.paths) {
        let isDir = false;
        try {
          isDir = fs.statSync(p).isDirectory();
        } catch {
          // loaded above, so it exists; a race with a removal just means no watch on it
        }
        if (isDir) folders.add(path.resolve(p));
        else files.push(p);
      }
      const byDir = foldersOf(files);
      for (const d of folders) if (!byDir.has(d)) byDir.set(d, new Set());
      this.watch = new FolderWatch(byDir.keys(),
        (dir, name) => (folders.has(dir) && TRUST_FILE.test(name)) || (byDir.get(dir)?.has(name) ?? false),
        opts.debounceMs ?? 500, () => this.reload(), opts.logger);
    }
  }

  private load(): TrustStore {
    try {
      return loadTrustStore(this.paths);
    } catch (e) {
      throw asDavisError(e, 'DAVIS_ERR_PKI_TRUST', 'Cannot load the trust store');
    }
  }

  /** The anchors to verify with now. Fetch once per verification. */
  current(): TrustStore {
    return this.trust;
  }

  /** The error of the last reload, or null when it succeeded (or none failed yet). */
  get lastReloadError(): DavisError | null {
    return this.lastFailure;
  }

  /**
   * Reads the trust paths again; swaps on success (`reloaded`), keeps the old anchors and
   * warns on failure (`reload-failed`). Never throws.
   *
   * @returns whether the new anchors were loaded
   */
  reload(): boolean {
    let next: TrustStore;
    try {
      next = this.load();
    } catch (e) {
      const err = e as DavisError;
      this.lastFailure = err;
      this.logger.warn({ event: 'trust-store-reload-failed', code: err.code, detail: err.message, kept: this.trust.anchors.length },
        'trust store reload failed; keeping the current anchors');
      this.emit('reload-failed', err);
      return false;
    }
    const before = new Set(this.trust.anchors.map((c) => c.fingerprint256));
    const after = new Set(next.anchors.map((c) => c.fingerprint256));
    const added = [...after].filter((f) => !before.has(f));
    const removed = [...before].filter((f) => !after.has(f));
    this.trust = next;
    this.lastFailure = null;
    this.logger.info({ event: 'trust-store-reloaded', anchors: next.anchors.length, added, removed }, 'trust store reloaded');
    this.emit('reloaded', { anchors: next.anchors.length, added, removed });
    return true;
  }

  /** Stops the folder watch. The current anchors stay usable. */
  close(): void {
    this.watch?.close();
  }
}
