import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { createLogger } from '../../src/ops/logger';
import { loadSigningKey, loadTrustStore } from '../../src/signing/pki';
import { MockCentralVis } from '../../mocks/central/server';
import { freePort, GatewayProcess } from '../helpers/gateway-process';
import { freshApplication } from '../helpers/payloads';
import { AMQP_URL, api, deleteTopology, LogSink, sharedPki, waitFor } from '../helpers/stack';

describe('graceful stop (SIGTERM) of a real gateway process', () => {
  let dir: string;
  let mock: MockCentralVis;
  let gw: GatewayProcess;
  const prefix = `test.stop.${process.pid}.`;

  beforeAll(async () => {
    const { files: pki } = await sharedPki();
    dir = mkdtempSync(path.join(os.tmpdir(), 'davis-stop-'));
    mock = new MockCentralVis({
      host: '127.0.0.1', port: 0, controlPort: 0, tlsCertFile: pki.centralCert, tlsKeyFile: pki.centralKey, clientCaFile: pki.caCert,
      signingKey: loadSigningKey({ keyFile: pki.centralKey, certFile: pki.centralCert }), trust: loadTrustStore(pki.caCert), logger: createLogger('warn', new LogSink()),
    });
    const { url } = await mock.start();
    gw = new GatewayProcess(dir, await freePort(), {
      mode: 'dev', dataDir: path.join(dir, 'data'), amqp: { url: AMQP_URL, prefix, shards: 4 },
      signing: { keyFile: pki.gatewayKey, certFile: pki.gatewayCert, trust: pki.caCert },
      central: { url, caFile: pki.caCert, certFile: pki.gatewayCert, keyFile: pki.gatewayKey, retryBaseMs: 200 },
      log: { level: 'info' },
    });
    await gw.start();
  });
  afterAll(async () => {
    await gw.stop('SIGKILL');
    await mock.stop();
    await deleteTopology(prefix, 4);
    rmSync(dir, { recursive: true, force: true });
  });

  test('in-flight work finishes or returns to the queue, nothing is left in sending, and a restart delivers the rest', async () => {
    mock.setFaults({ latencyMs: 1000 });
    // Far more than the 4 shards × amqp.outboundPrefetch (8) in flight, accepted within the first
    // answers' second, so that some are still queued at the stop.
    const ids: string[] = await Promise.all(Array.from({ length: 100 }, async () =>
      (await api(gw.url, 'POST', '/v1/messages', { type: 'vis.application.create', payload: freshApplication() })).json.id as string));
    await waitFor(async () => (await api(gw.url, 'GET', `/v1/messages?status=sending`)).json.items.length > 0, 10000, 20);
    expect(await gw.stop('SIGTERM')).toBe(0);

    const db = new Database(path.join(dir, 'data', 'journal.sqlite'), { readonly: true });
    const states = db.prepare('SELECT state, count(*) AS n FROM messages GROUP BY state').all() as { state: string; n: number }[];
    db.close();
    const byState: Partial<Record<string, number>> = Object.fromEntries(states.map((r) => [r.state, r.n]));
    expect(byState.sending ?? 0).toBe(0);
    expect(byState.delivered ?? 0).toBeLessThan(ids.length);
    expect(byState.queued ?? 0).toBeGreaterThan(0);

    mock.setFaults({});
    await gw.start();
    for (const id of ids) await waitFor(async () => (await api(gw.url, 'GET', `/v1/messages/${id}`)).json.status === 'delivered', 30000);
    const received = mock.receivedList();
    for (const id of ids) expect(received.filter((r) => r.id === id)).toHaveLength(1);
  }, 90000);
});
