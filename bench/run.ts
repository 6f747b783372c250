/**
 * `npm run bench`: the gateway's figures beside the limits of this machine measured in the
 * same run (raw RSA/ECDSA signing with Node crypto, raw confirmed publishing with amqplib,
 * xml-crypto as the XML-DSig baseline). Prints a table with ratios and writes
 * bench/results/latest.json. `npm run bench -- --only signing` runs the signing part alone.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createPrivateKey, randomUUID, sign as cryptoSign, type KeyObject } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import amqp from 'amqplib';
import Database from 'better-sqlite3';
import { createLogger } from '../src/ops/logger';
import { loadSigningKey, loadTrustStore } from '../src/signing/pki';
import { createDevPki, type DevPkiFiles } from '../src/dev/dev-pki';
import type { SigningKey, TrustStore } from '../src/signing/types';
import { signCanonical, verifyEnveloped } from '../src/signing/xmldsig';
import { buildRequestXml } from '../src/wire/envelope';
import { MockCentralVis } from '../mocks/central/server';
import { allQueues } from '../src/queue/amqp-broker';
import type { AuditEvent } from '../src/audit/audit';
import { Checkpointer } from '../src/audit/checkpoints';
import { auditStoreOf } from '../src/audit/open-audit';
import { SqliteJournal } from '../src/journal/journal-sqlite';
import { benchXml } from './xml';

const ROOT = path.resolve(__dirname, '..', '..');
const AMQP_URL = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
type Results = Record<string, number | string>;

/** Runs `fn` repeatedly for about `ms` milliseconds (after a short warm-up); returns calls per second. */
function rate(fn: () => void, ms = 2000): number {
  const warm = Date.now() + Math.min(200, ms / 4);
  while (Date.now() < warm) fn();
  let n = 0;
  const start = process.hrtime.bigint();
  const end = Date.now() + ms;
  while (Date.now() < end) {
    for (let i = 0; i < 10; i++) fn();
    n += 10;
  }
  return n / (Number(process.hrtime.bigint() - start) / 1e9);
}

function examplePayload(): Record<string, unknown> {
  const dir = path.join(ROOT, 'schemas', 'examples', 'vis.application.create');
  const f = readdirSync(dir).filter((n) => /^valid-.*\.json$/.test(n)).sort()[0];
  return JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as Record<string, unknown>;
}

/**
 * A 4 KB wire message, as the gateway builds it (canonical, unsigned): the first example with
 * its facial image embedded instead of referenced, sized so the document is about 4,096 bytes.
 */
function wireMessage(): string {
  const header = { messageId: randomUUID(), type: 'vis.application.create', sender: 'FI', created: new Date().toISOString() };
  const base = examplePayload();
  const build = (n: number) => buildRequestXml(header, { ...base, facialImage: { embedded: { mediaType: 'image/jpeg', data: Buffer.alloc(n, 0x5a).toString('base64') } } });
  let n = 16;
  while (Buffer.byteLength(build(n + 16)) <= 4096) n += 16;
  return build(n);
}

/**
 * Rates of several functions measured in interleaved rounds (A, B, A, B, …), median per
 * function: the other core's load then weighs on every function alike, so ratios hold.
 */
function pairedRates(fns: Record<string, () => void>, rounds = 9, ms = 300): Record<string, number> & { ratio(a: string, b: string): number } {
  const samples: Record<string, number[]> = Object.fromEntries(Object.keys(fns).map((k) => [k, []]));
  for (let r = 0; r < rounds; r++) for (const [k, fn] of Object.entries(fns)) samples[k].push(rate(fn, ms));
  const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
  const out = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)])) as Record<string, number> & { ratio(a: string, b: string): number };
  // The median of per-round ratios: each pair ran back to back under the same load.
  Object.defineProperty(out, 'ratio', { enumerable: false, value: (a: string, b: string) => median(samples[a].map((x, i) => x / samples[b][i])) });
  return out;
}

