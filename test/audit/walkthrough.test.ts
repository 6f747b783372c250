/**
 * docs/audit.md §6, the auditor's walkthrough, run as written: every `sh` block of the
 * section, in order, in one bash, against a fresh `davis dev` (what `npm start` runs after
 * its build), and every `# →` line checked against what the block printed. Only the
 * gateway's port differs (a free one instead of 8080); the working folder holds the
 * project's bin, schemas and node_modules, and a fresh `.davis`.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../helpers/gateway-process';
import { AMQP_URL, deleteTopology, waitFor } from '../helpers/stack';

const ROOT = path.join(__dirname, '..', '..');
const DOC = readFileSync(path.join(ROOT, 'docs', 'audit.md'), 'utf8');

/** The `sh` blocks of the walkthrough section, with the `# →` lines each must print. */
function walkthroughBlocks(doc: string): { code: string; expect: string[] }[] {
  const start = doc.indexOf('\n## 6. Walkthrough');
  if (start < 0) throw new Error('docs/audit.md has no "## 6. Walkthrough" section');
  const next = doc.indexOf('\n## ', start + 1);
  const section = doc.slice(start, next < 0 ? undefined : next);
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => ({
    code: m[1],
    expect: m[1].split('\n').filter((l) => l.startsWith('# → ')).map((l) => l.slice(4)),
  }));
}

/** Whether `out` holds the fragments of `line` (split at `…`), in order. */
function matches(out: string, line: string): boolean {
  const re = new RegExp(line.split('…').map((f) => f.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('[\\s\\S]*?'));
  return re.test(out);
}

function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('DAVIS_') && k !== 'AMQP_URL')), ...extra };
}

describe('docs/audit.md walkthrough, run as written', () => {
  const blocks = walkthroughBlocks(DOC);
  let cwd: string;
  let port: number;
  let dev: ReturnType<typeof spawn> | undefined;
  const prefix = `test.walkthrough.${process.pid}.`;
  let devOut = '';

  beforeAll(async () => {
    cwd = mkdtempSync(path.join(os.tmpdir(), 'davis-walkthrough-'));
    for (const d of ['bin', 'schemas', 'node_modules']) symlinkSync(path.join(ROOT, d), path.join(cwd, d));
    [port] = [await freePort()];
    const env = cleanEnv({
      DAVIS_PORT: String(port), DAVIS_MOCK_PORT: String(await freePort()), DAVIS_MOCK_CONTROL_PORT: String(await freePort()),
      DAVIS_AMQP_PREFIX: prefix, DAVIS_LOG_LEVEL: 'warn', AMQP_URL,
    });
    dev = spawn(process.execPath, ['bin/davis.js', 'dev'], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    dev.stdout!.on('data', (d: Buffer) => { devOut += d.toString(); });
    dev.stderr!.on('data', (d: Buffer) => { devOut += d.toString(); });
    await waitFor(async () => devOut.includes('Stop with Ctrl-C') || dev!.exitCode !== null, 30000, 50);
    if (dev.exitCode !== null) throw new Error(`davis dev exited ${dev.exitCode}: ${devOut}`);
  }, 60000);

  afterAll(async () => {
    if (dev?.exitCode === null) {
      const exited = new Promise((r) => dev!.once('exit', r));
      dev.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([exited, new Promise((r) => { timer = setTimeout(r, 10000); })]);
      clearTimeout(timer);
      dev.kill('SIGKILL');
    }
    await deleteTopology(prefix, 8).catch(() => undefined);
    rmSync(cwd, { recursive: true, force: true });
  });

  test('the section has the steps: send, export, verify, xmlsec1, openssl ts, audit verify, tamper (sqlite3 and Node), the CLI export', () => {
    const all = blocks.map((b) => b.code).join('\n');
    for (const cmd of ['curl -s -X POST', '/evidence -o', 'davis evidence verify', 'xmlsec1 --verify', 'openssl ts -verify', 'davis audit verify', 'sqlite3 ', "require('better-sqlite3')", 'DAVIS_MODE=dev davis evidence export']) {
      expect(all).toContain(cmd);
    }
    expect(blocks.length).toBeGreaterThanOrEqual(7);
    expect(devOut).toMatch(/TSA {13}http:\/\/127\.0\.0\.1:\d+\/tsa \(RFC 3161, local; CA .*\.davis\/tsa\/tsa-ca\.crt\.pem\)/);
  });

  test('every block runs and prints what the page says it prints', () => {
    const script = ['exec 2>&1', ...blocks.map((b, i) => `printf '\\n@@@ ${i}\\n'\n${b.code.replaceAll('127.0.0.1:8080', `127.0.0.1:${port}`)}`)].join('\n');
    const res = spawnSync('bash', ['-c', script], { cwd, env: cleanEnv(), encoding: 'utf8', timeout: 120000 });
    const parts = res.stdout.split(/\n@@@ (\d+)\n/);
    const outputs = new Map<number, string>();
    for (let i = 1; i < parts.length; i += 2) outputs.set(Number(parts[i]), parts[i + 1]);
    const report = blocks.map((b, i) => {
      const out = outputs.get(i) ?? '';
      return { block: i, missing: b.expect.filter((e) => !matches(out, e)), notFound: /command not found|No such file/.test(out) ? out : '' };
    });
    const bad = report.filter((r) => r.missing.length || r.notFound);
    if (bad.length) throw new Error(`${JSON.stringify(bad, null, 2)}\n--- what the blocks printed ---\n${res.stdout}`);
    expect(outputs.size).toBe(blocks.length);
  }, 150000);
});
