/**
 * The development PKI: issuing certificates and writing a CA, the gateway, the mock central
 * VIS and one UMA client to a folder (`davis certs init`, `davis dev`, tests and the bench).
 * Never part of the library surface and not shipped in the production image: production
 * identities come from files the operator provides (src/signing/pki.ts loads them).
 *
 * The certificates are laid out by node-forge and signed with Node's crypto (forge's
 * pure-JS RSA is ~100× slower); the subject key may be RSA or EC.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { KeyObject, X509Certificate, createHash, generateKeyPair, randomBytes, sign as cryptoSign } from 'node:crypto';
import forge from 'node-forge';
import { DavisError } from '../errors/errors';
import type { KeyUsageName } from '../signing/pki';

export type { KeyUsageName };

// forge's typings miss the options form of fromDer and the TBSCertificate encoder it exports.
const fromDer = forge.asn1.fromDer as unknown as (
  bytes: forge.util.ByteStringBuffer | string, opts: { strict?: boolean; decodeBitStrings?: boolean },
) => forge.asn1.Asn1;
const getTBSCertificate = (forge.pki as unknown as { getTBSCertificate(c: forge.pki.Certificate): forge.asn1.Asn1 }).getTBSCertificate;

function derOf(obj: forge.asn1.Asn1): Buffer {
  return Buffer.from(forge.asn1.toDer(obj).getBytes(), 'binary');
}

// ---------------------------------------------------------------------------------------
// Issuing certificates (development PKI and tests)
// ---------------------------------------------------------------------------------------

/** Subject name fields of a new certificate. */
export interface SubjectName {
  readonly commonName: string;
  /** @default 'DAVIS development' */
  readonly organization?: string;
  /** Used to mark the role of the holder (e.g. `uma-client`). */
  readonly organizationalUnit?: string;
}

/** What to put in a new certificate. */
export interface CertificateRequest {
  readonly subject: SubjectName;
  /** The subject's public key (RSA or EC). */
  readonly publicKey: KeyObject;
  /** Who signs it; absent for a self-signed certificate, which then needs `selfSigningKey`. */
  readonly issuer?: { readonly certificate: X509Certificate; readonly privateKey: KeyObject };
  /** The subject's own private key, to self-sign. */
  readonly selfSigningKey?: KeyObject;
  /** Start of validity. @default one hour ago (tolerates clock skew between hosts) */
  readonly notBefore?: Date;
  /** End of validity. @default `notBefore` + `days` */
  readonly notAfter?: Date;
  /** Validity length in days when `notAfter` is not given. @default 365 */
  readonly days?: number;
  /** A CA certificate (basicConstraints cA). @default false */
  readonly ca?: boolean;
  /** Key-usage bits; omitted → no key-usage extension. */
  readonly keyUsage?: readonly KeyUsageName[];
  /** Extended key usages; omitted → no extension. */
  readonly extKeyUsage?: readonly ('serverAuth' | 'clientAuth' | 'codeSigning' | 'emailProtection')[];
  /** DNS names and IP addresses for the subjectAltName extension. */
  readonly hosts?: readonly string[];
}

const RSA_SHA256_OID = '1.2.840.113549.1.1.11';
const ECDSA_SHA256_OID = '1.2.840.10045.4.3.2';
// forge needs a public key object to lay out the TBSCertificate; the real SubjectPublicKeyInfo
// (of any key type) replaces it afterwards.
const PLACEHOLDER_KEY = forge.pki.setRsaPublicKey(new forge.jsbn.BigInteger('3'), new forge.jsbn.BigInteger('3'));

function asn1Of(der: Buffer): forge.asn1.Asn1 {
  return fromDer(forge.util.createBuffer(der.toString('binary')), { strict: true, decodeBitStrings: false });
}

function keyIdentifier(publicKey: KeyObject): string {
  // RFC 5280 method 1: SHA-1 of the subjectPublicKey BIT STRING (without the unused-bits byte).
  const spki = asn1Of(publicKey.export({ type: 'spki', format: 'der' }));
  const bits = ((spki.value as forge.asn1.Asn1[])[1].value as string).slice(1);
  return createHash('sha1').update(Buffer.from(bits, 'binary')).digest('binary');
}

function signatureAlgorithmAsn1(key: KeyObject): forge.asn1.Asn1 {
  const { asn1 } = forge;
  if (key.asymmetricKeyType === 'ec') {
    return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
      asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OID, false, asn1.oidToDer(ECDSA_SHA256_OID).getBytes()),
    ]);
  }
  return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OID, false, asn1.oidToDer(RSA_SHA256_OID).getBytes()),
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.NULL, false, ''),
  ]);
}

/**
 * Issues an X.509 v3 certificate. forge lays out the fields and extensions; the subject key
 * may be RSA or EC (forge alone knows only RSA), and the signature is made with Node's
 * crypto (forge's pure-JS RSA is ~100× slower). Signature algorithm: sha256WithRSAEncryption
 * or ecdsa-with-SHA256, after the issuer key.
 */
