import { Dispatcher, type DispatcherOptions } from '../../src/exchange/dispatcher';
import { Webhooks } from '../../src/exchange/uma-webhooks';
import { MemoryBroker } from '../../src/queue/memory-broker';
import { FakeCentral, Scratch, accepted, readJsonAnswer, rejected, silent, sleep, until, workOf } from './fixtures';

describe('the dispatcher (memory broker, SQLite journal, scripted central)', () => {
  let s: Scratch;
  let broker: MemoryBroker;
  let central: FakeCentral;
  let dispatcher: Dispatcher | undefined;

  beforeEach(() => {
    s = new Scratch();
    broker = new MemoryBroker();
    central = new FakeCentral();
  });
  afterEach(async () => {
    await dispatcher?.stop();
    dispatcher = undefined;
    await broker.close();
    await s.close();
  });

  /** A started dispatcher with fast retries; webhooks on, their jobs left in the broker for the test to read. */
  async function start(over: Partial<DispatcherOptions> = {}): Promise<Dispatcher> {
    const webhooks = new Webhooks({ url: 'http://127.0.0.1:9/hooks', maxAttempts: 3, retryBaseMs: 10, retryMaxMs: 50, timeoutMs: 1000 }, s.journal, broker, silent);
    dispatcher = new Dispatcher({
      journal: s.journal, broker, central, webhooks, readAnswer: readJsonAnswer, logger: silent,
      maxAttempts: 5, maxAgeMs: 60000, retryBaseMs: 5, retryMaxMs: 20, breakerThreshold: 50, breakerCooldownMs: 30,
      ...over,
    });
    await dispatcher.start();
    return dispatcher;
  }

  /** Journals a message and publishes its work, as ingest does. */
  async function submit(orderingKey: string): Promise<string> {
    const id = await s.insert(orderingKey);
    await broker.publish('outbound', workOf(await s.record(id)));
    return id;
  }

  const hookEvents = (id: string): string[] => broker.queues.ready('webhook').filter((j) => j.messageId === id).map((j) => j.event);

  it('sends a message once and journals it delivered with central\'s answer; tells UMA; the shard is empty after', async () => {
    await start();
    const id = await submit('APP-1');
    const rec = await s.reaches(id, 'delivered');
    expect(central.sent).toEqual([id]);
    expect(rec.attempts).toBe(1);
    expect(rec.answer).toMatchObject({ inReplyTo: id, result: 'ACCEPTED', code: 'OK' });
    expect(rec.events.map((e) => e.state)).toEqual(['accepted', 'queued', 'sending', 'delivered']);
    await until('UMA told', () => hookEvents(id).length > 0);
    expect(hookEvents(id)).toEqual(['message.delivered']);
    await until('acked', () => broker.backlog === 0);
  });

  it('journals central\'s refusal as rejected with its code and reason, without retrying', async () => {
    central.answer = (id) => rejected(id, 'VIS_ERR_DUPLICATE_APPLICATION');
    await start();
    const id = await submit('APP-2');
    const rec = await s.reaches(id, 'rejected');
    expect(rec.answer).toMatchObject({ result: 'REJECTED', code: 'VIS_ERR_DUPLICATE_APPLICATION' });
    expect(rec.answer!.reason).toEqual(expect.any(String));
    await sleep(100);
    expect(central.count(id)).toBe(1);
    expect(hookEvents(id)).toEqual(['message.rejected']);
  });

  it('retries a transient failure (HTTP 503) through the delay queue and then delivers, counting attempts', async () => {
    central.answer = (id, n) => (n === 1 ? { status: 503, body: '' } : accepted(id));
    await start();
    const id = await submit('APP-3');
    const rec = await s.reaches(id, 'delivered');
    expect(central.count(id)).toBe(2);
    expect(rec.attempts).toBe(2);
    const retrying = rec.events.find((e) => e.state === 'retrying');
    expect(retrying?.detail).toMatch(/^DAVIS_ERR_CENTRAL_TRANSPORT/);
    expect(broker.parked()).toEqual([]);
  });

  it('after the last attempt journals failed, parks the work with its reason and tells UMA', async () => {
    central.answer = () => ({ status: 503, body: '' });
    await start({ maxAttempts: 3 });
    const id = await submit('APP-4');
    const rec = await s.reaches(id, 'failed');
    expect(central.count(id)).toBe(3);
    expect(rec.attempts).toBe(3);
    expect(rec.lastError).toMatch(/^DAVIS_ERR_CENTRAL_TRANSPORT/);
    const parked = await until('parked', () => broker.parked().length === 1 && broker.parked());
    expect(parked[0].work.messageId).toBe(id);
    expect(parked[0].reason).toMatch(/DAVIS_ERR_CENTRAL_TRANSPORT/);
    // The callback is enqueued after the journal and the parking queue have the outcome.
    await until('UMA told', () => hookEvents(id).length > 0);
    expect(hookEvents(id)).toEqual(['message.failed']);
  });

  it('never records an answer it cannot verify: it retries (DAVIS_ERR_CENTRAL_ANSWER) and fails in the end', async () => {
    central.answer = () => ({ status: 200, body: '<Response>unsigned</Response>' });
    await start({ maxAttempts: 2 });
    const id = await submit('APP-5');
    const rec = await s.reaches(id, 'failed');
    expect(rec.answer).toBeUndefined();
    expect(rec.lastError).toMatch(/^DAVIS_ERR_CENTRAL_ANSWER/);
    expect(central.count(id)).toBe(2);
  });

  it('refuses an answer about another message', async () => {
    central.answer = () => accepted('some-other-message');
    await start({ maxAttempts: 1 });
    const id = await submit('APP-6');
    const rec = await s.reaches(id, 'failed');
    expect(rec.answer).toBeUndefined();
    expect(rec.lastError).toMatch(/^DAVIS_ERR_CENTRAL_ANSWER/);
  });

  it('sends one application\'s messages in the order accepted, even when the first needs a retry', async () => {
    const firstId = await s.insert('APP-7');
    const second = await s.insert('APP-7');
    central.answer = (id, n) => (id === firstId && n === 1 ? { status: 503, body: '' } : accepted(id));
    await start();
    for (const id of [firstId, second]) await broker.publish('outbound', workOf(await s.record(id)));
    await s.reaches(second, 'delivered');
    expect(central.sent).toEqual([firstId, firstId, second]);
  });

  it('holds a message while an earlier one of its application is unsettled, and sends others meanwhile', async () => {
    await start();
    const earlier = await s.insert('APP-8'); // journaled, its work not yet in the broker
    const later = await submit('APP-8');
    const other = await submit('APP-9');
    await s.reaches(other, 'delivered');
    await sleep(150);
    expect(central.sent).toEqual([other]);
    expect((await s.record(later)).state).toBe('queued');
    await broker.publish('outbound', workOf(await s.record(earlier)));
    await s.reaches(later, 'delivered');
    expect(central.sent).toEqual([other, earlier, later]);
  });

  it('lets a backlog behind a retrying message wait outside the broker and releases it in order, one wake per settlement', async () => {
    const first = await s.insert('APP-30');
    const later: string[] = [];
    for (let i = 0; i < 30; i++) later.push(await s.insert('APP-30'));
    central.answer = (id, n) => (id === first && n <= 3 ? { status: 503, body: '' } : accepted(id));
    const handled: string[] = [];
    const d = await start({ retryBaseMs: 60, retryMaxMs: 60 });
    const handle = d.handle.bind(d);
    jest.spyOn(d, 'handle').mockImplementation((x) => { handled.push(x.work.messageId); return handle(x); });
    await broker.stopConsuming();
    await d.start();
    for (const id of [first, ...later]) await broker.publish('outbound', workOf(await s.record(id)));
    // While the first is retrying, the others are acked and wait in the journal, not in a delay queue.
    await until('the backlog waits', () => broker.backlog + broker.queues.delayed <= 1 && handled.length >= 31);
    expect(broker.queues.delayed).toBeLessThanOrEqual(1);
    await s.reaches(later.at(-1)!, 'delivered');
    expect(central.sent).toEqual([first, first, first, first, ...later]);
    // Each later message was handled at most twice: once to wait, once when woken.
    for (const id of later) expect(handled.filter((h) => h === id).length).toBeLessThanOrEqual(2);
    await until('acked', () => broker.backlog === 0);
  });

  it('carries the staff member through a wait, so the woken work still names who acted', async () => {
    const first = await s.insert('APP-31');
    const second = await s.insert('APP-31', { staff: 'staff-31' });
    await start();
    const published: unknown[] = [];
    const publish = broker.publish.bind(broker);
    jest.spyOn(broker, 'publish').mockImplementation((lane, work) => { if (lane === 'outbound') published.push(work); return publish(lane, work); });
    await broker.publish('outbound', { ...workOf(await s.record(second)), staff: 'staff-31' });
    await until('waiting', async () => (await s.record(second)).state === 'queued');
    await sleep(50);
    expect(central.sent).toEqual([]);
    await broker.publish('outbound', workOf(await s.record(first)));
    await s.reaches(second, 'delivered');
    expect(published.at(-1)).toEqual({ messageId: second, type: 'vis.application.create', orderingKey: 'APP-31', correlationId: `corr-${second}`, staff: 'staff-31' });
  });

  describe('with several messages in flight per shard (amqp.outboundPrefetch)', () => {
    /** Central answering after a random pause, so that concurrent sends overtake each other. */
    class SlowCentral extends FakeCentral {
      override async send(xml: string, messageId: string) {
        await sleep(Math.random() * 8);
        return super.send(xml, messageId);
      }
    }

    beforeEach(async () => {
      await broker.close();
      broker = new MemoryBroker({ outboundPrefetch: 8 });
      central = new SlowCentral();
    });

    it('keeps each application in the order accepted while the shard sends several at once', async () => {
      const apps = ['APP-40', 'APP-41', 'APP-42'];
      const ids = new Map<string, string[]>(apps.map((a) => [a, []]));
      for (let i = 0; i < 10; i++) for (const a of apps) ids.get(a)!.push(await s.insert(a));
      const d = await start();
      let inFlight = 0;
      let most = 0;
      const handle = d.handle.bind(d);
      jest.spyOn(d, 'handle').mockImplementation(async (x) => {
        most = Math.max(most, ++inFlight);
        try { await handle(x); } finally { inFlight--; }
      });
      await broker.stopConsuming();
      await d.start();
      for (let i = 0; i < 10; i++) for (const a of apps) await broker.publish('outbound', workOf(await s.record(ids.get(a)![i])));
      for (const a of apps) await s.reaches(ids.get(a)!.at(-1)!, 'delivered');
      for (const a of apps) expect(central.sent.filter((id) => ids.get(a)!.includes(id))).toEqual(ids.get(a));
      expect(most).toBeGreaterThan(1);
      await until('acked', () => broker.backlog === 0);
    });

    it('handles copies of one message one after the other: sent once, UMA told once', async () => {
      await start();
      const id = await s.insert('APP-43');
      const work = workOf(await s.record(id));
      await Promise.all([broker.publish('outbound', work), broker.publish('outbound', work), broker.publish('outbound', work)]);
      const rec = await s.reaches(id, 'delivered');
      await until('acked', () => broker.backlog === 0);
      await until('UMA told', () => hookEvents(id).length > 0);
      await sleep(50);
      expect(central.count(id)).toBe(1);
      expect((await s.record(id)).events.map((e) => e.state)).toEqual(['accepted', 'queued', 'sending', 'delivered']);
      expect(rec.attempts).toBe(1);
      expect(hookEvents(id)).toEqual(['message.delivered']);
    });
  });

  it('acks a redelivered item whose outcome is journaled without sending it again', async () => {
    await start();
    const id = await submit('APP-10');
    await s.reaches(id, 'delivered');
    await broker.publish('outbound', workOf(await s.record(id)));
    await until('acked', () => broker.backlog === 0);
    await sleep(50);
    expect(central.count(id)).toBe(1);
  });

  it('drops work about a message the journal does not know, sending nothing', async () => {
    await start();
    await broker.publish('outbound', { messageId: 'not-journaled', type: 'vis.application.create', orderingKey: 'APP-11', correlationId: 'c' });
    await until('acked', () => broker.backlog === 0);
    await sleep(50);
    expect(central.sent).toEqual([]);
  });

  it('fails a message older than maxAgeMs without sending it', async () => {
    await start({ maxAgeMs: 0 });
    const id = s.insert('APP-12');
    await sleep(5);
    await broker.publish('outbound', workOf(await s.record(await id)));
    const rec = await s.reaches(await id, 'failed');
    expect(central.sent).toEqual([]);
    expect(broker.parked().map((p) => p.work.messageId)).toEqual([rec.id]);
  });

  describe('circuit breaker', () => {
    it('opens after consecutive transport failures, stops sending while open, probes, and resumes when central is back', async () => {
      central.down = true;
      const d = await start({ breakerThreshold: 2, breakerCooldownMs: 30, maxAttempts: 50 });
      const ids = [await submit('APP-20'), await submit('APP-21'), await submit('APP-22')];
      await until('open', () => d.breaker.state === 'open');
      await sleep(30); // a delivery already past the breaker's check may still reach central
      const sentWhenOpen = central.sent.length;
      // Half-open: probes go to central, a failed one keeps the circuit open, and nothing is sent meanwhile.
      await until('two probes', () => central.probes >= 2);
      expect(d.breaker.state).toBe('open');
      expect(central.sent.length).toBe(sentWhenOpen);
      const attemptsWhenOpen = await Promise.all(ids.map(async (id) => (await s.record(id)).attempts));
      await sleep(100);
      expect(await Promise.all(ids.map(async (id) => (await s.record(id)).attempts))).toEqual(attemptsWhenOpen);

      central.down = false;
      for (const id of ids) await s.reaches(id, 'delivered');
      expect(d.breaker.state).not.toBe('open');
    });

    it('does not open on answers central refused or that failed verification (they are not transport failures)', async () => {
      central.answer = (id) => (central.sent.length % 2 ? { status: 200, body: 'garbage' } : rejected(id));
      const d = await start({ breakerThreshold: 2, maxAttempts: 1 });
      const ids = await Promise.all(['APP-30', 'APP-31', 'APP-32', 'APP-33'].map(submit));
      for (const id of ids) await until(`${id} settled`, async () => ['failed', 'rejected'].includes((await s.record(id)).state));
      expect(d.breaker.state).toBe('closed');
      expect(central.probes).toBe(0);
    });
  });
});
