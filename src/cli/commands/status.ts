/** `davis status`: a running gateway's health checks, messages by state, circuit and certificate, at a terminal. */
import { MESSAGE_STATES } from '../../journal/journal';
import { usageError, type Command } from '../command';
import { GATEWAY_OPTIONS_HELP, callGateway, exitOf, gatewayOptions, gatewayTarget, problemLine } from '../gateway-client';

const HELP = `Usage: davis status [--url URL] [--token TOKEN] [--json]

Asks a running gateway for its readiness checks (GET /health/ready: broker, journal, signing
key, central, ...) and its operations summary (GET /ops/summary, operator role: messages by
state, broker backlog, circuit towards central, days left on the signing certificate).

Options:
${GATEWAY_OPTIONS_HELP}
  --help          this text

Exit codes: 0 ready, 1 not ready (a check is down), 2 the gateway cannot be reached or
refuses this client (401/403).
`;

const DAY_S = 86400;

/** Whole days in a number of seconds, rounded down (negative once expired). */
function days(seconds: unknown): number | undefined {
  return typeof seconds === 'number' && Number.isFinite(seconds) ? Math.floor(seconds / DAY_S) : undefined;
}

export const statusCommand: Command = {
  options: gatewayOptions,
  help: HELP,
  async run(v, pos, io) {
    if (pos.length) throw usageError(`unexpected argument "${pos[0]}" (davis status takes no arguments)`);
    const target = gatewayTarget(v);
    const [ready, summary] = await Promise.all([callGateway(target, 'GET', '/health/ready'), callGateway(target, 'GET', '/ops/summary')]);
    if (ready.status !== 200 && ready.status !== 503) {
      io.err(`davis status: /health/ready: ${problemLine(ready)}\n`);
      return exitOf(ready);
    }
    if (summary.status !== 200) {
      io.err(`davis status: /ops/summary: ${problemLine(summary)}\n`);
      return exitOf(summary);
    }
    const isReady = ready.status === 200;
    const checks = (ready.body?.checks ?? {}) as Record<string, { status: string; reason?: string; secondsUntilExpiry?: number }>;
    const s = summary.body as Record<string, unknown>;
    const certDays = days(s.signingCertificateSecondsLeft);
    if (v.json) {
      io.out(JSON.stringify({
        url: target.base, ready: isReady, checks, ...s,
        ...(certDays !== undefined ? { signingCertificateDaysLeft: certDays } : {}),
      }, null, 2) + '\n');
      return isReady ? 0 : 1;
    }
    const counts = (s.messages ?? {}) as Record<string, number>;
    const states = [...new Set([...MESSAGE_STATES, ...Object.keys(counts)])];
    const width = Math.max(...Object.keys(checks).map((k) => k.length), 8);
    const lines = [
      `gateway   ${target.base}${typeof s.version === 'string' ? `  (version ${s.version})` : ''}: ${isReady ? 'ready' : 'NOT READY'}`,
      'checks',
      ...Object.entries(checks).sort(([a], [b]) => a.localeCompare(b)).map(([name, c]) =>
        `  ${name.padEnd(width)}  ${c.status === 'ok' ? 'ok' : 'DOWN'}${c.reason ? `  ${c.reason}` : ''}`),
      `messages  ${states.map((st) => `${st} ${counts[st] ?? 0}`).join(', ')}`,
      `circuit   ${typeof s.circuit === 'string' ? s.circuit : 'unknown'}`,
      `broker    ${s.broker === true ? 'connected' : s.broker === false ? 'DISCONNECTED' : 'unknown'}${typeof s.backlog === 'number' ? `, backlog ${s.backlog}` : ''}`,
      `signing certificate  ${certDays === undefined ? 'unknown' : certDays < 0 ? 'EXPIRED' : `${certDays} day(s) left`}`,
    ];
    io.out(lines.join('\n') + '\n');
    return isReady ? 0 : 1;
  },
};
