/**
 * The one way wire XML is read: screen → parse → verify → XSD → map → validate, every step
 * on ONE tree. Every reader calls it: the ingest API's XML bodies, central's notifications
 * (`exchange/receive.ts`), central's answers (the dispatcher's `readAnswer`), the mock
 * central, and the CLI. The signature is verified on the tree the parser built, and the
 * payload is mapped from that same tree, so what was verified is what is acted on; there is
 * no second parse of the same bytes that could read them differently.
 *
 * Each step refuses with its own codes, so a caller can tell them apart (`wireStage`):
 * DAVIS_ERR_XML_* (screen and parse), DAVIS_ERR_SIG_* (signature), DAVIS_ERR_WIRE_SCHEMA
 * (XSD), DAVIS_ERR_WIRE_MAPPING / DAVIS_ERR_CATALOGUE_UNKNOWN_TYPE (mapping),
 * DAVIS_ERR_VALIDATION_FAILED (payload rules).
 */
import { DavisError, type ErrorCode, type FieldError } from '../errors/errors';
import type { TrustStore, VerifiedDocument } from '../signing/types';
import { verifyDocument } from '../signing/xmldsig';
import { validateAnswer, validatePayload } from '../validation/validate';
import type { XmlDocument } from '../xml/parser';
import { screenAndParse, type ScreenLimits } from '../xml/screen';
import { requestFromDocument, responseFromDocument, WIRE_NS } from './envelope';
import { WIRE_XML_LIMITS } from './limits';
import type { CentralAnswer, WireHeader } from './types';
import type { XsdValidator } from './xsd';

/** Options of the readers. Every step but screening, parsing and mapping is asked for. */
export interface ReadWireOptions {
  /**
   * Verify the enveloped signature against these anchors (strict profile, see
   * `signing/xmldsig.ts`). Absent: the signature is not checked, only tolerated; for
   * documents whose origin is already known (`davis validate`, XML bodies from an
   * authenticated client, the gateway's own journal).
   */
  readonly trust?: TrustStore;
  /** The time certificates must be valid at. @default new Date() */
  readonly now?: Date;
  /** Validate against the wire XSD (libxml2) before mapping. Absent: no XSD step. */
  readonly xsd?: XsdValidator;
  /**
   * Validate the mapped payload (requests: the type's JSON Schema and rules; responses: the
   * answer data, when present) and refuse with DAVIS_ERR_VALIDATION_FAILED. @default false
   */
  readonly validate?: boolean;
  /** Screening and parser caps. @default WIRE_XML_LIMITS */
  readonly limits?: ScreenLimits;
}

/** What every reader returns beside the mapped content. */
interface ReadCommon {
  /** The parsed tree everything was read from (its `source` is the screened text). */
  readonly document: XmlDocument;
  /** The signature that was verified, when `trust` was given. */
  readonly verified?: VerifiedDocument;
}

/** A wire request read: header and payload (an outbound message or a central notification). */
export interface ReadRequest extends ReadCommon {
  readonly kind: 'request';
  readonly header: WireHeader;
  readonly payload: unknown;
}

/** A wire response read: central's answer. */
export interface ReadResponse extends ReadCommon {
  readonly kind: 'response';
  readonly answer: CentralAnswer;
}

/** The step a refusal came from, for callers that answer each differently (the mock central). */
export type WireStage = 'xml' | 'signature' | 'schema' | 'mapping' | 'payload';

/** The step of the pipeline that raises `code`. */
export function wireStage(code: ErrorCode): WireStage {
  if (code.startsWith('DAVIS_ERR_XML_')) return 'xml';
  if (code.startsWith('DAVIS_ERR_SIG_') || code.startsWith('DAVIS_ERR_PKI_')) return 'signature';
  if (code === 'DAVIS_ERR_WIRE_SCHEMA') return 'schema';
  if (code === 'DAVIS_ERR_VALIDATION_FAILED') return 'payload';
  return 'mapping';
}

/** Screen, parse, verify and XSD-check: the steps both document kinds share. */
function readTree(input: string | Buffer, opts: ReadWireOptions): ReadCommon {
  const document = screenAndParse(input, opts.limits ?? WIRE_XML_LIMITS);
  const verified = opts.trust ? verifyDocument(document, opts.trust, opts.now ? { now: opts.now } : {}).verified : undefined;
  if (opts.xsd) {
    const errors = opts.xsd.validateDocument(document);
    if (errors.length) throw new DavisError('DAVIS_ERR_WIRE_SCHEMA', `${errors.length} schema error(s)`, { errors });
  }
  return verified ? { document, verified } : { document };
}

function mapRequest(common: ReadCommon, opts: ReadWireOptions): ReadRequest {
  const { header, payload } = requestFromDocument(common.document);
  if (opts.validate) refuseInvalid(validatePayload(header.type, payload));
  return { kind: 'request', ...common, header, payload };
}

function mapResponse(common: ReadCommon, opts: ReadWireOptions): ReadResponse {
  const answer = responseFromDocument(common.document);
  if (opts.validate && answer.data !== undefined) refuseInvalid(validateAnswer(answer.data));
  return { kind: 'response', ...common, answer };
}

function refuseInvalid(errors: readonly FieldError[]): void {
  if (errors.length) throw new DavisError('DAVIS_ERR_VALIDATION_FAILED', `${errors.length} validation error(s)`, { errors });
}

/**
 * Reads a wire request (`w:Request`): see the module comment for the steps.
 *
 * @throws DavisError with the code of the step that refused (see `wireStage`)
 */
export function readRequest(input: string | Buffer, opts: ReadWireOptions = {}): ReadRequest {
  return mapRequest(readTree(input, opts), opts);
}

/**
 * Reads a wire response (`w:Response`): see the module comment for the steps.
 *
 * @throws DavisError with the code of the step that refused (see `wireStage`)
 */
export function readResponse(input: string | Buffer, opts: ReadWireOptions = {}): ReadResponse {
  return mapResponse(readTree(input, opts), opts);
}

/**
 * Reads either kind, after its document element (`davis validate` takes both).
 *
 * @throws DavisError with the code of the step that refused (see `wireStage`)
 */
export function readWire(input: string | Buffer, opts: ReadWireOptions = {}): ReadRequest | ReadResponse {
  const common = readTree(input, opts);
  const root = common.document.root;
  return root.namespaceURI === WIRE_NS && root.localName === 'Response' ? mapResponse(common, opts) : mapRequest(common, opts);
}
