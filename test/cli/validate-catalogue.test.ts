import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { run } from '../../src/cli/main';
import { listTypes } from '../../src/catalogue/catalogue';
import { buildRequestXml } from '../../src/wire/envelope';

const EXAMPLES = path.join(__dirname, '..', '..', 'schemas', 'examples');

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await run(argv, { out: (s) => { out += s; }, err: (s) => { err += s; } });
  return { code, out, err };
}

describe('davis validate and davis catalogue', () => {
  let dir: string;
  beforeAll(() => { dir = mkdtempSync(path.join(os.tmpdir(), 'davis-validate-')); });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const write = (name: string, content: string) => {
    const f = path.join(dir, name);
    writeFileSync(f, content);
    return f;
  };

  test('every valid example of every type, as a message, is valid (exit 0); every invalid one gives its pointers (exit 1)', async () => {
    for (const t of listTypes({ direction: 'all' })) {
      for (const f of readdirSync(path.join(EXAMPLES, t.id)).filter((n) => /^(valid|invalid)-.*\.json$/.test(n) && !n.endsWith('.expect.json'))) {
        const payload = JSON.parse(readFileSync(path.join(EXAMPLES, t.id, f), 'utf8'));
        const file = write(`${t.id}-${f}`, JSON.stringify({ type: t.id, payload }));
        const r = await cli('validate', file);
        if (f.startsWith('valid-')) {
          expect([f, r.code, r.out]).toEqual([f, 0, `${file}: valid\n`]);
        } else {
          const expected = JSON.parse(readFileSync(path.join(EXAMPLES, t.id, f.replace(/\.json$/, '.expect.json')), 'utf8')) as { errors: { pointer: string }[] };
          expect([f, r.code]).toEqual([f, 1]);
          for (const e of expected.errors) expect(r.out).toContain(`${file}: /payload${e.pointer}: `);
        }
      }
    }
  });

  test('wire XML is screened and checked against the XSD', async () => {
    const payload = JSON.parse(readFileSync(path.join(EXAMPLES, 'vis.application.create', readdirSync(path.join(EXAMPLES, 'vis.application.create')).find((n) => n.startsWith('valid-'))!), 'utf8'));
    const xml = buildRequestXml({ messageId: '3f0c1d2e-1111-4222-8333-444455556666', type: 'vis.application.create', sender: 'FI', created: '2026-11-25T10:00:00.000Z' }, payload);
    expect((await cli('validate', write('ok.xml', xml))).code).toBe(0);
    const broken = await cli('validate', write('bad.xml', xml.replace(/<w:applicationNumber>[^<]*<\/w:applicationNumber>/, '')));
    expect(broken.code).toBe(1);
    expect(broken.out).toMatch(/bad\.xml: \/w:Request\/w:Body\/w:ApplicationCreate/);
    const doctype = await cli('validate', write('doctype.xml', '<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>'));
    expect(doctype.code).toBe(1);
    expect(doctype.out).toContain('DAVIS_ERR_XML_DOCTYPE');
    expect((await cli('validate', path.join(dir, 'missing.json'))).code).toBe(2);
    const unknown = await cli('validate', write('unknown.json', JSON.stringify({ type: 'vis.nothing', payload: {} })));
    expect(unknown.code).toBe(1);
    expect(unknown.out).toContain('/type');
  });

  test('davis catalogue --json lists every type with direction, article, roles and ordering key', async () => {
    const r = await cli('catalogue', '--json');
    expect(r.code).toBe(0);
    const list = JSON.parse(r.out) as { id: string; direction: string; article: string; roles: string[]; orderingKey: string }[];
    expect(list.map((t) => t.id)).toEqual(listTypes({ direction: 'all' }).map((t) => t.id));
    expect(list.filter((t) => t.direction === 'inbound')).toHaveLength(5);
    for (const t of list) {
      expect(t.article).toMatch(/Art/);
      expect(t.orderingKey).toMatch(/^\//);
      if (t.direction === 'outbound') expect(t.roles.length).toBeGreaterThan(0);
    }
    const table = await cli('catalogue');
    expect(table.out.split('\n')[0]).toMatch(/^TYPE\s+DIRECTION\s+ARTICLE\s+ROLES\s+ORDERING KEY\s+TITLE$/);
  });
});
