/**
 * What a program gets from `require('davis-gateway')`: the compiled package resolved by name
 * through its `exports` map (`npm run build` first), exactly the library surface of
 * src/index.ts, and nothing under dist/ reachable by a deep path.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const ROOT = path.join(__dirname, '..', '..');

/** The runtime names of the library surface; types are checked by the compiler, not here. */
const SURFACE = [
  'DEFAULT_SCREEN_LIMITS', 'DavisError', 'ERRORS', 'MESSAGE_STATES', 'WIRE_NS',
  'buildRequestXml', 'buildResponseXml', 'createXsdValidator', 'getType', 'isDavisError', 'isInbound', 'listTypes',
  'loadSigningKey', 'loadTrustStore', 'readRequest', 'readResponse', 'readWire', 'screenXml', 'signCanonical', 'signEnveloped',
  'validatePayload', 'verifyEnveloped',
];

let consumer: string;

/** Runs `script` in a program that has davis-gateway installed under node_modules. */
function node(script: string): { status: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, ['-e', script], { cwd: consumer, encoding: 'utf8' });
  return { status: r.status, out: r.stdout, err: r.stderr };
}

beforeAll(() => {
  expect(existsSync(path.join(ROOT, 'dist', 'src', 'index.js'))).toBe(true);
  consumer = mkdtempSync(path.join(os.tmpdir(), 'davis-consumer-'));
  mkdirSync(path.join(consumer, 'node_modules'));
  symlinkSync(ROOT, path.join(consumer, 'node_modules', 'davis-gateway'), 'dir');
});
afterAll(() => rmSync(consumer, { recursive: true, force: true }));

test('require("davis-gateway") exposes exactly the library surface', () => {
  const r = node(`process.stdout.write(JSON.stringify(Object.keys(require('davis-gateway')).sort()))`);
  expect(r.err).toBe('');
  expect(JSON.parse(r.out)).toEqual([...SURFACE].sort());
});

test('the surface works from the installed package', () => {
  const r = node(`
    const d = require('davis-gateway');
    const types = d.listTypes({ direction: 'all' });
    process.stdout.write(JSON.stringify({ n: types.length, found: !!d.getType(types[0].id), err: new d.DavisError('DAVIS_ERR_CONFIG_INVALID', 'x').code }));
  `);
  expect(r.err).toBe('');
  const out = JSON.parse(r.out) as { n: number; found: boolean; err: string };
  expect(out.n).toBeGreaterThan(0);
  expect(out.found).toBe(true);
  expect(out.err).toBe('DAVIS_ERR_CONFIG_INVALID');
});

test('package.json is exported; internals and the dev PKI are not', () => {
  expect(node(`process.stdout.write(require('davis-gateway/package.json').name)`).out).toBe('davis-gateway');
  for (const deep of ['davis-gateway/dist/src/dev/dev-pki.js', 'davis-gateway/dist/src/app/gateway.js', 'davis-gateway/dist/mocks/central/server.js']) {
    const r = node(`try { require(${JSON.stringify(deep)}); process.stdout.write('loaded'); } catch (e) { process.stdout.write(e.code); }`);
    expect([deep, r.out]).toEqual([deep, 'ERR_PACKAGE_PATH_NOT_EXPORTED']);
  }
});

test('the types the exports map names exist', () => {
  expect(existsSync(path.join(ROOT, 'dist', 'src', 'index.d.ts'))).toBe(true);
});
