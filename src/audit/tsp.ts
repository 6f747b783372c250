/**
 * RFC 3161 time-stamps for checkpoints: the request (SHA-256 imprint, a nonce, the TSA's
 * certificate asked for so that the token verifies offline), the call to the TSA over HTTP
 * (RFC 3161 §3.4), and the offline check of a token. Structures are read and written with
 * the @peculiar/asn1-* schemas; the signature math is Node's crypto.
 *
 * What `verifyTimestampToken` checks: a CMS SignedData holding a TSTInfo; its imprint is
 * SHA-256 of the data; one signer whose certificate is in the token, is valid at `genTime`
 * and has the critical extended key usage timeStamping (RFC 3161 §2.3); the signed
 * attributes' content type and message digest; the signature over them; and, with trust
 * anchors, that the TSA's certificate chains to one of them by signatures.
 */
import { createHash, randomBytes, verify as cryptoVerify, X509Certificate } from 'node:crypto';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { ContentInfo, id_signedData, SignedData } from '@peculiar/asn1-cms';
import { AlgorithmIdentifier } from '@peculiar/asn1-x509';
import { id_ct_tstInfo, MessageImprint, TimeStampReq, TSTInfo } from '@peculiar/asn1-tsp';

const OID_SHA256 = '2.16.840.1.101.3.4.2.1';
const OID_CONTENT_TYPE = '1.2.840.113549.1.9.3';
const OID_MESSAGE_DIGEST = '1.2.840.113549.1.9.4';
const OID_TIME_STAMPING = '1.3.6.1.5.5.7.3.8';
/** DER of the OBJECT IDENTIFIER id-ct-TSTInfo (1.2.840.113549.1.9.16.1.4), the content-type attribute's value. */
const TST_INFO_OID_DER = Buffer.from('060b2a864886f70d0109100104', 'hex');
const HASHES: Readonly<Record<string, string>> = {
  [OID_SHA256]: 'sha256', '2.16.840.1.101.3.4.2.2': 'sha384', '2.16.840.1.101.3.4.2.3': 'sha512',
};
/** Signature algorithms accepted on a token: RSA PKCS#1 v1.5 and ECDSA, with SHA-2. */
const SIGNATURES: Readonly<Record<string, string | undefined>> = {
  '1.2.840.113549.1.1.1': undefined, // rsaEncryption: the hash is the signer's digestAlgorithm
  '1.2.840.113549.1.1.11': 'sha256', '1.2.840.113549.1.1.12': 'sha384', '1.2.840.113549.1.1.13': 'sha512',
  '1.2.840.10045.4.3.2': 'sha256', '1.2.840.10045.4.3.3': 'sha384', '1.2.840.10045.4.3.4': 'sha512',
};

/** A token that does not prove what it should; `reason` says which check failed. */
export class TimestampError extends Error {
  constructor(readonly reason: string) {
    super(`RFC 3161 timestamp: ${reason}`);
    this.name = 'TimestampError';
  }
}

/** DER of a TimeStampReq for a SHA-256 digest, asking for the TSA's certificate. */
export function timestampRequest(digest: Buffer, nonce: Buffer = randomBytes(8)): Buffer {
  const req = new TimeStampReq({
    messageImprint: new MessageImprint({ hashAlgorithm: new AlgorithmIdentifier({ algorithm: OID_SHA256 }), hashedMessage: new OctetString(digest) }),
    nonce: positive(nonce), certReq: true,
  });
  return Buffer.from(AsnConvert.serialize(req));
}

/** An INTEGER's bytes that read as positive (a leading zero when the top bit is set). */
function positive(b: Buffer): ArrayBuffer {
  const out = b[0] & 0x80 ? Buffer.concat([Buffer.from([0]), b]) : b;
  return new Uint8Array(out).buffer;
}

/** Options of {@link requestTimestamp}. */
export interface TimestampRequestOptions {
  /** Longest wait for the TSA, ms. @default 10000 */
  readonly timeoutMs?: number;
}

/**
 * Asks the TSA at `url` for a token over `digest` (SHA-256) and returns the token (DER of the
 * TimeStampToken ContentInfo) after checking that it answers this request.
 *
 * @throws TimestampError when the TSA refuses, answers something else, or the token does not verify
 */
export async function requestTimestamp(url: string, digest: Buffer, opts: TimestampRequestOptions = {}): Promise<Buffer> {
  const nonce = randomBytes(8);
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST', headers: { 'content-type': 'application/timestamp-query', accept: 'application/timestamp-reply' },
      body: new Uint8Array(timestampRequest(digest, nonce)), signal: AbortSignal.timeout(opts.timeoutMs ?? 10000),
    });
  } catch (err) {
    throw new TimestampError(`no answer from the TSA: ${(err as Error).message}`);
  }
  if (!res.ok) throw new TimestampError(`the TSA answered HTTP ${res.status}`);
  const resp = Buffer.from(await res.arrayBuffer());
  const token = tokenOfResponse(resp);
  const info = verifyTimestampToken(token, digest);
  if (stripZeros(info.nonce) !== stripZeros(nonce)) {
    throw new TimestampError('the token answers another request (nonce)');
  }
  return token;
}

