import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { MESSAGE_STATES } from '../journal/journal';

/**
 * The gateway's Prometheus metrics, on prom-client with a registry of its own (never the
 * global one, so two gateways in one process, as in tests, do not share series). Label values
 * are codes, states, types and route names, never payload data.
 */

/** Latency buckets in seconds, from a fast journal write to a central that takes a minute. */
export const LATENCY_BUCKETS_S: readonly number[] = Object.freeze([0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]);

/**
 * What the gateway's gauges read when scraped. Each is optional so a part that is not wired
 * (a gateway without an audit log, a broker adapter without per-queue counts) exports nothing.
 */
export interface MetricSources {
  /** Messages in the journal per state. */
  readonly countByState?: () => Promise<Partial<Record<string, number>>>;
  readonly brokerConnected?: () => boolean;
  /** Messages waiting in the outbound and delay queues together (sampled). */
  readonly backlog?: () => number;
  /** Messages waiting per queue name (sampled). */
  readonly backlogByQueue?: () => ReadonlyMap<string, number> | undefined;
  readonly circuitState?: () => 'closed' | 'open' | 'half_open';
  /** Whether central's endpoint accepts a connection now. */
  readonly centralReachable?: () => Promise<boolean>;
  /** Seconds until the signing certificate expires (≤ 0 once expired). */
  readonly signingCertificateSecondsLeft?: () => number;
  /** Seconds until the earliest trust anchor expires. */
  readonly trustAnchorSecondsLeft?: () => number | undefined;
  /** When the last audit checkpoint was made (ms since the epoch), undefined before the first. */
  readonly lastAuditCheckpointMs?: () => Promise<number | undefined> | number | undefined;
}

const CIRCUIT_STATES = ['closed', 'open', 'half_open'] as const;

/** The gateway's metrics. One instance per gateway; the scrape-time gauges come from {@link Metrics.attach}. */
export class Metrics {
  /** The registry `/metrics` renders. */
  readonly registry = new Registry();

  readonly httpRequests = new Counter({
    name: 'davis_http_requests_total', help: 'HTTP requests answered, by method, route and status',
    labelNames: ['method', 'route', 'status'] as const, registers: [this.registry],
  });

  readonly acceptSeconds = new Histogram({
    name: 'davis_accept_seconds', help: 'Time from request to 202 (journal write and broker confirm), in seconds',
    buckets: [...LATENCY_BUCKETS_S], registers: [this.registry],
  });

  readonly deliverySeconds = new Histogram({
    name: 'davis_delivery_seconds', help: 'Time from acceptance to central\'s answer, in seconds, by message type and the state the answer set',
    labelNames: ['type', 'state'] as const, buckets: [...LATENCY_BUCKETS_S], registers: [this.registry],
  });

  readonly centralSeconds = new Histogram({
    name: 'davis_central_request_seconds', help: 'Round trip of one request to central, in seconds',
    buckets: [...LATENCY_BUCKETS_S], registers: [this.registry],
  });

  readonly outcomes = new Counter({
    name: 'davis_delivery_outcomes_total', help: 'Delivery attempts by outcome (delivered, rejected, retry, failed) and error code',
    labelNames: ['outcome', 'code'] as const, registers: [this.registry],
  });

  readonly webhookOutcomes = new Counter({
    name: 'davis_webhook_outcomes_total', help: 'Callbacks to UMA by outcome (delivered, retry, failed)',
    labelNames: ['outcome'] as const, registers: [this.registry],
  });

  constructor() {
    // Process, heap, GC and event-loop lag: the figures that show a stall.
    collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 10 });
    // Gauges named like counters (`promtool check metrics` refuses them); the same figures per type stay,
    // as nodejs_active_handles, nodejs_active_requests and nodejs_active_resources.
    for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) this.registry.removeSingleMetric(name);
    // Outcome series exist from the start at 0, so alert rules see the first failure as an increase.
    for (const outcome of ['delivered', 'rejected', 'failed']) this.outcomes.inc({ outcome }, 0);
    for (const outcome of ['delivered', 'retry', 'failed']) this.webhookOutcomes.inc({ outcome }, 0);
  }

  /** Registers the gauges read at scrape time from the running parts. */
  attach(src: MetricSources): void {
    const registers = [this.registry];
    if (src.countByState) {
      const read = src.countByState;
      new Gauge({
        name: 'davis_messages', help: 'Messages in the journal by state', labelNames: ['state'] as const, registers,
        async collect() {
          this.reset();
          const counts = await read().catch(() => undefined);
          // Every state has a sample (0 included), so increase() and delta() see the first message to reach one.
          if (counts) for (const state of new Set([...MESSAGE_STATES, ...Object.keys(counts)])) this.set({ state }, counts[state] ?? 0);
        },
      });
    }
    const connected = src.brokerConnected;
    if (connected) this.value('davis_broker_connected', '1 while the broker connection is open', () => (connected() ? 1 : 0));
    if (src.backlog) this.value('davis_outbound_backlog', 'Messages waiting in the outbound and delay queues together (sampled)', src.backlog);
    if (src.backlogByQueue) {
      const read = src.backlogByQueue;
      new Gauge({
        name: 'davis_broker_queue_messages', help: 'Messages waiting in each broker queue (sampled)', labelNames: ['queue'] as const, registers,
        collect() {
          this.reset();
          for (const [queue, n] of read() ?? []) this.set({ queue }, n);
        },
      });
    }
    if (src.circuitState) {
      const read = src.circuitState;
      this.value('davis_central_circuit_open', '1 while the circuit breaker holds sending to central back', () => (read() === 'open' ? 1 : 0));
      new Gauge({
        name: 'davis_central_circuit_state', help: 'The circuit breaker\'s state towards central: 1 for the current state, 0 for the others',
        labelNames: ['state'] as const, registers,
        collect() {
          const now = read();
          for (const state of CIRCUIT_STATES) this.set({ state }, state === now ? 1 : 0);
        },
      });
    }
    if (src.centralReachable) {
      const read = src.centralReachable;
      new Gauge({
        name: 'davis_central_up', help: '1 when central\'s endpoint accepted a connection at scrape time', registers,
        async collect() { this.set((await read().catch(() => false)) ? 1 : 0); },
      });
    }
    if (src.signingCertificateSecondsLeft) {
      this.value('davis_signing_certificate_seconds_left', 'Seconds until the signing certificate expires', src.signingCertificateSecondsLeft);
    }
    if (src.trustAnchorSecondsLeft) {
      this.value('davis_trust_anchor_seconds_left', 'Seconds until the earliest trust anchor for central\'s signatures expires', src.trustAnchorSecondsLeft);
    }
    if (src.lastAuditCheckpointMs) {
      const read = src.lastAuditCheckpointMs;
      new Gauge({
        name: 'davis_audit_checkpoint_age_seconds', help: 'Seconds since the last signed audit checkpoint', registers,
        async collect() {
          this.reset();
          const at = await Promise.resolve(read()).catch(() => undefined);
          if (at !== undefined) this.set(Math.max(0, (Date.now() - at) / 1000));
        },
      });
    }
  }

  /** A label-less gauge set from `read` at scrape time; a read that throws leaves no sample. */
  private value(name: string, help: string, read: () => number | undefined): void {
    new Gauge({
      name, help, registers: [this.registry],
      collect() {
        this.reset();
        let v: number | undefined;
        try { v = read(); } catch { v = undefined; }
        if (v !== undefined && Number.isFinite(v)) this.set(v);
      },
    });
  }

  /** The content type of {@link Metrics.render}'s text. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** The exposition text. */
  render(): Promise<string> {
    return this.registry.metrics();
  }
}
