/**
 * `npm run bench -- --only xml`: bytes per second from bytes to verdict through the screen and
 * THE parser with the wire caps (`screenAndParse`, `xml_*`) and through the whole read of a
 * wire request (`readRequest`: screen, parse, map; no trust, no XSD; `xml_read_*`), on the 4 KB
 * wire message and on 8 MiB hostile bodies, one per shape the attacks of issue 10 used; then the
 * event loop's worst delay while each body is POSTed to a live gateway. The target: no hostile
 * shape is processed at fewer than half the bytes per second of the normal message, so the
 * work stays linear whatever the shape (a body refused at a cap counts its full length, since
 * the caller received and decoded all of it).
 */
import http from 'node:http';
import { mkdtempSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { Writable } from 'node:stream';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import amqp from 'amqplib';
import { openGateway } from '../src/app/gateway';
import { loadConfig } from '../src/config/config';
import type { DevPkiFiles } from '../src/dev/dev-pki';
import { createLogger } from '../src/ops/logger';
import { loadSigningKey, loadTrustStore } from '../src/signing/pki';
import { allQueues, topologyNames } from '../src/queue/amqp-broker';
import { WIRE_XML_LIMITS } from '../src/wire/limits';
import { readRequest } from '../src/wire/read-wire';
import { screenAndParse } from '../src/xml/screen';
import { MockCentralVis } from '../mocks/central/server';

type Results = Record<string, number | string>;

/** The size of every hostile body: the wire byte cap (`WIRE_XML_LIMITS.maxBytes`). */
const HOSTILE_BYTES = 8 * 1024 * 1024;

/**
 * Where a shape's filler goes in the 4 KB message and what one unit of it is (`i` numbers the
 * units, for shapes whose units must differ). Units are repeated until the body reaches 8 MiB.
 */
interface Shape {
  readonly name: string;
  readonly after: string;
  readonly unit: (i: number) => string;
  /** Written once after the units (the closing tags of the deep shape). */
  readonly close?: (units: number) => string;
  readonly unitBytes?: number;
}

const SHAPES: readonly Shape[] = [
  { name: 'siblings', after: '<w:Body>', unit: () => '<w:e/>' },
  { name: 'attributes', after: '<w:Request', unit: (i) => ` a${i}=""` },
  { name: 'namespaces', after: '<w:Request', unit: (i) => ` xmlns:n${i}="urn:n"` },
  { name: 'deep', after: '<w:Body>', unit: () => '<w:d>', close: (n) => '</w:d>'.repeat(n), unitBytes: 11 },
  { name: 'text', after: '<w:data>', unit: () => 'WlpaWlpa' },
  { name: 'comments', after: '<w:Body>', unit: () => '<!--c-->' },
];

/** The 4 KB message with the shape's filler inserted, as close to 8 MiB as whole units allow. */
function hostileBody(xml: string, shape: Shape): { body: Buffer; units: number } {
  const at = xml.indexOf(shape.after);
  if (at < 0) throw new Error(`the wire message has no ${shape.after}`);
  const cut = at + shape.after.length;
  const parts: string[] = [];
  let bytes = Buffer.byteLength(xml);
  let units = 0;
  for (;;) {
    const u = shape.unit(units);
    const cost = shape.unitBytes ?? u.length;
    if (bytes + cost > HOSTILE_BYTES) break;
    parts.push(u);
    bytes += cost;
    units++;
  }
  const body = Buffer.from(xml.slice(0, cut) + parts.join('') + (shape.close?.(units) ?? '') + xml.slice(cut));
  return { body, units };
}

/** A step from bytes to verdict: the screen and parser alone, or the whole read of a request. */
type Reader = (body: Buffer) => unknown;
const screenAndParser: Reader = (body) => screenAndParse(body, WIRE_XML_LIMITS);
const wireRead: Reader = (body) => readRequest(body);

/** `accepted` or the refusal's code: what the caller would answer. */
function verdict(body: Buffer, read: Reader = screenAndParser): string {
  try {
    read(body);
    return 'accepted';
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (typeof code !== 'string') throw err;
    return code;
  }
}

function median(v: number[]): number {
  return [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
}

/** Bytes per second of `verdict` on `body` over about `ms` milliseconds (at least `minRuns` runs). */
function bytesPerSecond(body: Buffer, ms: number, minRuns: number, read: Reader): number {
  let runs = 0;
  const t0 = performance.now();
  while (runs < minRuns || performance.now() - t0 < ms) {
    verdict(body, read);
    runs++;
  }
  return (body.length * runs) / ((performance.now() - t0) / 1000);
}

/**
 * Throughput of the read on the 4 KB message and on each hostile body, in interleaved rounds
 * (normal, then every shape, 5 times) so load on the other core weighs on all alike; each
 * shape's ratio is the median of its per-round ratios to the normal message.
 */
function benchThroughput(xml: string, bodies: { shape: Shape; body: Buffer; units: number }[], out: Results, read: Reader, key: string): void {
  const normal = Buffer.from(xml);
  if (verdict(normal, read) !== 'accepted') throw new Error(`the 4 KB wire message is refused: ${verdict(normal, read)}`);
  for (const b of bodies) verdict(b.body, read);
  bytesPerSecond(normal, 300, 1, read);
  const rounds = 5;
  const normalRates: number[] = [];
  const rates: number[][] = bodies.map(() => []);
  for (let r = 0; r < rounds; r++) {
    normalRates.push(bytesPerSecond(normal, 300, 1, read));
    bodies.forEach((b, k) => rates[k].push(bytesPerSecond(b.body, 300, 2, read)));
  }
  out[`${key}_bytes_per_s_4k`] = median(normalRates);
  let worst = Infinity;
  let worstRatio = Infinity;
  let worstName = '';
  for (const [k, b] of bodies.entries()) {
    const name = b.shape.name;
    const v = rates[k];
    const ratio = median(v.map((x, i) => x / normalRates[i]));
    out[`${key}_hostile_${name}_verdict`] = verdict(b.body, read);
    out[`${key}_bytes_per_s_hostile_${name}`] = median(v);
    out[`${key}_hostile_${name}_ratio`] = ratio;
    if (ratio < worstRatio) {
      worstRatio = ratio;
      worst = median(v);
      worstName = name;
    }
  }
  out[`${key}_bytes_per_s_hostile_min`] = worst;
  out[`${key}_hostile_worst_shape`] = worstName;
  out[`${key}_hostile_ratio`] = worstRatio;
}

/** POSTs `body` as application/xml; resolves with the status once the answer is read. */
function post(url: string, body: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${url}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/xml', 'content-length': body.length } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** The event loop's longest delay (ms) while `body` is POSTed and answered, and the status. */
async function loopDelayDuring(url: string, body: Buffer): Promise<{ maxMs: number; status: number }> {
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  const status = await post(url, body);
  // One more turn so a stall at the very end of the request is sampled too.
  await new Promise((r) => setTimeout(r, 5));
  h.disable();
  return { maxMs: h.max / 1e6, status };
}

/**
 * A gateway (API, real RabbitMQ, SQLite journal) and a mock central in this process, so the
 * event loop measured is the one that serves the API; the client is a single `http.request`
 * with the body in one buffer, which costs the loop little beside the server's work.
 */
async function benchEventLoop(pki: DevPkiFiles, dir: string, xml: string, bodies: { shape: Shape; body: Buffer }[], out: Results): Promise<void> {
  const logger = createLogger('error', new Writable({ write: (_c, _e, cb) => cb() }));
  const mock = new MockCentralVis({
    host: '127.0.0.1', port: 0, tlsCertFile: pki.centralCert, tlsKeyFile: pki.centralKey, clientCaFile: pki.caCert,
    signingKey: loadSigningKey({ keyFile: pki.centralKey, certFile: pki.centralCert }), trust: loadTrustStore(pki.caCert), logger,
  });
  const { url: centralUrl } = await mock.start();
  const prefix = `bench.${randomBytes(4).toString('hex')}.`;
  const shards = 2;
  const dataDir = mkdtempSync(path.join(dir, 'xml-gateway-'));
  const amqpUrl = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
  const config = loadConfig({
    env: {},
    overrides: {
      mode: 'dev', dataDir, gateway: { port: 0 }, amqp: { url: amqpUrl, prefix, shards },
      signing: { keyFile: pki.gatewayKey, certFile: pki.gatewayCert, trust: pki.caCert },
      central: { url: centralUrl, caFile: pki.caCert, certFile: pki.gatewayCert, keyFile: pki.gatewayKey },
      log: { level: 'error' },
    },
  });
  const gw = await openGateway(config, logger);
  try {
    await gw.start();
    const url = gw.url;
    if (!url) throw new Error('the gateway has no address');
    const normal = Buffer.from(xml);
    const first = await post(url, normal);
    if (first !== 202) throw new Error(`the 4 KB wire message got HTTP ${first}`);
    const runs = 3;
    const normalMax: number[] = [];
    for (let r = 0; r < runs; r++) {
      // Each message needs its own id: the gateway refuses none, but a repeat is not the normal path.
      const { maxMs, status } = await loopDelayDuring(url, Buffer.from(xml.replace('FI-HEL-2025-000123', `FI-HEL-2025-${String(r).padStart(6, '0')}`)));
      if (status !== 202) throw new Error(`the 4 KB wire message got HTTP ${status}`);
      normalMax.push(maxMs);
    }
    out.event_loop_max_ms_normal = Math.max(...normalMax);
    let worst = 0;
    for (const b of bodies) {
      let shapeMax = 0;
      let status = 0;
      for (let r = 0; r < runs; r++) {
        const m = await loopDelayDuring(url, b.body);
        shapeMax = Math.max(shapeMax, m.maxMs);
        status = m.status;
      }
      out[`event_loop_max_ms_hostile_${b.shape.name}`] = shapeMax;
      out[`xml_hostile_${b.shape.name}_http_status`] = status;
      worst = Math.max(worst, shapeMax);
    }
    out.event_loop_max_ms_hostile = worst;
  } finally {
    await gw.stop();
    await mock.stop();
    const n = topologyNames(prefix, shards);
    const conn = await amqp.connect(amqpUrl);
    const ch = await conn.createChannel();
    for (const q of allQueues(prefix, shards)) await ch.deleteQueue(q);
    await ch.deleteExchange(n.work);
    await ch.deleteExchange(n.delayExchange);
    await conn.close();
  }
}

/** The XML section of the bench: throughput of the read, then the event loop under the same bodies. */
export async function benchXml(pki: DevPkiFiles, dir: string, xml: string, out: Results): Promise<void> {
  const bodies = SHAPES.map((shape) => ({ shape, ...hostileBody(xml, shape) }));
  out.xml_message_bytes = Buffer.byteLength(xml);
  out.xml_hostile_bytes = HOSTILE_BYTES;
  for (const b of bodies) out[`xml_hostile_${b.shape.name}_units`] = b.units;
  benchThroughput(xml, bodies, out, screenAndParser, 'xml');
  benchThroughput(xml, bodies, out, wireRead, 'xml_read');
  await benchEventLoop(pki, dir, xml, bodies, out);
}
