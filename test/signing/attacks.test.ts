/**
 * The signature regression suite: one named case per published attack on XML-DSig
 * verifiers, adapted to the wire profile and run through the gateway's own signer
 * (`signCanonical`, `signEnveloped`) and reader (`readRequest`: screen → parse once →
 * verify that tree → XSD → map → validate). Each attack document is refused with its own
 * code; where an attack needs a genuine signature, a trusted key signs it (`signAsIs`), so
 * the refusal is about the profile, not a broken signature. The generic profile rules on a
 * non-wire document are in strict-profile.test.ts; the cases here are the wire shapes.
 */
import { createHash, createHmac, sign as cryptoSign } from 'node:crypto';
import { DEV_CENTRAL_SUBJECT, centralIdentity, type CentralPinOptions } from '../../src/signing/central-identity';
import { loadSigningKey } from '../../src/signing/pki';
import type { SigningKey } from '../../src/signing/types';
import { signCanonical, signEnveloped, verifyEnveloped } from '../../src/signing/xmldsig';
import { buildRequestXml, WIRE_NS } from '../../src/wire/envelope';
import { readRequest, readWire } from '../../src/wire/read-wire';
import type { WireHeader } from '../../src/wire/types';
import { createXsdValidator, type XsdValidator } from '../../src/wire/xsd';
import { canonicalize } from '../../src/xml/c14n';
import type { XmlElement } from '../../src/xml/parser';
import { loadExamples } from '../validation/examples';
import {
  DS, HMAC_SHA1, RSA_SHA1, SHA1, cleanup, codeOf, devFixture, makeCa, makeSigner, redigest, replaceContent, resign, signAsIs,
  signatureParts, signatureValueOf, type Fixture,
} from './helpers';

const TYPE = 'vis.notification.hit';
const HEADER: WireHeader = { messageId: '7d3e2c1b-0a9f-4e8d-b7c6-5a4b3c2d1e0f', type: TYPE, sender: 'EU', created: '2025-09-01T10:02:14.000Z' };
const ID = `m-${HEADER.messageId}`;
const PAYLOAD = loadExamples(TYPE).valid.find((e) => e.file.includes('sis-and-etias'))!.payload as Record<string, unknown>;

let fx: Fixture;
let central: SigningKey;
let xsd: XsdValidator;
/** The notification as built, unsigned. */
let unsigned: string;
/** Signed by central with the gateway's signer: Reference URI "". */
let signed: string;
/** Signed by central with Reference URI "#m-…" (the form peers may use, which ID games target). */
let signedById: string;

beforeAll(async () => {
  fx = await devFixture('attacks');
  central = loadSigningKey({ keyFile: fx.files.centralKey, certFile: fx.files.centralCert });
  xsd = createXsdValidator();
  unsigned = buildRequestXml(HEADER, PAYLOAD);
  signed = signCanonical(unsigned, central);
  signedById = signAsIs(signed.replace('<ds:Reference URI="">', `<ds:Reference URI="#${ID}">`), central);
});
afterAll(() => cleanup(fx.dir));

/** The code the full reader refuses `xml` with, or 'OK'. */
const read = (xml: string | Buffer): string => codeOf(() => readRequest(xml, { trust: fx.trust, xsd, validate: true }));
const payloadOf = (xml: string): unknown => readRequest(xml, { trust: fx.trust, xsd, validate: true }).payload;
const signatureOf = (xml: string): string => xml.slice(xml.indexOf('<ds:Signature'), xml.indexOf('</ds:Signature>') + '</ds:Signature>'.length);
const withoutSignature = (xml: string): string => xml.replace(signatureOf(xml), '');
const bodyOf = (xml: string): string => xml.slice(xml.indexOf('<w:Body>'), xml.indexOf('</w:Body>') + '</w:Body>'.length);
/** The same notification with other hits: what an attacker wants the gateway to act on. */
const evilBody = (): string => bodyOf(buildRequestXml(HEADER, { ...PAYLOAD, applicationNumber: 'FI-HEL-2025-999999', hits: [(PAYLOAD.hits as unknown[])[0]] }));
const evil = (xml: string): string => xml.replace(bodyOf(xml), evilBody());
const ROOT_TAG = `<w:Request xmlns:w="${WIRE_NS}" Id="${ID}">`;

describe('controls: the untouched documents are accepted', () => {
  it('reads the notification signed with URI "" and with URI "#Id"', () => {
    expect(read(signed)).toBe('OK');
    expect(read(signedById)).toBe('OK');
  });
});

