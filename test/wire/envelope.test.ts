import fc from 'fast-check';
import { isDavisError } from '../../src/errors/errors';
import { getType } from '../../src/catalogue/catalogue';
import { validatePayload } from '../../src/validation/validate';
import { compileShape } from '../../src/wire/shape';
import {
  buildRequestXml,
  buildResponseXml,
  DSIG_NS,
  parseRequestXml,
  parseResponseXml,
  WIRE_NS,
  WIRE_SCREEN_LIMITS,
} from '../../src/wire/envelope';
import type { CentralAnswer } from '../../src/wire/types';
import { loadExamples } from '../validation/examples';
import { arbitraryFor } from './arbitraries';
import { xmllintExcC14n } from './xmllint';

const TYPE = 'vis.application.create';
const HEADER = { messageId: '3f1c2a9e-5b7d-4c1e-9a2b-0d4e6f8a1b2c', type: TYPE, sender: 'FI', created: '2025-09-01T10:00:00.000Z' };
const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;
const examples = loadExamples(TYPE);
const adult = (): Record<string, any> => clone(examples.valid.find((e) => e.file.includes('adult'))!.payload) as Record<string, any>;
const SIGNATURE = `<ds:Signature xmlns:ds="${DSIG_NS}"><ds:SignedInfo></ds:SignedInfo><ds:SignatureValue>AAAA</ds:SignatureValue></ds:Signature>`;

function errorOf(fn: () => unknown): { code?: string; pointer?: string } {
  try {
    fn();
  } catch (e) {
    return isDavisError(e) ? { code: e.code, pointer: e.errors?.[0]?.pointer } : { code: `not a DavisError: ${String(e)}` };
  }
  return {};
}
const codeOf = (fn: () => unknown): string | undefined => errorOf(fn).code;

const ANSWER: CentralAnswer = {
  responseId: '9b2f0c4e-1a3d-4e5f-8a7b-6c5d4e3f2a1b',
  inReplyTo: HEADER.messageId,
  result: 'REJECTED',
  code: 'VIS_ERR_DUPLICATE_APPLICATION',
  reason: 'duplicate of <FI-HEL-2025-000123> & "another"\r\n\tsecond line',
  created: '2025-09-01T10:00:01.234Z',
};

