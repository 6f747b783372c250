import { api, startStack, waitFor, type Stack } from '../helpers/stack';
import { freshApplication } from '../helpers/payloads';
import { Metrics } from '../../src/ops/metrics';
import { families, havePromtool, promtool } from './promtool';

const promtoolCheckMetrics = (text: string) => promtool(['check', 'metrics'], text);

describe('metrics on a live gateway', () => {
  let s: Stack;
  let text: string;
  beforeAll(async () => {
    expect(havePromtool()).toBe(true);
    s = await startStack();
    const r = await api(s.url, 'POST', '/v1/messages', { type: 'vis.application.create', payload: freshApplication() });
    expect(r.status).toBe(202);
    await waitFor(async () => (await api(s.url, 'GET', `/v1/messages/${r.json.id}`)).json.status === 'delivered');
    // the broker samples its queues every 2 s
    await waitFor(async () => s.gw.broker.backlog !== undefined && (s.gw.broker as unknown as { backlogByQueue?: unknown }).backlogByQueue !== undefined);
    const res = await fetch(`${s.url}/metrics`);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    text = await res.text();
  }, 60000);
  afterAll(async () => { await s?.stop(); });

  test('promtool check metrics accepts the scrape: names, help, units and types follow the Prometheus conventions', () => {
    const r = promtoolCheckMetrics(text);
    expect(r.output).toBe('');
    expect(r.status).toBe(0);
  });

  test('promtool check metrics refuses text that breaks the conventions (the check can fail)', () => {
    const r = promtoolCheckMetrics('# HELP davis_bad_count A counter without _total\n# TYPE davis_bad_count counter\ndavis_bad_count 1\n');
    expect(r.status).not.toBe(0);
  });

  test('the default process, heap, GC and event-loop lag metrics are exported', () => {
    const f = families(text);
    for (const name of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'nodejs_heap_size_used_bytes',
      'nodejs_gc_duration_seconds', 'nodejs_eventloop_lag_p99_seconds', 'nodejs_eventloop_lag_seconds']) expect(f).toContain(name);
  });

  test('the gateway\'s own figures: messages by state, latency histograms, backlog per queue, circuit, certificates, central', () => {
    expect(text).toMatch(/^davis_messages\{state="delivered"\} [1-9]\d*$/m);
    expect(text).toMatch(/^davis_accept_seconds_bucket\{le="0.005"\} \d+$/m);
    expect(text).toMatch(/^davis_accept_seconds_bucket\{le="60"\} [1-9]\d*$/m);
    expect(text).toMatch(/^davis_delivery_seconds_count\{type="vis.application.create",state="delivered"\} [1-9]\d*$/m);
    expect(text).toMatch(/^davis_central_request_seconds_count [1-9]\d*$/m);
    expect(text).toMatch(new RegExp(`^davis_broker_queue_messages\\{queue="${s.prefix.replace(/\./g, '\\.')}outbound\\.0"\\} \\d+$`, 'm'));
    expect(text).toMatch(new RegExp(`^davis_broker_queue_messages\\{queue="${s.prefix.replace(/\./g, '\\.')}parking"\\} \\d+$`, 'm'));
    expect(text).toMatch(/^davis_central_circuit_state\{state="closed"\} 1$/m);
    expect(text).toMatch(/^davis_central_circuit_state\{state="open"\} 0$/m);
    expect(text).toMatch(/^davis_central_up 1$/m);
    expect(text).toMatch(/^davis_signing_certificate_seconds_left [1-9]\d*$/m);
    expect(text).toMatch(/^davis_trust_anchor_seconds_left [1-9]\d*$/m);
    expect(text).toMatch(/^davis_delivery_outcomes_total\{outcome="delivered"\} [1-9]\d*$/m);
  });

  test('each gateway has its own registry: nothing lands in prom-client\'s global one', async () => {
    const { register } = await import('prom-client');
    expect(await register.getMetricsAsJSON()).toEqual([]);
  });
});

describe('metric sources', () => {
  test('a central that does not accept connections reads as davis_central_up 0; a failing journal leaves no davis_messages sample', async () => {
    const m = new Metrics();
    m.attach({
      centralReachable: async () => { throw new Error('ECONNREFUSED'); },
      countByState: async () => { throw new Error('journal closed'); },
      lastAuditCheckpointMs: () => Date.now() - 120_000,
    });
    const text = await m.render();
    expect(text).toMatch(/^davis_central_up 0$/m);
    expect(text).not.toMatch(/^davis_messages\{/m);
    const age = Number(/^davis_audit_checkpoint_age_seconds (\S+)$/m.exec(text)?.[1]);
    expect(age).toBeGreaterThanOrEqual(120);
    expect(age).toBeLessThan(180);
    expect(promtoolCheckMetrics(text).status).toBe(0);
  });
});
