/**
 * Certificate facts: what path validation and identity pinning need to know about an X.509
 * certificate, read once per distinct certificate with `@peculiar/x509` (extensions, names,
 * algorithms) and kept beside Node's `X509Certificate` (signature math, imported key).
 *
 * Why both: Node does the signature checks fast and in native code but does not expose the
 * extensions; `@peculiar/x509` reads every extension but verifies only asynchronously through
 * WebCrypto. Parsing costs more than a signature check, so facts are cached by fingerprint
 * and by the base64 text a KeyInfo carries.
 */
import 'reflect-metadata';
import { X509Certificate, createHash, type KeyObject } from 'node:crypto';
import * as px from '@peculiar/x509';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate, NameConstraints, type GeneralName as AsnGeneralName, type GeneralSubtrees } from '@peculiar/asn1-x509';

/** Key-usage bits as read from the extension: first content byte in the high 8 bits. */
export const KEY_USAGE = Object.freeze({
  digitalSignature: 0x8000,
  nonRepudiation: 0x4000,
  keyEncipherment: 0x2000,
  dataEncipherment: 0x1000,
  keyAgreement: 0x0800,
  keyCertSign: 0x0400,
  cRLSign: 0x0200,
  encipherOnly: 0x0100,
  decipherOnly: 0x0080,
});

/** The names of the key-usage bits, as certificate requests take them. */
export type KeyUsageName = keyof typeof KEY_USAGE;

/** OIDs of the extensions path validation processes (any other critical one refuses the certificate). */
export const EXT = Object.freeze({
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  subjectAltName: '2.5.29.17',
  issuerAltName: '2.5.29.18',
  nameConstraints: '2.5.29.30',
  subjectKeyIdentifier: '2.5.29.14',
  authorityKeyIdentifier: '2.5.29.35',
  certificatePolicies: '2.5.29.32',
  crlDistributionPoints: '2.5.29.31',
  authorityInfoAccess: '1.3.6.1.5.5.7.1.1',
});
const PROCESSED_EXTENSIONS: ReadonlySet<string> = new Set(Object.values(EXT));

/** Extended key usage OIDs the gateway looks for. */
export const EKU = Object.freeze({
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  ocspSigning: '1.3.6.1.5.5.7.3.9',
});

/** Hash of a certificate or CRL signature, after its algorithm OID. */
export type SignatureHash = 'md2' | 'md5' | 'sha1' | 'sha224' | 'sha256' | 'sha384' | 'sha512' | 'unknown';

const SIGNATURE_HASH_BY_OID: Readonly<Record<string, SignatureHash>> = {
  '1.2.840.113549.1.1.2': 'md2',
  '1.2.840.113549.1.1.4': 'md5',
  '1.2.840.113549.1.1.5': 'sha1',
  '1.3.14.3.2.29': 'sha1',
  '1.2.840.10040.4.3': 'sha1',
  '1.2.840.10045.4.1': 'sha1',
  '1.2.840.113549.1.1.14': 'sha224',
  '1.2.840.113549.1.1.11': 'sha256',
  '1.2.840.113549.1.1.12': 'sha384',
  '1.2.840.113549.1.1.13': 'sha512',
  '1.2.840.10045.4.3.1': 'sha224',
  '1.2.840.10045.4.3.2': 'sha256',
  '1.2.840.10045.4.3.3': 'sha384',
  '1.2.840.10045.4.3.4': 'sha512',
};

/** The hash named by a signature-algorithm OID (`unknown` for RSA-PSS and anything unlisted). */
export function signatureHashOf(oid: string): SignatureHash {
  return SIGNATURE_HASH_BY_OID[oid] ?? 'unknown';
}

/** A subject public key, as the key-size floor sees it. */
export interface KeyFacts {
  /** `rsa`, `ec`, `ed25519`, … as Node names it. */
  readonly type: string;
  /** RSA modulus length in bits. */
  readonly bits?: number;
  /** EC curve as Node names it (`prime256v1`, `secp384r1`, …). */
  readonly curve?: string;
}

