import { isDavisError } from '../../src/errors/errors';
import { signCanonical } from '../../src/signing/xmldsig';
import { buildRequestXml, buildResponseXml, WIRE_NS } from '../../src/wire/envelope';
import { WIRE_XML_LIMITS } from '../../src/wire/limits';
import { readRequest, readResponse, readWire, wireStage } from '../../src/wire/read-wire';
import { createXsdValidator } from '../../src/wire/xsd';
import { loadExamples } from '../validation/examples';
import { cleanup, devFixture, type Fixture } from '../signing/helpers';

const TYPE = 'vis.application.create';
const HEADER = { messageId: '3f1c2a9e-5b7d-4c1e-9a2b-0d4e6f8a1b2c', type: TYPE, sender: 'FI', created: '2025-09-01T10:00:00.000Z' };
const payload = (): Record<string, any> => JSON.parse(JSON.stringify(loadExamples(TYPE).valid.find((e) => e.file.includes('adult'))!.payload)) as Record<string, any>;
const xsd = createXsdValidator();

let fx: Fixture;
beforeAll(async () => {
  fx = await devFixture('read-wire');
});
afterAll(() => cleanup(fx.dir));

function errorOf(fn: () => unknown): { code?: string; pointer?: string } {
  try {
    fn();
  } catch (e) {
    if (isDavisError(e)) return { code: e.code, pointer: e.errors?.[0]?.pointer };
    throw e;
  }
  return {};
}

describe('readRequest', () => {
  it('screens, parses, verifies, XSD-checks, maps and validates a signed request', () => {
    const signed = signCanonical(buildRequestXml(HEADER, payload()), fx.key);
    const r = readRequest(signed, { trust: fx.trust, xsd, validate: true });
    expect(r.header).toStrictEqual(HEADER);
    expect(r.payload).toStrictEqual(payload());
    expect(r.verified?.certificate.subject).toBe(fx.key.certificate.subject);
    expect(r.document.source).toBe(signed);
  });

  it('parses the bytes once, and maps the very tree it verified', () => {
    /* eslint-disable @typescript-eslint/no-require-imports */
    const parser = require('../../src/xml/parser') as typeof import('../../src/xml/parser');
    const dsig = require('../../src/signing/xmldsig') as typeof import('../../src/signing/xmldsig');
    const envelope = require('../../src/wire/envelope') as typeof import('../../src/wire/envelope');
    const xsdModule = require('../../src/wire/xsd') as typeof import('../../src/wire/xsd');
    /* eslint-enable @typescript-eslint/no-require-imports */
    const validator = xsdModule.createXsdValidator();
    const parse = jest.spyOn(parser, 'parseXml');
    const verify = jest.spyOn(dsig, 'verifyDocument');
    const map = jest.spyOn(envelope, 'requestFromDocument');
    const check = jest.spyOn(validator, 'validateDocument');
    try {
      const signed = signCanonical(buildRequestXml(HEADER, payload()), fx.key);
      const r = readRequest(signed, { trust: fx.trust, xsd: validator });
      expect(parse).toHaveBeenCalledTimes(1);
      const tree = parse.mock.results[0].value as ReturnType<typeof parser.parseXml>;
      expect(verify.mock.calls[0][0]).toBe(tree);
      expect(check.mock.calls[0][0]).toBe(tree);
      expect(map.mock.calls[0][0]).toBe(tree);
      expect(r.document).toBe(tree);
    } finally {
      parse.mockRestore();
      verify.mockRestore();
      map.mockRestore();
      check.mockRestore();
    }
  });

  it('refuses what was changed after signing, though it still maps', () => {
    const signed = signCanonical(buildRequestXml(HEADER, payload()), fx.key);
    const tampered = signed.replace('>FI-HEL-2025-000123<', '>FI-HEL-2025-000999<');
    expect(tampered).not.toBe(signed);
    expect(errorOf(() => readRequest(tampered, {})).code).toBeUndefined();
    expect(errorOf(() => readRequest(tampered, { trust: fx.trust })).code).toBe('DAVIS_ERR_SIG_DIGEST');
  });

  it('refuses each step with its own code, in pipeline order', () => {
    const unsigned = buildRequestXml(HEADER, payload());
    const signed = signCanonical(unsigned, fx.key);
    const cases: [string, string, object, string][] = [
      ['a DOCTYPE', `<!DOCTYPE r>${signed}`, { trust: fx.trust }, 'DAVIS_ERR_XML_DOCTYPE'],
      ['not well-formed', signed.replace('</w:Header>', '</w:Headr>'), { trust: fx.trust }, 'DAVIS_ERR_XML_MALFORMED'],
      ['no signature', unsigned, { trust: fx.trust, xsd }, 'DAVIS_ERR_SIG_MISSING'],
      ['an XSD violation', signCanonical(buildRequestXml(HEADER, { ...payload(), status: 'NOT_A_STATUS' }, { lenient: true }), fx.key), { trust: fx.trust, xsd }, 'DAVIS_ERR_WIRE_SCHEMA'],
      ['an envelope the XSD allows but the mapping does not', signCanonical(unsigned.replace(`Id="m-${HEADER.messageId}"`, 'Id="m-other"'), fx.key), { trust: fx.trust }, 'DAVIS_ERR_WIRE_MAPPING'],
      ['a payload rule', signCanonical(buildRequestXml(HEADER, { ...payload(), applicationNumber: 'x' }, { lenient: true }), fx.key), { trust: fx.trust, validate: true }, 'DAVIS_ERR_VALIDATION_FAILED'],
    ];
    const stages = cases.map(([what, doc, opts, code]) => {
      const got = errorOf(() => readRequest(doc, opts)).code;
      expect([what, got]).toEqual([what, code]);
      return wireStage(code as never);
    });
    expect(stages).toEqual(['xml', 'xml', 'signature', 'schema', 'mapping', 'payload']);
  });

  it('keeps the XPath-like mapping pointers', () => {
    const xml = buildRequestXml(HEADER, payload()).replace('<w:Sender>FI</w:Sender>', '');
    expect(errorOf(() => readRequest(xml))).toEqual({ code: 'DAVIS_ERR_WIRE_MAPPING', pointer: '/w:Request/w:Header/w:Created' });
  });

  it('refuses bytes that are not UTF-8, never patching them', () => {
    const bytes = Buffer.from(buildRequestXml(HEADER, payload()), 'utf8');
    const at = bytes.indexOf('FI-HEL');
    bytes[at] = 0xff;
    expect(errorOf(() => readRequest(bytes)).code).toBe('DAVIS_ERR_XML_MALFORMED');
  });
});

