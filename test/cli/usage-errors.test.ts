import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { run } from '../../src/cli/main';

const ROOT = path.join(__dirname, '..', '..');
const BIN = path.join(ROOT, 'bin', 'davis.js');

function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('DAVIS_') && k !== 'AMQP_URL'));
}

function davis(cwd: string, args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd, env: cleanEnv() });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), 20000);
    child.once('exit', (code) => { clearTimeout(timer); resolve({ code, out, err }); });
  });
}

/** The CLI in this process: what it printed, its exit code, or what escaped it (the stack trace \`bin/davis.js\` would print). */
async function inProcess(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  let out = '';
  let err = '';
  try {
    const code = await run(args, { out: (t) => { out += t; }, err: (t) => { err += t; } });
    return { code, out, err };
  } catch (e) {
    return { code: null, out, err: `${err}escaped: ${(e as Error).stack}` };
  }
}

/** The commands `davis --help` lists. */
function listedCommands(): string[] {
  const help = spawnSync(process.execPath, [BIN, '--help'], { encoding: 'utf8', env: cleanEnv() }).stdout;
  const commands = help.slice(help.indexOf('Commands:'), help.indexOf('Every command takes'));
  return [...new Set([...commands.matchAll(/^ {2}([a-z][a-z-]*)/gm)].map((m) => m[1]))];
}

describe('every usage error exits 2 with one line naming the bad flag or value', () => {
  let dir: string;
  let payload: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'davis-usage-'));
    payload = path.join(dir, 'payload.json');
    writeFileSync(payload, '{}');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  // [arguments, what the one line must name]
  const cases = (): [string[], string][] => [
    [['frobnicate'], 'frobnicate'],
    [['dev', '--no-such-flag'], '--no-such-flag'],
    [['dev', '--config', path.join(dir, 'missing.json')], 'missing.json'],
    [['serve', '--portt', '1'], '--portt'],
    [['serve', '--config', path.join(dir, 'missing.json')], 'missing.json'],
    [['mock-vis', '--port', 'abc'], '--port'],
    [['mock-vis', '--control-port', '70000'], '--control-port'],
    [['mock-vis', '--port'], '--port'],
    [['validate'], 'FILE'],
    [['validate', '--type', 'vis.no-such-type', payload], '--type "vis.no-such-type"'],
    [['validate', '--strict', payload], '--strict'],
    [['sign', 'x.xml', '--key', 'k.pem'], '--cert'],
    [['sign', '--kee', 'k.pem'], '--kee'],
    [['verify'], 'FILE'],
    [['verify', 'x.xml', '--trusted', 'ca.pem'], '--trusted'],
    [['certs', 'make', 'pki'], '"make"'],
    [['certs', 'init'], 'DIR'],
    [['catalogue', 'extra'], '"extra"'],
    [['catalogue', '--yaml'], '--yaml'],
    [['conformance', 'run', path.join(ROOT, 'conformance', 'suites'), '--seed', 'x'], '--seed'],
    [['conformance', 'frobnicate'], '"frobnicate"'],
    [['journal', 'rekey', '--batch', '0'], '--batch'],
    [['journal', 'shrink'], '"shrink"'],
    [['audit', 'frobnicate'], '"frobnicate"'],
    [['audit', 'verify', '--checkpoints', path.join(dir, 'nowhere')], '--checkpoints'],
    [['evidence', 'export'], 'ID'],
    [['evidence', 'print', 'x'], '"print"'],
    [['retention', 'purge'], '"purge"'],
    [['retention', 'run', '--dryrun'], '--dryrun'],
    [['status', '--url', 'not a url'], '--url'],
    [['status', '--url', 'ftp://127.0.0.1:8080'], '--url'],
    [['status', 'now'], '"now"'],
    [['messages'], 'list, show or retry'],
    [['messages', 'delete', 'x'], '"delete"'],
    [['messages', 'list', '--status', 'lost'], '--status "lost"'],
    [['messages', 'list', '--limit', '0'], '--limit "0"'],
    [['messages', 'list', '--from', 'yesterday'], '--from "yesterday"'],
    [['messages', 'list', '--direction', 'sideways'], '--direction "sideways"'],
    [['messages', 'show'], 'message id'],
    [['messages', 'show', 'a', 'b'], 'one message id'],
    [['messages', 'show', 'x', '--status', 'failed'], '--status'],
    [['messages', 'retry', 'x', '--reason', ' '], '--reason'],
    [['messages', 'list', '--limit'], '--limit'],
    [['load', '--rate', 'x', '--duration', '1'], '--rate "x"'],
  ];

  test('each case: exit 2, nothing on stdout, one stderr line that names the mistake', async () => {
    for (const [args, names] of cases()) {
      const r = await inProcess(args);
      expect({ args, code: r.code, out: r.out, lines: r.err.split('\n').filter(Boolean), names: r.err.includes(names) })
        .toEqual({ args, code: 2, out: '', lines: [expect.any(String)], names: true });
    }
  });

  test.each([
    [['mock-vis', '--port', 'abc'], '--port'],
    [['serve', '--config', 'missing.json'], 'missing.json'],
    [['frobnicate'], 'frobnicate'],
  ])('bin/davis.js %j: exit 2 and one line, no stack trace', async (args, names) => {
    const r = await davis(dir, args);
    expect({ code: r.code, out: r.out, lines: r.err.split('\n').filter(Boolean), names: r.err.includes(names) })
      .toEqual({ code: 2, out: '', lines: [expect.any(String)], names: true });
  }, 30000);

  test('every command davis --help lists has a case here', () => {
    const covered = new Set(cases().map(([args]) => args[0]));
    const listed = listedCommands();
    expect(listed.length).toBeGreaterThan(10);
    expect(listed.filter((c) => !covered.has(c))).toEqual([]);
  });

  test('the check can fail: --help is not a usage error (exit 0, on stdout)', async () => {
    const r = await davis(dir, ['mock-vis', '--help']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^Usage: davis mock-vis/);
    expect(r.err).toBe('');
  });
});