/** One subtree of a name-constraints extension, in the forms the validator compares. */
export type NameSubtree =
  | { readonly type: 'dns'; readonly value: string }
  | { readonly type: 'dn'; readonly value: NormalizedName }
  | { readonly type: 'email'; readonly value: string }
  | { readonly type: 'ip'; readonly value: string }
  | { readonly type: 'other' };

/** Permitted and excluded subtrees of a CA's name-constraints extension. */
export interface NameConstraintFacts {
  readonly permitted: readonly NameSubtree[];
  readonly excluded: readonly NameSubtree[];
}

/**
 * A distinguished name as a list of RDNs, each RDN its attributes as `type=value` strings,
 * sorted, values case-folded and with whitespace collapsed (RFC 5280 §7.1, simplified to
 * the string types real certificates use).
 */
export type NormalizedName = readonly (readonly string[])[];

/** Names a certificate is for, from its subjectAltName and subject. */
export interface SubjectNames {
  readonly dns: readonly string[];
  readonly email: readonly string[];
  readonly ip: readonly string[];
  /** Forms of subjectAltName the name-constraints check does not compare (URI, otherName, …). */
  readonly other: number;
}

/**
 * What the verifier needs to know about a certificate, computed once per distinct
 * certificate (keyed by its SHA-256 fingerprint).
 */
export interface CertificateInfo {
  readonly x509: X509Certificate;
  /** The subject public key, imported once. */
  readonly publicKey: KeyObject;
  /** SHA-256 fingerprint of the whole certificate as Node prints it (colon-separated upper-case hex). */
  readonly fingerprint: string;
  /** SHA-256 of the DER SubjectPublicKeyInfo, lower-case hex without separators (the pin that survives re-issuing). */
  readonly spkiSha256: string;
  /** Subject as an RFC 4514 string (`CN=…, O=…`). */
  readonly subject: string;
  /** Issuer as an RFC 4514 string. */
  readonly issuer: string;
  readonly subjectName: NormalizedName;
  readonly issuerName: NormalizedName;
  /** Serial number, lower-case hex without leading zero bytes. */
  readonly serial: string;
  /** Start of validity, ms since the epoch. */
  readonly notBefore: number;
  /** End of validity, ms since the epoch. */
  readonly notAfter: number;
  /** Key-usage bits (see `KEY_USAGE`), or null when the certificate has no key-usage extension. */
  readonly keyUsage: number | null;
  /** Extended key usage OIDs, or null when there is no such extension. */
  readonly extKeyUsage: readonly string[] | null;
  /** Whether basicConstraints says this is a CA. */
  readonly isCA: boolean;
  /** Whether a basicConstraints extension is present and marked critical. */
  readonly basicConstraintsCritical: boolean;
  /** pathLenConstraint, when given. */
  readonly pathLen: number | undefined;
  readonly nameConstraints: NameConstraintFacts | null;
  /** OIDs of every critical extension. */
  readonly criticalExtensions: readonly string[];
  /** OIDs of the critical extensions path validation does not process. */
  readonly unknownCriticalExtensions: readonly string[];
  /** Signature algorithm OID and its hash. */
  readonly signatureAlgorithm: { readonly oid: string; readonly hash: SignatureHash };
  readonly key: KeyFacts;
  readonly names: SubjectNames;
  /** subjectKeyIdentifier, hex; authorityKeyIdentifier's keyIdentifier, hex. */
  readonly subjectKeyId: string | undefined;
  readonly authorityKeyId: string | undefined;
  /** OCSP responder URLs from authorityInfoAccess. */
  readonly ocspUrls: readonly string[];
  /** Whether subject and issuer are the same name (a self-issued certificate, RFC 5280 §6.1). */
  readonly selfIssued: boolean;
}

// Bounded so that a stream of distinct certificates from outside cannot grow memory
// without limit; clearing everything when full is crude but costs one re-parse per entry.
const CERT_CACHE_MAX = 1024;
const infoByFingerprint = new Map<string, CertificateInfo>();
const infoByBase64 = new Map<string, CertificateInfo>();
const infoByObject = new WeakMap<X509Certificate, CertificateInfo>();

