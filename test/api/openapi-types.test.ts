import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { startApi, type ApiHarness } from './harness';

const run = promisify(execFile);
const bin = (name: string) => path.join(__dirname, '..', '..', 'node_modules', '.bin', name);

describe('a typed client generated from /docs/openapi.json', () => {
  let h: ApiHarness;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'davis-openapi-ts-'));
  beforeAll(async () => {
    h = await startApi();
    writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { strict: true, noEmit: true, target: 'ES2022', module: 'nodenext', moduleResolution: 'nodenext', lib: ['ES2022', 'DOM'], types: [], skipLibCheck: false },
      files: ['typed-client.mts'],
    }));
  }, 60000);
  afterAll(async () => {
    await h.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const tsc = (project: string) => run(process.execPath, [path.join(__dirname, '..', '..', 'node_modules', 'typescript', 'bin', 'tsc'), '-p', project], { cwd: dir }).then(() => '', (err: unknown) => (err as { stdout?: string }).stdout ?? String(err));

  test('openapi-typescript generates the types and a POST /v1/messages client type-checks against them (tsc --noEmit)', async () => {
    const res = await h.gw.app.inject({ method: 'GET', url: '/docs/openapi.json' });
    expect(res.statusCode).toBe(200);
    writeFileSync(path.join(dir, 'openapi.json'), res.body);
    await run(bin('openapi-typescript'), [path.join(dir, 'openapi.json'), '-o', path.join(dir, 'openapi.d.mts')], { cwd: dir });
    const types = readFileSync(path.join(dir, 'openapi.d.mts'), 'utf8');
    expect(types).toContain('"/v1/messages": {');
    expect(types).toContain('type: "vis.application.delete";');
    copyFileSync(path.join(__dirname, 'fixtures', 'typed-client.mts'), path.join(dir, 'typed-client.mts'));
    expect(await tsc(dir)).toBe('');
  }, 60000);

  test('the check fails when the client sends what the document does not allow', async () => {
    const bad = readFileSync(path.join(__dirname, 'fixtures', 'typed-client.mts'), 'utf8')
      .replace("reason: 'ACQUIRED_MEMBER_STATE_NATIONALITY',\n    nationalityAcquired", "reason: 'BECAUSE',\n    nationalityAcquired");
    expect(bad).toContain("'BECAUSE'");
    writeFileSync(path.join(dir, 'typed-client.mts'), bad);
    expect(await tsc(dir)).toMatch(/typed-client\.mts\(\d+,\d+\): error TS2322/);
  }, 60000);
});
