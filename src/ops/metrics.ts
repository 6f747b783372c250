/**
 * A small Prometheus registry: counters, gauges read at scrape time, and histograms, in the
 * text exposition format 0.0.4. Label values are codes and route names, never payload data.
 */

type Labels = Readonly<Record<string, string>>;

function labelKey(labels: Labels): string {
  const keys = Object.keys(labels).sort();
  return keys.length ? `{${keys.map((k) => `${k}="${labels[k].replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`).join(',')}}` : '';
}

interface Metric {
  render(): Promise<string[]> | string[];
}

/** A monotonically increasing count per label set. */
export class Counter implements Metric {
  private readonly values = new Map<string, number>();
  constructor(private readonly name: string, private readonly help: string) {}

  inc(labels: Labels = {}, by = 1): void {
    const k = labelKey(labels);
    this.values.set(k, (this.values.get(k) ?? 0) + by);
  }

  /** Current value for a label set (tests, the dashboard). */
  get(labels: Labels = {}): number {
    return this.values.get(labelKey(labels)) ?? 0;
  }

  render(): string[] {
    return [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`, ...[...this.values].map(([k, v]) => `${this.name}${k} ${v}`)];
  }
}

/** A value read when scraped. */
export class Gauge implements Metric {
  constructor(private readonly name: string, private readonly help: string, private readonly read: () => Promise<[Labels, number][]> | [Labels, number][]) {}

  async render(): Promise<string[]> {
    const rows = await this.read();
    return [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} gauge`, ...rows.map(([l, v]) => `${this.name}${labelKey(l)} ${v}`)];
  }
}

/** Observations in cumulative buckets (seconds). */
export class Histogram implements Metric {
  private readonly series = new Map<string, { buckets: number[]; sum: number; count: number; labels: Labels }>();
  constructor(private readonly name: string, private readonly help: string, private readonly bounds: readonly number[]) {}

  observe(value: number, labels: Labels = {}): void {
    const k = labelKey(labels);
    let s = this.series.get(k);
    if (!s) {
      s = { buckets: this.bounds.map(() => 0), sum: 0, count: 0, labels };
      this.series.set(k, s);
    }
    for (let i = 0; i < this.bounds.length; i++) if (value <= this.bounds[i]) s.buckets[i]++;
    s.sum += value;
    s.count++;
  }

  render(): string[] {
    const out = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    for (const s of this.series.values()) {
      this.bounds.forEach((b, i) => out.push(`${this.name}_bucket${labelKey({ ...s.labels, le: String(b) })} ${s.buckets[i]}`));
      out.push(`${this.name}_bucket${labelKey({ ...s.labels, le: '+Inf' })} ${s.count}`);
      out.push(`${this.name}_sum${labelKey(s.labels)} ${s.sum}`);
      out.push(`${this.name}_count${labelKey(s.labels)} ${s.count}`);
    }
    return out;
  }
}

/** The gateway's metrics. One instance per gateway; gauges are attached when the parts exist. */
export class Metrics {
  private readonly metrics: Metric[] = [];
  readonly httpRequests = this.add(new Counter('davis_http_requests_total', 'HTTP requests by route and status'));
  readonly acceptSeconds = this.add(new Histogram('davis_accept_seconds', 'Time from request to 202 (journal write + broker confirm)', [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]));
  readonly centralSeconds = this.add(new Histogram('davis_central_request_seconds', 'Duration of requests to central', [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]));
  readonly outcomes = this.add(new Counter('davis_delivery_outcomes_total', 'Delivery attempts by outcome (delivered, rejected, retry, failed)'));
  readonly webhookOutcomes = this.add(new Counter('davis_webhook_outcomes_total', 'UMA callbacks by outcome (delivered, retry, failed)'));

  add<M extends Metric>(m: M): M {
    this.metrics.push(m);
    return m;
  }

  gauge(name: string, help: string, read: () => Promise<[Labels, number][]> | [Labels, number][]): void {
    this.add(new Gauge(name, help, read));
  }

  /** The exposition text. */
  async render(): Promise<string> {
    const parts = await Promise.all(this.metrics.map(async (m) => m.render()));
    return parts.flat().join('\n') + '\n';
  }
}
