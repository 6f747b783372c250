import { OutboxRelay } from '../../src/exchange/outbox-relay';
import { MemoryBroker } from '../../src/queue/memory-broker';
import { Scratch, silent, sleep } from './fixtures';

describe('the outbox relay', () => {
  let s: Scratch;
  let broker: MemoryBroker;
  let relay: OutboxRelay;

  beforeEach(() => {
    s = new Scratch();
    broker = new MemoryBroker();
    relay = new OutboxRelay({ journal: s.journal, broker, logger: silent, intervalMs: 60000, graceMs: 50 });
  });
  afterEach(async () => {
    await relay.stop();
    await broker.close();
    await s.close();
  });

  /** Journals a message as ingest does before its publish, and lets it age past the grace time. */
  async function unconfirmed(key: string): Promise<string> {
    const id = await s.insert(key);
    await sleep(60);
    return id;
  }

  it('publishes a message journaled accepted whose confirm never came, and marks it queued', async () => {
    const id = await unconfirmed('APP-1');
    expect(await relay.runOnce()).toBe(1);
    expect(broker.queues.ready('outbound')).toEqual([{ messageId: id, type: 'vis.application.create', orderingKey: 'APP-1', correlationId: `corr-${id}` }]);
    const rec = await s.record(id);
    expect(rec.state).toBe('queued');
    expect(rec.events.at(-1)?.detail).toEqual(expect.any(String));
  });

  it('publishes a message left waiting for a predecessor that settled without waking it, once', async () => {
    const first = await s.insert('APP-40');
    const waiting = await s.insert('APP-40', { staff: 'staff-40' });
    await s.journal.transition(waiting, 'queued');
    expect(await s.journal.waitForPredecessor(waiting)).toBe(true);
    await s.journal.transition(first, 'delivered');
    await sleep(60);
    expect(await relay.runOnce()).toBe(1);
    expect(broker.queues.ready('outbound')).toEqual([
      { messageId: waiting, type: 'vis.application.create', orderingKey: 'APP-40', correlationId: `corr-${waiting}`, staff: 'staff-40' },
    ]);
    expect(await relay.runOnce()).toBe(0);
  });

  it('publishes each such message once: a second pass finds nothing', async () => {
    await unconfirmed('APP-2');
    await unconfirmed('APP-3');
    expect(await relay.runOnce()).toBe(2);
    expect(await relay.runOnce()).toBe(0);
    expect(broker.queues.ready('outbound')).toHaveLength(2);
  });

  it('leaves a message younger than the grace time to the request still waiting for its confirm', async () => {
    const id = await s.insert('APP-4');
    expect(await relay.runOnce()).toBe(0);
    expect((await s.record(id)).state).toBe('accepted');
    expect(broker.backlog).toBe(0);
  });

  it('leaves messages already queued, refused or settled alone', async () => {
    const queued = await unconfirmed('APP-5');
    await s.journal.transitionFrom(queued, 'accepted', 'queued');
    const refused = await unconfirmed('APP-6');
    await s.journal.transitionFrom(refused, 'accepted', 'refused', { detail: 'DAVIS_ERR_BROKER_UNAVAILABLE' });
    expect(await relay.runOnce()).toBe(0);
    expect(broker.backlog).toBe(0);
  });

  it('does nothing while the broker is disconnected, and publishes once it is back', async () => {
    const id = await unconfirmed('APP-7');
    broker.disconnect();
    expect(await relay.runOnce()).toBe(0);
    expect((await s.record(id)).state).toBe('accepted');
    broker.reconnect();
    expect(await relay.runOnce()).toBe(1);
    expect((await s.record(id)).state).toBe('queued');
  });

  it('keeps a message accepted when the broker refuses it, and publishes it on a later pass', async () => {
    const id = await unconfirmed('APP-8');
    broker.refusePublishes(1);
    expect(await relay.runOnce()).toBe(0);
    expect((await s.record(id)).state).toBe('accepted');
    expect(await relay.runOnce()).toBe(1);
    expect(broker.queues.ready('outbound').map((w) => w.messageId)).toEqual([id]);
  });

  it('runs a first pass on start', async () => {
    const id = await unconfirmed('APP-9');
    relay.start();
    await s.reaches(id, 'queued', 2000);
  });
});