describe('readResponse and readWire', () => {
  const answer = { responseId: 'r1', inReplyTo: HEADER.messageId, result: 'ACCEPTED' as const, code: 'OK', created: '2025-09-01T10:00:00Z' };

  it('reads a signed answer on the verified tree', () => {
    const signed = signCanonical(buildResponseXml(answer), fx.key);
    expect(readResponse(signed, { trust: fx.trust }).answer).toStrictEqual(answer);
    expect(errorOf(() => readResponse(signed.replace('>OK<', '>NO<'), { trust: fx.trust })).code).toBe('DAVIS_ERR_SIG_DIGEST');
  });

  it('tells a request from a response by the document element', () => {
    expect(readWire(buildResponseXml(answer), { xsd }).kind).toBe('response');
    expect(readWire(buildRequestXml(HEADER, payload()), { xsd, validate: true }).kind).toBe('request');
  });
});

describe('hostile shapes stop at our caps, before libxml2', () => {
  const root = (attrs: string, inner = ''): string =>
    `<w:Request xmlns:w="${WIRE_NS}" Id="m-1"${attrs}><w:Header></w:Header><w:Body>${inner}</w:Body></w:Request>`;

  it.each([
    ['60,000 attributes on the root', root(Array.from({ length: 60_000 }, (_, i) => ` a${i}="x"`).join(''))],
    ['20,000 namespace declarations on the root', root(Array.from({ length: 20_000 }, (_, i) => ` xmlns:p${i}="urn:${i}"`).join(''))],
    ['300,000 empty siblings in the body', root('', '<w:x/>'.repeat(300_000))],
    ['200,000 nodes in groups', root('', `<w:g>${'<w:x/>'.repeat(1000)}</w:g>`.repeat(200))],
  ])('%s → DAVIS_ERR_XML_LIMIT, libxml2 never called', (_what, doc) => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const spy = jest.spyOn(require('libxmljs2') as { parseXml: (...a: unknown[]) => unknown }, 'parseXml');
    try {
      expect(Buffer.byteLength(doc)).toBeLessThan(WIRE_XML_LIMITS.maxBytes);
      expect(errorOf(() => readRequest(doc, { xsd })).code).toBe('DAVIS_ERR_XML_LIMIT');
      expect(errorOf(() => xsd.validate(doc)).code).toBe('DAVIS_ERR_XML_LIMIT');
      expect(spy).not.toHaveBeenCalled();
    } finally {
      spy.mockRestore();
    }
  });
});

/**
 * Growth guards for the whole read, XSD error location included: time of 8× the content over
 * the base (never an absolute time), best of three attempts on this shared machine.
 */
describe('linear growth of the read', () => {
  const time = (fn: () => void): number => {
    fn();
    const runs: number[] = [];
    for (let k = 0; k < 3; k++) {
      const t0 = process.hrtime.bigint();
      fn();
      runs.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    return runs.sort((a, b) => a - b)[1];
  };
  const ratio = (make: (n: number) => string, n: number, read: (doc: string) => void): number => {
    const small = make(n);
    const large = make(8 * n);
    let best = Infinity;
    for (let attempt = 0; attempt < 3 && best >= 16; attempt++) best = Math.min(best, time(() => read(large)) / Math.max(time(() => read(small)), 0.05));
    return best;
  };
  const settle = (fn: () => unknown): void => {
    try {
      fn();
    } catch (e) {
      if (!isDavisError(e)) throw e;
    }
  };
  /** A request whose body holds n elements the XSD refuses (in groups, under the children cap), all on one line. */
  const manyErrors = (n: number): string =>
    buildRequestXml(HEADER, payload()).replace('</w:ApplicationCreate>', `${`<w:g>${'<w:x a="1"/>'.repeat(250)}</w:g>`.repeat(n / 250)}</w:ApplicationCreate>`);

  it('XSD validation with errors located on a one-line document', () => {
    expect(xsd.validate(manyErrors(250)).length).toBeGreaterThan(0);
    expect(ratio(manyErrors, 1000, (doc) => xsd.validate(doc))).toBeLessThan(16);
  });

  it('the whole read of a document with many elements', () => {
    expect(ratio(manyErrors, 1000, (doc) => settle(() => readRequest(doc, { xsd })))).toBeLessThan(16);
  });
});
