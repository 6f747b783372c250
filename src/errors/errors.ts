/**
 * The one error catalogue. Every error the gateway reports carries a stable
 * `DAVIS_ERR_<AREA>_<WHAT>` code, an HTTP status and whether a retry can help.
 * `docs/errors.md` lists every code; a test keeps the two in step.
 */

/** One catalogue entry. */
export interface ErrorSpec {
  /** HTTP status the API answers with. */
  readonly status: number;
  /** Whether the same request may succeed later unchanged. */
  readonly retryable: boolean;
  /** Short human title (RFC 9457 `title`). */
  readonly title: string;
}

export const ERRORS = {
  // configuration
  DAVIS_ERR_CONFIG_INVALID: { status: 500, retryable: false, title: 'Configuration is invalid' },
  DAVIS_ERR_CONFIG_FILE: { status: 500, retryable: false, title: 'Configuration file cannot be read' },
  // request / validation
  DAVIS_ERR_REQUEST_UNSUPPORTED_MEDIA: { status: 415, retryable: false, title: 'Unsupported media type' },
  DAVIS_ERR_REQUEST_TOO_LARGE: { status: 413, retryable: false, title: 'Request body too large' },
  DAVIS_ERR_REQUEST_MALFORMED: { status: 400, retryable: false, title: 'Request body is not well-formed' },
  DAVIS_ERR_VALIDATION_FAILED: { status: 422, retryable: false, title: 'Message failed validation' },
  DAVIS_ERR_CATALOGUE_UNKNOWN_TYPE: { status: 422, retryable: false, title: 'Unknown message type' },
  DAVIS_ERR_IDEMPOTENCY_CONFLICT: { status: 409, retryable: false, title: 'Idempotency key reused with another body' },
  DAVIS_ERR_NOT_FOUND: { status: 404, retryable: false, title: 'Not found' },
  DAVIS_ERR_AUTH_REQUIRED: { status: 401, retryable: false, title: 'Authentication required' },
  DAVIS_ERR_AUTH_FORBIDDEN: { status: 403, retryable: false, title: 'Not allowed for this client' },
  // XML screening and wire
  DAVIS_ERR_XML_DOCTYPE: { status: 400, retryable: false, title: 'XML with a DOCTYPE or entity declaration is refused' },
  DAVIS_ERR_XML_TOO_LARGE: { status: 413, retryable: false, title: 'XML document exceeds the size cap' },
  DAVIS_ERR_XML_TOO_DEEP: { status: 400, retryable: false, title: 'XML document exceeds the nesting depth cap' },
  DAVIS_ERR_XML_LIMIT: { status: 400, retryable: false, title: 'XML document exceeds a structural cap (attributes, namespace declarations, children or nodes)' },
  DAVIS_ERR_XML_MALFORMED: { status: 400, retryable: false, title: 'XML document is not well-formed' },
  DAVIS_ERR_WIRE_SCHEMA: { status: 422, retryable: false, title: 'Wire XML violates the XSD' },
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
  DAVIS_ERR_PKI_KEY: { status: 500, retryable: false, title: 'Signing key cannot be loaded' },
  DAVIS_ERR_PKI_MISMATCH: { status: 500, retryable: false, title: 'Signing certificate does not match the key' },
  DAVIS_ERR_PKI_EXPIRED: { status: 500, retryable: false, title: 'Signing certificate is outside its validity period' },
  DAVIS_ERR_PKI_TRUST: { status: 500, retryable: false, title: 'Trust store cannot be loaded' },
  // infrastructure
  DAVIS_ERR_BROKER_UNAVAILABLE: { status: 503, retryable: true, title: 'Message broker unavailable' },
  DAVIS_ERR_QUEUE_FULL: { status: 503, retryable: true, title: 'Outbound backlog above its limit' },
  DAVIS_ERR_MESSAGE_STATE: { status: 409, retryable: false, title: 'The message is not in a state that allows this' },
  DAVIS_ERR_JOURNAL_UNAVAILABLE: { status: 503, retryable: true, title: 'Journal unavailable' },
  DAVIS_ERR_CENTRAL_TRANSPORT: { status: 502, retryable: true, title: 'Central system unreachable' },
  DAVIS_ERR_CENTRAL_ANSWER: { status: 502, retryable: true, title: 'Central answer invalid' },
  DAVIS_ERR_INTERNAL: { status: 500, retryable: false, title: 'Internal error' },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERRORS;

/** One field-level problem, as in RFC 9457 extension `errors`. */
export interface FieldError {
  /** JSON Pointer (RFC 6901) into the request payload, or an XPath-like path into XML. */
  readonly pointer: string;
  readonly message: string;
}

/** An error with a catalogue code; the original error, if any, stays as `cause`. */
export class DavisError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly retryable: boolean;
  readonly errors?: readonly FieldError[];

  constructor(code: ErrorCode, detail?: string, opts: { cause?: unknown; errors?: readonly FieldError[] } = {}) {
    super(detail ?? ERRORS[code].title, opts.cause !== undefined ? { cause: opts.cause } : undefined);
    this.name = 'DavisError';
    this.code = code;
    this.status = ERRORS[code].status;
    this.retryable = ERRORS[code].retryable;
    if (opts.errors) this.errors = opts.errors;
  }
}

export function isDavisError(e: unknown): e is DavisError {
  return e instanceof DavisError;
}
