/** `notify`: the mock pushes a central notification to the gateway (POST /_mock/notify). */
import { problemCode, StepFailure, type CaseRun, type StepCtx } from '../case-run';
import type { Step } from '../types';
import { payloadOf } from './payload';

export async function notifyStep(cr: CaseRun, st: Extract<Step, { kind: 'notify' }>, ctx: StepCtx): Promise<void> {
  const body = st.body !== undefined ? cr.resolve(st.body) : { type: st.type, payload: payloadOf(cr, st), ...(st.messageId !== undefined ? { messageId: cr.resolveText(st.messageId) } : {}) };
  if (st.type) cr.types.add(st.type);
  const answer = await cr.run.mock('POST', '/_mock/notify', body);
  const id = answer.body && typeof answer.body === 'object' ? (answer.body as Record<string, unknown>).id : undefined;
  const name = cr.record(st.as, { kind: 'notify', ...(st.type ? { type: st.type } : {}), ...(typeof id === 'string' ? { id } : {}), answer });
  ctx.exchanges.push({ label: `POST /_mock/notify (${name})`, request: { method: 'POST', url: `${cr.run.mockUrl}/_mock/notify`, body }, response: { status: answer.status, headers: answer.headers, body: answer.body } });
  const gatewayStatus = answer.body && typeof answer.body === 'object' ? (answer.body as Record<string, unknown>).gatewayStatus : undefined;
  ctx.setLabel(`notify ${st.type ?? ''} as ${name} → HTTP ${answer.status}${gatewayStatus !== undefined ? `, gateway HTTP ${String(gatewayStatus)}` : ''}`);
  if (answer.status < 200 || answer.status > 299) {
    const code = problemCode(answer);
    throw new StepFailure(`the mock did not push the notification: HTTP ${answer.status}${answer.status === 404 ? ' (this mock has no /_mock/notify)' : code ? ` ${code}` : ''}`, code === 'MOCK_NOTIFY_FAILED' ? 'notification not pushed' : undefined);
  }
}

