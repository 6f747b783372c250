/**
 * The XSD shortcut (`src/wire/xsd-shortcut.ts`) against libxml2, case by case: every
 * document it is sure of must be valid for libxmljs2 (the runtime validator) and for the
 * system xmllint (an independent libxml2 build), and it must be sure of every valid example
 * (requests, notifications, answers, signed or not), so that the messages testers send
 * never reach libxml2. The documents: every valid and invalid example, the conformance
 * payloads, central's answers, and seeded mutations of them (values swapped for lexical
 * corner cases, elements removed, repeated, swapped, renamed, attributes, comments, CDATA,
 * processing instructions and foreign elements added, signatures of other shapes).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { isInbound, listTypes } from '../../src/catalogue/catalogue';
import { packageRoot } from '../../src/catalogue/schema-file';
import type { MessageTypeSpec } from '../../src/catalogue/types';
import { isDavisError } from '../../src/errors/errors';
import { signCanonical } from '../../src/signing/xmldsig';
import { buildRequestXml, buildResponseXml, WIRE_NS } from '../../src/wire/envelope';
import { payloadToXml } from '../../src/wire/payload-codec';
import { compileShape } from '../../src/wire/shape';
import { createXsdValidator, type XsdValidator } from '../../src/wire/xsd';
import { generateXsd, xsdPath } from '../../src/wire/xsd-generate';
import { createXsdShortcut, withXsdShortcut } from '../../src/wire/xsd-shortcut';
import { WIRE_XML_LIMITS } from '../../src/wire/limits';
import type { XmlDocument } from '../../src/xml/parser';
import { screenAndParse } from '../../src/xml/screen';
import { cleanup, devFixture, type Fixture } from '../signing/helpers';
import { loadAnswerExamples, loadExamples } from '../validation/examples';
import { arbitraryFor } from './arbitraries';
import { mutations, parsed } from './wire-mutations';
import { xmllintValidate } from './xmllint';

const TYPES = listTypes({ direction: 'all' });
const HEADER = { messageId: '3f1c2a9e-5b7d-4c1e-9a2b-0d4e6f8a1b2c', sender: 'FI', created: '2025-09-01T10:00:00.000Z' };

const request = (type: string, payload: unknown): string =>
  buildRequestXml({ ...HEADER, type, sender: isInbound(type) ? 'EU' : HEADER.sender }, payload, { lenient: true });
const validRequests = TYPES.flatMap((t) => loadExamples(t.id).valid.map((ex) => request(ex.type, ex.payload)));
const invalidRequests = TYPES.flatMap((t) => loadExamples(t.id).invalid.map((ex) => request(ex.type, ex.payload)));
/** The conformance suites' payload file, its `${unique:app}` template resolved as the runner does (a fresh application number). */
const conformancePayload = JSON.parse(readFileSync(join(packageRoot(), 'conformance', 'suites', 'payloads', 'application.json'), 'utf8').replace('${unique:app}', 'FI-HEL-2025-000777')) as unknown;
const responses = [
  buildResponseXml({ responseId: 'r-1', inReplyTo: HEADER.messageId, result: 'ACCEPTED', code: 'OK', centralReference: 'VIS-0001', created: '2025-09-01T10:00:01Z' }),
  buildResponseXml({ responseId: 'r-2', inReplyTo: HEADER.messageId, result: 'REJECTED', code: 'VIS_ERR_X', reason: 'no & <never>', created: '2025-09-01T10:00:01.5Z' }),
  ...TYPES.flatMap((t) => loadAnswerExamples(t.id)).map((ex, i) =>
    buildResponseXml({ responseId: `r-x${i}`, inReplyTo: HEADER.messageId, result: 'ACCEPTED', code: 'OK', created: '2025-09-01T10:00:01Z', data: ex.data })),
];

/** libxmljs2's verdict: 'valid', 'invalid' or 'malformed' (libxml2 would not parse it). */
function libxmlVerdict(v: XsdValidator, doc: XmlDocument): 'valid' | 'invalid' | 'malformed' {
  try {
    return v.validateDocument(doc).length === 0 ? 'valid' : 'invalid';
  } catch (err) {
    if (isDavisError(err) && err.code === 'DAVIS_ERR_XML_MALFORMED') return 'malformed';
    throw err;
  }
}

