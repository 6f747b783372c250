/**
 * A self-contained HTML report for the people who decide about going live: the verdict and
 * run facts first, then a table per phase, then every case with its steps, what was sent,
 * what came back, and a diff for each failed check. No external resources (a strict CSP
 * forbids them), a few lines of script for filtering; failed cases open by default.
 *
 * It shows what was sent, payloads included: the report is an evidence file for the
 * project's testers and decision makers, like the suites and their test data; keep it
 * where test data is kept. Very long values (images, signatures) are shortened.
 */
import { parseXml, type XmlElement } from '../../xml/parser';
import { escapeMarkup } from '../../util/escape';
import { isMatcher } from '../matchers';
import type { CaseResult, CheckResult, Exchange, RunResult, StepResult } from '../types';

/** Escapes text for HTML content and attributes. */
export const htmlEscape = escapeMarkup;

const MAX_STRING = 600;
const MAX_BODY = 200_000;

/** JSON with long strings shortened, for display. */
function displayJson(v: unknown): string {
  const shorten = (x: unknown): unknown => {
    if (typeof x === 'string') return x.length > MAX_STRING ? `${x.slice(0, 80)}…(${x.length} characters)` : x;
    if (Array.isArray(x)) return x.map(shorten);
    if (x && typeof x === 'object') return Object.fromEntries(Object.entries(x).map(([k, y]) => [k, shorten(y)]));
    return x;
  };
  if (v === undefined) return '';
  const s = JSON.stringify(shorten(v), null, 2) ?? String(v);
  return s.length > MAX_BODY ? `${s.slice(0, MAX_BODY)}\n…(shortened)` : s;
}

/** Indented XML for display (values shortened); the raw text when it does not parse. */
function displayXml(xml: string): string {
  try {
    const doc = parseXml(xml);
    const out: string[] = [];
    const attrs = (el: XmlElement) => [
      ...el.namespaces.map((n) => ` ${n.prefix ? `xmlns:${n.prefix}` : 'xmlns'}="${n.uri}"`),
      ...el.attributes.map((a) => ` ${a.qname}="${a.value}"`),
    ].join('');
    const walk = (el: XmlElement, depth: number): void => {
      const pad = '  '.repeat(depth);
      const kids = el.children.filter((c) => c.type === 'element') as XmlElement[];
      const text = el.children.filter((c) => c.type === 'text').map((c) => (c as { value: string }).value).join('').trim();
      const shown = text.length > 120 ? `${text.slice(0, 60)}…(${text.length} characters)` : text;
      if (!kids.length) {
        out.push(`${pad}<${el.qname}${attrs(el)}>${shown}</${el.qname}>`);
        return;
      }
      out.push(`${pad}<${el.qname}${attrs(el)}>${shown ? shown : ''}`);
      for (const k of kids) walk(k, depth + 1);
      out.push(`${pad}</${el.qname}>`);
    };
    walk(doc.root, 0);
    return out.join('\n');
  } catch {
    return xml.length > MAX_BODY ? `${xml.slice(0, MAX_BODY)}\n…(shortened)` : xml;
  }
}

function displayBody(v: unknown): string {
  if (typeof v === 'string') return v.trimStart().startsWith('<') ? displayXml(v) : v.length > MAX_BODY ? `${v.slice(0, MAX_BODY)}…` : v;
  return displayJson(v);
}

/** A line diff (LCS) of two texts: `[' ' | '-' | '+', line]`. */
export function lineDiff(a: string, b: string): [' ' | '-' | '+', string][] {
  const x = a.split('\n');
  const y = b.split('\n');
  if (x.length * y.length > 250_000) return [...x.map((l): ['-', string] => ['-', l]), ...y.map((l): ['+', string] => ['+', l])];
  const m = x.length;
  const n = y.length;
  const dp: number[][] = Array.from({ length: m + 1 }, () => new Array<number>(n + 1).fill(0));
  for (let i = m - 1; i >= 0; i--) for (let j = n - 1; j >= 0; j--) dp[i][j] = x[i] === y[j] ? dp[i + 1][j + 1] + 1 : Math.max(dp[i + 1][j], dp[i][j + 1]);
  const out: [' ' | '-' | '+', string][] = [];
  let i = 0;
  let j = 0;
  while (i < m && j < n) {
    if (x[i] === y[j]) { out.push([' ', x[i]]); i++; j++; } else if (dp[i + 1][j] >= dp[i][j + 1]) out.push(['-', x[i++]]); else out.push(['+', y[j++]]);
  }
  while (i < m) out.push(['-', x[i++]]);
  while (j < n) out.push(['+', y[j++]]);
  return out;
}

