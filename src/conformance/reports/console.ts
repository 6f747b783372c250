/**
 * The console reporter: one progress line per case and a summary table. It prints ids,
 * titles, message types and codes, never payload values: a failed check on the wire XML or
 * a callback body says that the value differs, not what it was (that is in the HTML report).
 */
import type { RunHooks } from '../run-options';
import type { CaseResult, PhaseResult, RunResult } from '../types';

/** Where the reporter writes. */
export type Write = (s: string) => void;

const MARK: Record<CaseResult['verdict'], string> = { passed: 'PASS', failed: 'FAIL', error: 'ERR ', skipped: 'SKIP' };

function secs(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

function clip(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}

/** Progress hooks writing one line per case (and a line per phase). */
export function consoleHooks(write: Write, opts: { verbose?: boolean } = {}): RunHooks {
  return {
    onStart(info) {
      write(`davis conformance: ${info.cases} case(s) against ${info.gatewayUrl} (mock control ${info.mockControlUrl}); run ${info.runId}, seed ${info.seed}\n`);
      if (info.webhookUrl) write(`webhook receiver: ${info.webhookUrl}\n`);
    },
    onPhaseStart(phase, n) {
      write(`\n${phase} (${n} case${n === 1 ? '' : 's'})\n`);
    },
    onCase(r, i, total) {
      const width = String(total).length;
      const types = r.types.length ? ` [${r.types.join(', ')}]` : '';
      write(`  ${String(i).padStart(width)}/${total} ${MARK[r.verdict]} ${r.id}${types} ${secs(r.durationMs)}${opts.verbose ? ` - ${clip(r.title, 80)}` : ''}\n`);
      if (r.verdict === 'failed' || r.verdict === 'error') write(`         ${clip(r.reason ?? '', 400)}\n`);
      else if (r.verdict === 'skipped' && r.reason && !r.reason.startsWith('not run: phase')) write(`         skipped: ${clip(r.reason, 200)}\n`);
    },
    onPhaseEnd(p: PhaseResult) {
      write(`  → ${p.phase}: ${p.verdict} (${p.counts.passed}/${p.counts.total} passed${p.counts.failed ? `, ${p.counts.failed} failed` : ''}${p.counts.errors ? `, ${p.counts.errors} errors` : ''}${p.counts.skipped ? `, ${p.counts.skipped} skipped` : ''}; allowed failures ${p.maxFailures})\n`);
    },
  };
}

/** The summary table and the verdict, as text. */
export function summaryText(run: RunResult, rerun?: string): string {
  const head = ['PHASE', 'CASES', 'PASSED', 'FAILED', 'ERRORS', 'SKIPPED', 'VERDICT', 'TIME'];
  const rows = run.phases.map((p) => [p.phase, p.counts.total, p.counts.passed, p.counts.failed, p.counts.errors, p.counts.skipped, p.verdict === 'not-run' ? 'not run' : p.verdict, secs(p.durationMs)].map(String));
  const c = run.counts;
  rows.push(['total', c.total, c.passed, c.failed, c.errors, c.skipped, run.verdict.toUpperCase(), secs(run.durationMs)].map(String));
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((x, i) => (i === 0 || i === 6 ? x.padEnd(widths[i]) : x.padStart(widths[i]))).join('  ').trimEnd();
  const out = ['', line(head), ...rows.map(line)];
  const causes = run.phases.filter((p) => p.causes.length);
  if (causes.length) {
    out.push('', 'Causes of failure:');
    for (const p of causes) for (const x of p.causes.slice(0, 5)) out.push(`  ${p.phase}: ${clip(x.cause, 160)} (${x.count} case${x.count === 1 ? '' : 's'})`);
  }
  const failed = run.cases.filter((r) => r.verdict === 'failed' || r.verdict === 'error');
  if (failed.length) {
    out.push('', `Not passed (${failed.length}):`);
    for (const r of failed.slice(0, 20)) out.push(`  ${r.id} (${r.file}:${r.line})`);
    if (failed.length > 20) out.push(`  … and ${failed.length - 20} more (see the JUnit or HTML report)`);
  }
  out.push('', `Verdict: ${run.verdict === 'passed' ? 'PASSED' : 'FAILED'} - run ${run.runId}, seed ${run.seed}, gateway ${run.gateway.url} ${run.gateway.version}${run.gateway.versionSource === 'runner-package' ? ' (version of the runner; the gateway does not report one)' : ''}`);
  if (rerun) out.push(`Re-run the same: ${rerun}`);
  return out.join('\n') + '\n';
}
