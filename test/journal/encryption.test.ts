import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { loadConfig } from '../../src/config/config';
import { buildRequestXml } from '../../src/wire/envelope';
import type { CentralAnswer } from '../../src/wire/types';
import { JournalKeyring } from '../../src/journal/journal-cipher';
import { devKeyFile, loadJournalKeyring } from '../../src/journal/open-journal';
import { run } from '../../src/cli/main';
import { MIGRATIONS } from '../../src/journal/migrations';
import { leaked, personalExamples, STORES, type Adapter, type Store } from './stores';

const { payloads, values } = personalExamples();
const pad = (v: number): string => String(v).padStart(3, '0');

/** Sends every shipped valid application through the adapter as gateways do: accepted, answered with data naming the applicant, plus an inbound notification. */
async function sendExamples(j: Adapter): Promise<{ id: string; xml: string; answer?: CentralAnswer; responseXml: string }[]> {
  const sent: { id: string; xml: string; answer?: CentralAnswer; responseXml: string }[] = [];
  for (const p of payloads) {
    const id = randomUUID();
    const xml = buildRequestXml({ messageId: id, type: 'vis.application.create', sender: 'FI', created: new Date().toISOString() }, p);
    await j.insert({ id, type: 'vis.application.create', direction: 'outbound', orderingKey: p.applicationNumber, clientId: 'uma', bodyHash: 'h', wireXml: xml, correlationId: 'c' });
    const answer: CentralAnswer = {
      responseId: randomUUID(), inReplyTo: id, result: 'ACCEPTED', code: 'OK', created: new Date().toISOString(), centralReference: 'VIS-1',
      data: { applicant: { surname: p.applicant.surname, firstNames: p.applicant.firstNames, dateOfBirth: p.applicant.dateOfBirth }, document: p.travelDocument.number },
    };
    const responseXml = `<w:Response><Surname>${p.applicant.surname}</Surname><Born>${p.applicant.dateOfBirth}</Born><Doc>${p.travelDocument.number}</Doc></w:Response>`;
    await j.recordAnswer(id, answer, responseXml);
    sent.push({ id, xml, answer, responseXml });
  }
  const p = payloads[0];
  const id = randomUUID();
  const xml = `<w:Request><Hit><Surname>${p.applicant.surname}</Surname><Doc>${p.travelDocument.number}</Doc></Hit></w:Request>`;
  await j.insert({ id, type: 'vis.notification.hit', direction: 'inbound', orderingKey: id, clientId: 'central', bodyHash: 'h', wireXml: xml, correlationId: 'c' });
  return sent.concat([{ id, xml, responseXml: '' }]);
}

async function expectIntact(j: Adapter, sent: Awaited<ReturnType<typeof sendExamples>>): Promise<void> {
  for (const s of sent) {
    expect(await j.getWireXml(s.id)).toBe(s.xml);
    if (s.answer) expect((await j.get(s.id))?.answer).toEqual(s.answer);
  }
  const listed = (await j.list({ limit: 1000 })).items.filter((m) => m.answer);
  expect(listed.length).toBe(payloads.length);
}

async function checkpointed(store: Store): Promise<Buffer> {
  if (store.file) {
    const db = new Database(store.file);
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.close();
  }
  return store.bytes();
}