function diffHtml(c: CheckResult): string {
  const expected = c.expected !== undefined && isMatcher(c.expected) && Object.keys(c.expected).length === 1 && 'equals' in (c.expected as object)
    ? (c.expected as { equals: unknown }).equals : c.expected;
  const a = displayJson(expected);
  const b = c.actual === undefined ? '(nothing)' : displayJson(c.actual);
  const rows = lineDiff(a, b).map(([k, l]) => `<span class="d${k === '-' ? 'm' : k === '+' ? 'p' : 'c'}">${k} ${htmlEscape(l)}</span>`).join('');
  return `<div class="diff"><div class="legend"><span class="dm">- expected${isMatcher(expected) ? ' (matcher)' : ''}</span> <span class="dp">+ actual</span></div><pre>${rows}</pre></div>`;
}

function checksHtml(checks: readonly CheckResult[]): string {
  if (!checks.length) return '';
  const rows = checks.map((c) => `<tr class="${c.ok ? 'ok' : 'bad'}"><td class="mark">${c.ok ? '✓' : '✗'}</td><td><code>${htmlEscape(c.name)}</code>${c.ok ? '' : `<div class="problems">${c.problems.map((p) => htmlEscape(p)).join('<br>')}</div>${c.expected !== undefined || c.actual !== undefined ? diffHtml(c) : ''}`}</td></tr>`).join('');
  return `<table class="checks"><tbody>${rows}</tbody></table>`;
}

function exchangeHtml(x: Exchange): string {
  const parts: string[] = [];
  if (x.request) {
    const h = x.request.headers && Object.keys(x.request.headers).length ? `<div class="hdrs">${Object.entries(x.request.headers).map(([k, v]) => `${htmlEscape(k)}: ${htmlEscape(k === 'authorization' ? '(hidden)' : v)}`).join('<br>')}</div>` : '';
    parts.push(`<div class="req"><div class="what">sent: <code>${htmlEscape(x.request.method)} ${htmlEscape(x.request.url)}</code></div>${h}${x.request.body !== undefined ? `<pre class="body">${htmlEscape(displayBody(x.request.body))}</pre>` : ''}</div>`);
  }
  if (x.response) {
    parts.push(`<div class="res"><div class="what">came back: <code>HTTP ${x.response.status}</code></div>${x.response.body !== undefined ? `<pre class="body">${htmlEscape(displayBody(x.response.body))}</pre>` : ''}</div>`);
  }
  return `<details class="exchange"><summary>${htmlEscape(x.label)}</summary>${parts.join('')}</details>`;
}

function stepHtml(st: StepResult): string {
  return `<li class="step v-${st.verdict}" data-step="${st.index + 1}"><div class="steph"><span class="badge b-${st.verdict}">${st.verdict}</span> <span class="label">${htmlEscape(st.label)}</span> <span class="dur">${st.durationMs} ms</span></div>` +
    (st.error ? `<div class="error">${htmlEscape(st.error)}</div>` : '') +
    (st.notes.length ? `<div class="notes">${st.notes.map((n) => htmlEscape(n)).join(' · ')}</div>` : '') +
    checksHtml(st.checks) + st.exchanges.map(exchangeHtml).join('') + '</li>';
}

function caseHtml(r: CaseResult): string {
  const open = r.verdict === 'failed' || r.verdict === 'error' ? ' open' : '';
  const search = `${r.id} ${r.title} ${r.tags.join(' ')} ${r.types.join(' ')}`.toLowerCase();
  return `<details class="case v-${r.verdict}" id="case-${htmlEscape(r.id)}" data-case-id="${htmlEscape(r.id)}" data-verdict="${r.verdict}" data-search="${htmlEscape(search)}"${open}>` +
    `<summary><span class="badge b-${r.verdict}">${r.verdict}</span> <span class="cid">${htmlEscape(r.id)}</span> <span class="title">${htmlEscape(r.title)}</span> <span class="dur">${r.durationMs} ms</span></summary>` +
    `<div class="meta"><div><b>Checks</b> ${htmlEscape(r.article)}</div><div><b>Suite</b> ${htmlEscape(r.suiteId)} · <code>${htmlEscape(r.file)}:${r.line}</code></div>` +
    (r.tags.length ? `<div><b>Tags</b> ${r.tags.map((t) => `<span class="tag">${htmlEscape(t)}</span>`).join(' ')}</div>` : '') +
    (r.types.length ? `<div><b>Types</b> ${r.types.map((t) => `<code>${htmlEscape(t)}</code>`).join(', ')}</div>` : '') +
    (r.reason ? `<div class="reason"><b>${r.verdict === 'skipped' ? 'Skipped' : 'Why'}</b> ${htmlEscape(r.reason)}</div>` : '') + '</div>' +
    (r.steps.length ? `<ol class="steps">${r.steps.map(stepHtml).join('')}</ol>` : '') + '</details>';
}

