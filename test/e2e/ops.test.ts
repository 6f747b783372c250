import { api, startStack, waitFor, type Stack } from '../helpers/stack';
import { freshApplication } from '../helpers/payloads';

describe('operators: metrics, API docs, summary', () => {
  let s: Stack;
  beforeAll(async () => { s = await startStack(); });
  afterAll(async () => { await s.stop(); });

  test('/metrics exposes message states, broker, backlog, circuit, certificate and request figures in Prometheus format', async () => {
    const r = await api(s.url, 'POST', '/v1/messages', { type: 'vis.application.create', payload: freshApplication() });
    await waitFor(async () => (await api(s.url, 'GET', `/v1/messages/${r.json.id}`)).json.status === 'delivered');
    const res = await fetch(`${s.url}/metrics`);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    expect(text).toMatch(/^davis_messages\{state="delivered"\} [1-9]\d*$/m);
    expect(text).toMatch(/^davis_broker_connected 1$/m);
    expect(text).toMatch(/^davis_outbound_backlog \d+$/m);
    expect(text).toMatch(/^davis_central_circuit_open 0$/m);
    expect(text).toMatch(/^davis_signing_certificate_seconds_left \d+/m);
    expect(text).toMatch(/^davis_http_requests_total\{method="POST",route="\/v1\/messages",status="202"\} [1-9]/m);
    expect(text).toMatch(/^davis_accept_seconds_count [1-9]/m);
    expect(text).toMatch(/^davis_delivery_outcomes_total\{outcome="delivered"\} [1-9]/m);
    // every sample line is "name{labels} number"
    for (const line of text.split('\n').filter((l) => l && !l.startsWith('#'))) expect(line).toMatch(/^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[^}]*\})? -?[\d.e+-]+$/);
  });

  test('/docs/openapi.json describes every endpoint and every error code; /docs renders it as a page', async () => {
    const doc = (await api(s.url, 'GET', '/docs/openapi.json')).json;
    expect(doc.openapi).toBe('3.1.0');
    for (const p of ['/v1/messages', '/v1/messages/{id}', '/v1/messages/{id}/retry', '/v1/central/notifications', '/health/ready', '/metrics']) expect(doc.paths[p]).toBeDefined();
    expect(doc.components.schemas.Problem.properties.code.enum).toContain('DAVIS_ERR_VALIDATION_FAILED');
    const page = await fetch(`${s.url}/docs`);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(await page.text()).toContain('/v1/central/notifications');
  });

  test('/ops/summary gives operators the live state; /ops serves the page', async () => {
    const sum = (await api(s.url, 'GET', '/ops/summary')).json;
    expect(sum).toMatchObject({ broker: true, circuit: 'closed' });
    expect(typeof sum.backlog).toBe('number');
    expect(sum.signingCertificateSecondsLeft).toBeGreaterThan(0);
    const page = await fetch(`${s.url}/ops`);
    expect(await page.text()).toContain('DAVIS gateway — operations');
  });
});
