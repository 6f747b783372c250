import { loadConfig } from '../../src/config/config';
import { metricsPlacement } from '../../src/api/plugins/metrics';
import { freshApplication } from '../helpers/payloads';
import { problem, REMOTE, startApi, TOKENS, type ApiHarness } from './harness';

const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
const submit = (h: ApiHarness, headers: Record<string, string> = {}) => h.gw.app.inject({
  method: 'POST', url: '/v1/messages', headers: { 'content-type': 'application/json', ...headers },
  payload: JSON.stringify({ type: 'vis.application.create', payload: freshApplication() }),
});

describe('the HTTP edge: security headers and a strict CSP', () => {
  let h: ApiHarness;
  beforeAll(async () => { h = await startApi(); }, 60000);
  afterAll(async () => { await h.stop(); });

  test.each(['/ops', '/docs'])('%s allows scripts and styles from the gateway only, and no inline code', async (url) => {
    const res = await h.gw.app.inject({ method: 'GET', url });
    expect(res.statusCode).toBe(200);
    const csp = String(res.headers['content-security-policy']);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|\*/);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    // every script is loaded by src, no <style> element, no inline event handler
    expect(res.body).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(res.body).not.toMatch(/<style/);
    expect(res.body).not.toMatch(/\son[a-z]+=/);
  });

  test('the dashboard script and the pages\' style sheets are served with their media types', async () => {
    const js = await h.gw.app.inject({ method: 'GET', url: '/ops/dashboard.js' });
    expect([js.statusCode, String(js.headers['content-type'])]).toEqual([200, 'text/javascript; charset=utf-8']);
    expect(js.body).toContain("'/ops/summary'");
    for (const url of ['/ops/dashboard.css', '/docs/docs.css']) {
      const css = await h.gw.app.inject({ method: 'GET', url });
      expect([css.statusCode, String(css.headers['content-type'])]).toEqual([200, 'text/css; charset=utf-8']);
    }
  });

  test('problem documents carry the same headers', async () => {
    const res = await h.gw.app.inject({ method: 'GET', url: '/nowhere' });
    expect(problem(res).code).toBe('DAVIS_ERR_NOT_FOUND');
    expect(String(res.headers['content-security-policy'])).toContain("default-src 'none'");
  });
});

describe('the HTTP edge: rate limit per client identity', () => {
  let h: ApiHarness;
  beforeAll(async () => { h = await startApi({ rateLimit: { max: 3, windowMs: 60000 } }); }, 60000);
  afterAll(async () => { await h.stop(); });

  test('a client over its limit gets 429 DAVIS_ERR_RATE_LIMITED with Retry-After; another client is not affected', async () => {
    for (let i = 0; i < 3; i++) expect((await h.gw.app.inject({ method: 'GET', url: '/v1/messages', headers: bearer(TOKENS.admin) })).statusCode).toBe(200);
    const over = await h.gw.app.inject({ method: 'GET', url: '/v1/messages', headers: bearer(TOKENS.admin) });
    expect([over.statusCode, problem(over).code]).toEqual([429, 'DAVIS_ERR_RATE_LIMITED']);
    expect(Number(over.headers['retry-after'])).toBeGreaterThan(0);
    // the same address, another identity: its own budget
    const other = await h.gw.app.inject({ method: 'GET', url: '/v1/messages', headers: bearer(TOKENS.operator) });
    expect(other.statusCode).toBe(200);
  });

  test('requests whose credentials are refused count against their IP address', async () => {
    const codes: string[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await h.gw.app.inject({ method: 'GET', url: '/v1/messages/x', remoteAddress: REMOTE, headers: bearer(`guess-${i}`) });
      codes.push(problem(res).code);
    }
    expect(codes).toEqual(['DAVIS_ERR_AUTH_REQUIRED', 'DAVIS_ERR_AUTH_REQUIRED', 'DAVIS_ERR_AUTH_REQUIRED', 'DAVIS_ERR_RATE_LIMITED']);
    // another address is not limited by that
    const other = await h.gw.app.inject({ method: 'GET', url: '/v1/messages/x', remoteAddress: '192.0.2.11' });
    expect(problem(other).code).toBe('DAVIS_ERR_AUTH_REQUIRED');
  });

  test('the liveness probe is never limited', async () => {
    for (let i = 0; i < 6; i++) expect((await h.gw.app.inject({ method: 'GET', url: '/health/live', remoteAddress: REMOTE })).statusCode).toBe(200);
  });
});

