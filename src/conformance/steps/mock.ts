/** `mock`: the mock's faults (derived from the run seed) and reset. */
import { StepFailure, type CaseRun, type StepCtx } from '../case-run';
import type { HttpAnswer } from '../http';
import { hash32 } from '../template';
import type { MockStep } from '../types';

export async function mockStep(cr: CaseRun, st: MockStep, ctx: StepCtx): Promise<void> {
  let answer: HttpAnswer;
  if (st.action === 'reset') {
    answer = await cr.run.mock('POST', '/_mock/reset', {});
    ctx.setLabel('mock reset');
  } else {
    // Derived from the run seed and the case id: the same seed gives the same fault pattern.
    const seed = st.seed ?? hash32(cr.run.seed, cr.c.id, st.index) % 2 ** 31;
    const body = st.action === 'clear' ? {} : { ...cr.resolve(st.faults ?? {}), seed };
    answer = await cr.run.mock('POST', '/_mock/faults', body);
    if (st.action === 'faults') {
      cr.faultsSet = true;
      ctx.notes.push(`fault seed ${seed}`);
      ctx.setLabel(`mock faults ${Object.entries(st.faults ?? {}).map(([k, v]) => `${k}=${String(v)}`).join(' ')} seed ${seed}`);
    } else {
      cr.faultsSet = false;
      ctx.setLabel('mock faults cleared');
    }
    ctx.exchanges.push({ label: 'POST /_mock/faults', request: { method: 'POST', url: `${cr.run.mockUrl}/_mock/faults`, body }, response: { status: answer.status, body: answer.body } });
  }
  if (answer.status !== 200) {
    const msg = answer.body && typeof answer.body === 'object' ? (answer.body as Record<string, unknown>).message : undefined;
    throw new StepFailure(`the mock refused: HTTP ${answer.status}${msg ? `: ${String(msg)}` : ''}`);
  }
}
