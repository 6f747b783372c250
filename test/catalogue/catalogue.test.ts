import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { getType, getTypeByXmlName, listTypes } from '../../src/catalogue/catalogue';
import { packageRoot } from '../../src/catalogue/schema-file';
import { compileShape } from '../../src/wire/mapping';
import { loadExamples } from '../validation/examples';

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

  it('lists every type once, with unique ids and wire names', () => {
    const types = listTypes();
    expect(types.length).toBeGreaterThanOrEqual(1);
    expect(new Set(types.map((t) => t.id)).size).toBe(types.length);
    expect(new Set(types.map((t) => t.xmlName)).size).toBe(types.length);
  });

  it('freezes the list, the entries and their schemas deeply', () => {
    const types = listTypes();
    expect(Object.isFrozen(types)).toBe(true);
    const t = types[0]!;
    expect(Object.isFrozen(t)).toBe(true);
    expect(Object.isFrozen(t.schema)).toBe(true);
    expect(Object.isFrozen(t.roles)).toBe(true);
    expect(Object.isFrozen((t.schema.properties as Record<string, unknown>).applicant)).toBe(true);
    expect(() => (types as unknown as unknown[]).push(t)).toThrow(TypeError);
  });

  describe.each(listTypes().map((t) => [t.id, t] as const))('%s', (id, spec) => {
    it('has a draft 2020-12 schema whose $id names its file', () => {
      expect(spec.schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
      expect(String(spec.schema.$id)).toMatch(new RegExp(`/${id.replace(/\./g, '\\.')}\\.schema\\.json$`));
      expect(existsSync(join(packageRoot(), 'schemas', 'json', `${id}.schema.json`))).toBe(true);
    });

    it('compiles under ajv strict mode', () => {
      const ajv = new Ajv2020({ strict: true, allErrors: true });
      addFormats(ajv);
      expect(() => ajv.compile(spec.schema as Record<string, unknown>)).not.toThrow();
    });

    it('stays inside the wire profile (every construct maps to XML losslessly)', () => {
      expect(() => compileShape(spec.schema)).not.toThrow();
    });

    it('has at least two valid and three invalid examples, each invalid one with its expectation', () => {
      const { valid, invalid } = loadExamples(id);
      expect(valid.length).toBeGreaterThanOrEqual(2);
      expect(invalid.length).toBeGreaterThanOrEqual(3);
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

  const compiled = join(packageRoot(), 'dist', 'src', 'catalogue', 'catalogue.js');
  (existsSync(compiled) ? it : it.skip)('loads the same catalogue from the compiled dist/src (when built)', () => {
    const out = execFileSync(process.execPath, ['-e', `const c=require(${JSON.stringify(compiled)});process.stdout.write(JSON.stringify(c.listTypes().map(t=>[t.id,t.schema.$id])))`], {
      encoding: 'utf8',
    });
    expect(JSON.parse(out)).toEqual(listTypes().map((t) => [t.id, t.schema.$id]));
  });
});
