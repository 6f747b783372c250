import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import amqp from 'amqplib';
import { openGateway, type Gateway } from '../../src/app/gateway';
import { loadConfig } from '../../src/config/config';
import { createLogger } from '../../src/ops/logger';
import { loadSigningKey, loadTrustStore } from '../../src/signing/pki';
import { createDevPki, type DevPkiFiles } from '../../src/dev/dev-pki';
import { MockCentralVis } from '../../mocks/central/server';
import { allQueues, topologyNames } from '../../src/queue/amqp-broker';

export const AMQP_URL = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';

let pkiPromise: Promise<{ dir: string; files: DevPkiFiles }> | undefined;
/** One dev PKI per test file (key generation costs time). */
export function sharedPki(): Promise<{ dir: string; files: DevPkiFiles }> {
  pkiPromise ??= (async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'davis-pki-'));
    return { dir, files: await createDevPki(dir) };
  })();
  return pkiPromise;
}

/** Collects pino lines in memory so tests can read what operators would see. */
export class LogSink extends Writable {
  readonly lines: string[] = [];
  override _write(chunk: Buffer, _enc: string, cb: () => void): void {
    this.lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    cb();
  }
}

export interface Stack {
  gw: Gateway;
  mock: MockCentralVis;
  /** Gateway API base URL. */
  url: string;
  centralUrl: string;
  controlUrl: string;
  pki: DevPkiFiles;
  logs: LogSink;
  prefix: string;
  dataDir: string;
  stop(): Promise<void>;
}

/** Starts a mock central and a gateway on free ports with a fresh journal and its own queue prefix. */
export async function startStack(overrides: Record<string, unknown> = {}): Promise<Stack> {
  const { files: pki } = await sharedPki();
  const logs = new LogSink();
  const logger = createLogger('info', logs);
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'davis-data-'));
  const mock = new MockCentralVis({
    host: '127.0.0.1', port: 0, controlPort: 0,
    tlsCertFile: pki.centralCert, tlsKeyFile: pki.centralKey, clientCaFile: pki.caCert,
    signingKey: loadSigningKey({ keyFile: pki.centralKey, certFile: pki.centralCert }),
    trust: loadTrustStore(pki.caCert), logger,
  });
  const { url: centralUrl, controlUrl } = await mock.start();
  const prefix = `test.${randomBytes(4).toString('hex')}.`;
  const config = loadConfig({
    env: {},
    overrides: deepMerge({
      mode: 'dev', dataDir,
      // Tests share two cores with the broker, the mock and each other: a second in which the
      // event-loop monitor never ticks reads as overload (503) however high the threshold, so the
      // delay check is off here. Backpressure has its own tests (test/api/http-edge).
      gateway: { port: 0, pressure: { maxEventLoopDelayMs: 0 } },
      amqp: { url: AMQP_URL, prefix, shards: 2, confirmTimeoutMs: 3000 },
      signing: { keyFile: pki.gatewayKey, certFile: pki.gatewayCert, trust: pki.caCert },
      central: { url: centralUrl, caFile: pki.caCert, certFile: pki.gatewayCert, keyFile: pki.gatewayKey, timeoutMs: 3000, retryBaseMs: 100 },
    }, overrides),
  });
  const gw = await openGateway(config, logger);
  await gw.start();
  return {
    gw, mock, url: gw.url!, centralUrl, controlUrl: controlUrl!, pki, logs, prefix, dataDir,
    async stop() {
      await gw.stop();
      await mock.stop();
      await deleteTopology(prefix, config.amqp.shards);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Removes a test's queues and exchange from the broker. */
export async function deleteTopology(prefix: string, shards: number): Promise<void> {
  const n = topologyNames(prefix, shards);
  const conn = await amqp.connect(AMQP_URL);
  try {
    const ch = await conn.createChannel();
    for (const q of allQueues(prefix, shards)) await ch.deleteQueue(q);
    await ch.deleteExchange(n.work);
    await ch.deleteExchange(n.delayExchange);
    await ch.close();
  } finally {
    await conn.close();
  }
}

function deepMerge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out = { ...a };
  for (const [k, v] of Object.entries(b)) {
    out[k] = v && typeof v === 'object' && !Array.isArray(v) && out[k] && typeof out[k] === 'object'
      ? deepMerge(out[k] as Record<string, unknown>, v as Record<string, unknown>) : v;
  }
  return out;
}

/** Polls `fn` until it returns a truthy value or the time is up. */
export async function waitFor<T>(fn: () => Promise<T | undefined | false>, timeoutMs = 20000, stepMs = 100): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < end) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, stepMs));
  }
  throw new Error(`condition not met within ${timeoutMs} ms${last ? `: ${(last as Error).message}` : ''}`);
}

/** JSON over HTTP to the gateway. */
export async function api(base: string, method: string, p: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; headers: Headers; json: any }> {
  const res = await fetch(base + p, {
    method,
    headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  let json: unknown;
  try { json = text ? JSON.parse(text) : undefined; } catch { json = text; }
  return { status: res.status, headers: res.headers, json };
}
