/**
 * Certification path validation (RFC 5280 §6) for the certificates the gateway accepts, and
 * revocation by the CRLs kept in the trust folder.
 *
 * Why by hand: the JavaScript validators measured here (pkijs 4.0.0) accepted every crafted
 * bad chain; this one is kept in step with `openssl verify -x509_strict -auth_level 2` by a
 * differential test over crafted chains (test/signing/path-validation.test.ts).
 *
 * What is checked, each refusal its own DavisError code:
 * - a path from the leaf to a trust anchor through the offered certificates, by name
 *   (CERT_UNTRUSTED), every link's signature made by the next certificate's key
 *   (CERT_SIGNATURE);
 * - every certificate inside its validity period, the anchor included (CERT_EXPIRED);
 * - every issuer a CA: basicConstraints cA, marked critical, keyUsage present with
 *   keyCertSign (CERT_CONSTRAINTS); pathLenConstraint (CERT_PATHLEN);
 * - no critical extension the validator does not process (CERT_CRITICAL_EXT);
 * - name constraints of every CA on the certificates below it: directoryName, dNSName
 *   (with the subject CN as a host name when there is no DNS subjectAltName, as OpenSSL
 *   does) and rfc822Name subtrees; other name forms under a constraint of their form are
 *   refused rather than guessed (CERT_NAME_CONSTRAINTS);
 * - signatures below the anchor with SHA-224 or stronger (MD5, SHA-1, RSA-PSS and unknown
 *   algorithms refused: CERT_WEAK_ALGORITHM); keys RSA ≥ 2048 bits or EC P-256 / P-384,
 *   the anchor included (CERT_WEAK_KEY);
 * - the leaf may make digital signatures when it has a key-usage extension (CERT_USAGE);
 * - for every certificate whose issuer has a CRL in the trust store: a CRL signed by that
 *   issuer (CERT_CRL_INVALID), current — thisUpdate passed, nextUpdate present and not
 *   passed (CERT_CRL_STALE) — that does not list it (CERT_REVOKED).
 *
 * OCSP needs the network, so it is a separate, asynchronous step (`./ocsp.ts`) that callers
 * run on the path returned here.
 */
import { verify as cryptoVerify } from 'node:crypto';
import * as px from '@peculiar/x509';
import { AsnConvert } from '@peculiar/asn1-schema';
import { CertificateList } from '@peculiar/asn1-x509';
import { DavisError, type ErrorCode } from '../errors/errors';
import {
  KEY_USAGE, certificateInfo, nameWithin, normalizeName, sameName, signatureHashOf,
  type CertificateInfo, type NameSubtree, type NormalizedName, type SignatureHash,
} from './certificates';
import type { TrustStore } from './types';

/** A CRL from the trust folder, parsed once. */
export interface CrlInfo {
  readonly issuerName: NormalizedName;
  /** Issuer as an RFC 4514 string, for messages. */
  readonly issuer: string;
  readonly thisUpdate: number;
  readonly nextUpdate: number | undefined;
  /** Revoked serial numbers (lower-case hex, no leading zero bytes). */
  readonly revoked: ReadonlySet<string>;
  readonly signatureHash: SignatureHash;
  /** The signed bytes (tbsCertList) and the signature over them. */
  readonly tbs: Buffer;
  readonly signature: Buffer;
  /** Critical CRL extensions the validator does not process (delta CRLs, distribution points). */
  readonly unknownCritical: boolean;
}

/** Reads one TLV of DER at `at`; returns where its content starts and where it ends. */
function tlv(der: Buffer, at: number): { start: number; end: number } {
  let p = at + 1;
  let len = der[p++];
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n < 1 || n > 4) throw new Error('bad DER length');
    len = 0;
    for (let k = 0; k < n; k++) len = len * 256 + der[p++];
  }
  if (p + len > der.length) throw new Error('truncated DER');
  return { start: p, end: p + len };
}

/** The first element of a DER SEQUENCE, byte for byte: the signed part of a CRL, certificate or OCSP response. */
export function signedPartOf(der: Buffer): Buffer {
  const outer = tlv(der, 0);
  return der.subarray(outer.start, tlv(der, outer.start).end);
}

/** Signature hashes accepted below the anchor (112-bit security or more, as OpenSSL's level 2). */
export const STRONG_HASHES: ReadonlySet<SignatureHash> = new Set(['sha224', 'sha256', 'sha384', 'sha512']);

const PROCESSED_CRL_EXTENSIONS = new Set(['2.5.29.20', '2.5.29.35']); // cRLNumber, authorityKeyIdentifier

function serialHex(s: string): string {
  return s.toLowerCase().replace(/^(00)+(?=.)/, '');
}

