/** Polling: waits that end as soon as what a step waits for has happened. */

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `fn` until it says done or the deadline passes; returns its last value. */
export async function poll<T>(deadline: number, every: number, fn: () => Promise<{ done: boolean; value: T }>): Promise<{ value: T; timedOut: boolean }> {
  for (;;) {
    const r = await fn();
    if (r.done) return { value: r.value, timedOut: false };
    if (Date.now() >= deadline) return { value: r.value, timedOut: true };
    await sleep(Math.min(every, Math.max(0, deadline - Date.now())));
  }
}
