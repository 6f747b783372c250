import fc from 'fast-check';
import { isDavisError } from '../../src/errors/errors';
import { getType, listTypes } from '../../src/catalogue/catalogue';
import { validatePayload } from '../../src/validation/validate';
import { compileShape } from '../../src/wire/shape';
import { payloadToXml, xmlToPayload } from '../../src/wire/payload-codec';
import { buildRequestXml, buildResponseXml, parseRequestXml, parseResponseXml, WIRE_NS } from '../../src/wire/envelope';
import { parseXml } from '../../src/xml/parser';

const parseXmlDocument = (xml: string) => parseXml(xml).root;
import { validateAnswer } from '../../src/validation/validate';
import { createXsdValidator } from '../../src/wire/xsd';
import { loadAnswerExamples, loadExamples } from '../validation/examples';
import { arbitraryFor } from './arbitraries';

const TYPE = 'vis.application.create';
const HEADER = { messageId: '3f1c2a9e-5b7d-4c1e-9a2b-0d4e6f8a1b2c', type: TYPE, sender: 'FI', created: '2025-09-01T10:00:00.000Z' };
/** Every type, outbound and inbound: central's notifications travel in the same request document. */
const ALL = listTypes({ direction: 'all' });
/** The header of a message of type `id`: central (EU) sends the inbound notifications, a Member State the rest. */
const headerFor = (id: string) => ({ ...HEADER, type: id, sender: getType(id)!.direction === 'inbound' ? 'EU' : 'FI' });
const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;
const adult = (): Record<string, any> => clone(loadExamples(TYPE).valid.find((e) => e.file.includes('adult'))!.payload) as Record<string, any>;

function errorOf(fn: () => unknown): { code?: string; pointer?: string } {
  try {
    fn();
  } catch (e) {
    return isDavisError(e) ? { code: e.code, pointer: e.errors?.[0]?.pointer } : { code: 'not a DavisError' };
  }
  return {};
}

/** Wraps a fragment from payloadToXml in an element so it can be parsed back. */
function roundTrip(schema: Record<string, unknown>, payload: unknown): unknown {
  const shape = compileShape(schema);
  const xml = `<w:T xmlns:w="${WIRE_NS}">${payloadToXml(shape, payload)}</w:T>`;
  return xmlToPayload(shape, parseXmlDocument(xml), WIRE_NS, '/w:T');
}

/** A schema using every construct of the wire profile, including ones the catalogue does not use yet. */
const KITCHEN_SINK: Record<string, unknown> = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'urn:test:kitchen-sink',
  type: 'object',
  additionalProperties: false,
  properties: {
    text: { type: 'string' },
    name: { type: 'string', 'x-icao-transliteration': true },
    maybe: { type: 'string', maxLength: 5 },
    flag: { type: 'boolean' },
    count: { type: 'integer', minimum: -9007199254740991, maximum: 9007199254740991 },
    ratio: { type: 'number' },
    when: { type: 'string', format: 'date' },
    blob: { type: 'string', contentEncoding: 'base64' },
    tags: { type: 'array', minItems: 1, items: { type: 'string' } },
    pairs: { type: 'array', minItems: 2, maxItems: 4, items: { $ref: '#/$defs/Pair' } },
    pick: {
      type: 'object',
      additionalProperties: false,
      minProperties: 1,
      maxProperties: 1,
      properties: { a: { type: 'integer', minimum: 0, maximum: 9 }, b: { $ref: '#/$defs/Pair' }, c: { type: 'object', additionalProperties: false, properties: {} } },
    },
    empty: { type: 'object', additionalProperties: false, properties: { x: { type: 'boolean' } } },
    some: { type: 'object', additionalProperties: false, minProperties: 1, properties: { p: { type: 'boolean' }, q: { $ref: '#/$defs/Pair' } } },
  },
  required: ['text', 'flag'],
  $defs: {
    Pair: {
      type: 'object',
      additionalProperties: false,
      properties: { k: { type: 'string', enum: ['x', 'y & z', '<w>'] }, v: { type: 'array', minItems: 1, items: { type: 'number', minimum: -1, maximum: 1 } } },
      required: ['k'],
    },
  },
};