/**
 * Parses a CRL (DER) with `@peculiar/x509` and keeps what revocation checks need.
 *
 * @throws Error when the bytes are not a CRL
 */
export function readCrl(der: Buffer): CrlInfo {
  const crl = new px.X509Crl(new Uint8Array(der));
  const tbs = signedPartOf(der);
  const unknownCritical = crl.extensions.some((e) => e.critical && !PROCESSED_CRL_EXTENSIONS.has(e.type)) ||
    crl.entries.some((e) => e.extensions.some((x) => x.critical));
  return Object.freeze({
    issuerName: normalizeName(crl.issuerName), issuer: crl.issuer,
    thisUpdate: crl.thisUpdate.getTime(), nextUpdate: crl.nextUpdate?.getTime(),
    revoked: new Set(crl.entries.map((e) => serialHex(e.serialNumber))),
    signatureHash: signatureHashOf(AsnConvert.parse(der, CertificateList).signatureAlgorithm.algorithm),
    tbs: Buffer.from(tbs), signature: Buffer.from(crl.signature), unknownCritical,
  });
}

const ACCEPTED_CURVES: ReadonlySet<string> = new Set(['prime256v1', 'secp384r1']);
const MAX_PATH_LENGTH = 8;
const MAX_CANDIDATE_PATHS = 8;
const PATH_CACHE_MAX = 256;

function fail(code: ErrorCode, detail?: string): never {
  throw new DavisError(code, detail);
}

interface PreparedTrust {
  readonly source: TrustStore['anchors'];
  readonly anchors: readonly CertificateInfo[];
  readonly fingerprints: ReadonlySet<string>;
  /** Paths already proven (structure and signatures), keyed by the certificates offered. */
  readonly paths: Map<string, readonly CertificateInfo[]>;
}

const preparedTrust = new WeakMap<TrustStore, PreparedTrust>();

function prepare(trust: TrustStore): PreparedTrust {
  const known = preparedTrust.get(trust);
  if (known && known.source === trust.anchors) return known;
  const anchors = trust.anchors.map(certificateInfo);
  const p: PreparedTrust = { source: trust.anchors, anchors, fingerprints: new Set(anchors.map((a) => a.fingerprint)), paths: new Map() };
  preparedTrust.set(trust, p);
  return p;
}

function namesIssuer(child: CertificateInfo, issuer: CertificateInfo): boolean {
  return sameName(child.issuerName, issuer.subjectName);
}

function keyIdsAgree(child: CertificateInfo, issuer: CertificateInfo): boolean {
  return child.authorityKeyId === undefined || issuer.subjectKeyId === undefined || child.authorityKeyId === issuer.subjectKeyId;
}

/** Candidate paths by name and agreeing key identifiers, anchors tried first. */
function candidatePaths(leaf: CertificateInfo, offered: readonly CertificateInfo[], trust: PreparedTrust): CertificateInfo[][] {
  const out: CertificateInfo[][] = [];
  const byPreference = (child: CertificateInfo, list: readonly CertificateInfo[]): CertificateInfo[] => {
    // A certificate whose key identifier contradicts the child's authority key identifier did
    // not issue it, whatever its name (OpenSSL's X509_check_issued refuses it the same way):
    // a look-alike CA with the anchor's name leaves the path without an anchor.
    return list.filter((c) => c !== child && namesIssuer(child, c) && keyIdsAgree(child, c));
  };
  const extend = (path: CertificateInfo[]): void => {
    if (out.length >= MAX_CANDIDATE_PATHS) return;
    const current = path[path.length - 1];
    // A certificate that is itself an anchor ends the path (anchors may be intermediates).
    if (trust.fingerprints.has(current.fingerprint)) {
      out.push(path);
      return;
    }
    if (path.length > MAX_PATH_LENGTH) return;
    for (const a of byPreference(current, trust.anchors)) out.push([...path, a]);
    for (const c of byPreference(current, offered)) {
      if (!path.includes(c) && !trust.fingerprints.has(c.fingerprint)) extend([...path, c]);
    }
  };
  extend([leaf]);
  return out;
}

function checkKey(c: CertificateInfo): void {
  const k = c.key;
  if (k.type === 'rsa') {
    if ((k.bits ?? 0) < 2048) fail('DAVIS_ERR_SIG_CERT_WEAK_KEY', `RSA key of ${k.bits ?? 0} bits in the chain`);
  } else if (k.type === 'ec') {
    if (!ACCEPTED_CURVES.has(k.curve ?? '')) fail('DAVIS_ERR_SIG_CERT_WEAK_KEY', `EC curve ${k.curve ?? 'unknown'} in the chain`);
  } else {
    fail('DAVIS_ERR_SIG_CERT_WEAK_KEY', `${k.type} key in the chain`);
  }
}

