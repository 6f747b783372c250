import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { getType, getTypeByAnswerXmlName, getTypeByXmlName, isInbound, listTypes } from '../../src/catalogue/catalogue';
import { defineType } from '../../src/catalogue/define';
import { packageRoot } from '../../src/catalogue/schema-file';
import { CLIENT_ROLES } from '../../src/catalogue/types';
import { createAjv } from '../../src/validation/validate';
import { compileShape } from '../../src/wire/shape';
import { loadAnswerExamples, loadExamples } from '../validation/examples';

/** The types the catalogue issue asks for, by family. */
const EXPECTED_TYPES = [
  'vis.application.create', 'vis.visa.issue', 'vis.examination.discontinue', 'vis.visa.refuse', 'vis.visa.annul', 'vis.visa.revoke', 'vis.visa.extend',
  'vis.application.amend', 'vis.application.delete', 'vis.application.search', 'vis.application.retrieve',
  'vis.lsvrp.application.create', 'vis.lsvrp.issue', 'vis.lsvrp.refuse', 'vis.lsvrp.withdraw', 'vis.lsvrp.extend',
  'io.esp.search', 'vis.hit.verify', 'io.mid.link.verify', 'io.mid.icf.retrieve',
  'vismail.consultation.request', 'vismail.consultation.reply',
];
/** The central → national notifications (inbound types) of the notifications issue. */
const EXPECTED_INBOUND = ['vis.notification.hit', 'io.mid.notification.yellow-link', 'vismail.notification.consultation', 'vis.notification.amended', 'vis.notification.deleted'];
/** Every type the gateway knows, outbound and inbound. */
const ALL = listTypes({ direction: 'all' });
/** Every schema file under schemas/json/, parsed. */
const schemaFiles = (): { file: string; schema: Record<string, any> }[] => {
  const dir = join(packageRoot(), 'schemas', 'json');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.schema.json'))
    .sort()
    .map((file) => ({ file, schema: JSON.parse(readFileSync(join(dir, file), 'utf8')) as Record<string, any> }));
};

/** Value at a JSON pointer (RFC 6901), or undefined. */
function at(value: unknown, pointer: string): unknown {
  let v = value;
  for (const raw of pointer.split('/').slice(1)) {
    const token = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[token];
  }
  return v;
}

