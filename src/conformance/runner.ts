/**
 * Runs loaded suites against a gateway and a mock central's control endpoint, phase by
 * phase, case by case, step by step, and returns a {@link RunResult} the reporters render.
 *
 * Cases run one at a time: faults are global to the mock, so a case that sets them must
 * have the mock to itself. The same seed gives the same run: fault seeds and `${random:…}`
 * values are derived from the run seed and the case id (not from the case's position, so a
 * `--grep` subset gets the values of the full run), and cases run in file order. Only
 * identifiers that must differ between runs against the same gateway (`${unique:…}`) come
 * from the run id; give `--run-id` too to reproduce those against a fresh stack.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseXml, type XmlDocument } from '../xml/parser';
import { screenXml } from '../xml/screen';
import { WIRE_SCREEN_LIMITS } from '../wire/envelope';
import { httpRequest, TransportError, WebhookReceiver, type HttpAnswer, type ReceivedWebhook } from './http';
import { compileJsonPath, getPointer, removePointer, setPointer } from './jsonpath';
import { applyMatcher, looseEqual, show, type Subject } from './matchers';
import { hash32, interpolate, interpolateString, TemplateError, type TemplateScope } from './template';
import {
  PHASES,
  type Case, type CaseResult, type Check, type CheckResult, type Counts, type Exchange, type ExpectStep, type ExpectWebhookStep,
  type MockStateStep, type MockStep, type PayloadSource, type Phase, type PhaseResult, type RunResult, type Step, type StepResult, type Suite, type Verdict,
} from './types';
import { compileXPath, xpathResultToJson } from '../xml/xpath';

/** Default gateway address (`npm start`). */
export const DEFAULT_GATEWAY_URL = 'http://127.0.0.1:8080';
/** Default mock control address (`npm start`). */
export const DEFAULT_MOCK_CONTROL_URL = 'http://127.0.0.1:8444';

/** Message states after which nothing changes (but an operator retry). */
const TERMINAL = new Set(['delivered', 'rejected', 'failed', 'refused']);

/** Options of a run. */
export interface RunOptions {
  /** Gateway base URL. @default "http://127.0.0.1:8080" */
  readonly gatewayUrl?: string;
  /** Mock central control base URL (`/_mock/*`). @default "http://127.0.0.1:8444" */
  readonly mockControlUrl?: string;
  /** Run seed. @default random, printed in the summary */
  readonly seed?: number;
  /** Run id (part of `${unique:…}`): six characters A-Z0-9. @default random */
  readonly runId?: string;
  /** Only cases whose id, title, a tag, the phase or the suite id matches (regular expression, case-insensitive). */
  readonly grep?: string;
  /** Run later phases even when one fails. @default false */
  readonly keepGoing?: boolean;
  /** Extra headers on every request to the gateway (e.g. `authorization: Bearer …` outside dev mode). */
  readonly gatewayHeaders?: Readonly<Record<string, string>>;
  /** Port of the local webhook receiver; undefined: none (cases that need it are skipped). 0: any free port. */
  readonly webhookPort?: number;
  /** Secret for checking `X-Davis-Signature` (overrides the suites' `webhook.secret`). */
  readonly webhookSecret?: string;
  /** Overrides every suite's default wait, ms. */
  readonly withinMs?: number;
  /** `POST /_mock/reset` before the run (empties central's state: only for a mock of your own). @default false */
  readonly resetMock?: boolean;
  /** Progress callbacks (the console reporter). */
  readonly hooks?: RunHooks;
  /** Environment for `${env:…}`. @default process.env */
  readonly env?: NodeJS.ProcessEnv;
}

/** Progress callbacks. */
export interface RunHooks {
  onStart?(info: { runId: string; seed: number; gatewayUrl: string; mockControlUrl: string; cases: number; webhookUrl?: string }): void;
  onPhaseStart?(phase: Phase, cases: number): void;
  onCase?(result: CaseResult, index: number, total: number): void;
  onPhaseEnd?(result: PhaseResult): void;
}

/** An HTTP exchange a case made, by name. */
interface ExchangeRecord {
  readonly kind: 'send' | 'request' | 'notify' | 'webhook' | 'mock-state';
  readonly type?: string;
  /** Message id (send, notify answers with an id). */
  readonly id?: string;
  readonly answer?: HttpAnswer;
  readonly body?: unknown;
}

