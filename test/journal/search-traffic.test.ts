import { randomBytes, randomUUID } from 'node:crypto';
import { JournalKeyring } from '../../src/journal/journal-cipher';
import { CENTRAL_REFERENCE_SCAN, trafficMinutes, type Journal, type NewMessage } from '../../src/journal/journal';
import type { CentralAnswer } from '../../src/wire/types';
import { STORES, type Store } from './stores';

function msg(over: Partial<NewMessage> = {}): NewMessage {
  return {
    id: randomUUID(), type: 'vis.application.create', direction: 'outbound', orderingKey: 'APP-1', clientId: 'c1',
    bodyHash: 'h1', wireXml: '<w:Request/>', correlationId: 'corr-1', ...over,
  };
}

function accepted(id: string, ref: string): CentralAnswer {
  return { responseId: randomUUID(), inReplyTo: id, result: 'ACCEPTED', code: 'OK', centralReference: ref, created: new Date().toISOString() };
}

describe.each(STORES)('journal (%s): operators\' search and traffic', (_name, open) => {
  let store: Store;
  let j: Journal;
  beforeEach(async () => { store = open(); j = await store.open(new JournalKeyring(randomBytes(32))); });
  afterEach(async () => { await store.dispose(); });

  test('lists by application number and by correlation id, exactly', async () => {
    const a = msg({ orderingKey: 'FI-APP-7', correlationId: 'req-a' });
    const b = msg({ orderingKey: 'FI-APP-77', correlationId: 'req-b' });
    await j.insert(a);
    await j.insert(b);
    expect((await j.list({ orderingKey: 'FI-APP-7' })).items.map((m) => m.id)).toEqual([a.id]);
    expect((await j.list({ correlationId: 'req-b' })).items.map((m) => m.id)).toEqual([b.id]);
    expect((await j.list({ orderingKey: 'FI-APP-7', correlationId: 'req-b' })).items).toEqual([]);
  });

  test('finds a message by central\'s reference inside its sealed answer, a page at a time', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) {
      const m = msg({ orderingKey: `APP-${i}` });
      await j.insert(m);
      await j.recordAnswer(m.id, accepted(m.id, i % 2 ? 'VIS-REF-ODD' : `VIS-REF-${i}`), '<r/>');
      ids.push(m.id);
    }
    await j.insert(msg());
    expect((await j.list({ centralReference: 'VIS-REF-2' })).items.map((m) => m.id)).toEqual([ids[2]]);
    const first = await j.list({ centralReference: 'VIS-REF-ODD', limit: 1 });
    expect(first.items).toHaveLength(1);
    expect(first.nextCursor).toBeDefined();
    const second = await j.list({ centralReference: 'VIS-REF-ODD', limit: 1, cursor: first.nextCursor! });
    expect([...first.items, ...second.items].map((m) => m.id).sort()).toEqual([ids[1], ids[3]].sort());
    expect(second.nextCursor).toBeUndefined();
    expect((await j.list({ centralReference: 'VIS-REF-NONE' })).items).toEqual([]);
    expect(CENTRAL_REFERENCE_SCAN).toBeGreaterThan(100);
  });

  test('counts accepted, delivered, rejected and failed per minute, every minute up to now', async () => {
    const since = new Date(Date.now() - 4 * 60000).toISOString();
    const d = msg(); const r = msg(); const f = msg(); const old = msg();
    for (const m of [d, r, f, old]) await j.insert(m);
    await j.recordAnswer(d.id, accepted(d.id, 'X'), '<r/>');
    await j.recordAnswer(r.id, { ...accepted(r.id, 'Y'), result: 'REJECTED', code: 'VIS_ERR_X' }, '<r/>');
    await j.transition(f.id, 'failed', { detail: 'DAVIS_ERR_CENTRAL_TRANSPORT' });
    const minutes = await j.trafficByMinute(since);
    expect(minutes.length).toBeGreaterThanOrEqual(5);
    expect(minutes.length).toBeLessThanOrEqual(6);
    expect(minutes.every((m) => /^\d{4}-\d\d-\d\dT\d\d:\d\dZ$/.test(m.minute))).toBe(true);
    const sum = (k: 'accepted' | 'delivered' | 'rejected' | 'failed') => minutes.reduce((n, m) => n + m[k], 0);
    expect({ accepted: sum('accepted'), delivered: sum('delivered'), rejected: sum('rejected'), failed: sum('failed') })
      .toEqual({ accepted: 4, delivered: 1, rejected: 1, failed: 1 });
    expect(minutes.slice(0, -2).every((m) => m.accepted === 0)).toBe(true);
    expect(await j.trafficByMinute(new Date(Date.now() + 120000).toISOString())).toEqual([]);
  });
});

describe('trafficMinutes', () => {
  test('fills the empty minutes with zeros and adds up the rows of a minute', () => {
    const now = Date.parse('2026-01-01T10:02:30Z');
    expect(trafficMinutes('2026-01-01T10:00:10.000Z', [
      { minute: '2026-01-01T10:00', state: 'accepted', n: 2 }, { minute: '2026-01-01T10:02', state: 'failed', n: 1 },
    ], now)).toEqual([
      { minute: '2026-01-01T10:00Z', accepted: 2, delivered: 0, rejected: 0, failed: 0 },
      { minute: '2026-01-01T10:01Z', accepted: 0, delivered: 0, rejected: 0, failed: 0 },
      { minute: '2026-01-01T10:02Z', accepted: 0, delivered: 0, rejected: 0, failed: 1 },
    ]);
  });
});
