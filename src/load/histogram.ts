/**
 * A latency histogram with logarithmic buckets (1 % wide, from 10 µs to 10 minutes): constant
 * memory however long a soak runs, quantiles within 1 % of the exact value.
 */

const MIN_MS = 0.01;
const GROWTH = 1.01;
const LOG_GROWTH = Math.log(GROWTH);
const BUCKETS = Math.ceil(Math.log(600000 / MIN_MS) / LOG_GROWTH) + 1;

/** Recorded latencies, ms. */
export class LatencyHistogram {
  private readonly counts = new Uint32Array(BUCKETS);
  private n = 0;
  private maxMs = 0;

  /** Adds one latency, ms (negative values count as 0; above 10 minutes as 10 minutes). */
  record(ms: number): void {
    const v = ms > MIN_MS ? ms : MIN_MS;
    const i = Math.min(BUCKETS - 1, Math.floor(Math.log(v / MIN_MS) / LOG_GROWTH));
    this.counts[i]++;
    this.n++;
    if (ms > this.maxMs) this.maxMs = ms;
  }

  get count(): number {
    return this.n;
  }

  get max(): number {
    return this.maxMs;
  }

  /**
   * The latency below which a share `q` (0–1) of the recorded ones lie: the upper bound of the
   * bucket holding the rank `ceil(q × count)` (never above the largest value recorded), or NaN
   * when nothing was recorded.
   */
  quantile(q: number): number {
    if (this.n === 0) return NaN;
    const rank = Math.max(1, Math.ceil(q * this.n));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i];
      if (seen >= rank) return Math.min(this.maxMs, MIN_MS * GROWTH ** (i + 1));
    }
    return this.maxMs;
  }

  /** Adds every value of `other` to this histogram. */
  add(other: LatencyHistogram): void {
    for (let i = 0; i < BUCKETS; i++) this.counts[i] += other.counts[i];
    this.n += other.n;
    if (other.maxMs > this.maxMs) this.maxMs = other.maxMs;
  }
}
