import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { api, startStack, waitFor, type Stack } from '../helpers/stack';
import { freshApplication } from '../helpers/payloads';

const LAUNCH = {
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
};

const OBSERVER_TOKEN = 'observer-token-for-the-dashboard-test';
const SHOTS = mkdtempSync(path.join(os.tmpdir(), 'davis-dashboard-'));

/** A page that collects console errors, page errors, CSP violations and every request leaving for another host. */
async function watchedPage(browser: Browser, gateway: string): Promise<{ page: Page; errors: string[]; foreign: string[] }> {
  const page = await browser.newPage({ acceptDownloads: true });
  const errors: string[] = [];
  const foreign: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('request', (r) => { if (!r.url().startsWith(gateway) && !r.url().startsWith('blob:') && !r.url().startsWith('data:')) foreign.push(r.url()); });
  // Chromium reports a blocked script or style as a console error too; this names the directive.
  await page.addInitScript(() => document.addEventListener('securitypolicyviolation', (e) => console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`)));
  return { page, errors, foreign };
}

async function shot(page: Page, name: string): Promise<string> {
  const file = path.join(SHOTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  console.log(`dashboard screenshot: ${file}`);
  return file;
}

describe('the operations dashboard in a real browser', () => {
  let s: Stack;
  let browser: Browser;
  beforeAll(async () => {
    s = await startStack({
      central: { maxAttempts: 1, breakerThreshold: 50 },
      gateway: { tokens: [{ clientId: 'ops-observer', roles: ['observer'], sha256: createHash('sha256').update(OBSERVER_TOKEN).digest('hex') }] },
    });
    browser = await chromium.launch(LAUNCH);
  }, 60000);
  afterAll(async () => {
    await browser.close();
    await s.stop();
  });

  test('an operator finds a delivered message by application number, reads its timeline and answer, retries a failed one with a reason, and the chart counts them, under the strict CSP', async () => {
    const app = freshApplication();
    const ok = await api(s.url, 'POST', '/v1/messages', { type: 'vis.application.create', payload: app });
    await waitFor(async () => (await api(s.url, 'GET', `/v1/messages/${ok.json.id}`)).json.status === 'delivered');
    const okDoc = (await api(s.url, 'GET', `/v1/messages/${ok.json.id}`)).json;
    await fetch(`${s.controlUrl}/_mock/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ errorRate: 1 }) });
    const bad = await api(s.url, 'POST', '/v1/messages', { type: 'vis.application.create', payload: freshApplication() });
    await waitFor(async () => (await api(s.url, 'GET', `/v1/messages/${bad.json.id}`)).json.status === 'failed');
    await fetch(`${s.controlUrl}/_mock/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({}) });

    const { page, errors, foreign } = await watchedPage(browser, s.url);
    const res = await page.goto(`${s.url}/ops`);
    expect(res?.headers()['content-security-policy']).toContain("script-src 'self'");

    // Diagnostics: every dependency with a colour, its reason and the time of the check.
    await page.waitForSelector('#diagnostics li[data-check="broker"].green');
    for (const name of ['broker', 'journal', 'central reachability', 'circuit', 'signing certificate', 'trust anchors']) {
      const item = page.locator(`#diagnostics li[data-check="${name}"]`);
      expect(await item.getAttribute('class')).toMatch(/^(green|amber|red)$/);
      expect(await item.textContent()).toContain('checked');
    }
    expect(await page.getAttribute('#diagnostics li[data-check="central reachability"]', 'class')).toBe('green');

    // The chart counts what was just sent.
    await page.waitForFunction(() => {
      const t = JSON.parse(document.getElementById('chart')!.dataset.total ?? '{}');
      return t.accepted >= 2 && t.delivered >= 1 && t.failed >= 1;
    }, undefined, { timeout: 10000 });
    expect(await page.locator('#chart svg rect.bar.delivered').count()).toBeGreaterThan(0);
    await shot(page, '1-overview');

    // Search by the application number (the ordering key) finds the delivered message alone.
    await page.fill('#search input[name=orderingKey]', okDoc.orderingKey);
    await page.click('#search button[type=submit]');
    await page.waitForFunction((id) => {
      const rows = document.querySelectorAll('#rows tr');
      return rows.length === 1 && (rows[0] as HTMLElement).dataset.id === id;
    }, ok.json.id, { timeout: 10000 });
    await page.click(`#rows tr[data-id="${ok.json.id}"] td.id a`);
    await page.waitForSelector('#timeline li[data-state="delivered"]');
    expect(await page.locator('#timeline li').evaluateAll((li) => li.map((e) => (e as HTMLElement).dataset.state)))
      .toEqual(okDoc.history.map((h: { status: string }) => h.status));
    expect(await page.textContent('#answer')).toContain(okDoc.central.code);
    if (okDoc.central.reference) expect(await page.textContent('#answer')).toContain(okDoc.central.reference);
    expect(await page.isHidden('#retry')).toBe(true);
    const download = page.waitForEvent('download');
    await page.click('#dl-answer');
    const answerFile = await (await download).path();
    // What the operator downloads is central's signed answer as received.
    const answerXml = readFileSync(answerFile, 'utf8');
    expect(answerXml).toMatch(/<(\w+:)?Response[\s>]/);
    expect(answerXml).toContain('Signature');
    await shot(page, '2-detail-delivered');

    // The failed one: its timeline shows the attempt and the error; retry with a reason delivers it.
    await page.click('#search button[type=reset]');
    await page.fill('#search input[name=id]', bad.json.id);
    await page.click('#search button[type=submit]');
    await page.waitForSelector('#timeline li[data-state="failed"]');
    expect(await page.textContent('#timeline')).toMatch(/attempt 1/);
    await page.waitForSelector('#retry:not([hidden])');
    await shot(page, '3-detail-failed');
    await page.fill('#retry input[name=reason]', 'central answered 503 during a test');
    await page.click('#retry button[type=submit]');
    await waitFor(async () => (await api(s.url, 'GET', `/v1/messages/${bad.json.id}`)).json.status === 'delivered');
    const after = (await api(s.url, 'GET', `/v1/messages/${bad.json.id}`)).json;
    expect(after.history.map((h: { detail?: string }) => h.detail ?? '').join('|')).toContain('central answered 503 during a test');
    await page.fill('#search input[name=id]', bad.json.id);
    await page.click('#search button[type=submit]');
    await page.waitForSelector('#timeline li[data-state="delivered"]', { timeout: 10000 });
    await shot(page, '4-retried');

    expect(errors).toEqual([]);
    expect(foreign).toEqual([]);
    await page.close();
  }, 90000);

  test('an observer signs in with a token kept for the tab, reads everything, gets no retry button and a 403 on retry', async () => {
    await fetch(`${s.controlUrl}/_mock/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ errorRate: 1 }) });
    const bad = await api(s.url, 'POST', '/v1/messages', { type: 'vis.application.create', payload: freshApplication() });
    await waitFor(async () => (await api(s.url, 'GET', `/v1/messages/${bad.json.id}`)).json.status === 'failed');
    await fetch(`${s.controlUrl}/_mock/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({}) });

    const { page, errors, foreign } = await watchedPage(browser, s.url);
    // The session storage holds the token the sign-in form took (the form itself is for a gateway outside dev mode).
    await page.goto(`${s.url}/ops`);
    await page.evaluate((t) => sessionStorage.setItem('davis-token', t), OBSERVER_TOKEN);
    await page.reload();
    await page.waitForFunction(() => (document.getElementById('viewer')?.textContent ?? '').includes('ops-observer (read only)'));
    expect(page.url()).not.toContain(OBSERVER_TOKEN);
    await page.fill('#search input[name=id]', bad.json.id);
    await page.click('#search button[type=submit]');
    await page.waitForSelector('#timeline li[data-state="failed"]');
    expect(await page.isHidden('#retry')).toBe(true);
    await shot(page, '5-observer');

    const retry = await fetch(`${s.url}/v1/messages/${bad.json.id}/retry`, { method: 'POST', headers: { authorization: `Bearer ${OBSERVER_TOKEN}` } });
    expect(retry.status).toBe(403);
    expect((await retry.json()).code).toBe('DAVIS_ERR_AUTH_FORBIDDEN');
    const list = await fetch(`${s.url}/v1/messages?orderingKey=${encodeURIComponent((await api(s.url, 'GET', `/v1/messages/${bad.json.id}`)).json.orderingKey)}`, { headers: { authorization: `Bearer ${OBSERVER_TOKEN}` } });
    expect(list.status).toBe(200);
    expect((await list.json()).items.map((m: { id: string }) => m.id)).toEqual([bad.json.id]);

    expect(errors).toEqual([]);
    expect(foreign).toEqual([]);
    await page.close();
  }, 60000);
});
