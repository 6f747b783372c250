/** `mock-state`: seeds central's state over the mock's control endpoint (other Member States' files, MID links, ESP hits). */
import { StepFailure, type CaseRun, type StepCtx } from '../case-run';
import { isCode } from '../expectations';
import type { MockStateStep } from '../types';
import { payloadOf } from './payload';

export async function mockStateStep(cr: CaseRun, st: MockStateStep, ctx: StepCtx): Promise<void> {
  let method = 'POST';
  let p: string;
  let body: unknown;
  let what: string;
  switch (st.action) {
    case 'apply': {
      const a = st.apply!;
      const sender = cr.resolveText(a.sender);
      p = '/_mock/state/apply';
      body = { type: a.type, sender, payload: payloadOf(cr, a) };
      what = `apply ${a.type} as ${sender}`;
      break;
    }
    case 'link': {
      p = '/_mock/state/links';
      body = cr.resolve(st.body);
      const b = body as { linkId?: unknown; colour?: unknown; verifierMemberState?: unknown };
      what = `link ${String(b.linkId)} ${String(b.colour ?? 'YELLOW')}${b.verifierMemberState !== undefined ? ` verifier ${String(b.verifierMemberState)}` : ''}`;
      break;
    }
    case 'esp-hits': {
      p = '/_mock/state/esp-hits';
      body = cr.resolve(st.body);
      // Set before the request: a half-applied configuration is removed too.
      cr.espHitsSet = true;
      const entries = Array.isArray(body) ? body : [body];
      const hits = entries.reduce((n: number, e) => n + (((e as { hits?: unknown[] }).hits ?? []).length), 0);
      what = `esp-hits ${entries.length} entr${entries.length === 1 ? 'y' : 'ies'}, ${hits} hit${hits === 1 ? '' : 's'}`;
      break;
    }
    case 'clear-esp-hits':
      method = 'DELETE';
      p = '/_mock/state/esp-hits';
      what = 'clear-esp-hits';
      cr.espHitsSet = false;
      break;
  }
  const answer = await cr.run.mock(method, p, body);
  const name = cr.record(st.as, { kind: 'mock-state', answer });
  ctx.exchanges.push({ label: `${method} ${p} (${name})`, request: { method, url: cr.run.mockUrl + p, ...(body !== undefined ? { body } : {}) }, response: { status: answer.status, headers: answer.headers, body: answer.body } });
  const outcome = answer.body && typeof answer.body === 'object' ? (answer.body as Record<string, unknown>) : {};
  ctx.setLabel(`mock-state ${what}${st.as ? ` as ${name}` : ''} → HTTP ${answer.status}${st.action === 'apply' && typeof outcome.code === 'string' ? ` ${outcome.code}` : ''}`);
  if (answer.status === 404) throw new StepFailure(`the mock cannot seed its state: ${method} ${p} answered 404 (a mock without /_mock/state)`, 'mock without /_mock/state');
  if (answer.status !== 200) {
    const msg = typeof outcome.message === 'string' ? outcome.message : undefined;
    throw new StepFailure(`the mock refused to seed: HTTP ${answer.status}${outcome.code ? ` ${String(outcome.code)}` : ''}${msg ? `: ${msg}` : ''}`, 'mock refused to seed');
  }
  // A seeding message central refuses prepares nothing: the case cannot mean what it says.
  if (st.action === 'apply' && outcome.result !== 'ACCEPTED') {
    throw new StepFailure(`central refused the seeded ${st.apply!.type}: ${isCode(outcome.code) ? outcome.code : 'no code'}${isCode(outcome.reason) ? ` (${outcome.reason})` : ''}`, 'seeding refused by central');
  }
}
