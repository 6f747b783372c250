/**
 * Shared fixtures of the signing tests: a temporary development PKI, extra certificates
 * for the refusal cases, the external tools (xmlsec1, xmllint) and XML-DSig templates.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { X509Certificate, createHash, createPrivateKey, generateKeyPairSync, sign as cryptoSign, type KeyObject } from 'node:crypto';
import { loadSigningKey, loadTrustStore } from '../../src/signing/pki';
import { createDevPki, issueCertificate, type DevPkiFiles, type CertificateRequest } from '../../src/dev/dev-pki';
import type { SigningKey, TrustStore } from '../../src/signing/types';
import { isDavisError } from '../../src/errors/errors';
import { canonicalize } from '../../src/xml/c14n';
import { childElements, parseXml, type XmlDocument, type XmlElement } from '../../src/xml/parser';

export const DS = 'http://www.w3.org/2000/09/xmldsig#';
export const EXC = 'http://www.w3.org/2001/10/xml-exc-c14n#';
export const EXC_WC = 'http://www.w3.org/2001/10/xml-exc-c14n#WithComments';
export const ENVELOPED = 'http://www.w3.org/2000/09/xmldsig#enveloped-signature';
export const SHA256 = 'http://www.w3.org/2001/04/xmlenc#sha256';
export const SHA1 = 'http://www.w3.org/2000/09/xmldsig#sha1';
export const RSA_SHA256 = 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256';
export const RSA_SHA1 = 'http://www.w3.org/2000/09/xmldsig#rsa-sha1';
export const ECDSA_SHA256 = 'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256';
export const HMAC_SHA1 = 'http://www.w3.org/2000/09/xmldsig#hmac-sha1';
export const XPATH = 'http://www.w3.org/TR/1999/REC-xpath-19991116';

/** A temporary directory, removed by `cleanup`. */
export function tempDir(tag: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `davis-${tag}-`));
}

export function cleanup(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}

/** A development PKI in a temp dir, with the gateway key loaded and the CA as trust store. */
export interface Fixture {
  readonly dir: string;
  readonly files: DevPkiFiles;
  readonly key: SigningKey;
  readonly trust: TrustStore;
  readonly ca: { certificate: X509Certificate; privateKey: KeyObject };
}

export async function devFixture(tag: string): Promise<Fixture> {
  const dir = tempDir(tag);
  const files = await createDevPki(path.join(dir, 'pki'));
  const key = loadSigningKey({ keyFile: files.gatewayKey, certFile: files.gatewayCert });
  const trust = loadTrustStore(files.caCert);
  const ca = {
    certificate: new X509Certificate(fs.readFileSync(files.caCert)),
    privateKey: createPrivateKey(fs.readFileSync(files.caKey)),
  };
  return { dir, files, key, trust, ca };
}

/** A signing identity with a certificate issued as the request says (RSA-2048 unless `ec`). */
export function makeSigner(
  issuer: { certificate: X509Certificate; privateKey: KeyObject } | undefined,
  req: Partial<CertificateRequest> & { ec?: boolean },
): SigningKey {
  const pair = req.ec
    ? generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
    : generateKeyPairSync('rsa', { modulusLength: 2048 });
  const certificate = issueCertificate({
    subject: { commonName: 'test-signer' },
    keyUsage: ['digitalSignature'],
    ...req,
    publicKey: pair.publicKey,
    issuer,
    selfSigningKey: issuer ? undefined : pair.privateKey,
  });
  return { privateKey: pair.privateKey, certificate, chain: [], algorithm: req.ec ? 'ecdsa-sha256' : 'rsa-sha256' };
}

/** A CA (self-signed) for building other chains. */
export function makeCa(name: string, extra: Partial<CertificateRequest> = {}): { certificate: X509Certificate; privateKey: KeyObject } {
  const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const certificate = issueCertificate({
    subject: { commonName: name }, publicKey: pair.publicKey, selfSigningKey: pair.privateKey,
    ca: true, keyUsage: ['keyCertSign', 'cRLSign'], ...extra,
  });
  return { certificate, privateKey: pair.privateKey };
}

/** The error code `fn` throws, or 'OK' when it does not throw. */
export function codeOf(fn: () => unknown): string {
  try {
    fn();
    return 'OK';
  } catch (e) {
    if (isDavisError(e)) return e.code;
    throw e;
  }
}