/** A check failed; carries what the report needs. */
class StepFailure extends Error {
  constructor(message: string, readonly failureCause?: string) {
    super(message);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function newRunId(): string {
  const b = randomBytes(6);
  const A = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  return [...b].map((x) => A[x % 36]).join('');
}

/** The version in this package's `package.json`. */
export function runnerVersion(): string {
  let dir = __dirname;
  for (let i = 0; i < 5; i++) {
    try {
      return (JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { version: string }).version;
    } catch {
      dir = path.dirname(dir);
    }
  }
  return 'unknown';
}

/** Whether a central reason is a bare code (safe to print) rather than free text that may echo data. */
function isCode(s: unknown): s is string {
  return typeof s === 'string' && /^[A-Z][A-Z0-9_.:-]{1,80}$/.test(s);
}

/** `central VIS_ERR_X (DAVIS_ERR_Y)`, or the last error code, for a status document. */
function causeOf(doc: Record<string, any> | undefined): string | undefined {
  if (!doc) return undefined;
  const c = doc.central as Record<string, unknown> | undefined;
  if (c && c.code && c.code !== 'OK') return `central ${String(c.code)}${isCode(c.reason) ? ` (${c.reason})` : ''}`;
  if (typeof doc.lastError === 'string' && doc.status !== 'delivered') {
    const m = /^([A-Z][A-Z0-9_]+)(?::\s*([A-Z][A-Z0-9_]+))?/.exec(doc.lastError);
    if (m) return `${doc.status} ${m[1]}${m[2] ? ` (${m[2]})` : ''}`;
  }
  return undefined;
}

/** One case in progress. */
class CaseRun {
  readonly vars = new Map<string, unknown>();
  readonly exchanges = new Map<string, ExchangeRecord>();
  lastExchange?: string;
  faultsSet = false;
  /** The case configured ESP hits at the mock: they are removed after it. */
  espHitsSet = false;
  private auto = 0;
  readonly types = new Set<string>();
  /** Webhook callbacks already matched by an earlier step. */
  readonly consumed = new Set<number>();

  constructor(readonly c: Case, readonly suite: Suite, readonly run: Runner) {
    for (const [k, v] of Object.entries(suite.variables)) this.vars.set(k, interpolate(v, this.scope()));
    for (const [k, v] of Object.entries(c.variables)) this.vars.set(k, interpolate(v, this.scope()));
  }

  scope(): TemplateScope {
    return { runId: this.run.runId, seed: this.run.seed, caseId: this.c.id, vars: this.vars, env: this.run.env };
  }

  resolve<T>(v: T): T {
    try {
      return interpolate(v, this.scope()) as T;
    } catch (err) {
      // `${m}` of an exchange that created no message: a failed expectation, not a suite error.
      const m = err instanceof TemplateError ? /undefined variable "([^"]+)"/.exec(err.message) : null;
      const x = m ? this.exchanges.get(m[1]) : undefined;
      if (x) throw new StepFailure(`\${${m![1]}}: ${m![1]} created no message (HTTP ${x.answer?.status ?? '-'}${problemCode(x.answer) ? ` ${problemCode(x.answer)}` : ''})`);
      throw err;
    }
  }

  exchangeName(as: string | undefined): string {
    return as ?? `_${++this.auto}`;
  }

  exchange(name: string | undefined): [string, ExchangeRecord] {
    const n = name ?? this.lastExchange;
    const x = n !== undefined ? this.exchanges.get(n) : undefined;
    if (!n || !x) throw new StepFailure(name ? `no exchange named "${name}" happened` : 'no earlier send or request');
    return [n, x];
  }

  get within(): number {
    return this.run.opts.withinMs ?? this.suite.defaults.withinMs;
  }

  get poll(): number {
    return this.suite.defaults.pollMs;
  }
}

/** Runs suites; one instance per run. */
class Runner {
  readonly runId: string;
  readonly seed: number;
  readonly gatewayUrl: string;
  readonly mockUrl: string;
  readonly env: NodeJS.ProcessEnv;
  receiver?: WebhookReceiver;
  webhookUrl?: string;

  constructor(readonly suites: readonly Suite[], readonly opts: RunOptions) {
    this.runId = opts.runId ?? newRunId();
    this.seed = opts.seed ?? Math.floor(Math.random() * 2 ** 31);
    this.gatewayUrl = (opts.gatewayUrl ?? DEFAULT_GATEWAY_URL).replace(/\/+$/, '');
    this.mockUrl = (opts.mockControlUrl ?? DEFAULT_MOCK_CONTROL_URL).replace(/\/+$/, '');
    this.env = opts.env ?? process.env;
  }

  gateway(method: string, p: string, body?: unknown, headers: Record<string, string> = {}): Promise<HttpAnswer> {
    return httpRequest({ method, url: this.gatewayUrl + p, headers: { ...(this.opts.gatewayHeaders ?? {}), ...headers }, ...(body !== undefined ? { body } : {}) });
  }

  mock(method: string, p: string, body?: unknown): Promise<HttpAnswer> {
    return httpRequest({ method, url: this.mockUrl + p, ...(body !== undefined ? { body } : {}) });
  }

