/**
 * The proof of the delivery guarantees: at least 2,000 messages for 100 applications
 * through the real gateway process, the real RabbitMQ and the mock central, while RabbitMQ
 * is restarted twice, the gateway is killed (SIGKILL) twice and started again, central
 * answers 5xx for 30 % of requests for a while, refuses connections for 20 s, and loses
 * some answers after applying the message (so the gateway must send again).
 * Then, from the mock's record and the journal: every accepted message is delivered (or
 * rejected by central's rules), none twice in effect, each application's messages reached
 * central in accepted order, none stuck.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { createLogger } from '../src/ops/logger';
import { loadSigningKey, loadTrustStore } from '../src/signing/pki';
import { MockCentralVis } from '../mocks/central/server';
import { freePort, GatewayProcess } from '../test/helpers/gateway-process';
import { freshApplication } from '../test/helpers/payloads';
import { AMQP_URL, deleteTopology, LogSink, sharedPki } from '../test/helpers/stack';

const APPS = Number(process.env.CHAOS_APPS ?? 100);
const PER_APP = Number(process.env.CHAOS_PER_APP ?? 20);
const SHARDS = 8;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (msg: string) => process.stdout.write(`[chaos ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);

/** Asynchronous, so the mock central in this process keeps answering meanwhile. */
async function rabbit(cmd: 'stop_app' | 'start_app'): Promise<void> {
  await promisify(execFile)('rabbitmqctl', [cmd], { timeout: 120000 });
}