describe('XSW1–XSW8 (signature wrapping) adapted to the wire profile', () => {
  // Each shape is tried on both signatures: [URI "" expected, URI "#Id" expected].
  const cases: [string, (s: string) => string, string, string][] = [
    ['XSW1: forged Request, the signed original (unsigned copy) as a child of the Signature',
      (s) => evil(s).replace('</ds:Signature>', `${withoutSignature(s)}</ds:Signature>`), 'DAVIS_ERR_SIG_STRUCTURE', 'DAVIS_ERR_SIG_STRUCTURE'],
    ['XSW2: forged Request, the signed original as a sibling before the Signature',
      (s) => evil(s).replace('<ds:Signature', `${withoutSignature(s)}<ds:Signature`), 'DAVIS_ERR_SIG_DIGEST', 'DAVIS_ERR_SIG_ID'],
    ['XSW3: a forged Body inserted before the signed Body',
      (s) => s.replace('<w:Body>', `${evilBody()}<w:Body>`), 'DAVIS_ERR_SIG_DIGEST', 'DAVIS_ERR_SIG_DIGEST'],
    ['XSW4: a forged Body wrapping the signed Body',
      (s) => s.replace(bodyOf(s), evilBody().replace('</w:Body>', `${bodyOf(s)}</w:Body>`)), 'DAVIS_ERR_SIG_DIGEST', 'DAVIS_ERR_SIG_DIGEST'],
    ['XSW5: forged Request carrying the Signature, the signed original as a second root-level element',
      (s) => evil(s) + withoutSignature(s), 'DAVIS_ERR_XML_MALFORMED', 'DAVIS_ERR_XML_MALFORMED'],
    ['XSW6: forged Request, the signed original inside the Signature\'s KeyInfo',
      (s) => evil(s).replace('</ds:KeyInfo>', `${withoutSignature(s)}</ds:KeyInfo>`), 'DAVIS_ERR_SIG_DIGEST', 'DAVIS_ERR_SIG_ID'],
    ['XSW7: the signed original inside an extension element before the forged Header',
      (s) => evil(s).replace('<w:Header>', `<w:Extensions>${withoutSignature(s)}</w:Extensions><w:Header>`), 'DAVIS_ERR_SIG_DIGEST', 'DAVIS_ERR_SIG_ID'],
    ['XSW8: the signed original in a ds:Object of the Signature',
      (s) => evil(s).replace('</ds:Signature>', `<ds:Object>${withoutSignature(s)}</ds:Object></ds:Signature>`), 'DAVIS_ERR_SIG_STRUCTURE', 'DAVIS_ERR_SIG_STRUCTURE'],
    ['moved Id: the forged root loses its Id, a wrapper carries it round the signed original',
      (s) => evil(s).replace(ROOT_TAG, `<w:Request xmlns:w="${WIRE_NS}">`).replace('<w:Header>', `<w:Wrapper Id="${ID}">${withoutSignature(s)}</w:Wrapper><w:Header>`),
      'DAVIS_ERR_SIG_DIGEST', 'DAVIS_ERR_SIG_REFERENCE'],
    ['moved Id: the forged root gets a new Id, the signed original keeps its own',
      (s) => evil(s).replace(ROOT_TAG, `<w:Request xmlns:w="${WIRE_NS}" Id="m-forged">`).replace('<w:Header>', `<w:Wrapper>${withoutSignature(s)}</w:Wrapper><w:Header>`),
      'DAVIS_ERR_SIG_DIGEST', 'DAVIS_ERR_SIG_REFERENCE'],
  ];
  it.each(cases)('%s', (_name, attack, onEmptyUri, onIdUri) => {
    expect(read(attack(signed))).toBe(onEmptyUri);
    expect(read(attack(signedById))).toBe(onIdUri);
  });
});

