/**
 * Keys, certificates and trust: loading the signing identity (PEM or PKCS#12), loading
 * trust stores and certification-path checks for the verifier. Issuing certificates (the
 * development PKI) lives in src/dev/dev-pki.ts, outside the production code.
 *
 * All signing and verification math runs in `node:crypto` (KeyObject / X509Certificate);
 * node-forge is used only where Node has no API: reading PKCS#12 and reading the key-usage
 * extension and validity dates from the DER.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { KeyObject, X509Certificate, createPrivateKey } from 'node:crypto';
import forge from 'node-forge';
import { DavisError, isDavisError } from '../errors/errors';
import type { SignatureAlgorithm, SigningKey, TrustStore } from './types';

// forge's typings miss the options form of fromDer.
const fromDer = forge.asn1.fromDer as unknown as (
  bytes: forge.util.ByteStringBuffer | string, opts: { strict?: boolean; decodeBitStrings?: boolean },
) => forge.asn1.Asn1;

// ---------------------------------------------------------------------------------------
// Certificate facts, parsed once per distinct certificate
// ---------------------------------------------------------------------------------------

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

/**
 * What the verifier needs to know about a certificate, computed once per distinct
 * certificate (keyed by its SHA-256 fingerprint) because parsing and key import cost more
 * than the signature check itself.
 */
