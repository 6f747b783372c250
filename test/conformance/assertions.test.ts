import { compileJsonPath, getPointer, setPointer } from '../../src/conformance/jsonpath';
import { applyMatcher, looseEqual } from '../../src/conformance/matchers';
import { BIOMETRIC_PLACEHOLDER, classify, Pseudonymizer } from '../../src/conformance/pseudonymize';
import { lineDiff, htmlEscape } from '../../src/conformance/reports/html';
import { xmlEscape } from '../../src/conformance/reports/junit';
import { interpolate, interpolateString, randomDigits, templateProblems, uniqueLike, uniqueValue, type TemplateScope } from '../../src/conformance/template';
import { compileXPath, evaluateXPath, xpathResultToJson, XPathError } from '../../src/xml/xpath';

const WIRE = `<w:Request xmlns:w="urn:davis-gateway:wire:1" Id="m-1"><w:Header><w:MessageId>1</w:MessageId><w:MessageType>vis.application.create</w:MessageType><w:Sender>FI</w:Sender></w:Header><w:Body><w:ApplicationCreate><w:destinationMemberStates>FI</w:destinationMemberStates><w:destinationMemberStates>EE</w:destinationMemberStates><w:note xml:lang="en">a <!-- c -->b</w:note><plain>no namespace</plain></w:ApplicationCreate></w:Body><ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo><ds:Reference URI=""/></ds:SignedInfo></ds:Signature></w:Request>`;
const x = (expr: string, ns: Record<string, string> = {}) => xpathResultToJson(evaluateXPath(WIRE, expr, ns));

describe('XPath with namespaces', () => {
  test('absolute and relative paths, //, positions, attributes and text()', () => {
    expect(x('/w:Request/w:Header/w:Sender')).toBe('FI');
    expect(x('/w:Request/@Id')).toBe('m-1');
    expect(x('//w:destinationMemberStates')).toEqual(['FI', 'EE']);
    expect(x('//w:destinationMemberStates[2]')).toBe('EE');
    expect(x('//w:destinationMemberStates[last()]')).toBe('EE');
    expect(x('/w:Request/w:Header/w:MessageType/text()')).toBe('vis.application.create');
    expect(x('/w:Request[@Id="m-1"]/w:Header/w:Sender')).toBe('FI');
    expect(x("/w:Request[@Id='other']")).toBeUndefined();
    expect(x('//w:ApplicationCreate/w:note')).toBe('a b');
    expect(x('//w:ApplicationCreate/plain')).toBe('no namespace');
    expect(x('//w:ApplicationCreate/w:*[1]')).toBe('FI');
    expect(x('/w:Request/w:Header/../@Id')).toBe('m-1');
    expect(x("//w:note/@xml:lang", { xml: 'http://www.w3.org/XML/1998/namespace' })).toBe('en');
  });

  test('prefixes come from the suite, not the document; unprefixed names are in no namespace', () => {
    expect(x('/v:Request/v:Header/v:Sender', { v: 'urn:davis-gateway:wire:1' })).toBe('FI');
    expect(x('/Request')).toBeUndefined();
    expect(() => compileXPath('/q:Request')).toThrow(XPathError);
  });

  test('functions, comparisons and predicates on children', () => {
    expect(x('count(//w:destinationMemberStates)')).toBe(2);
    expect(x("count(/w:Request/ds:Signature/ds:SignedInfo/ds:Reference[@URI=''])")).toBe(1);
    expect(x('//w:destinationMemberStates = "EE"')).toBe(true);
    expect(x('//w:destinationMemberStates != "FI"')).toBe(true);
    expect(x('not(//w:destinationMemberStates = "SE")')).toBe(true);
    expect(x('local-name(/w:Request/*[last()])')).toBe('Signature');
    expect(x('namespace-uri(/*)')).toBe('urn:davis-gateway:wire:1');
    expect(x("concat('m-', /w:Request/w:Header/w:MessageId) = /w:Request/@Id")).toBe(true);
    expect(x('count(//w:Header/*) + 1')).toBe(4);
    expect(x("starts-with(//w:MessageType, 'vis.')")).toBe(true);
    expect(x("/w:Request/w:Body/w:ApplicationCreate[w:destinationMemberStates='EE']/w:note")).toBe('a b');
    expect(x('string-length(//w:Sender) * 2 div 4 mod 3')).toBe(1);
  });

  test('syntax errors carry the offset', () => {
    for (const bad of ['/w:Request[', '/w:Request/', 'count(', "'unterminated", '/w:Request]']) {
      try {
        compileXPath(bad);
        throw new Error(`no error for ${bad}`);
      } catch (err) {
        expect(err).toBeInstanceOf(XPathError);
        expect((err as XPathError).offset).toBeGreaterThanOrEqual(0);
      }
    }
  });
});