describe('multiple SignedInfo references (xml-crypto CVE-2025-29774)', () => {
  const reference = (xml: string): string => /<ds:Reference[\s\S]*<\/ds:Reference>/.exec(xml)![0];

  it('refuses two References, though the trusted key signed both', () => {
    const ref = reference(signed);
    const twoRefs = signed.replace(ref, ref + ref.replace('URI=""', `URI="#${ID}"`));
    expect(read(resign(twoRefs, central))).toBe('DAVIS_ERR_SIG_REFERENCE');
  });

  it('refuses a SignedInfo without any Reference', () => {
    expect(read(resign(signed.replace(reference(signed), ''), central))).toBe('DAVIS_ERR_SIG_REFERENCE');
  });

  it('refuses a second SignedInfo in the Signature, before or after the genuine one', () => {
    const info = /<ds:SignedInfo>[\s\S]*<\/ds:SignedInfo>/.exec(signed)![0];
    const forgedInfo = /<ds:SignedInfo>[\s\S]*<\/ds:SignedInfo>/.exec(redigest(evil(signed)))![0];
    const forged = evil(signed);
    expect(read(forged.replace(info, forgedInfo + info))).toBe('DAVIS_ERR_SIG_STRUCTURE');
    expect(read(forged.replace(info, info + forgedInfo))).toBe('DAVIS_ERR_SIG_STRUCTURE');
  });

  it('refuses SignedInfo or Reference copies hidden in KeyInfo, which name-searching verifiers would read', () => {
    const info = /<ds:SignedInfo>[\s\S]*<\/ds:SignedInfo>/.exec(signed)![0];
    const hidden = [
      signed.replace('<ds:KeyInfo>', `<ds:KeyInfo>${info}`),
      signed.replace('<ds:KeyInfo>', `<ds:KeyInfo><ds:KeyValue>${info}</ds:KeyValue>`),
      signed.replace('<ds:KeyInfo>', `<ds:KeyInfo>${reference(signed)}`),
    ];
    for (const xml of hidden) {
      expect(read(xml)).toBe('DAVIS_ERR_SIG_STRUCTURE');
      expect(codeOf(() => readRequest(xml, { trust: fx.trust }))).toBe('DAVIS_ERR_SIG_STRUCTURE');
      expect(codeOf(() => verifyEnveloped(xml, fx.trust))).toBe('DAVIS_ERR_SIG_STRUCTURE');
    }
    // What KeyInfo may hold besides certificates is still tolerated, and never trusted.
    expect(read(signed.replace('<ds:KeyInfo>', '<ds:KeyInfo><ds:KeyName>central</ds:KeyName>'))).toBe('OK');
  });

  it('refuses a forged SignedInfo in KeyInfo over forged content, and the genuine one moved there', () => {
    const forged = evil(signed);
    const forgedInfo = /<ds:SignedInfo>[\s\S]*<\/ds:SignedInfo>/.exec(redigest(forged))![0];
    // The hidden SignedInfo digests the forged content correctly; the genuine one does not.
    expect(read(forged.replace('<ds:KeyInfo>', `<ds:KeyInfo>${forgedInfo}`))).toBe('DAVIS_ERR_SIG_STRUCTURE');
    const swapped = forged.replace(/<ds:SignedInfo>[\s\S]*<\/ds:SignedInfo>/, forgedInfo).replace('<ds:KeyInfo>', `<ds:KeyInfo>${/<ds:SignedInfo>[\s\S]*<\/ds:SignedInfo>/.exec(signed)![0]}`);
    expect(read(swapped)).toBe('DAVIS_ERR_SIG_STRUCTURE');
    // Without the hidden copy the forged SignedInfo in first place is checked against central's value, and fails.
    expect(read(forged.replace(/<ds:SignedInfo>[\s\S]*<\/ds:SignedInfo>/, forgedInfo))).toBe('DAVIS_ERR_SIG_VALUE');
  });
});

describe('a comment inside DigestValue (xml-crypto CVE-2025-29775)', () => {
  const digestOf = (xml: string): string => /<ds:DigestValue>([^<]*)</.exec(xml)![1];

  it('refuses a comment that splits the genuine digest value', () => {
    const d = digestOf(signed);
    const split = signed.replace(`>${d}<`, `>${d.slice(0, 10)}<!---->${d.slice(10)}<`);
    expect(read(split)).toBe('DAVIS_ERR_SIG_UNSIGNED_CONTENT');
    expect(codeOf(() => verifyEnveloped(split, fx.trust))).toBe('DAVIS_ERR_SIG_UNSIGNED_CONTENT');
  });

  it('refuses a forged digest before a comment and the genuine one after it (first-text-node readers)', () => {
    const forged = evil(signed);
    const forgedDigest = digestOf(redigest(forged));
    expect(read(forged.replace(`>${digestOf(signed)}<`, `>${forgedDigest}<!--${digestOf(signed)}--><`))).toBe('DAVIS_ERR_SIG_UNSIGNED_CONTENT');
    expect(read(forged.replace(`>${digestOf(signed)}<`, `><!---->${forgedDigest}<`))).toBe('DAVIS_ERR_SIG_UNSIGNED_CONTENT');
  });

  it('refuses a comment inside SignatureValue', () => {
    expect(read(signed.replace('<ds:SignatureValue>', '<ds:SignatureValue><!---->'))).toBe('DAVIS_ERR_SIG_UNSIGNED_CONTENT');
  });

  it('reads a CDATA-wrapped digest as the same digest (one reading of the value, no comment games)', () => {
    const d = digestOf(signed);
    expect(read(signed.replace(`>${d}<`, `><![CDATA[${d}]]><`))).toBe('OK');
  });
});

