/**
 * `expect`: the HTTP answer of an exchange, the message's status document (polled until the
 * checks pass or it settles), the wire XML central received, and the order and repeats of
 * arrivals at the mock.
 */
import { problemCode, StepFailure, type CaseRun, type StepCtx } from '../case-run';
import { causeOf, check, jsonCheck, TERMINAL, xpathCheck } from '../expectations';
import type { HttpAnswer } from '../http';
import { looseEqual, show } from '../matchers';
import type { CheckResult, ExpectStep } from '../types';
import { poll } from './poll';
import { wireXml } from './wire-xml';

export async function expectStep(cr: CaseRun, st: ExpectStep, ctx: StepCtx): Promise<void> {
  const [name, x] = cr.exchange(st.message);
  const within = st.withinMs ?? cr.within;
  const deadline = Date.now() + within;
  const parts: string[] = [];
  const answer = x.answer;
  const push = (r: CheckResult) => ctx.checks.push(r);
  // 1. The HTTP answer.
  if (st.http !== undefined) push(check('http', cr.resolve(st.http), { value: answer?.status, present: answer !== undefined }));
  for (const [h, spec] of Object.entries(st.headers ?? {})) push(check(`header ${h}`, cr.resolve(spec), { value: answer?.headers[h], present: answer?.headers[h] !== undefined }));
  for (const c of st.response ?? []) push(jsonCheck(`response`, cr, c, answer?.body, false));
  if (st.problem) {
    const body = (answer?.body && typeof answer.body === 'object' ? answer.body : {}) as Record<string, unknown>;
    if (st.problem.code !== undefined) push(check('problem.code', cr.resolve(st.problem.code), { value: body.code, present: body.code !== undefined }));
    const got = Array.isArray(body.errors) ? (body.errors as { pointer?: unknown }[]).map((e) => String(e.pointer ?? '')) : [];
    if (st.problem.pointers) {
      const want = [...new Set(cr.resolve(st.problem.pointers))].sort();
      const have = [...new Set(got)].sort();
      const ok = looseEqual(want, have);
      push({ name: 'problem.pointers', ok, expected: want, actual: have, problems: ok ? [] : [`expected exactly ${show(want)}, got ${show(have)}`] });
    }
    if (st.problem.includesPointers) {
      const want = cr.resolve(st.problem.includesPointers);
      const missing = want.filter((p) => !got.includes(p));
      push({ name: 'problem.pointers', ok: !missing.length, expected: want, actual: got, problems: missing.length ? [`missing ${show(missing)}, got ${show(got)}`] : [] });
    }
  }
  if (answer) parts.push(`HTTP ${answer.status}`);

  // 2. The message's status document, polled until the checks pass or it settles.
  const wantsDoc = st.status !== undefined || st.central !== undefined || st.attempts !== undefined || st.json !== undefined;
  let doc: Record<string, any> | undefined;
  if (wantsDoc) {
    if (!x.id) {
      push({ name: 'message', ok: false, problems: [`no message was created (HTTP ${answer?.status ?? '-'}${problemCode(answer) ? ` ${problemCode(answer)}` : ''})`] });
      if (answer && answer.status !== 202) ctx.setCause(`HTTP ${answer.status}${problemCode(answer) ? ` ${problemCode(answer)}` : ''}`);
    } else {
      const wanted = st.status === undefined ? undefined : Array.isArray(st.status) ? [...st.status] : [st.status as string];
      let results: CheckResult[] = [];
      let polls = 0;
      const r = await poll(deadline, cr.poll, async () => {
        polls++;
        let a: HttpAnswer;
        try {
          a = await cr.run.gateway('GET', `/v1/messages/${encodeURIComponent(x.id!)}`);
        } catch (err) {
          if (Date.now() >= deadline) throw err;
          return { done: false, value: doc };
        }
        if (a.status !== 200) {
          results = [{ name: 'status document', ok: false, problems: [`GET /v1/messages/${x.id} answered HTTP ${a.status}`] }];
          return { done: false, value: doc };
        }
        doc = a.body as Record<string, any>;
        results = docChecks(cr, st, doc, wanted);
        const settled = TERMINAL.has(String(doc.status));
        return { done: results.every((c) => c.ok) || settled, value: doc };
      });
      doc = r.value;
      for (const c of results) push(c);
      if (doc) {
        ctx.exchanges.push({ label: `GET /v1/messages/${x.id} (${polls} poll${polls === 1 ? '' : 's'})`, request: { method: 'GET', url: `${cr.run.gatewayUrl}/v1/messages/${x.id}` }, response: { status: 200, body: doc } });
        parts.push(`${String(doc.status)}${doc.central?.code ? ` ${String(doc.central.code)}` : ''}`);
      }
      if (results.some((c) => !c.ok)) {
        const why = causeOf(doc);
        if (why) ctx.setCause(why);
        if (r.timedOut) ctx.notes.push(`waited ${Math.round(within / 1000)} s; the message was ${String(doc?.status ?? 'not readable')}`);
      }
    }
  }

  // Once the message is settled, or an earlier part failed, what central holds will not
  // change: look once instead of waiting for something that cannot come.
  const settled = !!doc && TERMINAL.has(String(doc.status));
  const waitUntil = () => (settled || ctx.checks.some((c) => !c.ok) ? Date.now() : deadline);

  // 3. The wire XML central received.
  if (st.xml?.length) {
    if (!x.id) push({ name: 'wire XML', ok: false, problems: ['no message was created'] });
    else {
      const r = await wireXml(cr.run, x.id, waitUntil(), cr.poll);
      if (!r.doc) {
        push({ name: 'wire XML', ok: false, problems: [`the mock did not receive message ${x.id}${r.status ? ` (HTTP ${r.status})` : ''}`] });
        ctx.setCause(causeOf(doc) ?? 'not received by central');
      } else {
        ctx.exchanges.push({ label: `GET /_mock/messages/${x.id}`, request: { method: 'GET', url: `${cr.run.mockUrl}/_mock/messages/${x.id}` }, response: { status: 200, body: r.text } });
        for (const c of st.xml) push(xpathCheck(cr, c, r.doc));
      }
    }
  }

  // 4. The order and repeats of arrivals at the mock.
  if (st.received) await received(cr, st, waitUntil(), ctx);
  ctx.setLabel(`expect ${name}${parts.length ? ` → ${parts.join(', ')}` : ''}`);
}

