import { createHmac } from 'node:crypto';
import type { Logger } from 'pino';
import { backoffDelay, DEFAULT_BACKOFF_MAX_MS } from './backoff';
import { statusDocument } from './message-status';
import { parseRequestXml } from '../wire/envelope';
import type { Config } from '../config/config';
import type { Metrics } from '../ops/metrics';
import type { Journal } from '../journal/journal';
import type { Broker, Delivery, WebhookJob } from '../queue/queue';

/**
 * Options of the UMA webhook: the `webhook` configuration section (see `src/config/schema.ts`
 * for each key); `retryMaxMs` may be left out, then {@link DEFAULT_BACKOFF_MAX_MS}.
 */
export type WebhookOptions = Omit<Config['webhook'], 'retryMaxMs'> & Partial<Pick<Config['webhook'], 'retryMaxMs'>>;

/** `X-Davis-Signature` value for a body: `sha256=` + hex HMAC-SHA256 of the exact bytes sent. */
export function webhookSignature(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/**
 * Tells UMA about every outcome: a job per event goes through the broker (durable, retried
 * with backoff through the delay queues), the worker POSTs JSON signed with HMAC-SHA256, and
 * the journal shows the callback's state on the message.
 */
export class Webhooks {
  constructor(
    private readonly opts: WebhookOptions,
    private readonly journal: Journal,
    private readonly broker: Broker,
    private readonly logger: Logger,
    private readonly metrics?: Metrics,
  ) {}

  get enabled(): boolean {
    return !!this.opts.url;
  }

  /** Queues the callback for an event about a message (confirmed by the broker before it returns). */
  async enqueue(messageId: string, event: string, correlationId: string): Promise<void> {
    if (!this.enabled) return;
    await this.journal.recordWebhook(messageId, { event, state: 'pending', attempts: 0 });
    await this.broker.publish('webhook', { messageId, event, correlationId });
  }

  async start(): Promise<void> {
    if (this.enabled) await this.broker.consume('webhook', (d) => this.handle(d));
  }

  /** Sends one callback; exported for tests. */
  async handle(d: Delivery<WebhookJob>): Promise<void> {
    const { messageId, event, correlationId } = d.work;
    const log = this.logger.child({ messageId, correlationId, event });
    const rec = await this.journal.get(messageId);
    if (!rec) {
      d.ack();
      return;
    }
    const attempts = (rec.webhook?.event === event ? rec.webhook.attempts : 0) + 1;
    const message = rec.direction === 'inbound'
      ? { ...statusDocument(rec), payload: parseRequestXml((await this.journal.getWireXml(messageId))!).payload }
      : statusDocument(rec);
    const body = JSON.stringify({ event, sentAt: new Date().toISOString(), message });
    let error: string | undefined;
    try {
      const res = await fetch(this.opts.url!, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-davis-event': event,
          'x-davis-message-id': messageId,
          ...(this.opts.secret ? { 'x-davis-signature': webhookSignature(this.opts.secret, body) } : {}),
        },
        body,
        signal: AbortSignal.timeout(this.opts.timeoutMs),
      });
      await res.arrayBuffer().catch(() => undefined);
      if (res.status < 200 || res.status >= 300) error = `HTTP ${res.status}`;
    } catch (err) {
      error = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name;
    }
    if (!error) {
      await this.journal.recordWebhook(messageId, { event, state: 'delivered', attempts });
      log.info({ attempts }, 'webhook delivered');
      this.metrics?.webhookOutcomes.inc({ outcome: 'delivered' });
      d.ack();
      return;
    }
    if (attempts >= this.opts.maxAttempts) {
      await this.journal.recordWebhook(messageId, { event, state: 'failed', attempts, lastError: error });
      log.error({ attempts, error }, 'webhook given up');
      this.metrics?.webhookOutcomes.inc({ outcome: 'failed' });
      d.ack();
      return;
    }
    await this.journal.recordWebhook(messageId, { event, state: 'pending', attempts, lastError: error });
    await this.broker.delay('webhook', d.work, backoffDelay(attempts, { baseMs: this.opts.retryBaseMs, maxMs: this.opts.retryMaxMs ?? DEFAULT_BACKOFF_MAX_MS }));
    log.warn({ attempts, error }, 'webhook failed; will retry');
    this.metrics?.webhookOutcomes.inc({ outcome: 'retry' });
    d.ack();
  }
}
