import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';

/** Options of the circuit breaker. */
export interface CircuitBreakerOptions {
  /** Consecutive transport failures that open the circuit. @default 5 */
  readonly threshold: number;
  /** First wait before probing, ms; doubles per failed probe. @default 1000 */
  readonly cooldownMs: number;
  /** Longest wait between probes, ms. @default 30000 */
  readonly maxCooldownMs: number;
  /** Asks central whether it is alive; rejects if not. It must have no side effect. */
  readonly probe: () => Promise<void>;
  readonly logger: Logger;
}

/**
 * Stops hammering a dead central. After `threshold` consecutive transport failures the
 * circuit opens (`open` event: the dispatcher stops consuming, so queued messages wait in
 * the broker without spending attempts), probes central with a side-effect-free request
 * after a growing cooldown, and closes (`close` event: consuming resumes) when a probe
 * succeeds.
 */
export class CircuitBreaker extends EventEmitter {
  private failures = 0;
  private current: 'closed' | 'open' = 'closed';
  private cooldown: number;
  private timer?: NodeJS.Timeout;
  private stopped = false;

  constructor(private readonly opts: CircuitBreakerOptions) {
    super();
    this.cooldown = opts.cooldownMs;
  }

  get state(): 'closed' | 'open' {
    return this.current;
  }

  /** A request reached central and got an HTTP answer below 500. */
  success(): void {
    this.failures = 0;
  }

  /** A transport failure (timeout, refused, reset, 5xx). */
  failure(): void {
    this.failures++;
    if (this.current === 'closed' && this.failures >= this.opts.threshold) this.open();
  }

  private open(): void {
    this.current = 'open';
    this.cooldown = this.opts.cooldownMs;
    this.opts.logger.warn({ failures: this.failures }, 'central unreachable: circuit open, sending paused');
    this.emit('open');
    this.schedule();
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => { void this.tryProbe(); }, this.cooldown);
    this.timer.unref();
  }

  private async tryProbe(): Promise<void> {
    try {
      await this.opts.probe();
    } catch (err) {
      this.cooldown = Math.min(this.opts.maxCooldownMs, this.cooldown * 2);
      this.opts.logger.info({ nextProbeMs: this.cooldown, reason: (err as Error).message }, 'central still unreachable');
      this.schedule();
      return;
    }
    if (this.stopped) return;
    this.current = 'closed';
    this.failures = 0;
    this.opts.logger.info('central reachable again: circuit closed, sending resumed');
    this.emit('close');
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }
}
