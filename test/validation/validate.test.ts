import { isDavisError } from '../../src/errors/errors';
import { listTypes } from '../../src/catalogue/catalogue';
import { assertValidPayload, compileAll, createAjv, validateAnswer, validateEnvelope, validatePayload } from '../../src/validation/validate';
import { loadAnswerExamples, loadExamples } from './examples';

const TYPE = 'vis.application.create';
const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;
const pointers = (errors: readonly { pointer: string }[]): string[] => errors.map((e) => e.pointer).sort();
const adult = (): Record<string, any> => clone(loadExamples(TYPE).valid.find((e) => e.file.includes('adult'))!.payload) as Record<string, any>;

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return isDavisError(e) ? e.code : 'not a DavisError';
  }
  return undefined;
}

describe('validatePayload', () => {
  for (const t of listTypes({ direction: 'all' })) {
    const { valid, invalid } = loadExamples(t.id);
    describe(t.id, () => {
      it.each(valid.map((e) => [e.file, e] as const))('accepts the valid example %s', (_f, ex) => {
        expect(validatePayload(t.id, ex.payload)).toEqual([]);
      });

      it.each(invalid.map((e) => [e.file, e] as const))('rejects %s with exactly its expected pointers', (_f, ex) => {
        const errors = validatePayload(t.id, ex.payload);
        expect(pointers(errors)).toEqual(pointers(ex.expect!.errors));
        for (const e of errors) expect(e.message.length).toBeGreaterThan(0);
        expect(codeOf(() => assertValidPayload(t.id, ex.payload))).toBe(ex.expect!.code);
      });
    });
  }

  it('refuses an unknown type with DAVIS_ERR_CATALOGUE_UNKNOWN_TYPE', () => {
    expect(codeOf(() => validatePayload('vis.no.such.type', {}))).toBe('DAVIS_ERR_CATALOGUE_UNKNOWN_TYPE');
  });

  it('points a missing required property at the property itself', () => {
    const p = adult();
    delete p.travelDocument.number;
    delete p.applicationNumber;
    expect(pointers(validatePayload(TYPE, p))).toEqual(['/applicationNumber', '/travelDocument/number']);
  });

  it('points an unexpected property at that property, escaping ~ and / (RFC 6901)', () => {
    const p = adult();
    p.applicant['a/b~c'] = 1;
    expect(pointers(validatePayload(TYPE, p))).toEqual(['/applicant/a~1b~0c']);
  });

  it('points a wrong choice (none, or several) at the choice object', () => {
    const p = adult();
    p.facialImage = {};
    p.travelDocumentScan = { reference: 'x', embedded: { mediaType: 'image/png', data: 'QUJD' } };
    p.inviters = [{ person: { surname: 'A', firstNames: 'B', address: { city: 'C', country: 'FIN' } }, organisation: { name: 'O', address: { city: 'C', country: 'FIN' }, contactPerson: { surname: 'S', firstNames: 'F' } } }];
    const errors = validatePayload(TYPE, p);
    expect(pointers(errors)).toEqual(['/facialImage', '/inviters/0', '/travelDocumentScan']);
    expect(errors.find((e) => e.pointer === '/facialImage')!.message).toMatch(/exactly one of: reference, embedded/);
  });

  it('reports every error at once (allErrors), each once', () => {
    const p = adult();
    p.applicant.sex = 'Q';
    p.intendedDurationDays = 0;
    p.status = 'VISA_ISSUED';
    delete p.applicant.homeAddress.city;
    const errors = validatePayload(TYPE, p);
    expect(pointers(errors)).toEqual(['/applicant/homeAddress/city', '/applicant/sex', '/intendedDurationDays', '/status']);
  });

  it('requires the represented Member State only under representation, and forbids it otherwise', () => {
    const p = adult();
    p.authority.representation = false;
    delete p.authority.representedMemberState;
    expect(validatePayload(TYPE, p)).toEqual([]);
    p.authority.representedMemberState = 'SE';
    expect(pointers(validatePayload(TYPE, p))).toEqual(['/authority/representedMemberState']);
  });

  it('accepts names in any script and refuses control characters in them', () => {
    const p = adult();
    p.applicant.surname = 'Ωμέγα-中文-كتابة 𝔗';
    expect(validatePayload(TYPE, p)).toEqual([]);
    p.applicant.surname = 'line\nbreak';
    expect(pointers(validatePayload(TYPE, p))).toEqual(['/applicant/surname']);
    p.applicant.surname = 'x'.repeat(101);
    expect(pointers(validatePayload(TYPE, p))).toEqual(['/applicant/surname']);
  });

  it('refuses dates that are not real calendar dates or carry a time', () => {
    const p = adult();
    for (const d of ['2023-02-29', '2025-13-01', '2025-09-01T00:00:00Z', '01.09.2025']) {
      p.applicationDate = d;
      expect(pointers(validatePayload(TYPE, p))).toEqual(['/applicationDate']);
    }
    p.applicationDate = '2024-02-29';
    expect(validatePayload(TYPE, p)).toEqual([]);
  });

  it('caps embedded biometrics: 1 MiB of base64 for a facial image', () => {
    const p = adult();
    const justUnder = Buffer.alloc(786432).toString('base64');
    expect(justUnder.length).toBe(1048576);
    p.facialImage = { embedded: { mediaType: 'image/jpeg', data: justUnder } };
    expect(validatePayload(TYPE, p)).toEqual([]);
    p.facialImage.embedded.data = Buffer.alloc(786435).toString('base64');
    expect(pointers(validatePayload(TYPE, p))).toEqual(['/facialImage/embedded/data']);
  });

  it('refuses base64 that is not canonical (bad padding bits, line breaks)', () => {
    const p = adult();
    for (const data of ['QR==', 'QUJ', 'QUJD\nRA==', 'QUJD RA==']) {
      p.facialImage = { embedded: { mediaType: 'image/jpeg', data } };
      // 'QUJ' is also too short: two errors, one field.
      expect([...new Set(pointers(validatePayload(TYPE, p)))]).toEqual(['/facialImage/embedded/data']);
    }
  });

  it('compiles each schema once and reuses it', () => {
    jest.isolateModules(() => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const Ajv = require('ajv/dist/2020').default as { prototype: { compile: (...a: unknown[]) => unknown } };
      const spy = jest.spyOn(Ajv.prototype, 'compile');
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const v = require('../../src/validation/validate') as typeof import('../../src/validation/validate');
      v.validatePayload(TYPE, {});
      v.validatePayload(TYPE, adult());
      v.compileAll();
      v.validateEnvelope({ type: TYPE, payload: {} });
      v.validateAnswer({ answerTo: 'vis.application.search', hitCount: 0 });
      // one compilation per payload schema and per answer schema
      const all = listTypes({ direction: 'all' });
      expect(spy).toHaveBeenCalledTimes(all.length + all.filter((t) => t.answer).length);
      spy.mockRestore();
    });
  });

  it('compiles the whole catalogue at start without error', () => {
    expect(() => compileAll()).not.toThrow();
  });
});

