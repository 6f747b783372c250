/** `davis messages list|show|retry`: find, read and re-queue messages of a running gateway. */
import { MESSAGE_STATES } from '../../journal/journal';
import { usageError, type Command, type Io, type Values } from '../command';
import { GATEWAY_OPTIONS_HELP, callGateway, exitOf, gatewayOptions, gatewayTarget, problemLine, type GatewayTarget } from '../gateway-client';

const HELP = `Usage: davis messages list [--type T] [--status S] [--direction D] [--from T] [--to T] [--limit N] [--cursor C]
       davis messages show ID
       davis messages retry ID [--reason TEXT]
       (each with [--url URL] [--token TOKEN] [--json])

list    messages newest first (GET /v1/messages, operator role); prints the cursor of the next
        page when there is one
show    one message: its states with times, attempts and errors, central's answer, the
        callback to UMA (GET /v1/messages/ID)
retry   re-queues a failed (dead-lettered) message (POST /v1/messages/ID/retry, operator role)

Options:
  --type T        a catalogue message type (see davis catalogue)
  --status S      one of ${MESSAGE_STATES.join(', ')}
  --direction D   outbound or inbound
  --from T        created at or after T (ISO 8601 date or date-time)
  --to T          created before T (ISO 8601 date or date-time)
  --limit N       at most N messages, 1 to 1000 [default: 100]
  --cursor C      the next page, as printed by the previous list
  --reason TEXT   why the message is retried (recorded with the retry)
${GATEWAY_OPTIONS_HELP}
  --help          this text

Exit codes: 0 done, 1 the gateway refused (no such message, not failed, ...), 2 usage, the
gateway cannot be reached or refuses this client (401/403).
`;

const ISO = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?$/;
const ID = /^[A-Za-z0-9._~-]{1,200}$/;
const LIST_ONLY = ['type', 'status', 'direction', 'from', 'to', 'limit', 'cursor'] as const;

/** Flags that belong to another subcommand are usage errors, not silently ignored. */
function refuseFlags(v: Values, flags: readonly string[], sub: string): void {
  for (const f of flags) if (v[f] !== undefined) throw usageError(`--${f}: not an option of "davis messages ${sub}"`);
}

/** The `GET /v1/messages` query from the flags, each value checked as the API would. */
export function listQuery(v: Values): URLSearchParams {
  const q = new URLSearchParams();
  const str = (k: string): string | undefined => (v[k] === undefined ? undefined : String(v[k]));
  const type = str('type');
  if (type !== undefined) {
    if (!/^[a-z][a-z0-9.-]{0,199}$/.test(type)) throw usageError(`--type "${type}": not a message type id (see davis catalogue)`);
    q.set('type', type);
  }
  const status = str('status');
  if (status !== undefined) {
    if (!(MESSAGE_STATES as readonly string[]).includes(status)) throw usageError(`--status "${status}": must be one of ${MESSAGE_STATES.join(', ')}`);
    q.set('status', status);
  }
  const direction = str('direction');
  if (direction !== undefined) {
    if (direction !== 'inbound' && direction !== 'outbound') throw usageError(`--direction "${direction}": must be outbound or inbound`);
    q.set('direction', direction);
  }
  for (const k of ['from', 'to'] as const) {
    const t = str(k);
    if (t === undefined) continue;
    if (!ISO.test(t) || Number.isNaN(Date.parse(t))) throw usageError(`--${k} "${t}": not an ISO 8601 date or date-time`);
    q.set(k, t);
  }
  const limit = str('limit');
  if (limit !== undefined) {
    if (!/^\d{1,4}$/.test(limit) || Number(limit) < 1 || Number(limit) > 1000) throw usageError(`--limit "${limit}": must be an integer from 1 to 1000`);
    q.set('limit', String(Number(limit)));
  }
  const cursor = str('cursor');
  if (cursor !== undefined) {
    if (!/^[A-Za-z0-9_-]{1,512}$/.test(cursor)) throw usageError(`--cursor "${cursor}": not a cursor the gateway printed`);
    q.set('cursor', cursor);
  }
  return q;
}

function messageId(pos: string[], sub: string): string {
  if (pos.length !== 2) throw usageError(pos.length < 2 ? `${sub}: a message id is required` : `${sub}: one message id, not ${pos.length - 1}`);
  if (!ID.test(pos[1])) throw usageError(`${sub}: "${pos[1]}" is not a message id`);
  return pos[1];
}

