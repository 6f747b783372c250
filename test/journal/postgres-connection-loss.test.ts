/**
 * PostgreSQL ending a connection the gateway holds between two statements (a server restart,
 * an administrator's pg_terminate_backend) fails that one call; it does not end the process.
 * A checked-out pg connection has no error listener of the pool's, so without one of ours the
 * server's FATAL message is an unhandled 'error' event (seen in the cluster chaos run: a
 * gateway died at the PostgreSQL restart). Run in a child process of the built code, as the
 * gateway runs: an unhandled 'error' there ends the process with its stack trace.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { Client } from 'pg';
import { PG_URL } from '../audit/helpers';

const DIST = path.resolve(__dirname, '..', '..', 'dist', 'src');

async function dropSchema(schema: string): Promise<void> {
  const c = new Client({ connectionString: PG_URL });
  await c.connect();
  await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await c.end();
}

/** Runs `code` in a child process of the built code, from the project's folder. */
function runNode(code: string) {
  return spawnSync(process.execPath, ['-e', code], { encoding: 'utf8', cwd: path.resolve(__dirname, '..', '..'), timeout: 60000 });
}

const script = (schema: string) => `
const { PostgresJournal } = require(${JSON.stringify(path.join(DIST, 'journal', 'journal-postgres.js'))});
const { auditStoreOf } = require(${JSON.stringify(path.join(DIST, 'audit', 'open-audit.js'))});
const { Client } = require('pg');
(async () => {
  const journal = await PostgresJournal.open(${JSON.stringify(PG_URL)}, { schema: ${JSON.stringify(schema)} });
  const store = auditStoreOf(journal);
  const admin = new Client({ connectionString: ${JSON.stringify(PG_URL)} });
  await admin.connect();
  const kill = async () => (await admin.query("SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE application_name = 'davis-gateway' AND state = 'idle in transaction' AND pid <> pg_backend_pid()")).rows[0].n;
  let killed = 0;
  const held = await store.withCheckpointLock(async () => { killed = await kill(); await new Promise((r) => setTimeout(r, 300)); return 'committed'; })
    .then((v) => v, (err) => 'failed: ' + err.message);
  await journal.ping();
  const head = await store.withCheckpointLock((tx) => tx.head());
  console.log(JSON.stringify({ killed, held, head }));
  await admin.end();
  await journal.close();
})().catch((err) => { console.error(err); process.exit(3); });
`;

describe('a PostgreSQL connection ended while a transaction holds it', () => {
  const schema = `davis_loss_${randomBytes(5).toString('hex')}`;
  afterAll(() => dropSchema(schema));

  it('fails that transaction with an error, the process lives on, and the next call works on a fresh connection', () => {
    const res = runNode(script(schema));
    expect(res.stderr).not.toMatch(/Unhandled 'error' event/);
    expect(res.status).toBe(0);
    const out = JSON.parse(res.stdout.trim().split('\n').at(-1)!) as { killed: number; held: string; head: number };
    expect(out.killed).toBeGreaterThanOrEqual(1);
    expect(out.held).toMatch(/^failed: /);
    expect(out.head).toBe(0);
  });
});

/**
 * The other gap: a connection handed straight from one user to the next. pg-pool hands a
 * released connection to a waiting \`pool.connect()\` at once, removing its own error listener,
 * and the new owner's listener comes a microtask later, after \`await\`. A server message read
 * in the same chunk as the last answer (the FATAL of a terminated backend right behind a
 * ReadyForQuery) falls in that gap: an 'error' event with no listener, which ends the process
 * (seen under load with the journal's transactions waiting for a full pool).
 */
const handoffScript = (schema: string) => `
const { PostgresJournal } = require(${JSON.stringify(path.join(DIST, 'journal', 'journal-postgres.js'))});
const { Client } = require('pg');
const { randomUUID } = require('crypto');
(async () => {
  const journal = await PostgresJournal.open(${JSON.stringify(PG_URL)}, { schema: ${JSON.stringify(schema)}, poolSize: 2 });
  const admin = new Client({ connectionString: ${JSON.stringify(PG_URL)} });
  await admin.connect();
  const ids = [];
  for (let i = 0; i < 20; i++) {
    const id = randomUUID();
    await journal.insert({ id, type: 'vis.application.create', direction: 'outbound', orderingKey: 'APP-' + i, clientId: 'c', bodyHash: 'h', wireXml: '<x/>', correlationId: 'c' });
    ids.push(id);
  }
  let stop = false, ok = 0, failed = 0, killed = 0;
  const worker = async (id, k) => {
    while (!stop) {
      // Transactions (inserts: pool.connect) and single statements (pool.query) share the pool.
      const p = k % 2 ? journal.insert({ id: randomUUID(), type: 'vis.application.create', direction: 'outbound', orderingKey: 'APP-' + k, clientId: 'c', bodyHash: 'h', wireXml: '<x/>', correlationId: 'c' })
        : journal.transition(id, 'queued');
      await p.then(() => ok++, () => failed++);
    }
  };
  const workers = ids.map(worker);
  const until = Date.now() + 6000;
  while (Date.now() < until) {
    killed += (await admin.query("SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE application_name = 'davis-gateway' AND pid <> pg_backend_pid()")).rows[0].n;
    await new Promise((r) => setTimeout(r, 15));
  }
  stop = true;
  await Promise.all(workers);
  await journal.ping();
  console.log(JSON.stringify({ ok, failed, killed }));
  await admin.end();
  await journal.close();
})().catch((err) => { console.error(err); process.exit(3); });
`;

describe('PostgreSQL ending connections while requests wait for a full pool', () => {
  const schema = `davis_handoff_${randomBytes(5).toString('hex')}`;
  afterAll(() => dropSchema(schema));

  it('fails the calls that were on those connections and nothing else: the process lives on', () => {
    const res = runNode(handoffScript(schema));
    expect(res.stderr).toBe('');
    expect(res.status).toBe(0);
    const out = JSON.parse(res.stdout.trim().split('\n').at(-1)!) as { ok: number; failed: number; killed: number };
    expect(out.killed).toBeGreaterThan(50);
    expect(out.failed).toBeGreaterThan(0);
    expect(out.ok).toBeGreaterThan(out.failed);
  }, 90000);
});
