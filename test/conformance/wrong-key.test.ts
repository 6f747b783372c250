import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import type { RunResult } from '../../src/conformance/types';
import { createDevPki } from '../../src/dev/dev-pki';
import { startStack, type Stack } from '../helpers/stack';
import { conformance, leaks, personalValues, SUITE_DIR } from './helpers';

/** Debian's Chromium (apt-get install chromium); playwright-core brings no browser of its own. */
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
/** Where the test leaves its screenshot of the report, for a person to look at. */
const SCREENSHOT = path.join(os.tmpdir(), 'davis-conformance-report.png');

describe('a gateway that signs with a key central does not trust', () => {
  let s: Stack;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'davis-wrong-key-'));
  const html = path.join(dir, 'report.html');
  const json = path.join(dir, 'run.json');
  let run: RunResult;
  let output: { code: number; out: string; err: string };

  beforeAll(async () => {
    // A second dev PKI: its CA is not the mock's trust anchor, so central refuses every signature.
    const other = await createDevPki(path.join(dir, 'other-pki'));
    s = await startStack({ signing: { keyFile: other.gatewayKey, certFile: other.gatewayCert }, central: { retryBaseMs: 100, breakerThreshold: 50 } });
    s.mock.notifyUrl = `${s.url}/v1/central/notifications`;
    output = await conformance(['run', SUITE_DIR, '--gateway', s.url, '--mock-control', s.controlUrl, '--seed', '7', '--html', html, '--json', json, '--junit', path.join(dir, 'junit.xml')]);
    run = JSON.parse(readFileSync(json, 'utf8'));
  }, 150000);
  afterAll(async () => {
    await s.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('connectivity passes (a signed answer comes back), compliance fails, robustness does not run; exit code 1', () => {
    expect(output.code).toBe(1);
    expect(run.verdict).toBe('failed');
    expect(run.phases.map((p) => [p.phase, p.verdict])).toEqual([['connectivity', 'passed'], ['compliance', 'failed'], ['robustness', 'not-run']]);
    const robustness = run.cases.filter((c) => c.phase === 'robustness');
    expect(robustness.length).toBeGreaterThan(0);
    expect(robustness.every((c) => c.verdict === 'skipped' && (c.reason ?? '').includes('phase compliance failed'))).toBe(true);
  });

  test('the report names the cause: central VIS_ERR_SIGNATURE because the certificate is untrusted', () => {
    const compliance = run.phases.find((p) => p.phase === 'compliance')!;
    expect(compliance.causes[0].cause).toBe('central VIS_ERR_SIGNATURE (DAVIS_ERR_SIG_CERT_UNTRUSTED)');
    expect(compliance.causes[0].count).toBeGreaterThan(20);
    const sig = run.cases.find((c) => c.id === 'COMP-SIG-002')!;
    expect(sig.verdict).toBe('failed');
    expect(sig.reason).toMatch(/status: expected delivered, got rejected \(central VIS_ERR_SIGNATURE \(DAVIS_ERR_SIG_CERT_UNTRUSTED\)\)/);
    expect(output.out).toMatch(/Causes of failure:\n {2}compliance: central VIS_ERR_SIGNATURE \(DAVIS_ERR_SIG_CERT_UNTRUSTED\) \(\d+ cases\)/);
    expect(output.out).toMatch(/^\s+\d+\/\d+ FAIL COMP-SIG-002 \[vis\.application\.create\]/m);
    // invalid examples are still refused at the edge: they pass (but those central could not send at all)
    const invalid = run.cases.filter((c) => c.tags.includes('invalid') && !(c.reason ?? '').startsWith("no wire form"));
    expect(invalid.map((c) => [c.id, c.verdict])).toEqual(invalid.map((c) => [c.id, 'passed']));
    // central's notifications are verified with central's key, not the gateway's: they still pass
    const notifications = run.cases.filter((c) => c.tags.includes('notification') && c.tags.includes('valid'));
    expect(notifications.length).toBeGreaterThan(5);
    expect(notifications.every((c) => c.verdict === 'passed')).toBe(true);
  });

  test('failure lines on the console carry no payload values', () => {
    expect(leaks(output.out + output.err, personalValues())).toEqual([]);
  });

  describe('the HTML report in headless Chromium', () => {
    let browser: Browser;
    beforeAll(async () => {
      browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    });
    afterAll(async () => { await browser.close(); });

    test('renders without errors; verdict, phases, failed cases with their diff, filters work; a screenshot is taken', async () => {
      const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
      const errors: string[] = [];
      page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') errors.push(m.text()); });
      page.on('pageerror', (e) => errors.push(e.message));
      page.on('requestfailed', (r) => errors.push(`request failed: ${r.url()}`));
      await page.goto(`file://${html}`);
      expect(await page.textContent('#verdict')).toBe('FAILED');
      expect(await page.title()).toMatch(/^DAVIS conformance FAILED/);
      expect(await page.locator('#phases tr[data-phase="robustness"]').textContent()).toContain('not run');
      expect(await page.locator('#phases tr[data-phase="compliance"]').textContent()).toContain('central VIS_ERR_SIGNATURE (DAVIS_ERR_SIG_CERT_UNTRUSTED)');

      const sig = page.locator('details.case[data-case-id="COMP-SIG-002"]');
      expect(await sig.getAttribute('data-verdict')).toBe('failed');
      expect(await sig.getAttribute('open')).not.toBeNull();
      expect(await sig.locator('.diff').first().textContent()).toMatch(/- "delivered"[\s\S]*\+ "rejected"/);
      expect(await sig.locator('.diff').allTextContents()).toEqual(expect.arrayContaining([expect.stringMatching(/\+ "VIS_ERR_SIGNATURE"/)]));
      // what was sent and what came back
      expect(await sig.locator('details.exchange summary').allTextContents()).toEqual(expect.arrayContaining([expect.stringMatching(/^POST \/v1\/messages \(m\)$/), expect.stringMatching(/^GET \/v1\/messages\//)]));
      const passedCase = page.locator('details.case[data-case-id="CONN-001"]');
      expect(await passedCase.getAttribute('open')).toBeNull();

      await page.click('.toolbar button[data-filter="failed"]');
      const visible = await page.locator('details.case:not(.hidden)').count();
      expect(visible).toBe(run.counts.failed + run.counts.errors);
      expect(await page.textContent('#shown')).toBe(`${visible} shown`);
      await page.fill('#search', 'COMP-SIG-002');
      expect(await page.locator('details.case:not(.hidden)').count()).toBe(1);
      await page.fill('#search', '');
      await page.click('.toolbar button[data-filter="all"]');
      expect(await page.locator('details.case:not(.hidden)').count()).toBe(run.counts.total);

      // Open what was sent and what came back, then photograph the failed case for a person to look at.
      await sig.locator('details.exchange summary').first().click();
      expect(await sig.locator('details.exchange[open] pre.body').first().textContent()).toContain('"type": "vis.application.create"');
      await sig.locator('summary').first().scrollIntoViewIfNeeded();
      await page.screenshot({ path: SCREENSHOT, fullPage: false });
      const png = readFileSync(SCREENSHOT);
      expect(png.subarray(1, 4).toString()).toBe('PNG');
      expect(errors).toEqual([]);
      await page.close();
    });
  });
});