describe.each(STORES)('personal data at rest (%s)', (_dialect, make) => {
  let store: Store;
  beforeEach(() => { store = make(); });
  afterEach(async () => { await store.dispose(); });

  test('the examples carry personal values to look for', () => {
    expect(payloads.length).toBeGreaterThanOrEqual(2);
    expect(values.length).toBeGreaterThanOrEqual(payloads.length * 3);
  });

  test('a store written without a key holds the values in clear, so the byte search below can see them', async () => {
    const j = await store.open();
    await sendExamples(j);
    expect(leaked(await store.bytes(), values)).toEqual(values);
  });

  test('sealed: no name, document number or birth date in the store\'s bytes; all read back intact', async () => {
    const j = await store.open(new JournalKeyring(randomBytes(32)));
    const sent = await sendExamples(j);
    // While open (SQLite: the -wal holds the latest pages), and after a checkpoint.
    expect(leaked(await store.bytes(), values)).toEqual([]);
    await expectIntact(j, sent);
    expect(leaked(await checkpointed(store), values)).toEqual([]);
  });

  test('rekey reseals every row under the new key; the old key alone no longer reads, the new one does', async () => {
    const k1 = randomBytes(32);
    const k2 = randomBytes(32);
    const old = new JournalKeyring(k1);
    const sent = await sendExamples(await store.open(old));
    const rotated = new JournalKeyring(k2, [k1]);
    const j = await store.open(rotated);
    await expectIntact(j, sent);
    const report = await j.rekey({ batchSize: 2 });
    expect(report).toEqual({ keyId: rotated.currentId, rewritten: sent.length, fromKeys: { [old.currentId]: sent.length }, batches: Math.ceil(sent.length / 2) });
    expect(await j.keyCounts()).toEqual({ [rotated.currentId]: sent.length });
    expect((await j.rekey()).rewritten).toBe(0);
    await expectIntact(await store.open(new JournalKeyring(k2)), sent);
    await expect((await store.open(old)).getWireXml(sent[0].id)).rejects.toMatchObject({ code: 'DAVIS_ERR_JOURNAL_KEY' });
    expect(leaked(await checkpointed(store), values)).toEqual([]);
  });

  test('an answer recorded after a rotation reseals its row\'s wire XML with the current key', async () => {
    const k1 = randomBytes(32);
    const first = await store.open(new JournalKeyring(k1));
    const id = randomUUID();
    await first.insert({ id, type: 'vis.application.create', direction: 'outbound', orderingKey: 'A', clientId: 'c', bodyHash: 'h', wireXml: '<w:Request>Vanhanen</w:Request>', correlationId: 'c' });
    const current = new JournalKeyring(randomBytes(32), [k1]);
    const j = await store.open(current);
    const answer: CentralAnswer = { responseId: 'r', inReplyTo: id, result: 'ACCEPTED', code: 'OK', created: '2026-01-01T00:00:00.000Z' };
    expect(await j.recordAnswer(id, answer, '<w:Response/>')).toBe('delivered');
    expect(await j.keyCounts()).toEqual({ [current.currentId]: 1 });
    expect(await j.getWireXml(id)).toBe('<w:Request>Vanhanen</w:Request>');
    expect((await j.get(id))?.answer).toEqual(answer);
  });

  test('a wrong key, a missing key, or a value moved to another row gives DAVIS_ERR_JOURNAL_KEY, never garbage', async () => {
    const keyring = new JournalKeyring(randomBytes(32));
    const sent = await sendExamples(await store.open(keyring));
    const wrong = await store.open(new JournalKeyring(randomBytes(32)));
    await expect(wrong.getWireXml(sent[0].id)).rejects.toMatchObject({ code: 'DAVIS_ERR_JOURNAL_KEY' });
    await expect(wrong.get(sent[0].id)).rejects.toMatchObject({ code: 'DAVIS_ERR_JOURNAL_KEY' });
    await expect(wrong.list({})).rejects.toMatchObject({ code: 'DAVIS_ERR_JOURNAL_KEY' });
    const keyless = await store.open();
    await expect(keyless.getWireXml(sent[0].id)).rejects.toMatchObject({ code: 'DAVIS_ERR_JOURNAL_KEY' });
    await expect(keyless.rekey()).rejects.toMatchObject({ code: 'DAVIS_ERR_JOURNAL_KEY' });
    // The right key, but another row's sealed value copied in with SQL: it does not open as this row's.
    const [a, b] = sent;
    await store.exec(`UPDATE {s}messages SET wire_xml = (SELECT wire_xml FROM {s}messages WHERE id = '${b.id}') WHERE id = '${a.id}'`);
    const right = await store.open(keyring);
    await expect(right.getWireXml(a.id)).rejects.toMatchObject({ code: 'DAVIS_ERR_JOURNAL_KEY' });
    expect(await right.getWireXml(b.id)).toBe(b.xml);
    const rows = await store.query<{ key_id: string }>(`SELECT key_id FROM {s}messages WHERE id = '${a.id}'`);
    expect(rows[0].key_id).toBe(keyring.currentId);
  });
});

describe('a value moved between rows or columns does not open', () => {
  test('the message id and the column are bound to the sealed value', () => {
    const k = new JournalKeyring(randomBytes(32));
    const sealed = k.seal('Meikäläinen', 'id-1', 'wire_xml');
    expect(k.open(sealed, k.currentId, 'id-1', 'wire_xml')).toBe('Meikäläinen');
    expect(() => k.open(sealed, k.currentId, 'id-2', 'wire_xml')).toThrow(expect.objectContaining({ code: 'DAVIS_ERR_JOURNAL_KEY' }));
    expect(() => k.open(sealed, k.currentId, 'id-1', 'response_xml')).toThrow(expect.objectContaining({ code: 'DAVIS_ERR_JOURNAL_KEY' }));
    const flipped = sealed.slice(0, -4) + (sealed.at(-4) === 'A' ? 'B' : 'A') + sealed.slice(-3);
    expect(() => k.open(flipped, k.currentId, 'id-1', 'wire_xml')).toThrow(expect.objectContaining({ code: 'DAVIS_ERR_JOURNAL_KEY' }));
    expect(() => k.open('not sealed', k.currentId, 'id-1', 'wire_xml')).toThrow(expect.objectContaining({ code: 'DAVIS_ERR_JOURNAL_KEY' }));
    expect(k.seal('x', 'id-1', 'wire_xml')).not.toBe(k.seal('x', 'id-1', 'wire_xml'));
  });
});

