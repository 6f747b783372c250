/**
 * The proof for several instances: two gateway processes (`davis serve`) on one PostgreSQL
 * journal and a three-node RabbitMQ cluster (`.ci/rabbitmq-cluster.sh up`, nodes on
 * 127.0.0.1:5673-5675), with the mock central, take at least 20,000 messages for 500
 * applications while the test SIGKILLs the node leading most queues and later starts it again,
 * pauses another node with SIGSTOP for 20 s, SIGKILLs a gateway twice (starting it again),
 * restarts PostgreSQL once, and restarts both gateways one after the other (SIGTERM). UMA is
 * played by clients that send each application's messages one after another and, like a
 * load balancer, go to the other gateway when one does not answer.
 *
 * Then, from the mock's record (GET /_mock/received) and the journal: every accepted message
 * delivered (or rejected by central's rules), no central effect twice, each application's
 * messages reached central in accepted order, nothing stuck, and UMA never got an answer it
 * could not retry. It prints the counts and the longest time ingest answered 503.
 *
 * Needs the cluster (`npm run test:cluster` does not build it: `.ci/run` does, before and
 * after) and PostgreSQL at 127.0.0.1:5432 (database `test` reachable; a fresh database per run).
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import amqp from 'amqplib';
import { Client } from 'pg';
import { allQueues } from '../src/queue/amqp-broker';
import { createLogger } from '../src/ops/logger';
import { loadSigningKey, loadTrustStore } from '../src/signing/pki';
import { MockCentralVis } from '../mocks/central/server';
import { freePort, GatewayProcess } from '../test/helpers/gateway-process';
import { freshApplication } from '../test/helpers/payloads';
import { LogSink, sharedPki } from '../test/helpers/stack';

const APPS = Number(process.env.CLUSTER_APPS ?? 500);
const PER_APP = Number(process.env.CLUSTER_PER_APP ?? 40);
/** Each application's messages are spread over about this long, so the chaos falls on a busy system. */
const SPREAD_S = Number(process.env.CLUSTER_SPREAD_S ?? 170);
const SHARDS = 8;
const NODES = [2, 3, 4] as const;
const PG_ADMIN = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const CLUSTER = path.join(__dirname, '..', '.ci', 'rabbitmq-cluster.sh');
const run = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (msg: string) => process.stdout.write(`[cluster ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);

const nodeName = (i: number) => `rabbit${i}@localhost`;

async function nodePid(i: number): Promise<number> {
  return Number((await run(CLUSTER, ['pid', String(i)])).stdout.trim());
}

/** Queue leaders, counted per node, asked of a node that answers. */
async function leaders(prefix: string, alive: readonly number[]): Promise<Map<string, number>> {
  for (const i of alive) {
    try {
      const { stdout } = await run('rabbitmqctl', ['-q', '-n', nodeName(i), 'list_queues', 'name', 'leader', '--formatter', 'json'], { timeout: 30000 });
      const rows = JSON.parse(stdout) as { name: string; leader: string }[];
      const out = new Map<string, number>();
      for (const r of rows) if (r.name.startsWith(prefix)) out.set(r.leader, (out.get(r.leader) ?? 0) + 1);
      return out;
    } catch { /* ask the next node */ }
  }
  throw new Error('no cluster node answered list_queues');
}

/** Removes the run's queues and exchanges from the cluster (through any node that answers). */
async function deleteQueues(prefix: string): Promise<void> {
  for (const i of NODES) {
    try {
      const conn = await amqp.connect(`amqp://guest:guest@127.0.0.1:${5671 + i}`);
      const ch = await conn.createChannel();
      for (const q of allQueues(prefix, SHARDS)) await ch.deleteQueue(q);
      for (const x of ['work', 'delay']) await ch.deleteExchange(`${prefix}${x}`);
      await conn.close();
      return;
    } catch { /* the next node */ }
  }
}

