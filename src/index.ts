/**
 * The library surface of davis-gateway (the package's "." export): what a program that
 * prepares, checks or reads the gateway's messages needs — the catalogue, payload validation,
 * the wire documents, signing and verification, the types a client of the HTTP API sees, and
 * the errors. Everything else is internal and may change without notice.
 *
 * Not here, on purpose: the development PKI (src/dev/, development only), and the gateway's
 * wiring (`openGateway`, `createGateway`, `loadConfig`). Running the gateway is the job of
 * `davis serve`, configured by a file and `DAVIS_*` variables; the running `Gateway` object
 * exposes its journal, broker and dispatcher, and exporting it would turn those internals
 * into API.
 */
export { getType, listTypes, isInbound } from './catalogue/catalogue';
export type { MessageTypeSpec, ClientRole } from './catalogue/types';
export { validatePayload } from './validation/validate';
export { buildRequestXml, buildResponseXml, WIRE_NS } from './wire/envelope';
// Reading goes through the one wire read (screen, parse, verify, XSD, map on one tree).
export { readWire, readRequest, readResponse } from './wire/read-wire';
export type { ReadWireOptions, ReadRequest, ReadResponse } from './wire/read-wire';
export type { WireHeader, CentralAnswer, CentralResult } from './wire/types';
export { screenXml, DEFAULT_SCREEN_LIMITS } from './xml/screen';
export type { ScreenLimits } from './xml/screen';
export { createXsdValidator } from './wire/xsd';
export { signEnveloped, signCanonical, verifyEnveloped, loadSigningKey, loadTrustStore } from './signing';
export type { SigningKey, TrustStore, VerifiedDocument } from './signing';
export { MESSAGE_STATES } from './journal/journal';
export type { MessageState } from './journal/journal';
export { DavisError, ERRORS, isDavisError } from './errors/errors';
export type { ErrorCode, FieldError } from './errors/errors';