function docChecks(cr: CaseRun, st: ExpectStep, doc: Record<string, any>, wanted: string[] | undefined): CheckResult[] {
  const out: CheckResult[] = [];
  if (wanted) {
    const history: string[] = Array.isArray(doc.history) ? doc.history.map((h: { status: string }) => h.status) : [];
    // A passing state counts once it has happened: polling can miss a short `retrying`.
    const ok = wanted.includes(doc.status) || wanted.some((w) => !TERMINAL.has(w) && history.includes(w));
    const why = causeOf(doc);
    out.push({ name: 'status', ok, expected: wanted.length === 1 ? wanted[0] : wanted, actual: doc.status, problems: ok ? [] : [`expected ${wanted.join(' or ')}, got ${String(doc.status)}${why ? ` (${why})` : ''}`] });
  }
  for (const [k, spec] of Object.entries(st.central ?? {})) {
    const v = doc.central?.[k];
    out.push(check(`central.${k}`, cr.resolve(spec), { value: v, present: v !== undefined }));
  }
  if (st.attempts !== undefined) out.push(check('attempts', cr.resolve(st.attempts), { value: doc.attempts, present: doc.attempts !== undefined }));
  for (const c of st.json ?? []) out.push(jsonCheck('status', cr, c, doc, false));
  return out;
}

async function received(cr: CaseRun, st: ExpectStep, deadline: number, ctx: StepCtx): Promise<void> {
  const spec = st.received!;
  const idOf = (n: string): string => {
    const x = cr.exchanges.get(n);
    if (!x?.id) throw new StepFailure(`exchange "${n}" created no message`);
    return x.id;
  };
  let list: { id: string; repeats: number; code: string }[] = [];
  const evaluate = (): CheckResult[] => {
    const out: CheckResult[] = [];
    const pos = new Map(list.map((e, i) => [e.id, i]));
    for (const n of spec.includes ?? []) {
      const ok = pos.has(idOf(n));
      out.push({ name: `received includes ${n}`, ok, problems: ok ? [] : [`central did not receive ${n} (${idOf(n)})`] });
    }
    if (spec.order) {
      const ids = spec.order.map(idOf);
      const missing = spec.order.filter((n, i) => !pos.has(ids[i]));
      const seen = spec.order.filter((n, i) => pos.has(ids[i])).sort((a, b) => pos.get(idOf(a))! - pos.get(idOf(b))!);
      const ok = !missing.length && seen.every((n, i) => n === spec.order![i]);
      out.push({
        name: 'received order', ok, expected: spec.order, actual: seen,
        problems: ok ? [] : missing.length ? [`not received: ${missing.join(', ')}`] : [`expected order ${spec.order.join(' → ')}, got ${seen.join(' → ')}`],
      });
    }
    for (const [n, m] of Object.entries(spec.repeats ?? {})) {
      const e = list.find((x) => x.id === idOf(n));
      out.push(check(`received repeats ${n}`, cr.resolve(m), { value: e?.repeats, present: !!e }));
    }
    for (const [n, m] of Object.entries(spec.codes ?? {})) {
      const e = list.find((x) => x.id === idOf(n));
      out.push(check(`received code ${n}`, cr.resolve(m), { value: e?.code, present: !!e }));
    }
    return out;
  };
  let results: CheckResult[] = [];
  const positive = (spec.includes?.length ?? 0) + (spec.order?.length ?? 0) + Object.keys(spec.repeats ?? {}).length + Object.keys(spec.codes ?? {}).length;
  await poll(positive ? deadline : Date.now(), cr.poll, async () => {
    const a = await cr.run.mock('GET', '/_mock/received');
    if (a.status !== 200) throw new StepFailure(`GET /_mock/received answered HTTP ${a.status}`);
    list = ((a.body as { items?: typeof list }).items ?? []);
    results = evaluate();
    return { done: results.every((c) => c.ok), value: undefined };
  });
  for (const n of spec.excludes ?? []) {
    const id = idOf(n);
    const ok = !list.some((e) => e.id === id);
    results.push({ name: `received excludes ${n}`, ok, problems: ok ? [] : [`central received ${n} (${id}) but must not have (yet)`] });
  }
  ctx.checks.push(...results);
  const mine = new Set([...cr.exchanges.values()].map((x) => x.id).filter(Boolean));
  ctx.exchanges.push({ label: 'GET /_mock/received (this case\'s messages)', request: { method: 'GET', url: `${cr.run.mockUrl}/_mock/received` }, response: { status: 200, body: list.filter((e) => mine.has(e.id)) } });
}
