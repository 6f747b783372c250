import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadTemplates, messageBody } from '../../src/load/payloads';
import { LatencyHistogram } from '../../src/load/histogram';
import { runLoad, type SecondReport } from '../../src/load/run';
import { startStack, type Stack } from '../helpers/stack';

/** A plain HTTP server that holds answers as told: what a stalling gateway looks like to the load generator. */
async function stallingServer(holdMs: (n: number) => number): Promise<{ url: string; arrivals: number[]; close(): Promise<void> }> {
  const arrivals: number[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const t0 = performance.now();
  const server = http.createServer((req, res) => {
    const n = arrivals.push(performance.now() - t0) - 1;
    req.resume();
    req.on('end', () => {
      const timer = setTimeout(() => { timers.delete(timer); res.writeHead(202, { 'content-type': 'application/json' }).end('{}'); }, holdMs(n));
      timers.add(timer);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, arrivals,
    close: () => new Promise((r) => { for (const t of timers) clearTimeout(t); server.closeAllConnections(); server.close(() => r()); }),
  };
}

describe('the open loop', () => {
  test('sends on schedule whatever the answers: 20/s for 1 s while every answer takes 700 ms', async () => {
    const srv = await stallingServer(() => 700);
    try {
      const seconds: SecondReport[] = [];
      const s = await runLoad({ url: srv.url, rate: 20, durationS: 1, body: () => '{}', onSecond: (r) => seconds.push(r) });
      expect({ sent: s.sent, answered: s.answered, ok: s.status['2xx'] }).toEqual({ sent: 20, answered: 20, ok: 20 });
      // All 20 reached the server within the second (a closed loop of 1 would have sent 2).
      expect(srv.arrivals).toHaveLength(20);
      expect(Math.max(...srv.arrivals) - Math.min(...srv.arrivals)).toBeLessThan(1500);
      expect(seconds[0].sent).toBe(20);
      expect(s.latencyMs.p50).toBeGreaterThanOrEqual(690);
    } finally {
      await srv.close();
    }
  });

  test('latency counts from the due time: requests held back behind a stalled one are charged the wait (no coordinated omission)', async () => {
    // One connection; the first answer takes 1 s, the rest are instant. The 19 requests due
    // meanwhile can only go once it is back: each has waited up to a second for its turn.
    const srv = await stallingServer((n) => (n === 0 ? 1000 : 0));
    try {
      const s = await runLoad({ url: srv.url, rate: 20, durationS: 1, connections: 1, body: () => '{}' });
      expect(s.answered).toBe(20);
      expect(s.latencyMs.p50).toBeGreaterThan(300);
      expect(s.latencyMs.max).toBeGreaterThanOrEqual(990);
    } finally {
      await srv.close();
    }
  });

  test('a request that times out counts as an error and in the latency, at least its timeout', async () => {
    const srv = await stallingServer(() => 60000);
    try {
      const s = await runLoad({ url: srv.url, rate: 10, durationS: 0.3, timeoutMs: 300, body: () => '{}' });
      expect({ sent: s.sent, answered: s.answered, kinds: s.errorKinds }).toEqual({ sent: 3, answered: 0, kinds: { timeout: 3 } });
      expect(s.latencyMs.p50).toBeGreaterThanOrEqual(290);
    } finally {
      await srv.close();
    }
  });

  test('a server that is not there: every request is an error by cause, none answered', async () => {
    const srv = await stallingServer(() => 0);
    const url = srv.url;
    await srv.close();
    const s = await runLoad({ url, rate: 10, durationS: 0.5, body: () => '{}' });
    expect({ sent: s.sent, answered: s.answered, errors: s.errors, kinds: s.errorKinds }).toEqual({ sent: 5, answered: 0, errors: 5, kinds: { ECONNREFUSED: 5 } });
  });

  test('options: either rate and duration or concurrency and count', async () => {
    await expect(runLoad({ url: 'http://127.0.0.1:1', body: () => '' })).rejects.toThrow(/either rate and duration/);
    await expect(runLoad({ url: 'http://127.0.0.1:1', rate: 1, durationS: 1, count: 3, body: () => '' })).rejects.toThrow(/either rate and duration/);
    await expect(runLoad({ url: 'http://127.0.0.1:1', rate: -1, durationS: 1, body: () => '' })).rejects.toThrow(/rate must be a positive number/);
    await expect(runLoad({ url: 'http://127.0.0.1:1', concurrency: 1.5, count: 3, body: () => '' })).rejects.toThrow(/concurrency must be a positive whole number/);
  });
});

describe('the library against a real gateway', () => {
  let stack: Stack;
  beforeAll(async () => { stack = await startStack(); });
  afterAll(async () => { await stack.stop(); });

  test('closed loop: count requests with concurrency outstanding; answers (id, status) reach onAnswer; invalid bodies are 4xx', async () => {
    const [t] = loadTemplates(['vis.application.create']);
    const ids = new Map<number, string>();
    const s = await runLoad({
      url: stack.url, concurrency: 4, count: 12,
      body: (i) => (i % 4 === 3 ? JSON.stringify({ type: t.type, payload: { applicationNumber: 'X' } }) : messageBody(t, `LOADTEST-${process.pid}-${i}`)),
      onAnswer: (i, status, body) => { if (status === 202) ids.set(i, JSON.parse(body).id); },
    });
    expect({ mode: s.mode, sent: s.sent, answered: s.answered, codes: s.codes }).toEqual({ mode: 'closed', sent: 12, answered: 12, codes: { 202: 9, 422: 3 } });
    expect([...ids.keys()].sort((a, b) => a - b)).toEqual([0, 1, 2, 4, 5, 6, 8, 9, 10]);
    for (const id of ids.values()) expect(id).toMatch(/^[0-9a-f-]{36}$/);
  });

  test('templates: every valid example of each type, the ordering key field named; unknown and inbound types refused', () => {
    const ts = loadTemplates(['vis.application.create', 'io.mid.link.verify']);
    expect(ts.filter((x) => x.type === 'vis.application.create').map((x) => x.file)).toEqual(expect.arrayContaining(['valid-adult-business-representation.json']));
    expect(new Set(ts.map((x) => `${x.type}:${x.keyField}`))).toEqual(new Set(['vis.application.create:applicationNumber', 'io.mid.link.verify:linkId']));
    expect(JSON.parse(messageBody(ts[0], 'K-1'))).toEqual({ type: 'vis.application.create', payload: { ...ts[0].payload, applicationNumber: 'K-1' } });
    expect(() => loadTemplates(['nope'])).toThrow(/unknown message type "nope"/);
    expect(() => loadTemplates(['vis.notification.hit'])).toThrow(/sent by central/);
  });
});

describe('the latency histogram', () => {
  test('quantiles within 1 % of the exact ones, max exact', () => {
    const h = new LatencyHistogram();
    const values = Array.from({ length: 10000 }, (_, i) => 0.05 + i * 0.37);
    for (const v of values) h.record(v);
    const exact = (q: number) => values[Math.ceil(q * values.length) - 1];
    for (const q of [0.5, 0.9, 0.99, 0.999]) {
      expect(h.quantile(q)).toBeGreaterThanOrEqual(exact(q));
      expect(h.quantile(q)).toBeLessThanOrEqual(exact(q) * 1.0101);
    }
    expect(h.max).toBe(values[values.length - 1]);
    expect(new LatencyHistogram().quantile(0.5)).toBeNaN();
  });
});
