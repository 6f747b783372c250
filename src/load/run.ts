/**
 * A load against a gateway's `POST /v1/messages`, open loop or closed loop, cheap to run: one
 * keep-alive `http.Agent` (no `fetch`, whose streams cost several times the CPU per request).
 *
 * Open loop (`rate`, `durationS`): request i is due at `start + i / rate` and is sent then
 * whatever the earlier ones' fate; its latency is measured from that due time, so a slow answer
 * or a busy load generator that delays later sends counts against the gateway instead of hiding
 * the requests that should have been sent meanwhile (no coordinated omission).
 *
 * Closed loop (`concurrency`, `count`): `concurrency` requests are always outstanding until
 * `count` have been sent; latency from each actual send. For saturation figures only.
 */
import http from 'node:http';
import https from 'node:https';
import { LatencyHistogram } from './histogram';

/** What one second of a load did (answers counted in the second they arrived). */
export interface SecondReport {
  /** 1 for the first second after the start. */
  readonly second: number;
  readonly sent: number;
  readonly answered: number;
  readonly s2xx: number;
  readonly s4xx: number;
  readonly s5xx: number;
  /** Requests that got no HTTP answer (refused, reset, timed out). */
  readonly errors: number;
  /** Accept latency of the answers of this second, ms (NaN without answers). */
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Requests sent and not yet answered at the end of the second. */
  readonly inFlight: number;
}

/** The whole load. */
export interface LoadSummary {
  readonly mode: 'open' | 'closed';
  /** Offered rate, messages/s (open loop). */
  readonly rate?: number;
  readonly durationS?: number;
  readonly concurrency?: number;
  readonly url: string;
  readonly sent: number;
  readonly answered: number;
  readonly status: { readonly '2xx': number; readonly '3xx': number; readonly '4xx': number; readonly '5xx': number };
  /** Answers by HTTP status, e.g. `{"202": 598, "503": 2}`. */
  readonly codes: Readonly<Record<string, number>>;
  readonly errors: number;
  /** Requests without an answer by cause (`ECONNREFUSED`, `timeout`, …). */
  readonly errorKinds: Readonly<Record<string, number>>;
  /** Sent but neither answered nor failed when the load stopped waiting. */
  readonly unanswered: number;
  /** Accept latency over every answer (2xx or not) and every timeout, ms; open loop: from the due time. */
  readonly latencyMs: { readonly p50: number; readonly p90: number; readonly p99: number; readonly p999: number; readonly max: number };
  /** Accept latency of the 2xx answers only, ms. */
  readonly latency2xxMs: { readonly p50: number; readonly p99: number; readonly p999: number };
  /** Latest send after its due time, ms (open loop: the load generator's own lateness). */
  readonly maxSendLagMs: number;
  /** From the first send to the last answer, s. */
  readonly elapsedS: number;
  readonly sentPerS: number;
  readonly answeredPerS: number;
  /** CPU time of this process over the load (user + system, all threads), ms. */
  readonly cpuMs: number;
}

export interface LoadOptions {
  /** Gateway base URL, e.g. `http://127.0.0.1:8080`. */
  readonly url: string;
  /** Bearer token. */
  readonly token?: string;
  /** Open loop: requests per second, and for how long. */
  readonly rate?: number;
  readonly durationS?: number;
  /** Closed loop: requests always outstanding, and how many in all. */
  readonly concurrency?: number;
  readonly count?: number;
  /** The JSON body of request i. */
  readonly body: (i: number) => string;
  /** `Idempotency-Key` of request i. @default `<run id>-<i>` */
  readonly idempotencyKey?: (i: number) => string;
  /** Keep-alive connections at most. @default 256 */
  readonly connections?: number;
  /** Longest wait for one answer, and after the last send for the outstanding ones, ms. @default 30000 */
  readonly timeoutMs?: number;
  /** Called with each answer's status and body (bodies are read only when this is set). */
  readonly onAnswer?: (i: number, status: number, body: string) => void;
  /** Called once a second while the load runs, and for the last partial second. */
  readonly onSecond?: (r: SecondReport) => void;
}

