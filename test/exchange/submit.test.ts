import { createHash } from 'node:crypto';
import { IngestService, type Client, type Submission } from '../../src/exchange/submit';
import { MemoryBroker } from '../../src/queue/memory-broker';
import { loadExamples } from '../validation/examples';
import { Scratch, signingKey, silent } from './fixtures';

const AUTHORITY: Client = { id: 'uma-1', roles: ['visa-authority'], all: false };
const OPERATOR: Client = { id: 'ops-1', roles: [], all: true };
const payload = (): Record<string, unknown> => structuredClone(loadExamples('vis.application.create').valid[0].payload) as Record<string, unknown>;

/** A submission as the HTTP layer hands it over: the body, the hash of its raw bytes, the client. */
function submission(body: unknown, over: Partial<Submission> = {}): Submission {
  return { body, bodyHash: createHash('sha256').update(JSON.stringify(body)).digest('hex'), client: AUTHORITY, correlationId: 'corr-1', ...over };
}

async function codeOf(p: Promise<unknown>): Promise<{ code?: string; status?: number }> {
  try {
    await p;
  } catch (err) {
    const e = err as { code?: string; status?: number };
    return { code: e.code, status: e.status };
  }
  throw new Error('expected a rejection');
}

describe('submit (ingest) on the memory broker and a SQLite journal', () => {
  let s: Scratch;
  let broker: MemoryBroker;
  let ingest: IngestService;

  beforeEach(() => {
    s = new Scratch();
    broker = new MemoryBroker();
    ingest = new IngestService({ journal: s.journal, broker, signingKey, memberState: 'FI', maxBacklog: 100, logger: silent });
  });
  afterEach(async () => {
    await broker.close();
    await s.close();
  });

  const journaled = async () => (await s.journal.list({})).items;

  it('journals the signed wire message, publishes it on its application\'s key and answers queued', async () => {
    const body = { type: 'vis.application.create', payload: payload() };
    const { record, replay } = await ingest.submit(submission(body));
    expect(replay).toBe(false);
    expect(record).toMatchObject({ type: 'vis.application.create', direction: 'outbound', state: 'queued', clientId: 'uma-1', orderingKey: body.payload.applicationNumber });
    expect(broker.queues.ready('outbound')).toEqual([{ messageId: record.id, type: 'vis.application.create', orderingKey: body.payload.applicationNumber, correlationId: 'corr-1' }]);
    const xml = await s.journal.getWireXml(record.id);
    expect(xml).toContain(record.id);
    expect(xml).toMatch(/<(\w+:)?Signature[\s>]/);
  });

  it('answers the same key with the same body with the earlier acceptance, publishing nothing more', async () => {
    const body = { type: 'vis.application.create', payload: payload() };
    const first = await ingest.submit(submission(body, { idempotencyKey: 'k-1' }));
    const again = await ingest.submit(submission(body, { idempotencyKey: 'k-1' }));
    expect(again.replay).toBe(true);
    expect(again.record.id).toBe(first.record.id);
    expect(broker.queues.ready('outbound')).toHaveLength(1);
    expect(await journaled()).toHaveLength(1);
  });

  it('refuses the same key with another body: DAVIS_ERR_IDEMPOTENCY_CONFLICT (409)', async () => {
    await ingest.submit(submission({ type: 'vis.application.create', payload: payload() }, { idempotencyKey: 'k-2' }));
    const other = { type: 'vis.application.create', payload: { ...payload(), applicationNumber: 'FI-OTHER-0001' } };
    expect(await codeOf(ingest.submit(submission(other, { idempotencyKey: 'k-2' })))).toEqual({ code: 'DAVIS_ERR_IDEMPOTENCY_CONFLICT', status: 409 });
    expect(await journaled()).toHaveLength(1);
  });

  it('keeps idempotency keys per client', async () => {
    const body = { type: 'vis.application.create', payload: payload() };
    const a = await ingest.submit(submission(body, { idempotencyKey: 'k-3' }));
    const b = await ingest.submit(submission(body, { idempotencyKey: 'k-3', client: { ...AUTHORITY, id: 'uma-2' } }));
    expect(b.replay).toBe(false);
    expect(b.record.id).not.toBe(a.record.id);
  });

  it('refuses new work while the backlog is over its limit: DAVIS_ERR_QUEUE_FULL (503), nothing journaled', async () => {
    ingest = new IngestService({ journal: s.journal, broker, signingKey, memberState: 'FI', maxBacklog: 1, logger: silent });
    for (const n of [1, 2]) await broker.publish('outbound', { messageId: `w-${n}`, type: 'vis.application.create', orderingKey: `K-${n}`, correlationId: 'c' });
    expect(await codeOf(ingest.submit(submission({ type: 'vis.application.create', payload: payload() })))).toEqual({ code: 'DAVIS_ERR_QUEUE_FULL', status: 503 });
    expect(await journaled()).toEqual([]);
  });

  it('refuses new work while the broker is unreachable: DAVIS_ERR_BROKER_UNAVAILABLE (503), nothing journaled', async () => {
    broker.disconnect();
    expect(await codeOf(ingest.submit(submission({ type: 'vis.application.create', payload: payload() })))).toEqual({ code: 'DAVIS_ERR_BROKER_UNAVAILABLE', status: 503 });
    expect(await journaled()).toEqual([]);
  });

  it('marks the journaled message refused when the broker does not confirm it; the same key may then be sent again', async () => {
    const body = { type: 'vis.application.create', payload: payload() };
    broker.refusePublishes(1);
    expect(await codeOf(ingest.submit(submission(body, { idempotencyKey: 'k-4' })))).toEqual({ code: 'DAVIS_ERR_BROKER_UNAVAILABLE', status: 503 });
    expect((await journaled()).map((r) => r.state)).toEqual(['refused']);
    const retried = await ingest.submit(submission(body, { idempotencyKey: 'k-4' }));
    expect(retried).toMatchObject({ replay: false, record: { state: 'queued' } });
  });

  it('refuses what is not a message it may send, each with its code', async () => {
    const p = payload();
    const cases: [Submission, string][] = [
      [submission({ type: 'vis.no.such.type', payload: p }), 'DAVIS_ERR_CATALOGUE_UNKNOWN_TYPE'],
      [submission({ type: 'vis.notification.hit', payload: p }), 'DAVIS_ERR_CATALOGUE_UNKNOWN_TYPE'],
      [submission({ type: 'vis.application.create', payload: p }, { client: { id: 'x', roles: ['border-authority'], all: false } }), 'DAVIS_ERR_AUTH_FORBIDDEN'],
      [submission({ type: 'vis.application.create', payload: { ...p, applicationNumber: 42 } }), 'DAVIS_ERR_VALIDATION_FAILED'],
      [submission({ type: 'vis.application.create', payload: p, extra: true }), 'DAVIS_ERR_VALIDATION_FAILED'],
      [submission([]), 'DAVIS_ERR_VALIDATION_FAILED'],
    ];
    for (const [sub, code] of cases) expect([JSON.stringify(sub.body).slice(0, 40), (await codeOf(ingest.submit(sub))).code]).toEqual([JSON.stringify(sub.body).slice(0, 40), code]);
    expect(await journaled()).toEqual([]);
    expect(broker.backlog).toBe(0);
  });

  it('points validation errors into the payload', async () => {
    try {
      await ingest.submit(submission({ type: 'vis.application.create', payload: { ...payload(), applicationNumber: 42 } }));
      throw new Error('expected a rejection');
    } catch (err) {
      const e = err as { code?: string; errors?: { pointer: string }[] };
      expect(e.code).toBe('DAVIS_ERR_VALIDATION_FAILED');
      expect(e.errors?.map((x) => x.pointer)).toContain('/payload/applicationNumber');
    }
  });

  describe('operator retry', () => {
    it('puts a failed message back in the queue with fresh attempts', async () => {
      const { record } = await ingest.submit(submission({ type: 'vis.application.create', payload: payload() }));
      await s.journal.transition(record.id, 'failed', { attempt: 3, detail: 'DAVIS_ERR_CENTRAL_TRANSPORT: HTTP 503' });
      const before = broker.queues.ready('outbound').length;
      const after = await ingest.retry(record.id, OPERATOR);
      expect(after.state).toBe('queued');
      expect(after.attempts).toBe(0);
      expect(broker.queues.ready('outbound')).toHaveLength(before + 1);
    });

    it('refuses a message that is not failed (DAVIS_ERR_MESSAGE_STATE), a client that is no operator, and an unknown id', async () => {
      const { record } = await ingest.submit(submission({ type: 'vis.application.create', payload: payload() }));
      expect((await codeOf(ingest.retry(record.id, OPERATOR))).code).toBe('DAVIS_ERR_MESSAGE_STATE');
      expect((await codeOf(ingest.retry(record.id, AUTHORITY))).code).toBe('DAVIS_ERR_AUTH_FORBIDDEN');
      expect((await codeOf(ingest.retry(record.id, { ...AUTHORITY, id: 'someone-else' }))).code).toBe('DAVIS_ERR_NOT_FOUND');
      expect((await codeOf(ingest.retry('no-such-id', OPERATOR))).code).toBe('DAVIS_ERR_NOT_FOUND');
    });
  });
});
