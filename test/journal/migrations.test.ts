import { spawn, spawnSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { Client } from 'pg';
import { JournalKeyring } from '../../src/journal/journal-cipher';
import { MIGRATIONS, SCHEMA_VERSION, checksumOf } from '../../src/journal/migrations';
import { SqliteJournal } from '../../src/journal/journal-sqlite';
import { ddl010, leaked, PG_URL, STORES, type Store } from './stores';

const ROOT = path.join(__dirname, '..', '..');
const key = () => new JournalKeyring(randomBytes(32));

interface MigrationRow { version: number; name: string; checksum: string; applied_at: string }

async function migrationRows(store: Store): Promise<MigrationRow[]> {
  return (await store.query<MigrationRow>('SELECT version, name, checksum, applied_at FROM {s}schema_migrations ORDER BY version'))
    .map((r) => ({ ...r }));
}

/** Rows as release 0.1.0 wrote them: one delivered with central's answer, one queued. */
async function write010(store: Store): Promise<{ answered: string; queued: string; xml: string; responseXml: string; answer: Record<string, unknown> }> {
  const answered = randomUUID();
  const queued = randomUUID();
  const xml = '<w:Request><Surname>Legacy-Ãnnikki-Vanhanen</Surname><Number>LEG0123456</Number></w:Request>';
  const responseXml = '<w:Response><Surname>Legacy-Ãnnikki-Vanhanen</Surname></w:Response>';
  const answer = { responseId: randomUUID(), inReplyTo: answered, result: 'ACCEPTED', code: 'OK', created: '2026-01-02T03:04:05.000Z', data: { surname: 'Legacy-Ãnnikki-Vanhanen' } };
  const at = '2026-01-02T03:04:05.000Z';
  const s = store.dialect === 'sqlite' ? '' : `"${store.schema}".`;
  await store.exec(ddl010(store.dialect, s));
  const q = (v: string | null) => (v === null ? 'NULL' : `'${v.replaceAll("'", "''")}'`);
  await store.exec(`
    INSERT INTO {s}messages (id, type, direction, state, ordering_key, client_id, idempotency_key, body_hash, correlation_id, wire_xml, created_at, updated_at, answer_json, response_xml)
      VALUES (${q(answered)}, 'vis.application.create', 'outbound', 'delivered', 'APP-OLD-1', 'c1', 'k1', 'h1', 'corr-1', ${q(xml)}, ${q(at)}, ${q(at)}, ${q(JSON.stringify(answer))}, ${q(responseXml)});
    INSERT INTO {s}messages (id, type, direction, state, ordering_key, client_id, idempotency_key, body_hash, correlation_id, wire_xml, created_at, updated_at)
      VALUES (${q(queued)}, 'vis.application.create', 'outbound', 'queued', 'APP-OLD-2', 'c1', NULL, 'h2', 'corr-2', ${q(xml)}, ${q(at)}, ${q(at)});
    INSERT INTO {s}events (message_id, state, at) VALUES (${q(answered)}, 'accepted', ${q(at)}), (${q(answered)}, 'delivered', ${q(at)}), (${q(queued)}, 'accepted', ${q(at)}), (${q(queued)}, 'queued', ${q(at)});`);
  return { answered, queued, xml, responseXml, answer };
}

// The concurrent-start test runs two `davis journal migrate` processes: the compiled program.
beforeAll(() => buildOnce(), 300000);

describe.each(STORES)('journal migrations (%s)', (dialect, make) => {
  let store: Store;
  beforeEach(() => { store = make(); });
  afterEach(async () => { await store.dispose(); });

  test('a fresh install applies every migration once and records version, name, checksum and time', async () => {
    const j = await store.open(key());
    expect(j.migration).toEqual({ applied: MIGRATIONS.map((m) => m.version), adopted: false, version: SCHEMA_VERSION });
    const rows = await migrationRows(store);
    expect(rows.map((r) => [r.version, r.name, r.checksum])).toEqual(MIGRATIONS.map((m) => [m.version, m.name, checksumOf(m, dialect as 'sqlite' | 'postgres')]));
    for (const r of rows) expect(r.applied_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    const again = await store.open(key());
    expect(again.migration).toEqual({ applied: [], adopted: false, version: SCHEMA_VERSION });
    expect(await migrationRows(store)).toEqual(rows);
  });

  test('a 0.1.0 journal with rows is adopted as version 1, upgraded, and reads back through the adapter', async () => {
    const old = await write010(store);
    const keyring = key();
    const j = await store.open(keyring);
    expect(j.migration).toEqual({ applied: MIGRATIONS.map((m) => m.version), adopted: true, version: SCHEMA_VERSION });
    expect((await migrationRows(store)).map((r) => r.version)).toEqual(MIGRATIONS.map((m) => m.version));

    const rec = await j.get(old.answered);
    expect(rec).toMatchObject({ state: 'delivered', orderingKey: 'APP-OLD-1', idempotencyKey: 'k1', answer: old.answer });
    expect(rec!.events.map((e) => e.state)).toEqual(['accepted', 'delivered']);
    expect(await j.getWireXml(old.queued)).toBe(old.xml);
    expect((await j.findByIdempotencyKey('c1', 'k1'))?.id).toBe(old.answered);
    expect((await j.list({})).items.map((m) => m.id).sort()).toEqual([old.answered, old.queued].sort());
    expect(await j.hasUnsettledPredecessor(old.queued)).toBe(false);
    // The old rows are in clear until sealed; new ones are sealed at once.
    expect(await j.keyCounts()).toEqual({ clear: 2 });
    const sealed = await j.rekey({ clearOnly: true });
    expect(sealed).toMatchObject({ keyId: keyring.currentId, rewritten: 2, fromKeys: { clear: 2 } });
    expect(await j.keyCounts()).toEqual({ [keyring.currentId]: 2 });
    expect((await j.get(old.answered))?.answer).toEqual(old.answer);
    expect(await j.getWireXml(old.answered)).toBe(old.xml);
    // And the upgraded journal keeps working.
    expect(await j.transitionFrom(old.queued, 'queued', 'sending', { attempt: 1 })).toBe(true);
    await j.close();
    if (store.file) {
      const db = new Database(store.file);
      db.pragma('wal_checkpoint(TRUNCATE)');
      db.close();
    }
    expect(leaked(await store.bytes(), ['Legacy-Ãnnikki-Vanhanen', 'LEG0123456'])).toEqual([]);
  });

  test('two adapters opening a new store at the same moment apply each migration once', async () => {
    if (dialect === 'postgres') {
      // Hold the migration lock so both opens are certainly waiting on it, then let them race.
      const lock = new Client({ connectionString: PG_URL });
      await lock.connect();
      try {
        await lock.query('SELECT pg_advisory_lock(hashtext($1::text))', [`davis-journal-ddl:${store.schema}`]);
        const opening = Promise.all([store.open(key()), store.open(key())]);
        const deadline = Date.now() + 20000;
        for (;;) {
          const waiting = await lock.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted");
          if (waiting.rows[0].n >= 2 || Date.now() > deadline) break;
          await new Promise((r) => setTimeout(r, 50));
        }
        await lock.query('SELECT pg_advisory_unlock(hashtext($1::text))', [`davis-journal-ddl:${store.schema}`]);
        const [a, b] = await opening;
        expect([a.migration.applied.length, b.migration.applied.length].sort()).toEqual([0, SCHEMA_VERSION]);
      } finally {
        await lock.end();
      }
    } else {
      // Two processes (as two gateways would be): the test holds SQLite's write lock while both start.
      const file = store.file ?? '';
      const dir = path.dirname(file);
      const cfg = path.join(dir, 'davis.json');
      writeFileSync(cfg, JSON.stringify({ dataDir: dir, journal: { sqlitePath: path.basename(file), key: randomBytes(32).toString('base64') } }));
      const holder = new Database(file);
      holder.pragma('journal_mode = WAL');
      holder.exec('BEGIN IMMEDIATE');
      const runs = [cli(['journal', 'migrate', '--config', cfg]), cli(['journal', 'migrate', '--config', cfg])];
      await new Promise((r) => setTimeout(r, 3000));
      holder.exec('COMMIT');
      holder.close();
      const results = await Promise.all(runs);
      expect(results.map((r) => [r.code, r.err])).toEqual([[0, ''], [0, '']]);
      const all = `applied ${MIGRATIONS.map((m) => String(m.version).padStart(3, '0')).join(', ')};`;
      expect(results.map((r) => r.out.includes(all)).sort()).toEqual([false, true]);
    }
    expect((await migrationRows(store)).map((r) => r.version)).toEqual(MIGRATIONS.map((m) => m.version));
    const j = await store.open(key());
    expect(j.migration.applied).toEqual([]);
  });

  test('a journal written by a newer release is refused with DAVIS_ERR_JOURNAL_SCHEMA, and left as it is', async () => {
    await (await store.open(key())).close();
    await store.exec(`INSERT INTO {s}schema_migrations (version, name, checksum, applied_at) VALUES (${SCHEMA_VERSION + 1}, 'from-the-future', 'x', '2030-01-01T00:00:00.000Z')`);
    await expect(store.open(key())).rejects.toMatchObject({ code: 'DAVIS_ERR_JOURNAL_SCHEMA' });
    expect((await migrationRows(store)).map((r) => r.version).at(-1)).toBe(SCHEMA_VERSION + 1);
  });

  test('an applied migration whose SQL changed since is refused with DAVIS_ERR_JOURNAL_SCHEMA', async () => {
    await (await store.open(key())).close();
    await store.exec("UPDATE {s}schema_migrations SET checksum = 'edited' WHERE version = 1");
    await expect(store.open(key())).rejects.toMatchObject({ code: 'DAVIS_ERR_JOURNAL_SCHEMA' });
  });
});

describe('migrations list', () => {
  test('is numbered 1..n with no gap, matching the NNN-name.ts files', () => {
    const files = readdirSync(path.join(ROOT, 'src', 'journal', 'migrations')).filter((f) => /^\d{3}-.+\.ts$/.test(f)).sort();
    expect(files).toEqual(MIGRATIONS.map((m) => `${String(m.version).padStart(3, '0')}-${m.name}.ts`));
  });

  test('the SQLite constructor refuses a newer file and closes it', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'davis-newer-'));
    try {
      const file = path.join(dir, 'j.sqlite');
      await new SqliteJournal(file).close();
      const db = new Database(file);
      db.exec(`INSERT INTO schema_migrations VALUES (${SCHEMA_VERSION + 5}, 'x', 'y', 'z')`);
      db.close();
      expect(() => new SqliteJournal(file)).toThrow(expect.objectContaining({ code: 'DAVIS_ERR_JOURNAL_SCHEMA' }));
      // Closed on refusal: the file can be removed and reopened by another handle at once.
      const again = new Database(file);
      expect(again.prepare('SELECT count(*) AS n FROM schema_migrations').get()).toEqual({ n: SCHEMA_VERSION + 1 });
      again.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

let built: Promise<void> | undefined;
/** The compiled program, built when older than the journal's or the CLI's sources. */
function buildOnce(): Promise<void> {
  built ??= (async () => {
    const compiled = path.join(ROOT, 'dist', 'src', 'cli', 'commands', 'journal.js');
    const newest = Math.max(...['src/journal', 'src/cli'].flatMap((d) => readdirSync(path.join(ROOT, d), { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.ts')).map((f) => statSync(path.join(ROOT, d, f)).mtimeMs)));
    const compiledList = path.join(ROOT, 'dist', 'src', 'journal', 'migrations', 'index.js');
    const sameList = (): boolean => {
      if (!existsSync(compiledList)) return false;
      const out = spawnSync(process.execPath, ['-e', `process.stdout.write(String(require(${JSON.stringify(compiledList)}).MIGRATIONS.length))`], { encoding: 'utf8' });
      return out.stdout === String(MIGRATIONS.length);
    };
    if (!existsSync(compiled) || statSync(compiled).mtimeMs < newest || !sameList()) {
      // tsc writes every file even when another part of the tree has a type error.
      spawnSync(process.execPath, [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], { cwd: ROOT, stdio: 'ignore' });
    }
    expect(existsSync(compiled)).toBe(true);
  })();
  return built;
}

function cli(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('DAVIS_') && k !== 'AMQP_URL'));
  const child = spawn(process.execPath, [path.join(ROOT, 'bin', 'davis.js'), ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, out, err })));
}
