import { MESSAGE_STATES } from '../journal/journal';
import { escapeMarkup } from '../util/escape';

/**
 * The operators' page (`GET /ops`): an HTML document with its script and style served by the
 * gateway itself (no other origin: gateways run on closed networks; no inline code: the
 * Content-Security-Policy allows only `'self'`). It reads `/health/ready`, `/ops/summary`,
 * `/ops/traffic` and `/v1/messages`, and shows ids, types, states, codes and central's
 * reference — never payload content (the signed documents are downloads, each recorded).
 *
 * Authentication is the API's: a client certificate (the browser presents it), or a bearer
 * token typed into the sign-in form and kept in sessionStorage (gone with the tab, never in a
 * URL). In dev mode loopback needs neither.
 */
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>DAVIS gateway — operations</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/ops/dashboard.css"></head>
<body>
<header><h1>DAVIS gateway — operations</h1><span id="version"></span><span id="viewer"></span><span id="updated"></span>
<button id="signout" type="button" hidden>sign out</button><span id="error" role="alert"></span></header>
<main>
<form id="login" hidden><h2>Sign in</h2><p>Present a client certificate, or a bearer token (kept for this tab only).</p>
<label>token <input name="token" type="password" autocomplete="off" size="40" required></label> <button type="submit">sign in</button></form>
<div id="app">
<section class="panel" aria-labelledby="diag-h"><h2 id="diag-h">Diagnostics</h2><ul id="diagnostics" class="diag"></ul></section>
<section class="panel" aria-labelledby="traffic-h"><h2 id="traffic-h">Traffic, last hour (per minute)</h2><div id="chart"></div>
<p class="legend"><span class="k accepted">accepted</span> <span class="k delivered">delivered</span> <span class="k rejected">rejected</span> <span class="k failed">failed</span> <span id="traffic-total"></span></p></section>
<section class="cards" id="cards" aria-label="messages by state"></section>
<section class="panel" aria-labelledby="search-h"><h2 id="search-h">Messages</h2>
<form id="search">
<label>message id <input name="id" size="36"></label>
<label>application number <input name="orderingKey" size="20"></label>
<label>correlation id <input name="correlationId" size="20"></label>
<label>central reference <input name="centralReference" size="20"></label>
<label>type <input name="type" placeholder="vis.application.create" size="24"></label>
<label>state <select name="status"><option value="">any</option>${MESSAGE_STATES.map((s) => `<option>${escapeMarkup(s)}</option>`).join('')}</select></label>
<label>from <input name="from" type="datetime-local"></label>
<label>to <input name="to" type="datetime-local"></label>
<button type="submit">search</button> <button type="reset">clear</button>
</form>
<table><thead><tr><th>created</th><th>id</th><th>type</th><th>application</th><th>state</th><th>attempts</th><th>central</th><th>last error</th></tr></thead><tbody id="rows"></tbody></table>
</section>
<section class="panel" id="detail" hidden aria-labelledby="detail-h"><h2 id="detail-h">Message <span id="detail-id" class="id"></span> <button id="detail-close" type="button">close</button></h2>
<dl id="detail-facts" class="facts"></dl>
<h3>Timeline</h3><ol id="timeline" class="timeline"></ol>
<h3>Central's answer</h3><dl id="answer" class="facts"></dl>
<h3>Callback to UMA</h3><dl id="webhook" class="facts"></dl>
<p><button id="dl-request" type="button">download signed request</button> <button id="dl-answer" type="button">download signed answer</button></p>
<form id="retry" hidden><label>reason <input name="reason" size="40" maxlength="200" required placeholder="why it is sent again"></label> <button type="submit">retry</button></form>
</section>
</div>
</main>
<script src="/ops/dashboard.js"></script>
</body></html>
`;

/** The page's style (`GET /ops/dashboard.css`). */
export const DASHBOARD_CSS = `body{font:14px/1.4 system-ui,sans-serif;margin:0;background:#f6f7f9;color:#1d2330}
header{background:#123;color:#fff;padding:.7em 1.2em;display:flex;gap:1.5em;align-items:baseline;flex-wrap:wrap}
header h1{font-size:1.1em;margin:0}
main{padding:1em 1.2em}
h2{font-size:1em;margin:0 0 .5em}h3{font-size:.95em;margin:.8em 0 .3em}
.panel{background:#fff;border:1px solid #dde;border-radius:6px;padding:.7em .9em;margin-bottom:1em}
.cards{display:flex;gap:.8em;flex-wrap:wrap;margin-bottom:1em}
.card{background:#fff;border:1px solid #dde;border-radius:6px;padding:.6em .9em;min-width:7em}
.card b{display:block;font-size:1.5em}
.diag{list-style:none;margin:0;padding:0;display:grid;grid-template-columns:repeat(auto-fill,minmax(17em,1fr));gap:.4em}
.diag li{border-left:6px solid #999;padding:.3em .6em;background:#fafbfc}
.diag li.green{border-color:#1f8a3b}.diag li.amber{border-color:#d99a00}.diag li.red{border-color:#c62828}
.diag b{display:block}.diag small{color:#555}
.ok,.green{color:#176c2f}.bad,.red{color:#b3261e}.warn,.amber{color:#8a5a00}
.diag li.green,.diag li.amber,.diag li.red{color:inherit}
#chart svg{width:100%;height:160px;display:block}
.legend .k::before{content:"";display:inline-block;width:.8em;height:.8em;margin-right:.3em;vertical-align:middle}
.k.accepted::before{background:#5470c6}.k.delivered::before{background:#1f8a3b}.k.rejected::before{background:#d99a00}.k.failed::before{background:#c62828}
table{border-collapse:collapse;width:100%}
th,td{padding:.35em .6em;border-bottom:1px solid #e4e6ea;text-align:left;font-size:13px;white-space:nowrap}
td.id,.id{font-family:ui-monospace,monospace}
td.id a{color:#0b57d0;cursor:pointer;text-decoration:underline}
form{display:flex;gap:.6em;margin:.6em 0;flex-wrap:wrap;align-items:baseline}
#login{display:block;background:#fff;border:1px solid #dde;border-radius:6px;padding:1em;max-width:36em}
input,select,button{font:inherit;padding:.25em .4em}
.facts{display:grid;grid-template-columns:max-content 1fr;gap:.2em 1em;margin:0}
.facts dt{color:#555}.facts dd{margin:0}
.timeline{margin:0;padding-left:1.4em}.timeline li{margin:.15em 0}
[hidden]{display:none!important}
#error{color:#ffb4ab}
`;

/** The page's script (`GET /ops/dashboard.js`); it builds the DOM with textContent only. */
export const DASHBOARD_JS = String.raw`(function () {
  'use strict';
  var STATES = ${JSON.stringify(MESSAGE_STATES)};
  var COLORS = { accepted: '#5470c6', delivered: '#1f8a3b', rejected: '#d99a00', failed: '#c62828' };
  var SVG = 'http://www.w3.org/2000/svg';
  var $ = function (id) { return document.getElementById(id); };
  var token = sessionStorage.getItem('davis-token') || '';
  var viewer = null;
  var current = null;
  var query = new URLSearchParams({ limit: '50' });

  function text(el, s) { el.textContent = s == null ? '' : String(s); return el; }
  function el(tag, cls, s) { var e = document.createElement(tag); if (cls) e.className = cls; if (s != null) text(e, s); return e; }
  function headers(extra) { var h = extra || {}; if (token) h.authorization = 'Bearer ' + token; return h; }
  function showError(s) { text($('error'), s); }

  /** Every request goes to this gateway, relative to the page: connect-src 'self' holds. */
  async function call(path, opts) {
    var o = opts || {};
    var r = await fetch(path, { method: o.method || 'GET', headers: headers(o.headers), body: o.body, credentials: 'same-origin' });
    if (r.status === 401) { signIn(); throw new Error('sign in first'); }
    return r;
  }
  async function json(path, opts) {
    var r = await call(path, opts);
    var body = await r.json().catch(function () { return {}; });
    if (!r.ok && !(opts && opts.any)) throw new Error(path.split('?')[0] + ': ' + (body.code || ('HTTP ' + r.status)));
    return body;
  }

  function signIn() { $('login').hidden = false; $('app').hidden = true; }
  $('login').addEventListener('submit', function (ev) {
    ev.preventDefault();
    token = ev.target.token.value.trim();
    ev.target.token.value = '';
    sessionStorage.setItem('davis-token', token);
    $('login').hidden = true; $('app').hidden = false;
    refresh();
  });
  $('signout').addEventListener('click', function () { sessionStorage.removeItem('davis-token'); token = ''; location.reload(); });

  function level(secondsLeft, amberDays) {
    if (secondsLeft == null) return null;
    var days = secondsLeft / 86400;
    return days <= 0 ? 'red' : days < 14 ? 'red' : days < amberDays ? 'amber' : 'green';
  }
  function days(s) { return Math.floor(s / 86400) + ' days left'; }

  function diagnostics(ready, sum) {
    var at = new Date(sum.checkedAt || Date.now()).toLocaleTimeString();
    var checks = (ready && ready.checks) || {};
    function check(name) { var c = checks[name]; return !c ? ['amber', 'not checked'] : c.status === 'ok' ? ['green', 'ok'] : ['red', c.reason || 'down']; }
    var items = [];
    var b = check('broker'); if (!sum.broker) b = ['red', 'not connected'];
    items.push(['broker', b[0], b[0] === 'green' ? 'connected, backlog ' + sum.backlog : b[1]]);
    items.push(['journal'].concat(check('journal')));
    var c = check('central'); items.push(['central reachability', c[0], c[0] === 'green' ? (checks.central.endpoint || 'reachable') : c[1]]);
    items.push(['circuit', sum.circuit === 'open' ? 'red' : sum.circuit === 'half-open' ? 'amber' : 'green', sum.circuit === 'open' ? 'open: central is not being called' : String(sum.circuit)]);
    var s = level(sum.signingCertificateSecondsLeft, 30);
    items.push(['signing certificate', s || 'amber', sum.signingCertificateSecondsLeft == null ? 'unknown' : sum.signingCertificateSecondsLeft <= 0 ? 'expired' : days(sum.signingCertificateSecondsLeft)]);
    var t = level(sum.trustAnchorSecondsLeft, 30);
    items.push(['trust anchors', t || 'amber', sum.trustAnchorSecondsLeft == null ? 'unknown' : sum.trustAnchorSecondsLeft <= 0 ? 'an anchor expired' : 'first expiry: ' + days(sum.trustAnchorSecondsLeft)]);
    if (sum.crlSecondsLeft != null) {
      items.push(['CRL freshness', sum.crlSecondsLeft <= 0 ? 'red' : sum.crlSecondsLeft < 86400 ? 'amber' : 'green',
        sum.crlSecondsLeft <= 0 ? 'past its next update' : 'next update in ' + Math.floor(sum.crlSecondsLeft / 3600) + ' h']);
    }
    if (sum.auditCheckpointAgeSeconds != null) {
      var age = sum.auditCheckpointAgeSeconds;
      items.push(['audit checkpoint', age > 86400 ? 'red' : age > 3600 ? 'amber' : 'green', 'last ' + Math.floor(age / 60) + ' min ago']);
    }
    var list = $('diagnostics'); list.replaceChildren();
    items.forEach(function (it) {
      var li = el('li', it[1]);
      li.dataset.check = it[0];
      li.appendChild(el('b', null, it[0]));
      li.appendChild(el('span', it[1], it[1] + ': ' + it[2]));
      li.appendChild(el('small', null, ' · checked ' + at));
      list.appendChild(li);
    });
  }

  function chart(minutes) {
    var w = 720, h = 150, pad = 24;
    var max = 1;
    minutes.forEach(function (m) { ['accepted', 'delivered', 'rejected', 'failed'].forEach(function (k) { if (m[k] > max) max = m[k]; }); });
    var svg = document.createElementNS(SVG, 'svg');
    svg.setAttribute('viewBox', '0 0 ' + w + ' ' + h);
    svg.setAttribute('role', 'img');
    svg.setAttribute('aria-label', 'messages per minute');
    var n = Math.max(minutes.length, 1), step = (w - pad) / n, bw = Math.max(step / 4 - 0.5, 0.5);
    var axis = document.createElementNS(SVG, 'line');
    [['x1', pad], ['y1', h - pad], ['x2', w], ['y2', h - pad], ['stroke', '#999']].forEach(function (a) { axis.setAttribute(a[0], a[1]); });
    svg.appendChild(axis);
    var label = document.createElementNS(SVG, 'text');
    label.setAttribute('x', 0); label.setAttribute('y', 12); label.setAttribute('font-size', 10); label.textContent = String(max);
    svg.appendChild(label);
    var total = { accepted: 0, delivered: 0, rejected: 0, failed: 0 };
    minutes.forEach(function (m, i) {
      ['accepted', 'delivered', 'rejected', 'failed'].forEach(function (k, j) {
        total[k] += m[k];
        if (!m[k]) return;
        var bh = (h - 2 * pad) * m[k] / max;
        var r = document.createElementNS(SVG, 'rect');
        r.setAttribute('x', pad + i * step + j * (bw + 0.5)); r.setAttribute('y', h - pad - bh);
        r.setAttribute('width', bw); r.setAttribute('height', bh); r.setAttribute('fill', COLORS[k]);
        r.setAttribute('class', 'bar ' + k);
        var title = document.createElementNS(SVG, 'title'); title.textContent = m.minute + ' ' + k + ': ' + m[k];
        r.appendChild(title);
        svg.appendChild(r);
      });
    });
    [0, minutes.length - 1].forEach(function (i) {
      if (!minutes[i]) return;
      var t = document.createElementNS(SVG, 'text');
      t.setAttribute('x', i ? w - 40 : pad); t.setAttribute('y', h - 6); t.setAttribute('font-size', 10);
      t.textContent = new Date(minutes[i].minute.replace('Z', ':00Z')).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
      svg.appendChild(t);
    });
    $('chart').replaceChildren(svg);
    text($('traffic-total'), '· last hour: ' + total.accepted + ' accepted, ' + total.delivered + ' delivered, ' + total.rejected + ' rejected, ' + total.failed + ' failed');
    $('chart').dataset.total = JSON.stringify(total);
  }

  function cards(sum) {
    var box = $('cards'); box.replaceChildren();
    STATES.forEach(function (st) {
      var d = el('div', 'card'); var v = sum.messages[st] || 0;
      d.appendChild(el('b', st === 'failed' && v ? 'bad' : '', v)); d.appendChild(document.createTextNode(st));
      box.appendChild(d);
    });
  }

  function stateClass(s) { return s === 'failed' || s === 'rejected' ? 'bad' : s === 'delivered' ? 'ok' : 'warn'; }
  function rows(list) {
    var body = $('rows'); body.replaceChildren();
    list.items.forEach(function (m) {
      var tr = el('tr'); tr.dataset.id = m.id;
      tr.appendChild(el('td', null, m.createdAt.replace('T', ' ').slice(0, 19)));
      var td = el('td', 'id'); var a = el('a', null, m.id); a.setAttribute('role', 'button'); a.tabIndex = 0;
      a.addEventListener('click', function () { open(m.id); }); td.appendChild(a); tr.appendChild(td);
      tr.appendChild(el('td', null, m.type)); tr.appendChild(el('td', null, m.orderingKey));
      tr.appendChild(el('td', stateClass(m.status), m.status)); tr.appendChild(el('td', null, m.attempts));
      tr.appendChild(el('td', null, m.central ? m.central.code + (m.central.reference ? ' ' + m.central.reference : '') : ''));
      tr.appendChild(el('td', null, m.lastError || ''));
      body.appendChild(tr);
    });
  }

  function facts(dl, pairs) {
    dl.replaceChildren();
    pairs.forEach(function (p) { if (p[1] == null || p[1] === '') return; dl.appendChild(el('dt', null, p[0])); dl.appendChild(el('dd', null, p[1])); });
    if (!dl.children.length) { dl.appendChild(el('dt', null, '—')); dl.appendChild(el('dd', null, 'none yet')); }
  }
  async function open(id) {
    var m = await json('/v1/messages/' + encodeURIComponent(id));
    current = m;
    $('detail').hidden = false;
    text($('detail-id'), m.id);
    facts($('detail-facts'), [['type', m.type], ['direction', m.direction], ['state', m.status], ['application number', m.orderingKey],
      ['created', m.createdAt], ['updated', m.updatedAt], ['attempts', m.attempts], ['last error', m.lastError], ['next attempt', m.nextAttemptAt]]);
    var tl = $('timeline'); tl.replaceChildren();
    m.history.forEach(function (e) {
      var li = el('li', stateClass(e.status));
      li.dataset.state = e.status;
      text(li, e.at.replace('T', ' ').slice(0, 23) + ' — ' + e.status + (e.attempt != null ? ' (attempt ' + e.attempt + ')' : '') + (e.detail ? ': ' + e.detail : ''));
      tl.appendChild(li);
    });
    var c = m.central || {};
    facts($('answer'), [['result', c.result], ['code', c.code], ['central reference', c.reference], ['reason', c.reason], ['answered', c.answeredAt], ['response id', c.responseId]]);
    var w = m.webhook || {};
    facts($('webhook'), [['event', w.event], ['state', w.state], ['attempts', w.attempts], ['last error', w.lastError], ['updated', w.updatedAt]]);
    $('dl-answer').disabled = !m.central;
    $('retry').hidden = !(viewer && viewer.mayRetry && m.status === 'failed');
    $('detail').scrollIntoView();
  }
  $('detail-close').addEventListener('click', function () { $('detail').hidden = true; current = null; });

  async function download(part) {
    if (!current) return;
    var r = await call('/v1/messages/' + encodeURIComponent(current.id) + '/wire?part=' + part);
    if (!r.ok) { var p = await r.json().catch(function () { return {}; }); showError(part + ': ' + (p.code || r.status)); return; }
    var url = URL.createObjectURL(await r.blob());
    var a = el('a'); a.href = url; a.download = current.id + '-' + part + '.xml';
    document.body.appendChild(a); a.click(); a.remove();
    setTimeout(function () { URL.revokeObjectURL(url); }, 1000);
  }
  $('dl-request').addEventListener('click', function () { download('request'); });
  $('dl-answer').addEventListener('click', function () { download('answer'); });

  $('retry').addEventListener('submit', async function (ev) {
    ev.preventDefault();
    if (!current) return;
    var body = await json('/v1/messages/' + encodeURIComponent(current.id) + '/retry', {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ reason: ev.target.reason.value }), any: true,
    });
    if (body.code) { showError('retry: ' + body.code); return; }
    ev.target.reason.value = '';
    await open(current.id);
    refresh();
  });

  $('search').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var f = ev.target;
    if (f.id.value.trim()) { open(f.id.value.trim()).catch(function (e) { showError(String(e.message || e)); }); return; }
    query = new URLSearchParams({ limit: '50' });
    ['orderingKey', 'correlationId', 'centralReference', 'type', 'status'].forEach(function (k) { if (f[k].value.trim()) query.set(k, f[k].value.trim()); });
    ['from', 'to'].forEach(function (k) { if (f[k].value) query.set(k, new Date(f[k].value).toISOString()); });
    refresh();
  });
  $('search').addEventListener('reset', function () { query = new URLSearchParams({ limit: '50' }); setTimeout(refresh); });

  var busy = false;
  async function refresh() {
    if (busy || !$('login').hidden) return;
    busy = true;
    try {
      var sum = await json('/ops/summary');
      viewer = sum.viewer;
      $('signout').hidden = !token;
      text($('version'), 'v' + sum.version);
      text($('viewer'), viewer ? viewer.id + (viewer.mayRetry ? ' (operator)' : ' (read only)') : '');
      var ready = await json('/health/ready', { any: true });
      diagnostics(ready, sum);
      cards(sum);
      chart((await json('/ops/traffic')).minutes);
      rows(await json('/v1/messages?' + query));
      text($('updated'), 'updated ' + new Date().toLocaleTimeString());
      showError('');
    } catch (e) {
      showError(String(e.message || e));
    } finally {
      busy = false;
    }
  }
  refresh();
  setInterval(refresh, 3000);
})();
`;
