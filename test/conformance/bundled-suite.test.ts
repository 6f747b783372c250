import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { run as davis } from '../../src/cli/main';
import { loadSuites, parseSuite } from '../../src/conformance/loader';
import { runSuites } from '../../src/conformance/runner';
import { listTypes } from '../../src/catalogue/catalogue';
import { readStatement } from '../../src/conformance/statement';
import type { RunResult } from '../../src/conformance/types';
import { loadTrustStore } from '../../src/signing/pki';
import { startStack, type Stack } from '../helpers/stack';
import { conformance, freePort, leaks, personalValues, SUITE_DIR } from './helpers';

describe('the bundled conformance suite against a real stack (gateway, RabbitMQ, mock central)', () => {
  let s: Stack;
  let port: number;
  const secret = 'conformance-webhook-secret';
  const dir = mkdtempSync(path.join(os.tmpdir(), 'davis-conformance-'));
  const files = { junit: path.join(dir, 'junit.xml'), html: path.join(dir, 'report.html'), json: path.join(dir, 'run.json'), statement: path.join(dir, 'statement.xml') };
  let started: string;
  let run: RunResult;
  let output: string;

  beforeAll(async () => {
    // The runner's callback receiver listens on `port` (--webhook-port); the gateway calls it.
    port = await freePort();
    s = await startStack({
      central: { retryBaseMs: 100, maxAttempts: 20, breakerThreshold: 50 },
      webhook: { url: `http://127.0.0.1:${port}/hooks`, secret, retryBaseMs: 100 },
    });
    // Where the mock pushes central's notifications (`davis dev` sets it; startStack does not).
    s.mock.notifyUrl = `${s.url}/v1/central/notifications`;
  });
  afterAll(async () => { await s.stop(); });

  test('every phase passes; a progress line per case; JUnit, HTML, JSON and a signed statement are written', async () => {
    started = new Date().toISOString();
    const r = await conformance([
      'run', SUITE_DIR, '--gateway', s.url, '--mock-control', s.controlUrl, '--seed', '42',
      '--webhook-port', String(port), '--webhook-secret', secret,
      '--junit', files.junit, '--html', files.html, '--json', files.json, '--statement', files.statement,
      '--key', s.pki.gatewayKey, '--cert', s.pki.gatewayCert,
    ]);
    output = r.out;
    run = JSON.parse(readFileSync(files.json, 'utf8'));
    // Nothing skipped: the callback cases have a receiver, and invalid notification examples
    // without a wire form (central cannot send them) are not generated.
    expect(run.counts.skipped).toBe(0);
    const notPassed = run.cases.filter((c) => c.verdict !== 'passed').map((c) => `${c.id}: ${c.verdict} ${c.reason ?? ''}`);
    expect(notPassed).toEqual([]);
    expect(r.code).toBe(0);
    expect(run.phases.map((p) => [p.phase, p.verdict])).toEqual([['connectivity', 'passed'], ['compliance', 'passed'], ['robustness', 'passed']]);
    expect(run.cases.some((c) => c.id.endsWith('vis.notification.hit-invalid-no-hits'))).toBe(false);
    expect(run.cases.filter((c) => c.tags.includes('invalid') && c.tags.includes('notification')).length).toBeGreaterThan(0);
    // The callback cases run (a receiver is there): outcome callbacks and one per notification type.
    const hooked = ['COMP-HOOK-001', 'COMP-NOTIF-001', 'COMP-NOTIF-002', 'COMP-NOTIF-003', 'COMP-NOTIF-004', 'COMP-NOTIF-005'];
    expect(hooked.map((id) => [id, run.cases.find((c) => c.id === id)?.verdict])).toEqual(hooked.map((id) => [id, 'passed']));
    // Central's rules on seeded state, and every notification type's valid examples pushed by the mock.
    expect(run.cases.filter((c) => c.tags.includes('seeded')).length).toBeGreaterThanOrEqual(7);
    for (const t of listTypes({ direction: 'inbound' })) {
      const generated = run.cases.filter((c) => c.tags.includes(t.id) && c.tags.includes('valid'));
      expect({ type: t.id, passed: generated.length > 0 && generated.every((c) => c.verdict === 'passed') }).toEqual({ type: t.id, passed: true });
    }
    expect(r.out.match(/^\s+\d+\/\d+ (PASS|FAIL|SKIP|ERR ) /gm)).toHaveLength(run.counts.total);
    expect(r.out).toMatch(/^total\s+\d+\s+\d+\s+0\s+0\s+0\s+PASSED/m);
    expect(r.out).toContain(`--seed 42 --run-id ${run.runId}`);
  }, 170000);

  test('the console shows ids, types and codes, never payload values', () => {
    expect(output.length).toBeGreaterThan(1000);
    expect(leaks(output, personalValues())).toEqual([]);
  });

  test('the JUnit report is XML that CI tools read (xmllint --noout), a testcase per case', () => {
    execFileSync('xmllint', ['--noout', files.junit]);
    const xml = readFileSync(files.junit, 'utf8');
    expect(xml.match(/<testcase /g)).toHaveLength(run.counts.total);
    expect(xml).toMatch(/<testsuites name="davis conformance" tests="\d+" failures="0" errors="0"/);
  });

  test('the statement is signed with the gateway key and verifies with davis verify; an edited statement does not', async () => {
    let out = '';
    const io = { out: (x: string) => { out += x; }, err: (x: string) => { out += x; } };
    expect(await davis(['verify', files.statement, '--trust', s.pki.caCert], io)).toBe(0);
    expect(out).toMatch(/signature valid \(rsa-sha256, signed by CN=davis-gateway/);
    const { statement } = readStatement(readFileSync(files.statement, 'utf8'), loadTrustStore(s.pki.caCert));
    expect(statement.verdict).toBe('conformant');
    expect(statement.gateway.url).toBe(s.url);
    expect(statement.run.seed).toBe(42);
    expect(statement.phases.map((p) => [p.phase, p.verdict, p.total])).toEqual(run.phases.map((p) => [p.phase, p.verdict, p.counts.total]));
    for (const suite of statement.suites) {
      expect(suite.sha256).toBe(createHash('sha256').update(readFileSync(suite.file)).digest('hex'));
    }
    expect(statement.inputs.map((i) => i.file)).toContain(path.relative(process.cwd(), path.join(SUITE_DIR, 'payloads', 'application.json')));
    const edited = path.join(path.dirname(files.statement), 'edited.xml');
    writeFileSync(edited, readFileSync(files.statement, 'utf8').replace('"verdict": "conformant"', '"verdict": "not-conformant"'));
    out = '';
    expect(await davis(['verify', edited, '--trust', s.pki.caCert], io)).toBe(1);
    expect(out).toMatch(/DAVIS_ERR_SIG_DIGEST/);
  });

  test('the same seed gives the same run: fault seeds, generated values and verdicts', async () => {
    const suites = loadSuites([SUITE_DIR]);
    const once = (seed: number, runId: string) => runSuites(suites, { gatewayUrl: s.url, mockControlUrl: s.controlUrl, seed, runId, grep: '^(ROB-001|ROB-008|COMP-API-005)$' });
    const facts = (r: RunResult) => r.cases.map((c) => ({
      id: c.id, verdict: c.verdict,
      notes: c.steps.flatMap((st) => st.notes.filter((n) => n.startsWith('fault seed'))),
      urls: c.steps.flatMap((st) => st.exchanges.map((x) => x.request?.url ?? '')).filter((u) => u.includes('/v1/messages/0000')).map((u) => u.replace(/^http:\/\/[^/]+/, '')),
    }));
    const a = facts(await once(1234, 'AAAA'));
    const b = facts(await once(1234, 'BBBB'));
    const c = facts(await once(4321, 'CCCC'));
    expect(a.map((x) => x.id)).toEqual(['COMP-API-005', 'ROB-001', 'ROB-008']);
    expect(b).toEqual(a);
    expect(a.every((x) => x.verdict === 'passed')).toBe(true);
    expect(c.map((x) => x.notes)).not.toEqual(a.map((x) => x.notes));
    expect(c.map((x) => x.urls)).not.toEqual(a.map((x) => x.urls));
  }, 60000);

  test('mock-state: a seed central refuses fails the step with its code; ESP hits are removed after the case; a notification without wire form is the mock\'s refusal', async () => {
    const suite = parseSuite(`suite: seeding
title: seeding
phase: compliance
cases:
  - id: SEED-001
    title: a seed central refuses
    article: test
    steps:
      - mock-state: { apply: { type: vis.visa.issue, example: vis.visa.issue/valid-uniform-visa-multiple-entry, replace: { FI-HEL-2025-000123: 'NONE-\${unique:a}' }, sender: SE } }
      - wait: 1ms
  - id: SEED-002
    title: ESP hits, then the case ends
    article: test
    steps:
      - mock-state: { esp-hits: { travelDocument: { number: 'X\${random:doc}' }, hits: [{ sourceSystem: SIS, recordId: r1 }] }, as: esp }
      - expect: { message: esp, http: 200, response: [{ pointer: /entries, gte: 1 }] }
  - id: SEED-003
    title: a link the mock refuses (twice the same id)
    article: test
    steps:
      - mock-state: { link: { linkId: 'L-\${unique:l}', records: [{ system: VIS, recordId: a }, { system: SIS, recordId: b }] } }
      - mock-state: { link: { linkId: 'L-\${unique:l}', records: [{ system: VIS, recordId: a }, { system: SIS, recordId: b }] } }
  - id: SEED-004
    title: a notification without wire form
    article: test
    steps:
      - notify: { example: vis.notification.hit/invalid-no-hits, as: n }
`, path.join(SUITE_DIR, 'seeding.yaml'));
    const r = await runSuites([suite], { gatewayUrl: s.url, mockControlUrl: s.controlUrl, seed: 3 });
    const by = (id: string) => r.cases.find((c) => c.id === id)!;
    expect([by('SEED-001').verdict, by('SEED-001').reason, by('SEED-001').cause]).toEqual(['failed', 'step 1 mock-state: central refused the seeded vis.visa.issue: VIS_ERR_UNKNOWN_APPLICATION', 'seeding refused by central']);
    expect(by('SEED-001').steps[0].label).toMatch(/^mock-state apply vis\.visa\.issue as SE → HTTP 200 VIS_ERR_UNKNOWN_APPLICATION$/);
    expect(by('SEED-002').verdict).toBe('passed');
    expect(((await (await fetch(`${s.controlUrl}/_mock/state`)).json()) as { espHitConfigurations: number }).espHitConfigurations).toBe(0);
    expect([by('SEED-003').verdict, by('SEED-003').reason]).toEqual(['failed', expect.stringMatching(/^step 2 mock-state: the mock refused to seed: HTTP 400 MOCK_BAD_STATE: a MID link L-\S+ exists$/)]);
    expect([by('SEED-004').verdict, by('SEED-004').cause]).toEqual(['failed', 'notification not pushed']);
    expect(by('SEED-004').reason).toMatch(/the mock did not push the notification: HTTP 502 MOCK_NOTIFY_FAILED/);
  });

  test('record then replay: the journal\'s traffic becomes a pseudonymised suite that reproduces the recorded outcomes', async () => {
    const out = path.join(path.dirname(files.json), 'recorded.yaml');
    const r = await conformance(['record', '--since', started, '--journal', path.join(s.dataDir, 'journal.sqlite'), '--pseudonymize', '--out', out]);
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/recorded \d+ message\(s\) into \d+ case\(s\)/);
    const yaml = readFileSync(out, 'utf8');
    expect(leaks(yaml, personalValues())).toEqual([]);
    const suite = parseSuite(yaml, out);
    expect(suite.cases.length).toBeGreaterThan(40);
    // A duplicate stays a duplicate: messages about one application are one case, in order.
    const dup = suite.cases.filter((c) => JSON.stringify(c.steps).includes('VIS_ERR_DUPLICATE_APPLICATION'));
    expect(dup.length).toBeGreaterThan(0);
    // What depended on seeded central state (another Member State's file or consultation, MID
    // links, ESP hits) cannot give the same outcomes again: written, but skipped, saying why.
    const dependent = suite.cases.filter((c) => (c.skip ?? '').startsWith("depends on central state the recording does not recreate"));
    expect(dependent.length).toBeGreaterThanOrEqual(6);
    expect(r.err).toMatch(new RegExp(`; ${dependent.length} case\\(s\\) written as skipped: they depend on central state`));
    expect(dependent.map((c) => c.skip).join('\n')).toMatch(/another Member State[\s\S]*MID link|MID link[\s\S]*another Member State/);
    const replay = await runSuites([suite], { gatewayUrl: s.url, mockControlUrl: s.controlUrl, seed: 1 });
    const failed = replay.cases.filter((c) => c.verdict !== 'passed' && c.verdict !== 'skipped').map((c) => `${c.id}: ${c.reason}`);
    expect(failed).toEqual([]);
    expect(replay.verdict).toBe('passed');
    expect(replay.counts.passed).toBeGreaterThan(40);
  }, 120000);
});
