/**
 * The signing and trust surface under its former module name: certificate facts
 * (./certificates), path validation (./path-validation) and key files (./key-files).
 */
export { KEY_USAGE, certificateInfo, certificateInfoFromBase64, knownCertificateInfo } from './certificates';
export type { CertificateInfo, KeyUsageName } from './certificates';
export { verifyCertificatePath } from './path-validation';
export { loadSigningKey, loadTrustStore, secondsUntilExpiry } from './key-files';
export type { SigningKeyOptions } from './key-files';