const CSS = `
:root{--ok:#1a7f37;--bad:#cf222e;--err:#9a6700;--skip:#6e7781;--bg:#f6f8fa;--line:#d0d7de}
*{box-sizing:border-box}body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1f2328;background:#fff}
header{padding:20px 28px;border-bottom:1px solid var(--line);background:var(--bg)}h1{margin:0 0 6px;font-size:22px}
main{padding:16px 28px 60px}h2{font-size:17px;margin:26px 0 8px}
.verdict{display:inline-block;font-weight:700;padding:3px 12px;border-radius:14px;color:#fff}.verdict.passed{background:var(--ok)}.verdict.failed{background:var(--bad)}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:2px 14px;margin:12px 0 0}dl.facts dt{color:#59636e}dl.facts dd{margin:0}
table{border-collapse:collapse}table.grid th,table.grid td{border:1px solid var(--line);padding:4px 10px;text-align:left}table.grid td.n{text-align:right}
table.grid th{background:var(--bg)}code{font:12.5px ui-monospace,SFMono-Regular,Menlo,monospace}
.badge{display:inline-block;min-width:58px;text-align:center;font-size:12px;font-weight:600;border-radius:10px;padding:0 7px;color:#fff}
.b-passed{background:var(--ok)}.b-failed{background:var(--bad)}.b-error{background:var(--err)}.b-skipped{background:var(--skip)}
.b-not-run,.b-empty{background:var(--skip)}
.toolbar{position:sticky;top:0;background:#fff;padding:8px 0;border-bottom:1px solid var(--line);z-index:1;display:flex;gap:8px;align-items:center}
.toolbar button{border:1px solid var(--line);background:var(--bg);border-radius:6px;padding:3px 10px;cursor:pointer}.toolbar button.on{background:#0969da;color:#fff;border-color:#0969da}
.toolbar input{border:1px solid var(--line);border-radius:6px;padding:3px 8px;min-width:260px}
details.case{border:1px solid var(--line);border-radius:6px;margin:6px 0;background:#fff}details.case>summary{padding:6px 10px;cursor:pointer;list-style:none}
details.case>summary::-webkit-details-marker{display:none}details.case.v-failed,details.case.v-error{border-color:var(--bad)}
.cid{font-weight:600;font-family:ui-monospace,monospace}.dur{color:#59636e;font-size:12px;margin-left:6px}
.meta{padding:4px 14px 8px;border-top:1px solid var(--line);background:var(--bg)}.meta b{display:inline-block;min-width:64px;color:#59636e;font-weight:500}
.reason{margin-top:4px}.tag{background:#ddf4ff;border-radius:8px;padding:0 6px;font-size:12px}
ol.steps{margin:8px 14px 12px 34px;padding:0}li.step{margin:6px 0}.steph .label{font-family:ui-monospace,monospace;font-size:12.5px}
.error{color:var(--bad);margin:2px 0}.notes{color:#59636e;font-size:12px}
table.checks{margin:4px 0;width:100%}table.checks td{padding:1px 6px;vertical-align:top;border-bottom:1px solid #eef1f4}td.mark{width:18px}tr.ok td.mark{color:var(--ok)}tr.bad td.mark{color:var(--bad);font-weight:700}
.problems{color:var(--bad)}.diff pre{margin:4px 0;padding:6px 8px;background:#fafbfc;border:1px solid var(--line);border-radius:4px;overflow:auto;max-height:360px}
.diff .legend{font-size:12px}.dm{color:var(--bad);background:#ffebe9;display:block}.dp{color:var(--ok);background:#dafbe1;display:block}.dc{display:block;color:#59636e}.legend .dm,.legend .dp{display:inline;padding:0 4px}
details.exchange{margin:3px 0 3px 0}details.exchange>summary{cursor:pointer;color:#0969da;font-size:12.5px}
pre.body{margin:3px 0 6px;padding:6px 8px;background:var(--bg);border:1px solid var(--line);border-radius:4px;overflow:auto;max-height:420px;font-size:12px}
.hdrs{font:12px ui-monospace,monospace;color:#59636e}.what{font-size:12.5px;margin-top:4px}
.hidden{display:none}
`;

