/** What a conformance run takes: its options and the progress callbacks reporters hook in. */
import type { CaseResult, Phase, PhaseResult } from './types';

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
  /** Port of a webhook receiver the run starts; undefined: read `webhookReceiverUrl`'s instead. 0: any free port. */
  readonly webhookPort?: number;
  /**
   * Without `webhookPort`: the callback receiver of another process to read callbacks from
   * (`GET /_uma/callbacks`); nothing answering there: cases that need callbacks are skipped.
   * @default "http://127.0.0.1:8445" (the one `davis dev` runs)
   */
  readonly webhookReceiverUrl?: string;
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