describe('a KeyInfo certificate that is not trusted (xml-crypto CVE-2024-32962)', () => {
  const x509Data = (xml: string): string => /<ds:X509Data>[\s\S]*<\/ds:X509Data>/.exec(xml)![0];
  const certElement = (k: SigningKey): string => `<ds:X509Certificate>${k.certificate.raw.toString('base64')}</ds:X509Certificate>`;
  const forgedBy = (k: SigningKey): string => signEnveloped(withoutSignature(evil(signed)), k);

  it('refuses a self-signed certificate embedded with the attacker\'s key', () => {
    expect(read(forgedBy(makeSigner(undefined, { subject: { commonName: 'vis-central-mock', organizationalUnit: 'central' } })))).toBe('DAVIS_ERR_SIG_CERT_UNTRUSTED');
  });

  it('refuses a certificate from an attacker\'s CA, and one from a CA named like the trusted one', () => {
    expect(read(forgedBy(makeSigner(makeCa('Attacker CA'), {})))).toBe('DAVIS_ERR_SIG_CERT_UNTRUSTED');
    const lookalike = makeCa('DAVIS Dev CA');
    const leaf = makeSigner(lookalike, { subject: { commonName: 'vis-central-mock', organizationalUnit: 'central' } });
    // Named like the anchor, but its authority key identifier names the look-alike's key: the
    // anchor is no issuer of it, so no path reaches a trust anchor.
    expect(read(forgedBy({ ...leaf, chain: [lookalike.certificate] }))).toBe('DAVIS_ERR_SIG_CERT_UNTRUSTED');
    expect(read(forgedBy({ ...leaf, chain: [fx.ca.certificate] }))).toBe('DAVIS_ERR_SIG_CERT_UNTRUSTED');
    expect(read(forgedBy(leaf))).toBe('DAVIS_ERR_SIG_CERT_UNTRUSTED');
  });

  it('checks the signature with the key of the certificate it chose, whatever else KeyInfo holds', () => {
    const attacker = makeSigner(undefined, {});
    const forged = forgedBy(attacker);
    // Central's genuine certificate first: the attacker's signature does not verify under its key.
    expect(read(forged.replace(x509Data(forged), `<ds:X509Data>${certElement(central)}${certElement(attacker)}</ds:X509Data>`))).toBe('DAVIS_ERR_SIG_VALUE');
    expect(read(forged.replace(x509Data(forged), `<ds:X509Data>${certElement(attacker)}${certElement(central)}</ds:X509Data>`))).toBe('DAVIS_ERR_SIG_CERT_UNTRUSTED');
    // The trusted anchor itself as the only certificate.
    const anchor = `<ds:X509Certificate>${fx.ca.certificate.raw.toString('base64')}</ds:X509Certificate>`;
    expect(read(forged.replace(x509Data(forged), `<ds:X509Data>${anchor}</ds:X509Data>`))).toBe('DAVIS_ERR_SIG_VALUE');
  });

  it('never takes a bare public key (KeyValue) for a certificate', () => {
    const attacker = makeSigner(undefined, {});
    const forged = forgedBy(attacker);
    const spki = attacker.certificate.publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
    const keyValue = `<ds:KeyValue><ds:DEREncodedKeyValue>${spki}</ds:DEREncodedKeyValue></ds:KeyValue>`;
    expect(read(forged.replace(x509Data(forged), keyValue))).toBe('DAVIS_ERR_SIG_CERT_MISSING');
  });
});

describe('acting on unsigned content (node-saml CVE-2025-54419)', () => {
  it('refuses content added inside the document element after signing', () => {
    for (const s of [signed, signedById]) {
      expect(read(s.replace('</ds:Signature>', `</ds:Signature>${evilBody()}`))).toBe('DAVIS_ERR_SIG_DIGEST');
      expect(read(s.replace('</w:Body>', `</w:Body>${evilBody()}`))).toBe('DAVIS_ERR_SIG_DIGEST');
      expect(read(s.replace('<w:Body>', ' <w:Body>'))).toBe('DAVIS_ERR_SIG_DIGEST');
      expect(read(s.replace('<w:Body>', '<w:Body><?davis hits="none"?>'))).toBe('DAVIS_ERR_SIG_DIGEST');
      expect(read(s.replace(ROOT_TAG, ROOT_TAG.replace('>', ' xml:lang="fi">')))).toBe('DAVIS_ERR_SIG_DIGEST');
    }
  });

  it('refuses a processing instruction added outside the document element when the whole document is signed', () => {
    expect(read(`<?davis hits="none"?>${signed}`)).toBe('DAVIS_ERR_SIG_DIGEST');
    expect(read(`${signed}<?davis hits="none"?>`)).toBe('DAVIS_ERR_SIG_DIGEST');
  });

  it('acts only on the signed tree: what exclusive C14N leaves out is accepted and changes nothing read', () => {
    const extras = [
      (s: string): string => `${s}<!-- hits: none -->`,
      (s: string): string => `<?xml version="1.0" encoding="UTF-8"?>\n${s}\n`,
      (s: string): string => s.replace(ROOT_TAG, `<w:Request xmlns:w="${WIRE_NS}" xmlns:x="urn:unused" xmlns="urn:default-unused" Id="${ID}">`),
    ];
    for (const s of [signed, signedById]) {
      for (const extra of extras) {
        const xml = extra(s);
        expect(read(xml)).toBe('OK');
        expect(payloadOf(xml)).toEqual(PAYLOAD);
      }
    }
    // Outside the root element a #Id reference covers nothing, so a PI there changes nothing read either.
    expect(payloadOf(`<?davis hits="none"?>${signedById}`)).toEqual(PAYLOAD);
  });
});