export function issueCertificate(req: CertificateRequest): X509Certificate {
  const { asn1 } = forge;
  const signer = req.issuer ? req.issuer.privateKey : req.selfSigningKey;
  if (!signer) throw new DavisError('DAVIS_ERR_PKI_KEY', 'A self-signed certificate needs selfSigningKey');
  const cert = forge.pki.createCertificate();
  cert.publicKey = PLACEHOLDER_KEY;
  const serial = randomBytes(16);
  serial[0] = (serial[0] & 0x3f) | 0x40; // positive and minimal as a DER INTEGER
  cert.serialNumber = serial.toString('hex');
  const notBefore = req.notBefore ?? new Date(Date.now() - 3600_000);
  cert.validity.notBefore = notBefore;
  cert.validity.notAfter = req.notAfter ?? new Date(notBefore.getTime() + (req.days ?? 365) * 86400_000);
  const attrs: forge.pki.CertificateField[] = [
    { shortName: 'CN', value: req.subject.commonName },
    { shortName: 'O', value: req.subject.organization ?? 'DAVIS development' },
  ];
  if (req.subject.organizationalUnit) attrs.push({ shortName: 'OU', value: req.subject.organizationalUnit });
  cert.setSubject(attrs);
  cert.setIssuer(attrs);

  const ski = keyIdentifier(req.publicKey);
  const exts: Record<string, unknown>[] = [{ name: 'basicConstraints', cA: req.ca === true, critical: true }];
  if (req.keyUsage) {
    const ku: Record<string, unknown> = { name: 'keyUsage', critical: true };
    for (const u of req.keyUsage) ku[u] = true;
    exts.push(ku);
  }
  if (req.extKeyUsage) {
    const eku: Record<string, unknown> = { name: 'extKeyUsage' };
    for (const u of req.extKeyUsage) eku[u] = true;
    exts.push(eku);
  }
  if (req.hosts?.length) {
    exts.push({
      name: 'subjectAltName',
      altNames: req.hosts.map((h) => (net.isIP(h) ? { type: 7, ip: h } : { type: 2, value: h })),
    });
  }
  exts.push({ name: 'subjectKeyIdentifier', value: asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OCTETSTRING, false, ski) });
  exts.push({ name: 'authorityKeyIdentifier', keyIdentifier: req.issuer ? keyIdentifier(req.issuer.certificate.publicKey) : ski });
  cert.setExtensions(exts);
  cert.siginfo.algorithmOid = RSA_SHA256_OID;

  const tbs = getTBSCertificate(cert);
  const fields = tbs.value as forge.asn1.Asn1[];
  fields[2] = signatureAlgorithmAsn1(signer);
  if (req.issuer) {
    const issuerTbs = ((asn1Of(req.issuer.certificate.raw).value as forge.asn1.Asn1[])[0].value as forge.asn1.Asn1[]);
    const base = issuerTbs[0].tagClass === asn1.Class.CONTEXT_SPECIFIC ? 1 : 0;
    fields[3] = issuerTbs[base + 4]; // the issuer's subject, byte for byte, so name chaining matches
  }
  fields[6] = asn1Of(req.publicKey.export({ type: 'spki', format: 'der' }));
  const tbsDer = derOf(tbs);
  const signature = cryptoSign('sha256', tbsDer, signer);
  const certAsn1 = asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
    tbs,
    signatureAlgorithmAsn1(signer),
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.BITSTRING, false, '\0' + signature.toString('binary')),
  ]);
  return new X509Certificate(derOf(certAsn1));
}

// ---------------------------------------------------------------------------------------
// Development PKI
// ---------------------------------------------------------------------------------------

/** Absolute paths of the development PKI files. */
export interface DevPkiFiles {
  readonly dir: string;
  readonly caCert: string;
  readonly caKey: string;
  readonly gatewayCert: string;
  readonly gatewayKey: string;
  /** PKCS#12 with the gateway key, its certificate and the CA certificate. */
  readonly gatewayP12: string;
  /** Password of `gatewayP12` (a development default, not a secret). */
  readonly gatewayP12Passphrase: string;
  readonly centralCert: string;
  readonly centralKey: string;
  /** The UMA client certificate: CN `uma-dev-client`, OU `uma-client` marks the role. */
  readonly clientCert: string;
  readonly clientKey: string;
}

/** Options of the development PKI. */
export interface DevPkiOptions {
  /** Validity of the leaf certificates in days; the CA gets a year more. @default 365 */
  readonly days?: number;
  /** Names and addresses in the gateway and mock-central subjectAltName. @default ['localhost', '127.0.0.1'] */
  readonly hosts?: readonly string[];
}

/** Password of the development PKCS#12 file. */
export const DEV_P12_PASSPHRASE = 'changeit';

