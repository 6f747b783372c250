import { run } from '../../src/cli/main';
import { freePort } from '../helpers/gateway-process';
import { startStack, waitFor, type Stack } from '../helpers/stack';

/** `davis …` in this process: exit code and what it printed. */
async function davis(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await run(args, { out: (t) => { out += t; }, err: (t) => { err += t; } });
  return { code, out, err };
}

const SECOND_LINE = /^ +(\d+)s {2}sent +(\d+) {2}answered +(\d+) {2}2xx +(\d+) {2}4xx +(\d+) {2}5xx +(\d+) {2}errors +(\d+) {2}p50 +\S+ ms {2}p99 +\S+ ms {2}in flight \d+$/;

describe('davis load against a real gateway and mock central', () => {
  let stack: Stack;
  beforeAll(async () => { stack = await startStack(); });
  afterAll(async () => { await stack.stop(); });

  test('--rate 50 --duration 2 --json: about 100 requests sent on schedule, each answered 202, reported each second and in the summary; central gets 100 distinct applications', async () => {
    const before = stack.mock.receivedList().length;
    const t0 = Date.now();
    const r = await davis(['load', '--rate', '50', '--duration', '2', '--url', stack.url, '--json']);
    const wall = (Date.now() - t0) / 1000;
    expect({ code: r.code, err: r.err.split('\n').filter((l) => l && !SECOND_LINE.test(l)) }).toEqual({ code: 0, err: [] });
    const s = JSON.parse(r.out);
    expect(s).toEqual({
      mode: 'open', rate: 50, durationS: 2, url: `${stack.url}/v1/messages`, types: ['vis.application.create'],
      sent: 100, answered: 100, status: { '2xx': 100, '3xx': 0, '4xx': 0, '5xx': 0 }, codes: { 202: 100 }, errors: 0, errorKinds: {}, unanswered: 0,
      latencyMs: { p50: expect.any(Number), p90: expect.any(Number), p99: expect.any(Number), p999: expect.any(Number), max: expect.any(Number) },
      latency2xxMs: { p50: expect.any(Number), p99: expect.any(Number), p999: expect.any(Number) },
      maxSendLagMs: expect.any(Number), elapsedS: expect.any(Number), sentPerS: expect.any(Number), answeredPerS: expect.any(Number), cpuMs: expect.any(Number),
    });
    const l = s.latencyMs;
    expect(l.p50).toBeGreaterThan(0);
    expect(l.p50 <= l.p90 && l.p90 <= l.p99 && l.p99 <= l.p999 && l.p999 <= l.max).toBe(true);
    // On schedule: the last request is due at 1.98 s, so sending cannot end much before 2 s, nor
    // (on shared cores, generously) far after it.
    expect(s.elapsedS).toBeGreaterThan(1.9);
    expect(wall).toBeLessThan(20);
    expect(s.maxSendLagMs).toBeLessThan(1000);

    const seconds = r.err.split('\n').filter(Boolean).map((line) => SECOND_LINE.exec(line)!).map((m) => m.slice(1).map(Number));
    expect(seconds.length).toBeGreaterThanOrEqual(2);
    expect(seconds.map((x) => x[0])).toEqual(seconds.map((_, i) => i + 1));
    const sum = (k: number) => seconds.reduce((a, x) => a + x[k], 0);
    expect([sum(1), sum(2), sum(3), sum(4), sum(5), sum(6)]).toEqual([100, 100, 100, 0, 0, 0]);
    // Sent per second follows the schedule (50/s), generously.
    expect(seconds[0][1]).toBeGreaterThan(25);
    expect(seconds[0][1]).toBeLessThan(75);

    const received = await waitFor(async () => {
      const list = stack.mock.receivedList().slice(before);
      return list.length >= 100 && list;
    }, 60000);
    expect(received).toHaveLength(100);
    expect(new Set(received.map((e) => e.id)).size).toBe(100);
    // Distinct application numbers: central accepted every file (a repeated number is VIS_ERR_DUPLICATE_APPLICATION).
    expect(received.filter((e) => e.code !== 'OK').map((e) => e.code)).toEqual([]);
  }, 90000);

  test('without --json: the per-second lines and the summary as text on stdout; --types takes turns among the types', async () => {
    const r = await davis(['load', '--rate', '20', '--duration', '1', '--url', stack.url, '--types', 'vis.application.create,vis.application.search']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const lines = r.out.split('\n').filter(Boolean);
    expect(lines.filter((x) => SECOND_LINE.test(x)).length).toBeGreaterThanOrEqual(1);
    expect(r.out).toMatch(/^summary: 20 sent at 20\/s for 1 s to /m);
    expect(r.out).toMatch(/^answers: 20 \(2xx 20, 4xx 0, 5xx 0\); by status: 202 × 20$/m);
    expect(r.out).toMatch(/^accept latency from the due time, ms: p50 \S+ {2}p90 \S+ {2}p99 \S+ {2}p99\.9 \S+ {2}max \S+$/m);
  }, 60000);

  test('answers other than 2xx are counted and make the exit code 1', async () => {
    // A token the dev gateway does not know: every request is refused (401), none is accepted.
    const r = await davis(['load', '--rate', '10', '--duration', '1', '--url', stack.url, '--token', 'not-a-known-token', '--json']);
    expect(r.code).toBe(1);
    const s = JSON.parse(r.out);
    expect({ sent: s.sent, answered: s.answered, '2xx': s.status['2xx'], '4xx': s.status['4xx'], codes: Object.keys(s.codes) }).toEqual({ sent: 10, answered: 10, '2xx': 0, '4xx': 10, codes: ['401'] });
  }, 60000);
});

describe('davis load usage', () => {
  test.each([
    [['load'], '--rate'],
    [['load', '--rate', '10'], '--duration'],
    [['load', '--rate', 'abc', '--duration', '1'], '--rate "abc"'],
    [['load', '--rate', '10', '--duration', '0'], '--duration "0"'],
    [['load', '--rate', '0.1', '--duration', '1'], 'sends no request'],
    [['load', '--rate', '10', '--duration', '1', '--types', 'vis.no-such-type'], '"vis.no-such-type"'],
    [['load', '--rate', '10', '--duration', '1', '--types', 'vis.notification.hit'], '"vis.notification.hit"'],
    [['load', '--rate', '10', '--duration', '1', '--connections', '1.5'], '--connections'],
    [['load', '--rate', '10', '--duration', '1', '--url', 'ftp://x'], '--url'],
    [['load', '--rate', '10', '--duration', '1', 'extra'], '"extra"'],
    [['load', '--rat', '10'], '--rat'],
  ])('%j: exit 2, one line naming %s, nothing on stdout', async (args, names) => {
    const r = await davis(args);
    expect({ code: r.code, out: r.out, lines: r.err.split('\n').filter(Boolean).length, names: r.err.includes(names) }).toEqual({ code: 2, out: '', lines: 1, names: true });
  });

  test('a gateway that is not there: exit 2, one line naming the address', async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const r = await davis(['load', '--rate', '10', '--duration', '1', '--url', url]);
    expect({ code: r.code, out: r.out, lines: r.err.split('\n').filter(Boolean).length, names: r.err.includes(url) }).toEqual({ code: 2, out: '', lines: 1, names: true });
  });

  test('--help explains every flag', async () => {
    const r = await davis(['load', '--help']);
    expect(r.code).toBe(0);
    for (const flag of ['--rate', '--duration', '--types', '--url', '--token', '--connections', '--timeout', '--json', '--help']) expect(r.out).toContain(`  ${flag}`);
    expect(r.out).toMatch(/open loop/);
  });
});