function stripZeros(b: Buffer): string {
  return b.toString('hex').replace(/^(00)+/, '');
}

/** One DER TLV at `at`: its tag, where its contents start and where it ends. */
function tlv(der: Buffer, at: number): { tag: number; at: number; start: number; end: number } {
  if (at + 2 > der.length) throw new TimestampError('truncated DER');
  let len = der[at + 1];
  let start = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || start + n > der.length) throw new TimestampError('bad DER length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + der[start + i];
    start += n;
  }
  if (start + len > der.length) throw new TimestampError('truncated DER');
  return { tag: der[at], at, start, end: start + len };
}

/** The elements inside a constructed TLV. */
function children(der: Buffer, parent: { start: number; end: number }): ReturnType<typeof tlv>[] {
  const out: ReturnType<typeof tlv>[] = [];
  for (let at = parent.start; at < parent.end; at = out[out.length - 1].end) out.push(tlv(der, at));
  return out;
}

/**
 * The signed attributes of the token's one signer, as encoded: the schema parser does not
 * keep the bytes of a repeated field, and the signature is over exactly these bytes.
 */
function signedAttributesDer(token: Buffer): Buffer {
  const ci = children(token, tlv(token, 0));
  const sd = children(token, children(token, ci[1])[0]);
  const signerInfos = sd[sd.length - 1];
  const si = children(token, children(token, signerInfos)[0]);
  const attrs = si.slice(3).find((e) => e.tag === 0xa0);
  if (!attrs) throw new TimestampError('no signed attributes');
  return Buffer.from(token.subarray(attrs.at, attrs.end));
}

/**
 * The token of a TimeStampResp, byte for byte as the TSA encoded it.
 *
 * @throws TimestampError when the status is not granted or there is no token
 */
export function tokenOfResponse(resp: Buffer): Buffer {
  if (resp[0] !== 0x30) throw new TimestampError('the answer is not a TimeStampResp');
  const outer = tlv(resp, 0);
  const status = tlv(resp, outer.start);
  const statusSeq = resp.subarray(outer.start, status.end);
  const code = tlv(statusSeq, tlv(statusSeq, 0).start);
  const value = statusSeq.subarray(code.start, code.end).readIntBE(0, Math.min(6, code.end - code.start));
  if (value !== 0 && value !== 1) throw new TimestampError(`the TSA refused the request (PKIStatus ${value})`);
  if (status.end >= outer.end) throw new TimestampError('the answer holds no token');
  return resp.subarray(status.end, tlv(resp, status.end).end);
}

/** What a verified token says. */
export interface TimestampInfo {
  /** The TSA's time. */
  readonly genTime: Date;
  /** The TSA's certificate (from the token). */
  readonly tsaCertificate: X509Certificate;
  /** The request's nonce as the TSA echoed it (empty when none). */
  readonly nonce: Buffer;
  /** The TSA's policy OID. */
  readonly policy: string;
}

/**
 * Checks a token over `data`'s SHA-256 `digest` (see the module comment).
 *
 * @param trust the TSA's anchors; without them the signature is checked against the token's own certificate only
 * @throws TimestampError naming the first check that fails
 */
