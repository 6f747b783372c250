/**
 * CPU cost of the mock central per message: `node dist/mocks/central/profile.js [--messages N]
 * [--http] [--concurrency C] [--log-level L] [--xsd shortcut|libxml]` (`--xsd libxml`: the mock
 * with libxml2 alone, as it was before the XSD shortcut, for a before/after on the same machine).
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
import type { SigningKey, TrustStore } from '../../src/signing/types';
import { signCanonical, verifyDocument } from '../../src/signing/xmldsig';
import { buildRequestXml, buildResponseXml, requestFromDocument } from '../../src/wire/envelope';
import { WIRE_XML_LIMITS } from '../../src/wire/limits';
import { createXsdValidator } from '../../src/wire/xsd';
import { createXsdShortcut } from '../../src/wire/xsd-shortcut';
import { screenAndParse } from '../../src/xml/screen';
import { MockCentralVis } from './server';
import { CentralState } from './state';

/** What the load process is told: where to send, as whom, how much. */
interface ClientJob {
  readonly url: string;
  readonly certFile: string;
  readonly keyFile: string;
  readonly caFile: string;
  readonly messages: number;
  readonly concurrency: number;
}

/** Messages of the load process to the mock's: warmed up and ready, then done. */
type ClientReport = { readonly ready: true } | { readonly statuses: Record<string, number> };

function examplePayload(): Record<string, unknown> {
  const dir = path.join(packageRoot(), 'schemas', 'examples', 'vis.application.create');
  const f = readdirSync(dir).filter((n) => /^valid-.*\.json$/.test(n)).sort()[0];
  return JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as Record<string, unknown>;
}

/**
 * N unsigned ~4 KB requests, distinct ids and application numbers from FI-HEL-2025-<first>
 * on (as bench/run.ts builds one).
 */
function requests(n: number, first = 100000): { id: string; xml: string }[] {
  const base = examplePayload();
  const out: { id: string; xml: string }[] = [];
  let size = 0;
  for (let i = 0; i < n; i++) {
    const id = randomUUID();
    const header = { messageId: id, type: 'vis.application.create', sender: 'FI', created: new Date().toISOString() };
    const build = (k: number) => buildRequestXml(header, { ...base, applicationNumber: `FI-HEL-2025-${String(first + i)}`, facialImage: { embedded: { mediaType: 'image/jpeg', data: Buffer.alloc(k, 0x5a).toString('base64') } } });
    if (size === 0) {
      size = 16;
      while (Buffer.byteLength(build(size + 16)) <= 4096) size += 16;
    }
    out.push({ id, xml: build(size) });
  }
  return out;
}

const USAGE = `Usage: node dist/mocks/central/profile.js [--messages N] [--http] [--concurrency C] [--log-level L] [--xsd shortcut|libxml]

CPU ms per message of the mock central, for ~4 KB signed vis.application.create requests.
  --messages N      messages to send, at most 800000 [default: 2000]
  --http            over HTTPS from a separate load process (keep-alive, C connections);
                    without it: each step of MockCentralVis.process, then the whole call, in process
  --concurrency C   connections and requests in flight with --http [default: 8]
  --log-level L     the mock's pino level (logs go to /dev/null) [default: info]
  --xsd V           shortcut: libxml2 behind the XSD shortcut (the mock's default);
                    libxml: libxml2 alone, as before the shortcut [default: shortcut]
  --help            this text
Prints one JSON object.
`;

/** Application numbers of the warm-up messages, apart from the measured ones (which stay below). */
const WARM_UP_FIRST = 900000;

const cpuMs = (u: NodeJS.CpuUsage): number => (u.user + u.system) / 1000;

/** CPU ms per call of `fn` over `items` (after warming up on the first few). */
function perCall<T>(items: readonly T[], fn: (x: T) => unknown): number {
  for (const x of items.slice(0, Math.min(50, items.length))) fn(x);
  const t = process.cpuUsage();
  for (const x of items) fn(x);
  return cpuMs(process.cpuUsage(t)) / items.length;
}

