import { copyFileSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startStack, type Stack } from '../helpers/stack';
import { families, havePromtool, promtool } from './promtool';

const ROOT = path.join(__dirname, '..', '..');
const PROM = path.join(ROOT, 'ops', 'prometheus');
const GRAFANA = path.join(ROOT, 'ops', 'grafana');

/** The alert names of a rules file (`- alert: Name` lines). */
function alertNames(rules: string): string[] {
  return [...rules.matchAll(/^\s*- alert: (\S+)$/gm)].map((m) => m[1]);
}

describe('Prometheus alert rules and config', () => {
  beforeAll(() => { expect(havePromtool()).toBe(true); });

  test('promtool check rules accepts ops/prometheus/alerts.yml', () => {
    const r = promtool(['check', 'rules', path.join(PROM, 'alerts.yml')]);
    expect(r.output).toMatch(/SUCCESS/);
    expect(r.status).toBe(0);
  });

  test('promtool test rules passes the unit tests of ops/prometheus/alerts.test.yml', () => {
    const r = promtool(['test', 'rules', 'alerts.test.yml'], undefined, PROM);
    expect(r.output).toMatch(/SUCCESS/);
    expect(r.status).toBe(0);
  });

  test('every rule has a case that fires and a case that stays quiet', () => {
    const names = alertNames(readFileSync(path.join(PROM, 'alerts.yml'), 'utf8'));
    expect(names).toEqual(expect.arrayContaining(['DavisBacklogGrowing', 'DavisMessagesFailed', 'DavisCircuitOpen', 'DavisSigningCertificateExpiring',
      'DavisTrustAnchorExpiring', 'DavisCentralUnreachable', 'DavisEventLoopLag', 'DavisNoTraffic']));
    const tests = readFileSync(path.join(PROM, 'alerts.test.yml'), 'utf8');
    // Each `alertname:` line opens a case; its `exp_alerts: []` says it stays quiet, a list of labels that it fires.
    const cases = [...tests.matchAll(/alertname: (\S+)\n\s+exp_alerts:( \[\])?/g)].map((m) => ({ name: m[1], fires: !m[2] }));
    for (const name of names) {
      expect({ name, fires: cases.some((c) => c.name === name && c.fires) }).toEqual({ name, fires: true });
      expect({ name, quiet: cases.some((c) => c.name === name && !c.fires) }).toEqual({ name, quiet: true });
    }
  });

  test('the unit tests notice a rule that changed: a certificate threshold of 1 day fails them', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'davis-rules-'));
    try {
      copyFileSync(path.join(PROM, 'alerts.test.yml'), path.join(dir, 'alerts.test.yml'));
      writeFileSync(path.join(dir, 'alerts.yml'), readFileSync(path.join(PROM, 'alerts.yml'), 'utf8').replace(/< 14 \* 86400/g, '< 1 * 86400'));
      const r = promtool(['test', 'rules', 'alerts.test.yml'], undefined, dir);
      expect(r.status).not.toBe(0);
      expect(r.output).toMatch(/DavisSigningCertificateExpiring/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('promtool check config accepts ops/prometheus/prometheus.yml, which scrapes the gateway and loads the rules', () => {
    const r = promtool(['check', 'config', path.join(PROM, 'prometheus.yml')]);
    expect(r.output).toMatch(/SUCCESS: 1 rule files found/);
    expect(r.status).toBe(0);
    const config = readFileSync(path.join(PROM, 'prometheus.yml'), 'utf8');
    expect(config).toMatch(/job_name: davis-gateway/);
    expect(config).toMatch(/targets: \["gateway:9464"\]/);
  });
});

interface Panel {
  id: number; type: string; title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource?: { type: string; uid: string };
  targets?: { refId: string; expr: string; datasource?: { uid: string } }[];
}

/** Metric names an expression reads (PromQL functions and keywords are not metric-shaped: they are followed by "("). */
function metricsOf(expr: string): string[] {
  const names = [...expr.replace(/"[^"]*"/g, '""').matchAll(/\b([a-z_][a-z0-9_]*_[a-z0-9_]+)\b(?!\s*\()/g)].map((m) => m[1]);
  return names.filter((n) => /^(davis|nodejs|process)_/.test(n));
}

describe('Grafana dashboard and provisioning', () => {
  let s: Stack;
  let exposed: Set<string>;
  const dashboards = readdirSync(path.join(GRAFANA, 'dashboards')).filter((f) => f.endsWith('.json'));
  beforeAll(async () => {
    s = await startStack();
    const text = await (await fetch(`${s.url}/metrics`)).text();
    exposed = new Set<string>();
    for (const f of families(text)) {
      exposed.add(f);
      for (const suffix of ['_bucket', '_count', '_sum']) exposed.add(f + suffix);
    }
  }, 60000);
  afterAll(async () => { await s?.stop(); });

  test('the dashboard has panels for traffic by state, latency percentiles, backlog, circuit and certificates', () => {
    expect(dashboards).toContain('davis-gateway.json');
    const d = JSON.parse(readFileSync(path.join(GRAFANA, 'dashboards', 'davis-gateway.json'), 'utf8'));
    expect(d.uid).toBe('davis-gateway');
    expect(typeof d.schemaVersion).toBe('number');
    const exprs = (d.panels as Panel[]).flatMap((p) => p.targets ?? []).map((t) => t.expr).join('\n');
    expect(exprs).toMatch(/sum by \(state\) \(davis_messages/);
    expect(exprs).toMatch(/histogram_quantile\(0\.99, sum by \(le\) \(rate\(davis_accept_seconds_bucket/);
    expect(exprs).toMatch(/davis_delivery_seconds_bucket/);
    expect(exprs).toMatch(/davis_outbound_backlog/);
    expect(exprs).toMatch(/davis_central_circuit_open/);
    expect(exprs).toMatch(/davis_signing_certificate_seconds_left/);
    expect(exprs).toMatch(/davis_trust_anchor_seconds_left/);
  });

  test('every panel is well formed: unique id, a place on the grid, the provisioned data source, and queries', () => {
    const ds = readFileSync(path.join(GRAFANA, 'provisioning', 'datasources', 'prometheus.yml'), 'utf8');
    const uid = /uid: (\S+)/.exec(ds)?.[1];
    expect(uid).toBe('davis-prometheus');
    for (const file of dashboards) {
      const d = JSON.parse(readFileSync(path.join(GRAFANA, 'dashboards', file), 'utf8'));
      const dsVar = d.templating.list.find((v: { type: string }) => v.type === 'datasource');
      expect(dsVar.current.value).toBe(uid);
      const panels = d.panels as Panel[];
      expect(new Set(panels.map((p) => p.id)).size).toBe(panels.length);
      for (const p of panels) {
        expect(p.title).toBeTruthy();
        expect(p.gridPos.w).toBeGreaterThan(0);
        expect(p.gridPos.x + p.gridPos.w).toBeLessThanOrEqual(24);
        if (p.type === 'row') continue;
        expect(p.datasource?.uid).toBe('${datasource}');
        expect(p.targets?.length).toBeGreaterThan(0);
        for (const t of p.targets!) {
          expect(t.expr).toBeTruthy();
          expect(new Set(p.targets!.map((x) => x.refId)).size).toBe(p.targets!.length);
        }
      }
    }
  });

  test('every metric a panel reads is one the live scrape exposes', () => {
    const read = new Set<string>();
    for (const file of dashboards) {
      const d = JSON.parse(readFileSync(path.join(GRAFANA, 'dashboards', file), 'utf8'));
      for (const p of d.panels as Panel[]) for (const t of p.targets ?? []) for (const m of metricsOf(t.expr)) read.add(m);
      for (const v of d.templating.list) if (v.definition) for (const m of metricsOf(v.definition)) read.add(m);
    }
    expect(read.size).toBeGreaterThan(10);
    expect([...read].filter((m) => !exposed.has(m))).toEqual([]);
  });

  test('the metric check can fail: a name the gateway does not export is caught', () => {
    expect(metricsOf('sum(rate(davis_no_such_metric_total[5m]))').filter((m) => !exposed.has(m))).toEqual(['davis_no_such_metric_total']);
  });

  test('the alert rules read only metrics the live scrape exposes', () => {
    const rules = readFileSync(path.join(PROM, 'alerts.yml'), 'utf8');
    const exprs = [...rules.matchAll(/expr: >?\n?([\s\S]*?)\n\s+(?:for|labels):/g)].map((m) => m[1]);
    expect(exprs.length).toBe(alertNames(rules).length);
    const read = new Set(exprs.flatMap(metricsOf));
    expect([...read].filter((m) => !exposed.has(m))).toEqual([]);
  });

  test('the provisioning loads the dashboards folder that docker-compose mounts', () => {
    const prov = readFileSync(path.join(GRAFANA, 'provisioning', 'dashboards', 'davis.yml'), 'utf8');
    expect(prov).toMatch(/path: \/var\/lib\/grafana\/dashboards/);
    const compose = readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8');
    expect(compose).toContain('./ops/grafana/dashboards:/var/lib/grafana/dashboards:ro');
    expect(compose).toContain('./ops/grafana/provisioning:/etc/grafana/provisioning:ro');
    expect(compose).toContain('./ops/prometheus:/etc/prometheus:ro');
  });
});
