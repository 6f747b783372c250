/**
 * The shape every `davis` command has, so that `main.ts` can parse its options, print its
 * help and map what it returns or throws to an exit code in one place.
 */
import { readFileSync } from 'node:fs';
import type { ParseArgsConfig } from 'node:util';

/** Output channels (the CLI's stdout and stderr). */
export interface Io {
  out(s: string): void;
  err(s: string): void;
}

/** Parsed option values, as `node:util` `parseArgs` gives them. */
export type Values = Record<string, string | boolean | string[] | undefined>;

/** One `davis` command. */
export interface Command {
  /** Options for `parseArgs` (`--help` is added by `main.ts`). */
  readonly options: ParseArgsConfig['options'];
  /** The text of `davis <command> --help`, also printed after a usage error. */
  readonly help: string;
  /** Runs the command; resolves with its exit code (long-running commands when stopped). */
  run(values: Values, positionals: string[], io: Io): Promise<number>;
}

/** `--config FILE`, taken by most commands. */
export const configOption = { config: { type: 'string' as const } };

/** `{ file }` for `loadConfig` when `--config` was given. */
export function configFileOf(v: Values): { file?: string } {
  return v.config ? { file: String(v.config) } : {};
}

/** A file's text, or undefined after telling the user it cannot be read. */
export function readInput(file: string, io: Io): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    io.err(`${file}: cannot read: ${(err as Error).message}\n`);
    return undefined;
  }
}

/**
 * A usage error: `main.ts` prints `davis <command>: <message>` as one line and exits 2. The
 * message names the bad flag or value.
 */
export function usageError(message: string): Error {
  return Object.assign(new Error(message), { code: 'USAGE' });
}
