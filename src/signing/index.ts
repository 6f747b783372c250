/**
 * Signing and PKI: the gateway's XML-DSig profile (enveloped, whole-document reference,
 * strict verification), exclusive canonicalisation, the XML tree both work on, and key,
 * trust-store and development-PKI handling.
 */
export type { SignatureAlgorithm, SigningKey, TrustStore, VerifiedDocument } from './types';
export {
  signEnveloped, signCanonical, verifyEnveloped, verifyAndParse,
  DSIG_NS, ENVELOPED_SIGNATURE, DIGEST_ALGORITHMS, SIGNATURE_METHOD_URIS,
} from './xmldsig';
export type { SignOptions, VerifyOptions, VerifiedTree } from './xmldsig';
export { canonicalize, EXC_C14N, EXC_C14N_WITH_COMMENTS } from '../xml/c14n';
export type { ExcC14nOptions } from '../xml/c14n';
export { parseXml, getAttribute, childElements, textContent, XML_NAMESPACE } from '../xml/parser';
export type {
  XmlDocument, XmlElement, XmlNode, XmlText, XmlComment, XmlProcessingInstruction, XmlAttribute, XmlNamespaceDecl,
  NamespaceScope, ParseOptions,
} from '../xml/parser';
export {
  loadSigningKey, loadTrustStore, secondsUntilExpiry, createDevPki, ensureDevPki, devPkiFiles, issueCertificate,
  DEV_P12_PASSPHRASE,
} from './pki';
export type { SigningKeyOptions, DevPkiFiles, DevPkiOptions, CertificateRequest, SubjectName, KeyUsageName } from './pki';
