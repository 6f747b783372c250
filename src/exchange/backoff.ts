/**
 * The one retry schedule: exponential backoff with "equal jitter". Attempt n waits a random
 * time between half and all of `min(maxMs, baseMs · 2^(n-1))`, so retries spread out (no
 * thundering herd after central or UMA comes back) and never wait longer than `maxMs`.
 * Used for deliveries to central, callbacks to UMA and broker reconnects.
 */

/** Longest delay where a caller sets none, ms (five minutes: the configuration's default too). */
export const DEFAULT_BACKOFF_MAX_MS = 300_000;

/** How retries are spaced. */
export interface BackoffPolicy {
  /** First delay, ms. */
  readonly baseMs: number;
  /** Longest delay, ms. */
  readonly maxMs: number;
}

/**
 * The wait before retry number `attempt` (1 for the first retry), ms.
 *
 * @param random a source of numbers in [0, 1); injectable for tests
 */
export function backoffDelay(attempt: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  // 2^60 ms is past any cap; keeping the exponent small keeps the arithmetic finite.
  const cap = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.min(Math.max(attempt - 1, 0), 60));
  return cap / 2 + random() * (cap / 2);
}