describe('validateEnvelope', () => {
  it('accepts { type, payload } with a valid payload', () => {
    expect(validateEnvelope({ type: TYPE, payload: adult() })).toEqual([]);
  });

  it('prefixes payload errors with /payload', () => {
    const p = adult();
    delete p.applicant.surname;
    expect(pointers(validateEnvelope({ type: TYPE, payload: p }))).toEqual(['/payload/applicant/surname']);
  });

  it('points a missing or malformed type and payload at /type and /payload', () => {
    expect(pointers(validateEnvelope({}))).toEqual(['/payload', '/type']);
    expect(pointers(validateEnvelope({ type: 7, payload: [] }))).toEqual(['/payload', '/type']);
    expect(pointers(validateEnvelope({ type: TYPE, payload: null }))).toEqual(['/payload']);
  });

  it('refuses other top-level members', () => {
    expect(pointers(validateEnvelope({ type: TYPE, payload: adult(), priority: 'high' }))).toEqual(['/priority']);
  });

  it('refuses a body that is not an object, pointing at the whole body', () => {
    expect(pointers(validateEnvelope('x'))).toEqual(['']);
    expect(pointers(validateEnvelope(null))).toEqual(['']);
  });

  it('throws DAVIS_ERR_CATALOGUE_UNKNOWN_TYPE for a type not in the catalogue, pointing at /type', () => {
    let caught: unknown;
    try {
      validateEnvelope({ type: 'vis.no.such.type', payload: {} });
    } catch (e) {
      caught = e;
    }
    expect(isDavisError(caught) && caught.code).toBe('DAVIS_ERR_CATALOGUE_UNKNOWN_TYPE');
    expect(isDavisError(caught) && caught.errors?.[0]?.pointer).toBe('/type');
  });

  it('throws DAVIS_ERR_CATALOGUE_UNKNOWN_TYPE for an inbound type (a central notification UMA never sends), pointing at /type', () => {
    const payload = loadExamples('vis.notification.hit').valid[0].payload;
    expect(validatePayload('vis.notification.hit', payload)).toEqual([]);
    let caught: unknown;
    try {
      validateEnvelope({ type: 'vis.notification.hit', payload });
    } catch (e) {
      caught = e;
    }
    expect(isDavisError(caught) && caught.code).toBe('DAVIS_ERR_CATALOGUE_UNKNOWN_TYPE');
    expect(isDavisError(caught) && caught.errors?.[0]?.pointer).toBe('/type');
  });
});

