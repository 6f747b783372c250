import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CONFORMANCE_HELP, conformanceCommand } from '../../src/cli/commands/conformance';
import { conformance, freePort, SUITE_DIR } from './helpers';

const dir = mkdtempSync(path.join(os.tmpdir(), 'davis-conformance-cli-'));

describe('davis conformance (no stack needed)', () => {
  test('the help names every option the command takes', () => {
    for (const name of Object.keys(conformanceCommand.options ?? {})) expect(CONFORMANCE_HELP).toContain(`--${name}`);
  });

  test('usage mistakes exit 2 with one line naming the mistake', async () => {
    for (const args of [['run'], ['frobnicate'], [], ['run', SUITE_DIR, '--seed', 'x'], ['run', SUITE_DIR, '--run-id', 'lower'], ['record', '--out', 'x.yaml']]) {
      const r = await conformance(args);
      expect({ args, code: r.code }).toEqual({ args, code: 2 });
      expect(r.err).toMatch(/^davis conformance: \S.*\n$/);
    }
  });

  test('an invalid suite exits 2 naming file:line:col of every problem, and nothing runs', async () => {
    const file = path.join(dir, 'bad.yaml');
    writeFileSync(file, 'suite: bad\ntitle: t\nphase: compliance\ncases:\n  - id: A\n    title: t\n    article: a\n    steps:\n      - expect: { http: 202 }\n      - mock: {}\n');
    const r = await conformance(['run', file, '--gateway', 'http://127.0.0.1:9']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/bad\.yaml:9:\d+: cases\[0\] \(A\)\.steps\[0\]\.expect: no earlier send or request/);
    expect(r.err).toMatch(/bad\.yaml:10:\d+: cases\[0\] \(A\)\.steps\[1\]\.mock: is empty; give faults, seed, clear, reset/);
    expect(r.out).toBe('');
  });

  test('a statement without a signing key is refused before the run', async () => {
    const config = path.join(dir, 'config.json');
    writeFileSync(config, JSON.stringify({ dataDir: path.join(dir, 'data') }));
    const r = await conformance(['run', SUITE_DIR, '--gateway', 'http://127.0.0.1:9', '--statement', path.join(dir, 's.xml'), '--config', config]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--statement needs a signing key/);
    expect(r.out).toBe('');
  });

  test('an unreachable gateway fails the connectivity phase (errors, not passes) and stops the run: exit 1', async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    const r = await conformance(['run', SUITE_DIR, '--gateway', closed, '--mock-control', closed, '--grep', '^CONN-00[13]$|^COMP-API-005$']);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/ERR {2}?CONN-001/);
    expect(r.out).toMatch(/connectivity: transport: ECONNREFUSED \(gateway\) \(1 case\)/);
    expect(r.out).toMatch(/connectivity: transport: ECONNREFUSED \(mock control\) \(1 case\)/);
    expect(r.out).toMatch(/compliance\s+1\s+0\s+0\s+0\s+1\s+not run/);
  });

  test('record refuses a bad time and a missing journal', async () => {
    expect((await conformance(['record', '--since', 'yesterday-ish', '--out', '-', '--journal', path.join(dir, 'none.sqlite')])).code).toBe(2);
    const r = await conformance(['record', '--since', '2h', '--out', '-', '--journal', path.join(dir, 'none.sqlite')]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/no journal at/);
  });
});
