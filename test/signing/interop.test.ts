/**
 * Our signer and verifier against independent implementations: xmlsec1 (libxml2 +
 * OpenSSL) in both directions and xml-crypto 6.3.2, over generated documents.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import { SignedXml } from 'xml-crypto';
import { DOMParser } from '@xmldom/xmldom';
import { signEnveloped, verifyAndParse, verifyEnveloped } from '../../src/signing/xmldsig';
import { parseXml } from '../../src/xml/parser';
import { canonicalize } from '../../src/xml/c14n';
import type { SigningKey, TrustStore } from '../../src/signing/types';
import {
  DS, ECDSA_SHA256, ENVELOPED, EXC, EXC_WC, SHA256, RSA_SHA256, appendToRoot, cleanup, devFixture, makeCa, makeSigner,
  pemKeyArg, signatureTemplate, transform, xmlsec, xmlsecSign, type Fixture,
} from './helpers';
import { documentArb, serialize, type GDocument } from './xml-gen';

let fx: Fixture;
let n = 0;

beforeAll(async () => {
  fx = await devFixture('interop');
});
afterAll(() => cleanup(fx.dir));

function write(xml: string): string {
  const file = path.join(fx.dir, `doc-${n++}.xml`);
  fs.writeFileSync(file, xml);
  return file;
}

function xmlsecVerifies(xml: string, caFile: string): { ok: boolean; out: string } {
  const root = parseXml(xml).root;
  return xmlsec(['--verify', '--trusted-pem', caFile, '--id-attr:Id', root.localName, write(xml)]);
}

function xmlCryptoVerifies(xml: string, certPem: string): boolean {
  const doc = new DOMParser().parseFromString(xml, 'text/xml');
  const sig = new SignedXml({ publicCert: certPem });
  sig.loadSignature(doc.getElementsByTagNameNS(DS, 'Signature')[0]);
  return sig.checkSignature(xml);
}

/** Documents every oracle reads the same way (see c14n.test.ts for why each is left out). */
const tame = (g: GDocument, comments = true): string =>
  serialize(g, { comments, carriageReturns: false, noPis: true, plainComments: true, asciiNamespaces: true, bare: true });

describe('signatures made by signEnveloped', () => {
  it('are accepted by xmlsec1 --verify and by verifyEnveloped, on generated documents', () => {
    fc.assert(
      fc.property(documentArb, (g) => {
        const signed = signEnveloped(serialize(g, { asciiNamespaces: true }), fx.key);
        const r = xmlsecVerifies(signed, fx.files.caCert);
        expect(r.out).toContain('OK');
        expect(r.ok).toBe(true);
        expect(verifyEnveloped(signed, fx.trust).algorithm).toBe('rsa-sha256');
      }),
      { numRuns: 40 },
    );
  });

  it('are accepted by xml-crypto, on generated documents', () => {
    const cert = fx.key.certificate.toString();
    fc.assert(
      fc.property(documentArb, (g) => {
        expect(xmlCryptoVerifies(signEnveloped(tame(g), fx.key), cert)).toBe(true);
      }),
      { numRuns: 60 },
    );
  });

  it('with an ECDSA P-256 key are accepted by xmlsec1 (r||s signature value)', () => {
    const ec = makeSigner(fx.ca, { ec: true });
    const signed = signEnveloped('<m:Msg xmlns:m="urn:m"><m:b>x</m:b></m:Msg>', ec);
    expect(signed).toContain(ECDSA_SHA256);
    expect(xmlsecVerifies(signed, fx.files.caCert).ok).toBe(true);
    expect(verifyEnveloped(signed, fx.trust).algorithm).toBe('ecdsa-sha256');
  });

  it('carry the intermediate certificates, so that xmlsec1 and we chain to the root', () => {
    const root = makeCa('Interop Root');
    const intermediate = makeSigner(root, { subject: { commonName: 'Interop Intermediate' }, ca: true, keyUsage: ['keyCertSign'] });
    const inter = { certificate: intermediate.certificate, privateKey: intermediate.privateKey };
    const leaf: SigningKey = { ...makeSigner(inter, {}), chain: [intermediate.certificate] };
    const rootFile = path.join(fx.dir, 'interop-root.pem');
    fs.writeFileSync(rootFile, root.certificate.toString());
    const signed = signEnveloped('<Msg><b>chained</b></Msg>', leaf);
    expect(xmlsecVerifies(signed, rootFile).ok).toBe(true);
    const trust: TrustStore = { anchors: [root.certificate] };
    const v = verifyEnveloped(signed, trust);
    expect(v.chain?.map((c) => c.subject)).toEqual([leaf.certificate.subject, intermediate.certificate.subject, root.certificate.subject]);
  });
});