describe('parser differentials (ruby-saml CVE-2025-25291/25292): one reading of the bytes', () => {
  it('refuses a DOCTYPE whose entity would give the value a second reading, signed or not', () => {
    const doctype = `<!DOCTYPE w:Request [<!ENTITY n "FI-HEL-2025-999999">]>`;
    expect(read(doctype + signed)).toBe('DAVIS_ERR_XML_DOCTYPE');
    expect(read(doctype + signed.replace('FI-HEL-2025-000123<', '&n;<'))).toBe('DAVIS_ERR_XML_DOCTYPE');
    expect(read(signed.replace('<w:Body>', `<w:Body><!--<!ENTITY n "x">-->`))).toBe('DAVIS_ERR_XML_DOCTYPE');
  });

  it('refuses bytes that decode two ways: a non-UTF-8 declaration, invalid UTF-8, XML 1.1', () => {
    expect(read(`<?xml version="1.0" encoding="ISO-8859-1"?>${signed}`)).toMatch(/^DAVIS_ERR_XML_/);
    const bytes = Buffer.from(signed, 'utf8');
    const at = bytes.indexOf('FI-HEL');
    expect(read(Buffer.concat([bytes.subarray(0, at), Buffer.from([0xc0, 0xaf]), bytes.subarray(at)]))).toBe('DAVIS_ERR_XML_MALFORMED');
    expect(read(`<?xml version="1.1"?>${signed}`)).toBe('DAVIS_ERR_XML_MALFORMED');
  });

  it('refuses an attribute given twice, which parsers resolve first-wins or last-wins', () => {
    expect(read(signed.replace(`Id="${ID}"`, `Id="${ID}" Id="m-forged"`))).toBe('DAVIS_ERR_XML_MALFORMED');
    expect(read(signedById.replace(`Id="${ID}"`, `Id="m-forged" Id="${ID}"`))).toBe('DAVIS_ERR_XML_MALFORMED');
  });

  it('reads every serialisation with the signed canonical form as the signed payload, and no other', () => {
    const canonicalSigned = unsigned;
    const equivalent = [
      (s: string): string => s.replace('FI-HEL-2025-000123<', '&#x46;I-HEL-2025-&#48;00123<'),
      (s: string): string => s.replace('FI-HEL-2025-000123<', '<![CDATA[FI-HEL]]>-2025-000123<'),
      (s: string): string => s.replace(`Id="${ID}"`, `Id='${ID}'`).replace('<w:Body>', '<w:Body >'),
      (s: string): string => s.replace('<w:Body>', `<w:Body xmlns:w="${WIRE_NS}">`),
      (s: string): string => s.replace(`xmlns:w="${WIRE_NS}" Id="${ID}"`, `Id="${ID}"\n  xmlns:w="${WIRE_NS}"`),
    ];
    for (const s of [signed, signedById]) {
      for (const variant of equivalent) {
        const xml = variant(s);
        expect(xml).not.toBe(s);
        const result = readRequest(xml, { trust: fx.trust, xsd, validate: true });
        expect(result.payload).toEqual(PAYLOAD);
        const signature = result.document.root.children.find((c): c is XmlElement => c.type === 'element' && c.namespaceURI === DS);
        expect(signature).toBeDefined();
        expect(canonicalize(result.document, { exclude: signature })).toBe(canonicalSigned);
      }
    }
    const different = [
      (s: string): string => s.replace('FI-HEL-2025-000123<', 'FI-HEL-2025-&#x39;00123<'),
      (s: string): string => s.replace('FI-HEL-2025-000123<', '<![CDATA[FI-HEL-2025-000123 ]]><'),
      (s: string): string => s.replace('FI-HEL-2025-000123<', 'FI-HEL-2025-000123&#xD;<'),
    ];
    for (const s of [signed, signedById]) for (const variant of different) expect(read(variant(s))).toBe('DAVIS_ERR_SIG_DIGEST');
  });
});

describe('a canonicalisation error treated as empty (Nokogiri GHSA-wx95-c6cv-8532)', () => {
  const EMPTY_SHA256 = createHash('sha256').update('').digest('base64');
  const digestValue = (xml: string): XmlElement => signatureParts(xml).digestValue();

  it('never digests a document as the empty string, even one a canonicaliser may choke on', () => {
    const emptyDigest = (s: string): string => resign(replaceContent(s, digestValue(s), EMPTY_SHA256), central);
    expect(read(emptyDigest(signed))).toBe('DAVIS_ERR_SIG_DIGEST');
    // A relative namespace URI, which exclusive C14N implementations may refuse to canonicalise.
    const relative = signed.replace('<w:Body>', '<w:Body xmlns:r="relative/uri" r:a="1">');
    expect(read(emptyDigest(relative))).toBe('DAVIS_ERR_SIG_DIGEST');
  });

  it('never verifies the signature value over an empty SignedInfo', () => {
    const overEmpty = replaceContent(signed, signatureParts(signed).signatureValue, signatureValueOf('', central));
    expect(read(overEmpty)).toBe('DAVIS_ERR_SIG_VALUE');
  });
});

