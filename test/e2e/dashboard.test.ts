import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { api, startStack, waitFor, type Stack } from '../helpers/stack';
import { freshApplication } from '../helpers/payloads';

const LAUNCH = {
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
};

describe('the operations dashboard in a real browser', () => {
  let s: Stack;
  let browser: Browser;
  beforeAll(async () => {
    s = await startStack({ central: { maxAttempts: 1, breakerThreshold: 50 } });
    browser = await chromium.launch(LAUNCH);
  });
  afterAll(async () => {
    await browser?.close();
    await s?.stop();
  });

  test('shows broker and message states, lists a failed message, and its retry button delivers it, under the strict CSP without a violation', async () => {
    const ok = await api(s.url, 'POST', '/v1/messages', { type: 'vis.application.create', payload: freshApplication() });
    await waitFor(async () => (await api(s.url, 'GET', `/v1/messages/${ok.json.id}`)).json.status === 'delivered');
    s.mock.setFaults({ errorRate: 1 });
    const bad = await api(s.url, 'POST', '/v1/messages', { type: 'vis.application.create', payload: freshApplication() });
    await waitFor(async () => (await api(s.url, 'GET', `/v1/messages/${bad.json.id}`)).json.status === 'failed');
    s.mock.setFaults({});

    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    // Chromium reports a blocked script or style as a console error too; this names the directive.
    await page.addInitScript(() => document.addEventListener('securitypolicyviolation', (e) => console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`)));
    const res = await page.goto(`${s.url}/ops`);
    expect(res?.headers()['content-security-policy']).toContain("script-src 'self'");
    await page.waitForSelector(`td.id >> text=${bad.json.id}`);
    expect(await page.textContent('#cards')).toContain('connected');
    const row = page.locator('tr', { has: page.locator(`td.id >> text=${bad.json.id}`) });
    expect(await row.textContent()).toContain('failed');
    await page.screenshot({ path: path.join(os.tmpdir(), 'davis-dashboard.png'), fullPage: true });
    await row.locator('button', { hasText: 'retry' }).click();
    await waitFor(async () => (await api(s.url, 'GET', `/v1/messages/${bad.json.id}`)).json.status === 'delivered');
    await page.waitForFunction((id) => Array.from(document.querySelectorAll('tr')).some((tr) => tr.textContent!.includes(id) && tr.textContent!.includes('delivered')), bad.json.id, { timeout: 10000 });
    expect(errors).toEqual([]);
  }, 60000);
});