describe('request documents', () => {
  it('wraps the mapped payload in the w:Request envelope with header and Id', () => {
    const xml = buildRequestXml(HEADER, adult());
    expect(xml.startsWith(
      `<w:Request xmlns:w="${WIRE_NS}" Id="m-${HEADER.messageId}"><w:Header><w:MessageId>${HEADER.messageId}</w:MessageId>` +
        `<w:MessageType>${TYPE}</w:MessageType><w:Sender>FI</w:Sender><w:Created>${HEADER.created}</w:Created></w:Header>` +
        '<w:Body><w:ApplicationCreate><w:applicationNumber>FI-HEL-2025-000123</w:applicationNumber><w:status>VISA_REQUESTED</w:status>',
    )).toBe(true);
    expect(xml.endsWith('</w:ApplicationCreate></w:Body></w:Request>')).toBe(true);
  });

  it('is already in canonical form: no declaration, no whitespace between elements, one xmlns, no empty-element tags', () => {
    for (const ex of examples.valid) {
      const xml = buildRequestXml(HEADER, ex.payload);
      expect(xml.startsWith('<w:Request ')).toBe(true);
      expect(xml).not.toMatch(/>\s+</);
      expect(xml.match(/xmlns/g)).toHaveLength(1);
      expect(xml).not.toMatch(/\/>/);
    }
  });

  it('is byte-identical to what xmllint --exc-c14n produces, for every valid example', () => {
    for (const ex of examples.valid) {
      const xml = buildRequestXml(HEADER, ex.payload);
      expect(xmllintExcC14n(xml).equals(Buffer.from(xml, 'utf8'))).toBe(true);
    }
  });

  it('is byte-identical to the exclusive canonical form for generated payloads with markup characters (property)', () => {
    const arb = arbitraryFor(compileShape(getType(TYPE)!.schema)).filter((p) => validatePayload(TYPE, p).length === 0);
    fc.assert(
      fc.property(arb, (payload) => {
        const xml = buildRequestXml(HEADER, payload);
        expect(xmllintExcC14n(xml).toString('utf8')).toBe(xml);
      }),
      { numRuns: 15, seed: 42 },
    );
  });

  it('reads back its own header and payload', () => {
    const p = adult();
    expect(parseRequestXml(buildRequestXml(HEADER, p))).toStrictEqual({ header: HEADER, payload: p });
  });

  it('ignores a ds:Signature as the last child of the root', () => {
    const xml = buildRequestXml(HEADER, adult()).replace('</w:Request>', `${SIGNATURE}</w:Request>`);
    expect(parseRequestXml(xml).payload).toStrictEqual(adult());
  });

  it('refuses a signature that is not last, a second signature, or other extra children', () => {
    const xml = buildRequestXml(HEADER, adult());
    const early = xml.replace('<w:Body>', `${SIGNATURE}<w:Body>`);
    const twice = xml.replace('</w:Request>', `${SIGNATURE}${SIGNATURE}</w:Request>`);
    const extra = xml.replace('</w:Request>', '<w:Extra></w:Extra></w:Request>');
    for (const doc of [early, twice, extra]) expect(codeOf(() => parseRequestXml(doc))).toBe('DAVIS_ERR_WIRE_MAPPING');
  });

  it('reads a pretty-printed request with a default namespace and an XML declaration', () => {
    const compact = buildRequestXml(HEADER, adult());
    const pretty =
      '<?xml version="1.0" encoding="UTF-8"?>\r\n<!-- from another implementation -->\r\n' +
      compact.replace(/<(\/?)w:/g, '<$1').replace('xmlns:w=', 'xmlns=').replace(/></g, '>\r\n  <');
    expect(parseRequestXml(pretty)).toStrictEqual({ header: HEADER, payload: adult() });
  });

  it('checks the envelope: root, Id = m-<MessageId>, body element of the header type', () => {
    const xml = buildRequestXml(HEADER, adult());
    expect(errorOf(() => parseRequestXml(xml.replace(`Id="m-${HEADER.messageId}"`, 'Id="m-other"')))).toEqual({ code: 'DAVIS_ERR_WIRE_MAPPING', pointer: '/w:Request/@Id' });
    expect(errorOf(() => parseRequestXml(xml.replace(/w:ApplicationCreate>/g, 'w:ApplicationUpdate>')))).toEqual({
      code: 'DAVIS_ERR_WIRE_MAPPING',
      pointer: '/w:Request/w:Body/w:ApplicationUpdate',
    });
    expect(codeOf(() => parseRequestXml(xml.replace(/w:Request/g, 'w:Other')))).toBe('DAVIS_ERR_WIRE_MAPPING');
    expect(codeOf(() => parseRequestXml(xml.replace(WIRE_NS, 'urn:other')))).toBe('DAVIS_ERR_WIRE_MAPPING');
    expect(codeOf(() => parseRequestXml(xml.replace('</w:Body>', '<w:ApplicationCreate></w:ApplicationCreate></w:Body>')))).toBe('DAVIS_ERR_WIRE_MAPPING');
    expect(errorOf(() => parseRequestXml(xml.replace('<w:Sender>FI</w:Sender>', '')))).toEqual({ code: 'DAVIS_ERR_WIRE_MAPPING', pointer: '/w:Request/w:Header/w:Created' });
  });

  it('refuses an unknown MessageType with DAVIS_ERR_CATALOGUE_UNKNOWN_TYPE', () => {
    const xml = buildRequestXml(HEADER, adult()).replace(`>${TYPE}<`, '>vis.no.such.type<');
    expect(codeOf(() => parseRequestXml(xml))).toBe('DAVIS_ERR_CATALOGUE_UNKNOWN_TYPE');
    expect(codeOf(() => buildRequestXml({ ...HEADER, type: 'vis.no.such.type' }, {}))).toBe('DAVIS_ERR_CATALOGUE_UNKNOWN_TYPE');
  });

  it('carries a central notification (inbound type) in the same document, from Sender EU, and reads it back', () => {
    const payload = loadExamples('vis.notification.hit').valid[0].payload;
    const header = { ...HEADER, type: 'vis.notification.hit', sender: 'EU' };
    const xml = buildRequestXml(header, payload);
    expect(xml).toContain('<w:MessageType>vis.notification.hit</w:MessageType><w:Sender>EU</w:Sender>');
    expect(xml).toContain('<w:Body><w:HitNotification><w:applicationNumber>');
    expect(xmllintExcC14n(xml).toString('utf8')).toBe(xml);
    expect(parseRequestXml(xml)).toStrictEqual({ header, payload });
    expect(parseRequestXml(xml.replace('</w:Request>', `${SIGNATURE}</w:Request>`)).payload).toStrictEqual(payload);
  });

  it('refuses a notification from a Member State, and an outbound message from EU, when building and when reading', () => {
    const payload = loadExamples('vis.notification.hit').valid[0].payload;
    expect(errorOf(() => buildRequestXml({ ...HEADER, type: 'vis.notification.hit' }, payload))).toEqual({ code: 'DAVIS_ERR_WIRE_MAPPING', pointer: '/header/sender' });
    expect(errorOf(() => buildRequestXml({ ...HEADER, sender: 'EU' }, adult()))).toEqual({ code: 'DAVIS_ERR_WIRE_MAPPING', pointer: '/header/sender' });
    const notification = buildRequestXml({ ...HEADER, type: 'vis.notification.hit', sender: 'EU' }, payload);
    expect(errorOf(() => parseRequestXml(notification.replace('<w:Sender>EU<', '<w:Sender>FI<')))).toEqual({ code: 'DAVIS_ERR_WIRE_MAPPING', pointer: '/w:Request/w:Header/w:Sender' });
    expect(errorOf(() => parseRequestXml(buildRequestXml(HEADER, adult()).replace('<w:Sender>FI<', '<w:Sender>EU<')))).toEqual({ code: 'DAVIS_ERR_WIRE_MAPPING', pointer: '/w:Request/w:Header/w:Sender' });
  });

  it('refuses header values outside the wire profile with DAVIS_ERR_WIRE_MAPPING', () => {
    expect(errorOf(() => buildRequestXml({ ...HEADER, messageId: 'a b' }, adult()))).toEqual({ code: 'DAVIS_ERR_WIRE_MAPPING', pointer: '/header/messageId' });
    expect(errorOf(() => buildRequestXml({ ...HEADER, sender: 'FIN' }, adult()))).toEqual({ code: 'DAVIS_ERR_WIRE_MAPPING', pointer: '/header/sender' });
    expect(errorOf(() => buildRequestXml({ ...HEADER, created: '2025-09-01 10:00' }, adult()))).toEqual({ code: 'DAVIS_ERR_WIRE_MAPPING', pointer: '/header/created' });
  });

  it('refuses a DOCTYPE document with DAVIS_ERR_XML_DOCTYPE', () => {
    const bomb = '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><w:Request xmlns:w="urn:davis-gateway:wire:1">&lol2;</w:Request>';
    expect(codeOf(() => parseRequestXml(bomb))).toBe('DAVIS_ERR_XML_DOCTYPE');
    expect(codeOf(() => parseResponseXml(bomb))).toBe('DAVIS_ERR_XML_DOCTYPE');
  });

  it('carries a message with every biometric at its size cap within the wire screening limits', () => {
    const p = adult();
    p.facialImage = { embedded: { mediaType: 'image/jpeg', data: Buffer.alloc(786432, 1).toString('base64') } };
    p.fingerprints = { embedded: { format: 'ANSI/NIST-ITL', data: Buffer.alloc(3 * 1024 * 1024, 2).toString('base64') } };
    p.travelDocumentScan = { embedded: { mediaType: 'image/png', data: Buffer.alloc(786432, 3).toString('base64') } };
    expect(validatePayload(TYPE, p)).toEqual([]);
    const xml = buildRequestXml(HEADER, p);
    expect(Buffer.byteLength(xml)).toBeLessThan(WIRE_SCREEN_LIMITS.maxBytes);
    expect(parseRequestXml(xml).payload).toStrictEqual(p);
    expect(codeOf(() => parseRequestXml(xml + ' '.repeat(WIRE_SCREEN_LIMITS.maxBytes)))).toBe('DAVIS_ERR_XML_TOO_LARGE');
  });
});

