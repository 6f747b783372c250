/** The step executors, by step kind, and each step's label before it runs. */
import type { CaseRun, StepCtx } from '../case-run';
import type { Step } from '../types';
import { captureStep } from './capture';
import { expectStep } from './expect';
import { expectWebhookStep } from './expect-webhook';
import { mockStep } from './mock';
import { mockStateStep } from './mock-state';
import { notifyStep } from './notify';
import { sleep } from './poll';
import { requestStep } from './request';
import { sendStep } from './send';

/** Runs one step of a case; throws `StepFailure` for a failed expectation. */
export async function executeStep(cr: CaseRun, st: Step, ctx: StepCtx): Promise<void> {
  switch (st.kind) {
    case 'send': return sendStep(cr, st, ctx);
    case 'request': return requestStep(cr, st, ctx);
    case 'expect': return expectStep(cr, st, ctx);
    case 'capture': return captureStep(cr, st, ctx);
    case 'mock': return mockStep(cr, st, ctx);
    case 'mock-state': return mockStateStep(cr, st, ctx);
    case 'wait': await sleep(st.ms); return;
    case 'notify': return notifyStep(cr, st, ctx);
    case 'expect-webhook': return expectWebhookStep(cr, st, ctx);
  }
}

/** A label for a step before it runs (skipped steps keep it). */
export function stepLabel(st: Step): string {
  switch (st.kind) {
    case 'send': return `send ${st.type ?? (st.raw !== undefined ? 'raw body' : 'body')}${st.as ? ` as ${st.as}` : ''}`;
    case 'request': return `${st.method} ${st.base === 'mock' ? 'mock ' : ''}${st.path}`;
    case 'expect': return `expect ${st.message ?? '(last)'}${st.status ? ` status ${Array.isArray(st.status) ? st.status.join('|') : st.status}` : ''}`;
    case 'capture': return `capture ${Object.keys(st.vars).join(', ')}`;
    case 'mock': return st.action === 'faults' ? `mock faults ${Object.keys(st.faults ?? {}).join(', ')}` : `mock ${st.action}`;
    case 'mock-state': return `mock-state ${st.action === 'apply' ? `apply ${st.apply!.type}` : st.action}`;
    case 'wait': return `wait ${st.ms} ms`;
    case 'notify': return `notify ${st.type ?? ''}`;
    case 'expect-webhook': return `expect-webhook${st.event !== undefined && typeof st.event === 'string' ? ` ${st.event}` : ''}`;
  }
}