/** The file paths of a development PKI in `dir` (nothing is read or written). */
export function devPkiFiles(dir: string): DevPkiFiles {
  const d = path.resolve(dir);
  const f = (name: string): string => path.join(d, name);
  return Object.freeze({
    dir: d,
    caCert: f('ca.crt.pem'), caKey: f('ca.key.pem'),
    gatewayCert: f('gateway.crt.pem'), gatewayKey: f('gateway.key.pem'),
    gatewayP12: f('gateway.p12'), gatewayP12Passphrase: DEV_P12_PASSPHRASE,
    centralCert: f('central.crt.pem'), centralKey: f('central.key.pem'),
    clientCert: f('uma-client.crt.pem'), clientKey: f('uma-client.key.pem'),
  });
}

const generateRsa = promisify(generateKeyPair);

function writeSecret(file: string, data: string | Buffer): void {
  fs.writeFileSync(file, data, { mode: 0o600 });
  fs.chmodSync(file, 0o600); // mode applies only when the file is created
}

function writePublic(file: string, data: string): void {
  fs.writeFileSync(file, data, { mode: 0o644 });
}

function keyPem(key: KeyObject): string {
  return key.export({ type: 'pkcs8', format: 'pem' }) as string;
}

/**
 * Creates a development PKI in `dir`: an RSA-2048 CA, the gateway (also as PKCS#12 with
 * passphrase `changeit`), the mock central VIS and one UMA client. Gateway and central
 * certificates carry keyUsage digitalSignature + keyEncipherment, extKeyUsage serverAuth +
 * clientAuth and the `hosts` as subjectAltName; the client certificate is clientAuth only,
 * CN `uma-dev-client` with OU `uma-client` marking its role. Keys are written mode 0600.
 * `ca.crt.pem` is written last, so an interrupted run is redone by `ensureDevPki`.
 */
export async function createDevPki(dir: string, opts: DevPkiOptions = {}): Promise<DevPkiFiles> {
  const files = devPkiFiles(dir);
  const days = opts.days ?? 365;
  const hosts = opts.hosts ?? ['localhost', '127.0.0.1'];
  fs.mkdirSync(files.dir, { recursive: true, mode: 0o700 });
  const [ca, gateway, central, client] = await Promise.all(
    [0, 1, 2, 3].map(() => generateRsa('rsa', { modulusLength: 2048 })),
  );
  const caCert = issueCertificate({
    subject: { commonName: 'DAVIS Dev CA' }, publicKey: ca.publicKey, selfSigningKey: ca.privateKey,
    ca: true, keyUsage: ['keyCertSign', 'cRLSign'], days: days + 365,
  });
  const issuer = { certificate: caCert, privateKey: ca.privateKey };
  const serverUsage = {
    issuer, days, keyUsage: ['digitalSignature', 'keyEncipherment'] as KeyUsageName[],
    extKeyUsage: ['serverAuth', 'clientAuth'] as ('serverAuth' | 'clientAuth')[], hosts,
  };
  const gatewayCert = issueCertificate({ ...serverUsage, subject: { commonName: 'davis-gateway', organizationalUnit: 'gateway' }, publicKey: gateway.publicKey });
  const centralCert = issueCertificate({ ...serverUsage, subject: { commonName: 'vis-central-mock', organizationalUnit: 'central' }, publicKey: central.publicKey });
  const clientCert = issueCertificate({
    issuer, days, subject: { commonName: 'uma-dev-client', organizationalUnit: 'uma-client' }, publicKey: client.publicKey,
    keyUsage: ['digitalSignature', 'keyEncipherment'], extKeyUsage: ['clientAuth'],
  });

  const p12 = forge.pkcs12.toPkcs12Asn1(
    forge.pki.privateKeyFromPem(gateway.privateKey.export({ type: 'pkcs1', format: 'pem' }) as string),
    [forge.pki.certificateFromPem(gatewayCert.toString()), forge.pki.certificateFromPem(caCert.toString())],
    DEV_P12_PASSPHRASE,
    // 3DES and a SHA-1 MAC: the combination every PKCS#12 reader (OpenSSL 1.1 and 3, Java, forge) opens.
    { algorithm: '3des', friendlyName: 'davis-gateway' },
  );

  writeSecret(files.caKey, keyPem(ca.privateKey));
  writeSecret(files.gatewayKey, keyPem(gateway.privateKey));
  writeSecret(files.gatewayP12, derOf(p12));
  writeSecret(files.centralKey, keyPem(central.privateKey));
  writeSecret(files.clientKey, keyPem(client.privateKey));
  writePublic(files.gatewayCert, gatewayCert.toString());
  writePublic(files.centralCert, centralCert.toString());
  writePublic(files.clientCert, clientCert.toString());
  writePublic(files.caCert, caCert.toString());
  return files;
}

/**
 * Creates the development PKI unless `dir` already has one (judged by `ca.crt.pem`, which
 * `createDevPki` writes last); returns the paths either way. What `npm start` calls.
 */
export async function ensureDevPki(dir: string, opts: DevPkiOptions = {}): Promise<DevPkiFiles> {
  const files = devPkiFiles(dir);
  if (fs.existsSync(files.caCert)) return files;
  return createDevPki(dir, opts);
}