describe('the journal key from the configuration', () => {
  let dir: string;
  beforeEach(() => { dir = mkdtempSync(path.join(os.tmpdir(), 'davis-key-')); });
  afterEach(() => { rmSync(dir, { recursive: true, force: true }); });
  const config = (over: Record<string, unknown>, env: NodeJS.ProcessEnv = {}) => loadConfig({ env, overrides: { dataDir: dir, ...over } });
  const codeOf = (fn: () => unknown): unknown => { try { fn(); return undefined; } catch (e) { return (e as { code?: unknown }).code; } };

  test('outside dev mode, no key stops the start with DAVIS_ERR_JOURNAL_KEY', () => {
    expect(codeOf(() => loadJournalKeyring(config({})))).toBe('DAVIS_ERR_JOURNAL_KEY');
  });

  test('dev mode generates an owner-only key file in dataDir once, and keeps it', () => {
    const a = loadJournalKeyring(config({ mode: 'dev' }));
    const file = devKeyFile(config({ mode: 'dev' }));
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(loadJournalKeyring(config({ mode: 'dev' })).currentId).toBe(a.currentId);
  });

  test('DAVIS_JOURNAL_KEY, a key file with previous keys on later lines, and journal.previousKeys', () => {
    const [k1, k2, k3] = [randomBytes(32), randomBytes(32), randomBytes(32)];
    const fromEnv = loadJournalKeyring(config({}, { DAVIS_JOURNAL_KEY: k1.toString('base64') }));
    expect(fromEnv.currentId).toBe(new JournalKeyring(k1).currentId);
    const file = path.join(dir, 'journal.key');
    writeFileSync(file, `# current first\n${k2.toString('base64')}\n${k1.toString('base64')}\n`);
    const ring = loadJournalKeyring(config({ journal: { keyFile: file, previousKeys: [k3.toString('base64')] } }));
    expect(ring.ids()).toEqual([k2, k1, k3].map((k) => new JournalKeyring(k).currentId));
  });

  test('a bad key, an unreadable file or two sources at once is DAVIS_ERR_JOURNAL_KEY', () => {
    expect(codeOf(() => loadJournalKeyring(config({ journal: { key: randomBytes(16).toString('base64') } })))).toBe('DAVIS_ERR_JOURNAL_KEY');
    expect(codeOf(() => loadJournalKeyring(config({ journal: { key: 'not base64 at all!' } })))).toBe('DAVIS_ERR_JOURNAL_KEY');
    expect(codeOf(() => loadJournalKeyring(config({ journal: { keyFile: path.join(dir, 'missing') } })))).toBe('DAVIS_ERR_JOURNAL_KEY');
    expect(codeOf(() => loadJournalKeyring(config({ journal: { keyFile: path.join(dir, 'x'), key: randomBytes(32).toString('base64') } })))).toBe('DAVIS_ERR_JOURNAL_KEY');
  });
});

describe('davis journal', () => {
  let dir: string;
  let cfg: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'davis-cli-journal-'));
    cfg = path.join(dir, 'davis.json');
    writeFileSync(cfg, JSON.stringify({ dataDir: dir, journal: { key: randomBytes(32).toString('base64') } }));
  });
  afterEach(() => { rmSync(dir, { recursive: true, force: true }); });
  const davis = async (...args: string[]) => {
    let out = '';
    let err = '';
    const code = await run(args, { out: (s) => { out += s; }, err: (s) => { err += s; } });
    return { code, out, err };
  };

  test('usage errors exit 2 with one line; --help exits 0', async () => {
    for (const args of [['journal'], ['journal', 'frobnicate'], ['journal', 'migrate', 'extra'], ['journal', 'rekey', '--status'], ['journal', 'rekey', '--batch', '0', '--config', cfg]]) {
      const r = await davis(...args);
      expect([args, r.code, r.err.trim().split('\n').length]).toEqual([args, 2, 1]);
    }
    const help = await davis('journal', '--help');
    expect(help.code).toBe(0);
    expect(help.out).toContain('davis journal migrate [--status]');
    expect(help.out).toContain('davis journal rekey');
  });

  test('migrate --status shows pending, migrate applies, rekey reports its counts', async () => {
    const before = await davis('journal', 'migrate', '--status', '--config', cfg);
    expect(before.code).toBe(0);
    for (const v of MIGRATIONS) expect(before.out).toMatch(new RegExp(`pending +${pad(v.version)} ${v.name}`));
    const m = await davis('journal', 'migrate', '--config', cfg);
    expect([m.code, m.err]).toEqual([0, '']);
    expect(m.out).toContain(`applied ${MIGRATIONS.map((v) => pad(v.version)).join(', ')};`);
    const after = await davis('journal', 'migrate', '--status', '--config', cfg);
    for (const v of MIGRATIONS) expect(after.out).toMatch(new RegExp(`applied +${pad(v.version)} ${v.name}`));
    expect(after.out).not.toContain('pending');
    const r = await davis('journal', 'rekey', '--config', cfg);
    expect([r.code, r.err]).toEqual([0, '']);
    expect(r.out).toMatch(/resealed 0 row\(s\)/);
  });

  test('without a key outside dev mode, rekey exits 2 naming DAVIS_ERR_JOURNAL_KEY', async () => {
    writeFileSync(cfg, JSON.stringify({ dataDir: dir }));
    const r = await davis('journal', 'rekey', '--config', cfg);
    expect(r.code).toBe(2);
    expect(r.err).toContain('DAVIS_ERR_JOURNAL_KEY');
  });
});
