/**
 * The one error catalogue. Every error the gateway reports carries a stable
 * `DAVIS_ERR_<AREA>_<WHAT>` code, an HTTP status, whether a retry can help and a message
 * template that call sites fill with parameters (`detail: 'cannot read {file}: {reason}'`).
 * Transport errors also carry a severity, ranked as rabbitmq-client ranks them: `message`
 * (this item failed; retry it), `channel` (the session is broken; reopen it) and
 * `connection` (the peer is unreachable; reconnect, open the breaker). Callers decide
 * retry, give up or reconnect by severity, never by matching code strings.
 * `docs/errors.md` lists every code; a test keeps the two in step.
 */

/** How far a transport failure reaches: one item, the channel (session) it used, or the whole connection to the peer. */
export type Severity = 'message' | 'channel' | 'connection';

/** Severities in increasing reach. */
export const SEVERITIES: readonly Severity[] = Object.freeze(['message', 'channel', 'connection'] as const);

/** One catalogue entry. */
export interface ErrorSpec {
  /** HTTP status the API answers with. */
  readonly status: number;
  /** Whether the same request may succeed later unchanged. */
  readonly retryable: boolean;
  /** Short human title (RFC 9457 `title`). */
  readonly title: string;
  /**
   * Template of the error's message (RFC 9457 `detail`): `{name}` is replaced by the
   * parameter `name` given where the error is raised. @default the title
   */
  readonly detail?: string;
  /** For transport errors: the default reach of the failure (a call site may say more precisely). */
  readonly severity?: Severity;
}