test(`${APPS * PER_APP} messages for ${APPS} applications on two gateways survive broker node, gateway and PostgreSQL failures`, async () => {
  const { files: pki } = await sharedPki();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'davis-cluster-'));
  const db = `davis_cluster_${process.pid}_${randomBytes(3).toString('hex')}`;
  const admin = async (sql: string) => {
    const c = new Client({ connectionString: PG_ADMIN });
    await c.connect();
    try { await c.query(sql); } finally { await c.end(); }
  };
  await admin(`CREATE DATABASE ${db}`);
  const pgUrl = new URL(PG_ADMIN);
  pgUrl.pathname = `/${db}`;
  const prefix = `cluster.${process.pid}.`;
  const keyFile = path.join(dir, 'journal.key');
  writeFileSync(keyFile, randomBytes(32).toString('base64') + '\n', { mode: 0o600 });

  const mock = new MockCentralVis({
    host: '127.0.0.1', port: 0, controlPort: 0, tlsCertFile: pki.centralCert, tlsKeyFile: pki.centralKey, clientCaFile: pki.caCert,
    signingKey: loadSigningKey({ keyFile: pki.centralKey, certFile: pki.centralCert }), trust: loadTrustStore(pki.caCert),
    logger: createLogger('warn', new LogSink()),
  });
  const { url: centralUrl, controlUrl } = await mock.start();
  const gateways: GatewayProcess[] = [];
  for (const name of ['a', 'b']) {
    const gdir = path.join(dir, name);
    mkdirSync(gdir);
    gateways.push(new GatewayProcess(gdir, await freePort(), {
      mode: 'dev', dataDir: path.join(gdir, 'data'),
      amqp: { urls: NODES.map((i) => `amqp://guest:guest@127.0.0.1:${5671 + i}`), prefix, shards: SHARDS, confirmTimeoutMs: 3000 },
      journal: { driver: 'postgres', postgresUrl: pgUrl.toString(), keyFile },
      signing: { keyFile: pki.gatewayKey, certFile: pki.gatewayCert, trust: pki.caCert },
      central: {
        url: centralUrl, caFile: pki.caCert, certFile: pki.gatewayCert, keyFile: pki.gatewayKey, timeoutMs: 5000,
        maxAttempts: 1000, retryBaseMs: 200, retryMaxMs: 3000, breakerThreshold: 8, breakerCooldownMs: 500,
      },
      relayIntervalMs: 1000, shutdownTimeoutMs: 10000,
      log: { level: 'warn' },
    }, path.join(dir, `gateway-${name}.log`)));
  }
  await gateways[0].start();
  await gateways[1].start();

  // ---- UMA: per application, messages one after another, each retried (same key) until accepted
  const accepted = new Map<string, string[]>();
  let aborted = false;
  let answers503 = 0;
  let closing503 = 0;
  let connectionErrors = 0;
  const unexpected: string[] = [];
  // The longest stretch of 503s per gateway: from the first 503 after a 202 to the next 202.
  const streakStart: (number | undefined)[] = [undefined, undefined];
  let longest503 = 0;
  let longestAt = '';
  const codes503 = new Map<string, number>();
  let turn = 0;
  const apps = Array.from({ length: APPS }, (_, i) => freshApplication(`CL-${process.pid}-${String(i).padStart(3, '0')}`));
  const paceMs = (SPREAD_S * 1000) / PER_APP;
  const client = async (payload: Record<string, unknown>, appIndex: number) => {
    const ids: string[] = [];
    accepted.set(payload.applicationNumber as string, ids);
    await sleep((appIndex * paceMs) / APPS);
    for (let k = 0; k < PER_APP; k++) {
      const started = Date.now();
      const key = `${payload.applicationNumber}-${k}`;
      let g = turn++ % 2;
      for (;;) {
        if (aborted) return;
        const gw = gateways[g];
        try {
          const res = await fetch(`${gw.url}/v1/messages`, {
            method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': key },
            body: JSON.stringify({ type: 'vis.application.create', payload }), signal: AbortSignal.timeout(20000),
          });
          const body = (await res.json()) as { id?: string; code?: string; detail?: string };
          if (res.status === 202) {
            if (streakStart[g] !== undefined && Date.now() - streakStart[g]! > longest503) {
              longest503 = Date.now() - streakStart[g]!;
              longestAt = `gateway ${'ab'[g]} from ${Math.round((streakStart[g]! - t0) / 1000)} s`;
            }
            streakStart[g] = undefined;
            ids.push(body.id!);
            break;
          }
          if (res.status === 503 && res.headers.get('retry-after')) {
            answers503++;
            const what = `${body.code ?? ''} (${body.detail ?? ''})`;
            codes503.set(what, (codes503.get(what) ?? 0) + 1);
            streakStart[g] ??= Date.now();
          } else if (res.status === 503 && body.code === undefined) {
            // fastify's own answer to a request arriving on a kept-alive connection while the
            // instance closes (graceful stop): retryable, but without Retry-After. Counted apart.
            closing503++;
          } else {
            unexpected.push(`HTTP ${res.status} ${body.code ?? ''}`);
            if (unexpected.length > 20) throw new Error(`unexpected answers: ${unexpected.join('; ')}`);
          }
        } catch (err) {
          if ((err as Error).message.startsWith('unexpected')) throw err;
          connectionErrors++;
          g = 1 - g; // the load balancer's move: the other instance
        }
        await sleep(200);
      }
      const wait = paceMs - (Date.now() - started);
      if (wait > 0) await sleep(wait * (0.8 + Math.random() * 0.4));
    }
  };
  const t0 = Date.now();
  const sending = Promise.all(apps.map((p, i) => client(p, i)));

  // ---- the chaos, on a timeline while UMA sends
  const at = async (s: number) => {
    const w = t0 + s * 1000 - Date.now();
    if (w > 0) await sleep(w);
    if (aborted) throw new Error('chaos timeline stopped: the run already failed');
  };
  let killedNode: number | undefined;
  let pausedPid: number | undefined;
  const chaos = (async () => {
    await at(15);
    const lead = await leaders(prefix, NODES);
    killedNode = NODES.reduce((best, i) => ((lead.get(nodeName(i)) ?? 0) > (lead.get(nodeName(best)) ?? 0) ? i : best), NODES[0]);
    log(`RabbitMQ: SIGKILL ${nodeName(killedNode)}, leader of ${lead.get(nodeName(killedNode)) ?? 0} of the queues`);
    process.kill(await nodePid(killedNode), 'SIGKILL');
    await at(40); log(`RabbitMQ: start ${nodeName(killedNode)} again`); await run(CLUSTER, ['start', String(killedNode)], { timeout: 180000 });
    const again = killedNode;
    killedNode = undefined;
    await at(60);
    const other = NODES.find((i) => i !== again)!;
    pausedPid = await nodePid(other);
    log(`RabbitMQ: SIGSTOP ${nodeName(other)} for 20 s`); process.kill(pausedPid, 'SIGSTOP');
    await at(80); log(`RabbitMQ: SIGCONT ${nodeName(other)}`); process.kill(pausedPid, 'SIGCONT'); pausedPid = undefined;
    await at(90); log('gateway a: SIGKILL'); await gateways[0].stop('SIGKILL');
    await at(93); log('gateway a: start'); await gateways[0].start();
    await at(105); log('PostgreSQL: restart');
    await run('bash', ['-c', 'pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql | head -1) main restart'], { timeout: 120000 });
    await at(120); log('gateway b: SIGKILL'); await gateways[1].stop('SIGKILL');
    await at(123); log('gateway b: start'); await gateways[1].start();
    await at(140); log('rolling restart: gateway a'); await gateways[0].stop('SIGTERM'); await gateways[0].start();
    await at(150); log('rolling restart: gateway b'); await gateways[1].stop('SIGTERM'); await gateways[1].start();
  })();
  const journal = new Client({ connectionString: pgUrl.toString() });
  try {
    await Promise.all([sending.catch((err) => { aborted = true; throw err; }), chaos.catch((err) => { aborted = true; throw err; })]);
    const allIds = [...accepted.values()].flat();
    log(`all ${allIds.length} accepted after ${Math.round((Date.now() - t0) / 1000)} s (${answers503} answers 503, ` +
      `${connectionErrors} connection errors on the way; longest 503 stretch ${(longest503 / 1000).toFixed(1)} s, ${longestAt}; ` +
      `503 codes: ${[...codes503].map(([c, n]) => `${c} ${n}`).join(', ')})`);

    // ---- wait until the journal has settled every accepted message
    await journal.connect();
    const count = async (sql: string): Promise<number> => Number((await journal.query<{ n: string }>(sql)).rows[0].n);
    const deadline = Date.now() + 240000;
    while (await count("SELECT count(*) AS n FROM davis.messages WHERE state IN ('accepted','queued','sending','retrying')") > 0 && Date.now() < deadline) await sleep(1000);
    const byState = (await journal.query<{ state: string; n: string }>('SELECT state, count(*) AS n FROM davis.messages GROUP BY state')).rows;
    log(`journal: ${byState.map((r) => `${r.state} ${r.n}`).join(', ')}`);
    const states = new Map((await journal.query<{ id: string; state: string }>('SELECT id, state FROM davis.messages')).rows.map((r) => [r.id, r.state]));

    const res = await fetch(`${controlUrl}/_mock/received`);
    const received = ((await res.json()) as { items: { id: string; repeats: number }[] }).items;
    const receivedIds = new Set(received.map((r) => r.id));
    const repeats = received.reduce((n, r) => n + r.repeats, 0);
    const acceptedSet = new Set(allIds);
    const notDelivered = allIds.filter((id) => !['delivered', 'rejected'].includes(states.get(id) ?? ''));
    const neverReached = allIds.filter((id) => !receivedIds.has(id));
    const strangers = received.filter((r) => !acceptedSet.has(r.id)).length;
    const position = new Map(received.map((r, i) => [r.id, i]));
    const orderViolations: string[] = [];
    for (const [app, ids] of accepted) {
      const pos = ids.map((id) => position.get(id) ?? -1);
      if (pos.some((p, i) => i > 0 && p < pos[i - 1])) orderViolations.push(app);
    }
    const files = mock.state.applications;
    const wrongCreator = apps.filter((p) => files.get(p.applicationNumber)?.createdBy !== accepted.get(p.applicationNumber)![0]).length;
    log(`accepted ${allIds.length}; reached central ${allIds.length - neverReached.length}; delivered or rejected by rule ${allIds.length - notDelivered.length}; ` +
      `central saw ${received.length} distinct messages and ${repeats} idempotent repeats; strangers ${strangers}; application files ${files.size}; ` +
      `order violations ${orderViolations.length}; stuck ${notDelivered.length}; unexpected answers ${unexpected.length}; ` +
      `503 from a closing instance without Retry-After ${closing503}; ` +
      `longest 503 stretch ${(longest503 / 1000).toFixed(1)} s`);

    const crashes = gateways.flatMap((g) => g.unexpectedExits);
    log(`gateway processes that ended by themselves: ${crashes.length ? crashes.join('; ') : 'none'}`);
    expect(crashes).toEqual([]);
    expect(unexpected).toEqual([]);
    expect(allIds.length).toBe(APPS * PER_APP);
    expect(acceptedSet.size).toBe(allIds.length);
    expect(notDelivered).toEqual([]);
    expect(neverReached).toEqual([]);
    expect(strangers).toBe(0);
    expect(orderViolations).toEqual([]);
    expect(files.size).toBe(APPS);
    expect(wrongCreator).toBe(0);
    for (const ids of accepted.values()) {
      expect(states.get(ids[0])).toBe('delivered');
      for (const id of ids.slice(1)) expect(states.get(id)).toBe('rejected');
    }
  } finally {
    aborted = true;
    await chaos.catch(() => undefined);
    if (pausedPid !== undefined) process.kill(pausedPid, 'SIGCONT');
    if (killedNode !== undefined) await run(CLUSTER, ['start', String(killedNode)], { timeout: 180000 }).catch(() => undefined);
    await Promise.all(gateways.map((g) => g.stop('SIGTERM')));
    await journal.end().catch(() => undefined);
    await mock.stop();
    await admin(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`).catch(() => undefined);
    await deleteQueues(prefix).catch(() => undefined);
    if (process.env.CLUSTER_KEEP) log(`kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
});
