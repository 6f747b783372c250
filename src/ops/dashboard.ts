import { MESSAGE_STATES } from '../journal/journal';
import { escapeMarkup } from '../util/escape';

/**
 * The operators' page (`GET /ops`): an HTML document with its script and style served by the
 * gateway itself (no other origin: gateways run on closed networks; no inline code: the
 * Content-Security-Policy allows only `'self'`) that polls `/ops/summary` and `/v1/messages`
 * every two seconds. It shows ids, types, states and codes — never payload content.
 */
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>DAVIS gateway — operations</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/ops/dashboard.css"></head>
<body>
<header><h1>DAVIS gateway — operations</h1><span id="version"></span><span id="updated"></span><span id="error" role="alert"></span></header>
<main>
<section class="cards" id="cards" aria-label="state"></section>
<form id="filter">
<label>status <select name="status"><option value="">any</option>${MESSAGE_STATES.map((s) => `<option>${escapeMarkup(s)}</option>`).join('')}</select></label>
<label>direction <select name="direction"><option value="">any</option><option>outbound</option><option>inbound</option></select></label>
<label>type <input name="type" placeholder="vis.application.create" size="28"></label>
<label>token <input name="token" type="password" placeholder="bearer token (not needed in dev)" size="24"></label>
<button type="submit">apply</button>
</form>
<table><thead><tr><th>created</th><th>id</th><th>type</th><th>dir</th><th>status</th><th>attempts</th><th>central</th><th>last error</th><th></th></tr></thead><tbody id="rows"></tbody></table>
</main>
<script src="/ops/dashboard.js"></script>
</body></html>
`;

/** The page's style (`GET /ops/dashboard.css`). */
export const DASHBOARD_CSS = `body{font:14px/1.4 system-ui,sans-serif;margin:0;background:#f6f7f9;color:#1d2330}
header{background:#123;color:#fff;padding:.7em 1.2em;display:flex;gap:1.5em;align-items:baseline;flex-wrap:wrap}
header h1{font-size:1.1em;margin:0}
main{padding:1em 1.2em}
.cards{display:flex;gap:.8em;flex-wrap:wrap;margin-bottom:1em}
.card{background:#fff;border:1px solid #dde;border-radius:6px;padding:.6em .9em;min-width:8em}
.card b{display:block;font-size:1.5em}
.ok{color:#176c2f}.bad{color:#b3261e}.warn{color:#8a5a00}
table{border-collapse:collapse;width:100%;background:#fff}
th,td{padding:.35em .6em;border-bottom:1px solid #e4e6ea;text-align:left;font-size:13px;white-space:nowrap}
td.id{font-family:ui-monospace,monospace}
form{display:flex;gap:.6em;margin:.6em 0;flex-wrap:wrap}
input,select,button{font:inherit;padding:.25em .4em}
#error{color:#b3261e}
`;

/** The page's script (`GET /ops/dashboard.js`); it builds the DOM with textContent only. */
export const DASHBOARD_JS = `(function () {
  var form = document.getElementById('filter');
  var token = sessionStorage.getItem('davis-token') || '';
  form.token.value = token;
  function headers() { return token ? { authorization: 'Bearer ' + token } : {}; }
  function text(el, s) { el.textContent = s; return el; }
  function cell(tr, s, cls) { var td = document.createElement('td'); if (cls) td.className = cls; text(td, s == null ? '' : String(s)); tr.appendChild(td); return td; }
  function card(label, value, cls) {
    var d = document.createElement('div'); d.className = 'card';
    var b = document.createElement('b'); if (cls) b.className = cls; text(b, String(value));
    d.appendChild(b); d.appendChild(document.createTextNode(label)); return d;
  }
  async function retry(id) {
    var r = await fetch('/v1/messages/' + encodeURIComponent(id) + '/retry', { method: 'POST', headers: headers() });
    if (!r.ok) { var p = await r.json().catch(function () { return {}; }); text(document.getElementById('error'), 'retry: ' + (p.code || r.status)); }
    refresh();
  }
  async function refresh() {
    try {
      var s = await fetch('/ops/summary', { headers: headers() });
      if (!s.ok) throw new Error('summary: HTTP ' + s.status);
      var sum = await s.json();
      text(document.getElementById('version'), 'v' + sum.version);
      var cards = document.getElementById('cards'); cards.replaceChildren();
      cards.appendChild(card('broker', sum.broker ? 'connected' : 'down', sum.broker ? 'ok' : 'bad'));
      cards.appendChild(card('central', sum.circuit === 'open' ? 'circuit open' : 'sending', sum.circuit === 'open' ? 'bad' : 'ok'));
      cards.appendChild(card('backlog', sum.backlog, sum.backlog > 1000 ? 'warn' : ''));
      var days = Math.floor(sum.signingCertificateSecondsLeft / 86400);
      cards.appendChild(card('signing cert days left', days, days < 14 ? 'bad' : days < 30 ? 'warn' : 'ok'));
      ${JSON.stringify(MESSAGE_STATES)}.forEach(function (st) {
        cards.appendChild(card(st, sum.messages[st] || 0, st === 'failed' && sum.messages[st] ? 'bad' : ''));
      });
      var q = new URLSearchParams({ limit: '50' });
      ['status', 'direction', 'type'].forEach(function (k) { if (form[k].value) q.set(k, form[k].value); });
      var l = await fetch('/v1/messages?' + q, { headers: headers() });
      if (!l.ok) throw new Error('messages: HTTP ' + l.status);
      var list = await l.json();
      var rows = document.getElementById('rows'); rows.replaceChildren();
      list.items.forEach(function (m) {
        var tr = document.createElement('tr');
        cell(tr, m.createdAt.replace('T', ' ').slice(0, 19)); cell(tr, m.id, 'id'); cell(tr, m.type); cell(tr, m.direction);
        cell(tr, m.status, m.status === 'failed' || m.status === 'rejected' ? 'bad' : m.status === 'delivered' ? 'ok' : 'warn');
        cell(tr, m.attempts); cell(tr, m.central ? m.central.code : ''); cell(tr, m.lastError || '');
        var td = cell(tr, '');
        if (m.status === 'failed') { var b = document.createElement('button'); text(b, 'retry'); b.onclick = function () { retry(m.id); }; td.appendChild(b); }
        rows.appendChild(tr);
      });
      text(document.getElementById('updated'), 'updated ' + new Date().toLocaleTimeString());
      text(document.getElementById('error'), '');
    } catch (e) {
      text(document.getElementById('error'), String(e.message || e));
    }
  }
  form.addEventListener('submit', function (ev) { ev.preventDefault(); token = form.token.value; sessionStorage.setItem('davis-token', token); refresh(); });
  refresh();
  setInterval(refresh, 2000);
})();
`;
