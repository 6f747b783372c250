/**
 * Each rule of the strict verification profile, with the document that breaks it: the
 * classic signature-wrapping set-ups, refused algorithms and transforms (genuinely signed
 * by xmlsec1 where possible, so the refusal is about the profile, not a broken signature),
 * and the certificate checks.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { generateKeyPairSync } from 'node:crypto';
import { signEnveloped, verifyAndParse, verifyEnveloped } from '../../src/signing/xmldsig';
import { issueCertificate } from '../../src/dev/dev-pki';
import type { SigningKey, TrustStore } from '../../src/signing/types';
import {
  DS, ENVELOPED, EXC, HMAC_SHA1, RSA_SHA1, SHA1, XPATH, appendToRoot, cleanup, codeOf, devFixture, makeCa, makeSigner,
  pemKeyArg, signatureTemplate, transform, xmlsec, xmlsecSign, type Fixture,
} from './helpers';

const NS = 'urn:davis:test';
const DOC = `<m:Msg xmlns:m="${NS}" Id="msg-1"><m:Header><m:MessageId>42</m:MessageId></m:Header>` +
  `<m:Body Id="body-1"><m:Payee>alice@example.com</m:Payee><m:Amount currency="EUR">100</m:Amount></m:Body></m:Msg>`;

let fx: Fixture;
let signed: string;
let keyArg: string[];

beforeAll(async () => {
  fx = await devFixture('strict');
  signed = signEnveloped(DOC, fx.key);
  keyArg = pemKeyArg(fx.dir, fx.key, 'gw');
});
afterAll(() => cleanup(fx.dir));

const verify = (xml: string, trust: TrustStore = fx.trust, now?: Date): string => codeOf(() => verifyEnveloped(xml, trust, { now }));
const signatureOf = (xml: string): string => xml.slice(xml.indexOf('<ds:Signature'), xml.indexOf('</ds:Signature>') + '</ds:Signature>'.length);
const withoutSignature = (xml: string): string => xml.replace(signatureOf(xml), '');
const sign = (tpl: string, extra: string[] = [], key = keyArg): string => xmlsecSign(fx.dir, tpl, key, extra);
const ID_ARG = ['--id-attr:Id', `${NS}:Msg`];

describe('the strict verification profile', () => {
  it('accepts the untouched document', () => {
    expect(verify(signed)).toBe('OK');
  });

  describe('one signature, under the document element', () => {
    it('refuses an unsigned document', () => {
      expect(verify(DOC)).toBe('DAVIS_ERR_SIG_MISSING');
    });

    it('refuses a second Signature, wherever it is', () => {
      const sig = signatureOf(signed);
      expect(verify(signed.replace('<m:Header>', '<m:Header>' + sig))).toBe('DAVIS_ERR_SIG_MULTIPLE');
      expect(verify(appendToRoot(signed, sig))).toBe('DAVIS_ERR_SIG_MULTIPLE');
    });

    it('refuses a signature moved into a child element, even one xmlsec1 accepts', () => {
      const tpl = DOC.replace('</m:Body>', signatureTemplate() + '</m:Body>');
      const moved = sign(tpl);
      const file = path.join(fx.dir, 'moved.xml');
      fs.writeFileSync(file, moved);
      expect(xmlsec(['--verify', '--trusted-pem', fx.files.caCert, file]).ok).toBe(true);
      expect(verify(moved)).toBe('DAVIS_ERR_SIG_PLACEMENT');
    });

    it('refuses content besides SignedInfo, SignatureValue and KeyInfo in the Signature (Object wrapping)', () => {
      const sig = signatureOf(signed);
      const withObject = sig.replace('</ds:Signature>', `<ds:Object><m:Body xmlns:m="${NS}"><m:Amount currency="EUR">1000000</m:Amount></m:Body></ds:Object></ds:Signature>`);
      expect(verify(signed.replace(sig, withObject))).toBe('DAVIS_ERR_SIG_STRUCTURE');
      expect(verify(signed.replace(/<ds:SignatureValue>[^<]*<\/ds:SignatureValue>/, ''))).toBe('DAVIS_ERR_SIG_STRUCTURE');
    });
  });

  describe('the reference covers the whole document', () => {
    it('refuses a Reference to a child Id, though the signature over it is genuine', () => {
      const tpl = appendToRoot(DOC, signatureTemplate({ uri: '#body-1' }));
      const bodyOnly = sign(tpl, ['--id-attr:Id', `${NS}:Body`]);
      expect(verify(bodyOnly)).toBe('DAVIS_ERR_SIG_REFERENCE');
    });

    it('accepts a Reference to the document element Id, and refuses that Id duplicated elsewhere', () => {
      const byId = sign(appendToRoot(DOC, signatureTemplate({ uri: '#msg-1' })), ID_ARG);
      expect(verify(byId)).toBe('OK');
      // The wrapping set-up: a second element carrying the referenced Id, for an Id lookup to find.
      const dup = byId.replace('<m:Header>', '<m:Wrapper Id="msg-1"/><m:Header>');
      expect(verify(dup)).toBe('DAVIS_ERR_SIG_ID');
    });

    it('refuses the #Id wrapping attack: signed original moved under a new document element', () => {
      const byId = sign(appendToRoot(DOC, signatureTemplate({ uri: '#msg-1' })), ID_ARG);
      const sig = signatureOf(byId);
      const original = withoutSignature(byId).replace(/^<\?xml[^>]*>\s*/, '').replace(`<m:Msg xmlns:m="${NS}" Id="msg-1">`, '<m:Msg Id="msg-1">');
      const evil = `<m:Msg xmlns:m="${NS}" Id="evil"><m:Body><m:Amount currency="EUR">1000000</m:Amount></m:Body>` +
        `<m:Wrapper>${original}</m:Wrapper>${sig}</m:Msg>`;
      expect(verify(evil)).toBe('DAVIS_ERR_SIG_REFERENCE');
      expect(verify(evil.replace('Id="evil"', 'Id="msg-1"'))).toBe('DAVIS_ERR_SIG_ID');
    });

    it('refuses more than one Reference, a missing URI and an external URI', () => {
      const ref = /<ds:Reference[\s\S]*<\/ds:Reference>/.exec(signed)![0];
      expect(verify(signed.replace(ref, ref + ref))).toBe('DAVIS_ERR_SIG_REFERENCE');
      expect(verify(signed.replace('<ds:Reference URI="">', '<ds:Reference>'))).toBe('DAVIS_ERR_SIG_REFERENCE');
      expect(verify(signed.replace('<ds:Reference URI="">', '<ds:Reference URI="http://example.com/doc.xml">'))).toBe('DAVIS_ERR_SIG_REFERENCE');
    });
  });

  describe('algorithms and transforms', () => {
    it('refuses a SHA-1 digest', () => {
      expect(verify(sign(appendToRoot(DOC, signatureTemplate({ digestMethod: SHA1 }))))).toBe('DAVIS_ERR_SIG_ALGORITHM');
    });

    it('refuses rsa-sha1', () => {
      expect(verify(sign(appendToRoot(DOC, signatureTemplate({ signatureMethod: RSA_SHA1 }))))).toBe('DAVIS_ERR_SIG_ALGORITHM');
    });

    it('refuses HMAC', () => {
      const hmacKey = path.join(fx.dir, 'hmac.key');
      fs.writeFileSync(hmacKey, 'shared-secret');
      const hmac = sign(appendToRoot(DOC, signatureTemplate({ signatureMethod: HMAC_SHA1, keyInfo: false })), [], ['--hmackey', hmacKey]);
      expect(verify(hmac)).toBe('DAVIS_ERR_SIG_ALGORITHM');
    });

    it('refuses inclusive C14N as CanonicalizationMethod', () => {
      const tpl = appendToRoot(DOC, signatureTemplate({ c14n: 'http://www.w3.org/TR/2001/REC-xml-c14n-20010315' }));
      expect(verify(sign(tpl))).toBe('DAVIS_ERR_SIG_ALGORITHM');
    });

    it('refuses a signature method that does not fit the certificate key', () => {
      expect(verify(signed.replace('xmldsig-more#rsa-sha256', 'xmldsig-more#ecdsa-sha256'))).toBe('DAVIS_ERR_SIG_ALGORITHM');
    });

    it('refuses RSA keys shorter than 2048 bits', () => {
      const pair = generateKeyPairSync('rsa', { modulusLength: 1024 });
      const certificate = issueCertificate({ subject: { commonName: 'short' }, publicKey: pair.publicKey, issuer: fx.ca, keyUsage: ['digitalSignature'] });
      const short: SigningKey = { privateKey: pair.privateKey, certificate, chain: [], algorithm: 'rsa-sha256' };
      expect(verify(signEnveloped(DOC, short))).toBe('DAVIS_ERR_SIG_ALGORITHM');
    });

    it('refuses an extra XPath transform', () => {
      const xpath = transform(XPATH, `<ds:XPath xmlns:ds="${DS}">not(ancestor-or-self::ds:Signature)</ds:XPath>`);
      const tpl = appendToRoot(DOC, signatureTemplate({ transforms: transform(ENVELOPED) + xpath + transform(EXC) }));
      expect(verify(sign(tpl))).toBe('DAVIS_ERR_SIG_TRANSFORM');
    });

    it('refuses transform lists other than enveloped-signature then exclusive C14N', () => {
      expect(verify(sign(appendToRoot(DOC, signatureTemplate({ transforms: transform(ENVELOPED) }))))).toBe('DAVIS_ERR_SIG_TRANSFORM');
      const inclusive = transform(ENVELOPED) + transform('http://www.w3.org/TR/2001/REC-xml-c14n-20010315');
      expect(verify(sign(appendToRoot(DOC, signatureTemplate({ transforms: inclusive }))))).toBe('DAVIS_ERR_SIG_TRANSFORM');
      expect(verify(signed.replace(/<ds:Transforms>[\s\S]*<\/ds:Transforms>/, ''))).toBe('DAVIS_ERR_SIG_TRANSFORM');
    });
  });

  describe('the signed content', () => {
    it('refuses a comment injected inside signed content, which the digest does not see', () => {
      const injected = signed.replace('alice@example.com', 'alice@example.com<!---->.evil.example');
      expect(verify(injected.replace('.evil.example', ''))).toBe('DAVIS_ERR_SIG_UNSIGNED_CONTENT');
      // The classic case: comments are dropped before digesting, so the signature itself still holds.
      const file = path.join(fx.dir, 'comment.xml');
      fs.writeFileSync(file, signed.replace('alice@', 'alice<!-- -->@'));
      expect(xmlsec(['--verify', '--trusted-pem', fx.files.caCert, file]).ok).toBe(true);
      expect(verify(signed.replace('alice@', 'alice<!-- -->@'))).toBe('DAVIS_ERR_SIG_UNSIGNED_CONTENT');
    });

    it('refuses whitespace injected into content, accepts it where C14N removes it', () => {
      expect(verify(signed.replace('<m:Body', ' <m:Body'))).toBe('DAVIS_ERR_SIG_DIGEST');
      expect(verify(signed.replace('>100<', '> 100<'))).toBe('DAVIS_ERR_SIG_DIGEST');
      expect(verify(signed.replace('<m:Body Id', '<m:Body   Id'))).toBe('OK');
    });

    it('refuses a changed value and a changed attribute', () => {
      expect(verify(signed.replace('>100<', '>1000000<'))).toBe('DAVIS_ERR_SIG_DIGEST');
      expect(verify(signed.replace('currency="EUR"', 'currency="USD"'))).toBe('DAVIS_ERR_SIG_DIGEST');
    });

    it('refuses a wrapped copy of the body element beside a forged one', () => {
      const body = /<m:Body[\s\S]*<\/m:Body>/.exec(signed)![0];
      const forged = '<m:Body Id="body-1"><m:Payee>mallory@example.com</m:Payee><m:Amount currency="EUR">1000000</m:Amount></m:Body>';
      expect(verify(signed.replace(body, `${forged}<m:Wrapper>${body}</m:Wrapper>`))).toBe('DAVIS_ERR_SIG_DIGEST');
      expect(verify(signed.replace(body, `<m:Wrapper>${body}</m:Wrapper>${forged}`))).toBe('DAVIS_ERR_SIG_DIGEST');
    });

    it('refuses a recomputed digest without a matching signature value', () => {
      const { createHash } = jest.requireActual<typeof import('node:crypto')>('node:crypto');
      const changed = signed.replace('>100<', '>1000000<');
      const digest = createHash('sha256').update(withoutSignature(changed)).digest('base64');
      const forged = changed.replace(/<ds:DigestValue>[^<]*</, `<ds:DigestValue>${digest}<`);
      expect(verify(forged)).toBe('DAVIS_ERR_SIG_VALUE');
    });

    it('refuses a tampered signature value', () => {
      const value = /<ds:SignatureValue>([^<]*)</.exec(signed)![1];
      const flipped = (value[10] === 'A' ? 'B' : 'A');
      expect(verify(signed.replace(value, value.slice(0, 10) + flipped + value.slice(11)))).toBe('DAVIS_ERR_SIG_VALUE');
    });

    it('hands back the tree that was verified, the signature in it', () => {
      const { root, signature, verified } = verifyAndParse(signed, fx.trust);
      expect(root.localName).toBe('Msg');
      expect(signature.parent).toBe(root);
      expect(verified.certificate.fingerprint256).toBe(fx.key.certificate.fingerprint256);
    });
  });

  describe('the certificate', () => {
    it('refuses a signature without a certificate in KeyInfo', () => {
      expect(verify(sign(appendToRoot(DOC, signatureTemplate({ keyInfo: false }))))).toBe('DAVIS_ERR_SIG_CERT_MISSING');
      expect(verify(signed.replace(/<ds:X509Certificate>[^<]*</, '<ds:X509Certificate>AAAA<'))).toBe('DAVIS_ERR_SIG_CERT_MISSING');
    });

    it('refuses a KeyInfo stuffed with certificates', () => {
      const one = /<ds:X509Certificate>[^<]*<\/ds:X509Certificate>/.exec(signed)![0];
      expect(verify(signed.replace(one, one.repeat(9)))).toBe('DAVIS_ERR_SIG_STRUCTURE');
      expect(verify(signed.replace(one, one.repeat(2)))).toBe('OK');
    });

    it('refuses a certificate from a CA outside the trust store, and a self-signed one', () => {
      const other = makeCa('Other CA');
      expect(verify(signEnveloped(DOC, makeSigner(other, {})))).toBe('DAVIS_ERR_SIG_CERT_UNTRUSTED');
      expect(verify(signEnveloped(DOC, makeSigner(undefined, {})))).toBe('DAVIS_ERR_SIG_CERT_UNTRUSTED');
    });

    it('refuses a chain whose intermediate is not sent', () => {
      const inter = makeSigner(fx.ca, { subject: { commonName: 'Intermediate' }, ca: true, keyUsage: ['keyCertSign'] });
      const leaf = makeSigner({ certificate: inter.certificate, privateKey: inter.privateKey }, {});
      expect(verify(signEnveloped(DOC, leaf))).toBe('DAVIS_ERR_SIG_CERT_UNTRUSTED');
      expect(verify(signEnveloped(DOC, { ...leaf, chain: [inter.certificate] }))).toBe('OK');
    });

    it('refuses an intermediate that is not a CA', () => {
      const notCa = makeSigner(fx.ca, { subject: { commonName: 'Not a CA' } });
      const leaf = makeSigner({ certificate: notCa.certificate, privateKey: notCa.privateKey }, {});
      expect(verify(signEnveloped(DOC, { ...leaf, chain: [notCa.certificate] }))).toBe('DAVIS_ERR_SIG_CERT_CONSTRAINTS');
    });

    it('refuses an expired certificate and one not yet valid', () => {
      const day = 86400_000;
      const expired = makeSigner(fx.ca, { notBefore: new Date(Date.now() - 400 * day), notAfter: new Date(Date.now() - 30 * day) });
      expect(verify(signEnveloped(DOC, expired))).toBe('DAVIS_ERR_SIG_CERT_EXPIRED');
      expect(verify(signed, fx.trust, new Date(Date.now() + 3 * 365 * day))).toBe('DAVIS_ERR_SIG_CERT_EXPIRED');
      expect(verify(signed, fx.trust, new Date(Date.now() - 2 * day))).toBe('DAVIS_ERR_SIG_CERT_EXPIRED');
    });

    it('refuses a chain with an expired intermediate', () => {
      const day = 86400_000;
      const inter = makeSigner(fx.ca, {
        subject: { commonName: 'Old intermediate' }, ca: true, keyUsage: ['keyCertSign'],
        notBefore: new Date(Date.now() - 400 * day), notAfter: new Date(Date.now() - day),
      });
      const leaf = makeSigner({ certificate: inter.certificate, privateKey: inter.privateKey }, {
        notBefore: new Date(Date.now() - 10 * day), notAfter: new Date(Date.now() + 10 * day),
      });
      expect(verify(signEnveloped(DOC, { ...leaf, chain: [inter.certificate] }))).toBe('DAVIS_ERR_SIG_CERT_EXPIRED');
    });

    it('refuses a certificate whose key usage lacks digitalSignature, accepts one without the extension', () => {
      expect(verify(signEnveloped(DOC, makeSigner(fx.ca, { keyUsage: ['keyEncipherment'] })))).toBe('DAVIS_ERR_SIG_CERT_USAGE');
      expect(verify(signEnveloped(DOC, makeSigner(fx.ca, { keyUsage: undefined })))).toBe('OK');
    });
  });

  describe('before parsing', () => {
    it('refuses a DOCTYPE with DAVIS_ERR_XML_DOCTYPE', () => {
      const withDoctype = signed.replace('<m:Msg', '<!DOCTYPE m:Msg [<!ENTITY x "y">]><m:Msg');
      expect(verify(withDoctype)).toBe('DAVIS_ERR_XML_DOCTYPE');
    });

    it('refuses malformed XML with DAVIS_ERR_XML_MALFORMED', () => {
      expect(verify(signed.replace('</m:Header>', '</m:Head>'))).toBe('DAVIS_ERR_XML_MALFORMED');
      expect(verify(signed.replace('100', '&nbsp;100'))).toBe('DAVIS_ERR_XML_MALFORMED');
    });
  });
});
