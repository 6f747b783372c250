import { randomBytes } from 'node:crypto';
import { HANDLER_RETRY_MS, shardOf } from '../../src/queue/queue';
import type { Delivery, OutboundWork, WebhookJob } from '../../src/queue/queue';
import { amqpHarness, memoryHarness, SHARDS, sleep, until, type PortHarness } from './port-harness';

/** The broker port's contract, run unchanged on every adapter. */
describe.each([
  ['amqp', amqpHarness],
  ['memory', memoryHarness],
] as const)('the queue port on the %s adapter', (_name, makeHarness) => {
  let h: PortHarness;
  /** A tag per test: the queues are shared by the tests of a run, so each one handles only its own work. */
  let tag: string;

  beforeAll(() => { h = makeHarness(); });
  afterAll(async () => { await h.cleanup(); });
  beforeEach(() => { tag = randomBytes(3).toString('hex'); });
  // A consumer left running would be the active one of its shard in the next test.
  afterEach(async () => { await h.closeBrokers(); });

  const work = (n: number, orderingKey = `app-${tag}`): OutboundWork => ({
    messageId: `${tag}-${n}`, type: 'vis.application.create', orderingKey, correlationId: `corr-${tag}-${n}`,
  });
  const job = (n: number): WebhookJob => ({ messageId: `${tag}-${n}`, event: 'message.delivered', correlationId: `corr-${tag}-${n}` });
  const mine = (d: Delivery<{ messageId: string }>): boolean => {
    if (d.work.messageId.startsWith(`${tag}-`)) return true;
    d.ack();
    return false;
  };
  /** Two ordering keys of this test that land on different shards. */
  const keysOnTwoShards = (): [string, string] => {
    const a = `app-${tag}-a`;
    for (let i = 0; ; i++) {
      const b = `app-${tag}-b${i}`;
      if (shardOf(b, SHARDS) !== shardOf(a, SHARDS)) return [a, b];
    }
  };

  it('delivers a published item once, as published, not marked redelivered; an acked item is gone', async () => {
    const b = await h.open();
    const got: Delivery<OutboundWork>[] = [];
    await b.consume('outbound', async (d) => { if (mine(d)) { got.push(d); d.ack(); } });
    await b.publish('outbound', work(1));
    await until('delivery', () => got.length === 1);
    expect(got[0].work).toEqual(work(1));
    expect(got[0].redelivered).toBe(false);
    await b.stopConsuming();
    await b.consume('outbound', async (d) => { if (mine(d)) { got.push(d); d.ack(); } });
    await sleep(300);
    expect(got).toHaveLength(1);
  });

  it('says it is connected until closed; after close publish, delay and park reject with DAVIS_ERR_BROKER_UNAVAILABLE', async () => {
    const b = await h.open();
    expect(b.connected).toBe(true);
    await b.close();
    expect(b.connected).toBe(false);
    await expect(b.publish('outbound', work(1))).rejects.toMatchObject({ code: 'DAVIS_ERR_BROKER_UNAVAILABLE' });
    await expect(b.delay('webhook', job(1), 300)).rejects.toMatchObject({ code: 'DAVIS_ERR_BROKER_UNAVAILABLE' });
    await expect(b.park(work(1), 'x')).rejects.toMatchObject({ code: 'DAVIS_ERR_BROKER_UNAVAILABLE' });
  });

  it('gives a requeued item back, marked redelivered (before or behind what waits in its shard: quorum queues with a delivery limit return it first)', async () => {
    const b = await h.open();
    const seen: string[] = [];
    await b.publish('outbound', work(1));
    await b.publish('outbound', work(2));
    await b.consume('outbound', async (d) => {
      if (!mine(d)) return;
      seen.push(`${d.work.messageId}${d.redelivered ? ' again' : ''}`);
      if (d.work.messageId === `${tag}-1` && !d.redelivered) d.requeue();
      else d.ack();
    });
    await until('both delivered', () => seen.length === 3);
    expect(seen[0]).toBe(`${tag}-1`);
    expect(seen.slice(1).sort()).toEqual([`${tag}-1 again`, `${tag}-2`]);
  });

  it('requeues the delivery of a handler that throws', async () => {
    const b = await h.open();
    const seen: boolean[] = [];
    await b.consume('outbound', async (d) => {
      if (!mine(d)) return;
      seen.push(d.redelivered);
      if (!d.redelivered) throw new Error('handler bug');
      d.ack();
    });
    await b.publish('outbound', work(1));
    await until('redelivery', () => seen.length === 2);
    expect(seen).toEqual([false, true]);
  });

  it('waits before it hands out again the delivery of a handler that keeps throwing (a dependency down does not spin it through the delivery limit)', async () => {
    const b = await h.open();
    const at: number[] = [];
    await b.consume('outbound', async (d) => {
      if (!mine(d)) return;
      at.push(Date.now());
      if (at.length < 3) throw new Error('journal unavailable');
      d.ack();
    });
    await b.publish('outbound', work(1));
    await until('third delivery', () => at.length === 3, 10000);
    expect(at[1] - at[0]).toBeGreaterThanOrEqual(HANDLER_RETRY_MS - 50);
    expect(at[2] - at[1]).toBeGreaterThanOrEqual(HANDLER_RETRY_MS - 50);
  });

  it('hands out one item at a time per shard, in publish order', async () => {
    const b = await h.open();
    const seen: string[] = [];
    let busy = 0;
    let most = 0;
    await b.consume('outbound', async (d) => {
      if (!mine(d)) return;
      busy++;
      most = Math.max(most, busy);
      await sleep(5 + (seen.length % 3) * 10);
      seen.push(d.work.messageId);
      busy--;
      d.ack();
    });
    const items = Array.from({ length: 6 }, (_, i) => work(i));
    await Promise.all(items.map((w) => b.publish('outbound', w)));
    await until('all delivered', () => seen.length === items.length);
    expect(seen).toEqual(items.map((w) => w.messageId));
    expect(most).toBe(1);
  });

  it('hands out up to outboundPrefetch items of one shard at once, in publish order, and no more', async () => {
    const b = await h.open({ outboundPrefetch: 3 });
    const held: Delivery<OutboundWork>[] = [];
    let busy = 0;
    let most = 0;
    await b.consume('outbound', async (d) => {
      if (!mine(d)) return;
      held.push(d);
      most = Math.max(most, ++busy);
      await until('three in flight', () => held.length >= 3, 5000);
      await sleep(20);
      busy--;
      d.ack();
    });
    const items = Array.from({ length: 7 }, (_, i) => work(i));
    for (const w of items) await b.publish('outbound', w);
    await until('all delivered', () => held.length === items.length);
    expect(held.map((d) => d.work.messageId)).toEqual(items.map((w) => w.messageId));
    expect(most).toBe(3);
  });

  it('keeps shards independent: an item held on one shard does not hold back another', async () => {
    const b = await h.open();
    const [ka, kb] = keysOnTwoShards();
    let bDone = false;
    let aSawB = false;
    await b.consume('outbound', async (d) => {
      if (!mine(d)) return;
      if (d.work.orderingKey === ka) {
        await until('the other shard', () => bDone, 5000);
        aSawB = true;
      } else {
        bDone = true;
      }
      d.ack();
    });
    await b.publish('outbound', work(1, ka));
    await b.publish('outbound', work(2, kb));
    await until('the held item', () => aSawB);
  });

  it('has several webhook deliveries in flight at once', async () => {
    const b = await h.open();
    const held: Delivery<WebhookJob>[] = [];
    await b.consume('webhook', async (d) => {
      if (!mine(d)) return;
      held.push(d);
      await until('three in flight', () => held.length >= 3, 5000);
      d.ack();
    });
    await Promise.all([1, 2, 3].map((n) => b.publish('webhook', job(n))));
    await until('three in flight', () => held.length === 3);
  });

  it('returns a delayed item to its lane after the delay, outbound and webhook alike', async () => {
    const b = await h.open();
    const arrived = new Map<string, number>();
    await b.consume('outbound', async (d) => { if (mine(d)) { arrived.set(d.work.messageId, Date.now()); d.ack(); } });
    await b.consume('webhook', async (d) => { if (mine(d)) { arrived.set(`hook ${d.work.messageId}`, Date.now()); d.ack(); } });
    const t0 = Date.now();
    await b.delay('outbound', work(1), 300);
    await b.delay('webhook', job(1), 300);
    await until('both back', () => arrived.size === 2);
    expect(arrived.get(`${tag}-1`)! - t0).toBeGreaterThanOrEqual(250);
    expect(arrived.get(`hook ${tag}-1`)! - t0).toBeGreaterThanOrEqual(250);
  });

  it('counts in the backlog what waits in the outbound shards and delay queues, not webhooks', async () => {
    const b = await h.open();
    const before = b.backlog;
    await b.publish('outbound', work(1));
    await b.publish('outbound', work(2));
    await b.delay('outbound', work(3), 1000);
    await b.publish('webhook', job(4));
    await until('backlog of three', () => b.backlog === before + 3, 5000);
    const seen = new Set<string>();
    await b.consume('outbound', async (d) => { if (mine(d)) { seen.add(d.work.messageId); d.ack(); } });
    await b.consume('webhook', async (d) => { if (mine(d)) { seen.add(d.work.messageId); d.ack(); } });
    await until('all delivered', () => seen.size === 4);
    await until('backlog back', () => b.backlog === before, 5000);
  });

  it('parks an item with its reason, where no consumer takes it', async () => {
    const b = await h.open();
    const taken: string[] = [];
    await b.consume('outbound', async (d) => { if (mine(d)) taken.push(d.work.messageId); d.ack(); });
    await b.park(work(1), 'DAVIS_ERR_CENTRAL_TRANSPORT: central answered HTTP 503');
    await sleep(200);
    expect(taken).toEqual([]);
    expect((await h.parked()).filter((p) => p.work.messageId.startsWith(tag))).toEqual([
      { work: work(1), reason: 'DAVIS_ERR_CENTRAL_TRANSPORT: central answered HTTP 503' },
    ]);
  });

  it('delivers nothing on a paused lane until it is resumed', async () => {
    const b = await h.open();
    const seen: string[] = [];
    await b.consume('outbound', async (d) => { if (mine(d)) seen.push(d.work.messageId); d.ack(); });
    await b.pause('outbound');
    await b.publish('outbound', work(1));
    await sleep(300);
    expect(seen).toEqual([]);
    await b.resume('outbound');
    await until('delivered after resume', () => seen.length === 1);
  });

  it('waits in stopConsuming for the handlers in flight', async () => {
    const b = await h.open();
    let started = false;
    let finished = false;
    await b.consume('outbound', async (d) => {
      if (!mine(d)) return;
      started = true;
      await sleep(200);
      finished = true;
      d.ack();
    });
    await b.publish('outbound', work(1));
    await until('handler started', () => started);
    await b.stopConsuming();
    expect(finished).toBe(true);
  });

  it('has one active consumer per shard across brokers; the next one takes over when it stops', async () => {
    const first = await h.open();
    const second = await h.open();
    const [ka, kb] = keysOnTwoShards();
    const by: Record<string, string> = {};
    const record = (who: string) => async (d: Delivery<OutboundWork>) => {
      if (!mine(d)) return;
      by[d.work.messageId] = who;
      d.ack();
    };
    await first.consume('outbound', record('first'));
    await second.consume('outbound', record('second'));
    for (let i = 0; i < 4; i++) {
      await first.publish('outbound', work(i, ka));
      await second.publish('outbound', work(10 + i, kb));
    }
    await until('eight delivered', () => Object.keys(by).length === 8);
    expect(new Set(Object.values(by))).toEqual(new Set(['first']));
    await first.stopConsuming();
    await first.publish('outbound', work(20, ka));
    await first.publish('outbound', work(21, kb));
    await until('taken over', () => by[`${tag}-20`] && by[`${tag}-21`]);
    expect([by[`${tag}-20`], by[`${tag}-21`]]).toEqual(['second', 'second']);
  });

  it('delivers again, marked redelivered, what a closed broker left unsettled', async () => {
    const first = await h.open();
    const second = await h.open();
    const got: { who: string; redelivered: boolean }[] = [];
    await first.consume('outbound', async (d) => { if (mine(d)) got.push({ who: 'first', redelivered: d.redelivered }); });
    await second.consume('outbound', async (d) => { if (mine(d)) { got.push({ who: 'second', redelivered: d.redelivered }); d.ack(); } });
    await first.publish('outbound', work(1));
    await until('first delivery', () => got.length === 1);
    await first.close();
    await until('redelivery', () => got.length === 2);
    expect(got).toEqual([{ who: 'first', redelivered: false }, { who: 'second', redelivered: true }]);
  });

});
