/**
 * Key files: the gateway's signing identity (PEM key + certificate, or PKCS#12) and trust
 * stores (folders or files of PEM/DER certificates and CRLs), read and checked at load so
 * that a bad file refuses the start instead of failing the first message.
 *
 * node-forge is used only to open PKCS#12, which Node cannot read; everything else is
 * Node's crypto and `@peculiar/x509` (through ./certificates and ./path-validation).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { KeyObject, X509Certificate, createPrivateKey } from 'node:crypto';
import forge from 'node-forge';
import { DavisError, isDavisError } from '../errors/errors';
import { certificateInfo } from './certificates';
import { readCrl, type CrlInfo } from './path-validation';
import type { SignatureAlgorithm, SigningKey, TrustStore } from './types';

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

const PEM_CRL = /-----BEGIN X509 CRL-----([\s\S]*?)-----END X509 CRL-----/g;

/** Certificates and CRLs of one trust file: PEM (any mix of blocks) or a single DER object. */
function trustObjectsInFile(file: string): { certs: X509Certificate[]; crls: CrlInfo[] } {
  const data = readFile(file, 'DAVIS_ERR_PKI_TRUST');
  const text = data.toString('latin1');
  // A trust folder holds certificates and CRLs only: a private key there (the dev PKI folder
  // given as --trust, say) is a configuration mistake, refused rather than skipped.
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text)) {
    throw new DavisError('DAVIS_ERR_PKI_TRUST', `${file} holds a private key; a trust store holds certificates and CRLs only`);
  }
  try {
    const pem = text.includes('-----BEGIN ');
    if (pem) {
      const crls = [...text.matchAll(PEM_CRL)].map((m) => readCrl(Buffer.from(m[1].replace(/\s+/g, ''), 'base64')));
      const certs = pemCertificates(text);
      if (!certs.length && !crls.length) throw new Error('no certificate or CRL in the PEM blocks');
      return { certs, crls };
    }
    if (/\.crl$/i.test(file)) return { certs: [], crls: [readCrl(data)] };
    return { certs: [new X509Certificate(data)], crls: [] }; // a .crt file may be plain DER
  } catch (e) {
    throw new DavisError('DAVIS_ERR_PKI_TRUST', `Cannot read the certificates or CRLs in ${file}`, { cause: e });
  }
}

/**
 * Loads trust anchors and CRLs from folders (every `*.pem` / `*.crt` / `*.crl` file in it, not
 * recursive) and files; a PEM file may hold several certificates and CRLs. Duplicate
 * certificates are dropped. A CRL is kept for the revocation check of the certificates its
 * issuer signed (see ./path-validation).
 *
 * @throws DavisError DAVIS_ERR_PKI_TRUST when a path cannot be read or no certificate is found
 */
export function loadTrustStore(paths: string | readonly string[]): TrustStore {
  const list = typeof paths === 'string' ? [paths] : paths;
  const anchors: X509Certificate[] = [];
  const crls: CrlInfo[] = [];
  const seen = new Set<string>();
  for (const p of list) {
    let stat: fs.Stats;
    try {
      stat = fs.statSync(p);
    } catch (e) {
      throw new DavisError('DAVIS_ERR_PKI_TRUST', `Cannot read ${p}`, { cause: e });
    }
    const files = stat.isDirectory()
      ? fs.readdirSync(p).filter((f) => /\.(pem|crt|crl)$/i.test(f)).sort().map((f) => path.join(p, f))
      : [p];
    for (const f of files) {
      const found = trustObjectsInFile(f);
      crls.push(...found.crls);
      for (const c of found.certs) {
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
  return Object.freeze({ anchors: Object.freeze(anchors), crls: Object.freeze(crls) });
}

/**
 * Seconds left until `cert` expires (negative once expired), for health checks and the
 * expiry metric.
 */
export function secondsUntilExpiry(cert: X509Certificate, now: Date = new Date()): number {
  return Math.floor((certificateInfo(cert).notAfter - now.getTime()) / 1000);
}