/** Why a load cannot start: names the option. */
export class LoadOptionError extends Error {
  readonly code = 'USAGE';
}

interface Window {
  sent: number;
  answered: number;
  s2xx: number;
  s4xx: number;
  s5xx: number;
  errors: number;
  hist: LatencyHistogram;
}

const newWindow = (): Window => ({ sent: 0, answered: 0, s2xx: 0, s4xx: 0, s5xx: 0, errors: 0, hist: new LatencyHistogram() });

type Plan = { kind: 'open'; rate: number; durationS: number } | { kind: 'closed'; concurrency: number; count: number };

function planOf(o: LoadOptions): Plan {
  const open = o.rate !== undefined || o.durationS !== undefined;
  const closed = o.concurrency !== undefined || o.count !== undefined;
  if (open === closed) throw new LoadOptionError('give either rate and duration (open loop) or concurrency and count (closed loop)');
  const positive = (v: number | undefined, name: string, integer: boolean): number => {
    if (v === undefined || !Number.isFinite(v) || v <= 0 || (integer && !Number.isInteger(v))) throw new LoadOptionError(`${name} must be a positive ${integer ? 'whole ' : ''}number`);
    return v;
  };
  if (o.connections !== undefined) positive(o.connections, 'connections', true);
  if (o.timeoutMs !== undefined) positive(o.timeoutMs, 'timeout', false);
  return open
    ? { kind: 'open', rate: positive(o.rate, 'rate', false), durationS: positive(o.durationS, 'duration', false) }
    : { kind: 'closed', concurrency: positive(o.concurrency, 'concurrency', true), count: positive(o.count, 'count', true) };
}