describe('the HTTP edge: backpressure', () => {
  let h: ApiHarness;
  // A heap threshold of one byte: the gateway is "under pressure" from its first sample on.
  beforeAll(async () => { h = await startApi({ pressure: { maxHeapUsedBytes: 1, retryAfterSeconds: 7 } }); }, 60000);
  afterAll(async () => { await h.stop(); });

  test('over a threshold every request gets 503 DAVIS_ERR_OVERLOADED with Retry-After, and /health/live still answers', async () => {
    let res = await submit(h);
    for (let i = 0; i < 40 && res.statusCode !== 503; i++) {
      await new Promise((r) => setTimeout(r, 100));
      res = await submit(h);
    }
    expect([res.statusCode, problem(res).code]).toEqual([503, 'DAVIS_ERR_OVERLOADED']);
    expect(res.headers['retry-after']).toBe('7');
    expect(problem(res).retryable).toBe(true);
    const ready = await h.gw.app.inject({ method: 'GET', url: '/health/ready' });
    expect(problem(ready).code).toBe('DAVIS_ERR_OVERLOADED');
    const live = await h.gw.app.inject({ method: 'GET', url: '/health/live' });
    expect([live.statusCode, live.json()]).toEqual([200, { status: 'ok' }]);
  });
});

describe('/metrics placement', () => {
  test('defaults: production on its own loopback listener and not on the API; dev mode on the API, open', () => {
    const prod = loadConfig({ env: {}, overrides: {} });
    expect(metricsPlacement(prod)).toEqual({ listen: true, api: 'off' });
    expect([prod.metrics.host, prod.metrics.port]).toEqual(['127.0.0.1', 9464]);
    expect(metricsPlacement(loadConfig({ env: {}, overrides: { mode: 'dev' } }))).toEqual({ listen: false, api: 'open' });
    expect(metricsPlacement(loadConfig({ env: { DAVIS_METRICS_API: 'auth' }, overrides: {} }))).toEqual({ listen: true, api: 'auth' });
  });

  describe('on a listener of its own, off the API', () => {
    let h: ApiHarness;
    beforeAll(async () => {
      h = await startApi({}, { metrics: { listen: true, host: '127.0.0.1', port: 0, api: 'off' } });
      await h.gw.app.listen({ host: '127.0.0.1', port: 0 });
      // fastify does not wait for onListen hooks: the metrics listener opens just after
      for (let i = 0; i < 50 && !h.gw.app.metricsListener?.url; i++) await new Promise((r) => setTimeout(r, 20));
    }, 60000);
    afterAll(async () => { await h.stop(); });

    test('the own listener serves Prometheus text; the API port answers 404 even to an admin', async () => {
      const url = h.gw.app.metricsListener?.url;
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const res = await fetch(`${url}/metrics`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toContain('text/plain');
      expect(await res.text()).toContain('davis_broker_connected');
      expect((await fetch(`${url}/v1/messages`)).status).toBe(404);
      const api = await h.gw.app.inject({ method: 'GET', url: '/metrics', headers: bearer(TOKENS.admin) });
      expect([api.statusCode, problem(api).code]).toEqual([404, 'DAVIS_ERR_NOT_FOUND']);
      const ready = await h.gw.app.inject({ method: 'GET', url: '/health/ready' });
      expect(ready.json().checks.metrics).toEqual({ status: 'ok', url });
    });
  });

  describe('on the API behind authentication', () => {
    let h: ApiHarness;
    beforeAll(async () => { h = await startApi({}, { metrics: { listen: false, api: 'auth' } }); }, 60000);
    afterAll(async () => { await h.stop(); });

    test('the operator and admin roles read it; a client without them is 403; no credentials is 401', async () => {
      for (const t of [TOKENS.operator, TOKENS.admin]) {
        const res = await h.gw.app.inject({ method: 'GET', url: '/metrics', remoteAddress: REMOTE, headers: bearer(t) });
        expect(res.statusCode).toBe(200);
        expect(res.body).toContain('davis_http_requests_total');
      }
      const uma = await h.gw.app.inject({ method: 'GET', url: '/metrics', remoteAddress: REMOTE, headers: bearer(TOKENS.uma) });
      expect([uma.statusCode, problem(uma).code]).toEqual([403, 'DAVIS_ERR_AUTH_FORBIDDEN']);
      const anon = await h.gw.app.inject({ method: 'GET', url: '/metrics', remoteAddress: REMOTE });
      expect([anon.statusCode, problem(anon).code]).toEqual([401, 'DAVIS_ERR_AUTH_REQUIRED']);
      expect(h.gw.app.metricsListener).toBeNull();
    });
  });
});
