import { backoffDelay } from '../../src/exchange/backoff';

describe('backoff', () => {
  const policy = { baseMs: 1000, maxMs: 300_000 };

  test('doubles per attempt, with the jitter between half and all of the step', () => {
    expect([1, 2, 3, 4].map((n) => backoffDelay(n, policy, () => 0))).toEqual([500, 1000, 2000, 4000]);
    expect([1, 2, 3, 4].map((n) => backoffDelay(n, policy, () => 0.999999)).map(Math.round)).toEqual([1000, 2000, 4000, 8000]);
  });

  test('never waits longer than the cap, however many attempts', () => {
    expect(backoffDelay(30, policy, () => 0.999999)).toBeLessThanOrEqual(300_000);
    expect(backoffDelay(5000, policy, () => 0.5)).toBe(225_000);
    expect(Number.isFinite(backoffDelay(1e6, policy))).toBe(true);
  });
});
