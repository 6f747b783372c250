/**
 * A value loaded from files and kept current without a restart: reloaded on demand (what
 * SIGHUP calls) and when the files change on disk, without losing work in flight.
 *
 * Why this is safe for in-flight work: a loaded value is never mutated; a reload builds a new
 * one and swaps one reference. Callers fetch `current()` once per unit of work and keep that
 * value for all of it, so work that started with the old value finishes with it. A reload
 * that fails (unreadable, mismatched, expired, half-written files) keeps the old value.
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
import type { Logger } from 'pino';
import { DavisError, isDavisError, reasonOf, type ErrorCode } from '../errors/errors';

/** Options shared by the file-backed holders. */
export interface ReloadOptions {
  /** Where reloads, failures and watch problems are logged. */
  readonly logger: Logger;
  /** Reload when the files change on disk (folder watch). @default true */
  readonly watch?: boolean;
  /**
   * Quiet time after the last file event before reloading, so that a pair of files replaced
   * one after the other is read once, after both are in place. @default 500
   */
  readonly debounceMs?: number;
}

/** What to watch: folders, and which names in each count (a folder with no names: every name `match` accepts). */
export interface WatchSpec {
  readonly dirs: Iterable<string>;
  /** Whether a changed name in a folder is relevant. */
  readonly match: (dir: string, name: string) => boolean;
}

/** Options of {@link Reloadable}. */
export interface ReloadableOptions<T> extends ReloadOptions {
  /** Reads the files and builds a new value. @throws anything; a non-DavisError becomes `failCode` */
  readonly load: () => T;
  /** Code of the DavisError a failed load that threw something else becomes. */
  readonly failCode: ErrorCode;
  /** What is watched for changes. */
  readonly files: WatchSpec;
  /** Called after a successful reload with the value replaced and the new one (logging, events). */
  readonly onReloaded: (previous: T, next: T) => void;
  /** Called after a failed reload, with the error and the value kept. */
  readonly onFailed: (err: DavisError, kept: T) => void;
}

/**
 * Holds one value loaded from files. The first load runs in the constructor and throws, so a
 * bad file refuses the start; later loads never throw.
 */
export class Reloadable<T> {
  private value: T;
  private lastFailure: DavisError | null = null;
  private readonly watcher: FolderWatch | undefined;

  /** @throws DavisError when the first load fails */
  constructor(private readonly opts: ReloadableOptions<T>) {
    this.value = this.load();
    if (opts.watch ?? true) {
      this.watcher = new FolderWatch(opts.files.dirs, opts.files.match, opts.debounceMs ?? 500, () => this.reload(), opts.logger);
    }
  }

  private load(): T {
    try {
      return this.opts.load();
    } catch (e) {
      throw isDavisError(e) ? e : new DavisError(this.opts.failCode, { reason: reasonOf(e) }, { cause: e });
    }
  }

  /** The value to use now. Fetch it once per unit of work and keep it for that work. */
  current(): T {
    return this.value;
  }

  /** The error of the last reload, or null when it succeeded (or none failed yet); for readiness reports. */
  get lastReloadError(): DavisError | null {
    return this.lastFailure;
  }

  /**
   * Loads again. On success the new value replaces the old one in one step; on failure the
   * old value stays. Never throws.
   *
   * @returns whether the new value was loaded
   */
  reload(): boolean {
    let next: T;
    try {
      next = this.load();
    } catch (e) {
      this.lastFailure = e as DavisError;
      this.opts.onFailed(this.lastFailure, this.value);
      return false;
    }
    const previous = this.value;
    this.value = next;
    this.lastFailure = null;
    this.opts.onReloaded(previous, next);
    return true;
  }

  /** Stops the folder watch. The current value stays usable. */
  close(): void {
    this.watcher?.close();
  }
}

/** Events every file-backed holder emits, besides its own. */
export interface HolderEvents {
  'reload-failed': [DavisError];
}

/**
 * Base of a holder that presents a {@link Reloadable} with events of its own kind (the
 * signing key store, the trust store): `current`, `lastReloadError`, `reload` and `close`
 * are the reloadable's.
 */
export abstract class ReloadableHolder<T, E extends Record<keyof E, unknown[]> & HolderEvents> extends EventEmitter<E> {
  protected abstract readonly holder: Reloadable<T>;

  /** The value to use now. Fetch it once per unit of work and keep it for that work. */
  current(): T {
    return this.holder.current();
  }

  /** The error of the last reload, or null when it succeeded (or none failed yet); for readiness reports. */
  get lastReloadError(): DavisError | null {
    return this.holder.lastReloadError;
  }

  /**
   * Reads the files again. On success the new value replaces the old one in one step; on
   * failure the old value stays, a warning with the error code is logged and `reload-failed`
   * is emitted. Never throws.
   *
   * @returns whether the new files were loaded
   */
  reload(): boolean {
    return this.holder.reload();
  }

  /** Stops watching. The current value stays usable. */
  close(): void {
    this.holder.close();
  }
}

/** Folder → names to watch in it, for a list of files. */
export function foldersOf(files: readonly string[]): Map<string, Set<string>> {
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

/**
 * Watches folders and calls `onChange` after `debounceMs` of quiet following the last
 * relevant event. A null name (some platforms omit it) is always relevant.
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
