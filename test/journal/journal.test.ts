import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import type { Journal, NewMessage } from '../../src/journal/journal';
import { PostgresJournal } from '../../src/journal/journal-postgres';
import { SqliteJournal } from '../../src/journal/journal-sqlite';
import { openJournal } from '../../src/journal/open-journal';
import { loadConfig } from '../../src/config/config';

/** The test database (not `DAVIS_*`: loadConfig rejects unknown variables of that prefix). */
const PG_URL = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** One throwaway store; every `open()` is another handle on it, as another gateway would hold. */
interface Store {
  open(): Promise<Journal>;
  /** Closes every handle and throws the store away. */
  dispose(): Promise<void>;
}

function sqliteStore(): Store {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'davis-journal-'));
  const handles: Journal[] = [];
  return {
    async open() {
      const j = new SqliteJournal(path.join(dir, 'journal.sqlite'));
      handles.push(j);
      return j;
    },
    async dispose() {
      for (const j of handles) await j.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function postgresStore(schema = `davis_test_${randomBytes(6).toString('hex')}`): Store {
  const handles: Journal[] = [];
  return {
    async open() {
      const j = await PostgresJournal.open(PG_URL, { schema, poolSize: 4 });
      handles.push(j);
      return j;
    },
    async dispose() {
      for (const j of handles) await j.close();
      await withPg((c) => c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`));
    },
  };
}

async function withPg<T>(fn: (c: Client) => Promise<T>): Promise<T> {
  const c = new Client({ connectionString: PG_URL });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** The same suite runs against every journal adapter. */
const adapters: [string, () => Store][] = [
  ['sqlite', sqliteStore],
  ['postgres', postgresStore],
];

function msg(over: Partial<NewMessage> = {}): NewMessage {
  return {
    id: randomUUID(), type: 'vis.application.create', direction: 'outbound', orderingKey: 'APP-1', clientId: 'c1',
    bodyHash: 'h1', wireXml: '<w:Request/>', correlationId: 'corr-1', ...over,
  };
}

describe.each(adapters)('journal (%s)', (_name, open) => {
  let store: Store;
  let j: Journal;
  beforeEach(async () => { store = open(); j = await store.open(); });
  afterEach(async () => { await store.dispose(); });

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

  test('times are ISO 8601 UTC with milliseconds, as written', async () => {
    const m = msg();
    await j.insert(m);
    await j.transition(m.id, 'queued');
    const r = (await j.get(m.id))!;
    const iso = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
    for (const t of [r.createdAt, r.updatedAt, ...r.events.map((e) => e.at)]) {
      expect(t).toMatch(iso);
      expect(new Date(t).toISOString()).toBe(t);
    }
    expect((await j.list({})).items[0]?.createdAt).toBe(r.createdAt);
  });

  test('an unknown id: get is undefined, conditional moves are false, unconditional ones throw', async () => {
    expect(await j.get('nope')).toBeUndefined();
    expect(await j.getWireXml('nope')).toBeUndefined();
    expect(await j.transitionFrom('nope', 'accepted', 'queued')).toBe(false);
    expect(await j.requeueFailed('nope', 'by op')).toBe(false);
    expect(await j.hasUnsettledPredecessor('nope')).toBe(false);
    await expect(j.transition('nope', 'queued')).rejects.toThrow(/no message/);
    await expect(j.recordAnswer('nope', { responseId: 'r', inReplyTo: 'nope', created: new Date().toISOString(), result: 'ACCEPTED', code: 'OK' }, '<r/>'))
      .rejects.toThrow(/no message/);
  });

  test('list filters by creation time and direction', async () => {
    const a = msg();
    const b = msg({ direction: 'inbound' });
    await j.insert(a);
    await new Promise((r) => setTimeout(r, 5));
    await j.insert(b);
    const bAt = (await j.get(b.id))!.createdAt;
    expect((await j.list({ from: bAt })).items.map((r) => r.id)).toEqual([b.id]);
    expect((await j.list({ to: bAt })).items.map((r) => r.id)).toEqual([a.id]);
    expect((await j.list({ direction: 'outbound' })).items.map((r) => r.id)).toEqual([a.id]);
    expect((await j.list({ direction: 'inbound', state: 'accepted', type: a.type })).items.map((r) => r.id)).toEqual([b.id]);
  });

  test('ping answers while open and throws once closed; closing twice is harmless', async () => {
    await expect(j.ping()).resolves.toBeUndefined();
    await j.close();
    await expect(j.ping()).rejects.toThrow();
    await expect(j.close()).resolves.toBeUndefined();
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
  let store: Store;
  let j: Journal;
  beforeEach(async () => { store = open(); j = await store.open(); });
  afterEach(async () => { await store.dispose(); });

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

  test('a message waits for an unsettled predecessor, is named as the next to wake when it settles, and is found by the relay if that wake is lost', async () => {
    const a1 = msg({ orderingKey: 'W' });
    const a2 = msg({ orderingKey: 'W', staff: 'staff-9' });
    const a3 = msg({ orderingKey: 'W' });
    const other = msg({ orderingKey: 'V' });
    for (const m of [a1, a2, a3, other]) await j.insert(m);
    for (const m of [a1, a2, a3, other]) await j.transition(m.id, 'queued');
    expect((await j.get(a2.id))?.staff).toBe('staff-9');
    expect(await j.waitForPredecessor(a1.id)).toBe(false);
    expect(await j.waitForPredecessor(other.id)).toBe(false);
    expect(await j.waitForPredecessor(a2.id)).toBe(true);
    expect(await j.waitForPredecessor(a3.id)).toBe(true);
    // Not settled yet: the relay leaves them alone; the first after a1 is a2.
    expect(await j.strandedWaiting('9999', 10)).toEqual([]);
    const next = await j.nextWaiting(a1.id);
    expect(next).toMatchObject({ id: a2.id, type: a2.type, orderingKey: 'W', correlationId: a2.correlationId, staff: 'staff-9' });
    expect(next!.waitingSince).toEqual(expect.any(String));
    expect(await j.nextWaiting(other.id)).toBeUndefined();
    await j.transition(a1.id, 'delivered');
    // The wake of a2 was lost: the relay finds it (only it: a3 still waits for a2).
    const stranded = await j.strandedWaiting('9999', 10);
    expect(stranded.map((m) => m.id)).toEqual([a2.id]);
    expect(await j.strandedWaiting(next!.waitingSince, 10)).toEqual([]);
    await j.clearWaiting(a2.id, 'not-the-mark');
    expect((await j.strandedWaiting('9999', 10)).length).toBe(1);
    await j.clearWaiting(a2.id, next!.waitingSince);
    expect(await j.strandedWaiting('9999', 10)).toEqual([]);
    // a2 is not marked any more: settling a1 again names no one; a2's settlement names a3.
    expect(await j.nextWaiting(a1.id)).toBeUndefined();
    await j.transition(a2.id, 'rejected');
    expect((await j.nextWaiting(a2.id))?.id).toBe(a3.id);
    expect(await j.waitForPredecessor(a3.id)).toBe(false);
    expect(await j.waitForPredecessor('nope')).toBe(false);
    expect(await j.nextWaiting('nope')).toBeUndefined();
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

describe.each(adapters)('journal (%s): several gateways on one store', (_name, open) => {
  let store: Store;
  beforeEach(() => { store = open(); });
  afterEach(async () => { await store.dispose(); });

  test('gateways opening a new store at the same time all succeed', async () => {
    const [a, b, c] = await Promise.all([store.open(), store.open(), store.open()]);
    const m = msg();
    await a.insert(m);
    expect((await b.get(m.id))?.state).toBe('accepted');
    expect(await c.unpublished(new Date(Date.now() + 60000).toISOString())).toEqual([m.id]);
  });

  test('racing transitionFrom on the same message: exactly one gateway wins', async () => {
    const [a, b] = [await store.open(), await store.open()];
    for (let round = 0; round < 10; round++) {
      const m = msg();
      await a.insert(m);
      const tries = [a, b, a, b, a, b].map((j, i) => j.transitionFrom(m.id, 'accepted', i % 2 ? 'refused' : 'queued', { detail: `try ${i}` }));
      const won = await Promise.all(tries);
      expect(won.filter(Boolean)).toHaveLength(1);
      const winner = won.indexOf(true);
      const r = await b.get(m.id);
      expect(r?.state).toBe(winner % 2 ? 'refused' : 'queued');
      expect(r?.events.map((e) => e.state)).toEqual(['accepted', r?.state]);
    }
  });

  test('racing operator retries of one failed message: exactly one requeues it', async () => {
    const [a, b] = [await store.open(), await store.open()];
    const m = msg();
    await a.insert(m);
    await a.transition(m.id, 'failed', { attempt: 3, detail: 'x' });
    const won = await Promise.all([a.requeueFailed(m.id, 'op a'), b.requeueFailed(m.id, 'op b'), a.requeueFailed(m.id, 'op a2')]);
    expect(won.filter(Boolean)).toHaveLength(1);
    expect((await a.get(m.id))?.events.filter((e) => e.state === 'queued')).toHaveLength(1);
  });

  test('insertion order holds across gateways: exactly the first message of an application has no unsettled predecessor', async () => {
    const [a, b] = [await store.open(), await store.open()];
    const ms = Array.from({ length: 20 }, () => msg({ orderingKey: 'APP-SHARED' }));
    await Promise.all(ms.map((m, i) => (i % 2 ? a : b).insert(m)));
    const waiting = await Promise.all(ms.map((m) => a.hasUnsettledPredecessor(m.id)));
    expect(waiting.filter((w) => !w)).toHaveLength(1);
    const first = ms[waiting.indexOf(false)];
    await b.transition(first.id, 'delivered');
    const next = await Promise.all(ms.map((m) => b.hasUnsettledPredecessor(m.id)));
    expect(next.filter((w) => !w)).toHaveLength(2);
  });

  test('messages of one application become visible in insertion order, whichever gateway inserts them', async () => {
    const [a, b, watcher] = [await store.open(), await store.open(), await store.open()];
    const future = new Date(Date.now() + 600000).toISOString();
    const seen: string[][] = [];
    let done = false as boolean;
    const watching = (async () => {
      while (!done) {
        seen.push(await watcher.unpublished(future));
        // SQLite answers without I/O: let the inserts' continuations run.
        await new Promise((r) => setImmediate(r));
      }
    })();
    const ms = Array.from({ length: 60 }, () => msg({ orderingKey: 'APP-VISIBLE' }));
    await Promise.all(ms.map((m, i) => (i % 2 ? a : b).insert(m)));
    done = true;
    await watching;
    // unpublished() lists by insertion sequence: every view must be a prefix of the final one,
    // or a message was visible before an earlier one of its application (and could be sent first).
    const final = await watcher.unpublished(future);
    expect(final).toHaveLength(ms.length);
    for (const view of seen) expect(final.slice(0, view.length)).toEqual(view);
  });

  test('a cursor from one gateway pages on another', async () => {
    const [a, b] = [await store.open(), await store.open()];
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const m = msg();
      ids.push(m.id);
      await (i % 2 ? a : b).insert(m);
      await new Promise((r) => setTimeout(r, 2));
    }
    const p1 = await a.list({ limit: 2 });
    expect(p1.items.map((r) => r.id)).toEqual([ids[2], ids[1]]);
    expect((await b.list({ limit: 2, cursor: p1.nextCursor! })).items.map((r) => r.id)).toEqual([ids[0]]);
  });
});

describe('journal (postgres): opening', () => {
  test('an unreachable server is an error at open, not later', async () => {
    await expect(PostgresJournal.open('postgres://postgres@127.0.0.1:1/test', { connectTimeoutMs: 2000 })).rejects.toThrow();
  });

  test('a schema name that is not a plain identifier is refused before connecting', async () => {
    await expect(PostgresJournal.open(PG_URL, { schema: 'x"; DROP TABLE y; --' })).rejects.toThrow(/schema name/);
  });

  test('a connection the server drops is reported and replaced, not fatal', async () => {
    const schema = `davis_test_${randomBytes(6).toString('hex')}`;
    const app = `davis_test_${randomBytes(6).toString('hex')}`;
    const idleErrors: Error[] = [];
    const j = await PostgresJournal.open(`${PG_URL}?application_name=${app}`, { schema, onIdleError: (e) => idleErrors.push(e) });
    try {
      await j.ping();
      const killed = await withPg(async (c) => (await c.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [app])).rowCount);
      expect(killed).toBeGreaterThan(0);
      for (let i = 0; i < 50 && idleErrors.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
      expect(idleErrors.length).toBeGreaterThan(0);
      await expect(j.ping()).resolves.toBeUndefined();
    } finally {
      await j.close();
      await withPg((c) => c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`));
    }
  });

  test('an existing journal opens with a role that may only read and write its tables', async () => {
    const suffix = randomBytes(6).toString('hex');
    const schema = `davis_test_${suffix}`;
    const role = `davis_test_role_${suffix}`;
    await (await PostgresJournal.open(PG_URL, { schema })).close();
    await withPg((c) => c.query(`CREATE ROLE ${role} LOGIN; GRANT USAGE ON SCHEMA "${schema}" TO ${role};
      GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA "${schema}" TO ${role}; GRANT USAGE ON ALL SEQUENCES IN SCHEMA "${schema}" TO ${role}`));
    try {
      const url = new URL(PG_URL);
      url.username = role;
      const j = await PostgresJournal.open(url.toString(), { schema });
      const m = msg();
      await j.insert(m);
      expect(await j.transitionFrom(m.id, 'accepted', 'queued')).toBe(true);
      await j.close();
    } finally {
      await withPg((c) => c.query(`DROP SCHEMA "${schema}" CASCADE; DROP OWNED BY ${role}; DROP ROLE ${role}`));
    }
  });

  test('the tables live in the named schema, with seq for insertion order', async () => {
    const schema = `davis_test_${randomBytes(6).toString('hex')}`;
    const store = postgresStore(schema);
    try {
      await store.open();
      const tables = await withPg(async (c) => (await c.query<{ t: string }>(
        "SELECT table_name AS t FROM information_schema.columns WHERE table_schema = $1 AND column_name = 'seq' AND data_type = 'bigint' ORDER BY 1",
        [schema],
      )).rows.map((r) => r.t));
      // Other capabilities' tables (added by migrations) may sit beside them.
      expect(tables).toEqual(expect.arrayContaining(['events', 'messages']));
    } finally {
      await store.dispose();
    }
  });
});

