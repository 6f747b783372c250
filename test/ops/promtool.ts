import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** Prometheus's own checker (Debian package `prometheus`; `.ci/run` installs it). */
export const PROMTOOL = process.env.PROMTOOL ?? '/usr/bin/promtool';

/** Whether promtool is where the tests expect it; the tests fail, not skip, when it is missing. */
export function havePromtool(): boolean {
  return existsSync(PROMTOOL);
}

/** Runs promtool with `args` (and `input` on stdin): its exit code and everything it printed. */
export function promtool(args: string[], input?: string, cwd?: string): { status: number | null; output: string } {
  const r = spawnSync(PROMTOOL, args, { input, encoding: 'utf8', cwd, timeout: 60000 });
  return { status: r.status, output: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

/** Metric family names (`# TYPE` lines) of exposition text. */
export function families(text: string): Set<string> {
  return new Set([...text.matchAll(/^# TYPE (\S+) \S+$/gm)].map((m) => m[1]));
}
