import { CircuitBreaker } from '../../src/exchange/circuit-breaker';
import { silent, sleep, until } from './fixtures';

describe('the circuit breaker', () => {
  let breaker: CircuitBreaker | undefined;
  afterEach(() => { breaker?.stop(); breaker = undefined; });

  /** A breaker whose probe fails while `down()` and records when it was called. */
  function make(down: () => boolean, over: { threshold?: number; cooldownMs?: number; maxCooldownMs?: number } = {}) {
    const probes: number[] = [];
    const events: string[] = [];
    breaker = new CircuitBreaker({
      threshold: 3, cooldownMs: 20, maxCooldownMs: 80, logger: silent, ...over,
      probe: async () => {
        probes.push(Date.now());
        if (down()) throw new Error('central unreachable');
      },
    });
    breaker.on('open', () => events.push('open'));
    breaker.on('close', () => events.push('close'));
    return { b: breaker, probes, events };
  }

  it('stays closed below the threshold, and a success starts the count again', async () => {
    const { b, events } = make(() => true);
    b.failure();
    b.failure();
    b.success();
    b.failure();
    b.failure();
    expect(b.state).toBe('closed');
    expect(events).toEqual([]);
  });

  it('opens once at the threshold of consecutive failures (further failures do not open it again)', () => {
    const { b, events } = make(() => true);
    for (let i = 0; i < 5; i++) b.failure();
    expect(b.state).toBe('open');
    expect(events).toEqual(['open']);
  });

  it('while open, probes after a cooldown that doubles per failed probe up to the longest', async () => {
    const { b, probes } = make(() => true, { cooldownMs: 20, maxCooldownMs: 80 });
    const opened = Date.now();
    for (let i = 0; i < 3; i++) b.failure();
    await until('five probes', () => probes.length >= 5, 5000);
    const gaps = [probes[0] - opened, ...probes.slice(1).map((t, i) => t - probes[i])];
    // 20, 40, 80, 80, 80 ms (timers may fire a little late, never early)
    expect(gaps.slice(0, 5).map((g, i) => g >= [20, 40, 80, 80, 80][i] - 2)).toEqual([true, true, true, true, true]);
    expect(Math.max(...gaps.slice(3, 5))).toBeLessThan(80 * 3);
    expect(b.state).toBe('open');
  });

  it('closes when a probe succeeds (half-open → closed), and a new run of failures opens it again', async () => {
    let down = true;
    const { b, probes, events } = make(() => down);
    for (let i = 0; i < 3; i++) b.failure();
    await until('a failed probe', () => probes.length >= 1);
    expect(b.state).toBe('open');
    down = false;
    await until('closed', () => b.state === 'closed', 5000);
    expect(events).toEqual(['open', 'close']);
    b.failure();
    b.failure();
    expect(b.state).toBe('closed');
    b.failure();
    expect(events).toEqual(['open', 'close', 'open']);
  });

  it('probes no more once stopped', async () => {
    const { b, probes } = make(() => true);
    for (let i = 0; i < 3; i++) b.failure();
    b.stop();
    await sleep(100);
    expect(probes).toEqual([]);
  });
});
