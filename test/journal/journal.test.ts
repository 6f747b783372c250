import { randomUUID } from 'node:crypto';
import type { Journal, NewMessage } from '../../src/journal/journal';
import { SqliteJournal } from '../../src/journal/journal-sqlite';

/** The same suite runs against every journal adapter. */
const adapters: [string, () => Promise<Journal>][] = [
  ['sqlite', async () => new SqliteJournal(':memory:')],
];

function msg(over: Partial<NewMessage> = {}): NewMessage {
  return {
    id: randomUUID(), type: 'vis.application.create', direction: 'outbound', orderingKey: 'APP-1', clientId: 'c1',
    bodyHash: 'h1', wireXml: '<w:Request/>', correlationId: 'corr-1', ...over,
  };
}

describe.each(adapters)('journal (%s)', (_name, open) => {
  let j: Journal;
  beforeEach(async () => { j = await open(); });
  afterEach(async () => { await j.close(); });

  test('a new message is accepted with one history event and keeps its wire XML', async () => {
    const m = msg();
    await j.insert(m);
    const r = await j.get(m.id);
    expect(r?.state).toBe('accepted');
    expect(r?.events.map((e) => e.state)).toEqual(['accepted']);
    expect(await j.getWireXml(m.id)).toBe('<w:Request/>');
  });

  test('the same id twice is refused', async () => {
    const m = msg();
    await j.insert(m);
    await expect(j.insert(m)).rejects.toHaveProperty('message', expect.stringMatching(/unique|duplicate/i));
  });

  test('transitions are recorded in order with attempts and the last error', async () => {
    const m = msg();
    await j.insert(m);
    await j.transition(m.id, 'queued');
    await j.transition(m.id, 'sending', { attempt: 1 });
    await j.transition(m.id, 'retrying', { attempt: 1, detail: 'DAVIS_ERR_CENTRAL_TRANSPORT' });
    await j.transition(m.id, 'sending', { attempt: 2 });
    const r = await j.get(m.id);
    expect(r?.events.map((e) => e.state)).toEqual(['accepted', 'queued', 'sending', 'retrying', 'sending']);
    expect(r?.attempts).toBe(2);
    expect(r?.lastError).toBe('DAVIS_ERR_CENTRAL_TRANSPORT');
  });

  test('transitionFrom moves only from the named state (ingest and dispatcher race safely)', async () => {
    const m = msg();
    await j.insert(m);
    expect(await j.transitionFrom(m.id, 'accepted', 'queued')).toBe(true);
    expect(await j.transitionFrom(m.id, 'accepted', 'refused')).toBe(false);
    expect((await j.get(m.id))?.state).toBe('queued');
    expect((await j.get(m.id))?.events).toHaveLength(2);
  });

  test('the central answer sets delivered or rejected', async () => {
    const a = msg();
    const b = msg();
    await j.insert(a);
    await j.insert(b);
    const base = { responseId: randomUUID(), created: new Date().toISOString() };
    expect(await j.recordAnswer(a.id, { ...base, inReplyTo: a.id, result: 'ACCEPTED', code: 'OK', centralReference: 'VIS-FI-1' }, '<r/>')).toBe('delivered');
    expect(await j.recordAnswer(b.id, { ...base, inReplyTo: b.id, result: 'REJECTED', code: 'VIS_ERR_X', reason: 'no' }, '<r/>')).toBe('rejected');
    expect((await j.get(a.id))?.answer?.centralReference).toBe('VIS-FI-1');
    const rb = await j.get(b.id);
    expect(rb?.answer?.code).toBe('VIS_ERR_X');
    expect(rb?.events.at(-1)).toMatchObject({ state: 'rejected', detail: 'VIS_ERR_X' });
  });

  test('idempotency lookup ignores refused messages', async () => {
    const m = msg({ idempotencyKey: 'k1' });
    await j.insert(m);
    expect((await j.findByIdempotencyKey('c1', 'k1'))?.id).toBe(m.id);
    expect(await j.findByIdempotencyKey('c2', 'k1')).toBeUndefined();
    await j.transitionFrom(m.id, 'accepted', 'refused', { detail: 'DAVIS_ERR_BROKER_UNAVAILABLE' });
    expect(await j.findByIdempotencyKey('c1', 'k1')).toBeUndefined();
  });

  test('list pages newest first with a cursor and filters by state and type', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const m = msg();
      ids.push(m.id);
      await j.insert(m);
      await new Promise((r) => setTimeout(r, 2));
    }
    await j.transition(ids[0], 'queued');
    const p1 = await j.list({ limit: 2 });
    expect(p1.items.map((r) => r.id)).toEqual([ids[4], ids[3]]);
    const p2 = await j.list({ limit: 2, cursor: p1.nextCursor! });
    expect(p2.items.map((r) => r.id)).toEqual([ids[2], ids[1]]);
    const p3 = await j.list({ limit: 2, cursor: p2.nextCursor! });
    expect(p3.items.map((r) => r.id)).toEqual([ids[0]]);
    expect(p3.nextCursor).toBeUndefined();
    expect((await j.list({ state: 'queued' })).items.map((r) => r.id)).toEqual([ids[0]]);
    expect((await j.list({ type: 'other' })).items).toHaveLength(0);
  });

  test('unpublished lists messages still accepted before a time (outbox relay work)', async () => {
    const a = msg();
    const b = msg();
    await j.insert(a);
    await j.insert(b);
    await j.transition(b.id, 'queued');
    const future = new Date(Date.now() + 60000).toISOString();
    expect(await j.unpublished(future)).toEqual([a.id]);
    expect(await j.unpublished('2000-01-01T00:00:00.000Z')).toEqual([]);
  });
});