  async execute(): Promise<RunResult> {
    const startedAt = new Date();
    const grep = this.opts.grep ? new RegExp(this.opts.grep, 'i') : undefined;
    const selected: { c: Case; s: Suite }[] = [];
    for (const s of this.suites) {
      for (const c of s.cases) {
        // Field by field, so that anchors work: `^ROB-001$` selects one id.
        if (!grep || [c.id, c.title, c.phase, s.id, ...c.tags].some((f) => grep.test(f))) selected.push({ c, s });
      }
    }
    const needsWebhook = selected.some(({ c }) => c.requires.includes('webhook') || c.steps.some((st) => st.kind === 'expect-webhook'));
    if (this.opts.webhookPort !== undefined && needsWebhook) {
      const secret = this.opts.webhookSecret ?? this.suites.map((s) => s.webhookSecret).find(Boolean);
      this.receiver = new WebhookReceiver(secret !== undefined ? String(interpolateString(secret, { runId: this.runId, seed: this.seed, caseId: '', vars: new Map(), env: this.env })) : undefined);
      this.webhookUrl = await this.receiver.start(this.opts.webhookPort);
    }
    try {
      this.opts.hooks?.onStart?.({ runId: this.runId, seed: this.seed, gatewayUrl: this.gatewayUrl, mockControlUrl: this.mockUrl, cases: selected.length, ...(this.webhookUrl ? { webhookUrl: this.webhookUrl } : {}) });
      if (this.opts.resetMock) await this.mock('POST', '/_mock/reset', {}).catch(() => undefined);
      const gateway = await this.gatewayVersion();
      const cases: CaseResult[] = [];
      const phases: PhaseResult[] = [];
      let stoppedBy: Phase | undefined;
      let index = 0;
      for (const phase of PHASES) {
        const inPhase = selected.filter((x) => x.c.phase === phase);
        const t0 = Date.now();
        const results: CaseResult[] = [];
        if (inPhase.length) this.opts.hooks?.onPhaseStart?.(phase, inPhase.length);
        for (const { c, s } of inPhase) {
          let r: CaseResult;
          if (stoppedBy) r = this.skipped(c, s, `not run: phase ${stoppedBy} failed (use --keep-going to run it anyway)`);
          else if (c.skip) r = this.skipped(c, s, c.skip);
          else if (c.requires.includes('webhook') && !this.receiver) r = this.skipped(c, s, 'needs a webhook receiver: run with --webhook-port N and set the gateway\'s webhook.url to http://127.0.0.1:N/');
          else r = await this.runCase(c, s);
          results.push(r);
          this.opts.hooks?.onCase?.(r, ++index, selected.length);
        }
        // Several suites may set criteria for one phase: the strictest holds.
        const criteria = this.suites.filter((s) => s.cases.some((c) => c.phase === phase)).map((s) => s.exitCriteria[phase]?.maxFailures ?? 0);
        const allowed = criteria.length ? Math.min(...criteria) : 0;
        const counts = countOf(results);
        const bad = counts.failed + counts.errors;
        const verdict: PhaseResult['verdict'] = !inPhase.length ? 'empty' : stoppedBy ? 'not-run' : bad > allowed ? 'failed' : 'passed';
        const causes = new Map<string, number>();
        for (const r of results) if ((r.verdict === 'failed' || r.verdict === 'error') && r.cause) causes.set(r.cause, (causes.get(r.cause) ?? 0) + 1);
        const pr: PhaseResult = {
          phase, verdict, counts, maxFailures: allowed, durationMs: Date.now() - t0,
          causes: [...causes.entries()].sort((a, b) => b[1] - a[1]).map(([cause, count]) => ({ cause, count })),
        };
        phases.push(pr);
        if (inPhase.length) this.opts.hooks?.onPhaseEnd?.(pr);
        cases.push(...results);
        if (verdict === 'failed' && !this.opts.keepGoing && !stoppedBy) stoppedBy = phase;
      }
      const finishedAt = new Date();
      const counts = countOf(cases);
      return {
        runId: this.runId, seed: this.seed, startedAt: startedAt.toISOString(), finishedAt: finishedAt.toISOString(),
        durationMs: finishedAt.getTime() - startedAt.getTime(), gateway, mockControl: this.mockUrl, runnerVersion: runnerVersion(),
        suites: this.suites.map((s) => ({ id: s.id, title: s.title, file: s.file, sha256: s.sha256, ...(s.version ? { version: s.version } : {}), ...(s.interface ? { interface: s.interface } : {}) })),
        inputs: dedupe(this.suites.flatMap((s) => s.inputs)),
        ...(this.opts.grep ? { grep: this.opts.grep } : {}), keepGoing: !!this.opts.keepGoing,
        phases, cases, counts,
        verdict: counts.failed + counts.errors === 0 && phases.every((p) => p.verdict !== 'failed') ? 'passed' : 'failed',
      };
    } finally {
      await this.receiver?.stop();
    }
  }