const SCRIPT = `
(function(){
  var filter='all', q='';
  function apply(){
    var shown=0;
    document.querySelectorAll('details.case').forEach(function(d){
      var v=d.getAttribute('data-verdict');
      var okV=filter==='all'||(filter==='failed'?(v==='failed'||v==='error'):v===filter);
      var okQ=!q||d.getAttribute('data-search').indexOf(q)>=0;
      d.classList.toggle('hidden',!(okV&&okQ));
      if(okV&&okQ)shown++;
    });
    document.getElementById('shown').textContent=shown+' shown';
  }
  document.querySelectorAll('.toolbar button').forEach(function(b){
    b.addEventListener('click',function(){
      filter=b.getAttribute('data-filter');
      document.querySelectorAll('.toolbar button').forEach(function(x){x.classList.toggle('on',x===b);});
      apply();
    });
  });
  document.getElementById('search').addEventListener('input',function(e){q=e.target.value.toLowerCase();apply();});
  apply();
})();
`;

/** Renders the run as one self-contained HTML page. */
export function htmlReport(run: RunResult): string {
  const c = run.counts;
  const facts: [string, string][] = [
    ['Run', `${run.runId} · seed ${run.seed}`],
    ['Started', `${run.startedAt} (${(run.durationMs / 1000).toFixed(1)} s)`],
    ['Gateway', `${run.gateway.url} · version ${run.gateway.version}${run.gateway.versionSource === 'runner-package' ? ' (the runner\'s; the gateway reports none)' : ''}`],
    ['Mock control', run.mockControl],
    ['Runner', `davis ${run.runnerVersion}`],
    ['Selection', `${run.grep ? `--grep ${run.grep}` : 'all cases'}${run.keepGoing ? ' · --keep-going' : ''}`],
    ['Cases', `${c.total}: ${c.passed} passed, ${c.failed} failed, ${c.errors} errors, ${c.skipped} skipped`],
  ];
  const phaseRows = run.phases.map((p) => `<tr data-phase="${p.phase}"><td>${p.phase}</td><td class="n">${p.counts.total}</td><td class="n">${p.counts.passed}</td><td class="n">${p.counts.failed}</td><td class="n">${p.counts.errors}</td><td class="n">${p.counts.skipped}</td><td class="n">${p.maxFailures}</td><td><span class="badge b-${p.verdict}">${p.verdict === 'not-run' ? 'not run' : p.verdict}</span></td><td>${p.causes.slice(0, 3).map((x) => `${htmlEscape(x.cause)} (${x.count})`).join('<br>')}</td></tr>`).join('');
  const suiteRows = run.suites.map((s) => `<tr><td><code>${htmlEscape(s.file)}</code></td><td>${htmlEscape(s.id)}</td><td>${htmlEscape(s.title)}</td><td>${htmlEscape(s.interface ?? '')}</td><td><code>${s.sha256}</code></td></tr>`).join('');
  const sections = run.phases.filter((p) => p.counts.total).map((p) => {
    const cases = run.cases.filter((r) => r.phase === p.phase);
    return `<section class="phase" id="phase-${p.phase}"><h2>${p.phase} <span class="badge b-${p.verdict}">${p.verdict === 'not-run' ? 'not run' : p.verdict}</span></h2>${cases.map(caseHtml).join('\n')}</section>`;
  }).join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>DAVIS conformance ${run.verdict === 'passed' ? 'PASSED' : 'FAILED'} · ${htmlEscape(run.gateway.url)} · ${run.startedAt.slice(0, 10)}</title>
<style>${CSS}</style></head>
<body>
<header><h1>DAVIS gateway conformance report</h1>
<span id="verdict" class="verdict ${run.verdict}" data-verdict="${run.verdict}">${run.verdict === 'passed' ? 'PASSED' : 'FAILED'}</span>
<dl class="facts">${facts.map(([k, v]) => `<dt>${k}</dt><dd>${htmlEscape(v)}</dd>`).join('')}</dl></header>
<main>
<h2>Phases</h2>
<table class="grid" id="phases"><thead><tr><th>phase</th><th>cases</th><th>passed</th><th>failed</th><th>errors</th><th>skipped</th><th>allowed failures</th><th>verdict</th><th>causes</th></tr></thead><tbody>${phaseRows}</tbody></table>
<h2>Suites</h2>
<table class="grid" id="suites"><thead><tr><th>file</th><th>suite</th><th>title</th><th>interface</th><th>SHA-256</th></tr></thead><tbody>${suiteRows}</tbody></table>
<h2>Cases</h2>
<div class="toolbar"><button data-filter="all" class="on">all (${c.total})</button><button data-filter="failed">failed (${c.failed + c.errors})</button><button data-filter="passed">passed (${c.passed})</button><button data-filter="skipped">skipped (${c.skipped})</button><input id="search" type="search" placeholder="filter by id, title, tag or type"><span id="shown"></span></div>
${sections}
</main>
<script>${SCRIPT}</script>
</body></html>
`;
}