describe('business rules', () => {
  it('run after the JSON Schema, only on a payload it accepted', () => {
    const p = adult();
    p.intendedDepartureDate = '2025-09-30'; // before arrival: a business rule
    expect(pointers(validatePayload(TYPE, p))).toEqual(['/intendedDepartureDate']);
    p.applicant.sex = 'Q'; // now the schema fails: only its errors are reported
    expect(pointers(validatePayload(TYPE, p))).toEqual(['/applicant/sex']);
  });

  it('require a parental authority for a minor on the application date, not for an adult (Art 9(4)(m))', () => {
    const p = adult();
    p.applicant.dateOfBirth = '2007-09-02'; // 17 on 2025-09-01
    expect(pointers(validatePayload(TYPE, p))).toEqual(['/applicant/parentalAuthority']);
    p.applicant.dateOfBirth = '2007-09-01'; // 18 that day
    expect(validatePayload(TYPE, p)).toEqual([]);
  });

  it('say which rule failed and why in the message, and fail with DAVIS_ERR_VALIDATION_FAILED', () => {
    const p = adult();
    p.travelDocument.expiryDate = '2020-01-01';
    const [e] = validatePayload(TYPE, p);
    expect(e).toEqual({ pointer: '/travelDocument/expiryDate', message: expect.stringMatching(/must not be before travelDocument\.issueDate/) });
    expect(codeOf(() => assertValidPayload(TYPE, p))).toBe('DAVIS_ERR_VALIDATION_FAILED');
  });

  it('check the LSV/RP exemption for children under 6 against the date of birth (Art 22a(2))', () => {
    const child = clone(loadExamples('vis.lsvrp.application.create').valid.find((e) => e.file.includes('child'))!.payload) as Record<string, any>;
    expect(validatePayload('vis.lsvrp.application.create', child)).toEqual([]);
    child.applicant.dateOfBirth = '2019-08-20'; // 6 on the application date 2025-08-20
    expect(pointers(validatePayload('vis.lsvrp.application.create', child))).toEqual(['/fingerprints/notProvided/reason']);
  });

  it('refuse a notification naming one hit id twice, pointing at the repeat', () => {
    const p = clone(loadExamples('vis.notification.hit').valid.find((e) => e.file.includes('sis'))!.payload) as Record<string, any>;
    p.hits.push({ ...p.hits[0], sourceSystem: 'EES' });
    expect(validatePayload('vis.notification.hit', p)).toEqual([{ pointer: '/hits/2/hitId', message: 'repeats the hit id of an earlier hit' }]);
  });

  it('name the optional members of an "at least one of" object', () => {
    const p = clone(loadExamples('io.esp.search').valid[0].payload) as Record<string, any>;
    p.query = {};
    expect(validatePayload('io.esp.search', p)).toEqual([{ pointer: '/query', message: 'must have at least one of: identity, travelDocument' }]);
  });
});

describe('validateAnswer', () => {
  const search = { answerTo: 'vis.application.search', hitCount: 0 };

  it.each(listTypes({ direction: 'all' }).flatMap((t) => loadAnswerExamples(t.id)).map((e) => [`${e.type}/${e.file}`, e] as const))('accepts the answer example %s', (_f, ex) => {
    expect(ex.data.answerTo).toBe(ex.type);
    expect(validateAnswer(ex.data)).toEqual([]);
  });

  it('accepts answer data of its type and reports problems with pointers into the data', () => {
    expect(validateAnswer(search)).toEqual([]);
    expect(pointers(validateAnswer({ ...search, hitCount: -1, extra: 1 }))).toEqual(['/extra', '/hitCount']);
  });

  it('refuses data whose answerTo names no type with answer data', () => {
    for (const data of [{}, { answerTo: 'vis.application.create' }, { answerTo: 'vis.no.such.type' }, null, []]) {
      expect(pointers(validateAnswer(data))).toEqual(['/answerTo']);
    }
  });
});

describe('createAjv', () => {
  it('knows the x-icao-transliteration annotation, which a plain strict ajv refuses', () => {
    const schema = { type: 'object', properties: { n: { type: 'string', 'x-icao-transliteration': true } } };
    expect(() => createAjv().compile(schema)).not.toThrow();
    const plain = new (jest.requireActual('ajv/dist/2020').default as new (o: object) => { compile: (s: object) => unknown })({ strict: true });
    expect(() => plain.compile(schema)).toThrow(/unknown keyword/);
  });
});
