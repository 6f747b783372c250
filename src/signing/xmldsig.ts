/**
 * The gateway's XML-DSig profile: enveloped signatures over the whole document.
 *
 * Signing always writes `Reference URI=""` (the whole document), never `#Id`: a null URI
 * needs no ID-attribute semantics, which are exactly what signature-wrapping attacks play
 * on. The verifier still accepts `#Id` of the document element from peers, under the
 * strict profile below.
 *
 * Strict profile (every refusal a DavisError with a stable code):
 * - exactly one `ds:Signature` in the document (MISSING / MULTIPLE), a direct child of the
 *   document element (PLACEMENT), made of SignedInfo, SignatureValue and an optional KeyInfo
 *   (at most 8 certificates, no SignedInfo, Reference, Manifest, Object or SignatureValue
 *   inside) only (STRUCTURE);
 * - no comment inside the document element (UNSIGNED_CONTENT): same-document references
 *   drop comments before digesting, so a comment is content the signature does not cover,
 *   and the classic comment-splits-a-value attack lives there;
 * - exactly one Reference, URI `""` or `#` + the document element's `Id` (REFERENCE), that Id
 *   on no other element (ID);
 * - transforms exactly enveloped-signature then exc-c14n with or without comments (TRANSFORM);
 * - CanonicalizationMethod exc-c14n; digest SHA-256/384/512; signature RSA-SHA256/384/512
 *   (RSA ≥ 2048 bits) or ECDSA-SHA256/384; anything else, SHA-1 and HMAC included (ALGORITHM);
 * - digest recomputed by canonicalising the parsed document minus the Signature (DIGEST);
 * - signature value (VALUE);
 * - signing certificate from KeyInfo (CERT_MISSING), chaining to the trust store through
 *   the KeyInfo certificates (CERT_UNTRUSTED), all valid at `now` (CERT_EXPIRED), with
 *   digitalSignature when key usage is present (CERT_USAGE).
 */
import { createHash, hash as oneShotHash, sign as cryptoSign, timingSafeEqual, verify as cryptoVerify, type KeyObject, type SignKeyObjectInput } from 'node:crypto';
import { DavisError, type ErrorCode } from '../errors/errors';
import { DEFAULT_SCREEN_LIMITS, screenAndParse, type ScreenLimits } from '../xml/screen';
import { EXC_C14N, EXC_C14N_WITH_COMMENTS, canonicalize, escapeAttr } from '../xml/c14n';
import { certificateInfoFromBase64, knownCertificateInfo, type CertificateInfo } from './certificates';
import { verifyCertificatePath } from './path-validation';
import type { SignatureAlgorithm, SigningKey, TrustStore, VerifiedDocument } from './types';
import { getAttribute, type XmlDocument, type XmlElement } from '../xml/parser';

/** The XML-DSig namespace. */
export const DSIG_NS = 'http://www.w3.org/2000/09/xmldsig#';
/** The enveloped-signature transform. */
export const ENVELOPED_SIGNATURE = 'http://www.w3.org/2000/09/xmldsig#enveloped-signature';

type HashName = 'sha256' | 'sha384' | 'sha512';

/** Digest algorithms the profile accepts, by URI. */
export const DIGEST_ALGORITHMS: Readonly<Record<string, HashName>> = Object.freeze({
  'http://www.w3.org/2001/04/xmlenc#sha256': 'sha256',
  'http://www.w3.org/2001/04/xmldsig-more#sha384': 'sha384',
  'http://www.w3.org/2001/04/xmlenc#sha512': 'sha512',
});
const SHA256_URI = 'http://www.w3.org/2001/04/xmlenc#sha256';
const DIGEST_LENGTH: Readonly<Record<HashName, number>> = { sha256: 32, sha384: 48, sha512: 64 };

interface SignatureSpec {
  readonly algorithm: SignatureAlgorithm;
  readonly uri: string;
  readonly hash: HashName;
  readonly keyType: 'rsa' | 'ec';
}