describe('JSON Pointer and JSONPath', () => {
  const doc = {
    status: 'delivered', attempts: 2, 'a/b': { '~': 1 },
    history: [{ status: 'accepted' }, { status: 'queued' }, { status: 'sending', attempt: 1 }, { status: 'retrying', attempt: 1 }, { status: 'sending', attempt: 2 }, { status: 'delivered' }],
    central: { result: 'ACCEPTED', code: 'OK' },
  };
  test('pointer get and set', () => {
    expect(getPointer(doc, '/central/code')).toBe('OK');
    expect(getPointer(doc, '/history/1/status')).toBe('queued');
    expect(getPointer(doc, '/a~1b/~0')).toBe(1);
    expect(getPointer(doc, '/history/x')).toBeUndefined();
    const o: Record<string, unknown> = { list: [1] };
    setPointer(o, '/a/b', 'x');
    setPointer(o, '/list/-', 2);
    expect(o).toEqual({ list: [1, 2], a: { b: 'x' } });
  });
  test('paths: wildcards, slices, negative indices, descendants and filters', () => {
    const q = (p: string) => compileJsonPath(p).evaluate(doc);
    expect(q('$.history[*].status')).toEqual(['accepted', 'queued', 'sending', 'retrying', 'sending', 'delivered']);
    expect(q('$.history[-1].status')).toEqual(['delivered']);
    expect(q('$.history[-1:].status')).toEqual(['delivered']);
    expect(q('$.history[0:2].status')).toEqual(['accepted', 'queued']);
    expect(q("$.history[?(@.status == 'sending')].attempt")).toEqual([1, 2]);
    expect(q('$.history[?(@.attempt > 1 && @.status != "retrying")].status')).toEqual(['sending']);
    expect(q('$.history[?(@.attempt)].status')).toEqual(['sending', 'retrying', 'sending']);
    expect(q("$['central']['code']")).toEqual(['OK']);
    expect(q('$..code')).toEqual(['OK']);
    expect(q('$.central.*')).toEqual(['ACCEPTED', 'OK']);
    expect(() => compileJsonPath('history[0]')).toThrow(/starts with "\$"/);
  });
});

describe('matchers', () => {
  const m = (spec: unknown, value: unknown, extra: { count?: number } = {}) => applyMatcher(spec, { value, present: value !== undefined, ...extra });
  test('literals compare as JSON, strings and numbers by their text', () => {
    expect(m('OK', 'OK').ok).toBe(true);
    expect(m(2, '2').ok).toBe(true);
    expect(m({ a: [1, 2] }, { a: [1, 2] }).ok).toBe(true);
    expect(m('OK', 'NO').problems).toEqual(['expected "OK", got "NO"']);
    expect(looseEqual(['1', 2], [1, '2'])).toBe(true);
  });
  test('matcher keys', () => {
    expect(m({ matches: '^VIS-' }, 'VIS-FI-1').ok).toBe(true);
    expect(m({ 'one-of': ['a', 'b'] }, 'c').ok).toBe(false);
    expect(m({ gte: 2, lt: 5 }, 3).ok).toBe(true);
    expect(m({ gt: 2 }, 'x').ok).toBe(false);
    expect(m({ contains: ['queued', 'sending'] }, ['accepted', 'queued', 'sending']).ok).toBe(true);
    expect(m({ 'not-contains': 'delivered' }, ['accepted', 'delivered']).ok).toBe(false);
    expect(m({ contains: 'ERR' }, 'DAVIS_ERR_X').ok).toBe(true);
    expect(m({ exists: false }, undefined).ok).toBe(true);
    expect(m({ exists: true }, undefined).problems).toEqual(['expected a value, found nothing']);
    expect(m({ count: { gte: 2 } }, ['a', 'b'], { count: 2 }).ok).toBe(true);
    expect(m({ length: 3 }, 'abc').ok).toBe(true);
    expect(m({ 'not-equals': 'VIS_ERR_SIGNATURE' }, 'OK').ok).toBe(true);
    expect(m({ 'starts-with': 'application/problem+json' }, 'application/problem+json; charset=utf-8').ok).toBe(true);
  });
});

