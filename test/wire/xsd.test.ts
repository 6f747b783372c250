import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import * as libxml from 'libxmljs2';
import { isDavisError } from '../../src/errors/errors';
import { isInbound, listTypes } from '../../src/catalogue/catalogue';
import type { MessageTypeSpec } from '../../src/catalogue/types';
import { compileShape } from '../../src/wire/shape';
import { payloadToXml } from '../../src/wire/payload-codec';
import { buildRequestXml, buildResponseXml, DSIG_NS, WIRE_NS } from '../../src/wire/envelope';
import { createXsdValidator } from '../../src/wire/xsd';
import { generateXsd, toXsdPattern, xsdPath } from '../../src/wire/xsd-generate';
import { loadAnswerExamples, loadExamples, type Example } from '../validation/examples';
import { arbitraryFor } from './arbitraries';
import { xmllintValidate } from './xmllint';

const HEADER = { messageId: '3f1c2a9e-5b7d-4c1e-9a2b-0d4e6f8a1b2c', sender: 'FI', created: '2025-09-01T10:00:00.000Z' };
/** Every type, outbound and inbound (central's notifications travel in the same w:Request). */
const TYPES = listTypes({ direction: 'all' });
const all = TYPES.map((t) => ({ t, ...loadExamples(t.id) }));
const valid: Example[] = all.flatMap((x) => x.valid);
const invalid: Example[] = all.flatMap((x) => x.invalid);
/** Each example as wire XML; invalid ones forced through the lenient mapping (JSON validation bypassed). */
const wire = (ex: Example): string =>
  buildRequestXml({ ...HEADER, type: ex.type, sender: isInbound(ex.type) ? 'EU' : HEADER.sender }, ex.payload, { lenient: true });
const ESP_DATA = {
  answerTo: 'io.esp.search',
  hitCount: 1,
  systemsQueried: ['SIS', 'VIS'],
  hits: [{ sourceSystem: 'SIS', recordId: 'SIS-1', matchedOn: ['IDENTITY'], identity: { surname: 'Щербаков', dateOfBirth: '1985-03-14' } }],
};
const RESPONSES = [
  buildResponseXml({ responseId: 'r-1', inReplyTo: HEADER.messageId, result: 'ACCEPTED', code: 'OK', centralReference: 'VIS-0001', created: '2025-09-01T10:00:01Z' }),
  buildResponseXml({ responseId: 'r-2', inReplyTo: HEADER.messageId, result: 'REJECTED', code: 'VIS_ERR_X', reason: 'no & <never>', created: '2025-09-01T10:00:01.5Z' }),
  buildResponseXml({ responseId: 'r-3', inReplyTo: HEADER.messageId, result: 'ACCEPTED', code: 'OK', created: '2025-09-01T10:00:01Z', data: ESP_DATA }),
  buildResponseXml({ responseId: 'r-4', inReplyTo: HEADER.messageId, result: 'ACCEPTED', code: 'OK', created: '2025-09-01T10:00:01Z', data: { answerTo: 'vis.application.search', hitCount: 0 } }),
  // every answer example of schemas/examples/
  ...TYPES
    .flatMap((t) => loadAnswerExamples(t.id))
    .map((ex, i) => buildResponseXml({ responseId: `r-x${i}`, inReplyTo: HEADER.messageId, result: 'ACCEPTED', code: 'OK', created: '2025-09-01T10:00:01Z', data: ex.data })),
];

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return isDavisError(e) ? e.code : `not a DavisError: ${String(e)}`;
  }
  return undefined;
}

