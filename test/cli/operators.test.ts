import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { run } from '../../src/cli/main';
import { listTypes } from '../../src/catalogue/catalogue';
import { loadConfig } from '../../src/config/config';
import { api, startStack, waitFor, type Stack } from '../helpers/stack';
import { freshApplication } from '../helpers/payloads';

const EXAMPLES = path.join(__dirname, '..', '..', 'schemas', 'examples');
const sha = (t: string) => createHash('sha256').update(t).digest('hex');
const ADMIN = 'admin-token-for-the-cli-test';
const UMA = 'uma-token-for-the-cli-test';

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await run(argv, { out: (s) => { out += s; }, err: (s) => { err += s; } });
  return { code, out, err };
}

const faults = (s: Stack, f: Record<string, unknown>) =>
  fetch(`${s.controlUrl}/_mock/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(f) });

describe('davis status and davis messages against a running gateway', () => {
  let s: Stack;
  let delivered: string;
  let failed: string;
  beforeAll(async () => {
    s = await startStack({
      central: { maxAttempts: 1 },
      gateway: { tokens: [{ sha256: sha(ADMIN), clientId: 'ops', roles: ['admin'] }, { sha256: sha(UMA), clientId: 'uma', roles: ['visa-authority'] }] },
    });
    const ok = await api(s.url, 'POST', '/v1/messages', { type: 'vis.application.create', payload: freshApplication() });
    delivered = ok.json.id;
    await waitFor(async () => (await api(s.url, 'GET', `/v1/messages/${delivered}`)).json.status === 'delivered');
    await faults(s, { errorRate: 1, errorStatus: 503 });
    const bad = await api(s.url, 'POST', '/v1/messages', { type: 'vis.application.create', payload: freshApplication() });
    failed = bad.json.id;
    await waitFor(async () => (await api(s.url, 'GET', `/v1/messages/${failed}`)).json.status === 'failed');
    await faults(s, {});
  }, 60000);
  afterAll(async () => { await s?.stop(); });

  test('davis status: checks, counts by state, circuit and certificate days; exit 0 when ready', async () => {
    const r = await cli('status', '--url', s.url, '--token', ADMIN);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/: ready$/m);
    expect(r.out).toMatch(/^ {2}broker\s+ok$/m);
    expect(r.out).toMatch(/^ {2}journal\s+ok$/m);
    expect(r.out).toMatch(/delivered 1, rejected 0, failed 1/);
    expect(r.out).toMatch(/^circuit\s+closed$/m);
    expect(r.out).toMatch(/^signing certificate\s+\d+ day\(s\) left$/m);
  });

  test('davis status --json, with the token from DAVIS_TOKEN', async () => {
    process.env.DAVIS_TOKEN = ADMIN;
    try {
      const r = await cli('status', '--url', s.url, '--json');
      expect(r.code).toBe(0);
      const doc = JSON.parse(r.out);
      expect(doc).toMatchObject({ ready: true, circuit: 'closed', messages: { delivered: 1, failed: 1 } });
      expect(doc.checks.broker.status).toBe('ok');
      expect(doc.signingCertificateDaysLeft).toBeGreaterThan(0);
    } finally {
      delete process.env.DAVIS_TOKEN;
    }
  });

  test('a client without the operator role: one line with the code, exit 2; a gateway that is not there: exit 2', async () => {
    const r = await cli('status', '--url', s.url, '--token', UMA);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^davis status: \/ops\/summary: DAVIS_ERR_AUTH_FORBIDDEN/);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    const gone = await cli('status', '--url', 'http://127.0.0.1:9');
    expect(gone.code).toBe(2);
    expect(gone.err).toMatch(/^davis status: cannot reach the gateway at http:\/\/127\.0\.0\.1:9/);
    expect(gone.err.trim().split('\n')).toHaveLength(1);
  });

  test('davis messages list: a table, filters, --json', async () => {
    const all = await cli('messages', 'list', '--url', s.url, '--token', ADMIN);
    expect(all.code).toBe(0);
    expect(all.out).toMatch(/^ID\s+TYPE\s+STATUS\s+ATTEMPTS\s+APPLICATION\s+UPDATED$/m);
    expect(all.out).toContain(delivered);
    expect(all.out).toContain(failed);
    const onlyFailed = await cli('messages', 'list', '--status', 'failed', '--url', s.url, '--token', ADMIN, '--json');
    expect(onlyFailed.code).toBe(0);
    expect(JSON.parse(onlyFailed.out).items.map((m: { id: string }) => m.id)).toEqual([failed]);
    const paged = await cli('messages', 'list', '--limit', '1', '--url', s.url, '--token', ADMIN);
    expect(paged.out).toMatch(/^next page: davis messages list --cursor \S+$/m);
    const forbidden = await cli('messages', 'list', '--url', s.url, '--token', UMA);
    expect(forbidden.code).toBe(2);
    expect(forbidden.err).toMatch(/^davis messages list: DAVIS_ERR_AUTH_FORBIDDEN/);
  });

  test('davis messages show: timeline, attempts, central\'s answer; an unknown id exits 1 with the code', async () => {
    const r = await cli('messages', 'show', delivered, '--url', s.url, '--token', ADMIN);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^status\s+delivered, 1 attempt\(s\)$/m);
    expect(r.out).toMatch(/^ {2}\S+ {2}accepted/m);
    expect(r.out).toMatch(/^ {2}\S+ {2}sending\s+attempt 1/m);
    expect(r.out).toMatch(/^central\s+ACCEPTED /m);
    const f = await cli('messages', 'show', failed, '--url', s.url, '--token', ADMIN, '--json');
    expect(JSON.parse(f.out)).toMatchObject({ id: failed, status: 'failed' });
    const unknown = await cli('messages', 'show', '00000000-0000-4000-8000-000000000000', '--url', s.url, '--token', ADMIN);
    expect(unknown.code).toBe(1);
    expect(unknown.err).toMatch(/^davis messages show: DAVIS_ERR_NOT_FOUND/);
  });

  test('davis messages retry: a failed message is queued again and delivered; a delivered one is refused (exit 1)', async () => {
    const r = await cli('messages', 'retry', failed, '--reason', 'central is back', '--url', s.url, '--token', ADMIN);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(new RegExp(`^${failed}: \\w+ \\(retry accepted\\)$`, 'm'));
    await waitFor(async () => (await api(s.url, 'GET', `/v1/messages/${failed}`)).json.status === 'delivered');
    const again = await cli('messages', 'retry', delivered, '--url', s.url, '--token', ADMIN);
    expect(again.code).toBe(1);
    expect(again.err).toMatch(/^davis messages retry: DAVIS_ERR_\w+/);
  });

  test('davis validate gives the pointers the API answers for the same payload', async () => {
    let compared = 0;
    for (const t of listTypes({ direction: 'outbound' })) {
      for (const f of readdirSync(path.join(EXAMPLES, t.id)).filter((n) => /^invalid-.*\.json$/.test(n) && !n.endsWith('.expect.json'))) {
        const file = path.join(EXAMPLES, t.id, f);
        const answer = await api(s.url, 'POST', '/v1/messages', { type: t.id, payload: JSON.parse(readFileSync(file, 'utf8')) });
        const fromApi = ((answer.json.errors ?? []) as { pointer: string }[]).map((e) => e.pointer).sort();
        const r = await cli('validate', file);
        const fromCli = r.out.split('\n').filter((l) => l.startsWith(`${file}: /`)).map((l) => l.slice(file.length + 2).split(': ')[0]).sort();
        expect([file, fromCli]).toEqual([file, fromApi]);
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(20);
  }, 60000);

  test('DAVIS_TOKEN and DAVIS_URL in an operator\'s shell are not configuration errors for the gateway; another unknown DAVIS_ variable is', () => {
    expect(() => loadConfig({ env: { DAVIS_TOKEN: ADMIN, DAVIS_URL: 'http://127.0.0.1:8080' } })).not.toThrow();
    expect(() => loadConfig({ env: { DAVIS_TOKN: ADMIN } })).toThrow(expect.objectContaining({ code: 'DAVIS_ERR_CONFIG_INVALID' }));
  });
});