type Doc = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function table(rows: string[][], io: Io): void {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  for (const r of rows) io.out(r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ').trimEnd() + '\n');
}

async function list(t: GatewayTarget, v: Values, io: Io): Promise<number> {
  const q = listQuery(v);
  const a = await callGateway(t, 'GET', `/v1/messages${q.size ? `?${q}` : ''}`);
  if (a.status !== 200) {
    io.err(`davis messages list: ${problemLine(a)}\n`);
    return exitOf(a);
  }
  if (v.json) {
    io.out(JSON.stringify(a.body, null, 2) + '\n');
    return 0;
  }
  const items = (a.body?.items ?? []) as Doc[];
  if (!items.length) io.out('no messages\n');
  else {
    table([['ID', 'TYPE', 'STATUS', 'ATTEMPTS', 'APPLICATION', 'UPDATED'],
      ...items.map((m) => [String(m.id), String(m.type), String(m.status), String(m.attempts ?? 0), String(m.orderingKey ?? ''), String(m.updatedAt ?? '')])], io);
  }
  if (a.body?.next) io.out(`next page: davis messages list --cursor ${a.body.next}\n`);
  return 0;
}

async function show(t: GatewayTarget, id: string, v: Values, io: Io): Promise<number> {
  const a = await callGateway(t, 'GET', `/v1/messages/${encodeURIComponent(id)}`);
  if (a.status !== 200) {
    io.err(`davis messages show: ${problemLine(a)}\n`);
    return exitOf(a);
  }
  const m = a.body as Doc;
  if (v.json) {
    io.out(JSON.stringify(m, null, 2) + '\n');
    return 0;
  }
  const lines = [
    `id           ${m.id}`,
    `type         ${m.type} (${m.direction})`,
    `status       ${m.status}${m.attempts ? `, ${m.attempts} attempt(s)` : ''}`,
    `application  ${m.orderingKey ?? ''}`,
    `created      ${m.createdAt}`,
    `updated      ${m.updatedAt}`,
    ...(m.lastError ? [`last error   ${m.lastError}`] : []),
    ...(m.nextAttemptAt ? [`next attempt ${m.nextAttemptAt}`] : []),
    'history',
    ...((m.history ?? []) as Doc[]).map((h) => `  ${h.at}  ${String(h.status).padEnd(9)}${h.attempt !== undefined ? ` attempt ${h.attempt}` : ''}${h.detail ? `  ${h.detail}` : ''}`),
  ];
  if (m.central) {
    const c = m.central as Doc;
    lines.push(`central      ${c.result} ${c.code}${c.reference ? `, reference ${c.reference}` : ''}${c.reason ? `: ${c.reason}` : ''} (answered ${c.answeredAt})`);
  }
  if (m.webhook) {
    const w = m.webhook as Doc;
    lines.push(`callback     ${w.event}: ${w.state}, ${w.attempts} attempt(s)${w.lastError ? `, last error ${w.lastError}` : ''} (${w.updatedAt})`);
  }
  io.out(lines.join('\n') + '\n');
  return 0;
}

async function retry(t: GatewayTarget, id: string, v: Values, io: Io): Promise<number> {
  const reason = v.reason === undefined ? undefined : String(v.reason);
  if (reason !== undefined && !reason.trim()) throw usageError('--reason: must not be empty');
  if (reason !== undefined && reason.length > 500) throw usageError('--reason: at most 500 characters');
  const a = await callGateway(t, 'POST', `/v1/messages/${encodeURIComponent(id)}/retry`, reason !== undefined ? { reason } : undefined);
  if (a.status !== 202) {
    io.err(`davis messages retry: ${problemLine(a)}\n`);
    return exitOf(a);
  }
  io.out(v.json ? JSON.stringify(a.body, null, 2) + '\n' : `${a.body?.id ?? id}: ${a.body?.status ?? 'queued'} (retry accepted)\n`);
  return 0;
}

export const messagesCommand: Command = {
  options: {
    ...gatewayOptions,
    type: { type: 'string' }, status: { type: 'string' }, direction: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' },
    limit: { type: 'string' }, cursor: { type: 'string' }, reason: { type: 'string' },
  },
  help: HELP,
  async run(v, pos, io) {
    const sub = pos[0];
    if (sub === 'list') {
      if (pos.length > 1) throw usageError(`list: unexpected argument "${pos[1]}"`);
      refuseFlags(v, ['reason'], 'list');
      const t = gatewayTarget(v);
      return list(t, v, io);
    }
    if (sub === 'show' || sub === 'retry') {
      const id = messageId(pos, sub);
      refuseFlags(v, sub === 'show' ? [...LIST_ONLY, 'reason'] : LIST_ONLY, sub);
      const t = gatewayTarget(v);
      return sub === 'show' ? show(t, id, v, io) : retry(t, id, v, io);
    }
    throw usageError(sub === undefined ? 'a subcommand is required: list, show or retry' : `unknown subcommand "${sub}" (list, show or retry)`);
  },
};
