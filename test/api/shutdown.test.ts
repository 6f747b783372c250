import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort, GatewayProcess } from '../helpers/gateway-process';
import { AMQP_URL, deleteTopology, sharedPki } from '../helpers/stack';

/**
 * A request whose body never finishes: the headers arrive (loopback is the dev client, so the
 * route's authentication passes), then 10 of 1,000 announced bytes, then nothing.
 */
async function hangingUpload(port: number): Promise<net.Socket> {
  const sock = net.connect(port, '127.0.0.1');
  await new Promise<void>((r) => sock.once('connect', () => r()));
  sock.on('error', () => undefined);
  sock.write('POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"type": "');
  await new Promise((r) => setTimeout(r, 200));
  return sock;
}

function exitOf(gw: GatewayProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  const child = gw.child!;
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

describe('stopping a real gateway process: a deadline, and a second signal exits at once', () => {
  let dir: string;
  const prefix = `test.shutdown.${process.pid}.`;
  const started: GatewayProcess[] = [];

  async function gateway(name: string, shutdownTimeoutMs: number): Promise<GatewayProcess> {
    const { files: pki } = await sharedPki();
    const gw = new GatewayProcess(path.join(dir), await freePort(), {
      mode: 'dev', dataDir: path.join(dir, name), amqp: { url: AMQP_URL, prefix, shards: 1 }, shutdownTimeoutMs,
      signing: { keyFile: pki.gatewayKey, certFile: pki.gatewayCert, trust: pki.caCert },
      // nothing is delivered here: central is a closed port
      central: { url: 'https://127.0.0.1:9/vis', caFile: pki.caCert, certFile: pki.gatewayCert, keyFile: pki.gatewayKey, retryBaseMs: 60000 },
      log: { level: 'info' },
    }, path.join(dir, `${name}.log`));
    started.push(gw);
    await gw.start();
    return gw;
  }

  beforeAll(() => { dir = mkdtempSync(path.join(os.tmpdir(), 'davis-shutdown-')); });
  afterAll(async () => {
    for (const gw of started) await gw.stop('SIGKILL');
    await deleteTopology(prefix, 1);
    rmSync(dir, { recursive: true, force: true });
  });

  test('SIGTERM with a request that never finishes its body: connections are cut after shutdownTimeoutMs and the process exits 0', async () => {
    const gw = await gateway('deadline', 1000);
    const sock = await hangingUpload(gw.port);
    const t0 = performance.now();
    const exited = exitOf(gw);
    gw.child!.kill('SIGTERM');
    const { code } = await exited;
    const ms = performance.now() - t0;
    sock.destroy();
    expect(code).toBe(0);
    // without the deadline app.close() waits for the request timeout (60 s by default)
    expect(ms).toBeGreaterThanOrEqual(900);
    expect(ms).toBeLessThan(15000);
  }, 60000);

  test('a second SIGTERM while the stop waits exits at once with 143', async () => {
    const gw = await gateway('twice', 30000);
    const sock = await hangingUpload(gw.port);
    const exited = exitOf(gw);
    gw.child!.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 500));
    expect(gw.child!.exitCode).toBeNull();
    const t0 = performance.now();
    gw.child!.kill('SIGTERM');
    const { code } = await exited;
    sock.destroy();
    expect(code).toBe(143);
    expect(performance.now() - t0).toBeLessThan(2000);
  }, 60000);
});
