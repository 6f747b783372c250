/**
 * CPU cost of the mock central per message: `node dist/mocks/central/profile.js [--messages N]
 * [--http] [--concurrency C] [--log-level L]`.
 *
 * Builds N signed ~4 KB `vis.application.create` requests as the bench's gateway sends them
 * (the first valid example with its facial image embedded, each with its own message id and
 * application number, signed with the dev gateway key), then:
 * - in process: times each step of `MockCentralVis.process` on its own (screen and parse,
 *   signature check, XSD by libxml2 and by the shortcut the mock uses, mapping, rules, answer
 *   build and signing) and the whole call, CPU
 *   ms per message from `process.cpuUsage()`;
 * - with `--http`: starts the mock on HTTPS and sends the same messages from a child process
 *   (keep-alive, client certificate), so that the CPU counted is the mock's own: HTTP, TLS,
 *   logging and processing together.
 *
 * Prints one JSON object. `node --cpu-prof dist/mocks/central/profile.js` adds a profile.
 */
import { fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { packageRoot } from '../../src/catalogue/schema-file';
import { createDevPki } from '../../src/dev/dev-pki';
import { createLogger } from '../../src/ops/logger';
import { loadSigningKey, loadTrustStore } from '../../src/signing/pki';
import { signCanonical, verifyDocument } from '../../src/signing/xmldsig';
import { buildRequestXml, buildResponseXml, requestFromDocument } from '../../src/wire/envelope';
import { WIRE_XML_LIMITS } from '../../src/wire/limits';
import { createXsdValidator } from '../../src/wire/xsd';
import { createXsdShortcut } from '../../src/wire/xsd-shortcut';
import { screenAndParse } from '../../src/xml/screen';
import { MockCentralVis } from './server';
import { CentralState } from './state';

interface ClientJob {
  readonly url: string;
  readonly cert: string;
  readonly key: string;
  readonly ca: string;
  readonly messages: readonly { id: string; xml: string }[];
  readonly concurrency: number;
}

function examplePayload(): Record<string, unknown> {
  const dir = path.join(packageRoot(), 'schemas', 'examples', 'vis.application.create');
  const f = readdirSync(dir).filter((n) => /^valid-.*\.json$/.test(n)).sort()[0];
  return JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as Record<string, unknown>;
}

/** N unsigned ~4 KB requests, distinct ids and application numbers (as bench/run.ts builds one). */
function requests(n: number): { id: string; xml: string }[] {
  const base = examplePayload();
  const out: { id: string; xml: string }[] = [];
  let size = 0;
  for (let i = 0; i < n; i++) {
    const id = randomUUID();
    const header = { messageId: id, type: 'vis.application.create', sender: 'FI', created: new Date().toISOString() };
    const build = (k: number) => buildRequestXml(header, { ...base, applicationNumber: `FI-HEL-2025-${String(100000 + i).padStart(6, '0')}`, facialImage: { embedded: { mediaType: 'image/jpeg', data: Buffer.alloc(k, 0x5a).toString('base64') } } });
    if (size === 0) {
      size = 16;
      while (Buffer.byteLength(build(size + 16)) <= 4096) size += 16;
    }
    out.push({ id, xml: build(size) });
  }
  return out;
}

const cpuMs = (u: NodeJS.CpuUsage): number => (u.user + u.system) / 1000;

/** CPU ms per call of `fn` over `items` (after warming up on the first few). */
function perCall<T>(items: readonly T[], fn: (x: T) => unknown): number {
  for (const x of items.slice(0, Math.min(50, items.length))) fn(x);
  const t = process.cpuUsage();
  for (const x of items) fn(x);
  return cpuMs(process.cpuUsage(t)) / items.length;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { messages: { type: 'string', default: '2000' }, http: { type: 'boolean', default: false }, concurrency: { type: 'string', default: '8' }, 'log-level': { type: 'string', default: 'info' } } });
  const n = Number(values.messages);
  const dir = mkdtempSync(path.join(tmpdir(), 'davis-mock-profile-'));
  try {
    const pki = await createDevPki(dir);
    const trust = loadTrustStore(pki.caCert);
    const gatewayKey = loadSigningKey({ keyFile: pki.gatewayKey, certFile: pki.gatewayCert });
    const centralKey = loadSigningKey({ keyFile: pki.centralKey, certFile: pki.centralCert });
    const signed = requests(n).map((m) => ({ id: m.id, xml: signCanonical(m.xml, gatewayKey) }));
    // Logs go where `davis mock-vis` sends them (stdout); here to /dev/null so the figure is the mock's, not the terminal's.
    const logger = createLogger(values['log-level'], pino.destination('/dev/null') as unknown as NodeJS.WritableStream);
    const mock = new MockCentralVis({
      host: '127.0.0.1', port: 0, tlsCertFile: pki.centralCert, tlsKeyFile: pki.centralKey, clientCaFile: pki.caCert,
      signingKey: centralKey, trust, logger,
    });
    const result: Record<string, number | string> = { messages: n, message_bytes: Buffer.byteLength(signed[0].xml) };
    if (!values.http) {
      // Steps one by one, each on all messages (the same work process() does, in its order).
      const xsd = createXsdValidator();
      const docs = signed.map((m) => screenAndParse(m.xml, WIRE_XML_LIMITS));
      result.screen_parse_ms = perCall(signed, (m) => screenAndParse(m.xml, WIRE_XML_LIMITS));
      result.verify_ms = perCall(docs, (d) => verifyDocument(d, trust));
      result.xsd_libxml_ms = perCall(docs, (d) => xsd.validateDocument(d));
      const shortcut = createXsdShortcut();
      result.xsd_shortcut_ms = perCall(docs, (d) => shortcut(d));
      result.map_ms = perCall(docs, (d) => requestFromDocument(d));
      const mapped = docs.map((d) => requestFromDocument(d));
      const state = new CentralState();
      result.rules_ms = perCall(mapped, (r) => state.apply(r.header.type, r.header.sender, r.header.messageId, r.payload as Record<string, unknown>));
      const answer = { responseId: randomUUID(), inReplyTo: signed[0].id, created: new Date().toISOString(), result: 'ACCEPTED' as const, code: 'OK', centralReference: 'VIS-FI-2025-00000001' };
      result.answer_build_ms = perCall(signed, () => buildResponseXml(answer));
      const built = buildResponseXml(answer);
      result.answer_sign_ms = perCall(signed, () => signCanonical(built, centralKey));
      // The whole call, on a fresh mock (first processing of every id).
      const warm = requests(50).map((m) => signCanonical(m.xml, gatewayKey));
      for (const x of warm) mock.process(x, undefined);
      const t = process.cpuUsage();
      for (const m of signed) mock.process(m.xml, m.id);
      result.process_cpu_ms_per_msg = cpuMs(process.cpuUsage(t)) / n;
      const codes = new Map<string, number>();
      for (const e of mock.receivedList()) codes.set(e.code, (codes.get(e.code) ?? 0) + 1);
      result.codes = JSON.stringify(Object.fromEntries(codes));
    } else {
      const { url } = await mock.start();
      const job: ClientJob = {
        url, cert: readFileSync(pki.gatewayCert, 'utf8'), key: readFileSync(pki.gatewayKey, 'utf8'), ca: readFileSync(pki.caCert, 'utf8'),
        messages: signed, concurrency: Number(values.concurrency),
      };
      const child = fork(__filename, ['--client'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      const t0 = process.cpuUsage();
      const w0 = performance.now();
      const done = new Promise<{ statuses: Record<string, number> }>((resolve, reject) => {
        child.once('message', (m) => resolve(m as { statuses: Record<string, number> }));
        child.once('exit', (code) => reject(new Error(`the client exited with ${code}`)));
      });
      child.send(job);
      const { statuses } = await done;
      result.http_mock_cpu_ms_per_msg = cpuMs(process.cpuUsage(t0)) / n;
      result.http_msgs_per_s = n / ((performance.now() - w0) / 1000);
      result.statuses = JSON.stringify(statuses);
      child.kill();
      await mock.stop();
    }
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The load side of `--http`, in its own process: sends every message and reports the statuses. */
function client(): void {
  process.once('message', (job: ClientJob) => {
    const agent = new https.Agent({ keepAlive: true, maxSockets: job.concurrency, cert: job.cert, key: job.key, ca: job.ca });
    const statuses: Record<string, number> = {};
    let next = 0;
    const one = (): Promise<void> => new Promise((resolve, reject) => {
      const m = job.messages[next++];
      const req = https.request(job.url, { method: 'POST', agent, headers: { 'content-type': 'application/xml; charset=utf-8', 'x-davis-message-id': m.id } }, (res) => {
        res.resume();
        res.on('end', () => {
          statuses[String(res.statusCode)] = (statuses[String(res.statusCode)] ?? 0) + 1;
          resolve();
        });
      });
      req.on('error', reject);
      req.end(m.xml);
    });
    const worker = async (): Promise<void> => {
      while (next < job.messages.length) await one();
    };
    Promise.all(Array.from({ length: job.concurrency }, worker)).then(
      () => process.send?.({ statuses }),
      (err: unknown) => {
        process.stderr.write(`client: ${(err as Error).message}\n`);
        process.exit(1);
      },
    );
  });
}

if (process.argv.includes('--client')) client();
else {
  main().catch((err: unknown) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  });
}
