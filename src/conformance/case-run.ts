/**
 * One case in progress: its variables, the exchanges it made by name, and what it changed at
 * the mock that must be undone after it. The step executors (steps/) read and write it; the
 * runner (runner.ts) creates one per case.
 */
import type { CallbackSource, HttpAnswer } from './http';
import type { RunOptions } from './run-options';
import { interpolate, TemplateError, type TemplateScope } from './template';
import type { Case, CheckResult, Exchange, Suite } from './types';

/** What a case needs from the run it belongs to. */
export interface RunContext {
  readonly runId: string;
  readonly seed: number;
  readonly env: NodeJS.ProcessEnv;
  readonly opts: RunOptions;
  readonly gatewayUrl: string;
  readonly mockUrl: string;
  /** Where the run reads the gateway's callbacks, when it has a receiver. */
  readonly receiver?: CallbackSource;
  /** A request to the gateway, with the run's extra headers. */
  gateway(method: string, p: string, body?: unknown, headers?: Record<string, string>): Promise<HttpAnswer>;
  /** A request to the mock's control endpoint. */
  mock(method: string, p: string, body?: unknown): Promise<HttpAnswer>;
}

/** An HTTP exchange a case made, by name. */
export interface ExchangeRecord {
  readonly kind: 'send' | 'request' | 'notify' | 'webhook' | 'mock-state';
  readonly type?: string;
  /** Message id (send, notify answers with an id). */
  readonly id?: string;
  readonly answer?: HttpAnswer;
  readonly body?: unknown;
}

/** A check failed; carries what the report needs. */
export class StepFailure extends Error {
  constructor(message: string, readonly failureCause?: string) {
    super(message);
  }
}

/** What a step executor writes into. */
export interface StepCtx {
  readonly checks: CheckResult[];
  readonly exchanges: Exchange[];
  readonly notes: string[];
  setLabel(label: string): void;
  setCause(cause: string): void;
}

/** The `code` of a problem document answer, if any. */
export function problemCode(a: HttpAnswer | undefined): string | undefined {
  const c = a?.body && typeof a.body === 'object' ? (a.body as Record<string, unknown>).code : undefined;
  return typeof c === 'string' ? c : undefined;
}

export class CaseRun {
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

  constructor(readonly c: Case, readonly suite: Suite, readonly run: RunContext) {
    for (const [k, v] of Object.entries(suite.variables)) this.vars.set(k, interpolate(v, this.scope()));
    for (const [k, v] of Object.entries(c.variables)) this.vars.set(k, interpolate(v, this.scope()));
  }

  scope(): TemplateScope {
    return { runId: this.run.runId, seed: this.run.seed, caseId: this.c.id, vars: this.vars, env: this.run.env };
  }

  /** Resolves a string that must stay one: a whole-value template (`${n}`) gives the variable's own type. */
  resolveText(s: string): string {
    return String(this.resolve<unknown>(s));
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

  /** Names and keeps an exchange; a message id it created becomes the variable of that name. */
  record(as: string | undefined, rec: ExchangeRecord): string {
    const name = this.exchangeName(as);
    this.exchanges.set(name, rec);
    if (rec.kind === 'send' || rec.kind === 'request') this.lastExchange = name;
    if (rec.id !== undefined) this.vars.set(name, rec.id);
    return name;
  }
}