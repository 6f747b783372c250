/**
 * The conformance statement: what was run (suite files and every file they read, with
 * their SHA-256), against what (gateway URL and version), how (seed, run id, selection),
 * and what came out (counts per phase, the verdict), signed with the gateway's signing key.
 *
 * The statement is JSON, carried in a small XML document signed like every wire message
 * (enveloped XML-DSig, exclusive C14N, the certificate in KeyInfo), so `davis verify`
 * checks it with the same strict profile:
 *
 * ```xml
 * <ConformanceStatement xmlns="urn:davis-gateway:conformance:1" version="1">
 *   <Statement mediaType="application/json">{…}</Statement>
 *   <ds:Signature …/>
 * </ConformanceStatement>
 * ```
 */
import type { SigningKey, TrustStore, VerifiedDocument } from '../signing/types';
import { signEnveloped, verifyAndParse } from '../signing/xmldsig';
import type { RunResult } from './types';
import { escapeText } from '../xml/c14n';

/** Namespace of the statement document. */
export const STATEMENT_NS = 'urn:davis-gateway:conformance:1';
/** Format id inside the JSON. */
export const STATEMENT_FORMAT = 'davis-conformance-statement/1';

/** The JSON the statement carries. */
export interface ConformanceStatement {
  readonly format: typeof STATEMENT_FORMAT;
  readonly issuedAt: string;
  readonly run: { readonly id: string; readonly seed: number; readonly startedAt: string; readonly finishedAt: string; readonly grep?: string; readonly keepGoing: boolean };
  readonly gateway: { readonly url: string; readonly version: string; readonly versionSource: string };
  readonly mockControl: string;
  readonly runner: { readonly version: string; readonly node: string };
  readonly suites: RunResult['suites'];
  /** Payload files and catalogue examples the suites read. */
  readonly inputs: RunResult['inputs'];
  readonly phases: readonly { readonly phase: string; readonly verdict: string; readonly total: number; readonly passed: number; readonly failed: number; readonly errors: number; readonly skipped: number; readonly maxFailures: number }[];
  readonly counts: RunResult['counts'];
  /** Every case's verdict, so the statement says exactly what passed. */
  readonly cases: readonly { readonly id: string; readonly phase: string; readonly verdict: string; readonly article: string }[];
  /** `conformant` only when every phase passed and no selected case failed. */
  readonly verdict: 'conformant' | 'not-conformant';
}

/** Builds the statement JSON from a run. */
export function buildStatement(run: RunResult, now = new Date()): ConformanceStatement {
  return {
    format: STATEMENT_FORMAT,
    issuedAt: now.toISOString(),
    run: { id: run.runId, seed: run.seed, startedAt: run.startedAt, finishedAt: run.finishedAt, ...(run.grep ? { grep: run.grep } : {}), keepGoing: run.keepGoing },
    gateway: run.gateway,
    mockControl: run.mockControl,
    runner: { version: run.runnerVersion, node: process.version },
    suites: run.suites,
    inputs: run.inputs,
    phases: run.phases.map((p) => ({ phase: p.phase, verdict: p.verdict, ...p.counts, maxFailures: p.maxFailures })),
    counts: run.counts,
    cases: run.cases.map((c) => ({ id: c.id, phase: c.phase, verdict: c.verdict, article: c.article })),
    verdict: run.verdict === 'passed' ? 'conformant' : 'not-conformant',
  };
}

/** The unsigned statement document. */
export function statementXml(statement: ConformanceStatement): string {
  return `<ConformanceStatement xmlns="${STATEMENT_NS}" version="1">` +
    `<Statement mediaType="application/json">${escapeText(JSON.stringify(statement, null, 2))}</Statement>` +
    '</ConformanceStatement>';
}

/** The signed statement document (what `--statement F` writes). */
export function signStatement(statement: ConformanceStatement, key: SigningKey): string {
  // The default 1 MiB screening cap holds thousands of cases; a larger run gets a larger cap.
  const xml = statementXml(statement);
  return signEnveloped(xml, key, { limits: { maxBytes: Math.max(1024 * 1024, xml.length * 2), maxDepth: 8 } });
}

/**
 * Verifies a signed statement against trust anchors and returns its JSON and the signer.
 *
 * @throws DavisError the signature codes of `verifyEnveloped`; Error when the document is
 *   not a conformance statement
 */
export function readStatement(xml: string, trust: TrustStore): { statement: ConformanceStatement; signer: VerifiedDocument } {
  // Read the tree that was verified, never a second parse of the string.
  const { verified, root } = verifyAndParse(xml, trust, { limits: { maxBytes: Math.max(1024 * 1024, xml.length + 1), maxDepth: 8 } });
  if (root.namespaceURI !== STATEMENT_NS || root.localName !== 'ConformanceStatement') throw new Error('not a conformance statement');
  const el = root.children.find((c) => c.type === 'element' && c.localName === 'Statement' && c.namespaceURI === STATEMENT_NS);
  if (!el || el.type !== 'element') throw new Error('the statement element is missing');
  const text = el.children.filter((c) => c.type === 'text').map((c) => (c as { value: string }).value).join('');
  const statement = JSON.parse(text) as ConformanceStatement;
  if (statement.format !== STATEMENT_FORMAT) throw new Error(`unknown statement format ${String(statement.format)}`);
  return { statement, signer: verified };
}
