/** `send`: POST /v1/messages to the gateway (a catalogue payload, a body, or raw bytes). */
import { problemCode, type CaseRun, type StepCtx } from '../case-run';
import type { Step } from '../types';
import { payloadOf } from './payload';

export async function sendStep(cr: CaseRun, st: Extract<Step, { kind: 'send' }>, ctx: StepCtx): Promise<void> {
  let body: unknown;
  const headers: Record<string, string> = { ...cr.resolve(st.headers ?? {}) };
  let type: string | undefined;
  if (st.raw !== undefined) {
    body = cr.resolveText(st.raw);
    headers['content-type'] = st.contentType ?? 'application/json';
  } else if (st.body !== undefined) {
    body = cr.resolve(st.body);
    const t = (body as Record<string, unknown> | undefined)?.type;
    if (typeof t === 'string') type = t;
  } else {
    type = st.type;
    body = { type: st.type, payload: payloadOf(cr, st) };
  }
  if (type) cr.types.add(type);
  const answer = await cr.run.gateway('POST', '/v1/messages', body, headers);
  const id = answer.status === 202 && answer.body && typeof answer.body === 'object' ? String((answer.body as Record<string, unknown>).id ?? '') || undefined : undefined;
  const name = cr.record(st.as, { kind: 'send', ...(type ? { type } : {}), ...(id ? { id } : {}), answer });
  ctx.exchanges.push({ label: `POST /v1/messages (${name})`, request: { method: 'POST', url: `${cr.run.gatewayUrl}/v1/messages`, headers, body }, response: { status: answer.status, headers: answer.headers, body: answer.body } });
  const code = problemCode(answer);
  ctx.setLabel(`send ${type ?? (st.raw !== undefined ? 'raw body' : 'body')}${st.example ? ` (example ${st.example.name})` : ''} as ${name} → HTTP ${answer.status}${id ? ` id ${id}` : ''}${code ? ` ${code}` : ''}`);
}