/** Runs a load; resolves with its summary once every request is answered or has timed out. */
export async function runLoad(o: LoadOptions): Promise<LoadSummary> {
  const plan = planOf(o);
  const mode = plan.kind;
  const target = new URL(o.url.replace(/\/+$/, '') + '/v1/messages');
  if (target.protocol !== 'http:' && target.protocol !== 'https:') throw new LoadOptionError(`url "${o.url}": must start with http:// or https://`);
  const mod = target.protocol === 'https:' ? https : http;
  const timeoutMs = o.timeoutMs ?? 30000;
  const agent = new mod.Agent({ keepAlive: true, maxSockets: o.connections ?? 256, scheduling: 'fifo' });
  const runId = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
  const keyOf = o.idempotencyKey ?? ((i: number) => `load-${runId}-${i}`);
  const baseHeaders: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json', ...(o.token ? { authorization: `Bearer ${o.token}` } : {}) };

  const total = new LatencyHistogram();
  const total2xx = new LatencyHistogram();
  const codes: Record<string, number> = {};
  const errorKinds: Record<string, number> = {};
  const status = { '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0 };
  let win = newWindow();
  let sent = 0;
  let answered = 0;
  let errors = 0;
  let inFlight = 0;
  let maxLag = 0;
  let lastAnswerAt = 0;
  let idle: (() => void) | undefined;

  const cpu0 = process.cpuUsage();
  const t0 = performance.now();

  const finish = (startedAt: number, code: number, text: string | undefined, err: Error | undefined, i: number) => {
    const now = performance.now();
    inFlight--;
    lastAnswerAt = now;
    if (err) {
      errors++;
      win.errors++;
      const kind = (err as NodeJS.ErrnoException).code ?? err.message;
      errorKinds[kind] = (errorKinds[kind] ?? 0) + 1;
      // A request that timed out waited at least this long: it counts in the latency, or a
      // stalled gateway would look faster than one that answers late.
      if (kind === 'timeout') {
        total.record(now - startedAt);
        win.hist.record(now - startedAt);
      }
    } else {
      answered++;
      win.answered++;
      const ms = now - startedAt;
      total.record(ms);
      win.hist.record(ms);
      codes[code] = (code in codes ? codes[code] : 0) + 1;
      if (code >= 200 && code < 300) { status['2xx']++; win.s2xx++; total2xx.record(ms); }
      else if (code < 400) status['3xx']++;
      else if (code < 500) { status['4xx']++; win.s4xx++; }
      else { status['5xx']++; win.s5xx++; }
      if (o.onAnswer) o.onAnswer(i, code, text ?? '');
    }
    if (inFlight === 0 && idle) idle();
  };

  /** Sends request i; `dueAt` is what its latency counts from. */
  const send = (i: number, dueAt: number, then?: () => void) => {
    const body = Buffer.from(o.body(i));
    sent++;
    win.sent++;
    inFlight++;
    let settled = false;
    const settle = (code: number, text: string | undefined, err?: Error) => {
      if (settled) return;
      settled = true;
      finish(dueAt, code, text, err, i);
      if (then) then();
    };
    const req = mod.request({
      agent, protocol: target.protocol, hostname: target.hostname, port: target.port || undefined, path: target.pathname, method: 'POST',
      headers: { ...baseHeaders, 'content-length': String(body.length), 'idempotency-key': keyOf(i) }, timeout: timeoutMs,
    }, (res) => {
      const code = Number(res.statusCode);
      if (o.onAnswer) {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => settle(code, Buffer.concat(chunks).toString('utf8')));
      } else {
        res.on('end', () => settle(code, undefined));
        res.resume();
      }
      res.on('error', (err) => settle(0, undefined, err));
      res.on('aborted', () => settle(0, undefined, new Error('aborted')));
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'timeout' })));
    req.on('error', (err) => settle(0, undefined, err));
    req.end(body);
  };

  let second = 0;
  const report = () => {
    second++;
    const w = win;
    win = newWindow();
    o.onSecond?.({
      second, sent: w.sent, answered: w.answered, s2xx: w.s2xx, s4xx: w.s4xx, s5xx: w.s5xx, errors: w.errors,
      p50Ms: w.hist.quantile(0.5), p99Ms: w.hist.quantile(0.99), inFlight,
    });
  };
  const ticker = setInterval(report, 1000);

  try {
    if (plan.kind === 'open') {
      const { rate } = plan;
      const n = Math.max(1, Math.round(rate * plan.durationS));
      const interval = 1000 / rate;
      await new Promise<void>((resolve) => {
        let next = 0;
        const tick = () => {
          const now = performance.now();
          while (next < n && t0 + next * interval <= now) {
            const dueAt = t0 + next * interval;
            if (now - dueAt > maxLag) maxLag = now - dueAt;
            send(next, dueAt);
            next++;
          }
          if (next < n) setTimeout(tick, Math.max(0, t0 + next * interval - performance.now()));
          else resolve();
        };
        tick();
      });
    } else {
      let next = 0;
      const { count, concurrency } = plan;
      await new Promise<void>((resolve) => {
        let running = 0;
        const more = () => {
          while (running < concurrency && next < count) {
            running++;
            const i = next++;
            send(i, performance.now(), () => { running--; if (next < count) more(); else if (running === 0) resolve(); });
          }
        };
        more();
      });
    }
    if (inFlight > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, timeoutMs + 1000);
        idle = () => { clearTimeout(timer); resolve(); };
      });
    }
  } finally {
    clearInterval(ticker);
    agent.destroy();
  }
  const w = win;
  if (w.sent || w.answered || w.errors) report();
  const cpu = process.cpuUsage(cpu0);
  const elapsedS = ((lastAnswerAt || performance.now()) - t0) / 1000;
  return {
    mode,
    ...(mode === 'open' ? { rate: o.rate, durationS: o.durationS } : { concurrency: o.concurrency }),
    url: target.origin + target.pathname,
    sent, answered, status, codes, errors, errorKinds, unanswered: inFlight,
    latencyMs: { p50: total.quantile(0.5), p90: total.quantile(0.9), p99: total.quantile(0.99), p999: total.quantile(0.999), max: total.max },
    latency2xxMs: { p50: total2xx.quantile(0.5), p99: total2xx.quantile(0.99), p999: total2xx.quantile(0.999) },
    maxSendLagMs: maxLag,
    elapsedS,
    sentPerS: sent / elapsedS,
    answeredPerS: answered / elapsedS,
    cpuMs: (cpu.user + cpu.system) / 1000,
  };
}
