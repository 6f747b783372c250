/** `request`: any HTTP request to the gateway or the mock. */
import type { CaseRun, StepCtx } from '../case-run';
import { httpRequest } from '../http';
import type { Step } from '../types';

export async function requestStep(cr: CaseRun, st: Extract<Step, { kind: 'request' }>, ctx: StepCtx): Promise<void> {
  const p = cr.resolveText(st.path);
  const headers = cr.resolve(st.headers ?? {});
  const body = st.body !== undefined ? cr.resolve(st.body) : undefined;
  const answer = st.base === 'mock' ? await httpRequest({ method: st.method, url: cr.run.mockUrl + p, headers, ...(body !== undefined ? { body } : {}) }) : await cr.run.gateway(st.method, p, body, headers);
  const name = cr.record(st.as, { kind: 'request', answer });
  const url = (st.base === 'mock' ? cr.run.mockUrl : cr.run.gatewayUrl) + p;
  ctx.exchanges.push({ label: `${st.method} ${p} (${name})`, request: { method: st.method, url, headers, ...(body !== undefined ? { body } : {}) }, response: { status: answer.status, headers: answer.headers, body: answer.body } });
  ctx.setLabel(`${st.method} ${st.base === 'mock' ? 'mock ' : ''}${p} as ${name} → HTTP ${answer.status}`);
}