describe('XSD shortcut', () => {
  const libxml = createXsdValidator();
  const sure = createXsdShortcut();
  let fixture: Fixture;
  let signed: string[];

  beforeAll(async () => {
    fixture = await devFixture('xsd-shortcut');
    signed = [...validRequests.slice(0, 12), ...responses.slice(0, 4)].map((d) => signCanonical(d, fixture.key));
  });
  afterAll(() => cleanup(fixture.dir));

  /**
   * Runs every document through the shortcut, libxmljs2 and (for the shortcut's "sure")
   * xmllint; fails on any document the shortcut is sure of that either libxml2 refuses.
   */
  function compare(docs: readonly string[]): { sure: number; libxmlValid: number; parsedDocs: number } {
    let sureCount = 0;
    let libxmlValid = 0;
    let parsedDocs = 0;
    const unsound: string[] = [];
    const sureDocs: string[] = [];
    for (const xml of docs) {
      const tree = parsed(xml);
      if (!tree) continue;
      parsedDocs++;
      const verdict = libxmlVerdict(libxml, tree);
      if (verdict === 'valid') libxmlValid++;
      if (sure(tree)) {
        sureCount++;
        sureDocs.push(xml);
        if (verdict !== 'valid') unsound.push(xml);
      }
    }
    expect(unsound).toEqual([]);
    if (sureDocs.length > 0) expect(xmllintValidate(xsdPath(), sureDocs).valid).toEqual(sureDocs.map(() => true));
    return { sure: sureCount, libxmlValid, parsedDocs };
  }

  it('is sure of every valid example, request, notification and answer, signed or not, and of the conformance payload', () => {
    const docs = [...validRequests, request('vis.application.create', conformancePayload), ...responses, ...signed];
    expect(docs.map((d) => [d.slice(0, 80), sure(screenAndParse(d, WIRE_XML_LIMITS))])).toEqual(docs.map((d) => [d.slice(0, 80), true]));
    expect(compare(docs).sure).toBe(docs.length);
  });

  it('is sure of exactly the invalid examples the XSD accepts (the rules XSD 1.0 cannot express)', () => {
    const r = compare(invalidRequests);
    expect(r.parsedDocs).toBe(invalidRequests.length);
    // Those the XSD accepts (rules XSD 1.0 cannot express) are sure, none it refuses is.
    expect(r.sure).toBe(r.libxmlValid);
    expect(r.parsedDocs - r.libxmlValid).toBeGreaterThan(20);
  });

  it('is sound on seeded mutations of requests, answers and signed documents (libxml2 and xmllint agree with every "sure")', () => {
    const base = [...validRequests, ...responses, ...signed];
    const docs = mutations(base, 3000, 13);
    const r = compare(docs);
    // The mutations hit both sides: many stay valid, many do not, and the shortcut is sure of
    // hundreds (it leaves comments, PIs, declarations, white space around values, xsi and
    // foreign attributes, and foreign elements in the signature to libxml2 by design).
    expect(r.libxmlValid).toBeGreaterThan(600);
    expect(r.parsedDocs - r.libxmlValid).toBeGreaterThan(1000);
    expect(r.sure).toBeGreaterThan(250);
  });

  it('agrees exactly with libxml2 on documents as the builders write them, from schema-generated payloads of every type', () => {
    const docs: string[] = [];
    for (const t of TYPES) {
      for (const p of fc.sample(arbitraryFor(compileShape(t.schema)), { numRuns: 25, seed: 5 })) docs.push(request(t.id, p));
      if (t.answer) {
        for (const data of fc.sample(arbitraryFor(compileShape(t.answer.schema)), { numRuns: 10, seed: 6 })) {
          docs.push(buildResponseXml({ responseId: 'r-g', inReplyTo: HEADER.messageId, result: 'ACCEPTED', code: 'OK', created: '2025-09-01T10:00:01Z', data: { ...(data as object), answerTo: t.id } }));
        }
      }
    }
    const r = compare(docs);
    // Documents as the builders write them (canonical): the shortcut is sure of exactly those libxml2 accepts.
    expect([r.parsedDocs, r.sure]).toEqual([docs.length, r.libxmlValid]);
    expect(r.sure).toBeGreaterThan(docs.length / 2);
  });

  it('follows a catalogue of other types: every wire-profile construct, against the XSD generated for it', () => {
    const spec: MessageTypeSpec = {
      id: 'test.kitchen.sink', title: 'test', article: 'none', xmlName: 'KitchenSink', orderingKey: '/text', direction: 'outbound', roles: [],
      schema: {
        type: 'object',
        additionalProperties: false,
        properties: {
          text: { type: 'string', 'x-icao-transliteration': true },
          n: { type: 'number', minimum: -1e300, exclusiveMaximum: 1e300 },
          i: { type: 'integer', minimum: -5, exclusiveMaximum: 5 },
          flag: { type: 'boolean' },
          when: { type: 'string', format: 'date' },
          blob: { type: 'string', contentEncoding: 'base64', minLength: 4, maxLength: 16 },
          two: { type: 'array', minItems: 2, maxItems: 3, uniqueItems: true, items: { type: 'string', enum: ['a', 'b', 'c', 'd'] } },
          nums: { type: 'array', minItems: 1, uniqueItems: true, items: { type: 'integer', minimum: -100, maximum: 100 } },
          flags: { type: 'array', minItems: 1, maxItems: 2, uniqueItems: true, items: { type: 'boolean' } },
          pick: { type: 'object', additionalProperties: false, minProperties: 1, maxProperties: 1, properties: { x: { type: 'boolean' }, y: { $ref: '#/$defs/Code' } } },
        },
        required: ['text', 'i'],
        $defs: { Code: { type: 'string', pattern: '^[A-Z]{2}(?:-[0-9]{1,3})?\\/[^\\p{Cc}\\uFFFE]$' } },
      },
    };
    const own = createXsdValidator({ xsd: generateXsd([spec]) });
    const ownSure = createXsdShortcut([spec]);
    const shape = compileShape(spec.schema);
    const doc = (body: string): string =>
      `<w:Request xmlns:w="${WIRE_NS}" Id="m-1"><w:Header><w:MessageId>1</w:MessageId><w:MessageType>${spec.id}</w:MessageType>` +
      `<w:Sender>FI</w:Sender><w:Created>${HEADER.created}</w:Created></w:Header><w:Body><w:KitchenSink>${body}</w:KitchenSink></w:Body></w:Request>`;
    const base = fc.sample(arbitraryFor(shape), { numRuns: 60, seed: 3 }).map((p) => doc(payloadToXml(shape, p, { prefix: 'w', lenient: true })));
    // Hand-made values for what the catalogue lacks: numbers, booleans and integers under xs:unique, base64 at its bounds.
    const plain = '<w:text>a</w:text><w:i>0</w:i>';
    const edits = [
      '<w:text>a</w:text><w:i>01</w:i>', '<w:text>a</w:text><w:n>1e300</w:n><w:i>0</w:i>', '<w:text>a</w:text><w:n>-0</w:n><w:i>0</w:i>',
      '<w:text>a</w:text><w:n>12.5</w:n><w:i>0</w:i>', '<w:text>a</w:text><w:n>-1e299</w:n><w:i>4</w:i>',
      `${plain}<w:nums>-0</w:nums><w:nums>0</w:nums>`, `${plain}<w:nums>-7</w:nums><w:nums>7</w:nums><w:nums>100</w:nums>`,
      `${plain}<w:flags>1</w:flags><w:flags>true</w:flags>`, `${plain}<w:flags>true</w:flags><w:flags>0</w:flags>`,
      `${plain}<w:blob>AAAAAAAAAAAAAAAA</w:blob>`, `${plain}<w:blob>AAAAAAAAAAAAAAAAAAAA</w:blob>`, `${plain}<w:blob>AA==</w:blob>`,
      '<w:text>Ä</w:text><w:textTransliterated>AE</w:textTransliterated><w:i>0</w:i>', '<w:textTransliterated>AE</w:textTransliterated><w:i>0</w:i>',
      `${plain}<w:pick><w:y>AB-12/x</w:y></w:pick>`, `${plain}<w:pick><w:x>true</w:x><w:y>AB/x</w:y></w:pick>`, `${plain}<w:pick></w:pick>`,
    ].map(doc);
    const verdicts = (xml: string): [boolean, boolean] => {
      const tree = screenAndParse(xml, WIRE_XML_LIMITS);
      return [ownSure(tree), libxmlVerdict(own, tree) === 'valid'];
    };
    expect(edits.map(verdicts)).toEqual([
      [false, true], [false, false], [true, true], [true, true], [true, true], [false, false], [true, true], [false, false], [true, true],
      [true, true], [false, false], [true, true], [true, true], [false, false], [true, true], [false, false], [false, false],
    ]);
    const docs = [...base, ...edits, ...mutations([...base, ...edits], 800, 21)];
    const sureDocs: string[] = [];
    const unsound: string[] = [];
    for (const xml of docs) {
      const tree = parsed(xml);
      if (!tree || !ownSure(tree)) continue;
      sureDocs.push(xml);
      if (libxmlVerdict(own, tree) !== 'valid') unsound.push(xml);
    }
    expect(unsound).toEqual([]);
    expect(sureDocs.length).toBeGreaterThan(base.length);
    const dir = mkdtempSync(join(tmpdir(), 'davis-xsd-shortcut-'));
    try {
      writeFileSync(join(dir, 'sink.xsd'), generateXsd([spec]));
      expect(xmllintValidate(join(dir, 'sink.xsd'), sureDocs).valid).toEqual(sureDocs.map(() => true));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('puts libxml2 behind it: a document it is not sure of gets libxml2\'s own errors', () => {
    const v = withXsdShortcut(libxml);
    const ok = screenAndParse(validRequests[0], WIRE_XML_LIMITS);
    expect(v.validateDocument(ok)).toEqual([]);
    const bad = screenAndParse(validRequests[0].replace(/<w:Sender>FI</, '<w:Sender>fi<'), WIRE_XML_LIMITS);
    expect(v.validateDocument(bad)).toEqual(libxml.validateDocument(bad));
    expect(v.validateDocument(bad).length).toBeGreaterThan(0);
  });
});