describe('templates', () => {
  const scope = (caseId = 'C1', seed = 7, runId = 'RUN1'): TemplateScope => ({ runId, seed, caseId, vars: new Map<string, unknown>([['m', 'id-1'], ['n', 5]]), env: { TOKEN: 't' }, today: new Date('2026-03-10T12:00:00Z') });
  test('variables, typed whole values, built-ins and escapes', () => {
    expect(interpolateString('${m}', scope())).toBe('id-1');
    expect(interpolateString('${n}', scope())).toBe(5);
    expect(interpolateString('x-${n}', scope())).toBe('x-5');
    expect(interpolateString('$${m}', scope())).toBe('${m}');
    expect(interpolateString('${env:TOKEN}', scope())).toBe('t');
    expect(interpolateString('${date:+30d}', scope())).toBe('2026-04-09');
    expect(interpolateString('${date:-1y}', scope())).toBe('2025-03-10');
    expect(interpolate({ '${m}': ['${case}', '${seed}'] }, scope())).toEqual({ 'id-1': ['C1', 7] });
    expect(() => interpolateString('${missing}', scope())).toThrow(/undefined variable "missing"/);
  });
  test('unique values differ between runs and names, not within a case; random digits follow the seed', () => {
    expect(interpolateString('${unique:app}', scope())).toBe(interpolateString('${unique:app}', scope()));
    expect(uniqueValue('RUN1', 'C1', 'app')).not.toBe(uniqueValue('RUN2', 'C1', 'app'));
    expect(uniqueValue('RUN1', 'C1', 'app')).not.toBe(uniqueValue('RUN1', 'C1', 'other'));
    expect(uniqueValue('RUN1', 'C1', 'app')).toMatch(/^RUN1-[0-9A-Z]{6}$/);
    expect(randomDigits(7, 'C1', 'x')).toBe(randomDigits(7, 'C1', 'x'));
    expect(randomDigits(7, 'C1', 'x')).not.toBe(randomDigits(8, 'C1', 'x'));
    const like = uniqueLike('RUN1', 'C1', 'app', 'FI-HEL-2025-000123');
    expect(like).toMatch(/^FI-HEL-\d{4}-\d{6}$/);
    expect(like).not.toBe('FI-HEL-2025-000123');
    expect(interpolateString('${unique-like:app:FI-HEL-2025-000123}', scope())).toBe(like);
  });
  test('load-time problems', () => {
    expect(templateProblems({ a: '${unique:x}', b: ['${m}'] })).toEqual([]);
    expect(templateProblems('${frob:x}')).toEqual([expect.stringContaining('unknown function "frob"')]);
    expect(templateProblems('abc ${m')).toEqual([expect.stringContaining('unterminated')]);
    expect(templateProblems('${date:soon}')).toEqual([expect.stringContaining('offset')]);
  });
});

describe('pseudonymisation', () => {
  const payload = {
    applicant: { surname: 'Meikäläinen', firstNames: 'Matti Esimerkki', dateOfBirth: '1985-03-14', placeOfBirth: 'Specimen Town', homeAddress: { street: '1 Example Street', postalCode: 'UT-0001', city: 'Utopia City' } },
    travelDocument: { number: 'L898902C3', issuingCountry: 'UTO' },
    inviters: [{ person: { surname: 'Meikäläinen', firstNames: 'Maija' } }],
    visaStickerNumber: 'FIN001234567',
    facialImage: { embedded: { mediaType: 'image/jpeg', data: '/9j/4AAQSkZJRgABAQ==' } },
    authority: { name: 'Embassy of Finland (fictitious)' },
  };
  test('fields are recognised by name and context', () => {
    expect(classify('surname', ['applicant'])).toBe('name');
    expect(classify('name', ['inviters', 'person'])).toBe('name');
    expect(classify('name', ['authority'])).toBeUndefined();
    expect(classify('number', ['travelDocument'])).toBe('document-number');
    expect(classify('data', ['facialImage', 'embedded'])).toBe('biometric');
  });
  test('consistent within a recording, shape kept, nothing of the original left', () => {
    const p = new Pseudonymizer(Buffer.alloc(32, 1));
    const out = p.payload(payload) as typeof payload;
    expect(out.applicant.surname).not.toBe('Meikäläinen');
    expect(out.applicant.surname).toBe(out.inviters[0].person.surname);
    expect(out.applicant.firstNames.split(' ')).toHaveLength(2);
    expect(out.applicant.dateOfBirth).toMatch(/^1985-03-(0[1-9]|1\d|2[0-8])$/);
    expect(out.applicant.dateOfBirth).not.toBe('1985-03-14');
    expect(out.travelDocument.number).toMatch(/^[A-Z]\d{6}[A-Z]\d$/);
    expect(out.visaStickerNumber).toMatch(/^[A-Z]{3}\d{9}$/);
    expect(out.facialImage.embedded.data).toBe(BIOMETRIC_PLACEHOLDER);
    expect(out.authority.name).toBe(payload.authority.name);
    expect(out.travelDocument.issuingCountry).toBe('UTO');
    const text = JSON.stringify(out);
    for (const v of ['Meikäläinen', 'Matti', 'Maija', '1985-03-14', 'Specimen Town', 'L898902C3', 'FIN001234567', '1 Example Street', '/9j/4AAQ']) expect(text).not.toContain(v);
    // another key gives other pseudonyms
    expect((new Pseudonymizer(Buffer.alloc(32, 2)).payload(payload) as typeof payload).applicant.surname).not.toBe(out.applicant.surname);
  });
});

describe('report helpers', () => {
  test('line diff', () => {
    expect(lineDiff('a\nb\nc', 'a\nx\nc')).toEqual([[' ', 'a'], ['-', 'b'], ['+', 'x'], [' ', 'c']]);
  });
  test('escaping', () => {
    expect(xmlEscape('a<b>&"\u0001')).toBe('a&lt;b&gt;&amp;&quot;');
    expect(htmlEscape(`<script>'"&`)).toBe('&lt;script&gt;&#39;&quot;&amp;');
  });
});
