/**
 * Signing and PKI: the gateway's XML-DSig profile (enveloped, whole-document reference,
 * strict verification), exclusive canonicalisation, the XML tree both work on, and key and
 * trust-store handling. The development PKI is in src/dev/dev-pki.ts, not here.
 */
export type { SignatureAlgorithm, SigningKey, TrustStore, VerifiedDocument } from './types';
export {
  signEnveloped, signCanonical, verifyEnveloped, verifyAndParse, verifyDocument,
  DSIG_NS, ENVELOPED_SIGNATURE, DIGEST_ALGORITHMS, SIGNATURE_METHOD_URIS,
} from './xmldsig';
export type { SignOptions, VerifyOptions, VerifiedTree } from './xmldsig';
export { canonicalize, EXC_C14N, EXC_C14N_WITH_COMMENTS } from '../xml/c14n';
export type { ExcC14nOptions } from '../xml/c14n';
export { parseXml, getAttribute, childElements, textContent, XML_NAMESPACE, DEFAULT_PARSE_LIMITS } from '../xml/parser';
export type {
  XmlDocument, XmlElement, XmlNode, XmlText, XmlComment, XmlProcessingInstruction, XmlAttribute, XmlNamespaceDecl,
  NamespaceScope, ParseOptions,
} from '../xml/parser';
export { loadSigningKey, loadTrustStore, secondsUntilExpiry } from './pki';
export type { SigningKeyOptions, KeyUsageName } from './pki';