describe('JSON → XML → JSON mapping', () => {
  const xsd = createXsdValidator();

  it('covers the inbound notification types in the properties below', () => {
    expect(ALL.filter((t) => t.direction === 'inbound').length).toBeGreaterThanOrEqual(5);
  });

  it.each(ALL.map((t) => [t.id] as const))('is lossless for schema-valid %s payloads, whose XML is XSD-valid (property)', (id) => {
    const spec = getType(id)!;
    const arb = arbitraryFor(compileShape(spec.schema)).filter((p) => validatePayload(id, p).length === 0);
    fc.assert(
      fc.property(arb, (payload) => {
        const xml = buildRequestXml(headerFor(id), payload);
        expect(xsd.validate(xml)).toEqual([]);
        const back = parseRequestXml(xml);
        expect(back.payload).toStrictEqual(payload);
        // key order too: the object reads back as UMA wrote it (schema order)
        expect(JSON.stringify(back.payload)).toBe(JSON.stringify(payload));
      }),
      { numRuns: 120, seed: 20250901 },
    );
  });

  it.each(ALL.filter((t) => t.answer).map((t) => [t.id] as const))('is lossless for schema-valid %s answer data in a response, whose XML is XSD-valid (property)', (id) => {
    const spec = getType(id)!;
    const arb = arbitraryFor(compileShape(spec.answer!.schema)).filter((d) => validateAnswer(d).length === 0);
    fc.assert(
      fc.property(arb, (data) => {
        const xml = buildResponseXml({ responseId: 'r-1', inReplyTo: HEADER.messageId, result: 'ACCEPTED', code: 'OK', created: HEADER.created, data: data as Record<string, unknown> });
        expect(xsd.validate(xml)).toEqual([]);
        const back = parseResponseXml(xml).data;
        expect(back).toStrictEqual(data);
        expect(JSON.stringify(back)).toBe(JSON.stringify(data));
      }),
      { numRuns: 60, seed: 20250902 },
    );
  });

  it('is lossless for every construct of the wire profile, control characters and -0 included (property)', () => {
    const arb = arbitraryFor(compileShape(KITCHEN_SINK));
    fc.assert(
      fc.property(arb, (payload) => {
        const back = roundTrip(KITCHEN_SINK, payload);
        expect(back).toStrictEqual(payload);
        expect(JSON.stringify(back)).toBe(JSON.stringify(payload));
      }),
      { numRuns: 300, seed: 7 },
    );
    expect(Object.is((roundTrip(KITCHEN_SINK, { text: '', flag: true, ratio: -0 }) as { ratio: number }).ratio, -0)).toBe(true);
  });

  it('keeps CR, CRLF, tabs, markup characters and astral characters exact', () => {
    const payload = { text: 'a\rb\r\nc\td &amp; <x/> ]]> "q" \'a\' 𝔗\u2028', flag: false };
    const shape = compileShape(KITCHEN_SINK);
    const frag = payloadToXml(shape, payload);
    expect(frag).toBe('<w:text>a&#xD;b&#xD;\nc\td &amp;amp; &lt;x/&gt; ]]&gt; "q" \'a\' 𝔗\u2028</w:text><w:flag>false</w:flag>');
    expect(roundTrip(KITCHEN_SINK, payload)).toStrictEqual(payload);
  });

  it('writes the ICAO transliteration after a marked name, and leaves it out when it cannot be computed', () => {
    const shape = compileShape(KITCHEN_SINK);
    expect(payloadToXml(shape, { text: 't', name: 'Щербаков-Åström', flag: true })).toBe(
      '<w:text>t</w:text><w:name>Щербаков-Åström</w:name><w:nameTransliterated>SHCHERBAKOV AASTROEM</w:nameTransliterated><w:flag>true</w:flag>',
    );
    expect(payloadToXml(shape, { text: 't', name: '中文', flag: true })).toBe('<w:text>t</w:text><w:name>中文</w:name><w:flag>true</w:flag>');
    expect(payloadToXml(shape, { text: 'Åström', flag: true })).not.toMatch(/Transliterated/);
  });

  it('drops the transliteration when reading, and refuses one without its name or repeated', () => {
    const shape = compileShape(KITCHEN_SINK);
    const read = (inner: string): unknown => xmlToPayload(shape, parseXmlDocument(`<w:T xmlns:w="${WIRE_NS}">${inner}</w:T>`), WIRE_NS, '/w:T');
    expect(read('<w:text>t</w:text><w:name>Åström</w:name><w:nameTransliterated>ANYTHING</w:nameTransliterated><w:flag>true</w:flag>')).toStrictEqual({ text: 't', name: 'Åström', flag: true });
    expect(errorOf(() => read('<w:text>t</w:text><w:nameTransliterated>X</w:nameTransliterated><w:flag>true</w:flag>'))).toEqual({ code: 'DAVIS_ERR_WIRE_MAPPING', pointer: '/w:T/w:nameTransliterated' });
    expect(errorOf(() => read('<w:name>a</w:name><w:nameTransliterated>A</w:nameTransliterated><w:nameTransliterated>A</w:nameTransliterated>'))).toEqual({
      code: 'DAVIS_ERR_WIRE_MAPPING',
      pointer: '/w:T/w:nameTransliterated[2]',
    });
    expect(errorOf(() => read('<w:name>a</w:name><w:nameTransliterated><w:x/></w:nameTransliterated>'))).toEqual({ code: 'DAVIS_ERR_WIRE_MAPPING', pointer: '/w:T/w:nameTransliterated/w:x' });
    expect(errorOf(() => read('<w:textTransliterated>T</w:textTransliterated>'))).toEqual({ code: 'DAVIS_ERR_WIRE_MAPPING', pointer: '/w:T/w:textTransliterated' });
  });

  it('puts the transliteration of the applicant\'s names on the wire for vis.application.create', () => {
    const xml = buildRequestXml(HEADER, adult());
    expect(xml).toContain('<w:surname>Meikäläinen</w:surname><w:surnameTransliterated>MEIKAELAEINEN</w:surnameTransliterated>');
    expect(xml).toContain('<w:firstNamesTransliterated>MATTI ESIMERKKI</w:firstNamesTransliterated>');
    expect(xml).toContain('<w:surnameAtBirthTransliterated>VIRTANEN TESTI</w:surnameAtBirthTransliterated>');
    expect(xml).toContain('<w:contactPerson><w:surname>Testaaja</w:surname><w:surnameTransliterated>TESTAAJA</w:surnameTransliterated>');
    expect(xml).not.toMatch(/placeOfBirthTransliterated|cityTransliterated/);
    expect(parseRequestXml(xml).payload).toStrictEqual(adult());
  });

  it('writes elements in schema order, arrays as repeated elements, absent properties as nothing', () => {
    const shape = compileShape(KITCHEN_SINK);
    const xml = payloadToXml(shape, { tags: ['b', 'a'], flag: true, text: 't', count: 3 });
    expect(xml).toBe('<w:text>t</w:text><w:flag>true</w:flag><w:count>3</w:count><w:tags>b</w:tags><w:tags>a</w:tags>');
  });

  it('keeps an empty string, and an object with no properties, as empty start/end pairs', () => {
    const shape = compileShape(KITCHEN_SINK);
    const payload = { text: '', flag: true, pick: { c: {} }, empty: {} };
    expect(payloadToXml(shape, payload)).toBe('<w:text></w:text><w:flag>true</w:flag><w:pick><w:c></w:c></w:pick><w:empty></w:empty>');
    expect(roundTrip(KITCHEN_SINK, payload)).toStrictEqual(payload);
  });

  it('maps every valid example of every type there and back unchanged', () => {
    for (const t of ALL) {
      for (const ex of loadExamples(t.id).valid) {
        expect(parseRequestXml(buildRequestXml(headerFor(t.id), ex.payload)).payload).toStrictEqual(ex.payload);
      }
    }
  });

  it('maps every answer example there and back unchanged, in a response', () => {
    const examples = ALL.flatMap((t) => loadAnswerExamples(t.id));
    expect(examples.length).toBeGreaterThanOrEqual(4);
    for (const ex of examples) {
      const answer = { responseId: 'r-1', inReplyTo: HEADER.messageId, result: 'ACCEPTED' as const, code: 'OK', created: HEADER.created, data: ex.data };
      expect(parseResponseXml(buildResponseXml(answer)).data).toStrictEqual(ex.data);
    }
  });

  it('refuses what has no lossless wire form with DAVIS_ERR_WIRE_MAPPING and the JSON pointer', () => {
    const shape = compileShape(KITCHEN_SINK);
    expect(errorOf(() => payloadToXml(shape, { text: 't', flag: true, tags: [] }))).toEqual({ code: 'DAVIS_ERR_WIRE_MAPPING', pointer: '/tags' });
    expect(errorOf(() => payloadToXml(shape, { text: 'a\u0000', flag: true }))).toEqual({ code: 'DAVIS_ERR_WIRE_MAPPING', pointer: '/text' });
    expect(errorOf(() => payloadToXml(shape, { text: '\uD800', flag: true }))).toEqual({ code: 'DAVIS_ERR_WIRE_MAPPING', pointer: '/text' });
    expect(errorOf(() => payloadToXml(shape, { text: 't', flag: 'yes' }))).toEqual({ code: 'DAVIS_ERR_WIRE_MAPPING', pointer: '/flag' });
    expect(errorOf(() => payloadToXml(shape, { text: 't', flag: true, count: 1.5 }))).toEqual({ code: 'DAVIS_ERR_WIRE_MAPPING', pointer: '/count' });
    expect(errorOf(() => payloadToXml(shape, { text: 't', flag: true, ratio: Infinity }))).toEqual({ code: 'DAVIS_ERR_WIRE_MAPPING', pointer: '/ratio' });
    expect(errorOf(() => payloadToXml(shape, { text: 't', flag: true, 'x/y': 1 }))).toEqual({ code: 'DAVIS_ERR_WIRE_MAPPING', pointer: '/x~1y' });
    expect(errorOf(() => payloadToXml(shape, { text: 't', flag: true, pairs: [{ k: 'x', v: 'no' }] }))).toEqual({ code: 'DAVIS_ERR_WIRE_MAPPING', pointer: '/pairs/0/v' });
  });

  it('forces invalid JSON to XML in lenient mode (negative cases): extra members last, wrong types as text', () => {
    const shape = compileShape(KITCHEN_SINK);
    const xml = payloadToXml(shape, { extra: { deep: [1, 2] }, flag: 'yes', text: 't', tags: [] }, { lenient: true });
    expect(xml).toBe('<w:text>t</w:text><w:flag>yes</w:flag><w:extra><w:deep>1</w:deep><w:deep>2</w:deep></w:extra>');
  });

  it('reads pretty-printed XML, other prefixes and a default namespace the same way', () => {
    const expected = { text: 'x', flag: true, tags: ['a', 'b'] };
    const shape = compileShape(KITCHEN_SINK);
    for (const xml of [
      `<w:T xmlns:w="${WIRE_NS}">\n  <w:text>x</w:text>\n  <w:flag> 1 </w:flag>\n  <w:tags>a</w:tags>\n  <w:tags>b</w:tags>\n</w:T>`,
      `<q:T xmlns:q="${WIRE_NS}"><q:text>x</q:text><q:flag>true</q:flag><!-- c --><q:tags>a</q:tags><q:tags><![CDATA[b]]></q:tags></q:T>`,
      `<T xmlns="${WIRE_NS}"><text>x</text><flag>true</flag><tags>a</tags><tags>b</tags></T>`,
    ]) {
      expect(xmlToPayload(shape, parseXmlDocument(xml), WIRE_NS, '/T')).toStrictEqual(expected);
    }
  });

  it('restores JSON types from the schema, with XSD whitespace rules for non-strings', () => {
    const shape = compileShape(KITCHEN_SINK);
    const xml = `<w:T xmlns:w="${WIRE_NS}"><w:text> keep </w:text><w:flag>0</w:flag><w:count> +42 </w:count><w:ratio>1E3</w:ratio><w:when> 2024-02-29 </w:when><w:blob>QUJD\n RA==</w:blob></w:T>`;
    expect(xmlToPayload(shape, parseXmlDocument(xml), WIRE_NS, '/w:T')).toStrictEqual({ text: ' keep ', flag: false, count: 42, ratio: 1000, when: '2024-02-29', blob: 'QUJDRA==' });
  });

  it('refuses XML that does not fit the schema with DAVIS_ERR_WIRE_MAPPING and an XPath-like pointer', () => {
    const shape = compileShape(KITCHEN_SINK);
    const read = (inner: string) => () => xmlToPayload(shape, parseXmlDocument(`<w:T xmlns:w="${WIRE_NS}" xmlns:o="urn:other">${inner}</w:T>`), WIRE_NS, '/w:T');
    expect(errorOf(read('<w:text>a</w:text><w:nope>1</w:nope>'))).toEqual({ code: 'DAVIS_ERR_WIRE_MAPPING', pointer: '/w:T/w:nope' });
    expect(errorOf(read('<o:text>a</o:text>'))).toEqual({ code: 'DAVIS_ERR_WIRE_MAPPING', pointer: '/w:T/o:text' });
    expect(errorOf(read('<w:text>a</w:text><w:text>b</w:text>'))).toEqual({ code: 'DAVIS_ERR_WIRE_MAPPING', pointer: '/w:T/w:text[2]' });
    expect(errorOf(read('<w:flag>yes</w:flag>'))).toEqual({ code: 'DAVIS_ERR_WIRE_MAPPING', pointer: '/w:T/w:flag' });
    expect(errorOf(read('<w:count>1.0</w:count>'))).toEqual({ code: 'DAVIS_ERR_WIRE_MAPPING', pointer: '/w:T/w:count' });
    expect(errorOf(read('<w:count>90071992547409930</w:count>'))).toEqual({ code: 'DAVIS_ERR_WIRE_MAPPING', pointer: '/w:T/w:count' });
    expect(errorOf(read('<w:ratio>INF</w:ratio>'))).toEqual({ code: 'DAVIS_ERR_WIRE_MAPPING', pointer: '/w:T/w:ratio' });
    expect(errorOf(read('loose text'))).toEqual({ code: 'DAVIS_ERR_WIRE_MAPPING', pointer: '/w:T' });
    expect(errorOf(read('<w:text a="1">x</w:text>'))).toEqual({ code: 'DAVIS_ERR_WIRE_MAPPING', pointer: '/w:T/w:text/@a' });
    expect(errorOf(read('<w:text><w:b/></w:text>'))).toEqual({ code: 'DAVIS_ERR_WIRE_MAPPING', pointer: '/w:T/w:text/w:b' });
  });
});

