/**
 * The conformance runner's model: suites as loaded (validated, normalised, with source
 * positions for messages) and the results a run produces (what every reporter reads).
 */

/** Test phases, in the order they run. A failed phase stops the later ones unless `--keep-going`. */
export const PHASES = Object.freeze(['connectivity', 'compliance', 'robustness'] as const);
/** One phase. */
export type Phase = (typeof PHASES)[number];

/** Where something was written: for messages that point the tester at the line. */
export interface SourceRef {
  readonly file: string;
  /** 1-based; 0 when unknown. */
  readonly line: number;
  /** 1-based; 0 when unknown. */
  readonly col: number;
}

/** An expected value: a literal (equality) or a matcher object (see `matchers.ts`). */
export type Spec = unknown;

/** One assertion on a JSON or XML document: a locator plus what the value must be. */
export interface Check {
  /** JSON Pointer into the document. */
  readonly pointer?: string;
  /** JSONPath into the document. */
  readonly path?: string;
  /** XPath 1.0 on the wire XML (prefixes from `namespaces`). */
  readonly xpath?: string;
  /** Prefix → namespace URI for `xpath`, merged over the suite's and the defaults (`w`, `ds`). */
  readonly namespaces: Readonly<Record<string, string>>;
  /** What the value must be; `{ exists: true }` when the check names a locator only. */
  readonly spec: Spec;
}

/** Fields every step has. */
interface StepBase {
  /** Position in the case, from 0. */
  readonly index: number;
  readonly source: SourceRef;
}

/** `send`: POST a message to the gateway. */
export interface SendStep extends StepBase {
  readonly kind: 'send';
  readonly type?: string;
  /** Inline payload (templates interpolated at run time). */
  readonly payload?: unknown;
  /** Payload read from a file at load time (templates interpolated at run time). */
  readonly payloadFile?: { readonly path: string; readonly data: unknown };
  /** Payload of a catalogue example (`<type>/<name>`), taken literally. */
  readonly example?: { readonly type: string; readonly name: string; readonly data: unknown };
  /** The whole request body instead of `{type, payload}` (envelope tests). */
  readonly body?: unknown;
  /** A raw request body sent as is (malformed-input tests). */
  readonly raw?: string;
  /** @default "application/json" */
  readonly contentType?: string;
  /** JSON Pointer → value, applied to the payload after it is read. */
  readonly set?: Readonly<Record<string, unknown>>;
  /** Pointers removed from the payload. */
  readonly remove?: readonly string[];
  /**
   * Every string value equal to a key is replaced by the value (templates allowed); a key of
   * four or more characters is also replaced inside longer strings.
   */
  readonly replace?: Readonly<Record<string, unknown>>;
  readonly headers?: Readonly<Record<string, string>>;
  /** Name of the exchange; `${name}` is then the message id. */
  readonly as?: string;
}

/** What `expect.received` asks of the mock's arrival list. */
export interface ReceivedSpec {
  /** Exchange names that must have arrived. */
  readonly includes?: readonly string[];
  /** Exchange names that must not have arrived (checked once the rest holds). */
  readonly excludes?: readonly string[];
  /** Exchange names that must have arrived in this relative order (others may come between). */
  readonly order?: readonly string[];
  /** Exchange name → matcher on its repeat count (idempotent re-sends central saw). */
  readonly repeats?: Readonly<Record<string, Spec>>;
  /** Exchange name → matcher on the mock's outcome code of its first processing. */
  readonly codes?: Readonly<Record<string, Spec>>;
}

/** `expect`: assertions on an exchange and on the message it created. */
export interface ExpectStep extends StepBase {
  readonly kind: 'expect';
  /** Exchange name; the latest `send` or `request` when absent. */
  readonly message?: string;
  /** HTTP status of the exchange's answer. */
  readonly http?: Spec;
  /** Answer headers (names in lower case). */
  readonly headers?: Readonly<Record<string, Spec>>;
  /** Checks on the answer body. */
  readonly response?: readonly Check[];
  /** The RFC 9457 problem: its code, and the pointers of `errors` (exactly, or at least). */
  readonly problem?: { readonly code?: Spec; readonly pointers?: readonly string[]; readonly includesPointers?: readonly string[] };
  /** Message status to wait for: one name or a list (any of them). */
  readonly status?: string | readonly string[];
  /** The central answer in the status document (`result`, `code`, `reference`, `reason`). */
  readonly central?: Readonly<Record<string, Spec>>;
  readonly attempts?: Spec;
  /** Checks on the status document. */
  readonly json?: readonly Check[];
  /** Checks on the wire XML the mock received. */
  readonly xml?: readonly Check[];
  readonly received?: ReceivedSpec;
  /** Longest wait for a status, the wire XML or the arrival list, ms. */
  readonly withinMs?: number;
}

/** One variable to capture. */
export interface CaptureSpec {
  readonly message?: string;
  /** @default "status" for pointer/path, "wire" for xpath */
  readonly from: 'status' | 'response' | 'wire';
  readonly pointer?: string;
  readonly path?: string;
  readonly xpath?: string;
  readonly namespaces: Readonly<Record<string, string>>;
}