export const ERRORS = {
  // configuration
  DAVIS_ERR_CONFIG_INVALID: { status: 500, retryable: false, title: 'Configuration is invalid', detail: 'invalid configuration: {problems}' },
  DAVIS_ERR_CONFIG_FILE: { status: 500, retryable: false, title: 'Configuration file cannot be read', detail: 'configuration file {file}: {reason}' },
  // request / validation
  DAVIS_ERR_REQUEST_UNSUPPORTED_MEDIA: { status: 415, retryable: false, title: 'Unsupported media type' },
  DAVIS_ERR_REQUEST_TOO_LARGE: { status: 413, retryable: false, title: 'Request body too large' },
  DAVIS_ERR_REQUEST_MALFORMED: { status: 400, retryable: false, title: 'Request body is not well-formed' },
  DAVIS_ERR_REQUEST_ENCODING: { status: 400, retryable: false, title: 'Request body is not valid UTF-8' },
  DAVIS_ERR_REQUEST_CHARSET: { status: 415, retryable: false, title: 'Request body charset is not UTF-8' },
  DAVIS_ERR_REQUEST_DUPLICATE_KEY: { status: 400, retryable: false, title: 'JSON object with a duplicate key' },
  DAVIS_ERR_REQUEST_BAD_URL: { status: 400, retryable: false, title: 'Request URL is not well-formed' },
  DAVIS_ERR_REQUEST_URI_TOO_LONG: { status: 414, retryable: false, title: 'Request URL path segment too long' },
  DAVIS_ERR_REQUEST_ABORTED: { status: 400, retryable: true, title: 'Client closed the request before its body arrived' },
  DAVIS_ERR_RATE_LIMITED: { status: 429, retryable: true, title: 'Too many requests from this client', detail: 'more than {max} requests in {windowMs} ms; retry after {retryAfterSeconds} s' },
  DAVIS_ERR_OVERLOADED: { status: 503, retryable: true, title: 'Gateway overloaded', detail: 'the gateway is over its {what} limit; retry after {retryAfterSeconds} s' },
  DAVIS_ERR_STOPPING: { status: 503, retryable: true, title: 'Gateway instance stopping', detail: 'this gateway instance is stopping; retry after {retryAfterSeconds} s' },
  DAVIS_ERR_VALIDATION_FAILED: { status: 422, retryable: false, title: 'Message failed validation', detail: '{count} validation error(s)' },
  DAVIS_ERR_CATALOGUE_UNKNOWN_TYPE: { status: 422, retryable: false, title: 'Unknown message type', detail: '{type}: {reason}' },
  DAVIS_ERR_IDEMPOTENCY_CONFLICT: { status: 409, retryable: false, title: 'Idempotency key reused with another body', detail: 'this Idempotency-Key was used with a different body' },
  DAVIS_ERR_NOT_FOUND: { status: 404, retryable: false, title: 'Not found', detail: 'no such {what}' },
  DAVIS_ERR_AUTH_REQUIRED: { status: 401, retryable: false, title: 'Authentication required' },
  DAVIS_ERR_AUTH_FORBIDDEN: { status: 403, retryable: false, title: 'Not allowed for this client', detail: 'client may not {action}' },
  // XML screening and wire
  DAVIS_ERR_XML_DOCTYPE: { status: 400, retryable: false, title: 'XML with a DOCTYPE or entity declaration is refused' },
  DAVIS_ERR_XML_TOO_LARGE: { status: 413, retryable: false, title: 'XML document exceeds the size cap' },
  DAVIS_ERR_XML_TOO_DEEP: { status: 400, retryable: false, title: 'XML document exceeds the nesting depth cap' },
  DAVIS_ERR_XML_LIMIT: { status: 400, retryable: false, title: 'XML document exceeds a structural cap (attributes, namespace declarations, children or nodes)' },
  DAVIS_ERR_XML_MALFORMED: { status: 400, retryable: false, title: 'XML document is not well-formed' },
  DAVIS_ERR_WIRE_SCHEMA: { status: 422, retryable: false, title: 'Wire XML violates the XSD', detail: '{count} schema error(s)' },
  DAVIS_ERR_WIRE_MAPPING: { status: 422, retryable: false, title: 'Wire XML does not map to a catalogue message' },
  // signatures and PKI
  DAVIS_ERR_SIG_MISSING: { status: 400, retryable: false, title: 'No signature' },
  DAVIS_ERR_SIG_MULTIPLE: { status: 400, retryable: false, title: 'More than one signature' },
  DAVIS_ERR_SIG_PLACEMENT: { status: 400, retryable: false, title: 'Signature is not a direct child of the document element' },
  DAVIS_ERR_SIG_REFERENCE: { status: 400, retryable: false, title: 'Signature reference is not the whole document' },
  DAVIS_ERR_SIG_TRANSFORM: { status: 400, retryable: false, title: 'Transform not allowed by the signing profile' },
  DAVIS_ERR_SIG_ALGORITHM: { status: 400, retryable: false, title: 'Algorithm not allowed by the signing profile' },
  DAVIS_ERR_SIG_DIGEST: { status: 400, retryable: false, title: 'Digest does not match the signed content' },
  DAVIS_ERR_SIG_VALUE: { status: 400, retryable: false, title: 'Signature value does not verify' },
  DAVIS_ERR_SIG_CERT_MISSING: { status: 400, retryable: false, title: 'No signing certificate in KeyInfo' },
  DAVIS_ERR_SIG_CERT_UNTRUSTED: { status: 400, retryable: false, title: 'Signing certificate does not chain to a trust anchor' },
  DAVIS_ERR_SIG_CERT_EXPIRED: { status: 400, retryable: false, title: 'Signing certificate is outside its validity period' },
  DAVIS_ERR_SIG_CERT_USAGE: { status: 400, retryable: false, title: 'Signing certificate lacks digitalSignature key usage' },
  DAVIS_ERR_SIG_CERT_CONSTRAINTS: { status: 400, retryable: false, title: 'A certificate that issued another is not a CA (basicConstraints cA) or may not sign certificates (keyUsage keyCertSign)' },
  DAVIS_ERR_SIG_CERT_PATHLEN: { status: 400, retryable: false, title: "The chain is longer than a CA's pathLenConstraint allows" },
  DAVIS_ERR_SIG_CERT_CRITICAL_EXT: { status: 400, retryable: false, title: 'A certificate carries a critical extension the verifier does not process' },
  DAVIS_ERR_SIG_CERT_NAME_CONSTRAINTS: { status: 400, retryable: false, title: "A certificate name is outside a CA's name constraints" },
  DAVIS_ERR_SIG_CERT_WEAK_ALGORITHM: { status: 400, retryable: false, title: 'A certificate of the chain is signed with a refused algorithm (MD5, SHA-1)' },
  DAVIS_ERR_SIG_CERT_WEAK_KEY: { status: 400, retryable: false, title: 'A certificate of the chain has a refused key (RSA below 2048 bits, EC other than P-256/P-384)' },
  DAVIS_ERR_SIG_CERT_SIGNATURE: { status: 400, retryable: false, title: "A certificate's signature does not verify with its issuer's key" },
  DAVIS_ERR_SIG_CERT_REVOKED: { status: 400, retryable: false, title: 'A certificate of the chain is revoked' },
  DAVIS_ERR_SIG_CERT_CRL_STALE: { status: 400, retryable: false, title: 'The CRL for a certificate of the chain is past its nextUpdate (or not yet valid)' },
  DAVIS_ERR_SIG_CERT_CRL_INVALID: { status: 400, retryable: false, title: 'A CRL in the trust folder is unreadable or not signed by its issuer' },
  DAVIS_ERR_SIG_CERT_OCSP: { status: 400, retryable: false, title: 'The OCSP responder gave no usable answer about a certificate of the chain' },
  DAVIS_ERR_SIG_NOT_CENTRAL: { status: 400, retryable: false, title: 'The signer is not the configured central identity' },
  DAVIS_ERR_SIG_ID: { status: 400, retryable: false, title: 'Duplicate or ambiguous Id attribute' },
  DAVIS_ERR_SIG_STRUCTURE: { status: 400, retryable: false, title: 'Signature element does not have the structure the signing profile allows' },
  DAVIS_ERR_SIG_UNSIGNED_CONTENT: { status: 400, retryable: false, title: 'Document contains content the signature does not cover' },
  DAVIS_ERR_SIG_NOT_CANONICAL: { status: 500, retryable: false, title: 'Document given to the canonical signing path is not in canonical form' },
  DAVIS_ERR_PKI_KEY: { status: 500, retryable: false, title: 'Signing key cannot be loaded', detail: 'cannot load the signing key: {reason}' },
  DAVIS_ERR_PKI_MISMATCH: { status: 500, retryable: false, title: 'Signing certificate does not match the key' },
  DAVIS_ERR_PKI_EXPIRED: { status: 500, retryable: false, title: 'Signing certificate is outside its validity period' },
  DAVIS_ERR_PKI_TRUST: { status: 500, retryable: false, title: 'Trust store cannot be loaded', detail: 'cannot load the trust store: {reason}' },
  // infrastructure
  DAVIS_ERR_BROKER_UNAVAILABLE: { status: 503, retryable: true, title: 'Message broker unavailable', detail: 'message broker unavailable: {reason}', severity: 'connection' },
  DAVIS_ERR_QUEUE_FULL: { status: 503, retryable: true, title: 'Outbound backlog above its limit', detail: '{backlog} messages are waiting for central (limit {limit})' },
  DAVIS_ERR_MESSAGE_STATE: { status: 409, retryable: false, title: 'The message is not in a state that allows this', detail: 'only a failed message can be retried; this one is {state}' },
  DAVIS_ERR_JOURNAL_UNAVAILABLE: { status: 503, retryable: true, title: 'Journal unavailable', detail: 'cannot {action} the journal: {reason}' },
  DAVIS_ERR_JOURNAL_SCHEMA: { status: 500, retryable: false, title: 'Journal schema does not match this version', detail: 'journal schema: {reason}' },
  DAVIS_ERR_JOURNAL_KEY: { status: 500, retryable: false, title: 'Journal encryption key missing or wrong', detail: 'journal key: {reason}' },
  DAVIS_ERR_CENTRAL_TRANSPORT: { status: 502, retryable: true, title: 'Central system unreachable', detail: 'central transport: {reason}', severity: 'connection' },
  DAVIS_ERR_CENTRAL_ANSWER: { status: 502, retryable: true, title: 'Central answer invalid', detail: 'central answer refused: {reason}', severity: 'message' },
  DAVIS_ERR_INTERNAL: { status: 500, retryable: false, title: 'Internal error', detail: 'internal error: {reason}' },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERRORS;

/** One field-level problem, as in RFC 9457 extension `errors`. */
export interface FieldError {
  /** JSON Pointer (RFC 6901) into the request payload (or the configuration), or an XPath-like path into XML. */
  readonly pointer: string;
  readonly message: string;
  /** For configuration problems: the environment variable the value came from (or the unknown one). */
  readonly variable?: string;
}

/** Parameters of a message template: `{name}` takes `String(params.name)`. */
export type DetailParams = Readonly<Record<string, string | number | boolean>>;

/** Fills a catalogue template; a parameter not given stays as `{name}`, so a missing one shows rather than vanishes. */
export function formatDetail(template: string, params: DetailParams): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => (Object.prototype.hasOwnProperty.call(params, name) ? String(params[name]) : whole));
}