  private async gatewayVersion(): Promise<RunResult['gateway']> {
    // Wherever the gateway says it: the liveness probe, the OpenAPI document, the ops summary.
    const probes: [string, (b: Record<string, any>) => unknown][] = [
      ['/health/live', (b) => b.version], ['/docs/openapi.json', (b) => b.info?.version], ['/ops/summary', (b) => b.version],
    ];
    for (const [p, pick] of probes) {
      try {
        const r = await this.gateway('GET', p);
        const v = r.status === 200 && r.body && typeof r.body === 'object' ? pick(r.body as Record<string, any>) : undefined;
        if (typeof v === 'string' && v) return { url: this.gatewayUrl, version: v, versionSource: 'gateway' };
      } catch {
        // An unreachable gateway fails the connectivity phase; the version falls back below.
      }
    }
    return { url: this.gatewayUrl, version: runnerVersion(), versionSource: 'runner-package' };
  }

  private skipped(c: Case, s: Suite, reason: string): CaseResult {
    return {
      id: c.id, title: c.title, article: c.article, phase: c.phase, tags: c.tags, suiteId: s.id, file: s.file, line: c.source.line,
      verdict: 'skipped', startedAt: new Date().toISOString(), durationMs: 0, reason, types: [],
      steps: c.steps.map((st) => ({ index: st.index, kind: st.kind, label: stepLabel(st), verdict: 'skipped' as const, durationMs: 0, checks: [], exchanges: [], notes: [] })),
    };
  }

  async runCase(c: Case, s: Suite): Promise<CaseResult> {
    const started = new Date();
    const cr = new CaseRun(c, s, this);
    const steps: StepResult[] = [];
    let verdict: Verdict = 'passed';
    let reason: string | undefined;
    let cause: string | undefined;
    try {
      for (const st of c.steps) {
        if (verdict !== 'passed') {
          steps.push({ index: st.index, kind: st.kind, label: stepLabel(st), verdict: 'skipped', durationMs: 0, checks: [], exchanges: [], notes: ['not run: an earlier step did not pass'] });
          continue;
        }
        const r = await this.runStep(cr, st);
        steps.push(r.result);
        if (r.result.verdict !== 'passed') {
          verdict = r.result.verdict;
          reason = `step ${st.index + 1} ${st.kind}: ${r.summary}`;
          cause = r.cause ?? r.summary;
        }
      }
    } finally {
      if (cr.faultsSet) {
        // A case must not leave faults behind for the next one, whatever happened.
        await this.mock('POST', '/_mock/faults', {}).catch(() => undefined);
      }
      if (cr.espHitsSet) {
        // ESP configuration is global to the mock and adds up: a case's hits must not find
        // files other cases create.
        await this.mock('DELETE', '/_mock/state/esp-hits').catch(() => undefined);
      }
    }
    return {
      id: c.id, title: c.title, article: c.article, phase: c.phase, tags: c.tags, suiteId: s.id, file: s.file, line: c.source.line,
      verdict, startedAt: started.toISOString(), durationMs: Date.now() - started.getTime(), steps,
      ...(reason ? { reason } : {}), ...(cause ? { cause } : {}), types: [...cr.types],
    };
  }

  private async runStep(cr: CaseRun, st: Step): Promise<{ result: StepResult; summary: string; cause?: string }> {
    const t0 = Date.now();
    const checks: CheckResult[] = [];
    const exchanges: Exchange[] = [];
    const notes: string[] = [];
    let label = stepLabel(st);
    let verdict: Verdict = 'passed';
    let error: string | undefined;
    let summary = '';
    let cause: string | undefined;
    const ctx: StepCtx = { checks, exchanges, notes, setLabel: (l) => { label = l; }, setCause: (c) => { cause ??= c; } };
    try {
      await this.dispatch(cr, st, ctx);
      const failed = checks.filter((c) => !c.ok);
      if (failed.length) {
        verdict = 'failed';
        summary = failed.map(checkSummary).join('; ');
      }
    } catch (err) {
      if (err instanceof StepFailure) {
        verdict = 'failed';
        error = err.message;
        summary = err.message;
        if (err.failureCause) cause ??= err.failureCause;
        const failed = checks.filter((c) => !c.ok);
        if (failed.length) summary = `${failed.map(checkSummary).join('; ')}; ${err.message}`;
      } else if (err instanceof TransportError || err instanceof TemplateError) {
        verdict = 'error';
        error = err.message;
        summary = err.message;
        cause ??= err instanceof TransportError ? `transport: ${err.message.replace(/^.*: /, '')} (${new URL(err.url).pathname.startsWith('/_mock') ? 'mock control' : 'gateway'})` : 'suite template';
      } else {
        verdict = 'error';
        error = (err as Error).message;
        summary = error;
      }
    }
    return { result: { index: st.index, kind: st.kind, label, verdict, durationMs: Date.now() - t0, checks, exchanges, notes, ...(error ? { error } : {}) }, summary, ...(cause ? { cause } : {}) };
  }