describe('generated XSD', () => {
  it('is current: the committed schemas/wire/davis-wire.xsd equals the generator output', () => {
    // When this fails: npm run build && node dist/src/wire/xsd-generate.js --write
    expect(readFileSync(xsdPath(), 'utf8')).toBe(generateXsd());
  });

  it('accepts the wire XML of every valid example (system xmllint)', () => {
    const docs = valid.map(wire);
    expect(xmllintValidate(xsdPath(), docs).valid).toEqual(docs.map(() => true));
  });

  it('makes per-element XSDs that xmllint compiles, holding one catalogue element and the whole MessageType list', () => {
    const only = generateXsd(TYPES, { only: 'EspSearchAnswer' });
    expect(only).toContain('<xs:element name="EspSearchAnswer">');
    expect(only).not.toContain('<xs:element name="ApplicationCreate">');
    for (const t of TYPES) expect(only).toContain(`<xs:enumeration value="${t.id}"/>`);
    const dir = mkdtempSync(join(tmpdir(), 'davis-xsd-only-'));
    try {
      writeFileSync(join(dir, 'only.xsd'), only);
      expect(xmllintValidate(join(dir, 'only.xsd'), [RESPONSES[2], RESPONSES[3]]).valid).toEqual([true, false]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('has a body element and a MessageType value for every notification (inbound) type, and takes Sender EU', () => {
    const xsd = generateXsd();
    expect(xsd).toBe(generateXsd(TYPES));
    for (const t of listTypes({ direction: 'inbound' })) {
      expect(xsd).toContain(`<xs:element name="${t.xmlName}">`);
      expect(xsd).toContain(`<xs:element ref="w:${t.xmlName}"/>`);
      expect(xsd).toContain(`<xs:enumeration value="${t.id}"/>`);
    }
    const notifications = valid.filter((ex) => isInbound(ex.type)).map(wire);
    expect(notifications.length).toBeGreaterThanOrEqual(5);
    expect(notifications.every((d) => d.includes('<w:Sender>EU</w:Sender>'))).toBe(true);
    expect(xmllintValidate(xsdPath(), notifications).valid).toEqual(notifications.map(() => true));
  });

  it('writes each shared definition once (Def.<name>), used by every element', () => {
    const xsd = generateXsd();
    expect(xsd.match(/<xs:simpleType name="Def\.CountryCode">/g)).toHaveLength(1);
    expect(xsd).not.toMatch(/name="ApplicationCreate\.CountryCode"/);
  });

  it('accepts signed-shaped requests and responses (a trailing ds:Signature is allowed)', () => {
    const sig = `<ds:Signature xmlns:ds="${DSIG_NS}"><ds:SignedInfo/></ds:Signature>`;
    const docs = [wire(valid[0]).replace('</w:Request>', `${sig}</w:Request>`), ...RESPONSES, RESPONSES[0].replace('</w:Response>', `${sig}</w:Response>`)];
    expect(xmllintValidate(xsdPath(), docs).valid).toEqual(docs.map(() => true));
  });

  it('rejects every invalid example forced to XML, except the rules XSD 1.0 cannot express (system xmllint)', () => {
    const docs = invalid.map(wire);
    const verdicts = xmllintValidate(xsdPath(), docs).valid;
    const table = invalid.map((ex, i) => [ex.file, verdicts[i] ? 'accepted' : 'rejected']);
    expect(table).toEqual(invalid.map((ex) => [ex.file, ex.expect!.xsd.rejects ? 'rejected' : 'accepted']));
    for (const ex of invalid.filter((e) => !e.expect!.xsd.rejects)) expect(ex.expect!.xsd.why).toMatch(/\S/);
  });

  it('accepts the XML of every schema-valid payload of a schema using every wire-profile construct', () => {
    const spec: MessageTypeSpec = {
      id: 'test.kitchen.sink',
      title: 'test',
      article: 'none',
      xmlName: 'KitchenSink',
      orderingKey: '/text',
      direction: 'outbound',
      roles: [],
      schema: {
        type: 'object',
        additionalProperties: false,
        properties: {
          text: { type: 'string' },
          n: { type: 'number', minimum: -1e300, exclusiveMaximum: 1e300 },
          i: { type: 'integer', minimum: -5, exclusiveMaximum: 5 },
          flag: { type: 'boolean' },
          when: { type: 'string', format: 'date' },
          blob: { type: 'string', contentEncoding: 'base64', minLength: 4, maxLength: 16 },
          two: { type: 'array', minItems: 2, maxItems: 3, uniqueItems: true, items: { type: 'string', enum: ['a', 'b', 'c', 'd'] } },
          pick: { type: 'object', additionalProperties: false, minProperties: 1, maxProperties: 1, properties: { x: { type: 'boolean' }, y: { $ref: '#/$defs/Code' } } },
        },
        required: ['text', 'i'],
        $defs: { Code: { type: 'string', pattern: '^[A-Z]{2}(?:-[0-9]{1,3})?\\/[^\\p{Cc}\\uFFFE]$' } },
      },
    };
    const validator = createXsdValidator({ xsd: generateXsd([spec]) });
    const shape = compileShape(spec.schema);
    const doc = (payload: unknown): string =>
      `<w:Request xmlns:w="${WIRE_NS}" Id="m-1"><w:Header><w:MessageId>1</w:MessageId><w:MessageType>${spec.id}</w:MessageType>` +
      `<w:Sender>FI</w:Sender><w:Created>${HEADER.created}</w:Created></w:Header><w:Body><w:KitchenSink>${payloadToXml(shape, payload)}</w:KitchenSink></w:Body></w:Request>`;
    fc.assert(
      fc.property(arbitraryFor(shape), (payload) => {
        expect(validator.validate(doc(payload))).toEqual([]);
      }),
      { numRuns: 200, seed: 11 },
    );
    // and the optional "two or three" array is none, or 2..3: one is refused
    expect(validator.validate(doc({ text: '', i: 0, two: ['a'] })).length).toBeGreaterThan(0);
    expect(validator.validate(doc({ text: '', i: 0, two: ['a', 'a'] })).length).toBeGreaterThan(0);
  });
});

describe('runtime XSD validator (libxmljs2)', () => {
  const validator = createXsdValidator();
  const whole = createXsdValidator({ xsd: readFileSync(xsdPath(), 'utf8') });

  it('gives the same verdicts with its per-element XSDs as the whole committed XSD', () => {
    const docs = [...valid.map(wire), ...invalid.map(wire), ...RESPONSES];
    // documents whose body does not match their header, or whose element is unknown
    const create = wire(valid[0]);
    docs.push(create.replace(/<w:MessageType>[^<]+</, '<w:MessageType>vis.visa.issue<'));
    docs.push(create.replace(/w:ApplicationCreate>/g, 'w:NoSuchElement>'));
    docs.push(RESPONSES[2].replace(/w:EspSearchAnswer>/g, 'w:ApplicationSearchAnswer>'));
    docs.push(RESPONSES[2].replace('</w:Data>', '<w:EspSearchAnswer></w:EspSearchAnswer></w:Data>'));
    docs.push(RESPONSES[0].replace('</w:Result>', '</w:Result><w:Data></w:Data>'));
    expect(docs.map((d) => validator.validate(d).length === 0)).toEqual(docs.map((d) => whole.validate(d).length === 0));
    expect(validator.validate(docs[docs.length - 4]).length).toBeGreaterThan(0);
  });

  it('checks the transliteration elements: A-Z words only, optional', () => {
    const xml = wire(valid.find((e) => e.file === 'valid-adult-business-representation.json')!);
    expect(xml).toContain('<w:surnameTransliterated>MEIKAELAEINEN</w:surnameTransliterated>');
    expect(validator.validate(xml)).toEqual([]);
    expect(validator.validate(xml.replace(/<w:surnameTransliterated>[^<]*<\/w:surnameTransliterated>/g, ''))).toEqual([]);
    const bad = validator.validate(xml.replace('>MEIKAELAEINEN<', '>Meikäläinen<'));
    expect(bad.map((e) => e.pointer)).toEqual(['/w:Request/w:Body/w:ApplicationCreate/w:applicant/w:surnameTransliterated (line 1)']);
  });

  it('agrees with the system xmllint on every example, request and response', () => {
    const docs = [...valid.map(wire), ...invalid.map(wire), ...RESPONSES];
    const { valid: verdicts } = xmllintValidate(xsdPath(), docs);
    expect(docs.map((d) => validator.validate(d).length === 0)).toEqual(verdicts);
  });

  it('points each error at the element, with its line', () => {
    const ex = invalid.find((e) => e.file === 'invalid-facial-image-png.json')!;
    expect(validator.validate(wire(ex)).map((e) => e.pointer)).toEqual(['/w:Request/w:Body/w:ApplicationCreate/w:facialImage/w:embedded/w:mediaType (line 1)']);
    const ex2 = invalid.find((e) => e.file === 'invalid-lowercase-country-and-repeated-destination.json')!;
    expect(validator.validate(wire(ex2)).map((e) => e.pointer).sort()).toEqual([
      '/w:Request/w:Body/w:ApplicationCreate/w:destinationMemberStates[3] (line 1)',
      '/w:Request/w:Body/w:ApplicationCreate/w:travelDocument/w:issuingCountry (line 1)',
    ]);
  });

  it('keeps personal data out of its messages (values are redacted, element names kept)', () => {
    const p = JSON.parse(JSON.stringify(valid[0].payload)) as Record<string, any>;
    p.applicant.surname = 'Secret\tName';
    p.applicant.dateOfBirth = '1985-02-30';
    p.travelDocument.number = 'secret-no';
    p.destinationMemberStates = ['FI', 'FI'];
    p.purposes = ['NOT_SECRET_BUT_A_VALUE'];
    const errors = validator.validate(wire({ type: valid[0].type, file: 'x', payload: p }));
    expect(errors.length).toBeGreaterThanOrEqual(5); // libxml2 adds a warning after a bad enumeration value
    for (const e of errors) {
      expect(e.message).not.toMatch(/Secret|1985-02-30|secret-no|'FI'|NOT_SECRET/);
      expect(e.message).toMatch(/Element '\{urn:davis-gateway:wire:1\}\w+'/);
    }
  });

  it('gives the original line numbers of a pretty-printed document', () => {
    const ex = invalid.find((e) => e.file === 'invalid-stay-longer-than-90-days.json')!;
    const pretty = wire(ex).replace(/></g, '>\n<');
    const line = pretty.split('\n').findIndex((l) => l.startsWith('<w:intendedDurationDays>')) + 1;
    expect(validator.validate(pretty).map((e) => e.pointer)).toEqual([`/w:Request/w:Body/w:ApplicationCreate/w:intendedDurationDays (line ${line})`]);
  });

  it('refuses a DOCTYPE document with DAVIS_ERR_XML_DOCTYPE before libxml2 sees it', () => {
    // Spy on the module object itself (the namespace import here is a read-only wrapper); the
    // validator's own import reads through to it.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const spy = jest.spyOn(require('libxmljs2') as { parseXml: typeof libxml.parseXml }, 'parseXml');
    try {
      const bomb = '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]><w:Request xmlns:w="urn:davis-gateway:wire:1">&b;</w:Request>';
      expect(codeOf(() => validator.validate(bomb))).toBe('DAVIS_ERR_XML_DOCTYPE');
      expect(codeOf(() => validator.validate('<!doctype x SYSTEM "file:///etc/passwd"><x/>'))).toBe('DAVIS_ERR_XML_DOCTYPE');
      expect(spy).not.toHaveBeenCalled();
      // the spy does see calls: a harmless document reaches libxml2
      validator.validate(RESPONSES[0]);
      expect(spy).toHaveBeenCalled();
    } finally {
      spy.mockRestore();
    }
  });

  it('refuses a document that is not well-formed with DAVIS_ERR_XML_MALFORMED', () => {
    expect(codeOf(() => validator.validate(`<w:Request xmlns:w="${WIRE_NS}"><a></b></w:Request>`))).toBe('DAVIS_ERR_XML_MALFORMED');
  });

  it('fails at creation, not at the first message, when the XSD does not compile', () => {
    expect(() => createXsdValidator({ xsd: '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"><xs:element name="a" type="nope"/></xs:schema>' })).toThrow(/does not compile/);
  });

  it('accepts only w:Request or w:Response as the document element', () => {
    const bodyOnly = `<w:ApplicationCreate xmlns:w="${WIRE_NS}"></w:ApplicationCreate>`;
    expect(validator.validate(bodyOnly).map((e) => e.pointer)).toEqual(['/ (line 1)']);
  });
});

describe('toXsdPattern', () => {
  it.each([
    ['^[A-Z]{3}$', '[A-Z]{3}'],
    ['^(?:[A-Za-z0-9+/]{4})*$', '([A-Za-z0-9+/]{4})*'],
    ['^[^\\p{Cc}\\p{Cs}\\uFFFE\\uFFFF]+$', '[^\\p{Cc}]+'],
    ['^a\\/b\\.c\\-$', 'a/b\\.c\\-'],
    ['^\\u00E4+$', 'ä+'],
  ])('translates %s to %s', (js, xsd) => {
    expect(toXsdPattern(js)).toBe(xsd);
  });

  it.each(['^\\d+$', '^\\w$', '^a.b$', '^(?=a)a$', '^a+?$', '^[a[b]]$', '[A-Z]', '^a\\u0000$', '^\\p{Cs}$', '^\\p{Script=Latin}$'])('refuses %s', (js) => {
    expect(() => toXsdPattern(js)).toThrow();
  });

  it('gives patterns libxml2 compiles and that match the same strings as ECMAScript on samples', () => {
    const cases: [string, string[]][] = [
      ['^[A-Z0-9][A-Z0-9-]{0,39}$', ['FI-1', '-FI', 'fi', 'A'.repeat(40), 'A'.repeat(41)]],
      ['^[^\\p{Cc}\\p{Cs}\\uFFFE\\uFFFF]+$', ['Matti', 'a\tb', 'é𝔗', '\u0085', '\u00A0']],
      ['^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/][AQgw]==|[A-Za-z0-9+/]{2}[AEIMQUYcgkosw048]=)?$', ['QUJD', 'QQ==', 'QR==', 'QUI=', 'QUJ']],
    ];
    for (const [js, samples] of cases) {
      const re = new RegExp(js, 'u');
      const xsd = `<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"><xs:element name="v"><xs:simpleType><xs:restriction base="xs:string"><xs:pattern value="${toXsdPattern(js)}"/></xs:restriction></xs:simpleType></xs:element></xs:schema>`;
      const schema = libxml.parseXml(xsd);
      for (const s of samples) {
        const d = libxml.parseXml(`<v>${s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/\t/g, '&#x9;').replace(/\u0085/g, '&#x85;')}</v>`);
        expect([s, d.validate(schema)]).toEqual([s, re.test(s)]);
      }
    }
  });
});