/** CPU ms per message of each step of `MockCentralVis.process`, each on all messages, in its order. */
function steps(signed: readonly { id: string; xml: string }[], trust: TrustStore, centralKey: SigningKey): Record<string, number> {
  const out: Record<string, number> = {};
  const xsd = createXsdValidator();
  const docs = signed.map((m) => screenAndParse(m.xml, WIRE_XML_LIMITS));
  out.screen_parse_ms = perCall(signed, (m) => screenAndParse(m.xml, WIRE_XML_LIMITS));
  out.verify_ms = perCall(docs, (d) => verifyDocument(d, trust));
  out.xsd_libxml_ms = perCall(docs, (d) => xsd.validateDocument(d));
  const shortcut = createXsdShortcut();
  out.xsd_shortcut_ms = perCall(docs, (d) => shortcut(d));
  out.map_ms = perCall(docs, (d) => requestFromDocument(d));
  const mapped = docs.map((d) => requestFromDocument(d));
  const state = new CentralState();
  out.rules_ms = perCall(mapped, (r) => state.apply(r.header.type, r.header.sender, r.header.messageId, r.payload as Record<string, unknown>));
  const answer = { responseId: randomUUID(), inReplyTo: signed[0].id, created: new Date().toISOString(), result: 'ACCEPTED' as const, code: 'OK', centralReference: 'VIS-FI-2025-00000001' };
  out.answer_build_ms = perCall(signed, () => buildResponseXml(answer));
  const built = buildResponseXml(answer);
  out.answer_sign_ms = perCall(signed, () => signCanonical(built, centralKey));
  return out;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: {
    messages: { type: 'string', default: '2000' }, http: { type: 'boolean', default: false }, concurrency: { type: 'string', default: '8' },
    'log-level': { type: 'string', default: 'info' }, xsd: { type: 'string', default: 'shortcut' }, help: { type: 'boolean', default: false },
  } });
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  if (!/^[1-9][0-9]*$/.test(values.messages) || Number(values.messages) > WARM_UP_FIRST - 100000 || !/^[1-9][0-9]*$/.test(values.concurrency)) throw new Error(`--messages (at most 800000) and --concurrency must be positive whole numbers\n${USAGE}`);
  if (values.xsd !== 'shortcut' && values.xsd !== 'libxml') throw new Error(`--xsd must be shortcut (the default) or libxml\n${USAGE}`);
  const n = Number(values.messages);
  const dir = mkdtempSync(path.join(tmpdir(), 'davis-mock-profile-'));
  try {
    const pki = await createDevPki(dir);
    const trust = loadTrustStore(pki.caCert);
    const gatewayKey = loadSigningKey({ keyFile: pki.gatewayKey, certFile: pki.gatewayCert });
    const centralKey = loadSigningKey({ keyFile: pki.centralKey, certFile: pki.centralCert });
    // Logs go where `davis mock-vis` sends them (stdout); here to /dev/null so the figure is the mock's, not the terminal's.
    const logger = createLogger(values['log-level'], pino.destination('/dev/null') as unknown as NodeJS.WritableStream);
    const mock = new MockCentralVis({
      host: '127.0.0.1', port: 0, tlsCertFile: pki.centralCert, tlsKeyFile: pki.centralKey, clientCaFile: pki.caCert,
      signingKey: centralKey, trust, logger, ...(values.xsd === 'libxml' ? { xsd: createXsdValidator() } : {}),
    });
    const result: Record<string, number | string> = { messages: n, xsd: values.xsd };
    if (!values.http) {
      const signed = requests(n).map((m) => ({ id: m.id, xml: signCanonical(m.xml, gatewayKey) }));
      result.message_bytes = Buffer.byteLength(signed[0].xml);
      Object.assign(result, steps(signed, trust, centralKey));
      // The whole call, on a fresh mock (first processing of every id), after a warm-up.
      for (const m of requests(50, WARM_UP_FIRST)) mock.process(signCanonical(m.xml, gatewayKey), m.id);
      const t = process.cpuUsage();
      for (const m of signed) mock.process(m.xml, m.id);
      result.process_cpu_ms_per_msg = cpuMs(process.cpuUsage(t)) / n;
      const codes = new Map<string, number>();
      for (const e of mock.receivedList()) codes.set(e.code, (codes.get(e.code) ?? 0) + 1);
      result.codes = JSON.stringify(Object.fromEntries(codes));
    } else {
      const { url } = await mock.start();
      const job: ClientJob = { url, certFile: pki.gatewayCert, keyFile: pki.gatewayKey, caFile: pki.caCert, messages: n, concurrency: Number(values.concurrency) };
      // The load process builds and signs its messages and warms the mock up before the clock starts.
      const child = fork(__filename, ['--client'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      child.send(job);
      let t0 = process.cpuUsage();
      let w0 = performance.now();
      const { statuses } = await new Promise<{ statuses: Record<string, number> }>((resolve, reject) => {
        child.on('message', (m: ClientReport) => {
          if ('ready' in m) {
            t0 = process.cpuUsage();
            w0 = performance.now();
            child.send('go');
          } else {
            resolve(m);
          }
        });
        child.once('exit', (code) => reject(new Error(`the client exited with ${code}`)));
      });
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

/** The load side of `--http`, in its own process: builds and signs the messages, warms up, waits for "go", sends them all. */
function client(): void {
  process.once('message', (job: ClientJob) => {
    const key = loadSigningKey({ keyFile: job.keyFile, certFile: job.certFile });
    const agent = new https.Agent({ keepAlive: true, maxSockets: job.concurrency, cert: readFileSync(job.certFile), key: readFileSync(job.keyFile), ca: readFileSync(job.caFile) });
    let statuses: Record<string, number> = {};
    const send = (m: { id: string; xml: string }): Promise<void> => new Promise((resolve, reject) => {
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
    const run = async (messages: readonly { id: string; xml: string }[]): Promise<void> => {
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < messages.length) await send(messages[next++]);
      };
      await Promise.all(Array.from({ length: job.concurrency }, worker));
    };
    const sign = (list: { id: string; xml: string }[]) => list.map((m) => ({ id: m.id, xml: signCanonical(m.xml, key) }));
    const warm = sign(requests(200, WARM_UP_FIRST));
    const messages = sign(requests(job.messages));
    const fail = (err: unknown): void => {
      process.stderr.write(`client: ${(err as Error).message}\n`);
      process.exit(1);
    };
    run(warm).then(() => {
      statuses = {};
      process.once('message', () => {
        run(messages).then(() => process.send?.({ statuses }), fail);
      });
      process.send?.({ ready: true });
    }, fail);
  });
}

if (process.argv.includes('--client')) client();
else {
  main().catch((err: unknown) => {
    // A usage error (an unknown option, a bad value) says so and exits 2; anything else is a failure with its stack.
    const usage = err instanceof TypeError && 'code' in err && String(err.code).startsWith('ERR_PARSE_ARGS') || (err as Error).message.startsWith('--');
    process.stderr.write(usage ? `profile: ${(err as Error).message}\n` : `${(err as Error).stack ?? String(err)}\n`);
    process.exit(usage ? 2 : 1);
  });
}
