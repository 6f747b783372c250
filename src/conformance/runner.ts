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
import { packageVersion } from '../ops/version';
import { CaseRun, StepFailure, type RunContext, type StepCtx } from './case-run';
import { checkSummary } from './expectations';
import { DEFAULT_CALLBACK_RECEIVER_URL, httpRequest, RemoteCallbacks, TransportError, WebhookReceiver, type CallbackSource, type HttpAnswer } from './http';
import type { RunOptions } from './run-options';
import { executeStep, stepLabel } from './steps';
import { interpolateString, TemplateError } from './template';
import {
  PHASES,
  type Case, type CaseResult, type CheckResult, type Counts, type Exchange, type Phase, type PhaseResult, type RunResult, type Step, type StepResult, type Suite, type Verdict,
} from './types';

export type { RunHooks, RunOptions } from './run-options';

/** Default gateway address (`npm start`). */
export const DEFAULT_GATEWAY_URL = 'http://127.0.0.1:8080';
/** Default mock control address (`npm start`). */
export const DEFAULT_MOCK_CONTROL_URL = 'http://127.0.0.1:8444';

function newRunId(): string {
  const b = randomBytes(6);
  const A = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  return [...b].map((x) => A[x % 36]).join('');
}

/** Runs suites; one instance per run. */
class Runner implements RunContext {
  readonly runId: string;
  readonly seed: number;
  readonly gatewayUrl: string;
  readonly mockUrl: string;
  readonly env: NodeJS.ProcessEnv;
  receiver?: CallbackSource;
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
      this.webhookUrl = await (this.receiver as WebhookReceiver).start(this.opts.webhookPort);
    } else if (needsWebhook) {
      // No receiver of its own: the one `davis dev` runs (and points the gateway's webhook.url at), when it answers.
      const base = this.opts.webhookReceiverUrl ?? DEFAULT_CALLBACK_RECEIVER_URL;
      this.receiver = await RemoteCallbacks.connect(base);
      if (this.receiver) this.webhookUrl = base;
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
          else if (c.requires.includes('webhook') && !this.receiver) r = this.skipped(c, s, `needs a webhook receiver: none at ${this.opts.webhookReceiverUrl ?? DEFAULT_CALLBACK_RECEIVER_URL} (davis dev runs one); or run with --webhook-port N and set the gateway's webhook.url to http://127.0.0.1:N/`);
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
        durationMs: finishedAt.getTime() - startedAt.getTime(), gateway, mockControl: this.mockUrl, runnerVersion: packageVersion(),
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
    return { url: this.gatewayUrl, version: packageVersion(), versionSource: 'runner-package' };
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
      await executeStep(cr, st, ctx);
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
