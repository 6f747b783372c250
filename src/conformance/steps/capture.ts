/** `capture`: a value from a response, a status document or the wire XML into a variable. */
import { StepFailure, type CaseRun, type StepCtx } from '../case-run';
import { locate } from '../expectations';
import type { Step } from '../types';
import { compileXPath, xpathResultToJson } from '../../xml/xpath';
import { wireXml } from './wire-xml';

export async function captureStep(cr: CaseRun, st: Extract<Step, { kind: 'capture' }>, ctx: StepCtx): Promise<void> {
  for (const [name, spec] of Object.entries(st.vars)) {
    const [xname, x] = cr.exchange(spec.message);
    let value: unknown;
    let found: boolean;
    if (spec.from === 'wire') {
      if (!x.id) throw new StepFailure(`capture ${name}: ${xname} created no message`);
      const r = await wireXml(cr.run, x.id, Date.now() + cr.within, cr.poll);
      if (!r.doc) throw new StepFailure(`capture ${name}: the mock did not receive ${xname}`);
      value = xpathResultToJson(compileXPath(cr.resolveText(spec.xpath!), spec.namespaces).evaluate(r.doc));
      found = value !== undefined;
    } else {
      let doc: unknown;
      if (spec.from === 'response') doc = x.kind === 'webhook' ? x.body : x.answer?.body;
      else {
        if (!x.id) throw new StepFailure(`capture ${name}: ${xname} created no message`);
        const a = await cr.run.gateway('GET', `/v1/messages/${encodeURIComponent(x.id)}`);
        doc = a.body;
      }
      const r = locate(cr, { ...(spec.pointer !== undefined ? { pointer: spec.pointer } : {}), ...(spec.path !== undefined ? { path: spec.path } : {}), namespaces: {}, spec: null }, doc);
      value = r.value;
      found = r.present;
    }
    if (!found) throw new StepFailure(`capture ${name}: nothing at ${spec.pointer ?? spec.path ?? spec.xpath} (${spec.from} of ${xname})`);
    cr.vars.set(name, value);
    ctx.notes.push(`captured ${name}`);
  }
  ctx.setLabel(`capture ${Object.keys(st.vars).join(', ')}`);
}
