import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { run } from '../../src/cli/main';
import { exampleTypeOf } from '../../src/cli/commands/validate';
import { listTypes } from '../../src/catalogue/catalogue';
import { buildRequestXml } from '../../src/wire/envelope';

const EXAMPLES = path.join(__dirname, '..', '..', 'schemas', 'examples');

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await run(argv, { out: (s) => { out += s; }, err: (s) => { err += s; } });
  return { code, out, err };
}

/** The pointers printed for `file`, in order. */
function pointersOf(out: string, file: string): string[] {
  return out.split('\n').filter((l) => l.startsWith(`${file}: /`)).map((l) => l.slice(file.length + 2).split(': ')[0]);
}

describe('davis validate with bare payload files', () => {
  let dir: string;
  beforeAll(() => { dir = mkdtempSync(path.join(os.tmpdir(), 'davis-validate-payload-')); });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('in schemas/examples/<type>/ the type comes from the folder: valid ones pass, invalid ones give their pointers under /payload', async () => {
    let checked = 0;
    for (const t of listTypes({ direction: 'all' })) {
      for (const f of readdirSync(path.join(EXAMPLES, t.id)).filter((n) => /^(valid|invalid)-.*\.json$/.test(n) && !n.endsWith('.expect.json'))) {
        const file = path.join(EXAMPLES, t.id, f);
        const r = await cli('validate', file);
        checked++;
        if (f.startsWith('valid-')) {
          expect([file, r.code, r.out]).toEqual([file, 0, `${file}: valid\n`]);
        } else {
          const expected = JSON.parse(readFileSync(file.replace(/\.json$/, '.expect.json'), 'utf8')) as { errors: { pointer: string }[] };
          expect([file, r.code]).toEqual([file, 1]);
          expect([file, pointersOf(r.out, file).sort()]).toEqual([file, expected.errors.map((e) => `/payload${e.pointer}`).sort()]);
        }
      }
    }
    expect(checked).toBeGreaterThan(100);
  });

  test('--type T validates a payload file anywhere; without it a bare payload outside the examples is read as an envelope', async () => {
    const src = path.join(EXAMPLES, 'vis.application.create');
    const valid = readdirSync(src).find((n) => n.startsWith('valid-'))!;
    const file = path.join(dir, valid);
    copyFileSync(path.join(src, valid), file);
    expect(await cli('validate', '--type', 'vis.application.create', file)).toEqual({ code: 0, out: `${file}: valid\n`, err: '' });
    const envelope = await cli('validate', file);
    expect(envelope.code).toBe(1);
    expect(pointersOf(envelope.out, file)).toEqual(expect.arrayContaining(['/type', '/payload']));
    // another type's schema refuses it, with the API's pointers
    const other = await cli('validate', '--type', 'vis.application.delete', file);
    expect(other.code).toBe(1);
    expect(pointersOf(other.out, file).every((p) => p.startsWith('/payload'))).toBe(true);
  });

  test('--type overrides the folder, and the examples\' .expect.json files are skipped', async () => {
    const folder = path.join(EXAMPLES, 'vis.application.create');
    const expectFile = path.join(folder, readdirSync(folder).find((n) => n.endsWith('.expect.json'))!);
    const r = await cli('validate', expectFile);
    expect(r).toEqual({ code: 0, out: `${expectFile}: skipped (what an invalid example must produce)\n`, err: '' });
    const valid = path.join(folder, readdirSync(folder).find((n) => n.startsWith('valid-'))!);
    expect((await cli('validate', '--type', 'vis.application.delete', valid)).code).toBe(1);
  });

  test('the folder gives a type only when it is a catalogue type under schemas/examples', () => {
    expect(exampleTypeOf(path.join(EXAMPLES, 'vis.application.create', 'valid-x.json'))).toBe('vis.application.create');
    expect(exampleTypeOf(path.join(dir, 'schemas', 'examples', 'vis.nothing', 'valid-x.json'))).toBeUndefined();
    expect(exampleTypeOf(path.join(dir, 'vis.application.create', 'valid-x.json'))).toBeUndefined();
  });

  test('a payload that is not an object, or not JSON, is invalid (exit 1) with a pointer', async () => {
    const arr = path.join(dir, 'array.json');
    writeFileSync(arr, '[]');
    const r = await cli('validate', '--type', 'vis.application.create', arr);
    expect(r.code).toBe(1);
    expect(pointersOf(r.out, arr)).toEqual(['/payload']);
    const bad = path.join(dir, 'bad.json');
    writeFileSync(bad, '{');
    const b = await cli('validate', '--type', 'vis.application.create', bad);
    expect(b.code).toBe(1);
    expect(b.out).toContain(`${bad}: /: not JSON`);
  });

  test('wire XML with --type must be of that type', async () => {
    const folder = path.join(EXAMPLES, 'vis.application.create');
    const payload = JSON.parse(readFileSync(path.join(folder, readdirSync(folder).find((n) => n.startsWith('valid-'))!), 'utf8'));
    const xml = path.join(dir, 'request.xml');
    writeFileSync(xml, buildRequestXml({ messageId: '3f0c1d2e-1111-4222-8333-444455556666', type: 'vis.application.create', sender: 'FI', created: '2026-11-25T10:00:00.000Z' }, payload));
    expect((await cli('validate', '--type', 'vis.application.create', xml)).code).toBe(0);
    const other = await cli('validate', '--type', 'vis.application.delete', xml);
    expect(other.code).toBe(1);
    expect(other.out).toContain('a vis.application.create document, not --type vis.application.delete');
  });
});
