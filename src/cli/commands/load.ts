/** `davis load`: an open-loop load against a running gateway, for soaks before a release. */
import { loadTemplates, messageBody } from '../../load/payloads';
import { runLoad, type LoadSummary, type SecondReport } from '../../load/run';
import { usageError, type Command, type Io, type Values } from '../command';
import { callGateway, gatewayTarget } from '../gateway-client';

const HELP = `Usage: davis load --rate N --duration S [--types T1,T2] [--url URL] [--token TOKEN] [--json]

Sends messages to a running gateway (POST /v1/messages) in an open loop: request i is due
at i/N seconds after the start and is sent then, whether or not the earlier ones have been
answered, and its accept latency is counted from that due time (a slow answer does not hide
the requests that should have been sent meanwhile). Each message is a valid example of its
type (schemas/examples/<type>/valid-*.json, taken in turn) with its own ordering key
(application number, link id, ...) and its own Idempotency-Key.

Every second it prints what was sent, what was answered (2xx, 4xx, 5xx, no answer) and the
p50 and p99 accept latency of that second's answers; at the end a summary (p50, p90, p99,
p99.9, max, answers by status, errors by cause, the load generator's own lateness and CPU;
a request that times out counts in the latency at its timeout).

Options:
  --rate N          requests per second (decimals allowed), required
  --duration S      seconds to send for (decimals allowed), required; then it waits for the
                    outstanding answers (at most --timeout)
  --types T1,T2     message types to send, in turn [default: vis.application.create]
                    (outbound types of \`davis catalogue\`)
  --url URL         the gateway's API [default: $DAVIS_URL or http://127.0.0.1:8080, where
                    \`davis dev\` listens]
  --token TOKEN     bearer token of a client allowed to send these types [default:
                    $DAVIS_TOKEN; none: a dev-mode gateway on loopback needs none]
  --connections N   keep-alive connections at most [default: 256]
  --timeout MS      longest wait for one answer [default: 30000]
  --json            the summary as JSON on stdout (the per-second lines go to stderr)
  --help            this text

Exit codes: 0 every request answered 2xx, 1 some answered otherwise or not at all, 2 usage
error or the gateway cannot be reached.
`;

/** A positive number from `--flag`, or a usage error naming it. */
function positive(v: Values, flag: string, integer: boolean): number | undefined {
  const raw = v[flag];
  if (raw === undefined) return undefined;
  const s = String(raw);
  const n = Number(s);
  if (!/^\d+(\.\d+)?$/.test(s) || !(n > 0) || (integer && !Number.isInteger(n))) throw usageError(`--${flag} "${s}": must be a positive ${integer ? 'whole ' : ''}number`);
  return n;
}

const fmtMs = (ms: number) => (Number.isFinite(ms) ? ms.toFixed(ms < 10 ? 2 : 1) : '-');

/** One line per second. */
export function secondLine(r: SecondReport): string {
  const n = (x: number, w = 5) => String(x).padStart(w);
  return `${n(r.second, 4)}s  sent ${n(r.sent)}  answered ${n(r.answered)}  2xx ${n(r.s2xx)}  4xx ${n(r.s4xx)}  5xx ${n(r.s5xx)}  errors ${n(r.errors)}  p50 ${fmtMs(r.p50Ms).padStart(7)} ms  p99 ${fmtMs(r.p99Ms).padStart(7)} ms  in flight ${r.inFlight}\n`;
}

/** The summary as text. */
export function summaryText(s: LoadSummary): string {
  const codes = Object.entries(s.codes).map(([c, k]) => `${c} × ${k}`).join(', ') || 'none';
  const kinds = Object.entries(s.errorKinds).map(([c, k]) => `${c} × ${k}`).join(', ');
  const l = s.latencyMs;
  return [
    `summary: ${s.sent} sent at ${s.rate}/s for ${s.durationS} s to ${s.url} (${s.sentPerS.toFixed(1)}/s sent, ${s.answeredPerS.toFixed(1)}/s answered over ${s.elapsedS.toFixed(1)} s)`,
    `answers: ${s.answered} (2xx ${s.status['2xx']}, 4xx ${s.status['4xx']}, 5xx ${s.status['5xx']}); by status: ${codes}`,
    `no answer: ${s.errors}${kinds ? ` (${kinds})` : ''}; still outstanding at the end: ${s.unanswered}`,
    `accept latency from the due time, ms: p50 ${fmtMs(l.p50)}  p90 ${fmtMs(l.p90)}  p99 ${fmtMs(l.p99)}  p99.9 ${fmtMs(l.p999)}  max ${fmtMs(l.max)}`,
    `load generator: latest send ${fmtMs(s.maxSendLagMs)} ms after its due time, CPU ${Math.round(s.cpuMs)} ms`,
    '',
  ].join('\n');
}

export const loadCommand: Command = {
  options: {
    rate: { type: 'string' }, duration: { type: 'string' }, types: { type: 'string' },
    url: { type: 'string' }, token: { type: 'string' }, json: { type: 'boolean' },
    connections: { type: 'string' }, timeout: { type: 'string' },
  },
  help: HELP,
  async run(v, pos, io: Io) {
    if (pos.length) throw usageError(`unexpected argument "${pos[0]}" (davis load takes only options)`);
    const rate = positive(v, 'rate', false);
    const duration = positive(v, 'duration', false);
    if (rate === undefined) throw usageError('--rate is required (requests per second)');
    if (duration === undefined) throw usageError('--duration is required (seconds)');
    if (rate * duration < 1) throw usageError(`--rate ${rate} for --duration ${duration} sends no request`);
    const connections = positive(v, 'connections', true);
    const timeoutMs = positive(v, 'timeout', false);
    const types = v.types !== undefined ? String(v.types).split(',').map((t) => t.trim()) : ['vis.application.create'];
    if (types.some((t) => !t)) throw usageError(`--types "${String(v.types)}": an empty type name`);
    const templates = loadTemplates(types);
    const target = gatewayTarget(v);
    // Fails fast (exit 2, one line) when nothing answers there.
    await callGateway(target, 'GET', '/health/live', undefined, 5000);
    const run = Date.now().toString(36).toUpperCase();
    const progress = (line: string) => (v.json ? io.err(line) : io.out(line));
    const summary = await runLoad({
      url: target.base, ...(target.token ? { token: target.token } : {}), rate, durationS: duration,
      ...(connections ? { connections } : {}), ...(timeoutMs ? { timeoutMs } : {}),
      body: (i) => messageBody(templates[i % templates.length], `LOAD-${run}-${i}`),
      onSecond: (r) => progress(secondLine(r)),
    });
    if (v.json) io.out(JSON.stringify({ ...summary, types }, null, 2) + '\n');
    else io.out(summaryText(summary));
    return summary.status['2xx'] === summary.sent ? 0 : 1;
  },
};