describe('catalogue', () => {
  it('finds vis.application.create with its wire name, ordering key, roles and article', () => {
    const t = getType('vis.application.create');
    expect(t).toBeDefined();
    expect(t!.xmlName).toBe('ApplicationCreate');
    expect(t!.orderingKey).toBe('/applicationNumber');
    expect(t!.roles).toEqual(['visa-authority']);
    expect(t!.article).toMatch(/767\/2008.*Art 9/);
    expect(getTypeByXmlName('ApplicationCreate')).toBe(t);
  });

  it('answers undefined for an unknown type id', () => {
    expect(getType('vis.no.such.type')).toBeUndefined();
    expect(getType('')).toBeUndefined();
  });

  it('lists every type once, with unique ids and wire names (answer elements included)', () => {
    const types = ALL;
    expect(types.length).toBeGreaterThanOrEqual(1);
    expect(new Set(types.map((t) => t.id)).size).toBe(types.length);
    const names = types.flatMap((t) => [t.xmlName, ...(t.answer ? [t.answer.xmlName] : [])]);
    expect(new Set(names).size).toBe(names.length);
  });

  it('holds exactly the short-stay, LSV/RP, interoperability and consultation types of the issue', () => {
    expect(listTypes().map((t) => t.id)).toEqual(EXPECTED_TYPES);
  });

  it('lists the outbound types by default, the notifications with direction inbound, both with all', () => {
    expect(listTypes({ direction: 'outbound' })).toBe(listTypes());
    expect(listTypes().every((t) => t.direction === 'outbound')).toBe(true);
    expect(listTypes({ direction: 'inbound' }).map((t) => t.id)).toEqual(EXPECTED_INBOUND);
    expect(listTypes({ direction: 'inbound' }).every((t) => t.direction === 'inbound')).toBe(true);
    expect(ALL.map((t) => t.id)).toEqual([...EXPECTED_TYPES, ...EXPECTED_INBOUND]);
    for (const list of [listTypes(), listTypes({ direction: 'inbound' }), ALL]) expect(Object.isFrozen(list)).toBe(true);
    expect(() => listTypes({ direction: 'sideways' as 'all' })).toThrow(/unknown direction/);
    // Names every object inherits are not directions either.
    for (const inherited of ['constructor', '__proto__', 'toString']) expect(() => listTypes({ direction: inherited as 'all' })).toThrow(/unknown direction/);
  });

  it('finds inbound types by id and wire name, and tells them apart with isInbound', () => {
    for (const id of EXPECTED_INBOUND) {
      const t = getType(id);
      expect([id, t?.direction]).toEqual([id, 'inbound']);
      expect(getTypeByXmlName(t!.xmlName)).toBe(t);
      expect(isInbound(id)).toBe(true);
    }
    for (const id of EXPECTED_TYPES) expect([id, isInbound(id)]).toEqual([id, false]);
    expect(isInbound('vis.no.such.type')).toBe(false);
  });

  it('gives inbound types no roles and no answer data, and names the outbound type UMA replies with, on the same ordering key', () => {
    const replies = Object.fromEntries(listTypes({ direction: 'inbound' }).map((t) => [t.id, t.replyType]));
    expect(replies).toEqual({
      'vis.notification.hit': 'vis.hit.verify',
      'io.mid.notification.yellow-link': 'io.mid.link.verify',
      'vismail.notification.consultation': 'vismail.consultation.reply',
      'vis.notification.amended': undefined,
      'vis.notification.deleted': undefined,
    });
    for (const t of listTypes({ direction: 'inbound' })) {
      expect([t.id, t.roles, t.answer]).toEqual([t.id, [], undefined]);
      if (t.replyType) expect([t.id, getType(t.replyType)!.direction, getType(t.replyType)!.orderingKey]).toEqual([t.id, 'outbound', t.orderingKey]);
    }
    for (const t of listTypes()) expect([t.id, t.replyType]).toEqual([t.id, undefined]);
  });

  it('refuses a definition that mixes the directions (roles on an inbound type, none on an outbound one, a reply from an outbound one)', () => {
    const base = { id: 'vis.notification.hit', title: 'test', article: 'test', xmlName: 'X', orderingKey: '/applicationNumber' };
    expect(() => defineType({ ...base, direction: 'inbound', roles: ['admin'] })).toThrow(/no roles/);
    expect(() => defineType({ ...base, direction: 'inbound', roles: [], answerXmlName: 'XAnswer' })).toThrow(/no answer data/);
    expect(() => defineType({ ...base, roles: [] })).toThrow(/at least one role/);
    expect(() => defineType({ ...base, roles: ['admin'], replyType: 'vis.hit.verify' })).toThrow(/inbound types only/);
    expect(defineType({ ...base, direction: 'inbound', roles: [] }).direction).toBe('inbound');
  });

  it('has answer data for searches and retrievals only, found by its wire element', () => {
    const withAnswer = ALL.filter((t) => t.answer).map((t) => t.id);
    expect(withAnswer).toEqual(['vis.application.search', 'vis.application.retrieve', 'io.esp.search', 'io.mid.icf.retrieve']);
    for (const id of withAnswer) expect(getTypeByAnswerXmlName(getType(id)!.answer!.xmlName)).toBe(getType(id));
    expect(getTypeByAnswerXmlName('ApplicationCreate')).toBeUndefined();
  });

  it('keys the application-related types on the application number', () => {
    const byKey = Object.fromEntries(listTypes().map((t) => [t.id, t.orderingKey]));
    for (const id of EXPECTED_TYPES.filter((x) => !['vis.application.search', 'io.esp.search', 'io.mid.link.verify', 'io.mid.icf.retrieve'].includes(x))) {
      expect([id, byKey[id]]).toEqual([id, '/applicationNumber']);
    }
    expect(byKey['vis.application.search']).toBe('/examinedApplicationNumber');
    expect(byKey['io.esp.search']).toBe('/caseReference');
    expect(byKey['io.mid.link.verify']).toBe('/linkId');
    expect(byKey['io.mid.icf.retrieve']).toBe('/linkId');
  });

  it('keys the notifications on the file they are about, or the link', () => {
    const byKey = Object.fromEntries(listTypes({ direction: 'inbound' }).map((t) => [t.id, t.orderingKey]));
    expect(byKey).toEqual({
      'vis.notification.hit': '/applicationNumber',
      'io.mid.notification.yellow-link': '/linkId',
      'vismail.notification.consultation': '/applicationNumber',
      'vis.notification.amended': '/applicationNumber',
      'vis.notification.deleted': '/applicationNumber',
    });
  });

  it('keeps the $defs shared between schema files identical (one definition, copied into each file)', () => {
    const seen = new Map<string, { file: string; json: string }>();
    const drift: string[] = [];
    for (const { file, schema } of schemaFiles()) {
      for (const [name, def] of Object.entries((schema.$defs ?? {}) as Record<string, unknown>)) {
        const json = JSON.stringify(def);
        const first = seen.get(name);
        if (!first) seen.set(name, { file, json });
        else if (first.json !== json) drift.push(`${name}: ${first.file} and ${file} differ`);
      }
    }
    expect(drift).toEqual([]);
    expect(seen.has('CountryCode')).toBe(true);
  });

  it('has a schema file for every type and answer, and no other', () => {
    const expected = ALL.flatMap((t) => [`${t.id}.schema.json`, ...(t.answer ? [`${t.id}.answer.schema.json`] : [])]).sort();
    expect(schemaFiles().map((f) => f.file)).toEqual(expected);
  });

  it('lists every type with its article, roles and ordering key in docs/message-types.md, notifications in their own table', () => {
    const doc = readFileSync(join(packageRoot(), 'docs', 'message-types.md'), 'utf8');
    const inboundAt = doc.indexOf('## Inbound (central → national)');
    expect(inboundAt).toBeGreaterThan(0);
    const lines = doc.split('\n');
    for (const t of ALL) {
      const index = lines.findIndex((l) => l.startsWith(`| \`${t.id}\` |`));
      expect([t.id, index >= 0]).toEqual([t.id, true]);
      const row = lines[index];
      expect(row).toContain(`\`${t.orderingKey}\``);
      for (const r of t.roles) expect(row).toContain(r);
      if (t.replyType) expect(row).toContain(`\`${t.replyType}\``);
      const offset = lines.slice(0, index).join('\n').length;
      expect([t.id, offset > inboundAt]).toEqual([t.id, t.direction === 'inbound']);
    }
  });

  it('freezes the list, the entries and their schemas deeply', () => {
    const types = listTypes();
    expect(Object.isFrozen(types)).toBe(true);
    const t = types[0];
    expect(Object.isFrozen(t)).toBe(true);
    expect(Object.isFrozen(t.schema)).toBe(true);
    expect(Object.isFrozen(t.roles)).toBe(true);
    expect(Object.isFrozen((t.schema.properties as Record<string, unknown>).applicant)).toBe(true);
    expect(() => (types as unknown as unknown[]).push(t)).toThrow(TypeError);
  });

  describe.each(ALL.map((t) => [t.id, t] as const))('%s', (id, spec) => {
    it('has a draft 2020-12 schema whose $id names its file', () => {
      expect(spec.schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
      expect(String(spec.schema.$id)).toMatch(new RegExp(`/${id.replace(/\./g, '\\.')}\\.schema\\.json$`));
      expect(existsSync(join(packageRoot(), 'schemas', 'json', `${id}.schema.json`))).toBe(true);
    });

    it('compiles under ajv strict mode (the answer schema too)', () => {
      const ajv = createAjv();
      expect(() => ajv.compile(spec.schema as Record<string, unknown>)).not.toThrow();
      if (spec.answer) expect(() => ajv.compile(spec.answer!.schema as Record<string, unknown>)).not.toThrow();
    });

    it('stays inside the wire profile (every construct maps to XML losslessly), the answer schema too', () => {
      expect(() => compileShape(spec.schema)).not.toThrow();
      if (spec.answer) expect(() => compileShape(spec.answer!.schema)).not.toThrow();
    });

    it('names its legal basis, at least one known role (none when inbound), and unique business rule ids', () => {
      expect(spec.article).toMatch(/(767\/2008|2019\/817)/);
      expect(spec.title.length).toBeGreaterThan(10);
      expect(['outbound', 'inbound']).toContain(spec.direction);
      if (spec.direction === 'outbound') expect(spec.roles.length).toBeGreaterThan(0);
      else expect(spec.roles).toEqual([]);
      for (const r of spec.roles) expect(CLIENT_ROLES).toContain(r);
      const ids = (spec.rules ?? []).map((r) => r.id);
      expect(new Set(ids).size).toBe(ids.length);
    });

    it('has its ordering key as a required string property of the payload', () => {
      const key = spec.orderingKey.slice(1);
      expect(spec.orderingKey).toMatch(/^\/[A-Za-z]+$/);
      expect(spec.schema.required).toContain(key);
    });

    if (spec.answer) {
      it('has at least one example of its answer data', () => {
        expect(loadAnswerExamples(id).length).toBeGreaterThanOrEqual(1);
      });

      it('has an answer schema that names its request type first (answerTo) and whose $id names its file', () => {
        const props = spec.answer!.schema.properties as Partial<Record<string, { const?: string }>>;
        expect(Object.keys(props)[0]).toBe('answerTo');
        expect(props.answerTo!.const).toBe(id);
        expect(String(spec.answer!.schema.$id)).toMatch(new RegExp(`/${id.replace(/\./g, '\\.')}\\.answer\\.schema\\.json$`));
      });
    }

    it('has at least one valid and two invalid examples, each invalid one with its expectation', () => {
      const { valid, invalid } = loadExamples(id);
      expect(valid.length).toBeGreaterThanOrEqual(1);
      expect(invalid.length).toBeGreaterThanOrEqual(2);
      for (const ex of invalid) expect(ex.expect?.errors.length).toBeGreaterThan(0);
      const dir = join(packageRoot(), 'schemas', 'examples', id);
      const orphans = readdirSync(dir).filter((f) => f.endsWith('.expect.json') && !existsSync(join(dir, f.replace('.expect.json', '.json'))));
      expect(orphans).toEqual([]);
    });

    it('finds a string ordering key in every valid example', () => {
      for (const ex of loadExamples(id).valid) expect(typeof at(ex.payload, spec.orderingKey)).toBe('string');
    });
  });

  it('loads schemas from the package root, not from a path relative to src/', () => {
    const root = packageRoot();
    expect(existsSync(join(root, 'package.json'))).toBe(true);
    expect(existsSync(join(root, 'schemas', 'json'))).toBe(true);
  });

  describe('compiled', () => {
    const compiled = join(packageRoot(), 'dist', 'src', 'catalogue', 'catalogue.js');
    // Built here when absent or older than the catalogue's sources, so the test never skips.
    beforeAll(() => {
      const sources = readdirSync(join(packageRoot(), 'src', 'catalogue'), { recursive: true, encoding: 'utf8' })
        .filter((f) => f.endsWith('.ts')).map((f) => statSync(join(packageRoot(), 'src', 'catalogue', f)).mtimeMs);
      if (!existsSync(compiled) || statSync(compiled).mtimeMs < Math.max(...sources)) {
        execFileSync('npm', ['run', 'build', '--silent'], { cwd: packageRoot(), stdio: 'pipe' });
      }
    }, 180000);

    it('loads the same catalogue from the compiled dist/src', () => {
      expect(existsSync(compiled)).toBe(true);
      const out = execFileSync(process.execPath, ['-e', `const c=require(${JSON.stringify(compiled)});process.stdout.write(JSON.stringify(c.listTypes().map(t=>[t.id,t.schema.$id])))`], {
        encoding: 'utf8',
      });
      const types = JSON.parse(out) as unknown[];
      expect(types.length).toBe(EXPECTED_TYPES.length);
      expect(types).toEqual(listTypes().map((t) => [t.id, t.schema.$id]));
    });
  });

  it('describes each [M]-marked (unverified) point in the schema text', () => {
    // VIS.md marks Arts 11, 13, 22c, 22e, 22f as remembered wording: their schemas say so.
    for (const id of ['vis.examination.discontinue', 'vis.visa.annul', 'vis.visa.revoke', 'vis.lsvrp.issue', 'vis.lsvrp.withdraw', 'vis.lsvrp.extend']) {
      expect([id, String(getType(id)!.schema.description)]).toEqual([id, expect.stringMatching(/\[M[:\]]/)]);
    }
  });

  it('describes the unverified points of the notifications as [M], where VIS.md leaves them unverified', () => {
    const described = (id: string, pointer: string): string => String((at(getType(id)!.schema, pointer) as { description?: string }).description);
    const cases: [string, string][] = [
      ['vis.notification.hit', ''], // Art 9a, 9c numbering
      ['vis.notification.hit', '/$defs/HitToVerify/properties/verifier'],
      ['io.mid.notification.yellow-link', '/properties/reason'], // Art 30(1) cases
      ['io.mid.notification.yellow-link', '/properties/verifyBy'], // time limits
      ['vismail.notification.consultation', '/properties/replyBy'], // Visa Code Art 22(2) 7 days
      ['vis.notification.deleted', '/properties/ground'], // Art 25(3)
    ];
    for (const [id, pointer] of cases) expect([id, pointer, described(id, pointer)]).toEqual([id, pointer, expect.stringMatching(/\[M[:\]]/)]);
  });

  it('keeps the notifications free of names, dates of birth and document numbers, and says so', () => {
    for (const t of listTypes({ direction: 'inbound' })) {
      const text = JSON.stringify(t.schema);
      expect([t.id, /"(surname|firstNames|dateOfBirth|TravelDocumentNumber|PersonName)"/.test(text)]).toEqual([t.id, false]);
      expect([t.id, text.includes('x-icao-transliteration')]).toEqual([t.id, false]);
      expect([t.id, String(t.schema.description)]).toEqual([t.id, expect.stringMatching(/Personal data/)]);
    }
  });
});