export interface CertificateInfo {
  readonly x509: X509Certificate;
  /** The subject public key, imported once. */
  readonly publicKey: KeyObject;
  /** SHA-256 fingerprint as Node prints it (colon-separated hex). */
  readonly fingerprint: string;
  /** Start of validity, ms since the epoch. */
  readonly notBefore: number;
  /** End of validity, ms since the epoch. */
  readonly notAfter: number;
  /** Key-usage bits (see `KEY_USAGE`), or null when the certificate has no key-usage extension. */
  readonly keyUsage: number | null;
  /** Whether basicConstraints says this is a CA. */
  readonly isCA: boolean;
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

/** Reads validity and key usage from the DER with forge's ASN.1 reader (Node exposes neither reliably). */
function readDerFields(der: Buffer): { notBefore: number; notAfter: number; keyUsage: number | null } {
  const { asn1 } = forge;
  const cert = fromDer(forge.util.createBuffer(der.toString('binary')), { strict: true, decodeBitStrings: false });
  const tbs = (cert.value as forge.asn1.Asn1[])[0].value as forge.asn1.Asn1[];
  const base = tbs[0].tagClass === asn1.Class.CONTEXT_SPECIFIC && tbs[0].type === 0 ? 1 : 0;
  const validity = tbs[base + 3].value as forge.asn1.Asn1[];
  const toTime = (t: forge.asn1.Asn1): number => {
    const s = t.value as string;
    return (t.type === asn1.Type.UTCTIME ? asn1.utcTimeToDate(s) : asn1.generalizedTimeToDate(s)).getTime();
  };
  let keyUsage: number | null = null;
  for (let k = base + 6; k < tbs.length; k++) {
    const node = tbs[k];
    if (node.tagClass !== asn1.Class.CONTEXT_SPECIFIC || node.type !== 3) continue;
    const exts = (node.value as forge.asn1.Asn1[])[0].value as forge.asn1.Asn1[];
    for (const ext of exts) {
      const parts = ext.value as forge.asn1.Asn1[];
      if (asn1.derToOid(parts[0].value as string) !== '2.5.29.15') continue;
      const octets = parts[parts.length - 1].value as string;
      const bits = fromDer(forge.util.createBuffer(octets), { strict: true, decodeBitStrings: false }).value as string;
      keyUsage = (((bits.charCodeAt(1) || 0) << 8) | (bits.charCodeAt(2) || 0));
    }
  }
  return { notBefore: toTime(validity[0]), notAfter: toTime(validity[1]), keyUsage };
}

function buildInfo(x509: X509Certificate, fingerprint: string): CertificateInfo {
  const fields = readDerFields(x509.raw);
  return Object.freeze({ x509, publicKey: x509.publicKey, fingerprint, ...fields, isCA: x509.ca });
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

// ---------------------------------------------------------------------------------------
// Certification path
// ---------------------------------------------------------------------------------------

interface PreparedTrust {
  readonly source: readonly X509Certificate[];
  readonly anchors: readonly CertificateInfo[];
  readonly fingerprints: ReadonlySet<string>;
  /** Paths already proven (signatures checked), keyed by the certificates offered. */
  readonly paths: Map<string, readonly CertificateInfo[]>;
}

const preparedTrust = new WeakMap<TrustStore, PreparedTrust>();
const MAX_PATH_LENGTH = 8;
const PATH_CACHE_MAX = 256;

function prepare(trust: TrustStore): PreparedTrust {
  const known = preparedTrust.get(trust);
  if (known && known.source === trust.anchors) return known;
  const anchors = trust.anchors.map(certificateInfo);
  const p: PreparedTrust = { source: trust.anchors, anchors, fingerprints: new Set(anchors.map((a) => a.fingerprint)), paths: new Map() };
  preparedTrust.set(trust, p);
  return p;
}

function issued(child: CertificateInfo, issuer: CertificateInfo): boolean {
  if (!issuer.isCA) return false;
  if (issuer.keyUsage !== null && (issuer.keyUsage & KEY_USAGE.keyCertSign) === 0) return false;
  return child.x509.checkIssued(issuer.x509) && child.x509.verify(issuer.publicKey);
}

function findPath(leaf: CertificateInfo, offered: readonly CertificateInfo[], trust: PreparedTrust): CertificateInfo[] | null {
  const path: CertificateInfo[] = [leaf];
  const used = new Set<CertificateInfo>([leaf]);
  let current = leaf;
  for (let depth = 0; depth < MAX_PATH_LENGTH; depth++) {
    // A certificate that is itself an anchor ends the path (anchors may be intermediates).
    if (trust.fingerprints.has(current.fingerprint)) return path;
    const anchor = trust.anchors.find((a) => issued(current, a));
    if (anchor) {
      path.push(anchor);
      return path;
    }
    const next = offered.find((c) => !used.has(c) && issued(current, c));
    if (!next) return null;
    used.add(next);
    path.push(next);
    current = next;
  }
  return null;
}

/**
 * Checks that `leaf` chains to an anchor of `trust` through the `offered` certificates,
 * that every certificate on the path is inside its validity period at `now` (ms), and that
 * the leaf may make digital signatures. Proven paths are cached per trust store, so the
 * signature checks along the path run once per distinct chain; the time and usage checks
 * run every call. Returns the path, leaf first, anchor last.
 *
 * @throws DavisError DAVIS_ERR_SIG_CERT_UNTRUSTED, DAVIS_ERR_SIG_CERT_EXPIRED, DAVIS_ERR_SIG_CERT_USAGE
 */
export function verifyCertificatePath(
  leaf: CertificateInfo, offered: readonly CertificateInfo[], trust: TrustStore, now: number,
): readonly CertificateInfo[] {
  const prepared = prepare(trust);
  let key = leaf.fingerprint;
  for (const c of offered) key += '|' + c.fingerprint;
  let path = prepared.paths.get(key);
  if (!path) {
    const found = findPath(leaf, offered, prepared);
    if (!found) throw new DavisError('DAVIS_ERR_SIG_CERT_UNTRUSTED');
    path = Object.freeze(found);
    if (prepared.paths.size >= PATH_CACHE_MAX) prepared.paths.clear();
    prepared.paths.set(key, path);
  }
  for (const c of path) {
    if (now < c.notBefore || now > c.notAfter) {
      throw new DavisError('DAVIS_ERR_SIG_CERT_EXPIRED', c === leaf ? undefined : 'A certificate of the chain is outside its validity period');
    }
  }
  if (leaf.keyUsage !== null && (leaf.keyUsage & KEY_USAGE.digitalSignature) === 0) {
    throw new DavisError('DAVIS_ERR_SIG_CERT_USAGE');
  }
  return path;
}

// ---------------------------------------------------------------------------------------
// Loading keys and trust stores
// ---------------------------------------------------------------------------------------

/** Where the signing identity comes from: PEM key + PEM certificate, or one PKCS#12 file. */
export interface SigningKeyOptions {
  /** PEM private key (PKCS#8 or PKCS#1/SEC1, encrypted when `passphrase` is given). */
  readonly keyFile?: string;
  /** PEM certificate; the first one is the leaf, any following ones are sent as the chain. */
  readonly certFile?: string;
  /** PKCS#12 file holding the key and its certificate (and possibly the chain). Wins over keyFile/certFile. */
  readonly p12File?: string;
  /** Password of the PKCS#12 file or of an encrypted PEM key. @default '' */
  readonly passphrase?: string;
  /** More PEM files with intermediate certificates to send after the leaf. @default [] */
  readonly chainFiles?: readonly string[];
  /** The time the certificate must be valid at; for tests. @default new Date() */
  readonly now?: Date;
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

function pemCertificates(text: string): X509Certificate[] {
  return (text.match(PEM_CERT) ?? []).map((pem) => new X509Certificate(pem));
}

function readFile(file: string, code: 'DAVIS_ERR_PKI_KEY' | 'DAVIS_ERR_PKI_TRUST'): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (e) {
    throw new DavisError(code, `Cannot read ${file}`, { cause: e });
  }
}

function derOf(obj: forge.asn1.Asn1): Buffer {
  return Buffer.from(forge.asn1.toDer(obj).getBytes(), 'binary');
}

function readPkcs12(file: string, passphrase: string): { key: KeyObject; certs: X509Certificate[] } {
  const der = readFile(file, 'DAVIS_ERR_PKI_KEY');
  let p12: forge.pkcs12.Pkcs12Pfx;
  try {
    p12 = forge.pkcs12.pkcs12FromAsn1(forge.asn1.fromDer(forge.util.createBuffer(der.toString('binary'))), true, passphrase);
  } catch (e) {
    // Wrong password shows up as a MAC or decryption failure; forge does not tell them apart.
    throw new DavisError('DAVIS_ERR_PKI_KEY', `Cannot open PKCS#12 file ${file} (wrong password or not PKCS#12)`, { cause: e });
  }
  const keyBags = [
    ...(p12.getBags({ bagType: forge.pki.oids.pkcs8ShroudedKeyBag })[forge.pki.oids.pkcs8ShroudedKeyBag] ?? []),
    ...(p12.getBags({ bagType: forge.pki.oids.keyBag })[forge.pki.oids.keyBag] ?? []),
  ];
  if (keyBags.length !== 1) throw new DavisError('DAVIS_ERR_PKI_KEY', `PKCS#12 file ${file} must hold exactly one private key`);
  const bag = keyBags[0];
  let key: KeyObject;
  try {
    // forge decodes RSA keys only; other key types come back as the raw PrivateKeyInfo.
    const info = bag.key ? forge.pki.wrapRsaPrivateKey(forge.pki.privateKeyToAsn1(bag.key)) : (bag as { asn1?: forge.asn1.Asn1 }).asn1;
    if (!info) throw new Error('empty key bag');
    key = createPrivateKey({ key: derOf(info), format: 'der', type: 'pkcs8' });
  } catch (e) {
    throw new DavisError('DAVIS_ERR_PKI_KEY', `Cannot read the private key in ${file}`, { cause: e });
  }
  const certs: X509Certificate[] = [];
  for (const cb of p12.getBags({ bagType: forge.pki.oids.certBag })[forge.pki.oids.certBag] ?? []) {
    const asn = cb.cert ? forge.pki.certificateToAsn1(cb.cert) : (cb as { asn1?: forge.asn1.Asn1 }).asn1;
    if (asn) certs.push(new X509Certificate(derOf(asn)));
  }
  return { key, certs };
}

function algorithmFor(key: KeyObject): SignatureAlgorithm {
  if (key.asymmetricKeyType === 'rsa') {
    if ((key.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) throw new DavisError('DAVIS_ERR_PKI_KEY', 'RSA keys shorter than 2048 bits are refused');
    return 'rsa-sha256';
  }
  if (key.asymmetricKeyType === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (curve === 'prime256v1') return 'ecdsa-sha256';
    if (curve === 'secp384r1') return 'ecdsa-sha384';
  }
  throw new DavisError('DAVIS_ERR_PKI_KEY', `Unsupported key type ${key.asymmetricKeyType ?? 'unknown'} (RSA ≥ 2048 bits, EC P-256 or P-384)`);
}

/**
 * Loads the gateway's signing identity and checks it before the first message needs it:
 * the certificate matches the key and is valid now. The algorithm follows the key type:
 * RSA → rsa-sha256, EC P-256 → ecdsa-sha256, EC P-384 → ecdsa-sha384.
 *
 * @throws DavisError DAVIS_ERR_PKI_KEY (unreadable, wrong password, unsupported key),
 *   DAVIS_ERR_PKI_MISMATCH (certificate of another key), DAVIS_ERR_PKI_EXPIRED
 */
export function loadSigningKey(opts: SigningKeyOptions): SigningKey {
  const passphrase = opts.passphrase ?? '';
  let privateKey: KeyObject;
  let certs: X509Certificate[];
  if (opts.p12File) {
    const p12 = readPkcs12(opts.p12File, passphrase);
    privateKey = p12.key;
    // The leaf is the certificate of this key, wherever the file put it.
    const leafIndex = p12.certs.findIndex((c) => c.checkPrivateKey(privateKey));
    if (leafIndex < 0) {
      throw new DavisError(p12.certs.length ? 'DAVIS_ERR_PKI_MISMATCH' : 'DAVIS_ERR_PKI_KEY', `No certificate for the key in ${opts.p12File}`);
    }
    certs = [p12.certs[leafIndex], ...p12.certs.filter((_, k) => k !== leafIndex)];
  } else {
    if (!opts.keyFile || !opts.certFile) throw new DavisError('DAVIS_ERR_PKI_KEY', 'Give keyFile and certFile, or p12File');
    const keyPem = readFile(opts.keyFile, 'DAVIS_ERR_PKI_KEY');
    try {
      privateKey = createPrivateKey({ key: keyPem, passphrase });
    } catch (e) {
      throw new DavisError('DAVIS_ERR_PKI_KEY', `Cannot read the private key in ${opts.keyFile}`, { cause: e });
    }
    try {
      certs = pemCertificates(readFile(opts.certFile, 'DAVIS_ERR_PKI_KEY').toString('utf8'));
    } catch (e) {
      if (isDavisError(e)) throw e;
      throw new DavisError('DAVIS_ERR_PKI_KEY', `Cannot read the certificate in ${opts.certFile}`, { cause: e });
    }
    if (!certs.length) throw new DavisError('DAVIS_ERR_PKI_KEY', `No PEM certificate in ${opts.certFile}`);
    if (!certs[0].checkPrivateKey(privateKey)) throw new DavisError('DAVIS_ERR_PKI_MISMATCH');
  }
  for (const f of opts.chainFiles ?? []) {
    try {
      certs.push(...pemCertificates(readFile(f, 'DAVIS_ERR_PKI_KEY').toString('utf8')));
    } catch (e) {
      if (isDavisError(e)) throw e;
      throw new DavisError('DAVIS_ERR_PKI_KEY', `Cannot read the chain certificate in ${f}`, { cause: e });
    }
  }
  const algorithm = algorithmFor(privateKey);
  const leaf = certificateInfo(certs[0]);
  const now = (opts.now ?? new Date()).getTime();
  if (now < leaf.notBefore || now > leaf.notAfter) throw new DavisError('DAVIS_ERR_PKI_EXPIRED');
  return Object.freeze({ privateKey, certificate: certs[0], chain: Object.freeze(certs.slice(1)), algorithm });
}

function certificatesInFile(file: string): X509Certificate[] {
  const data = readFile(file, 'DAVIS_ERR_PKI_TRUST');
  try {
    const text = data.toString('latin1');
    if (text.includes('-----BEGIN CERTIFICATE-----')) return pemCertificates(text);
    return [new X509Certificate(data)]; // a .crt file may be plain DER
  } catch (e) {
    throw new DavisError('DAVIS_ERR_PKI_TRUST', `Cannot read the certificates in ${file}`, { cause: e });
  }
}

/**
 * Loads trust anchors from folders (every `*.pem` / `*.crt` file in it, not recursive) and
 * files; a file may hold several PEM certificates. Duplicates are dropped.
 *
 * @throws DavisError DAVIS_ERR_PKI_TRUST when a path cannot be read or no certificate is found
 */
export function loadTrustStore(paths: string | readonly string[]): TrustStore {
  const list = typeof paths === 'string' ? [paths] : paths;
  const anchors: X509Certificate[] = [];
  const seen = new Set<string>();
  for (const p of list) {
    let stat: fs.Stats;
    try {
      stat = fs.statSync(p);
    } catch (e) {
      throw new DavisError('DAVIS_ERR_PKI_TRUST', `Cannot read ${p}`, { cause: e });
    }
    const files = stat.isDirectory()
      ? fs.readdirSync(p).filter((f) => /\.(pem|crt)$/i.test(f)).sort().map((f) => path.join(p, f))
      : [p];
    for (const f of files) {
      for (const c of certificatesInFile(f)) {
        if (seen.has(c.fingerprint256)) continue;
        try {
          certificateInfo(c); // parsed now, so a certificate the verifier cannot read fails at start
        } catch (e) {
          throw new DavisError('DAVIS_ERR_PKI_TRUST', `Cannot read a certificate in ${f}`, { cause: e });
        }
        seen.add(c.fingerprint256);
        anchors.push(c);
      }
    }
  }
  if (!anchors.length) throw new DavisError('DAVIS_ERR_PKI_TRUST', 'No certificate found in the trust store');
  return Object.freeze({ anchors: Object.freeze(anchors) });
}

/**
 * Seconds left until `cert` expires (negative once expired), for health checks and the
 * expiry metric.
 */
export function secondsUntilExpiry(cert: X509Certificate, now: Date = new Date()): number {
  return Math.floor((certificateInfo(cert).notAfter - now.getTime()) / 1000);
}