describe('response documents', () => {
  it('builds the w:Response envelope in canonical form, byte-identical to xmllint --exc-c14n', () => {
    const xml = buildResponseXml(ANSWER);
    expect(xml).toBe(
      `<w:Response xmlns:w="${WIRE_NS}" Id="r-${ANSWER.responseId}"><w:Header><w:MessageId>${ANSWER.responseId}</w:MessageId>` +
        `<w:InReplyTo>${ANSWER.inReplyTo}</w:InReplyTo><w:Created>${ANSWER.created}</w:Created></w:Header>` +
        '<w:Result><w:Outcome>REJECTED</w:Outcome><w:Code>VIS_ERR_DUPLICATE_APPLICATION</w:Code>' +
        '<w:Reason>duplicate of &lt;FI-HEL-2025-000123&gt; &amp; "another"&#xD;\n\tsecond line</w:Reason></w:Result></w:Response>',
    );
    expect(xmllintExcC14n(xml).toString('utf8')).toBe(xml);
  });

  it('reads back an answer, optional fields absent or present, signature ignored', () => {
    expect(parseResponseXml(buildResponseXml(ANSWER))).toStrictEqual(ANSWER);
    const accepted: CentralAnswer = { responseId: 'r1', inReplyTo: 'm1', result: 'ACCEPTED', code: 'OK', centralReference: 'VIS-FI-0001', created: '2025-09-01T10:00:00Z' };
    expect(parseResponseXml(buildResponseXml(accepted).replace('</w:Response>', `${SIGNATURE}</w:Response>`))).toStrictEqual(accepted);
  });

  it('refuses a bad outcome and a mismatched Id', () => {
    expect(codeOf(() => buildResponseXml({ ...ANSWER, result: 'MAYBE' as 'ACCEPTED' }))).toBe('DAVIS_ERR_WIRE_MAPPING');
    const xml = buildResponseXml(ANSWER);
    expect(codeOf(() => parseResponseXml(xml.replace('>REJECTED<', '>MAYBE<')))).toBe('DAVIS_ERR_WIRE_MAPPING');
    expect(codeOf(() => parseResponseXml(xml.replace(`Id="r-`, 'Id="r-x')))).toBe('DAVIS_ERR_WIRE_MAPPING');
  });
});