  private async dispatch(cr: CaseRun, st: Step, ctx: StepCtx): Promise<void> {
    switch (st.kind) {
      case 'send': return this.send(cr, st, ctx);
      case 'request': return this.request(cr, st, ctx);
      case 'expect': return this.expect(cr, st, ctx);
      case 'capture': return this.capture(cr, st, ctx);
      case 'mock': return this.mockStep(cr, st, ctx);
      case 'mock-state': return this.mockState(cr, st, ctx);
      case 'wait': await sleep(st.ms); return;
      case 'notify': return this.notify(cr, st, ctx);
      case 'expect-webhook': return this.expectWebhook(cr, st, ctx);
    }
  }

  /** Builds a payload from its source and the step's edits. */
  private payloadOf(cr: CaseRun, st: PayloadSource): unknown {
    // Examples are others' data, taken literally; inline and file payloads are templates.
    let payload: unknown = st.example ? structuredClone(st.example.data) : st.payloadFile ? cr.resolve(st.payloadFile.data) : st.payload !== undefined ? cr.resolve(st.payload) : {};
    if (st.replace) {
      const map = new Map(Object.entries(st.replace).map(([k, v]) => [k, cr.resolve(v)]));
      // Identifiers also appear inside other values (a hit id built from the application number).
      const inner = [...map].filter(([k, v]) => k.length >= 4 && typeof v === 'string') as [string, string][];
      const walk = (v: unknown): unknown => {
        if (typeof v === 'string') {
          if (map.has(v)) return map.get(v);
          let out = v;
          for (const [k, r] of inner) if (out.includes(k)) out = out.split(k).join(r);
          return out;
        }
        if (Array.isArray(v)) return v.map(walk);
        if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
        return v;
      };
      payload = walk(payload);
    }
    for (const p of st.remove ?? []) removePointer(payload, p);
    for (const [p, v] of Object.entries(st.set ?? {})) setPointer(payload, p, cr.resolve(v));
    return payload;
  }

  private record(cr: CaseRun, as: string | undefined, rec: ExchangeRecord): string {
    const name = cr.exchangeName(as);
    cr.exchanges.set(name, rec);
    if (rec.kind === 'send' || rec.kind === 'request') cr.lastExchange = name;
    if (rec.id !== undefined) cr.vars.set(name, rec.id);
    return name;
  }

  private async send(cr: CaseRun, st: Extract<Step, { kind: 'send' }>, ctx: StepCtx): Promise<void> {
    let body: unknown;
    const headers: Record<string, string> = { ...cr.resolve(st.headers ?? {}) };
    let type: string | undefined;
    if (st.raw !== undefined) {
      body = String(cr.resolve(st.raw));
      headers['content-type'] = st.contentType ?? 'application/json';
    } else if (st.body !== undefined) {
      body = cr.resolve(st.body);
      const t = (body as Record<string, unknown> | undefined)?.type;
      if (typeof t === 'string') type = t;
    } else {
      type = st.type;
      body = { type: st.type, payload: this.payloadOf(cr, st) };
    }
    if (type) cr.types.add(type);
    const answer = await this.gateway('POST', '/v1/messages', body, headers);
    const id = answer.status === 202 && answer.body && typeof answer.body === 'object' ? String((answer.body as Record<string, unknown>).id ?? '') || undefined : undefined;
    const name = this.record(cr, st.as, { kind: 'send', ...(type ? { type } : {}), ...(id ? { id } : {}), answer });
    ctx.exchanges.push({ label: `POST /v1/messages (${name})`, request: { method: 'POST', url: `${this.gatewayUrl}/v1/messages`, headers, body }, response: { status: answer.status, headers: answer.headers, body: answer.body } });
    const code = problemCode(answer);
    ctx.setLabel(`send ${type ?? (st.raw !== undefined ? 'raw body' : 'body')}${st.example ? ` (example ${st.example.name})` : ''} as ${name} → HTTP ${answer.status}${id ? ` id ${id}` : ''}${code ? ` ${code}` : ''}`);
  }