describe('journal (sqlite): group commit', () => {
  let dir: string;
  let j: SqliteJournal;
  beforeEach(() => { dir = mkdtempSync(path.join(os.tmpdir(), 'davis-group-')); j = new SqliteJournal(path.join(dir, 'journal.sqlite')); });
  afterEach(async () => { await j.close(); rmSync(dir, { recursive: true, force: true }); });

  /** Bytes the write-ahead log grows by while `fn` runs (from an emptied log). */
  const walGrowth = async (fn: () => Promise<unknown>): Promise<number> => {
    j.database.pragma('wal_checkpoint(TRUNCATE)');
    const file = path.join(dir, 'journal.sqlite-wal');
    const before = statSync(file).size;
    await fn();
    return statSync(file).size - before;
  };

  test('writes issued in one turn of the event loop share one commit', async () => {
    const ms = Array.from({ length: 40 }, (_, i) => msg({ orderingKey: `APP-${i}`, wireXml: 'x'.repeat(5000) }));
    await Promise.all(ms.map((m) => j.insert(m)));
    const together = await walGrowth(() => Promise.all(ms.slice(0, 20).map((m) => j.transition(m.id, 'queued'))));
    const oneByOne = await walGrowth(async () => { for (const m of ms.slice(20)) await j.transition(m.id, 'queued'); });
    // Each commit appends the pages it changed; twenty commits append the same pages twenty times.
    expect(together * 5).toBeLessThan(oneByOne);
    for (const m of ms) expect((await j.get(m.id))?.state).toBe('queued');
  });

  test('a write that fails in a batch fails alone; the others commit', async () => {
    const a = msg();
    const b = msg({ orderingKey: 'APP-2' });
    await j.insert(a);
    const results = await Promise.allSettled([
      j.insert(a), // the same id again
      j.insert(b),
      j.transition(a.id, 'queued'),
      j.transition(randomUUID(), 'queued'), // no such message
      j.transitionFrom(a.id, 'accepted', 'sending'), // runs after the move to queued above
    ]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    expect((results[4] as PromiseFulfilledResult<boolean>).value).toBe(false);
    expect((await j.get(a.id))?.events.map((e) => e.state)).toEqual(['accepted', 'queued']);
    expect((await j.get(b.id))?.state).toBe('accepted');
  });

  test('writes pending when the journal closes are refused, not lost silently', async () => {
    const m = msg();
    const pending = j.insert(m);
    await j.close();
    await expect(pending).rejects.toThrow('journal closed');
  });
});

describe('openJournal', () => {
  const key = randomBytes(32).toString('base64');
  const base = (journal: Record<string, unknown>, dataDir: string) => loadConfig({ env: {}, overrides: { dataDir, journal: { key, ...journal } } });

  test('driver sqlite opens the file under dataDir', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'davis-open-'));
    try {
      const j = await openJournal(base({ driver: 'sqlite' }, dir));
      expect(j).toBeInstanceOf(SqliteJournal);
      await j.ping();
      await j.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('driver postgres goes to postgresUrl; failure is DAVIS_ERR_JOURNAL_UNAVAILABLE without the password', async () => {
    const err = await openJournal(base({ driver: 'postgres', postgresUrl: 'postgres://davis:s3cret@127.0.0.1:1/test' }, os.tmpdir())).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'DAVIS_ERR_JOURNAL_UNAVAILABLE' });
    expect((err as Error).message).toMatch(/PostgreSQL/);
    expect((err as Error).message).not.toContain('s3cret');
  });
});