describe('answer data (w:Data)', () => {
  const DATA = {
    answerTo: 'vis.application.search',
    hitCount: 1,
    files: [
      {
        applicationNumber: 'FI-HEL-2025-000123', centralReference: 'VIS-FI-2025-00000001', memberState: 'FI', status: 'VISA_ISSUED', applicationDate: '2025-09-01',
        surname: 'Щербаков & Co', firstNames: 'Юлия', dateOfBirth: '1985-03-14', currentNationality: 'RUS', travelDocumentNumber: 'L898902C3',
        travelDocumentIssuingCountry: 'RUS', visaStickerNumbers: ['FIN001234567'],
      },
    ],
  };
  const WITH_DATA: CentralAnswer = { responseId: 'r1', inReplyTo: 'm1', result: 'ACCEPTED', code: 'OK', created: '2025-09-01T10:00:00Z', data: DATA };

  it('travels after w:Result as the answer element of its type, names transliterated, in canonical form', () => {
    const xml = buildResponseXml(WITH_DATA);
    expect(xml).toContain('</w:Result><w:Data><w:ApplicationSearchAnswer><w:answerTo>vis.application.search</w:answerTo><w:hitCount>1</w:hitCount><w:files>');
    expect(xml).toContain('<w:surname>Щербаков &amp; Co</w:surname><w:surnameTransliterated>SHCHERBAKOV CO</w:surnameTransliterated>');
    expect(xml.endsWith('</w:ApplicationSearchAnswer></w:Data></w:Response>')).toBe(true);
    expect(xmllintExcC14n(xml).toString('utf8')).toBe(xml);
  });

  it('reads back exactly, the transliteration dropped, a signature ignored', () => {
    const xml = buildResponseXml(WITH_DATA);
    expect(parseResponseXml(xml)).toStrictEqual(WITH_DATA);
    expect(parseResponseXml(xml.replace('</w:Response>', `${SIGNATURE}</w:Response>`))).toStrictEqual(WITH_DATA);
  });

  it('refuses data that names no answer type, or that does not map, pointing into /data', () => {
    expect(errorOf(() => buildResponseXml({ ...WITH_DATA, data: { x: 1 } }))).toEqual({ code: 'DAVIS_ERR_WIRE_MAPPING', pointer: '/data/answerTo' });
    expect(errorOf(() => buildResponseXml({ ...WITH_DATA, data: { answerTo: 'vis.application.create' } }))).toEqual({ code: 'DAVIS_ERR_WIRE_MAPPING', pointer: '/data/answerTo' });
    expect(errorOf(() => buildResponseXml({ ...WITH_DATA, data: { ...DATA, files: [] } }))).toEqual({ code: 'DAVIS_ERR_WIRE_MAPPING', pointer: '/data/files' });
    expect(errorOf(() => buildResponseXml({ ...WITH_DATA, data: { ...DATA, extra: true } }))).toEqual({ code: 'DAVIS_ERR_WIRE_MAPPING', pointer: '/data/extra' });
  });

  it('refuses a w:Data that is empty, holds two elements or an element that is no answer', () => {
    const xml = buildResponseXml(ANSWER);
    const withData = (inner: string): string => xml.replace('</w:Result>', `</w:Result><w:Data>${inner}</w:Data>`);
    expect(errorOf(() => parseResponseXml(withData('')))).toEqual({ code: 'DAVIS_ERR_WIRE_MAPPING', pointer: '/w:Response/w:Data' });
    expect(errorOf(() => parseResponseXml(withData('<w:ApplicationCreate></w:ApplicationCreate>')))).toEqual({ code: 'DAVIS_ERR_WIRE_MAPPING', pointer: '/w:Response/w:Data/w:ApplicationCreate' });
    const two = buildResponseXml(WITH_DATA).replace('</w:Data>', '<w:EspSearchAnswer></w:EspSearchAnswer></w:Data>');
    expect(errorOf(() => parseResponseXml(two))).toEqual({ code: 'DAVIS_ERR_WIRE_MAPPING', pointer: '/w:Response/w:Data' });
    const misplaced = buildResponseXml(WITH_DATA).replace(/<w:Data>.*<\/w:Data>/, '').replace('<w:Result>', `${/<w:Data>.*<\/w:Data>/.exec(buildResponseXml(WITH_DATA))![0]}<w:Result>`);
    expect(codeOf(() => parseResponseXml(misplaced))).toBe('DAVIS_ERR_WIRE_MAPPING');
  });
});
