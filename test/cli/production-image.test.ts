/**
 * The production image holds dist/src without dist/src/dev, bin, schemas, package.json and
 * node_modules: no mock, no development PKI. These tests build that layout from the compiled
 * tree (`npm run build` first) and check that the production commands work there, that the
 * development commands say what is missing and exit 2, and that loading the CLI or the
 * library never loads a development tool.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const ROOT = path.join(__dirname, '..', '..');
let image: string;

function davis(cwd: string, ...args: string[]) {
  const r = spawnSync(process.execPath, [path.join(cwd, 'bin', 'davis.js'), ...args], {
    cwd, encoding: 'utf8', timeout: 60_000, env: { ...process.env, DAVIS_DATA_DIR: path.join(cwd, 'data') },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

beforeAll(() => {
  expect(existsSync(path.join(ROOT, 'dist', 'src', 'cli', 'main.js'))).toBe(true);
  image = mkdtempSync(path.join(os.tmpdir(), 'davis-image-'));
  cpSync(path.join(ROOT, 'dist', 'src'), path.join(image, 'dist', 'src'), { recursive: true, filter: (f) => !/[\\/]dist[\\/]src[\\/]dev([\\/]|$)/.test(f) });
  for (const d of ['bin', 'schemas']) cpSync(path.join(ROOT, d), path.join(image, d), { recursive: true });
  cpSync(path.join(ROOT, 'package.json'), path.join(image, 'package.json'));
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(image, 'node_modules'), 'dir');
});
afterAll(() => rmSync(image, { recursive: true, force: true }));

describe('the production layout (no mocks/, no src/dev/)', () => {
  test('the layout really lacks the development tools', () => {
    expect(existsSync(path.join(image, 'dist', 'mocks'))).toBe(false);
    expect(existsSync(path.join(image, 'dist', 'src', 'dev'))).toBe(false);
    expect(existsSync(path.join(image, 'dist', 'src', 'cli', 'main.js'))).toBe(true);
  });

  test('production commands run', () => {
    const r = davis(image, 'catalogue', '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out).length).toBeGreaterThan(0);
    expect(davis(image, 'serve', '--help').code).toBe(0);
    const file = path.join(image, 'bad.json');
    writeFileSync(file, '{"type":"nope","payload":{}}');
    expect(davis(image, 'validate', file).code).toBe(1);
  });

  test.each([
    [['mock-vis'], /mock central VIS is not in this image/],
    [['dev'], /mock central VIS is not in this image/],
    [['certs', 'init', 'pki'], /development PKI is not in this image/],
  ])('davis %j exits 2 with one line naming what is missing', (args, message) => {
    const r = davis(image, ...args);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(existsSync(path.join(image, 'pki'))).toBe(false);
  });
});

test('loading the CLI and the library loads neither the mock nor the development PKI', () => {
  const script = `
    require(${JSON.stringify(path.join(ROOT, 'dist', 'src', 'cli', 'main.js'))});
    require(${JSON.stringify(path.join(ROOT, 'dist', 'src', 'index.js'))});
    const loaded = Object.keys(require.cache);
    process.stdout.write(JSON.stringify({ total: loaded.length, dev: loaded.filter((f) => /[\\\\/](mocks|dist[\\\\/]src[\\\\/]dev)[\\\\/]/.test(f)) }));
  `;
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
  expect(r.status).toBe(0);
  const { total, dev } = JSON.parse(r.stdout) as { total: number; dev: string[] };
  expect(total).toBeGreaterThan(20);
  expect(dev).toEqual([]);
});