function dnsWithin(name: string, base: string): boolean {
  if (base === '') return true;
  if (base.startsWith('.')) return name.endsWith(base);
  return name === base || name.endsWith('.' + base);
}

function emailWithin(mail: string, base: string): boolean {
  if (base.includes('@')) return mail === base;
  const host = mail.slice(mail.lastIndexOf('@') + 1);
  return base.startsWith('.') ? host.endsWith(base) : host === base;
}

const HOST_NAME = /^(?:\*\.)?(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/;

/** The subject's CN values that read as host names, checked as DNS names when no DNS subjectAltName exists. */
function cnHostNames(c: CertificateInfo): string[] {
  const out: string[] = [];
  for (const rdn of c.subjectName) {
    for (const av of rdn) if (av.startsWith('CN=') && HOST_NAME.test(av.slice(3))) out.push(av.slice(3));
  }
  return out;
}

function checkNameConstraints(ca: CertificateInfo, c: CertificateInfo): void {
  const nc = ca.nameConstraints!;
  const bad = (what: string): never => fail('DAVIS_ERR_SIG_CERT_NAME_CONSTRAINTS', `${what} is outside the name constraints of ${ca.subject}`);
  const of = <T extends NameSubtree['type']>(list: readonly NameSubtree[], type: T) => list.filter((s) => s.type === type) as Extract<NameSubtree, { type: T }>[];

  const dnPermitted = of(nc.permitted, 'dn');
  if (c.subjectName.length) {
    if (of(nc.excluded, 'dn').some((s) => nameWithin(c.subjectName, s.value))) bad('The subject');
    if (dnPermitted.length && !dnPermitted.some((s) => nameWithin(c.subjectName, s.value))) bad('The subject');
  }
  const dnsNames = c.names.dns.length ? c.names.dns : cnHostNames(c);
  const dnsPermitted = of(nc.permitted, 'dns');
  for (const n of dnsNames) {
    if (of(nc.excluded, 'dns').some((s) => dnsWithin(n, s.value))) bad('A DNS name');
    if (dnsPermitted.length && !dnsPermitted.some((s) => dnsWithin(n, s.value))) bad('A DNS name');
  }
  const mailPermitted = of(nc.permitted, 'email');
  for (const m of c.names.email) {
    if (of(nc.excluded, 'email').some((s) => emailWithin(m, s.value))) bad('An e-mail address');
    if (mailPermitted.length && !mailPermitted.some((s) => emailWithin(m, s.value))) bad('An e-mail address');
  }
  // IP ranges and the other name forms are not compared: fail closed when both sides have them.
  const all = [...nc.permitted, ...nc.excluded];
  if (c.names.ip.length && all.some((s) => s.type === 'ip')) bad('An IP address');
  if (c.names.other && all.some((s) => s.type === 'other')) bad('A subjectAltName');
}

/** Everything about a path that does not depend on the time or the CRLs. */
function checkStructure(path: readonly CertificateInfo[]): void {
  const n = path.length;
  for (const c of path) {
    if (c.unknownCriticalExtensions.length) {
      fail('DAVIS_ERR_SIG_CERT_CRITICAL_EXT', `Unprocessed critical extension ${c.unknownCriticalExtensions.join(', ')}`);
    }
    checkKey(c);
  }
  for (let i = 0; i < n - 1; i++) {
    const child = path[i];
    const issuer = path[i + 1];
    if (!STRONG_HASHES.has(child.signatureAlgorithm.hash)) {
      fail('DAVIS_ERR_SIG_CERT_WEAK_ALGORITHM', `Certificate signed with ${child.signatureAlgorithm.hash} (${child.signatureAlgorithm.oid})`);
    }
    if (!issuer.isCA || !issuer.basicConstraintsCritical) fail('DAVIS_ERR_SIG_CERT_CONSTRAINTS', 'An issuer is not a CA (critical basicConstraints cA)');
    if (issuer.keyUsage === null || (issuer.keyUsage & KEY_USAGE.keyCertSign) === 0) {
      fail('DAVIS_ERR_SIG_CERT_CONSTRAINTS', 'An issuer may not sign certificates (keyUsage keyCertSign)');
    }
    let ok = false;
    try {
      ok = child.x509.verify(issuer.publicKey);
    } catch {
      ok = false;
    }
    if (!ok) fail('DAVIS_ERR_SIG_CERT_SIGNATURE');
  }
  for (let j = 1; j < n; j++) {
    const ca = path[j];
    if (ca.pathLen !== undefined) {
      let below = 0;
      for (let k = 1; k < j; k++) if (!path[k].selfIssued) below++;
      if (below > ca.pathLen) fail('DAVIS_ERR_SIG_CERT_PATHLEN', `${below} CA certificate(s) below one with pathLen ${ca.pathLen}`);
    }
    if (ca.nameConstraints) {
      for (let k = 0; k < j; k++) {
        // Self-issued intermediates are exempt (RFC 5280 §6.1.3 (b)); the leaf never is.
        if (k > 0 && path[k].selfIssued) continue;
        checkNameConstraints(ca, path[k]);
      }
    }
  }
}

function verifiesCrl(crl: CrlInfo, issuer: CertificateInfo): boolean {
  if (!STRONG_HASHES.has(crl.signatureHash)) return false;
  if (issuer.keyUsage !== null && (issuer.keyUsage & KEY_USAGE.cRLSign) === 0) return false;
  try {
    return cryptoVerify(crl.signatureHash, crl.tbs, issuer.publicKey, crl.signature);
  } catch {
    return false;
  }
}

/** Checks each certificate below the anchor against its issuer's CRL, when the trust store holds one. */
function checkCrls(path: readonly CertificateInfo[], crls: readonly CrlInfo[], now: number): void {
  if (!crls.length) return;
  for (let i = 0; i < path.length - 1; i++) {
    const issuer = path[i + 1];
    const named = crls.filter((c) => sameName(c.issuerName, issuer.subjectName));
    if (!named.length) continue;
    const signed = named.filter((c) => verifiesCrl(c, issuer));
    if (!signed.length) fail('DAVIS_ERR_SIG_CERT_CRL_INVALID', `No CRL of ${issuer.subject} verifies with its key`);
    const crl = signed.reduce((a, b) => (b.thisUpdate > a.thisUpdate ? b : a));
    if (crl.unknownCritical) fail('DAVIS_ERR_SIG_CERT_CRL_INVALID', `The CRL of ${issuer.subject} has a critical extension not processed`);
    if (now < crl.thisUpdate || crl.nextUpdate === undefined || now > crl.nextUpdate) {
      fail('DAVIS_ERR_SIG_CERT_CRL_STALE', `The CRL of ${issuer.subject} is not current`);
    }
    if (crl.revoked.has(path[i].serial)) fail('DAVIS_ERR_SIG_CERT_REVOKED', i === 0 ? 'The signing certificate is revoked' : 'A CA certificate of the chain is revoked');
  }
}

function checkTime(path: readonly CertificateInfo[], now: number): void {
  for (const c of path) {
    if (now < c.notBefore || now > c.notAfter) {
      fail('DAVIS_ERR_SIG_CERT_EXPIRED', c === path[0] ? undefined : 'A certificate of the chain is outside its validity period');
    }
  }
}

function checkAll(path: readonly CertificateInfo[], trust: TrustStore, now: number): void {
  checkTime(path, now);
  checkCrls(path, trust.crls ?? [], now);
  const leaf = path[0];
  if (leaf.keyUsage !== null && (leaf.keyUsage & KEY_USAGE.digitalSignature) === 0) fail('DAVIS_ERR_SIG_CERT_USAGE');
}

/**
 * Validates the path from `leaf` to an anchor of `trust` through the `offered` certificates
 * at time `now` (ms since the epoch); see the module comment for every check. The structure
 * of a proven path (names, signatures, constraints) is cached per trust store, so the
 * signature checks run once per distinct chain; time, CRLs and leaf usage are checked on
 * every call. Returns the path, leaf first, anchor last.
 *
 * When several paths are possible, the first that passes is returned; when none does, the
 * error of the most likely one (anchors and agreeing key identifiers first) is thrown.
 *
 * @throws DavisError DAVIS_ERR_SIG_CERT_* (see the module comment)
 */
export function verifyCertificatePath(
  leaf: CertificateInfo, offered: readonly CertificateInfo[], trust: TrustStore, now: number,
): readonly CertificateInfo[] {
  const prepared = prepare(trust);
  let key = leaf.fingerprint;
  for (const c of offered) key += '|' + c.fingerprint;
  const known = prepared.paths.get(key);
  if (known) {
    checkAll(known, trust, now);
    return known;
  }
  const candidates = candidatePaths(leaf, offered, prepared);
  if (!candidates.length) fail('DAVIS_ERR_SIG_CERT_UNTRUSTED');
  let first: unknown;
  for (const candidate of candidates) {
    try {
      checkStructure(candidate);
      checkAll(candidate, trust, now);
    } catch (e) {
      first ??= e;
      continue;
    }
    const path = Object.freeze(candidate);
    if (prepared.paths.size >= PATH_CACHE_MAX) prepared.paths.clear();
    prepared.paths.set(key, path);
    return path;
  }
  throw first;
}