test(`${APPS * PER_APP} messages for ${APPS} applications survive broker restarts, gateway kills and central faults`, async () => {
  const { files: pki } = await sharedPki();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'davis-chaos-'));
  const prefix = `chaos.${process.pid}.`;
  const mock = new MockCentralVis({
    host: '127.0.0.1', port: 0, controlPort: 0, tlsCertFile: pki.centralCert, tlsKeyFile: pki.centralKey, clientCaFile: pki.caCert,
    signingKey: loadSigningKey({ keyFile: pki.centralKey, certFile: pki.centralCert }), trust: loadTrustStore(pki.caCert),
    logger: createLogger('warn', new LogSink()),
  });
  const { url: centralUrl } = await mock.start();
  const gw = new GatewayProcess(dir, await freePort(), {
    mode: 'dev', dataDir: path.join(dir, 'data'),
    amqp: { url: AMQP_URL, prefix, shards: SHARDS, confirmTimeoutMs: 3000 },
    signing: { keyFile: pki.gatewayKey, certFile: pki.gatewayCert, trust: pki.caCert },
    central: {
      url: centralUrl, caFile: pki.caCert, certFile: pki.gatewayCert, keyFile: pki.gatewayKey, timeoutMs: 5000,
      maxAttempts: 1000, retryBaseMs: 200, retryMaxMs: 3000, breakerThreshold: 8, breakerCooldownMs: 500,
    },
    relayIntervalMs: 1000,
    log: { level: 'warn' },
  });
  await gw.start();

  // ---- the UMA side: per application, messages one after another, each retried until accepted
  const accepted = new Map<string, string[]>(); // application number → message ids in accepted order
  let answers503 = 0;
  let connectionErrors = 0;
  const apps = Array.from({ length: APPS }, (_, i) => freshApplication(`CHAOS-${process.pid}-${String(i).padStart(3, '0')}`));
  const client = async (payload: Record<string, unknown>, appIndex: number) => {
    const ids: string[] = [];
    const applicationNumber = payload.applicationNumber as string;
    accepted.set(applicationNumber, ids);
    await sleep(appIndex * 10);
    for (let k = 0; k < PER_APP; k++) {
      const key = `${applicationNumber}-${k}`;
      for (;;) {
        try {
          const res = await fetch(`${gw.url}/v1/messages`, {
            method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': key },
            body: JSON.stringify({ type: 'vis.application.create', payload }), signal: AbortSignal.timeout(15000),
          });
          const body = (await res.json()) as { id?: string };
          if (res.status === 202) {
            ids.push(body.id!);
            break;
          }
          if (res.status === 503) answers503++;
          else throw new Error(`unexpected HTTP ${res.status}: ${JSON.stringify(body)}`);
        } catch (err) {
          if ((err as Error).message.startsWith('unexpected')) throw err;
          connectionErrors++;
        }
        await sleep(250);
      }
      await sleep(1000 + Math.random() * 500);
    }
  };
  const t0 = Date.now();
  const sending = Promise.all(apps.map((p, i) => client(p, i)));

  // ---- the chaos, on a timeline while UMA sends
  let aborted = false;
  const at = async (s: number) => {
    const w = t0 + s * 1000 - Date.now();
    if (w > 0) await sleep(w);
    if (aborted) throw new Error('chaos timeline stopped: the run already failed');
  };
  const chaos = (async () => {
    await at(3); log('central: 30 % 5xx'); mock.setFaults({ errorRate: 0.3, errorStatus: 503, seed: 42 });
    await at(6); log('RabbitMQ: stop_app'); await rabbit('stop_app');
    await at(10); log('RabbitMQ: start_app'); await rabbit('start_app');
    await at(13); log('gateway: SIGKILL'); await gw.stop('SIGKILL');
    await at(15); log('gateway: start'); await gw.start();
    await at(17); log('central: faults cleared, then refuses connections for 20 s'); mock.setFaults({ refuseForMs: 20000 });
    await at(24); log('RabbitMQ: stop_app'); await rabbit('stop_app');
    await at(27); log('RabbitMQ: start_app'); await rabbit('start_app');
    await at(30); log('gateway: SIGKILL'); await gw.stop('SIGKILL');
    await at(32); log('gateway: start'); await gw.start();
    await at(40); log('central: 30 % 5xx again, and 15 % of answers lost after the effect');
    mock.setFaults({ errorRate: 0.3, errorStatus: 502, resetAfterRate: 0.15, seed: 7 });
    await at(48); log('central: faults cleared'); mock.setFaults({});
  })();
  try {
    await Promise.all([sending.catch((err: unknown) => { aborted = true; throw err; }), chaos]);
    const allIds = [...accepted.values()].flat();
    log(`all ${allIds.length} accepted after ${Math.round((Date.now() - t0) / 1000)} s (${answers503} answers 503, ${connectionErrors} connection errors on the way)`);

    // ---- wait until the journal has settled every accepted message
    const db = new Database(path.join(dir, 'data', 'journal.sqlite'), { readonly: true });
    const unsettled = db.prepare("SELECT count(*) AS n FROM messages WHERE state IN ('accepted','queued','sending','retrying')");
    const deadline = Date.now() + 300000;
    while ((unsettled.get() as { n: number }).n > 0 && Date.now() < deadline) await sleep(500);
    const stateOf = db.prepare('SELECT state, attempts FROM messages WHERE id = ?');
    const byState = db.prepare('SELECT state, count(*) AS n FROM messages GROUP BY state').all() as { state: string; n: number }[];
    log(`journal: ${byState.map((r) => `${r.state} ${r.n}`).join(', ')}`);

    const received = mock.receivedList();
    const receivedIds = new Set(received.map((r) => r.id));
    const repeats = received.reduce((n, r) => n + r.repeats, 0);
    const states = new Map(allIds.map((id) => [id, (stateOf.get(id) as { state: string } | undefined)?.state]));
    db.close();
    const notDelivered = allIds.filter((id) => !['delivered', 'rejected'].includes(states.get(id) ?? ''));
    const neverReached = allIds.filter((id) => !receivedIds.has(id));
    const strangers = received.filter((r) => !allIds.includes(r.id)).length;
    const orderViolations: string[] = [];
    const position = new Map(received.map((r, i) => [r.id, i]));
    for (const [app, ids] of accepted) {
      const pos = ids.map((id) => position.get(id) ?? -1);
      if (pos.some((p, i) => i > 0 && p < pos[i - 1])) orderViolations.push(app);
    }
    const files = mock.state.applications;
    const wrongCreator = apps.filter((p) => files.get(p.applicationNumber)?.createdBy !== accepted.get(p.applicationNumber)![0]).length;
    log(`accepted ${allIds.length}; reached central ${allIds.length - neverReached.length}; delivered or rejected by rule ${allIds.length - notDelivered.length}; ` +
      `central saw ${received.length} distinct messages and ${repeats} idempotent repeats; application files ${files.size}; ` +
      `order violations ${orderViolations.length}; stuck ${notDelivered.length}`);

    expect(allIds.length).toBe(APPS * PER_APP);
    expect(notDelivered).toEqual([]);
    expect(neverReached).toEqual([]);
    expect(strangers).toBe(0);
    expect(orderViolations).toEqual([]);
    expect(files.size).toBe(APPS);
    // Answers were lost after the effect, so central saw repeats: they changed nothing.
    expect(repeats).toBeGreaterThan(0);
    expect(wrongCreator).toBe(0);
    // each application: its first message created the file, every later one was refused as a duplicate, once
    for (const ids of accepted.values()) {
      expect(states.get(ids[0])).toBe('delivered');
      for (const id of ids.slice(1)) expect(states.get(id)).toBe('rejected');
    }
  } finally {
    aborted = true;
    await chaos.catch(() => undefined);
    await gw.stop('SIGTERM');
    mock.setFaults({});
    await mock.stop();
    await rabbit('start_app').catch(() => undefined);
    await deleteTopology(prefix, SHARDS).catch(() => undefined);
    if (process.env.CHAOS_KEEP) log(`kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
});