/** `capture`: values into variables. */
export interface CaptureStep extends StepBase {
  readonly kind: 'capture';
  readonly vars: Readonly<Record<string, CaptureSpec>>;
}

/** `mock`: set or clear the mock's faults, or reset its state. */
export interface MockStep extends StepBase {
  readonly kind: 'mock';
  readonly action: 'faults' | 'clear' | 'reset';
  /** Passed to `POST /_mock/faults` (the mock's names: errorRate, resetAfterRate, …). */
  readonly faults?: Readonly<Record<string, unknown>>;
  /** Explicit fault seed; otherwise derived from the run seed, the case and the step. */
  readonly seed?: number;
}

/** `wait`: a pause. */
export interface WaitStep extends StepBase {
  readonly kind: 'wait';
  readonly ms: number;
}

/** `request`: any HTTP request to the gateway or the mock's control endpoint. */
export interface RequestStep extends StepBase {
  readonly kind: 'request';
  /** @default "GET" */
  readonly method: string;
  readonly path: string;
  /** @default "gateway" */
  readonly base: 'gateway' | 'mock';
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
  readonly as?: string;
}

/** Where a payload comes from and how it is edited (send, notify, mock-state apply). */
export interface PayloadSource {
  /** Inline payload (templates interpolated at run time). */
  readonly payload?: unknown;
  /** Payload read from a file at load time (templates interpolated at run time). */
  readonly payloadFile?: { readonly path: string; readonly data: unknown };
  /** Payload of a catalogue example (`<type>/<name>`), taken literally. */
  readonly example?: { readonly type: string; readonly name: string; readonly data: unknown };
  /** JSON Pointer → value, applied to the payload after `replace`. */
  readonly set?: Readonly<Record<string, unknown>>;
  /** Pointers removed from the payload. */
  readonly remove?: readonly string[];
  /** String value → replacement (inside longer strings too for keys of four or more characters). */
  readonly replace?: Readonly<Record<string, unknown>>;
}

/** `notify`: the mock pushes a central notification to the gateway (`POST /_mock/notify`). */
export interface NotifyStep extends StepBase, PayloadSource {
  readonly kind: 'notify';
  readonly type?: string;
  /** The notification's message id (templates allowed: `${n}` repeats notification `n`); default: a new one. */
  readonly messageId?: string;
  /** The whole body posted to `/_mock/notify` instead of `{type, payload}`. */
  readonly body?: unknown;
  readonly as?: string;
}

/**
 * `mock-state`: seeds the mock central's state through its control endpoint, as other
 * Member States and the other EU systems would have left it (`/_mock/state/*`).
 */
export interface MockStateStep extends StepBase {
  readonly kind: 'mock-state';
  /**
   * `apply`: a message applied to central's state as another Member State sent it (it must be
   * accepted); `link`: a MID link; `esp-hits`: what the ESP and the automated queries find
   * (removed again after the case); `clear-esp-hits`: remove every ESP configuration entry.
   */
  readonly action: 'apply' | 'link' | 'esp-hits' | 'clear-esp-hits';
  /** For `apply`: the message type, its sender and its payload. */
  readonly apply?: PayloadSource & { readonly type: string; readonly sender: string };
  /** For `link` and `esp-hits`: the body posted (templates interpolated at run time). */
  readonly body?: unknown;
  /** Exchange name: the mock's answer, for `expect … response` and `capture … from: response`. */
  readonly as?: string;
}

/** `expect-webhook`: a callback the gateway sent to the runner's receiver. */
export interface ExpectWebhookStep extends StepBase {
  readonly kind: 'expect-webhook';
  /** Matcher on the event (`X-Davis-Event`, else the body's `event`). */
  readonly event?: Spec;
  /** Exchange name whose message id the callback must carry (`X-Davis-Message-Id`). */
  readonly message?: string;
  readonly headers?: Readonly<Record<string, Spec>>;
  readonly json?: readonly Check[];
  /** `valid`: a correct `X-Davis-Signature` is required (the default when a secret is set); `absent`; `any`. */
  readonly signature?: 'valid' | 'absent' | 'any';
  readonly withinMs?: number;
  /** Name under which the callback body is kept (for `capture … from: response`). */
  readonly as?: string;
}

/** Any step. */
export type Step = SendStep | ExpectStep | CaptureStep | MockStep | MockStateStep | WaitStep | RequestStep | NotifyStep | ExpectWebhookStep;

/** Something a case needs from the run; without it the case is skipped. */
export type Requirement = 'webhook';

/** One test case. */
export interface Case {
  readonly id: string;
  readonly title: string;
  /** The legal article (or specification clause) the case checks. */
  readonly article: string;
  readonly phase: Phase;
  readonly tags: readonly string[];
  /** Why the case is not run (kept in reports as skipped). */
  readonly skip?: string;
  readonly requires: readonly Requirement[];
  readonly variables: Readonly<Record<string, unknown>>;
  readonly steps: readonly Step[];
  readonly suiteId: string;
  readonly source: SourceRef;
  /** Set for cases generated by `from-examples`. */
  readonly generated?: { readonly type: string; readonly example: string };
}

