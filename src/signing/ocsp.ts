/**
 * OCSP (RFC 6960) for a validated certification path: asks a responder about the leaf (or
 * every certificate below the anchor) and refuses what it does not say is good.
 *
 * Separate from ./path-validation because it needs the network: verification of a document
 * stays synchronous, and callers that configured OCSP (`signing.ocsp`) await this after it.
 * Fail closed: no answer in time, an answer that is not signed by the issuer or by a
 * responder the issuer delegated (extendedKeyUsage OCSPSigning), a stale answer, or
 * `unknown` are all refusals.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import { createHash, randomBytes, verify as cryptoVerify, X509Certificate } from 'node:crypto';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier, Certificate, Extension } from '@peculiar/asn1-x509';
import {
  BasicOCSPResponse, CertID, OCSPRequest, OCSPResponse, OCSPResponseStatus, Request, TBSRequest,
  id_pkix_ocsp_basic, id_pkix_ocsp_nonce,
} from '@peculiar/asn1-ocsp';
import { DavisError } from '../errors/errors';
import { EKU, certificateInfo, normalizeName, sameName, signatureHashOf, type CertificateInfo } from './certificates';
import { STRONG_HASHES, signedPartOf } from './path-validation';

/** OCSP settings (`signing.ocsp`). */
export interface OcspOptions {
  /** Responder URL; absent: the certificate's authorityInfoAccess OCSP URL. */
  readonly url?: string;
  /** Longest wait for one answer, ms. @default 5000 */
  readonly timeoutMs?: number;
  /** Ask about every certificate below the anchor, not only the leaf. @default false */
  readonly wholeChain?: boolean;
  /** Tolerated clock difference with the responder, ms. @default 300000 */
  readonly clockSkewMs?: number;
  /** The time answers must be current at, ms since the epoch. @default Date.now() */
  readonly now?: number;
}

const SHA1_OID = '1.3.14.3.2.26';
const MAX_RESPONSE_BYTES = 1024 * 1024;

function refuse(detail: string, cause?: unknown): never {
  throw new DavisError('DAVIS_ERR_SIG_CERT_OCSP', detail, cause === undefined ? undefined : { cause });
}

function sha1(data: ArrayBuffer | Uint8Array): Buffer {
  return createHash('sha1').update(data instanceof Uint8Array ? data : new Uint8Array(data)).digest();
}

function certIdFor(child: CertificateInfo, issuer: CertificateInfo): CertID {
  const issuerTbs = AsnConvert.parse(issuer.x509.raw, Certificate).tbsCertificate;
  const childTbs = AsnConvert.parse(child.x509.raw, Certificate).tbsCertificate;
  return new CertID({
    hashAlgorithm: new AlgorithmIdentifier({ algorithm: SHA1_OID, parameters: null }),
    issuerNameHash: new OctetString(sha1(AsnConvert.serialize(issuerTbs.subject))),
    issuerKeyHash: new OctetString(sha1(issuerTbs.subjectPublicKeyInfo.subjectPublicKey)),
    serialNumber: childTbs.serialNumber,
  });
}

function same(a: ArrayBuffer | Uint8Array, b: ArrayBuffer | Uint8Array): boolean {
  return Buffer.from(a instanceof Uint8Array ? a : new Uint8Array(a)).equals(Buffer.from(b instanceof Uint8Array ? b : new Uint8Array(b)));
}

function post(url: string, body: Buffer, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let u: URL;
    try {
      u = new URL(url);
    } catch (e) {
      reject(e);
      return;
    }
    const lib = u.protocol === 'https:' ? https : http;
    // One request per connection: responders (openssl ocsp among them) may answer without a
    // length and end the answer by closing.
    const req = lib.request(u, {
      method: 'POST', agent: false,
      headers: { 'content-type': 'application/ocsp-request', 'content-length': body.length, accept: 'application/ocsp-response', connection: 'close' },
    }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_RESPONSE_BYTES) req.destroy(new Error('OCSP answer too large'));
        else chunks.push(c);
      });
      res.on('end', () => {
        clearTimeout(timer);
        if (res.statusCode !== 200) reject(new Error(`OCSP responder answered HTTP ${res.statusCode}`));
        else resolve(Buffer.concat(chunks));
      });
      res.on('error', reject);
    });
    // An overall deadline: a responder that trickles bytes must not hold verification.
    const timer = setTimeout(() => req.destroy(new Error(`no OCSP answer within ${timeoutMs} ms`)), timeoutMs);
    req.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    req.end(body);
  });
}

