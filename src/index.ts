/**
 * The library surface of davis-gateway: what a program embedding the gateway's pieces needs —
 * the catalogue, validation, the wire documents, signing and verification, configuration,
 * and the gateway itself. Everything else is internal.
 */
export { getType, listTypes, isInbound } from './catalogue/catalogue';
export type { MessageTypeSpec, ClientRole } from './catalogue/types';
export { validatePayload } from './validation/validate';
export { buildRequestXml, parseRequestXml, buildResponseXml, parseResponseXml, WIRE_NS } from './wire/envelope';
export type { WireHeader, CentralAnswer, CentralResult } from './wire/types';
export { screenXml, DEFAULT_SCREEN_LIMITS } from './xml/screen';
export type { ScreenLimits } from './xml/screen';
export { createXsdValidator } from './wire/xsd';
export {
  signEnveloped, signCanonical, verifyEnveloped, loadSigningKey, loadTrustStore,
} from './signing';
export type { SigningKey, TrustStore, VerifiedDocument } from './signing';
export { loadConfig } from './config/config';
export type { Config } from './config/config';
export { openGateway, createGateway } from './app/gateway';
export type { Gateway } from './app/gateway';
export { DavisError, ERRORS, isDavisError } from './errors/errors';
export type { ErrorCode, FieldError } from './errors/errors';