describe('a document with no signature (XML::Sig CVE-2025-40934)', () => {
  it('refuses the unsigned notification and the signed one with its Signature stripped', () => {
    expect(read(unsigned)).toBe('DAVIS_ERR_SIG_MISSING');
    expect(read(withoutSignature(evil(signed)))).toBe('DAVIS_ERR_SIG_MISSING');
  });

  it('refuses a Signature outside the XML-DSig namespace as no signature at all', () => {
    expect(read(signed.replace(`<ds:Signature xmlns:ds="${DS}">`, '<ds:Signature xmlns:ds="urn:not-xmldsig">'))).toBe('DAVIS_ERR_SIG_MISSING');
    expect(read(signed.replace(`<ds:Signature xmlns:ds="${DS}">`, `<ds:Signature xmlns:ds="${DS.replace('2000', '2001')}">`))).toBe('DAVIS_ERR_SIG_MISSING');
  });

  it('refuses an empty Signature, and one without a SignatureValue', () => {
    expect(read(signed.replace(signatureOf(signed), `<ds:Signature xmlns:ds="${DS}"/>`))).toBe('DAVIS_ERR_SIG_STRUCTURE');
    expect(read(signed.replace(/<ds:SignatureValue>[^<]*<\/ds:SignatureValue>/, ''))).toBe('DAVIS_ERR_SIG_STRUCTURE');
    expect(read(signed.replace(/<ds:SignatureValue>[^<]*<\/ds:SignatureValue>/, '<ds:SignatureValue></ds:SignatureValue>'))).toBe('DAVIS_ERR_SIG_VALUE');
  });
});

describe('duplicate IDs', () => {
  it('refuses the referenced Id on any other element, under any ID attribute name', () => {
    for (const attr of ['Id', 'ID', 'id', 'xml:id', 'w:Id']) {
      expect([attr, read(signedById.replace('<w:Header>', `<w:Header ${attr}="${ID}">`))]).toEqual([attr, 'DAVIS_ERR_SIG_ID']);
    }
    expect(read(signedById.replace('<ds:KeyInfo>', `<ds:KeyInfo><ds:KeyName Id="${ID}">central</ds:KeyName>`))).toBe('DAVIS_ERR_SIG_ID');
  });

  it('refuses a second Id on the wire elements even when the whole document is signed', () => {
    // Genuinely signed with URI "": the signature holds, the wire profile refuses the extra Id.
    const dup = signAsIs(signed.replace('<w:Body>', `<w:Body Id="${ID}">`), central);
    expect(codeOf(() => verifyEnveloped(dup, fx.trust))).toBe('OK');
    expect(read(dup)).toBe('DAVIS_ERR_WIRE_SCHEMA');
    expect(codeOf(() => readRequest(dup, { trust: fx.trust }))).toBe('DAVIS_ERR_WIRE_MAPPING');
  });
});

describe('namespace confusion', () => {
  it('refuses an XML-DSig part whose ds prefix is rebound to another namespace', () => {
    expect(read(signed.replace('<ds:Reference ', '<ds:Reference xmlns:ds="urn:evil" '))).toBe('DAVIS_ERR_SIG_STRUCTURE');
    expect(read(signed.replace('<ds:SignedInfo>', '<ds:SignedInfo xmlns:ds="urn:evil">'))).toBe('DAVIS_ERR_SIG_STRUCTURE');
  });

  it('counts a decoy Signature in another namespace as signed content, not as the signature', () => {
    const decoy = `<ds:Signature xmlns:ds="urn:evil"><ds:SignedInfo/></ds:Signature>`;
    expect(read(signed.replace('<w:Body>', `<w:Body>${decoy}`))).toBe('DAVIS_ERR_SIG_DIGEST');
    expect(read(signAsIs(signed.replace('</w:Body>', `</w:Body>${decoy}`), central))).toBe('DAVIS_ERR_WIRE_SCHEMA');
  });

  it('reads names by namespace, never by prefix: documents in default namespaces', () => {
    // The same names under a default namespace: a different canonical form, so a tampered copy fails…
    const defaultNs = (s: string): string => s.replace(ROOT_TAG, `<Request xmlns="${WIRE_NS}" Id="${ID}">`).replace(/<(\/?)w:/g, '<$1');
    expect(read(defaultNs(signed))).toBe('DAVIS_ERR_SIG_DIGEST');
    // …and the same document signed that way reads as the same payload.
    const signedDefault = signEnveloped(defaultNs(unsigned), central);
    expect(payloadOf(signedDefault)).toEqual(PAYLOAD);
    // The XML-DSig namespace under the default namespace is still the one signature.
    const sig = signatureOf(signed);
    const defaultDs = sig.replace(`<ds:Signature xmlns:ds="${DS}">`, `<Signature xmlns="${DS}">`).replace(/<(\/?)ds:/g, '<$1');
    expect(defaultDs).not.toContain('ds:');
    expect(read(resign(signed.replace(sig, defaultDs), central))).toBe('OK');
  });

  it('refuses the wire namespace redefined inside the body, however the prefix reads', () => {
    const other = 'urn:davis-gateway:wire:2';
    const tampered = signed.replace('<w:HitNotification>', `<w:HitNotification xmlns:w="${other}">`);
    expect(tampered).not.toBe(signed);
    expect(read(tampered)).toBe('DAVIS_ERR_SIG_DIGEST');
    const genuinelySigned = signAsIs(tampered, central);
    expect(read(genuinelySigned)).toBe('DAVIS_ERR_WIRE_SCHEMA');
    expect(codeOf(() => readRequest(genuinelySigned, { trust: fx.trust }))).toBe('DAVIS_ERR_WIRE_MAPPING');
    // The default namespace switched inside the body: unprefixed children land outside the wire.
    const innerDefault = signAsIs(signed.replace('<w:applicationNumber>', `<applicationNumber xmlns="${other}">`).replace('</w:applicationNumber>', '</applicationNumber>'), central);
    expect(codeOf(() => readRequest(innerDefault, { trust: fx.trust }))).toBe('DAVIS_ERR_WIRE_MAPPING');
  });
});