/** The certificate that signed the answer: the issuer itself, or one it delegated OCSP signing to. */
function responderOf(basic: BasicOCSPResponse, issuer: CertificateInfo, now: number): CertificateInfo {
  const rid = basic.tbsResponseData.responderID;
  const matches = (c: CertificateInfo): boolean => {
    if (rid.byKey) {
      const spki = AsnConvert.parse(c.x509.raw, Certificate).tbsCertificate.subjectPublicKeyInfo.subjectPublicKey;
      return same(sha1(spki), rid.byKey.buffer);
    }
    return rid.byName !== undefined && sameName(normalizeName(AsnConvert.serialize(rid.byName)), c.subjectName);
  };
  if (matches(issuer)) return issuer;
  for (const asn of basic.certs ?? []) {
    const c = certificateInfo(new X509Certificate(Buffer.from(AsnConvert.serialize(asn))));
    if (!matches(c)) continue;
    let issued = false;
    try {
      issued = sameName(c.issuerName, issuer.subjectName) && c.x509.verify(issuer.publicKey);
    } catch {
      issued = false;
    }
    if (!issued) refuse('The OCSP responder certificate is not issued by the certificate issuer');
    if (!c.extKeyUsage?.includes(EKU.ocspSigning)) refuse('The OCSP responder certificate lacks extendedKeyUsage OCSPSigning');
    if (now < c.notBefore || now > c.notAfter) refuse('The OCSP responder certificate is outside its validity period');
    return c;
  }
  return refuse('The OCSP answer is not signed by the issuer or a responder it delegated');
}

async function checkOne(child: CertificateInfo, issuer: CertificateInfo, o: OcspOptions): Promise<void> {
  const url = o.url ?? child.ocspUrls[0];
  if (!url) refuse('No OCSP responder URL configured or in the certificate');
  const now = o.now ?? Date.now();
  const skew = o.clockSkewMs ?? 300_000;
  const certId = certIdFor(child, issuer);
  const nonce = randomBytes(16);
  const request = new OCSPRequest({
    tbsRequest: new TBSRequest({
      requestList: [new Request({ reqCert: certId })],
      requestExtensions: [new Extension({ extnID: id_pkix_ocsp_nonce, critical: false, extnValue: new OctetString(AsnConvert.serialize(new OctetString(nonce))) })],
    }),
  });
  let body: Buffer;
  try {
    body = await post(url, Buffer.from(AsnConvert.serialize(request)), o.timeoutMs ?? 5000);
  } catch (e) {
    refuse('The OCSP responder gave no answer', e);
  }
  let basic: BasicOCSPResponse;
  let basicDer: Buffer;
  try {
    const res = AsnConvert.parse(body, OCSPResponse);
    if (res.responseStatus !== OCSPResponseStatus.successful || !res.responseBytes) refuse(`OCSP responder status ${res.responseStatus}`);
    if (res.responseBytes.responseType !== id_pkix_ocsp_basic) refuse('OCSP answer is not a basic response');
    basicDer = Buffer.from(res.responseBytes.response.buffer);
    basic = AsnConvert.parse(basicDer, BasicOCSPResponse);
  } catch (e) {
    if (e instanceof DavisError) throw e;
    refuse('The OCSP answer cannot be read', e);
  }
  const signer = responderOf(basic, issuer, now);
  const hash = signatureHashOf(basic.signatureAlgorithm.algorithm);
  let signed = false;
  try {
    signed = STRONG_HASHES.has(hash) && cryptoVerify(hash, signedPartOf(basicDer), signer.publicKey, Buffer.from(basic.signature));
  } catch {
    signed = false;
  }
  if (!signed) refuse('The OCSP answer signature does not verify');
  const data = basic.tbsResponseData;
  const echoed = data.responseExtensions?.find((e) => e.extnID === id_pkix_ocsp_nonce);
  if (echoed && !same(AsnConvert.parse(echoed.extnValue.buffer, OctetString).buffer, nonce)) refuse('The OCSP answer is for another request (nonce)');
  const single = data.responses.find((r) => same(r.certID.serialNumber, certId.serialNumber) &&
    r.certID.hashAlgorithm.algorithm === SHA1_OID && same(r.certID.issuerKeyHash.buffer, certId.issuerKeyHash.buffer) &&
    same(r.certID.issuerNameHash.buffer, certId.issuerNameHash.buffer));
  if (!single) refuse('The OCSP answer does not cover the certificate');
  if (single.thisUpdate.getTime() > now + skew || (single.nextUpdate && single.nextUpdate.getTime() < now - skew)) {
    refuse('The OCSP answer is not current');
  }
  if (single.certStatus.revoked) throw new DavisError('DAVIS_ERR_SIG_CERT_REVOKED', 'The OCSP responder says the certificate is revoked');
  if (single.certStatus.good === undefined) refuse('The OCSP responder does not know the certificate');
}

/**
 * Asks the OCSP responder about the leaf of `path` (leaf first, anchor last, as
 * `verifyCertificatePath` returns it), or about every certificate below the anchor with
 * `wholeChain`. Resolves when each is good.
 *
 * @throws DavisError DAVIS_ERR_SIG_CERT_REVOKED, DAVIS_ERR_SIG_CERT_OCSP (no usable answer)
 */
export async function checkOcsp(path: readonly CertificateInfo[], opts: OcspOptions = {}): Promise<void> {
  const last = opts.wholeChain ? path.length - 1 : Math.min(1, path.length - 1);
  for (let i = 0; i < last; i++) await checkOne(path[i], path[i + 1], opts);
}
