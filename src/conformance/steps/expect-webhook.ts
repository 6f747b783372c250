/** `expect-webhook`: a callback the gateway sent to the run's receiver, with its signature and content. */
import { StepFailure, type CaseRun, type StepCtx } from '../case-run';
import { check, jsonCheck } from '../expectations';
import type { ReceivedWebhook } from '../http';
import { applyMatcher, show } from '../matchers';
import type { ExpectWebhookStep } from '../types';

export async function expectWebhookStep(cr: CaseRun, st: ExpectWebhookStep, ctx: StepCtx): Promise<void> {
  const rx = cr.run.receiver;
  if (!rx) throw new StepFailure('no webhook receiver: start davis dev, or run with --webhook-port');
  const within = st.withinMs ?? cr.within;
  const deadline = Date.now() + within;
  const wantId = st.message !== undefined ? cr.exchange(st.message)[1].id : undefined;
  if (st.message !== undefined && !wantId) throw new StepFailure(`exchange "${st.message}" created no message`);
  const eventOf = (w: ReceivedWebhook): unknown => w.headers['x-davis-event'] ?? (w.json as Record<string, unknown> | undefined)?.event;
  const idOf = (w: ReceivedWebhook): unknown => w.headers['x-davis-message-id'] ?? ((w.json as Record<string, any> | undefined)?.message?.id);
  const event = st.event !== undefined ? cr.resolve(st.event) : undefined;
  const matchesWanted = (w: ReceivedWebhook) => !cr.consumed.has(w.seq) && (wantId === undefined || idOf(w) === wantId) && (event === undefined || applyMatcher(event, { value: eventOf(w), present: eventOf(w) !== undefined }).ok);
  let hit: ReceivedWebhook | undefined;
  while (!(hit = rx.received.find(matchesWanted)) && Date.now() < deadline) await rx.nextArrival(Math.max(1, deadline - Date.now()));
  if (!hit) {
    const seen = rx.received.filter((w) => !cr.consumed.has(w.seq)).map((w) => `${String(eventOf(w))}/${String(idOf(w))}`);
    throw new StepFailure(`no callback${event !== undefined ? ` with event ${show(event)}` : ''}${wantId ? ` for ${st.message} (${wantId})` : ''} within ${Math.round(within / 1000)} s${seen.length ? `; received: ${seen.slice(0, 5).join(', ')}` : '; none received'}`, 'webhook not received');
  }
  cr.consumed.add(hit.seq);
  const name = cr.record(st.as, { kind: 'webhook', body: hit.json ?? hit.text, ...(typeof idOf(hit) === 'string' ? { id: idOf(hit) as string } : {}) });
  ctx.exchanges.push({ label: `callback received (${name})`, request: { method: 'POST', url: hit.path, headers: hit.headers, body: hit.json ?? hit.text } });
  const mode = st.signature ?? (rx.checksSignatures ? 'valid' : 'any');
  if (mode === 'valid') {
    const ok = hit.signatureValid === true;
    ctx.checks.push({ name: 'X-Davis-Signature', ok, problems: ok ? [] : [hit.headers['x-davis-signature'] ? 'the HMAC-SHA256 does not match the secret' : 'no X-Davis-Signature header'] });
  } else if (mode === 'absent') {
    const ok = hit.headers['x-davis-signature'] === undefined;
    ctx.checks.push({ name: 'X-Davis-Signature', ok, problems: ok ? [] : ['a signature was sent'] });
  }
  for (const [h, spec] of Object.entries(st.headers ?? {})) ctx.checks.push(check(`header ${h}`, cr.resolve(spec), { value: hit.headers[h], present: hit.headers[h] !== undefined }));
  for (const c of st.json ?? []) ctx.checks.push(jsonCheck('callback', cr, c, hit.json, true));
  ctx.setLabel(`expect-webhook ${String(eventOf(hit))}${wantId ? ` for ${st.message}` : ''} as ${name}`);
}