  private async request(cr: CaseRun, st: Extract<Step, { kind: 'request' }>, ctx: StepCtx): Promise<void> {
    const p = String(cr.resolve(st.path));
    const headers = cr.resolve(st.headers ?? {});
    const body = st.body !== undefined ? cr.resolve(st.body) : undefined;
    const answer = st.base === 'mock' ? await httpRequest({ method: st.method, url: this.mockUrl + p, headers, ...(body !== undefined ? { body } : {}) }) : await this.gateway(st.method, p, body, headers);
    const name = this.record(cr, st.as, { kind: 'request', answer });
    const url = (st.base === 'mock' ? this.mockUrl : this.gatewayUrl) + p;
    ctx.exchanges.push({ label: `${st.method} ${p} (${name})`, request: { method: st.method, url, headers, ...(body !== undefined ? { body } : {}) }, response: { status: answer.status, headers: answer.headers, body: answer.body } });
    ctx.setLabel(`${st.method} ${st.base === 'mock' ? 'mock ' : ''}${p} as ${name} → HTTP ${answer.status}`);
  }

  private async notify(cr: CaseRun, st: Extract<Step, { kind: 'notify' }>, ctx: StepCtx): Promise<void> {
    const body = st.body !== undefined ? cr.resolve(st.body) : { type: st.type, payload: this.payloadOf(cr, st), ...(st.messageId !== undefined ? { messageId: String(cr.resolve(st.messageId)) } : {}) };
    if (st.type) cr.types.add(st.type);
    const answer = await this.mock('POST', '/_mock/notify', body);
    const id = answer.body && typeof answer.body === 'object' ? (answer.body as Record<string, unknown>).id : undefined;
    const name = this.record(cr, st.as, { kind: 'notify', ...(st.type ? { type: st.type } : {}), ...(typeof id === 'string' ? { id } : {}), answer });
    ctx.exchanges.push({ label: `POST /_mock/notify (${name})`, request: { method: 'POST', url: `${this.mockUrl}/_mock/notify`, body }, response: { status: answer.status, headers: answer.headers, body: answer.body } });
    const gatewayStatus = answer.body && typeof answer.body === 'object' ? (answer.body as Record<string, unknown>).gatewayStatus : undefined;
    ctx.setLabel(`notify ${st.type ?? ''} as ${name} → HTTP ${answer.status}${gatewayStatus !== undefined ? `, gateway HTTP ${String(gatewayStatus)}` : ''}`);
    if (answer.status < 200 || answer.status > 299) {
      const code = problemCode(answer);
      throw new StepFailure(`the mock did not push the notification: HTTP ${answer.status}${answer.status === 404 ? ' (this mock has no /_mock/notify)' : code ? ` ${code}` : ''}`, code === 'MOCK_NOTIFY_FAILED' ? 'notification not pushed' : undefined);
    }
  }