/** Runs xmlsec1; `ok` is its exit status being 0. */
export function xmlsec(args: string[]): { ok: boolean; out: string } {
  const r = spawnSync('/usr/bin/xmlsec1', args, { encoding: 'utf8', timeout: 30000 });
  return { ok: r.status === 0, out: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

/** Canonical form by libxml2 (`xmllint --exc-c14n`, whole document, with comments). */
export function xmllintExcC14n(file: string): string {
  const r = spawnSync('/usr/bin/xmllint', ['--exc-c14n', file], { encoding: 'utf8', timeout: 30000 });
  if (r.status !== 0) throw new Error(`xmllint failed: ${r.stderr}`);
  return r.stdout;
}

/** Options of an XML-DSig template for `xmlsec1 --sign`. */
export interface TemplateOptions {
  uri?: string;
  c14n?: string;
  signatureMethod?: string;
  digestMethod?: string;
  /** Transform elements (XML) in order. @default enveloped + exc-c14n */
  transforms?: string;
  keyInfo?: boolean;
}

export function transform(alg: string, inner = ''): string {
  return `<ds:Transform Algorithm="${alg}">${inner}</ds:Transform>`;
}

/** An empty `ds:Signature` template for xmlsec1 to fill in. */
export function signatureTemplate(o: TemplateOptions = {}): string {
  const transforms = o.transforms ?? transform(ENVELOPED) + transform(EXC);
  return `<ds:Signature xmlns:ds="${DS}"><ds:SignedInfo>` +
    `<ds:CanonicalizationMethod Algorithm="${o.c14n ?? EXC}"/>` +
    `<ds:SignatureMethod Algorithm="${o.signatureMethod ?? RSA_SHA256}"/>` +
    `<ds:Reference URI="${o.uri ?? ''}"><ds:Transforms>${transforms}</ds:Transforms>` +
    `<ds:DigestMethod Algorithm="${o.digestMethod ?? SHA256}"/><ds:DigestValue/></ds:Reference>` +
    `</ds:SignedInfo><ds:SignatureValue/>` +
    (o.keyInfo === false ? '' : '<ds:KeyInfo><ds:X509Data><ds:X509Certificate/></ds:X509Data></ds:KeyInfo>') +
    `</ds:Signature>`;
}

/** Puts `inner` just before the end tag of the document element. */
export function appendToRoot(xml: string, inner: string): string {
  const at = xml.lastIndexOf('</');
  return xml.slice(0, at) + inner + xml.slice(at);
}

/**
 * Signs a template document with xmlsec1 using a PEM key and certificate chain; returns the
 * signed XML. `extra` adds flags (e.g. `--id-attr:Id Root`).
 */
export function xmlsecSign(dir: string, templateXml: string, keyArg: string[], extra: string[] = []): string {
  const inFile = path.join(dir, `tpl-${process.hrtime.bigint()}.xml`);
  const outFile = inFile.replace('tpl-', 'out-');
  fs.writeFileSync(inFile, templateXml);
  const r = xmlsec(['--sign', ...keyArg, ...extra, '--output', outFile, inFile]);
  if (!r.ok) throw new Error(`xmlsec1 --sign failed: ${r.out}`);
  const out = fs.readFileSync(outFile, 'utf8');
  fs.rmSync(inFile);
  fs.rmSync(outFile);
  return out;
}

/** Writes a key and certificates as PEM files for xmlsec1 and returns the `--privkey-pem` argument. */
export function pemKeyArg(dir: string, key: SigningKey, tag: string): string[] {
  const keyFile = path.join(dir, `${tag}.key.pem`);
  fs.writeFileSync(keyFile, key.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  const certFiles = [key.certificate, ...key.chain].map((c, k) => {
    const f = path.join(dir, `${tag}.${k}.crt.pem`);
    fs.writeFileSync(f, c.toString());
    return f;
  });
  return ['--privkey-pem', [keyFile, ...certFiles].join(',')];
}

// ---------------------------------------------------------------------------------------
// Re-signing, for attack documents that are genuinely signed by a trusted key
// ---------------------------------------------------------------------------------------

/** The Signature of a document (the first XML-DSig one under the root) and its parts, as parsed. */
export function signatureParts(xml: string): {
  doc: XmlDocument; signature: XmlElement; signedInfo: XmlElement; signatureValue: XmlElement; reference: () => XmlElement; digestValue: () => XmlElement;
} {
  const doc = parseXml(xml);
  const find = (el: XmlElement, name: string): XmlElement => {
    const found = childElements(el).find((c) => c.namespaceURI === DS && c.localName === name);
    if (!found) throw new Error(`no ds:${name} in ${el.qname}`);
    return found;
  };
  const signature = find(doc.root, 'Signature');
  const signedInfo = find(signature, 'SignedInfo');
  return {
    doc, signature, signedInfo, signatureValue: find(signature, 'SignatureValue'),
    reference: () => find(signedInfo, 'Reference'),
    digestValue: () => find(find(signedInfo, 'Reference'), 'DigestValue'),
  };
}

/** Replaces what lies between the start and end tags of `el` (an element of the tree parsed from `xml`). */
export function replaceContent(xml: string, el: XmlElement, content: string): string {
  return xml.slice(0, el.startTagEnd) + content + xml.slice(el.endTagStart);
}

/** The signature value of `data` under `key` in the XML-DSig form (ECDSA as r||s), base64. */
export function signatureValueOf(data: string, key: SigningKey): string {
  const with_ = key.algorithm.startsWith('ecdsa') ? { key: key.privateKey, dsaEncoding: 'ieee-p1363' as const } : key.privateKey;
  return cryptoSign('sha256', Buffer.from(data, 'utf8'), with_).toString('base64');
}

/**
 * Recomputes the first Reference's DigestValue over what the verifier digests (the document,
 * or the root for a `#Id` URI, minus the Signature, exclusive C14N), as a signer would.
 */
export function redigest(xml: string, hash = 'sha256'): string {
  const { doc, signature, reference, digestValue } = signatureParts(xml);
  const node = reference().attributes.find((a) => a.localName === 'URI')?.value === '' ? doc : doc.root;
  const digest = createHash(hash).update(canonicalize(node, { exclude: signature }), 'utf8').digest('base64');
  return replaceContent(xml, digestValue(), digest);
}

/** Recomputes the SignatureValue over the canonical first SignedInfo with `key` (RSA-SHA256 or ECDSA-SHA256). */
export function resign(xml: string, key: SigningKey): string {
  const { signedInfo, signatureValue } = signatureParts(xml);
  return replaceContent(xml, signatureValue, signatureValueOf(canonicalize(signedInfo), key));
}

/** What a trusted signer would produce for this document as it now stands: digest, then signature value. */
export function signAsIs(xml: string, key: SigningKey): string {
  return resign(redigest(xml), key);
}