export function verifyTimestampToken(token: Buffer, digest: Buffer, trust: readonly X509Certificate[] = []): TimestampInfo {
  let sd: SignedData;
  let tst: TSTInfo;
  let eContent: Buffer;
  try {
    const ci = AsnConvert.parse(token, ContentInfo);
    if (ci.contentType !== id_signedData) throw new TimestampError('not a CMS SignedData');
    sd = AsnConvert.parse(ci.content, SignedData);
    if (sd.encapContentInfo.eContentType !== id_ct_tstInfo) throw new TimestampError('the signed content is not a TSTInfo');
    const single = sd.encapContentInfo.eContent?.single;
    const any = sd.encapContentInfo.eContent?.any;
    eContent = single ? Buffer.from(single.buffer) : any ? Buffer.from(AsnConvert.parse(any, OctetString).buffer) : Buffer.alloc(0);
    tst = AsnConvert.parse(eContent, TSTInfo);
  } catch (err) {
    if (err instanceof TimestampError) throw err;
    throw new TimestampError(`unreadable token: ${(err as Error).message}`);
  }
  if (tst.messageImprint.hashAlgorithm.algorithm !== OID_SHA256) throw new TimestampError('the imprint is not SHA-256');
  if (!Buffer.from(tst.messageImprint.hashedMessage.buffer).equals(digest)) throw new TimestampError('the token is over other data (imprint differs)');
  if (sd.signerInfos.length !== 1) throw new TimestampError(`${sd.signerInfos.length} signers, expected one`);
  const si = sd.signerInfos[0];
  const pairs = (sd.certificates ?? []).flatMap((c) => (c.certificate
    ? [{ asn: c.certificate, cert: new X509Certificate(Buffer.from(AsnConvert.serialize(c.certificate))) }] : []));
  const certs = pairs.map((p) => p.cert);
  const signer = pairs.find(({ asn }) => {
    const ias = si.sid.issuerAndSerialNumber;
    if (ias) {
      return Buffer.from(ias.serialNumber).equals(Buffer.from(asn.tbsCertificate.serialNumber))
        && Buffer.from(AsnConvert.serialize(ias.issuer)).equals(Buffer.from(AsnConvert.serialize(asn.tbsCertificate.issuer)));
    }
    const ski = si.sid.subjectKeyIdentifier;
    return !!ski && skiOf(asn) === Buffer.from(ski.buffer).toString('hex');
  })?.cert;
  if (!signer) throw new TimestampError('the TSA\'s certificate is not in the token');
  const genTime = tst.genTime;
  if (genTime.getTime() < Date.parse(signer.validFrom) || genTime.getTime() > Date.parse(signer.validTo)) {
    throw new TimestampError('the TSA\'s certificate was not valid at the time stamped');
  }
  if (!(signer.keyUsage ?? []).includes(OID_TIME_STAMPING)) throw new TimestampError('the signer\'s certificate is not for time-stamping (extended key usage)');
  const digestName = HASHES[si.digestAlgorithm.algorithm];
  if (!digestName) throw new TimestampError(`digest algorithm ${si.digestAlgorithm.algorithm} not accepted`);
  if (!si.signedAttrs) throw new TimestampError('no signed attributes');
  const attr = (oid: string) => si.signedAttrs!.find((a) => a.attrType === oid)?.attrValues[0];
  const ct = attr(OID_CONTENT_TYPE);
  const md = attr(OID_MESSAGE_DIGEST);
  if (!ct || !Buffer.from(ct).equals(TST_INFO_OID_DER)) throw new TimestampError('the signed content type is not TSTInfo');
  if (!md || !Buffer.from(AsnConvert.parse(md, OctetString).buffer).equals(createHash(digestName).update(eContent).digest())) {
    throw new TimestampError('the signed message digest does not match the TSTInfo');
  }
  if (!(si.signatureAlgorithm.algorithm in SIGNATURES)) throw new TimestampError(`signature algorithm ${si.signatureAlgorithm.algorithm} not accepted`);
  const signed = signedAttributesDer(token);
  signed[0] = 0x31; // the signature covers the attributes as a SET, not as [0] IMPLICIT (RFC 5652 §5.4)
  const hash = SIGNATURES[si.signatureAlgorithm.algorithm] ?? digestName;
  if (!cryptoVerify(hash, signed, signer.publicKey, Buffer.from(si.signature.buffer))) throw new TimestampError('the TSA\'s signature does not verify');
  if (trust.length) chainsTo(signer, certs, trust, genTime);
  return { genTime, tsaCertificate: signer, nonce: tst.nonce ? Buffer.from(tst.nonce) : Buffer.alloc(0), policy: tst.policy };
}

function skiOf(cert: import('@peculiar/asn1-x509').Certificate): string {
  const ext = cert.tbsCertificate.extensions?.find((e) => e.extnID === '2.5.29.14');
  if (!ext) return '';
  return Buffer.from(AsnConvert.parse(ext.extnValue.buffer, OctetString).buffer).toString('hex');
}

/**
 * Checks that `leaf` chains to one of `trust` by signatures, through `offered` CA
 * certificates each valid at `at` (a check of origin, not RFC 5280 path validation).
 *
 * @throws TimestampError when it does not
 */
export function chainsTo(leaf: X509Certificate, offered: readonly X509Certificate[], trust: readonly X509Certificate[], at: Date): void {
  let cert = leaf;
  for (let depth = 0; depth < 8; depth++) {
    const anchor = trust.find((a) => cert.checkIssued(a) && cert.verify(a.publicKey));
    if (anchor || trust.some((a) => a.fingerprint256 === cert.fingerprint256)) return;
    const next = offered.find((c) => c !== cert && cert.checkIssued(c) && cert.verify(c.publicKey) && c.ca);
    if (!next) break;
    if (at.getTime() < Date.parse(next.validFrom) || at.getTime() > Date.parse(next.validTo)) break;
    cert = next;
  }
  throw new TimestampError(`the certificate ${leaf.subject.replace(/\n/g, ', ')} does not chain to a trusted anchor`);
}
