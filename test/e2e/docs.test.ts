import { chromium, type Browser } from 'playwright-core';
import { startApi, type ApiHarness } from '../api/harness';

const LAUNCH = {
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
};

describe('the interactive API reference at /docs in a real browser', () => {
  let h: ApiHarness;
  let browser: Browser;
  let base: string;
  beforeAll(async () => {
    h = await startApi();
    base = await h.gw.app.listen({ host: '127.0.0.1', port: 0 });
    browser = await chromium.launch(LAUNCH);
  }, 60000);
  afterAll(async () => {
    await browser.close();
    await h.stop();
  });

  test('renders every operation from the gateway\'s own files, under the strict CSP, with no console error and no other host asked', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    const elsewhere: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    page.on('request', (r) => { if (!r.url().startsWith(`${base}/`) && !r.url().startsWith('data:')) elsewhere.push(r.url()); });
    await page.addInitScript(() => document.addEventListener('securitypolicyviolation', (e) => console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`)));
    const res = await page.goto(`${base}/docs`);
    expect(res?.headers()['content-security-policy']).toContain("script-src 'self'");
    await page.waitForSelector('.opblock-summary-path', { timeout: 30000 });
    const shown = await page.$$eval('.opblock', (els) => els.map((e) => `${e.querySelector('.opblock-summary-method')?.textContent ?? ''} ${e.querySelector('.opblock-summary-path')?.getAttribute('data-path') ?? e.querySelector('.opblock-summary-path')?.textContent ?? ''}`.replace(/\u200b/g, '')));
    const doc = (await (await fetch(`${base}/docs/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    const documented = Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`));
    expect(shown.filter((s) => documented.includes(s)).sort()).toEqual([...documented].sort());
    // An operation opens: its request body example is the catalogue's.
    await page.click('#operations-messages-submitMessage .opblock-summary-control');
    await page.waitForSelector('#operations-messages-submitMessage .body-param__example, #operations-messages-submitMessage .microlight', { timeout: 10000 });
    expect(await page.textContent('#operations-messages-submitMessage')).toContain('vis.application.create');
    expect(await page.textContent('body')).toContain('Webhooks');
    expect(errors).toEqual([]);
    expect(elsewhere).toEqual([]);
  }, 90000);
});