  /** `mock-state`: seeds central's state over the mock's control endpoint. */
  private async mockState(cr: CaseRun, st: MockStateStep, ctx: StepCtx): Promise<void> {
    let method = 'POST';
    let p: string;
    let body: unknown;
    let what: string;
    switch (st.action) {
      case 'apply': {
        const a = st.apply!;
        const sender = String(cr.resolve(a.sender));
        p = '/_mock/state/apply';
        body = { type: a.type, sender, payload: this.payloadOf(cr, a) };
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
    const answer = await this.mock(method, p, body);
    const name = this.record(cr, st.as, { kind: 'mock-state', answer });
    ctx.exchanges.push({ label: `${method} ${p} (${name})`, request: { method, url: this.mockUrl + p, ...(body !== undefined ? { body } : {}) }, response: { status: answer.status, headers: answer.headers, body: answer.body } });
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

  private async mockStep(cr: CaseRun, st: MockStep, ctx: StepCtx): Promise<void> {
    let answer: HttpAnswer;
    if (st.action === 'reset') {
      answer = await this.mock('POST', '/_mock/reset', {});
      ctx.setLabel('mock reset');
    } else {
      // Derived from the run seed and the case id: the same seed gives the same fault pattern.
      const seed = st.seed ?? hash32(this.seed, cr.c.id, st.index) % 2 ** 31;
      const body = st.action === 'clear' ? {} : { ...cr.resolve(st.faults ?? {}), seed };
      answer = await this.mock('POST', '/_mock/faults', body);
      if (st.action === 'faults') {
        cr.faultsSet = true;
        ctx.notes.push(`fault seed ${seed}`);
        ctx.setLabel(`mock faults ${Object.entries(st.faults ?? {}).map(([k, v]) => `${k}=${String(v)}`).join(' ')} seed ${seed}`);
      } else {
        cr.faultsSet = false;
        ctx.setLabel('mock faults cleared');
      }
      ctx.exchanges.push({ label: 'POST /_mock/faults', request: { method: 'POST', url: `${this.mockUrl}/_mock/faults`, body }, response: { status: answer.status, body: answer.body } });
    }
    if (answer.status !== 200) {
      const msg = answer.body && typeof answer.body === 'object' ? (answer.body as Record<string, unknown>).message : undefined;
      throw new StepFailure(`the mock refused: HTTP ${answer.status}${msg ? `: ${String(msg)}` : ''}`);
    }
  }

  /** Polls `fn` until it says done or the deadline passes; returns its last value. */
  private async poll<T>(deadline: number, every: number, fn: () => Promise<{ done: boolean; value: T }>): Promise<{ value: T; timedOut: boolean }> {
    for (;;) {
      const r = await fn();
      if (r.done) return { value: r.value, timedOut: false };
      if (Date.now() >= deadline) return { value: r.value, timedOut: true };
      await sleep(Math.min(every, Math.max(0, deadline - Date.now())));
    }
  }

  private async expect(cr: CaseRun, st: ExpectStep, ctx: StepCtx): Promise<void> {
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
      const got = Array.isArray(body.errors) ? (body.errors as { pointer?: string }[]).map((e) => String(e.pointer ?? '')) : [];
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
        const r = await this.poll(deadline, cr.poll, async () => {
          polls++;
          let a: HttpAnswer;
          try {
            a = await this.gateway('GET', `/v1/messages/${encodeURIComponent(x.id!)}`);
          } catch (err) {
            if (Date.now() >= deadline) throw err;
            return { done: false, value: doc };
          }
          if (a.status !== 200) {
            results = [{ name: 'status document', ok: false, problems: [`GET /v1/messages/${x.id} answered HTTP ${a.status}`] }];
            return { done: false, value: doc };
          }
          doc = a.body as Record<string, any>;
          results = this.docChecks(cr, st, doc, wanted);
          const settled = TERMINAL.has(String(doc.status));
          return { done: results.every((c) => c.ok) || settled, value: doc };
        });
        doc = r.value;
        for (const c of results) push(c);
        if (doc) {
          ctx.exchanges.push({ label: `GET /v1/messages/${x.id} (${polls} poll${polls === 1 ? '' : 's'})`, request: { method: 'GET', url: `${this.gatewayUrl}/v1/messages/${x.id}` }, response: { status: 200, body: doc } });
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
        const r = await this.wireXml(x.id, waitUntil(), cr.poll);
        if (!r.doc) {
          push({ name: 'wire XML', ok: false, problems: [`the mock did not receive message ${x.id}${r.status ? ` (HTTP ${r.status})` : ''}`] });
          ctx.setCause(causeOf(doc) ?? 'not received by central');
        } else {
          ctx.exchanges.push({ label: `GET /_mock/messages/${x.id}`, request: { method: 'GET', url: `${this.mockUrl}/_mock/messages/${x.id}` }, response: { status: 200, body: r.text } });
          for (const c of st.xml) push(xpathCheck(cr, c, r.doc));
        }
      }
    }

    // 4. The order and repeats of arrivals at the mock.
    if (st.received) await this.received(cr, st, waitUntil(), ctx);
    ctx.setLabel(`expect ${name}${parts.length ? ` → ${parts.join(', ')}` : ''}`);
  }

  private docChecks(cr: CaseRun, st: ExpectStep, doc: Record<string, any>, wanted: string[] | undefined): CheckResult[] {
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

  private async wireXml(id: string, deadline: number, every: number): Promise<{ doc?: XmlDocument; text?: string; status?: number }> {
    let status: number | undefined;
    const r = await this.poll(deadline, every, async () => {
      const a = await this.mock('GET', `/_mock/messages/${encodeURIComponent(id)}`);
      status = a.status;
      return { done: a.status === 200, value: a.status === 200 ? a.text : undefined };
    });
    if (r.value === undefined) return { ...(status ? { status } : {}) };
    // Whatever the mock returns is screened like any XML from outside before it is parsed.
    return { doc: parseXml(screenXml(r.value, WIRE_SCREEN_LIMITS)), text: r.value };
  }

  private async received(cr: CaseRun, st: ExpectStep, deadline: number, ctx: StepCtx): Promise<void> {
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
    await this.poll(positive ? deadline : Date.now(), cr.poll, async () => {
      const a = await this.mock('GET', '/_mock/received');
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
    ctx.exchanges.push({ label: 'GET /_mock/received (this case\'s messages)', request: { method: 'GET', url: `${this.mockUrl}/_mock/received` }, response: { status: 200, body: list.filter((e) => mine.has(e.id)) } });
  }

  private async capture(cr: CaseRun, st: Extract<Step, { kind: 'capture' }>, ctx: StepCtx): Promise<void> {
    for (const [name, spec] of Object.entries(st.vars)) {
      const [xname, x] = cr.exchange(spec.message);
      let value: unknown;
      let found: boolean;
      if (spec.from === 'wire') {
        if (!x.id) throw new StepFailure(`capture ${name}: ${xname} created no message`);
        const r = await this.wireXml(x.id, Date.now() + cr.within, cr.poll);
        if (!r.doc) throw new StepFailure(`capture ${name}: the mock did not receive ${xname}`);
        value = xpathResultToJson(compileXPath(String(cr.resolve(spec.xpath!)), spec.namespaces).evaluate(r.doc));
        found = value !== undefined;
      } else {
        let doc: unknown;
        if (spec.from === 'response') doc = x.kind === 'webhook' ? x.body : x.answer?.body;
        else {
          if (!x.id) throw new StepFailure(`capture ${name}: ${xname} created no message`);
          const a = await this.gateway('GET', `/v1/messages/${encodeURIComponent(x.id)}`);
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

  private async expectWebhook(cr: CaseRun, st: ExpectWebhookStep, ctx: StepCtx): Promise<void> {
    const rx = this.receiver;
    if (!rx) throw new StepFailure('no webhook receiver: run with --webhook-port');
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
    const name = this.record(cr, st.as, { kind: 'webhook', body: hit.json ?? hit.text, ...(typeof idOf(hit) === 'string' ? { id: idOf(hit) as string } : {}) });
    ctx.exchanges.push({ label: `callback received (${name})`, request: { method: 'POST', url: hit.path, headers: hit.headers, body: hit.json ?? hit.text } });
    const mode = st.signature ?? (this.receiver && (this.opts.webhookSecret ?? cr.suite.webhookSecret) ? 'valid' : 'any');
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
}

/** What a step executor writes into. */
interface StepCtx {
  readonly checks: CheckResult[];
  readonly exchanges: Exchange[];
  readonly notes: string[];
  setLabel(label: string): void;
  setCause(cause: string): void;
}

function problemCode(a: HttpAnswer | undefined): string | undefined {
  const c = a?.body && typeof a.body === 'object' ? (a.body as Record<string, unknown>).code : undefined;
  return typeof c === 'string' ? c : undefined;
}

function check(name: string, spec: unknown, subject: Subject, sensitive = false): CheckResult {
  const r = applyMatcher(spec, subject);
  return { name, ok: r.ok, expected: spec, actual: subject.value, problems: r.problems, ...(sensitive ? { sensitive } : {}) };
}

/** Evaluates a pointer or path locator on a JSON document. */
function locate(cr: CaseRun, c: Check, doc: unknown): Subject {
  if (c.pointer !== undefined) {
    const v = getPointer(doc, String(cr.resolve(c.pointer)));
    return { value: v, present: v !== undefined, ...(Array.isArray(v) ? { count: v.length } : {}) };
  }
  const all = compileJsonPath(String(cr.resolve(c.path!))).evaluate(doc);
  return { value: all.length === 1 ? all[0] : all.length ? all : undefined, present: all.length > 0, count: all.length };
}

function jsonCheck(what: string, cr: CaseRun, c: Check, doc: unknown, sensitive: boolean): CheckResult {
  return check(`${what} ${c.pointer ?? c.path}`, cr.resolve(c.spec), locate(cr, c, doc), sensitive);
}

function xpathCheck(cr: CaseRun, c: Check, doc: XmlDocument): CheckResult {
  const expr = String(cr.resolve(c.xpath!));
  const v = compileXPath(expr, c.namespaces).evaluate(doc);
  const value = xpathResultToJson(v);
  const count = Array.isArray(v) ? v.length : undefined;
  // Values from the wire XML may be payload data (names, dates): never printed on the console.
  return check(`xpath ${expr}`, cr.resolve(c.spec), { value, present: (value !== undefined && value !== '') || (count ?? 0) > 0, ...(count !== undefined ? { count } : {}) }, true);
}

/** One line for a failed check, without sensitive values. */
export function checkSummary(c: CheckResult): string {
  if (c.sensitive) return `${c.name}: ${c.problems.map((p) => p.replace(/got .*$/, 'got a different value (see the HTML report)')).join('; ')}`;
  return `${c.name}: ${c.problems.join('; ')}`;
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

function countOf(results: readonly CaseResult[]): Counts {
  return {
    total: results.length,
    passed: results.filter((r) => r.verdict === 'passed').length,
    failed: results.filter((r) => r.verdict === 'failed').length,
    errors: results.filter((r) => r.verdict === 'error').length,
    skipped: results.filter((r) => r.verdict === 'skipped').length,
  };
}

function dedupe<T extends { file: string }>(xs: T[]): T[] {
  const m = new Map<string, T>();
  for (const x of xs) m.set(x.file, x);
  return [...m.values()];
}

/**
 * Runs the suites and resolves with the result; never throws for a failing gateway (that
 * is a verdict), only for a programming error.
 */
export async function runSuites(suites: readonly Suite[], opts: RunOptions = {}): Promise<RunResult> {
  if (opts.runId !== undefined && !/^[A-Z0-9]{1,12}$/.test(opts.runId)) throw new Error('run id: 1-12 characters A-Z and 0-9');
  return new Runner(suites, opts).execute();
}
