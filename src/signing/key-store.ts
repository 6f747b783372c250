/**
 * The signing key's and the trust store's lifecycle: loaded once at start (a bad key refuses
 * the start), then reloaded without a restart — on demand (`reload()`, what SIGHUP calls)
 * and when the files change on disk — without losing a message in flight. Both are a
 * {@link Reloadable} (see there why this is safe and why folders are watched) with the
 * events, logs and expiry checks of their own kind.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { X509Certificate } from 'node:crypto';
import type { Logger } from 'pino';
import type { DavisError } from '../errors/errors';
import { foldersOf, Reloadable, ReloadableHolder, type ReloadOptions } from './reloadable';
import { certificateInfo } from './certificates';
import { loadSigningKey, loadTrustStore, secondsUntilExpiry, type SigningKeyOptions } from './key-files';
import type { SigningKey, TrustStore } from './types';

/** Seconds in a day. */
const DAY = 86_400;

/** Default expiry-warning thresholds, in days left. */
export const DEFAULT_EXPIRY_WARNING_DAYS: readonly number[] = Object.freeze([30, 14, 7]);

export type { ReloadOptions } from './reloadable';

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
export class SigningKeyStore extends ReloadableHolder<SigningKey, SigningKeyStoreEvents> {
  protected readonly holder: Reloadable<SigningKey>;
  private readonly source: SigningKeyOptions;
  private readonly logger: Logger;
  private readonly now: () => Date;
  private readonly thresholds: readonly number[];
  private readonly checkTimer: NodeJS.Timeout;
  /** Thresholds already reported for the current certificate (0 = expired). */
  private warned = new Set<number>();

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
    const byDir = foldersOf(this.files());
    this.holder = new Reloadable<SigningKey>({
      logger, ...(watch !== undefined ? { watch } : {}), ...(debounceMs !== undefined ? { debounceMs } : {}),
      load: () => loadSigningKey({ ...this.source, now: this.now() }),
      failCode: 'DAVIS_ERR_PKI_KEY',
      files: { dirs: byDir.keys(), match: (dir, name) => byDir.get(dir)?.has(name) ?? false },
      onReloaded: (previous, next) => this.reloaded(previous, next),
      onFailed: (err, kept) => {
        this.logger.warn({
          event: 'signing-key-reload-failed', code: err.code, detail: err.message,
          kept: summarizeCertificate(kept.certificate),
        }, 'signing key reload failed; keeping the current key');
        this.emit('reload-failed', err);
      },
    });
    this.checkExpiry();
    this.checkTimer = setInterval(() => this.checkExpiry(), checkIntervalMs ?? 3_600_000);
    this.checkTimer.unref();
  }

  /** The files the key is read from. */
  files(): string[] {
    const s = this.source;
    const main = s.p12File ? [s.p12File] : [s.keyFile, s.certFile].filter((f): f is string => !!f);
    return [...main, ...(s.chainFiles ?? [])];
  }

  private reloaded(previous: SigningKey, next: SigningKey): void {
    const changed = previous.certificate.fingerprint256 !== next.certificate.fingerprint256 ||
      !previous.privateKey.equals(next.privateKey) ||
      previous.chain.length !== next.chain.length ||
      previous.chain.some((c, k) => c.fingerprint256 !== next.chain[k].fingerprint256);
    if (previous.certificate.fingerprint256 !== next.certificate.fingerprint256) this.warned = new Set();
    const current = summarizeCertificate(next.certificate);
    this.logger.info({
      event: 'signing-key-reloaded', changed, ...current, secondsUntilExpiry: this.secondsUntilExpiry(),
    }, 'signing key reloaded');
    this.emit('reloaded', { previous: summarizeCertificate(previous.certificate), current, changed });
    this.checkExpiry();
  }

  /** Seconds until the current certificate expires (negative once expired), by the store's clock. */
  secondsUntilExpiry(): number {
    return secondsUntilExpiry(this.current().certificate, this.now());
  }

  /**
   * Logs a `warn` when the current certificate has crossed a warning threshold not yet
   * reported for it (only the nearest threshold when several are crossed at once), and an
   * `error` once when it has expired. Runs at start, after each reload and on the interval;
   * public so tests (and an operator command) can run it at once.
   */
  checkExpiry(): void {
    const secondsLeft = this.secondsUntilExpiry();
    const certificate = summarizeCertificate(this.current().certificate);
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
  override close(): void {
    super.close();
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

const TRUST_FILE = /\.(pem|crt|crl)$/i;

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
export class TrustStoreHolder extends ReloadableHolder<TrustStore, TrustStoreHolderEvents> {
  protected readonly holder: Reloadable<TrustStore>;

  constructor(opts: TrustStoreHolderOptions) {
    super();
    const paths = typeof opts.paths === 'string' ? [opts.paths] : [...opts.paths];
    const folders = new Set<string>(); // watched whole: any PEM/CRT name counts
    const files: string[] = [];
    for (const p of paths) {
      let isDir = false;
      try {
        isDir = fs.statSync(p).isDirectory();
      } catch {
        // the load below reports a missing path; a race with a removal just means no watch on it
      }
      if (isDir) folders.add(path.resolve(p));
      else files.push(p);
    }
    const byDir = foldersOf(files);
    for (const d of folders) if (!byDir.has(d)) byDir.set(d, new Set());
    this.holder = new Reloadable<TrustStore>({
      logger: opts.logger, ...(opts.watch !== undefined ? { watch: opts.watch } : {}),
      ...(opts.debounceMs !== undefined ? { debounceMs: opts.debounceMs } : {}),
      load: () => loadTrustStore(paths),
      failCode: 'DAVIS_ERR_PKI_TRUST',
      files: {
        dirs: byDir.keys(),
        match: (dir, name) => (folders.has(dir) && TRUST_FILE.test(name)) || (byDir.get(dir)?.has(name) ?? false),
      },
      onReloaded: (previous, next) => {
        const before = new Set(previous.anchors.map((c) => c.fingerprint256));
        const after = new Set(next.anchors.map((c) => c.fingerprint256));
        const added = [...after].filter((f) => !before.has(f));
        const removed = [...before].filter((f) => !after.has(f));
        opts.logger.info({ event: 'trust-store-reloaded', anchors: next.anchors.length, added, removed }, 'trust store reloaded');
        this.emit('reloaded', { anchors: next.anchors.length, added, removed });
      },
      onFailed: (err, kept) => {
        opts.logger.warn({ event: 'trust-store-reload-failed', code: err.code, detail: err.message, kept: kept.anchors.length },
          'trust store reload failed; keeping the current anchors');
        this.emit('reload-failed', err);
      },
    });
  }
}