describe.each(adapters)('journal (%s): delivery bookkeeping', (_name, open) => {
  let j: Journal;
  beforeEach(async () => { j = await open(); });
  afterEach(async () => { await j.close(); });

  test('a message waits while an earlier one of the same application is unsettled', async () => {
    const a1 = msg({ orderingKey: 'A' });
    const b1 = msg({ orderingKey: 'B' });
    const a2 = msg({ orderingKey: 'A' });
    for (const m of [a1, b1, a2]) await j.insert(m);
    expect(await j.hasUnsettledPredecessor(a1.id)).toBe(false);
    expect(await j.hasUnsettledPredecessor(b1.id)).toBe(false);
    expect(await j.hasUnsettledPredecessor(a2.id)).toBe(true);
    await j.transition(a1.id, 'retrying', { attempt: 1, detail: 'x' });
    expect(await j.hasUnsettledPredecessor(a2.id)).toBe(true);
    await j.transition(a1.id, 'failed', { attempt: 2, detail: 'x' });
    expect(await j.hasUnsettledPredecessor(a2.id)).toBe(false);
  });

  test('an operator retry moves only failed messages back to queued with fresh attempts', async () => {
    const m = msg();
    await j.insert(m);
    expect(await j.requeueFailed(m.id, 'by op')).toBe(false);
    await j.transition(m.id, 'failed', { attempt: 5, detail: 'DAVIS_ERR_CENTRAL_TRANSPORT' });
    expect(await j.requeueFailed(m.id, 'by op')).toBe(true);
    const r = await j.get(m.id);
    expect(r?.state).toBe('queued');
    expect(r?.attempts).toBe(0);
    expect(r?.events.at(-1)).toMatchObject({ state: 'queued', detail: 'by op' });
  });

  test('retrying records the next attempt time; the answer clears it', async () => {
    const m = msg();
    await j.insert(m);
    const next = new Date(Date.now() + 5000).toISOString();
    await j.transition(m.id, 'retrying', { attempt: 1, detail: 'e', nextAttemptAt: next });
    expect((await j.get(m.id))?.nextAttemptAt).toBe(next);
    await j.recordAnswer(m.id, { responseId: 'r', inReplyTo: m.id, created: next, result: 'ACCEPTED', code: 'OK' }, '<r/>');
    expect((await j.get(m.id))?.nextAttemptAt).toBeUndefined();
  });

  test('webhook state and per-state counts are kept', async () => {
    const a = msg();
    const b = msg();
    await j.insert(a);
    await j.insert(b);
    await j.transition(b.id, 'queued');
    await j.recordWebhook(a.id, { event: 'message.delivered', state: 'pending', attempts: 1, lastError: 'HTTP 500' });
    expect((await j.get(a.id))?.webhook).toMatchObject({ event: 'message.delivered', state: 'pending', attempts: 1, lastError: 'HTTP 500' });
    expect(await j.countByState()).toEqual({ accepted: 1, queued: 1 });
  });
});