/** Options of a {@link DavisError}. */
export interface DavisErrorOptions {
  /** The error that caused this one; kept as `cause`. */
  readonly cause?: unknown;
  readonly errors?: readonly FieldError[];
  /** The reach of a transport failure, when it differs from the catalogue's default for the code. */
  readonly severity?: Severity;
}

/**
 * An error with a catalogue code; the original error, if any, stays as `cause`.
 *
 * The message is the code's template filled with `params` (or, with no template, its title).
 * A plain string is still taken as the message, for call sites not yet on templates.
 */
export class DavisError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly retryable: boolean;
  readonly errors?: readonly FieldError[];
  /** The template's parameters, when given: structured facts for logs and tests. */
  readonly params?: DetailParams;
  /** Set on transport errors: how far the failure reaches (see {@link Severity}). */
  readonly severity?: Severity;

  constructor(code: ErrorCode, params?: DetailParams | string, opts: DavisErrorOptions = {}) {
    const spec: ErrorSpec = ERRORS[code];
    const message = typeof params === 'string' ? params
      : params && spec.detail ? formatDetail(spec.detail, params) : spec.title;
    super(message, opts.cause !== undefined ? { cause: opts.cause } : undefined);
    this.name = 'DavisError';
    this.code = code;
    this.status = spec.status;
    this.retryable = spec.retryable;
    if (opts.errors) this.errors = opts.errors;
    if (params && typeof params === 'object') this.params = params;
    const severity = opts.severity ?? spec.severity;
    if (severity) this.severity = severity;
  }
}

/** Whether an error is a transport failure reaching at least as far as `severity`. */
export function reachesAtLeast(err: unknown, severity: Severity): err is DavisError & { severity: Severity } {
  return isDavisError(err) && err.severity !== undefined && SEVERITIES.indexOf(err.severity) >= SEVERITIES.indexOf(severity);
}

/** Whether an error is a transport failure (of any severity): the kind a retry may cure. */
export function isTransportError(err: unknown): err is DavisError & { severity: Severity } {
  return reachesAtLeast(err, 'message');
}

export function isDavisError(e: unknown): e is DavisError {
  return e instanceof DavisError;
}

/** A short reason for a template's `{reason}` from an underlying error: its code when it has one, else its message. */
export function reasonOf(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown } | null | undefined;
  if (e && typeof e.code === 'string' && e.code) return e.code;
  if (e && typeof e.message === 'string' && e.message) return e.message;
  return String(err);
}
