import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { startApi, type ApiHarness } from './harness';

const run = promisify(execFile);
const spectral = path.join(__dirname, '..', '..', 'node_modules', '.bin', 'spectral');

interface SpectralResult { code: string; message: string; severity: number; path: string[] }

describe('spectral lint of /docs/openapi.json (ruleset spectral:oas)', () => {
  let h: ApiHarness;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'davis-spectral-'));
  beforeAll(async () => {
    h = await startApi();
    writeFileSync(path.join(dir, '.spectral.yaml'), 'extends: ["spectral:oas"]\n');
  }, 60000);
  afterAll(async () => {
    await h.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Every result of spectral on a document, whatever its severity. */
  async function lint(doc: unknown): Promise<string[]> {
    const file = path.join(dir, 'openapi.json');
    writeFileSync(file, JSON.stringify(doc, null, 1));
    const { stdout } = await run(spectral, ['lint', file, '--ruleset', path.join(dir, '.spectral.yaml'), '--format', 'json', '--fail-severity', 'hint', '--quiet'], { cwd: dir, maxBuffer: 64 << 20 })
      .catch((err: unknown) => { const e = err as { stdout?: string; stderr?: string }; const printed = e.stdout ?? ''; return { stdout: printed.length > 0 ? printed : `[{"code":"spectral","message":${JSON.stringify(e.stderr ?? '')},"severity":0,"path":[]}]` }; });
    return (JSON.parse(stdout) as SpectralResult[]).map((r) => `${r.code} ${r.path.join('.')}: ${r.message}`);
  }

  test('no error, warning, information or hint', async () => {
    const res = await h.gw.app.inject({ method: 'GET', url: '/docs/openapi.json' });
    expect(await lint(JSON.parse(res.body))).toEqual([]);
  }, 120000);

  test('spectral does see problems: an operation without tags and an example that breaks its schema', async () => {
    const doc = JSON.parse((await h.gw.app.inject({ method: 'GET', url: '/docs/openapi.json' })).body);
    delete doc.paths['/health/live'].get.tags;
    const ex = Object.values(doc.paths['/v1/messages'].post.requestBody.content['application/json'].examples)[0] as { value: { payload: Record<string, unknown> } };
    ex.value.payload.notInTheSchema = true;
    const found = await lint(doc);
    expect(found.some((r) => r.startsWith('operation-tags paths./health/live.get'))).toBe(true);
    expect(found.some((r) => r.startsWith('oas3-valid-media-example'))).toBe(true);
  }, 120000);
});
