import fc from 'fast-check';
import { signCanonical, signCanonicalAsync, signEnveloped, verifyEnveloped } from '../../src/signing/xmldsig';
import { canonicalize } from '../../src/xml/c14n';
import { parseXml } from '../../src/xml/parser';
import { cleanup, codeOf, devFixture, makeSigner, type Fixture } from './helpers';
import { documentArb, serialize } from './xml-gen';

let fx: Fixture;
beforeAll(async () => {
  fx = await devFixture('sign');
});
afterAll(() => cleanup(fx.dir));

describe('signCanonical', () => {
  it('produces exactly what signEnveloped produces for canonical documents', () => {
    fc.assert(
      fc.property(documentArb, (g) => {
        const canonical = canonicalize(parseXml(serialize(g, { bare: true })));
        const fast = signCanonical(canonical, fx.key);
        expect(fast).toBe(signEnveloped(canonical, fx.key));
        expect(verifyEnveloped(fast, fx.trust).algorithm).toBe('rsa-sha256');
      }),
      { numRuns: 100 },
    );
  });

  it('produces verifiable ECDSA signatures identical to signEnveloped', () => {
    const ec = makeSigner(fx.ca, { ec: true });
    const xml = '<v:Msg xmlns:v="urn:v" Id="m-1"><v:Body a="1" b="&lt;&amp;&quot;&#xD;">caf\u00e9 &amp; &gt;</v:Body></v:Msg>';
    const fast = signCanonical(xml, ec);
    expect(verifyEnveloped(fast, fx.trust).algorithm).toBe('ecdsa-sha256');
    // ECDSA is randomised: compare everything but the signature value.
    const strip = (s: string): string => s.replace(/<ds:SignatureValue>[^<]*</, '<ds:SignatureValue><');
    expect(strip(fast)).toBe(strip(signEnveloped(xml, ec)));
  });

  it('refuses input that cannot be in canonical form', () => {
    const code = (xml: string): string => codeOf(() => signCanonical(xml, fx.key));
    expect(code('<?xml version="1.0"?><a></a>')).toBe('DAVIS_ERR_SIG_NOT_CANONICAL');
    expect(code('<a><!-- c --></a>')).toBe('DAVIS_ERR_SIG_NOT_CANONICAL');
    expect(code('<a>\r</a>')).toBe('DAVIS_ERR_SIG_NOT_CANONICAL');
    expect(code('<a/>')).toBe('DAVIS_ERR_SIG_NOT_CANONICAL');
    expect(code('<a></b>')).toBe('DAVIS_ERR_SIG_NOT_CANONICAL');
    expect(code('<a></a>\n')).toBe('DAVIS_ERR_SIG_NOT_CANONICAL');
    expect(code('<!DOCTYPE a><a></a>')).toBe('DAVIS_ERR_SIG_NOT_CANONICAL');
    expect(code('<a x="1"></a>')).toBe('OK');
  });
});

describe('signCanonicalAsync (the private-key operation on the thread pool)', () => {
  it('gives the bytes signCanonical gives (RSA), for any canonical document', async () => {
    await fc.assert(
      fc.asyncProperty(documentArb, async (g) => {
        const canonical = canonicalize(parseXml(serialize(g, { bare: true })));
        expect(await signCanonicalAsync(canonical, fx.key)).toBe(signCanonical(canonical, fx.key));
      }),
      { numRuns: 50 },
    );
  });

  it('makes verifiable ECDSA signatures, and many at once each belong to its own document', async () => {
    const ec = makeSigner(fx.ca, { ec: true });
    const docs = Array.from({ length: 20 }, (_, i) => `<v:Msg xmlns:v="urn:v" Id="m-${i}"><v:Body>${i}</v:Body></v:Msg>`);
    const signed = await Promise.all(docs.map((d) => signCanonicalAsync(d, ec)));
    signed.forEach((s, i) => {
      expect(s.startsWith(docs[i].slice(0, -'</v:Msg>'.length))).toBe(true);
      expect(verifyEnveloped(s, fx.trust).algorithm).toBe('ecdsa-sha256');
    });
  });

  it('rejects what signCanonical refuses, with the same code', async () => {
    for (const xml of ['<?xml version="1.0"?><a></a>', '<a><!-- c --></a>', '<a>\r</a>', '<a/>', '<a></b>']) {
      await expect(signCanonicalAsync(xml, fx.key)).rejects.toMatchObject({ code: 'DAVIS_ERR_SIG_NOT_CANONICAL' });
    }
  });
});

describe('signEnveloped', () => {
  it('keeps the document byte for byte and appends the signature as the last child of the document element', () => {
    const xml = '<?xml version="1.0" encoding="UTF-8"?>\n<?app x?>\n<r  b="2" a="1">\n  <c/>\n</r>\n';
    const out = signEnveloped(xml, fx.key);
    const at = out.indexOf('<ds:Signature');
    expect(out.slice(0, at)).toBe('<?xml version="1.0" encoding="UTF-8"?>\n<?app x?>\n<r  b="2" a="1">\n  <c/>\n');
    expect(out.slice(out.indexOf('</ds:Signature>') + 15)).toBe('</r>\n');
    expect(verifyEnveloped(out, fx.trust).algorithm).toBe('rsa-sha256');
  });

  it('writes Reference URI="" and the profile algorithms', () => {
    const out = signEnveloped('<r Id="x"></r>', fx.key);
    expect(out).toContain('<ds:Reference URI="">');
    expect(out).toContain('<ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"></ds:Transform><ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"></ds:Transform>');
    expect(out).toContain('<ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256">');
    expect(out).toContain('<ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256">');
    expect(out).toContain(`<ds:X509Certificate>${fx.key.certificate.raw.toString('base64')}</ds:X509Certificate>`);
  });

  it('opens a self-closing document element to hold the signature', () => {
    const out = signEnveloped('<r a="1" />', fx.key);
    expect(out.startsWith('<r a="1" ><ds:Signature')).toBe(true);
    expect(out.endsWith('</ds:Signature></r>')).toBe(true);
    expect(verifyEnveloped(out, fx.trust).algorithm).toBe('rsa-sha256');
  });

  it('removes comments inside the document element, which no signature covers', () => {
    const out = signEnveloped('<!-- kept --><r>a<!-- gone -->b<c><!-- gone too --></c></r>', fx.key);
    expect(out.startsWith('<!-- kept --><r>ab<c></c><ds:Signature')).toBe(true);
    expect(verifyEnveloped(out, fx.trust).algorithm).toBe('rsa-sha256');
  });

  it('refuses an already signed document, a DOCTYPE and malformed XML', () => {
    const once = signEnveloped('<r></r>', fx.key);
    expect(codeOf(() => signEnveloped(once, fx.key))).toBe('DAVIS_ERR_SIG_MULTIPLE');
    expect(codeOf(() => signEnveloped('<!DOCTYPE r><r></r>', fx.key))).toBe('DAVIS_ERR_XML_DOCTYPE');
    expect(codeOf(() => signEnveloped('<r><s></r>', fx.key))).toBe('DAVIS_ERR_XML_MALFORMED');
  });
});
