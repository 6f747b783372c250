import type { KeyObject, X509Certificate } from 'node:crypto';
import type { CrlInfo } from './path-validation';

/** Signature algorithms the signing profile allows for our own signatures. */
export type SignatureAlgorithm = 'rsa-sha256' | 'rsa-sha384' | 'rsa-sha512' | 'ecdsa-sha256' | 'ecdsa-sha384';

/** A loaded signing identity: the private key and the certificate that matches it. */
export interface SigningKey {
  /** Private key, parsed once (a PEM string per call is 3× slower). */
  readonly privateKey: KeyObject;
  /** The signing certificate (leaf). */
  readonly certificate: X509Certificate;
  /** Intermediate certificates to send after the leaf, if any. */
  readonly chain: readonly X509Certificate[];
  /** Algorithm used for new signatures; derived from the key type. */
  readonly algorithm: SignatureAlgorithm;
}

/** The certificates a verifier trusts as anchors (root or intermediate CAs). */
export interface TrustStore {
  readonly anchors: readonly X509Certificate[];
  /** CRLs found beside the anchors; a certificate whose issuer has one is checked against it. @default [] */
  readonly crls?: readonly CrlInfo[];
}

/** What a successful verification yields. */
export interface VerifiedDocument {
  /** The certificate that signed the document (chained to an anchor, in validity, digitalSignature). */
  readonly certificate: X509Certificate;
  /** The signature algorithm that was used. */
  readonly algorithm: SignatureAlgorithm;
  /**
   * The certification path that was checked, leaf first, trust anchor last. Optional so that
   * other producers of this type (mocks, tests) need not invent one.
   */
  readonly chain?: readonly X509Certificate[];
}