function remember<K>(map: Map<K, CertificateInfo>, key: K, info: CertificateInfo): void {
  if (map.size >= CERT_CACHE_MAX) map.clear();
  map.set(key, info);
}

function fold(value: string): string {
  return value.trim().replace(/\s+/g, ' ').toLowerCase();
}

/** Normalises a name given as DER or as a `@peculiar/x509` Name. */
export function normalizeName(name: px.Name | ArrayBuffer | Uint8Array): NormalizedName {
  const n = name instanceof px.Name ? name : new px.Name(name as ArrayBuffer);
  return Object.freeze(n.toJSON().map((rdn) => Object.freeze(
    Object.entries(rdn).flatMap(([type, values]) => values.map((v) => `${type}=${fold(v)}`)).sort(),
  )));
}

/** Whether two normalised names are equal. */
export function sameName(a: NormalizedName, b: NormalizedName): boolean {
  if (a.length !== b.length) return false;
  for (let k = 0; k < a.length; k++) {
    if (a[k].length !== b[k].length || a[k].some((v, j) => v !== b[k][j])) return false;
  }
  return true;
}

/** Whether `name` lies under `base` (its RDNs start with base's: RFC 5280 directoryName subtree). */
export function nameWithin(name: NormalizedName, base: NormalizedName): boolean {
  if (base.length > name.length) return false;
  return sameName(name.slice(0, base.length), base);
}

function subtreeOf(gn: AsnGeneralName): NameSubtree {
  if (gn.dNSName !== undefined) return { type: 'dns', value: gn.dNSName.toLowerCase() };
  if (gn.directoryName !== undefined) return { type: 'dn', value: normalizeName(AsnConvert.serialize(gn.directoryName)) };
  if (gn.rfc822Name !== undefined) return { type: 'email', value: gn.rfc822Name.toLowerCase() };
  if (gn.iPAddress !== undefined) return { type: 'ip', value: gn.iPAddress };
  return { type: 'other' };
}

function subtrees(list: GeneralSubtrees | undefined): NameSubtree[] {
  return list ? list.map((s) => subtreeOf(s.base)) : [];
}

function hex(buf: ArrayBuffer | Uint8Array): string {
  return Buffer.from(buf instanceof Uint8Array ? buf : new Uint8Array(buf)).toString('hex');
}

