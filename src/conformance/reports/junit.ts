/**
 * JUnit XML, the shape CI tools (Jenkins, GitLab, GitHub annotations) read: one
 * `<testsuite>` per suite file and phase, one `<testcase>` per case with `<failure>`,
 * `<error>` or `<skipped>`; the run's seed, id and gateway as properties. Like the console,
 * it names values from the wire XML or callbacks only as "different": CI logs are widely read.
 */
import { checkSummary } from '../expectations';
import type { CaseResult, RunResult } from '../types';
import { escapeMarkup, stripNonXmlChars } from '../../util/escape';

/** Escapes text for XML content and attributes; drops characters XML 1.0 cannot carry. */
export function xmlEscape(s: string): string {
  return escapeMarkup(stripNonXmlChars(s));
}

const secs = (ms: number) => (ms / 1000).toFixed(3);

function failureText(r: CaseResult): string {
  const lines: string[] = [];
  for (const st of r.steps) {
    lines.push(`step ${st.index + 1} ${st.verdict.toUpperCase()}: ${st.label}`);
    for (const c of st.checks.filter((x) => !x.ok)) lines.push(`  ✗ ${checkSummary(c)}`);
    if (st.error && !st.checks.some((x) => !x.ok)) lines.push(`  ${st.error}`);
  }
  return lines.join('\n');
}

/** Renders the run as JUnit XML. */
export function junitXml(run: RunResult): string {
  const groups = new Map<string, CaseResult[]>();
  for (const r of run.cases) {
    const k = `${r.suiteId}\u0000${r.phase}`;
    if (!groups.has(k)) groups.set(k, []);
    groups.get(k)!.push(r);
  }
  const props = [
    ['run', run.runId], ['seed', String(run.seed)], ['gateway', run.gateway.url], ['gatewayVersion', run.gateway.version],
    ['mockControl', run.mockControl], ['verdict', run.verdict], ...(run.grep ? [['grep', run.grep]] : []),
  ].map(([k, v]) => `      <property name="${xmlEscape(k)}" value="${xmlEscape(v)}"/>`).join('\n');
  const suites = [...groups.entries()].map(([k, cases]) => {
    const [suiteId, phase] = k.split('\u0000');
    const file = cases[0].file;
    const n = (v: CaseResult['verdict']) => cases.filter((c) => c.verdict === v).length;
    const time = cases.reduce((s, c) => s + c.durationMs, 0);
    const tcs = cases.map((r) => {
      const attrs = `name="${xmlEscape(`${r.id}: ${r.title}`)}" classname="${xmlEscape(`${suiteId}.${phase}`)}" file="${xmlEscape(r.file)}" line="${r.line}" time="${secs(r.durationMs)}"`;
      const steps = r.steps.map((st) => `step ${st.index + 1} ${st.verdict}: ${st.label}`).join('\n');
      let inner = '';
      if (r.verdict === 'failed') inner = `\n      <failure message="${xmlEscape(r.reason ?? 'failed')}" type="${xmlEscape(r.cause ?? 'assertion')}">${xmlEscape(failureText(r))}</failure>`;
      else if (r.verdict === 'error') inner = `\n      <error message="${xmlEscape(r.reason ?? 'error')}" type="${xmlEscape(r.cause ?? 'error')}">${xmlEscape(failureText(r))}</error>`;
      else if (r.verdict === 'skipped') inner = `\n      <skipped message="${xmlEscape(r.reason ?? 'skipped')}"/>`;
      const out = steps ? `\n      <system-out>${xmlEscape(`${r.article}\n${steps}`)}</system-out>` : '';
      return `    <testcase ${attrs}>${inner}${out}\n    </testcase>`;
    }).join('\n');
    return `  <testsuite name="${xmlEscape(`${suiteId} / ${phase}`)}" tests="${cases.length}" failures="${n('failed')}" errors="${n('error')}" skipped="${n('skipped')}" time="${secs(time)}" timestamp="${xmlEscape(cases[0].startedAt.replace(/Z$/, ''))}" file="${xmlEscape(file)}">\n    <properties>\n${props}\n    </properties>\n${tcs}\n  </testsuite>`;
  }).join('\n');
  const c = run.counts;
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="davis conformance" tests="${c.total}" failures="${c.failed}" errors="${c.errors}" skipped="${c.skipped}" time="${secs(run.durationMs)}" timestamp="${xmlEscape(run.startedAt.replace(/Z$/, ''))}">\n${suites}\n</testsuites>\n`;
}