function ecdsaIdentity(dir: string, pki: DevPkiFiles): { key: SigningKey } {
  // An ECDSA P-256 signing certificate from the dev CA, made with openssl.
  const k = path.join(dir, 'ec.key.pem');
  const csr = path.join(dir, 'ec.csr');
  const crt = path.join(dir, 'ec.crt.pem');
  const ext = path.join(dir, 'ec.ext');
  writeFileSync(ext, 'keyUsage=critical,digitalSignature\n');
  execFileSync('openssl', ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', k]);
  execFileSync('openssl', ['req', '-new', '-key', k, '-subj', '/CN=bench-ecdsa', '-out', csr]);
  execFileSync('openssl', ['x509', '-req', '-in', csr, '-CA', pki.caCert, '-CAkey', pki.caKey, '-CAcreateserial', '-days', '2', '-extfile', ext, '-out', crt], { stdio: 'ignore' });
  return { key: loadSigningKey({ keyFile: k, certFile: crt }) };
}

async function benchSigning(pki: DevPkiFiles, dir: string, out: Results): Promise<void> {
  const rsa = loadSigningKey({ keyFile: pki.gatewayKey, certFile: pki.gatewayCert });
  const trust: TrustStore = loadTrustStore(pki.caCert);
  const xml = wireMessage();
  out.message_bytes = Buffer.byteLength(xml);
  const data = Buffer.from(xml);
  const rsaKey: KeyObject = createPrivateKey(readFileSync(pki.gatewayKey));
  const signed = signCanonical(xml, rsa);
  const rsaRates = pairedRates({
    raw: () => cryptoSign('sha256', data, rsaKey),
    sign: () => signCanonical(xml, rsa),
  });
  out.raw_rsa_sign_per_s = rsaRates.raw;
  out.sign_per_s = rsaRates.sign;
  out.sign_vs_raw_rsa = rsaRates.ratio('sign', 'raw');

  // xml-crypto 6.3.2, same profile, same message: the baseline the issue measures against.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { SignedXml } = require('xml-crypto') as typeof import('xml-crypto');
  const pem = readFileSync(pki.gatewayKey, 'utf8');
  const certPem = readFileSync(pki.gatewayCert, 'utf8');
  const xcSign = () => {
    const sx = new SignedXml({ privateKey: pem, publicCert: certPem, signatureAlgorithm: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256', canonicalizationAlgorithm: 'http://www.w3.org/2001/10/xml-exc-c14n#' });
    sx.addReference({ xpath: '/*', transforms: ['http://www.w3.org/2000/09/xmldsig#enveloped-signature', 'http://www.w3.org/2001/10/xml-exc-c14n#'], digestAlgorithm: 'http://www.w3.org/2001/04/xmlenc#sha256', isEmptyUri: true });
    sx.computeSignature(xml, { prefix: 'ds', location: { reference: '/*', action: 'append' } });
    return sx.getSignedXml();
  };
  const xcVerify = (doc: string) => () => {
    const sx = new SignedXml({ publicCert: certPem });
    const m = /<ds:Signature[\s\S]*<\/ds:Signature>/.exec(doc);
    if (!m) throw new Error('the signed document has no ds:Signature');
    sx.loadSignature(m[0]);
    if (!sx.checkSignature(doc)) throw new Error('xml-crypto did not verify the signature');
  };
  const ec = ecdsaIdentity(dir, pki).key;
  const ecSigned = signCanonical(xml, ec);
  const verifyRates = pairedRates({
    ours: () => verifyEnveloped(signed, trust),
    ecdsa: () => verifyEnveloped(ecSigned, trust),
    xmlcrypto: xcVerify(signed),
    xcSign,
  }, 5, 400);
  out.verify_per_s = verifyRates.ours;
  out.xmlcrypto_sign_per_s = verifyRates.xcSign;
  out.xmlcrypto_verify_per_s = verifyRates.xmlcrypto;
  out.ecdsa_verify_per_s = verifyRates.ecdsa;
  out.verify_vs_xmlcrypto = verifyRates.ratio('ours', 'xmlcrypto');
  out.ecdsa_verify_vs_xmlcrypto = verifyRates.ratio('ecdsa', 'xmlcrypto');
  const ecRates = pairedRates({
    raw: () => cryptoSign('sha256', data, ec.privateKey),
    sign: () => signCanonical(xml, ec),
  });
  out.raw_ecdsa_sign_per_s = ecRates.raw;
  out.ecdsa_sign_per_s = ecRates.sign;
  out.ecdsa_sign_vs_raw_ecdsa = ecRates.ratio('sign', 'raw');

}

async function benchPublish(out: Results): Promise<void> {
  const conn = await amqp.connect(AMQP_URL, { noDelay: true });
  const ch = await conn.createConfirmChannel();
  const q = `bench.raw.${randomUUID()}`;
  await ch.assertQueue(q, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
  const body = Buffer.from(JSON.stringify({ messageId: randomUUID(), type: 'vis.application.create', orderingKey: 'X', correlationId: 'c' }));
  const n = 20000;
  const t0 = process.hrtime.bigint();
  await Promise.all(Array.from({ length: n }, () => new Promise<void>((res, rej) => {
    ch.publish('', q, body, { persistent: true }, (err: unknown) => (err ? rej(err instanceof Error ? err : new Error('the broker refused the message')) : res()));
  })));
  out.raw_publish_confirm_per_s = n / (Number(process.hrtime.bigint() - t0) / 1e9);
  await ch.deleteQueue(q);
  await conn.close();
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

function rssMb(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/**
 * The gateway under load: `davis serve` as a child process. With `withAudit` false the child is
 * `serve-without-audit.js`, the same gateway with its Art 34 records going nowhere: only
 * `accepted_per_s_without_audit` is written, the baseline of `audit_overhead_ratio`.
 */
async function benchGateway(pki: DevPkiFiles, dir: string, out: Results, total: number, concurrency: number, withAudit = true): Promise<void> {
  const logger = createLogger('warn');
  const mock = new MockCentralVis({
    host: '127.0.0.1', port: 0, tlsCertFile: pki.centralCert, tlsKeyFile: pki.centralKey, clientCaFile: pki.caCert,
    signingKey: loadSigningKey({ keyFile: pki.centralKey, certFile: pki.centralCert }), trust: loadTrustStore(pki.caCert), logger,
  });
  const { url: centralUrl } = await mock.start();
  const port = 18080 + Math.floor(Math.random() * 1000);
  const prefix = `bench.${randomUUID().slice(0, 8)}.`;
  const cfgFile = path.join(dir, withAudit ? 'gateway.json' : 'gateway-without-audit.json');
  const dataDir = path.join(dir, withAudit ? 'data' : 'data-without-audit');
  writeFileSync(cfgFile, JSON.stringify({
    mode: 'dev', dataDir, gateway: { port }, amqp: { url: AMQP_URL, prefix },
    signing: { keyFile: pki.gatewayKey, certFile: pki.gatewayCert, trust: pki.caCert },
    central: { url: centralUrl, caFile: pki.caCert, certFile: pki.gatewayCert, keyFile: pki.gatewayKey },
    log: { level: 'warn' },
  }));
  const child = spawn(process.execPath, [...(process.env.BENCH_GATEWAY_NODE_ARGS ?? '').split(' ').filter(Boolean), ...(withAudit ? [path.join(ROOT, 'bin', 'davis.js'), 'serve', '--config'] : [path.join(__dirname, 'serve-without-audit.js')]), cfgFile], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, DAVIS_PORT: String(port) } });
  try {
    await new Promise<void>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`gateway exited with ${code}`)));
      child.stdout.on('data', (d: Buffer) => { if (d.toString().includes('listening')) resolve(); });
    });
    const base = `http://127.0.0.1:${port}`;
    const payload = examplePayload();
    const latencies: number[] = [];
    let next = 0;
    const t0 = performance.now();
    await Promise.all(Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const i = next++;
        const body = JSON.stringify({ type: 'vis.application.create', payload: { ...payload, applicationNumber: `BENCH-${prefix.slice(6, 14).toUpperCase()}-${i}` } });
        const s = performance.now();
        const res = await fetch(`${base}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
        const answer = Buffer.from(await res.arrayBuffer()).toString();
        if (res.status !== 202) throw new Error(`message ${i}: HTTP ${res.status} ${answer.slice(0, 300)}`);
        latencies.push(performance.now() - s);
      }
    }));
    const acceptSecs = (performance.now() - t0) / 1000;
    if (!withAudit) {
      out.accepted_per_s_without_audit = total / acceptSecs;
      return;
    }
    const db = new Database(path.join(dataDir, 'journal.sqlite'), { readonly: true, fileMustExist: true });
    const count = db.prepare("SELECT count(*) AS n FROM messages WHERE state IN ('delivered','rejected','failed')");
    for (;;) {
      if ((count.get() as { n: number }).n >= total) break;
      if (performance.now() - t0 > 600000) throw new Error('messages not delivered within 10 minutes');
      await new Promise((r) => setTimeout(r, 50));
    }
    const deliverSecs = (performance.now() - t0) / 1000;
    const delivered = (db.prepare("SELECT count(*) AS n FROM messages WHERE state = 'delivered'").get() as { n: number }).n;
    db.close();
    latencies.sort((a, b) => a - b);
    out.load_messages = total;
    out.load_concurrency = concurrency;
    const acceptedPerS = total / acceptSecs;
    out.accepted_per_s = acceptedPerS;
    out.delivered_per_s = delivered / deliverSecs;
    out.delivered_count = delivered;
    out.accept_p50_ms = quantile(latencies, 0.5);
    out.accept_p99_ms = quantile(latencies, 0.99);
    out.gateway_rss_mb = rssMb(child.pid);
    out.accepted_vs_raw_publish = acceptedPerS / Number(out.raw_publish_confirm_per_s);
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    await mock.stop();
    const conn = await amqp.connect(AMQP_URL);
    const ch = await conn.createChannel();
    for (const q of allQueues(prefix, 8)) await ch.deleteQueue(q);
    await ch.deleteExchange(`${prefix}work`);
    await ch.deleteExchange(`${prefix}delay`);
    await conn.close();
  }
}

/**
 * `davis audit verify` over 1,000,000 records in a temporary SQLite journal, with a signed
 * checkpoint every 10,000 records exported beside it: the command as an auditor runs it
 * (its own process, the file read-only), timed from start to exit.
 */
async function benchAuditVerify(pki: DevPkiFiles, dir: string, out: Results, total = 1_000_000): Promise<void> {
  const data = path.join(dir, 'audit');
  const journal = new SqliteJournal(path.join(data, 'journal.sqlite'));
  const store = auditStoreOf(journal);
  const key = loadSigningKey({ keyFile: pki.gatewayKey, certFile: pki.gatewayCert });
  const cpDir = path.join(data, 'audit-checkpoints');
  const checkpointer = new Checkpointer({ store, signingKey: () => key, every: Number.MAX_SAFE_INTEGER, dir: cpDir, logger: createLogger('warn') });
  const event = (i: number): AuditEvent => ({
    operation: 'message.send', purpose: 'Reg. (EC) 767/2008 Art 9', dataCategories: ['applicant.surname', 'applicant.dateOfBirth', 'travelDocument.number'],
    clientId: 'uma-bench', authority: 'FI-MIGRI', messageId: randomUUID(), messageType: 'vis.application.create', outcome: 'delivered',
    contentDigest: 'ab'.repeat(32), correlationId: `bench-${i}`,
  });
  for (let i = 0; i < total; i += 10000) {
    await Promise.all(Array.from({ length: Math.min(10000, total - i) }, (_, j) => store.record(event(i + j))));
    await checkpointer.checkpoint();
  }
  await journal.close();
  const cfg = path.join(data, 'config.json');
  writeFileSync(cfg, JSON.stringify({ dataDir: data, log: { level: 'warn' } }));
  const t0 = performance.now();
  const res = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'davis.js'), 'audit', 'verify', '--config', cfg], { encoding: 'utf8' });
  const secs = (performance.now() - t0) / 1000;
  if (res.status !== 0) throw new Error(`davis audit verify exited ${res.status}: ${res.stdout}${res.stderr}`);
  out.audit_verify_records = total;
  out.audit_verify_records_per_s = total / secs;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { only: { type: 'string' }, messages: { type: 'string', default: '2000' }, concurrency: { type: 'string', default: '32' } } });
  const only = values.only;
  if (only && !['signing', 'publish', 'gateway', 'audit', 'xml'].includes(only)) {
    process.stderr.write('usage: npm run bench -- [--only signing|publish|gateway|audit|xml] [--messages N] [--concurrency N]\n');
    process.exit(2);
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'davis-bench-'));
  const pki = await createDevPki(path.join(dir, 'pki'));
  const out: Results = { node: process.version, cpus: os.cpus().length, date: new Date().toISOString() };
  try {
    if (!only || only === 'signing') await benchSigning(pki, dir, out);
    if (!only || only === 'publish' || only === 'gateway') await benchPublish(out);
    if (!only || only === 'gateway') {
      await benchGateway(pki, dir, out, Number(values.messages), Number(values.concurrency));
      // The same load on the same machine with the audit trail off: what the trail costs per message.
      await benchGateway(pki, dir, out, Number(values.messages), Number(values.concurrency), false);
      out.accepted_per_s_with_audit = out.accepted_per_s;
      out.audit_overhead_ratio = Number(out.accepted_per_s) / Number(out.accepted_per_s_without_audit);
    }
    if (!only || only === 'audit') await benchAuditVerify(pki, dir, out);
    if (!only || only === 'xml') await benchXml(pki, dir, wireMessage(), out);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const fmt = (v: number | string) => (typeof v === 'number' ? (Math.abs(v) < 10 ? v.toFixed(2) : Math.round(v).toLocaleString('en')) : v);
  for (const [k, v] of Object.entries(out)) process.stdout.write(`${k.padEnd(28)} ${fmt(v)}\n`);
  const file = path.join(ROOT, 'bench', 'results', only ? `latest-${only}.json` : 'latest.json');
  mkdirSync(path.dirname(file), { recursive: true });
  const rounded = Object.fromEntries(Object.entries(out).map(([k, v]) => [k, typeof v === 'number' ? Math.round(v * 100) / 100 : v]));
  writeFileSync(file, JSON.stringify(rounded, null, 2) + '\n');
  process.stdout.write(`\nwritten to ${path.relative(process.cwd(), file)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