/** A file a suite read (payload files, examples): hashed into the statement. */
export interface InputFile {
  /** Path relative to the working folder (or absolute when outside it). */
  readonly file: string;
  readonly sha256: string;
}

/** One loaded suite file. */
export interface Suite {
  readonly id: string;
  readonly title: string;
  /** Path as given (relative to the working folder when inside it). */
  readonly file: string;
  readonly sha256: string;
  readonly version?: string;
  /** The interface specification version the suite checks (e.g. `urn:davis-gateway:wire:1`). */
  readonly interface?: string;
  readonly description?: string;
  readonly namespaces: Readonly<Record<string, string>>;
  readonly variables: Readonly<Record<string, unknown>>;
  /** Defaults: the longest wait for asynchronous expectations, and the poll interval, ms. */
  readonly defaults: { readonly withinMs: number; readonly pollMs: number };
  readonly exitCriteria: Readonly<Partial<Record<Phase, { readonly maxFailures: number }>>>;
  readonly webhookSecret?: string;
  readonly cases: readonly Case[];
  readonly inputs: readonly InputFile[];
}

// ---------------------------------------------------------------------------------------
// Results
// ---------------------------------------------------------------------------------------

/** The outcome of a case or step. `error`: the runner could not carry it out (not a verdict on the gateway). */
export type Verdict = 'passed' | 'failed' | 'error' | 'skipped';

/** One assertion's outcome. */
export interface CheckResult {
  /** What was checked, e.g. `central.code` or `xpath /w:Request/w:Header/w:Sender`. */
  readonly name: string;
  readonly ok: boolean;
  readonly expected?: unknown;
  readonly actual?: unknown;
  readonly problems: readonly string[];
  /**
   * The actual value may hold personal data (XPath on the payload, webhook bodies): the
   * console reporter never prints it.
   */
  readonly sensitive?: boolean;
}

/** One HTTP exchange a step made, for the HTML report. */
export interface Exchange {
  readonly label: string;
  readonly request?: { readonly method: string; readonly url: string; readonly headers?: Readonly<Record<string, string>>; readonly body?: unknown };
  readonly response?: { readonly status: number; readonly headers?: Readonly<Record<string, string>>; readonly body?: unknown };
}

/** One step's outcome. */
export interface StepResult {
  readonly index: number;
  readonly kind: Step['kind'];
  /** One line saying what the step did, without payload values. */
  readonly label: string;
  readonly verdict: Verdict;
  readonly durationMs: number;
  readonly checks: readonly CheckResult[];
  readonly exchanges: readonly Exchange[];
  readonly error?: string;
  /** Facts worth showing (fault seed used, captured variable names). */
  readonly notes: readonly string[];
}

/** One case's outcome. */
export interface CaseResult {
  readonly id: string;
  readonly title: string;
  readonly article: string;
  readonly phase: Phase;
  readonly tags: readonly string[];
  readonly suiteId: string;
  readonly file: string;
  readonly line: number;
  readonly verdict: Verdict;
  readonly startedAt: string;
  readonly durationMs: number;
  readonly steps: readonly StepResult[];
  /** Skip reason, or the first failure in one line (ids and codes only). */
  readonly reason?: string;
  /** A short key grouping failures with the same cause (e.g. `central VIS_ERR_SIGNATURE (DAVIS_ERR_SIG_CERT_UNTRUSTED)`). */
  readonly cause?: string;
  /** Message types the case sent. */
  readonly types: readonly string[];
}

/** Counts of case verdicts. */
export interface Counts {
  readonly total: number;
  readonly passed: number;
  readonly failed: number;
  readonly errors: number;
  readonly skipped: number;
}

/** One phase's outcome against its exit criteria. */
export interface PhaseResult {
  readonly phase: Phase;
  /** `not-run`: an earlier phase failed; `empty`: no case selected. */
  readonly verdict: 'passed' | 'failed' | 'not-run' | 'empty';
  readonly counts: Counts;
  /** Failed + errored cases the exit criteria allow. */
  readonly maxFailures: number;
  /** Failure causes, most frequent first. */
  readonly causes: readonly { readonly cause: string; readonly count: number }[];
  readonly durationMs: number;
}

/** A whole run. */
export interface RunResult {
  readonly runId: string;
  readonly seed: number;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly durationMs: number;
  readonly gateway: { readonly url: string; readonly version: string; readonly versionSource: 'gateway' | 'runner-package' };
  readonly mockControl: string;
  readonly runnerVersion: string;
  readonly suites: readonly { readonly id: string; readonly title: string; readonly file: string; readonly sha256: string; readonly version?: string; readonly interface?: string }[];
  readonly inputs: readonly InputFile[];
  readonly grep?: string;
  readonly keepGoing: boolean;
  readonly phases: readonly PhaseResult[];
  readonly cases: readonly CaseResult[];
  readonly counts: Counts;
  /** `passed` only when every selected case passed (skipped cases are counted, not passed). */
  readonly verdict: 'passed' | 'failed';
}