function buildInfo(x509: X509Certificate, fingerprint: string): CertificateInfo {
  const cert = new px.X509Certificate(x509.raw);
  let keyUsage: number | null = null;
  let extKeyUsage: string[] | null = null;
  let isCA = false;
  let basicConstraintsCritical = false;
  let pathLen: number | undefined;
  let nameConstraints: NameConstraintFacts | null = null;
  let subjectKeyId: string | undefined;
  let authorityKeyId: string | undefined;
  const dns: string[] = [];
  const email: string[] = [];
  const ip: string[] = [];
  let other = 0;
  const ocspUrls: string[] = [];
  const critical: string[] = [];
  for (const ext of cert.extensions) {
    if (ext.critical) critical.push(ext.type);
    if (ext instanceof px.BasicConstraintsExtension) {
      isCA = ext.ca;
      basicConstraintsCritical = ext.critical;
      pathLen = ext.pathLength;
    } else if (ext instanceof px.KeyUsagesExtension) {
      keyUsage = 0;
      // @peculiar/x509 numbers the bits from the least significant; KEY_USAGE from the high byte.
      for (let bit = 0; bit < 9; bit++) if (ext.usages & (1 << bit)) keyUsage |= 0x8000 >> bit;
    } else if (ext instanceof px.ExtendedKeyUsageExtension) {
      extKeyUsage = ext.usages.map(String);
    } else if (ext instanceof px.SubjectAlternativeNameExtension) {
      for (const n of ext.names.items) {
        if (n.type === 'dns') dns.push(n.value.toLowerCase());
        else if (n.type === 'email') email.push(n.value.toLowerCase());
        else if (n.type === 'ip') ip.push(n.value);
        else other++;
      }
    } else if (ext instanceof px.SubjectKeyIdentifierExtension) {
      subjectKeyId = ext.keyId.toLowerCase();
    } else if (ext instanceof px.AuthorityKeyIdentifierExtension) {
      authorityKeyId = ext.keyId?.toLowerCase();
    } else if (ext instanceof px.AuthorityInfoAccessExtension) {
      for (const n of ext.ocsp) if (n.type === 'url') ocspUrls.push(n.value);
    } else if (ext.type === EXT.nameConstraints) {
      const nc = AsnConvert.parse(ext.value, NameConstraints);
      nameConstraints = Object.freeze({ permitted: subtrees(nc.permittedSubtrees), excluded: subtrees(nc.excludedSubtrees) });
    }
  }
  const publicKey = x509.publicKey;
  const details = publicKey.asymmetricKeyDetails ?? {};
  const sigOid = AsnConvert.parse(x509.raw, Certificate).signatureAlgorithm.algorithm;
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const subjectName = normalizeName(cert.subjectName);
  const issuerName = normalizeName(cert.issuerName);
  return Object.freeze({
    x509, publicKey, fingerprint,
    spkiSha256: createHash('sha256').update(spki).digest('hex'),
    subject: cert.subject, issuer: cert.issuer, subjectName, issuerName,
    serial: cert.serialNumber.toLowerCase().replace(/^(00)+(?=.)/, ''),
    notBefore: cert.notBefore.getTime(), notAfter: cert.notAfter.getTime(),
    keyUsage, extKeyUsage: extKeyUsage && Object.freeze(extKeyUsage), isCA, basicConstraintsCritical, pathLen, nameConstraints,
    criticalExtensions: Object.freeze(critical),
    unknownCriticalExtensions: Object.freeze(critical.filter((oid) => !PROCESSED_EXTENSIONS.has(oid))),
    signatureAlgorithm: Object.freeze({ oid: sigOid, hash: signatureHashOf(sigOid) }),
    key: Object.freeze({
      type: publicKey.asymmetricKeyType ?? 'unknown',
      ...(details.modulusLength !== undefined ? { bits: details.modulusLength } : {}),
      ...(details.namedCurve !== undefined ? { curve: details.namedCurve } : {}),
    }),
    names: Object.freeze({ dns: Object.freeze(dns), email: Object.freeze(email), ip: Object.freeze(ip), other }),
    subjectKeyId, authorityKeyId,
    ocspUrls: Object.freeze(ocspUrls),
    selfIssued: sameName(subjectName, issuerName),
  });
}

/** The cached facts about a certificate object (trust anchors, our own certificates). */
export function certificateInfo(x509: X509Certificate): CertificateInfo {
  const known = infoByObject.get(x509);
  if (known) return known;
  const fingerprint = x509.fingerprint256;
  let info = infoByFingerprint.get(fingerprint);
  if (!info) {
    info = buildInfo(x509, fingerprint);
    remember(infoByFingerprint, fingerprint, info);
  }
  infoByObject.set(x509, info);
  return info;
}

/** The facts of a certificate already seen (by its base64 text), without parsing or checking anything. */
export function knownCertificateInfo(b64: string): CertificateInfo | undefined {
  return infoByBase64.get(b64);
}

/**
 * The cached facts about a certificate given as the base64 DER of an XML-DSig
 * `X509Certificate` element (whitespace already removed). Throws a plain Error when the
 * bytes are not a certificate.
 */
export function certificateInfoFromBase64(b64: string): CertificateInfo {
  const known = infoByBase64.get(b64);
  if (known) return known;
  const x509 = new X509Certificate(Buffer.from(b64, 'base64'));
  const info = certificateInfo(x509);
  remember(infoByBase64, b64, info);
  return info;
}

/** The SHA-256 of a certificate's DER, lower-case hex without separators. */
export function certificateSha256(info: CertificateInfo): string {
  return info.fingerprint.replace(/:/g, '').toLowerCase();
}

/** Hex text of bytes, for identifiers read from ASN.1. */
export function toHex(buf: ArrayBuffer | Uint8Array): string {
  return hex(buf);
}