const SIGNATURE_SPECS: readonly SignatureSpec[] = [
  { algorithm: 'rsa-sha256', uri: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256', hash: 'sha256', keyType: 'rsa' },
  { algorithm: 'rsa-sha384', uri: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha384', hash: 'sha384', keyType: 'rsa' },
  { algorithm: 'rsa-sha512', uri: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha512', hash: 'sha512', keyType: 'rsa' },
  { algorithm: 'ecdsa-sha256', uri: 'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256', hash: 'sha256', keyType: 'ec' },
  { algorithm: 'ecdsa-sha384', uri: 'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384', hash: 'sha384', keyType: 'ec' },
];
const SPEC_BY_URI = new Map(SIGNATURE_SPECS.map((s) => [s.uri, s]));
const SPEC_BY_NAME = new Map(SIGNATURE_SPECS.map((s) => [s.algorithm, s]));

/** Signature method URI of each signature algorithm. */
export const SIGNATURE_METHOD_URIS: Readonly<Record<SignatureAlgorithm, string>> = Object.freeze(
  Object.fromEntries(SIGNATURE_SPECS.map((s) => [s.algorithm, s.uri])) as Record<SignatureAlgorithm, string>,
);

// ---------------------------------------------------------------------------------------
// Signing
// ---------------------------------------------------------------------------------------

interface PreparedKey {
  readonly spec: SignatureSpec;
  /** The KeyInfo element as written in the document. */
  readonly keyInfo: string;
  /** What `crypto.sign` takes, built once: ECDSA values in the XML-DSig r||s form. */
  readonly signWith: KeyObject | SignKeyObjectInput;
  /** SignedInfo content before and after the digest value (reference URI ""), built once. */
  readonly infoHead: string;
  readonly infoTail: string;
}

const preparedKeys = new WeakMap<SigningKey, PreparedKey>();

function prepareKey(key: SigningKey): PreparedKey {
  let p = preparedKeys.get(key);
  if (!p) {
    const spec = SPEC_BY_NAME.get(key.algorithm);
    if (!spec) throw new DavisError('DAVIS_ERR_SIG_ALGORITHM', `Unsupported signature algorithm ${key.algorithm}`);
    let certs = '';
    for (const c of [key.certificate, ...key.chain]) certs += `<ds:X509Certificate>${c.raw.toString('base64')}</ds:X509Certificate>`;
    const [infoHead, infoTail] = signedInfoContent(spec, '', '\u0000').split('\u0000');
    p = {
      spec, keyInfo: `<ds:KeyInfo><ds:X509Data>${certs}</ds:X509Data></ds:KeyInfo>`,
      signWith: spec.keyType === 'ec' ? { key: key.privateKey, dsaEncoding: 'ieee-p1363' } : key.privateKey,
      infoHead, infoTail,
    };
    preparedKeys.set(key, p);
  }
  return p;
}

/**
 * The content of SignedInfo, which is the same in the document and in canonical form: every
 * element is `ds:`-prefixed, every attribute unprefixed, end tags explicit, and exclusive
 * C14N renders on SignedInfo only the `ds` binding, whatever the surrounding document.
 */
function signedInfoContent(spec: SignatureSpec, referenceUri: string, digest: string): string {
  return `<ds:CanonicalizationMethod Algorithm="${EXC_C14N}"></ds:CanonicalizationMethod>` +
    `<ds:SignatureMethod Algorithm="${spec.uri}"></ds:SignatureMethod>` +
    `<ds:Reference URI="${escapeAttr(referenceUri)}"><ds:Transforms>` +
    `<ds:Transform Algorithm="${ENVELOPED_SIGNATURE}"></ds:Transform>` +
    `<ds:Transform Algorithm="${EXC_C14N}"></ds:Transform></ds:Transforms>` +
    `<ds:DigestMethod Algorithm="${SHA256_URI}"></ds:DigestMethod>` +
    `<ds:DigestValue>${digest}</ds:DigestValue></ds:Reference>`;
}

/** SignedInfo of a document whose canonical SHA-256 digest is `digest`: what is signed, and the rest of the element. */
function signedInfoOf(key: SigningKey, digest: string): { prepared: PreparedKey; content: string; canonical: Buffer } {
  const prepared = prepareKey(key);
  const content = prepared.infoHead + digest + prepared.infoTail;
  return { prepared, content, canonical: Buffer.from(`<ds:SignedInfo xmlns:ds="${DSIG_NS}">${content}</ds:SignedInfo>`, 'utf8') };
}

function assembleSignature(prepared: PreparedKey, content: string, value: Buffer): string {
  return `<ds:Signature xmlns:ds="${DSIG_NS}"><ds:SignedInfo>${content}</ds:SignedInfo>` +
    `<ds:SignatureValue>${value.toString('base64')}</ds:SignatureValue>${prepared.keyInfo}</ds:Signature>`;
}

/** Builds the whole `ds:Signature` element for a document whose canonical SHA-256 digest is `digest`. */
function signatureElement(key: SigningKey, digest: string): string {
  const { prepared, content, canonical } = signedInfoOf(key, digest);
  return assembleSignature(prepared, content, cryptoSign(prepared.spec.hash, canonical, prepared.signWith));
}

/** Options of `signEnveloped`. */
export interface SignOptions {
  /** Caps applied to the input document. @default DEFAULT_SCREEN_LIMITS (8 MiB, depth 32) */
  readonly limits?: ScreenLimits;
}

/**
 * Signs a document with an enveloped XML-DSig signature appended as the last child of the
 * document element: Reference URI `""`, transforms enveloped-signature + exc-c14n, SHA-256
 * digest, RSA-SHA256 or ECDSA-SHA256/384 after the key (ECDSA value in the r||s form),
 * KeyInfo/X509Data with the leaf and the chain. The rest of the document is kept byte for
 * byte, except comments inside the document element, which are removed: the signature could
 * not cover them and the verifier refuses them.
 *
 * @throws DavisError the screening and DAVIS_ERR_XML_MALFORMED codes for bad input,
 *   DAVIS_ERR_SIG_MULTIPLE when the document already holds a signature
 */
export function signEnveloped(xml: string, key: SigningKey, opts: SignOptions = {}): string {
  const doc = screenAndParse(xml, opts.limits ?? DEFAULT_SCREEN_LIMITS);
  const src = doc.source;
  const root = doc.root;
  const comments: { start: number; end: number }[] = [];
  const stack: XmlElement[] = [root];
  while (stack.length) {
    const el = stack.pop()!;
    if (el.localName === 'Signature' && el.namespaceURI === DSIG_NS) {
      throw new DavisError('DAVIS_ERR_SIG_MULTIPLE', 'The document is already signed');
    }
    for (const c of el.children) {
      if (c.type === 'element') stack.push(c);
      else if (c.type === 'comment') comments.push(c);
    }
  }
  const digest = createHash('sha256').update(canonicalize(doc), 'utf8').digest('base64');
  const signature = signatureElement(key, digest);

  let out = '';
  let at = 0;
  comments.sort((a, b) => a.start - b.start);
  for (const c of comments) {
    out += src.slice(at, c.start);
    at = c.end;
  }
  if (root.selfClosing) {
    // `<root a="1"/>` becomes `<root a="1">…</root>`.
    return out + src.slice(at, root.end - 2) + '>' + signature + '</' + root.qname + '>' + src.slice(root.end);
  }
  return out + src.slice(at, root.endTagStart) + signature + src.slice(root.endTagStart);
}

/**
 * Fast path for documents the gateway built itself and that are already in exclusive
 * canonical form (no XML declaration, nothing outside the document element, namespaces
 * declared where C14N renders them, sorted attributes, C14N escaping, start/end tag pairs).
 * It digests the bytes as given and templates SignedInfo, so the output is byte-identical
 * to `signEnveloped` on the same input at the cost of little more than the RSA operation.
 * A cheap scan refuses inputs that cannot be canonical; it cannot prove an input is: a
 * non-canonical input yields a signature that fails verification.
 *
 * @throws DavisError DAVIS_ERR_SIG_NOT_CANONICAL
 */
export function signCanonical(xml: string, key: SigningKey): string {
  const endTag = canonicalEndTag(xml);
  const n = xml.length;
  // One-shot hash: no Hash object per message (Node ≥ 20.12).
  const digest = oneShotHash('sha256', xml, 'base64');
  return xml.slice(0, n - endTag.length) + signatureElement(key, digest) + endTag;
}

/** The checks of `signCanonical`; returns the document element's end tag. */
function canonicalEndTag(xml: string): string {
  let j = 1;
  const n = xml.length;
  while (j < n) {
    const c = xml.charCodeAt(j);
    if (c === 0x3e || c === 0x20) break;
    j++;
  }
  const endTag = '</' + xml.slice(1, j) + '>';
  if (xml.charCodeAt(0) !== 0x3c || j === 1 || /[?!/]/.test(xml[1]) || !xml.endsWith(endTag) ||
    xml.includes('<!') || xml.includes('\r')) {
    throw new DavisError('DAVIS_ERR_SIG_NOT_CANONICAL');
  }
  return endTag;
}

/**
 * `signCanonical` with the private-key operation on libuv's thread pool (`crypto.sign` with a
 * callback) instead of the event loop: the same bytes out (RSA PKCS#1 v1.5 is deterministic;
 * ECDSA signatures differ per call, as they do from `signCanonical`), while the loop serves
 * other requests during the ~0.25 ms an RSA-2048 signature takes. For the API's accept path.
 *
 * @throws DavisError DAVIS_ERR_SIG_NOT_CANONICAL (synchronously checked, rejected)
 */
export function signCanonicalAsync(xml: string, key: SigningKey): Promise<string> {
  let endTag: string;
  try {
    endTag = canonicalEndTag(xml);
  } catch (err) {
    return Promise.reject(err);
  }
  const { prepared, content, canonical } = signedInfoOf(key, oneShotHash('sha256', xml, 'base64'));
  return new Promise((resolve, reject) => {
    cryptoSign(prepared.spec.hash, canonical, prepared.signWith, (err, value) => {
      if (err) reject(err);
      else resolve(xml.slice(0, xml.length - endTag.length) + assembleSignature(prepared, content, value) + endTag);
    });
  });
}

// ---------------------------------------------------------------------------------------
// Verification
// ---------------------------------------------------------------------------------------

/** Options of `verifyEnveloped` / `verifyAndParse`. */
export interface VerifyOptions {
  /** The time certificates must be valid at. @default new Date() */
  readonly now?: Date;
  /** Caps applied before parsing. @default DEFAULT_SCREEN_LIMITS (8 MiB, depth 32) */
  readonly limits?: ScreenLimits;
}

/** A verified document and the tree that was verified, for callers to act on. */
export interface VerifiedTree {
  readonly verified: VerifiedDocument;
  /** The document element that was signed (the Signature is still its last element child). */
  readonly root: XmlElement;
  /** The `ds:Signature` element inside `root`, for callers to skip. */
  readonly signature: XmlElement;
  readonly document: XmlDocument;
}

function fail(code: ErrorCode, detail?: string): never {
  throw new DavisError(code, detail);
}

const ID_ATTRIBUTES = new Set(['Id', 'ID', 'id']);
/**
 * Most certificates accepted in KeyInfo. Leaf selection compares every pair, so an
 * unbounded list would let one document cost seconds; real chains are two or three long.
 */
const MAX_KEYINFO_CERTIFICATES = 8;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Strict base64: XML whitespace allowed between characters, nothing else. */
function decodeBase64(text: string): Buffer | null {
  const s = /[\s]/.test(text) ? text.replace(/[ \t\r\n]+/g, '') : text;
  if (s.length % 4 !== 0 || !BASE64.test(s)) return null;
  return Buffer.from(s, 'base64');
}

/** Element children of a Signature-part element; any non-whitespace text or PI is refused. */
function parts(el: XmlElement, code: ErrorCode = 'DAVIS_ERR_SIG_STRUCTURE'): XmlElement[] {
  const out: XmlElement[] = [];
  for (const c of el.children) {
    if (c.type === 'element') out.push(c);
    else if (c.type === 'pi' || (c.type === 'text' && !/^[ \t\r\n]*$/.test(c.value))) {
      fail(code, `Unexpected content in ${el.localName}`);
    }
  }
  return out;
}

function isDs(el: XmlElement | undefined, localName: string): el is XmlElement {
  return el !== undefined && el.localName === localName && el.namespaceURI === DSIG_NS;
}

function textOf(el: XmlElement): string {
  let s = '';
  for (const c of el.children) {
    if (c.type === 'text') s += c.value;
    else fail('DAVIS_ERR_SIG_STRUCTURE', `Unexpected content in ${el.localName}`);
  }
  return s;
}

/**
 * Reads the PrefixList of an optional InclusiveNamespaces child of a c14n method/transform;
 * any other child is refused with `code`.
 */
function inclusivePrefixes(el: XmlElement, code: ErrorCode): string[] | undefined {
  const kids = parts(el, code);
  if (kids.length === 0) return undefined;
  const inc = kids[0];
  if (kids.length > 1 || inc.localName !== 'InclusiveNamespaces' || inc.namespaceURI !== EXC_C14N) {
    fail(code, 'Unexpected parameter of exclusive canonicalization');
  }
  const list = getAttribute(inc, 'PrefixList') ?? '';
  return list.split(/[ \t\r\n]+/).filter((p) => p.length > 0);
}

interface ParsedSignature {
  readonly spec: SignatureSpec;
  readonly signedInfo: XmlElement;
  readonly signedInfoWithComments: boolean;
  readonly signedInfoPrefixes: string[] | undefined;
  readonly referenceUri: string;
  readonly digestHash: HashName;
  readonly digestValue: Buffer;
  readonly referencePrefixes: string[] | undefined;
  readonly signatureValue: Buffer;
  readonly certificates: string[];
}

function parseSignature(signature: XmlElement, root: XmlElement): ParsedSignature {
  const top = parts(signature);
  const [signedInfo, signatureValueEl, keyInfo, ...extra] = top;
  if (!isDs(signedInfo, 'SignedInfo') || !isDs(signatureValueEl, 'SignatureValue')) {
    fail('DAVIS_ERR_SIG_STRUCTURE', 'Signature must start with SignedInfo and SignatureValue');
  }
  // Object (or anything else) would be signature content outside the signed reference.
  if (extra.length || (keyInfo !== undefined && !isDs(keyInfo, 'KeyInfo'))) {
    fail('DAVIS_ERR_SIG_STRUCTURE', 'Only KeyInfo may follow SignatureValue');
  }

  const si = parts(signedInfo);
  const [c14nMethod, sigMethod, ...refs] = si;
  if (!isDs(c14nMethod, 'CanonicalizationMethod') || !isDs(sigMethod, 'SignatureMethod')) {
    fail('DAVIS_ERR_SIG_STRUCTURE', 'SignedInfo must start with CanonicalizationMethod and SignatureMethod');
  }
  const c14nAlg = getAttribute(c14nMethod, 'Algorithm');
  if (c14nAlg !== EXC_C14N && c14nAlg !== EXC_C14N_WITH_COMMENTS) {
    fail('DAVIS_ERR_SIG_ALGORITHM', 'CanonicalizationMethod must be exclusive C14N');
  }
  const signedInfoPrefixes = inclusivePrefixes(c14nMethod, 'DAVIS_ERR_SIG_STRUCTURE');
  const spec = SPEC_BY_URI.get(getAttribute(sigMethod, 'Algorithm') ?? '');
  if (!spec) fail('DAVIS_ERR_SIG_ALGORITHM', 'SignatureMethod not allowed');
  if (parts(sigMethod).length) fail('DAVIS_ERR_SIG_STRUCTURE', 'SignatureMethod takes no parameters');
  if (refs.length !== 1 || !isDs(refs[0], 'Reference')) {
    fail(refs.every((r) => isDs(r, 'Reference')) ? 'DAVIS_ERR_SIG_REFERENCE' : 'DAVIS_ERR_SIG_STRUCTURE', 'Exactly one Reference required');
  }
  const reference = refs[0];

  const uri = getAttribute(reference, 'URI');
  const rootId = getAttribute(root, 'Id');
  if (uri === undefined || (uri !== '' && (rootId === undefined || rootId === '' || uri !== '#' + rootId))) {
    fail('DAVIS_ERR_SIG_REFERENCE', 'The Reference must be "" or "#" + the document element Id');
  }
  if (uri !== '') assertUniqueId(root, uri.slice(1));

  const refParts = parts(reference);
  const [transformsEl, digestMethod, digestValueEl] = refParts;
  if (!isDs(transformsEl, 'Transforms')) fail('DAVIS_ERR_SIG_TRANSFORM', 'Transforms must be enveloped-signature then exclusive C14N');
  const transforms = parts(transformsEl, 'DAVIS_ERR_SIG_TRANSFORM');
  const algs = transforms.map((t) => (isDs(t, 'Transform') ? getAttribute(t, 'Algorithm') : undefined));
  if (transforms.length !== 2 || algs[0] !== ENVELOPED_SIGNATURE || (algs[1] !== EXC_C14N && algs[1] !== EXC_C14N_WITH_COMMENTS)) {
    fail('DAVIS_ERR_SIG_TRANSFORM', 'Transforms must be enveloped-signature then exclusive C14N');
  }
  if (parts(transforms[0], 'DAVIS_ERR_SIG_TRANSFORM').length) fail('DAVIS_ERR_SIG_TRANSFORM', 'enveloped-signature takes no parameters');
  const referencePrefixes = inclusivePrefixes(transforms[1], 'DAVIS_ERR_SIG_TRANSFORM');
  if (!isDs(digestMethod, 'DigestMethod') || !isDs(digestValueEl, 'DigestValue') || refParts.length !== 3) {
    fail('DAVIS_ERR_SIG_STRUCTURE', 'Reference must hold Transforms, DigestMethod and DigestValue');
  }
  const digestHash = DIGEST_ALGORITHMS[getAttribute(digestMethod, 'Algorithm') ?? ''];
  if (!digestHash) fail('DAVIS_ERR_SIG_ALGORITHM', 'DigestMethod not allowed');
  if (parts(digestMethod).length) fail('DAVIS_ERR_SIG_STRUCTURE', 'DigestMethod takes no parameters');
  const digestValue = decodeBase64(textOf(digestValueEl));
  if (!digestValue || digestValue.length !== DIGEST_LENGTH[digestHash]) fail('DAVIS_ERR_SIG_DIGEST', 'DigestValue is not a digest of the declared algorithm');

  const signatureValue = decodeBase64(textOf(signatureValueEl));
  if (!signatureValue || signatureValue.length === 0) fail('DAVIS_ERR_SIG_VALUE', 'SignatureValue is not base64');

  const certificates: string[] = [];
  if (keyInfo) {
    refuseSigningParts(keyInfo);
    for (const data of parts(keyInfo)) {
      if (!isDs(data, 'X509Data')) continue; // KeyName, KeyValue, RetrievalMethod: never trusted or dereferenced
      for (const c of parts(data)) {
        if (!isDs(c, 'X509Certificate')) continue;
        const text = textOf(c);
        certificates.push(/\s/.test(text) ? text.replace(/[ \t\r\n]+/g, '') : text);
        if (certificates.length > MAX_KEYINFO_CERTIFICATES) fail('DAVIS_ERR_SIG_STRUCTURE', 'Too many certificates in KeyInfo');
      }
    }
  }
  return {
    spec, signedInfo, signedInfoWithComments: c14nAlg === EXC_C14N_WITH_COMMENTS, signedInfoPrefixes,
    referenceUri: uri, digestHash, digestValue, referencePrefixes, signatureValue, certificates,
  };
}

/**
 * XML-DSig parts that decide what is signed (SignedInfo, Reference, Manifest, Object,
 * SignatureValue). KeyInfo is not signed, and verifiers that look these up by name rather
 * than by position would read a copy hidden there (xml-crypto CVE-2025-29774).
 */
const SIGNING_PARTS = new Set(['SignedInfo', 'Reference', 'Manifest', 'Object', 'SignatureValue']);

function refuseSigningParts(keyInfo: XmlElement): void {
  const stack: XmlElement[] = [keyInfo];
  while (stack.length) {
    for (const c of stack.pop()!.children) {
      if (c.type !== 'element') continue;
      if (c.namespaceURI === DSIG_NS && SIGNING_PARTS.has(c.localName)) fail('DAVIS_ERR_SIG_STRUCTURE', `${c.localName} inside KeyInfo`);
      stack.push(c);
    }
  }
}

/** Refuses the document when another element carries the referenced Id (the wrapping set-up). */
function assertUniqueId(root: XmlElement, id: string): void {
  const stack: XmlElement[] = [];
  for (const c of root.children) if (c.type === 'element') stack.push(c);
  while (stack.length) {
    const el = stack.pop()!;
    for (const a of el.attributes) {
      if (ID_ATTRIBUTES.has(a.localName) && a.value === id) fail('DAVIS_ERR_SIG_ID', 'The referenced Id appears on more than one element');
    }
    for (const c of el.children) if (c.type === 'element') stack.push(c);
  }
}

/** Picks the leaf among the KeyInfo certificates: the one that issued none of the others. */
function chooseLeaf(certs: CertificateInfo[]): CertificateInfo {
  if (certs.length === 1) return certs[0];
  const issuesAnother = (c: CertificateInfo): boolean => certs.some((d) => d !== c && d.x509.issuer === c.x509.subject && d.x509.checkIssued(c.x509));
  return certs.find((c) => !issuesAnother(c)) ?? certs[0];
}

/**
 * Screens and parses `xml`, then verifies it as `verifyDocument` does. For callers that have
 * only the text (`davis verify`, evidence files); readers of wire XML use
 * `src/wire/read-wire.ts`, which parses once and verifies that tree.
 *
 * @throws DavisError DAVIS_ERR_XML_* from screening and parsing, DAVIS_ERR_SIG_* per rule
 */
export function verifyAndParse(xml: string, trust: TrustStore, opts: VerifyOptions = {}): VerifiedTree {
  return verifyDocument(screenAndParse(xml, opts.limits ?? DEFAULT_SCREEN_LIMITS), trust, opts);
}

/**
 * Verifies the enveloped signature of an already parsed (and screened) document under the
 * strict profile (see the module comment). The digest is computed over this very tree, so
 * whatever the caller then reads from `doc` is what was signed: act on it, never on a second
 * parse of the same text. `opts.limits` is not used here (the document is parsed already).
 *
 * @throws DavisError DAVIS_ERR_SIG_* per rule
 */
export function verifyDocument(doc: XmlDocument, trust: TrustStore, opts: Omit<VerifyOptions, 'limits'> = {}): VerifiedTree {
  const root = doc.root;

  let signature: XmlElement | undefined;
  let signatures = 0;
  let comment = false;
  const stack: XmlElement[] = [root];
  while (stack.length) {
    const el = stack.pop()!;
    if (el.localName === 'Signature' && el.namespaceURI === DSIG_NS) {
      signatures++;
      signature = el;
    }
    const kids = el.children;
    for (let k = 0; k < kids.length; k++) {
      const c = kids[k];
      if (c.type === 'element') stack.push(c);
      else if (c.type === 'comment') comment = true;
    }
  }
  if (!signature) fail('DAVIS_ERR_SIG_MISSING');
  if (signatures > 1) fail('DAVIS_ERR_SIG_MULTIPLE');
  if (signature.parent !== root) fail('DAVIS_ERR_SIG_PLACEMENT');
  if (comment) fail('DAVIS_ERR_SIG_UNSIGNED_CONTENT', 'Comment inside the document element');

  const sig = parseSignature(signature, root);
  if (!sig.certificates.length) fail('DAVIS_ERR_SIG_CERT_MISSING');
  const certs: CertificateInfo[] = [];
  for (const b64 of sig.certificates) {
    const known = knownCertificateInfo(b64);
    if (known) {
      certs.push(known);
      continue;
    }
    if (b64.length % 4 !== 0 || !BASE64.test(b64)) fail('DAVIS_ERR_SIG_CERT_MISSING', 'X509Certificate is not base64');
    try {
      certs.push(certificateInfoFromBase64(b64));
    } catch {
      fail('DAVIS_ERR_SIG_CERT_MISSING', 'X509Certificate is not a certificate');
    }
  }
  const leaf = chooseLeaf(certs);
  const key = leaf.publicKey;
  if (key.asymmetricKeyType !== sig.spec.keyType) fail('DAVIS_ERR_SIG_ALGORITHM', 'SignatureMethod does not match the certificate key');
  if (sig.spec.keyType === 'rsa' && (key.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) {
    fail('DAVIS_ERR_SIG_ALGORITHM', 'RSA keys shorter than 2048 bits are refused');
  }

  // The digest over what the caller will act on: the parsed tree, minus the Signature.
  const signedNode = sig.referenceUri === '' ? doc : root;
  const canonical = canonicalize(signedNode, { exclude: signature, inclusivePrefixes: sig.referencePrefixes });
  const digest = createHash(sig.digestHash).update(canonical, 'utf8').digest();
  if (!timingSafeEqual(digest, sig.digestValue)) fail('DAVIS_ERR_SIG_DIGEST');

  const signedInfo = canonicalize(sig.signedInfo, { withComments: sig.signedInfoWithComments, inclusivePrefixes: sig.signedInfoPrefixes });
  let ok = false;
  try {
    ok = cryptoVerify(
      sig.spec.hash, Buffer.from(signedInfo, 'utf8'),
      sig.spec.keyType === 'ec' ? { key, dsaEncoding: 'ieee-p1363' } : key,
      sig.signatureValue,
    );
  } catch {
    ok = false;
  }
  if (!ok) fail('DAVIS_ERR_SIG_VALUE');

  const path = verifyCertificatePath(leaf, certs.filter((c) => c !== leaf), trust, (opts.now ?? new Date()).getTime());
  const verified: VerifiedDocument = Object.freeze({
    certificate: leaf.x509,
    algorithm: sig.spec.algorithm,
    chain: Object.freeze(path.map((c) => c.x509)),
  });
  return { verified, root, signature, document: doc };
}

/**
 * Verifies an enveloped signature under the strict profile. Prefer `verifyAndParse` when
 * the content is used afterwards, so that the verified tree is the one acted on.
 *
 * @throws DavisError as `verifyAndParse`
 */
export function verifyEnveloped(xml: string, trust: TrustStore, opts: VerifyOptions = {}): VerifiedDocument {
  return verifyAndParse(xml, trust, opts).verified;
}
