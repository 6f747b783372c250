import { createHash, randomUUID } from 'node:crypto';
import { IngestService, type Client, type Submission } from '../../src/exchange/submit';
import { OutboxRelay } from '../../src/exchange/outbox-relay';
import type { Journal } from '../../src/journal/journal';
import { MemoryBroker } from '../../src/queue/memory-broker';
import { STORES, type Store } from '../journal/stores';
import { loadExamples } from '../validation/examples';
import { signingKey, silent, sleep } from './fixtures';

const AUTHORITY: Client = { id: 'uma-1', roles: ['visa-authority'], all: false };
const payload = (): Record<string, unknown> => structuredClone(loadExamples('vis.application.create').valid[0].payload) as Record<string, unknown>;

function submission(body: unknown, key: string): Submission {
  return { body, bodyHash: createHash('sha256').update(JSON.stringify(body)).digest('hex'), client: AUTHORITY, correlationId: `corr-${key}`, idempotencyKey: key };
}

/** Journals an outbound message as ingest does before its publish. */
async function accepted(j: Journal, key: string): Promise<string> {
  const id = randomUUID();
  await j.insert({ id, type: 'vis.application.create', direction: 'outbound', orderingKey: key, clientId: 'c', bodyHash: 'b'.repeat(64), wireXml: `<R id="${id}"/>`, correlationId: `corr-${id}` });
  return id;
}

describe.each(STORES)('several gateways on one journal (%s)', (_name, open) => {
  let store: Store;
  beforeEach(() => { store = open(); });
  afterEach(async () => { await store.dispose(); });

  test('the same idempotency key at the same moment on two gateways: one message, both callers get it', async () => {
    const [ja, jb] = [await store.open(), await store.open()];
    const broker = new MemoryBroker();
    const ingest = [ja, jb].map((journal) => new IngestService({ journal, broker, signingKey, memberState: 'FI', maxBacklog: 1000, logger: silent }));
    try {
      for (let round = 0; round < 5; round++) {
        const key = `key-${round}-${randomUUID()}`;
        const body = { type: 'vis.application.create', payload: payload() };
        const answers = await Promise.all([0, 1, 0, 1].map((i) => ingest[i].submit(submission(body, key))));
        expect(new Set(answers.map((a) => a.record.id)).size).toBe(1);
        expect(answers.filter((a) => !a.replay)).toHaveLength(1);
        expect(answers.every((a) => a.record.state === 'queued')).toBe(true);
      }
      expect(broker.queues.ready('outbound')).toHaveLength(5);
      expect((await ja.list({ limit: 100 })).items).toHaveLength(5);
    } finally {
      await broker.close();
    }
  });

  test('a key whose first message was refused (503) can be used again', async () => {
    const j = await store.open();
    const id = await accepted(j, 'APP-R');
    await j.transitionFrom(id, 'accepted', 'refused', { detail: 'DAVIS_ERR_BROKER_UNAVAILABLE' });
    const broker = new MemoryBroker();
    const ingest = new IngestService({ journal: j, broker, signingKey, memberState: 'FI', maxBacklog: 1000, logger: silent });
    const body = { type: 'vis.application.create', payload: payload() };
    try {
      await expect(ingest.submit(submission(body, 'k-r'))).resolves.toMatchObject({ replay: false });
      await expect(ingest.submit(submission(body, 'k-r'))).resolves.toMatchObject({ replay: true });
    } finally {
      await broker.close();
    }
  });

  test('two relays claiming at the same moment never take the same message; a claim ends with its lease', async () => {
    const [ja, jb] = [await store.open(), await store.open()];
    const ids = new Set<string>();
    for (let i = 0; i < 40; i++) ids.add(await accepted(ja, `APP-${i % 7}`));
    await sleep(5);
    const later = new Date(Date.now() + 60000).toISOString();
    const claims = await Promise.all([ja.unpublished(later, 300), jb.unpublished(later, 300), ja.unpublished(later, 300), jb.unpublished(later, 300)]);
    const all = claims.flat();
    expect(all).toHaveLength(40);
    expect(new Set(all)).toEqual(ids);
    expect(await jb.unpublished(later, 300)).toEqual([]);
    await sleep(350);
    expect((await ja.unpublished(later, 300)).sort()).toEqual([...ids].sort());
  });

  test('two gateways\' relays publish each unconfirmed message once', async () => {
    const [ja, jb] = [await store.open(), await store.open()];
    const broker = new MemoryBroker();
    const relays = [ja, jb].map((journal) => new OutboxRelay({ journal, broker, logger: silent, intervalMs: 60000, graceMs: 0 }));
    try {
      for (let i = 0; i < 30; i++) await accepted(ja, `APP-${i}`);
      await sleep(5);
      const counts = await Promise.all([relays[0].runOnce(), relays[1].runOnce()]);
      expect(counts[0] + counts[1]).toBe(30);
      const published = broker.queues.ready('outbound').map((w) => w.messageId);
      expect(new Set(published).size).toBe(30);
      expect(published).toHaveLength(30);
    } finally {
      await Promise.all(relays.map((r) => r.stop()));
      await broker.close();
    }
  });
});