describe('signatures made by others', () => {
  it('by xmlsec1 --sign from a template are accepted by verifyEnveloped, on generated documents', () => {
    const keyArg = pemKeyArg(fx.dir, fx.key, 'gw');
    fc.assert(
      fc.property(
        documentArb, fc.boolean(), fc.boolean(), fc.constantFrom('', '\n', '\n  '),
        (g, byId, withComments, space) => {
          const tpl = signatureTemplate({
            uri: byId ? '#root-1' : '',
            c14n: withComments ? EXC_WC : EXC,
            transforms: transform(ENVELOPED) + transform(withComments ? EXC_WC : EXC),
          });
          // Comments inside the document element are refused by the profile, so none here.
          const doc = { ...g, rootId: g.rootId || byId };
          const xml = serialize(doc, { comments: false, asciiNamespaces: true, appendToRoot: space + tpl + space });
          const root = parseXml(xml).root;
          const idArg = root.namespaceURI ? `${root.namespaceURI}:${root.localName}` : root.localName;
          const signed = xmlsecSign(fx.dir, xml, keyArg, byId ? ['--id-attr:Id', idArg] : []);
          const { verified, root: verifiedRoot } = verifyAndParse(signed, fx.trust);
          expect(verified.certificate.fingerprint256).toBe(fx.key.certificate.fingerprint256);
          expect(verifiedRoot.localName).toBe(root.localName);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('by xmlsec1 with ECDSA-SHA256 are accepted by verifyEnveloped', () => {
    const ec = makeSigner(fx.ca, { ec: true });
    const signed = xmlsecSign(fx.dir, appendToRoot('<Msg><b>x</b></Msg>', signatureTemplate({ signatureMethod: ECDSA_SHA256 })), pemKeyArg(fx.dir, ec, 'ec'));
    expect(verifyEnveloped(signed, fx.trust).algorithm).toBe('ecdsa-sha256');
  });

  it('by xml-crypto are accepted by verifyEnveloped, on generated documents', () => {
    const privateKey = fx.key.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    const publicCert = fx.key.certificate.toString();
    fc.assert(
      fc.property(documentArb, (g) => {
        const sig = new SignedXml({ privateKey, publicCert });
        sig.addReference({ xpath: '/*', transforms: [ENVELOPED, EXC], digestAlgorithm: SHA256, isEmptyUri: true });
        sig.canonicalizationAlgorithm = EXC;
        sig.signatureAlgorithm = RSA_SHA256;
        // No comments: the profile refuses them inside the document element.
        sig.computeSignature(tame(g, false));
        expect(verifyEnveloped(sig.getSignedXml(), fx.trust).algorithm).toBe('rsa-sha256');
      }),
      { numRuns: 60 },
    );
  });

  it('agree with xml-crypto on the canonical SignedInfo of our signatures', () => {
    const signed = signEnveloped('<a:Msg xmlns:a="urn:a" xmlns="urn:d" xml:lang="fi"><b/></a:Msg>', fx.key);
    const doc = parseXml(signed);
    const sigEl = doc.root.children.find((c) => c.type === 'element' && c.localName === 'Signature');
    const signedInfo = sigEl?.type === 'element' ? sigEl.children[0] : undefined;
    if (signedInfo?.type !== 'element') throw new Error('no SignedInfo');
    const dom = new DOMParser().parseFromString(signed, 'text/xml');
    const { ExclusiveCanonicalization } = jest.requireActual<typeof import('xml-crypto')>('xml-crypto');
    const theirs = new ExclusiveCanonicalization().process(dom.getElementsByTagNameNS(DS, 'SignedInfo')[0], {});
    expect(canonicalize(signedInfo)).toBe(theirs);
    expect(theirs.startsWith(`<ds:SignedInfo xmlns:ds="${DS}">`)).toBe(true);
  });
});