describe('wire profile of JSON Schemas', () => {
  const base = { type: 'object', additionalProperties: false };
  it.each([
    ['an array without minItems', { ...base, properties: { a: { type: 'array', items: { type: 'string' } } } }],
    ['an array of arrays', { ...base, properties: { a: { type: 'array', minItems: 1, items: { type: 'array', minItems: 1, items: { type: 'string' } } } } }],
    ['an open object', { type: 'object', properties: { a: { type: 'string' } } }],
    ['a type list', { ...base, properties: { a: { type: ['string', 'null'] } } }],
    ['an unsupported format', { ...base, properties: { a: { type: 'string', format: 'date-time' } } }],
    ['an unanchored pattern', { ...base, properties: { a: { type: 'string', pattern: '[A-Z]+' } } }],
    ['an unbounded integer', { ...base, properties: { a: { type: 'integer' } } }],
    ['oneOf', { ...base, properties: { a: { type: 'string' } }, oneOf: [{ required: ['a'] }] }],
    ['a remote $ref', { ...base, properties: { a: { $ref: 'other.json#/$defs/X' } } }],
    ['a conditional adding a property', { ...base, properties: { a: { type: 'string' } }, if: { required: ['a'] }, then: { properties: { b: { type: 'string' } } } }],
    ['a property name that is not an XML name', { ...base, properties: { '1a': { type: 'string' } } }],
    ['a choice with required members', { ...base, minProperties: 1, maxProperties: 1, properties: { a: { type: 'string' } }, required: ['a'] }],
    ['maxProperties outside the choice form', { ...base, maxProperties: 2, properties: { a: { type: 'string' } } }],
    ['a transliteration on a non-text string', { ...base, properties: { a: { type: 'string', format: 'date', 'x-icao-transliteration': true } } }],
    ['a transliteration on an array item', { ...base, properties: { a: { type: 'array', minItems: 1, items: { type: 'string', 'x-icao-transliteration': true } } } }],
    ['a transliteration on a choice member', { ...base, minProperties: 1, maxProperties: 1, properties: { a: { type: 'string', 'x-icao-transliteration': true } } }],
    ['a transliteration element clashing with a property', { ...base, properties: { a: { type: 'string', 'x-icao-transliteration': true }, aTransliterated: { type: 'string' } } }],
    ['a transliteration marker that is not true', { ...base, properties: { a: { type: 'string', 'x-icao-transliteration': false } } }],
  ])('refuses %s at load', (_what, schema) => {
    expect(() => compileShape(schema as Record<string, unknown>)).toThrow(/wire profile/);
  });
});