describe('attribute pollution', () => {
  it('refuses one attribute written twice under two prefixes of one namespace', () => {
    const polluted = signed.replace(ROOT_TAG, `<w:Request xmlns:w="${WIRE_NS}" xmlns:a="urn:x" xmlns:b="urn:x" a:Id="m-1" b:Id="m-2" Id="${ID}">`);
    expect(read(polluted)).toBe('DAVIS_ERR_XML_MALFORMED');
    expect(read(signed.replace('<ds:Reference URI="">', `<ds:Reference URI="" xmlns:d2="${DS}" ds:URI="#a" d2:URI="#b">`))).toBe('DAVIS_ERR_XML_MALFORMED');
  });

  it('refuses prefixed copies of the algorithm and URI attributes added after signing', () => {
    expect(read(signed.replace('<ds:SignatureMethod ', `<ds:SignatureMethod ds:Algorithm="${HMAC_SHA1}" `))).toBe('DAVIS_ERR_SIG_VALUE');
    expect(read(signedById.replace('<ds:Reference ', '<ds:Reference ds:URI="" '))).toBe('DAVIS_ERR_SIG_VALUE');
  });

  it('refuses xmlns tricks: redeclared prefix, reserved prefixes and namespaces, empty prefix binding', () => {
    const onRoot = (decl: string): string => signed.replace(ROOT_TAG, `<w:Request xmlns:w="${WIRE_NS}" ${decl} Id="${ID}">`);
    expect(read(onRoot(`xmlns:w="${WIRE_NS}"`))).toBe('DAVIS_ERR_XML_MALFORMED');
    expect(read(onRoot('xmlns:xmlns="urn:x"'))).toBe('DAVIS_ERR_XML_MALFORMED');
    expect(read(onRoot('xmlns:xml="urn:x"'))).toBe('DAVIS_ERR_XML_MALFORMED');
    expect(read(onRoot('xmlns:p="http://www.w3.org/2000/xmlns/"'))).toBe('DAVIS_ERR_XML_MALFORMED');
    expect(read(signed.replace('<w:Body>', '<w:Body xmlns:w="">'))).toBe('DAVIS_ERR_XML_MALFORMED');
  });

  it('refuses prototype keys as element names, signed or not, and pollutes nothing', () => {
    for (const name of ['__proto__', 'constructor', 'prototype']) {
      const xml = signAsIs(signed.replace('<w:applicationNumber>', `<w:${name}><w:polluted>true</w:polluted></w:${name}><w:applicationNumber>`), central);
      expect(read(xml)).toBe('DAVIS_ERR_WIRE_SCHEMA');
      expect(codeOf(() => readRequest(xml, { trust: fx.trust }))).toBe('DAVIS_ERR_WIRE_MAPPING');
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('algorithm downgrade', () => {
  const setAlgorithm = (xml: string, element: 'DigestMethod' | 'SignatureMethod' | 'CanonicalizationMethod', uri: string): string =>
    xml.replace(new RegExp(`<ds:${element} Algorithm="[^"]*">`), `<ds:${element} Algorithm="${uri}">`);
  const valueOver = (xml: string, value: (signedInfo: string) => string): string => {
    const { signedInfo, signatureValue } = signatureParts(xml);
    return replaceContent(xml, signatureValue, value(canonicalize(signedInfo)));
  };

  it('refuses a SHA-1 or MD5 digest, though the digest and the signature are genuine', () => {
    expect(read(resign(redigest(setAlgorithm(signed, 'DigestMethod', SHA1), 'sha1'), central))).toBe('DAVIS_ERR_SIG_ALGORITHM');
    expect(read(resign(redigest(setAlgorithm(signed, 'DigestMethod', 'http://www.w3.org/2001/04/xmldsig-more#md5'), 'md5'), central))).toBe('DAVIS_ERR_SIG_ALGORITHM');
  });

  it('refuses RSA-SHA1 and RSA-MD5 signatures by the trusted key', () => {
    const rsaSha1 = valueOver(setAlgorithm(signed, 'SignatureMethod', RSA_SHA1), (si) => cryptoSign('sha1', Buffer.from(si), central.privateKey).toString('base64'));
    expect(read(rsaSha1)).toBe('DAVIS_ERR_SIG_ALGORITHM');
    const rsaMd5 = valueOver(setAlgorithm(signed, 'SignatureMethod', 'http://www.w3.org/2001/04/xmldsig-more#rsa-md5'), (si) => cryptoSign('md5', Buffer.from(si), central.privateKey).toString('base64'));
    expect(read(rsaMd5)).toBe('DAVIS_ERR_SIG_ALGORITHM');
  });

  it('refuses HMAC keyed with the public certificate (key confusion), and a truncated HMAC', () => {
    const cert = central.certificate.raw;
    const hmac = (alg: string, uri: string): string => valueOver(setAlgorithm(redigest(evil(signed)), 'SignatureMethod', uri), (si) => createHmac(alg, cert).update(si).digest('base64'));
    expect(read(hmac('sha1', HMAC_SHA1))).toBe('DAVIS_ERR_SIG_ALGORITHM');
    expect(read(hmac('sha256', 'http://www.w3.org/2001/04/xmldsig-more#hmac-sha256'))).toBe('DAVIS_ERR_SIG_ALGORITHM');
    const truncated = setAlgorithm(signed, 'SignatureMethod', HMAC_SHA1)
      .replace(`<ds:SignatureMethod Algorithm="${HMAC_SHA1}"></ds:SignatureMethod>`, `<ds:SignatureMethod Algorithm="${HMAC_SHA1}"><ds:HMACOutputLength>0</ds:HMACOutputLength></ds:SignatureMethod>`);
    expect(read(replaceContent(truncated, signatureParts(truncated).signatureValue, ''))).toBe('DAVIS_ERR_SIG_ALGORITHM');
  });

  it('refuses inclusive C14N for SignedInfo, though the trusted key signed it', () => {
    expect(read(resign(setAlgorithm(signed, 'CanonicalizationMethod', 'http://www.w3.org/TR/2001/REC-xml-c14n-20010315'), central))).toBe('DAVIS_ERR_SIG_ALGORITHM');
  });
});

describe('a signer from the trusted CA that is not central', () => {
  // What the notification and answer readers do after readRequest/readResponse: the signer must be pinned central.
  const readAsCentral = (xml: string, pins: CentralPinOptions = { subjects: [DEV_CENTRAL_SUBJECT] }): string => codeOf(() => {
    const id = centralIdentity({ ...pins, trust: () => fx.trust });
    const { verified } = readRequest(xml, { trust: id.trust(), xsd, validate: true });
    id.assertSigner(verified!);
  });

  it('refuses a notification signed by the gateway\'s or a UMA client\'s certificate, though both chain to the CA', () => {
    const client = loadSigningKey({ keyFile: fx.files.clientKey, certFile: fx.files.clientCert });
    expect(readAsCentral(signed)).toBe('OK');
    for (const k of [fx.key, client]) {
      const forged = signCanonical(unsigned, k);
      expect(read(forged)).toBe('OK');
      expect(readAsCentral(forged)).toBe('DAVIS_ERR_SIG_NOT_CENTRAL');
      expect(readAsCentral(forged, { fingerprints: [central.certificate.fingerprint256] })).toBe('DAVIS_ERR_SIG_NOT_CENTRAL');
    }
  });

  it('refuses central\'s subject on a certificate from another CA before the pin is looked at', () => {
    const impostor = makeSigner(makeCa('Attacker CA'), { subject: { commonName: 'vis-central-mock', organization: 'DAVIS development', organizationalUnit: 'central' } });
    expect(readAsCentral(signCanonical(unsigned, impostor))).toBe('DAVIS_ERR_SIG_CERT_UNTRUSTED');
  });
});

describe('the data the gateway acts on is the data that was signed', () => {
  it('returns the payload and header the signed XML was built from, signed by central', () => {
    for (const s of [signed, signedById]) {
      const result = readRequest(s, { trust: fx.trust, xsd, validate: true });
      expect(result.payload).toEqual(PAYLOAD);
      expect(result.header).toEqual(HEADER);
      expect(result.verified?.certificate.fingerprint256).toBe(central.certificate.fingerprint256);
      expect(result.document.source).toBe(s);
      const either = readWire(s, { trust: fx.trust, xsd, validate: true });
      expect(either.kind === 'request' && either.payload).toEqual(PAYLOAD);
    }
  });

  it('refuses a change of one byte in any signed value', () => {
    const { doc, signature } = signatureParts(signed);
    const values: { start: number; end: number }[] = [];
    const walk = (el: XmlElement): void => {
      for (const c of el.children) {
        if (c === signature) continue;
        if (c.type === 'element') walk(c);
        else if (c.type === 'text') values.push(c);
      }
    };
    walk(doc.root);
    expect(values.length).toBeGreaterThan(10);
    for (const v of values) {
      for (const at of [v.start, v.end - 1]) {
        const flipped = signed[at] === 'A' ? 'B' : 'A';
        const xml = signed.slice(0, at) + flipped + signed.slice(at + 1);
        expect([signed.slice(v.start, v.end), read(xml)]).toEqual([signed.slice(v.start, v.end), 'DAVIS_ERR_SIG_DIGEST']);
      }
    }
    // The Id the #Id reference names, one byte changed: the reference no longer resolves.
    expect(read(signedById.replace(`Id="${ID}"`, `Id="${ID.replace('m-7', 'm-8')}"`))).toBe('DAVIS_ERR_SIG_REFERENCE');
  });
});
