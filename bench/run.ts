/**
 * `npm run bench`: the gateway's figures beside the limits of this machine measured in the
 * same run (raw RSA/ECDSA signing and verification with Node crypto, raw confirmed publishing
 * with amqplib, xml-crypto as the XML-DSig baseline), and the figures of issue 13: CPU per
 * delivered message of each process (gateway, mock central, broker, load generator) read from
 * `/proc`, delivered/s at saturation, accept latency under an open-loop 300 messages/s, the
 * drain of a 50,000-message backlog after a central outage. Prints every figure and a table of
 * the targets, and writes bench/results/latest.json. `npm run bench -- --only <part>` runs one
 * part (signing, publish, gateway, audit, xml, load, drain, journal) and writes
 * bench/results/latest-<part>.json. See bench/README.md.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createPrivateKey, createPublicKey, randomUUID, sign as cryptoSign, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
import type { AuditEvent } from '../src/audit/audit';
import { Checkpointer } from '../src/audit/checkpoints';
import { auditStoreOf } from '../src/audit/open-audit';
import { SqliteJournal } from '../src/journal/journal-sqlite';
import { loadTemplates, messageBody } from '../src/load/payloads';
import { runLoad } from '../src/load/run';
import { AMQP_URL, brokerPid, cpuMs, freePort, GatewayProc, loadChild, MockProcess, ROOT, statusMb, type ChildSummary } from './procs';
import { benchXml } from './xml';

type Results = Record<string, number | string>;

/** The figure `k` of `out`, or undefined when no part wrote it. */
function figure(out: Results, k: string): number | string | undefined {
  return Object.hasOwn(out, k) ? out[k] : undefined;
}

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
  // Raw verification of the same bytes with the same keys: the floor each verify is compared with.
  const rsaPub = createPublicKey(rsaKey);
  const rsaSig = cryptoSign('sha256', data, rsaKey);
  const ecPub = createPublicKey(ec.privateKey);
  const ecSig = cryptoSign('sha256', data, { key: ec.privateKey, dsaEncoding: 'ieee-p1363' });
  const verifyRates = pairedRates({
    ours: () => verifyEnveloped(signed, trust),
    rawRsa: () => { if (!cryptoVerify('sha256', data, rsaPub, rsaSig)) throw new Error('raw RSA verify failed'); },
    ecdsa: () => verifyEnveloped(ecSigned, trust),
    rawEcdsa: () => { if (!cryptoVerify('sha256', data, { key: ecPub, dsaEncoding: 'ieee-p1363' }, ecSig)) throw new Error('raw ECDSA verify failed'); },
    xmlcrypto: xcVerify(signed),
    xcSign,
  }, 5, 400);
  out.raw_rsa_verify_per_s = verifyRates.rawRsa;
  out.raw_ecdsa_verify_per_s = verifyRates.rawEcdsa;
  out.verify_vs_raw_rsa = verifyRates.ratio('ours', 'rawRsa');
  out.ecdsa_verify_vs_raw_ecdsa = verifyRates.ratio('ecdsa', 'rawEcdsa');
  // What a delivered message cannot cost less than: one RSA-2048 signature and one verification.
  out.crypto_floor_ms = 1000 / rsaRates.raw + 1000 / verifyRates.rawRsa;
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

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Messages of a gateway's SQLite journal in a settled state (delivered, rejected, failed), read-only from the bench process. */
class JournalCounter {
  private db?: Database.Database;
  constructor(private readonly dataDir: string) {}

  private open(): Database.Database {
    this.db ??= new Database(path.join(this.dataDir, 'journal.sqlite'), { readonly: true, fileMustExist: true });
    return this.db;
  }

  byState(): Partial<Record<string, number>> {
    const rows = this.open().prepare("SELECT state, count(*) AS n FROM messages WHERE direction = 'outbound' GROUP BY state").all() as { state: string; n: number }[];
    return Object.fromEntries(rows.map((r) => [r.state, r.n]));
  }

  settled(): number {
    const s = this.byState();
    return (s.delivered ?? 0) + (s.rejected ?? 0) + (s.failed ?? 0);
  }

  /** Waits until at least `n` messages are settled; resolves with the time it happened (performance.now()). */
  async waitSettled(n: number, timeoutMs: number, what: string): Promise<number> {
    const end = performance.now() + timeoutMs;
    for (;;) {
      if (this.settled() >= n) return performance.now();
      if (performance.now() > end) throw new Error(`${what}: ${this.settled()} of ${n} messages settled within ${Math.round(timeoutMs / 1000)} s (${JSON.stringify(this.byState())})`);
      await sleep(100);
    }
  }

  close(): void {
    this.db?.close();
    this.db = undefined;
  }
}

/** CPU so far of the gateway, the mock, the broker (NaN without one), ms. */
function cpuOf(gw: GatewayProc, mock: MockProcess, broker: number | undefined): { gw: number; mock: number; broker: number } {
  return { gw: cpuMs(gw.pid), mock: cpuMs(mock.pid), broker: broker !== undefined ? cpuMs(broker) : NaN };
}

/** Peak resident set of every gateway with audit records the bench ran, MB. */
let gatewayRssPeak = 0;
function notePeak(gw: GatewayProc): void {
  gatewayRssPeak = Math.max(gatewayRssPeak, statusMb(gw.pid, 'VmHWM'));
}

/** The bench's key prefix for application numbers (fits the schema: capitals, digits, '-'). */
const keyPrefix = (tag: string) => `B${tag}-${randomUUID().slice(0, 8).toUpperCase()}`;

/** A short closed-loop warm-up (JIT, connections, queues), waited until delivered. */
async function warmUp(gw: GatewayProc, journal: JournalCounter, n: number): Promise<void> {
  const before = journal.settled();
  const s = await loadChild({ url: gw.url, keyPrefix: keyPrefix('W'), concurrency: 16, count: n });
  if (s.status['2xx'] !== n) throw new Error(`warm-up: ${s.status['2xx']} of ${n} accepted (${JSON.stringify(s.codes)} ${JSON.stringify(s.errorKinds)})`);
  await journal.waitSettled(before + n, 120000, 'warm-up');
}

/**
 * One measured load on a running gateway: CPU of every process before, the load generator as
 * a child process, then waiting until the journal shows every message settled, CPU after.
 */
async function measuredLoad(gw: GatewayProc, mock: MockProcess, journal: JournalCounter, load: { rate?: number; durationS?: number; concurrency?: number; count?: number }, what: string) {
  const broker = brokerPid();
  const settled0 = journal.settled();
  const delivered0 = journal.byState().delivered ?? 0;
  const c0 = cpuOf(gw, mock, broker);
  const s: ChildSummary = await loadChild({ url: gw.url, keyPrefix: keyPrefix(what.slice(0, 1).toUpperCase()), ...load });
  // Refusals (503 under pressure, …) are a result, not a failure of the bench: reported beside the figures.
  if (s.status['2xx'] === 0) throw new Error(`${what}: nothing accepted (${JSON.stringify(s.codes)} ${JSON.stringify(s.errorKinds)})`);
  const doneAt = await journal.waitSettled(settled0 + s.status['2xx'], 600000, what);
  const wallDone = Date.now() - (performance.now() - doneAt);
  const c1 = cpuOf(gw, mock, broker);
  const delivered = (journal.byState().delivered ?? 0) - delivered0;
  notePeak(gw);
  return {
    summary: s, delivered, deliverSecs: (wallDone - s.startedAt) / 1000, refused: s.sent - s.status['2xx'],
    gwMs: c1.gw - c0.gw, mockMs: c1.mock - c0.mock, brokerMs: c1.broker - c0.broker, loadgenMs: s.cpuMs,
  };
}

/**
 * The gateway at saturation: `davis serve`, the mock central and the load generator each a
 * process; `total` messages from `concurrency` clients in a closed loop after a warm-up.
 * CPU ms per delivered message of each process, delivered/s end to end.
 */
async function benchGateway(pki: DevPkiFiles, dir: string, mock: MockProcess, out: Results, total: number, concurrency: number): Promise<void> {
  const gw = await GatewayProc.start({ pki, dir, name: 'saturation', centralUrl: mock.url });
  const journal = new JournalCounter(gw.dataDir);
  try {
    await warmUp(gw, journal, 300);
    const m = await measuredLoad(gw, mock, journal, { concurrency, count: total }, 'saturation');
    out.load_messages = total;
    out.load_concurrency = concurrency;
    out.accepted_per_s = m.summary.status['2xx'] / m.summary.elapsedS;
    out.load_not_accepted = m.refused;
    out.delivered_count = m.delivered;
    out.delivered_per_s = m.delivered / m.deliverSecs;
    out.accept_p50_ms = m.summary.latencyMs.p50;
    out.accept_p99_ms = m.summary.latencyMs.p99;
    out.gateway_cpu_ms_per_msg = m.gwMs / m.delivered;
    out.mock_cpu_ms_per_msg = m.mockMs / m.delivered;
    out.broker_cpu_ms_per_msg = m.brokerMs / m.delivered;
    out.loadgen_cpu_ms_per_msg = m.loadgenMs / m.delivered;
    out.gateway_rss_mb = statusMb(gw.pid, 'VmRSS');
    if (figure(out, 'raw_publish_confirm_per_s') !== undefined) out.accepted_vs_raw_publish = m.summary.answeredPerS / Number(out.raw_publish_confirm_per_s);
  } finally {
    journal.close();
    await gw.stop();
  }
}

/**
 * What the audit trail costs: interleaved rounds of the same closed-loop load on a gateway with
 * its audit records and on the baseline without (`serve-without-audit.js`), each on a fresh
 * data folder and queue prefix, the order within a round alternating; per round accepted/s
 * with ÷ without, and gateway CPU per delivered message without ÷ with; the medians.
 */
async function benchAuditOverhead(pki: DevPkiFiles, dir: string, mock: MockProcess, out: Results, rounds: number, total: number, concurrency: number): Promise<void> {
  const accepted: number[] = [];
  const cpuRatio: number[] = [];
  const samples: Record<'with' | 'without', { acc: number[]; cpu: number[] }> = { with: { acc: [], cpu: [] }, without: { acc: [], cpu: [] } };
  for (let r = 0; r < rounds; r++) {
    const order: ('with' | 'without')[] = r % 2 ? ['without', 'with'] : ['with', 'without'];
    const got = { with: { acc: NaN, cpu: NaN }, without: { acc: NaN, cpu: NaN } };
    for (const variant of order) {
      const gw = await GatewayProc.start({ pki, dir, name: `audit-${r}-${variant}`, centralUrl: mock.url, withAudit: variant === 'with' });
      const journal = new JournalCounter(gw.dataDir);
      try {
        await warmUp(gw, journal, 100);
        const m = await measuredLoad(gw, mock, journal, { concurrency, count: total }, `audit round ${r + 1} ${variant}`);
        got[variant] = { acc: m.summary.status['2xx'] / m.summary.elapsedS, cpu: m.gwMs / m.delivered };
        samples[variant].acc.push(got[variant].acc);
        samples[variant].cpu.push(got[variant].cpu);
      } finally {
        journal.close();
        await gw.stop();
      }
    }
    accepted.push(got.with.acc / got.without.acc);
    cpuRatio.push(got.without.cpu / got.with.cpu);
  }
  out.audit_rounds = rounds;
  out.audit_round_messages = total;
  out.accepted_per_s_with_audit = median(samples.with.acc);
  out.accepted_per_s_without_audit = median(samples.without.acc);
  out.gateway_cpu_ms_per_msg_with_audit = median(samples.with.cpu);
  out.gateway_cpu_ms_per_msg_without_audit = median(samples.without.cpu);
  out.audit_overhead_ratio = median(accepted);
  out.audit_overhead_ratio_min = Math.min(...accepted);
  out.audit_overhead_ratio_max = Math.max(...accepted);
  out.audit_cpu_ratio = median(cpuRatio);
}

/**
 * Accept latency under an offered 300 messages/s, open loop (`src/load`): each request is sent
 * at its due time whatever the earlier answers, latency from the due time. A 3 s warm-up at
 * the same rate is discarded; the measured run lasts `seconds`.
 */
async function benchOpenLoop(pki: DevPkiFiles, dir: string, mock: MockProcess, out: Results, rate: number, seconds: number): Promise<void> {
  const gw = await GatewayProc.start({ pki, dir, name: 'open-loop', centralUrl: mock.url });
  const journal = new JournalCounter(gw.dataDir);
  try {
    const w = await loadChild({ url: gw.url, keyPrefix: keyPrefix('W'), rate, durationS: 3 });
    await journal.waitSettled(w.status['2xx'], 120000, 'open-loop warm-up');
    const m = await measuredLoad(gw, mock, journal, { rate, durationS: seconds }, `open loop at ${rate}/s`);
    const s = m.summary;
    out.load_offered_per_s = rate;
    out.load_seconds = seconds;
    out.load_sent = s.sent;
    out.load_not_accepted_at_300 = m.refused;
    out.accept_p50_ms_at_300 = s.latencyMs.p50;
    out.accept_p90_ms_at_300 = s.latencyMs.p90;
    out.accept_p99_ms_at_300 = s.latencyMs.p99;
    out.accept_p999_ms_at_300 = s.latencyMs.p999;
    out.accept_max_ms_at_300 = s.latencyMs.max;
    out.loadgen_max_send_lag_ms_at_300 = s.maxSendLagMs;
    out.gateway_cpu_ms_per_msg_at_300 = m.gwMs / m.delivered;
    out.mock_cpu_ms_per_msg_at_300 = m.mockMs / m.delivered;
    out.delivered_per_s_at_300 = m.delivered / m.deliverSecs;
  } finally {
    journal.close();
    await gw.stop();
  }
}

/**
 * The backlog of a central outage: a gateway whose central address has nothing listening
 * accepts `apps × perApp` messages (per application a `vis.application.create` then
 * `vis.application.amend`s, each round of one message per application accepted before the
 * next round starts, so the acceptance order per application is known); then the mock central
 * starts on that address, and the time until the journal shows every message settled is the
 * drain. The mock's record of arrivals must show each application's messages in acceptance
 * order, every one once and accepted by central; otherwise `drain_order_kept` is `no` and the
 * bench exits 1.
 */
async function benchDrain(pki: DevPkiFiles, dir: string, out: Results, apps: number, perApp: number): Promise<void> {
  const port = await freePort();
  const gw = await GatewayProc.start({ pki, dir, name: 'drain', centralUrl: `https://127.0.0.1:${port}/vis/v1/messages` });
  const journal = new JournalCounter(gw.dataDir);
  let mock: MockProcess | undefined;
  try {
    const [create] = loadTemplates(['vis.application.create']);
    const [amend] = loadTemplates(['vis.application.amend']);
    const prefix = keyPrefix('D');
    const where = new Map<string, { app: number; seq: number }>();
    const t0 = performance.now();
    for (let seq = 0; seq < perApp; seq++) {
      // One message per application; refused ones (503 under pressure) again, same Idempotency-Key.
      let todo = Array.from({ length: apps }, (_, a) => a);
      for (let attempt = 0; todo.length && attempt < 10; attempt++) {
        const failed: number[] = [];
        const list = todo;
        await runLoad({
          url: gw.url, concurrency: 64, count: list.length,
          body: (i) => messageBody(seq === 0 ? create : amend, `${prefix}-${list[i]}`),
          idempotencyKey: (i) => `${prefix}-${list[i]}-${seq}`,
          onAnswer: (i, status, body) => {
            if (status === 202) where.set((JSON.parse(body) as { id: string }).id, { app: list[i], seq });
            else failed.push(list[i]);
          },
        });
        todo = failed;
        if (failed.length) await sleep(1000);
      }
      if (todo.length) throw new Error(`drain: ${todo.length} messages of round ${seq + 1} not accepted`);
    }
    const total = apps * perApp;
    if (where.size !== total) throw new Error(`drain: ${where.size} distinct ids accepted for ${total} messages`);
    out.drain_messages = total;
    out.drain_applications = apps;
    out.drain_accept_per_s = total / ((performance.now() - t0) / 1000);
    const broker = brokerPid();
    const g0 = cpuMs(gw.pid);
    const b0 = broker !== undefined ? cpuMs(broker) : NaN;
    mock = await MockProcess.start(path.join(dir, 'pki'), dir, port);
    const back = performance.now();
    const m0 = cpuMs(mock.pid);
    let first: number | undefined;
    const end = back + 900000;
    for (;;) {
      const n = journal.settled();
      if (n > 0 && first === undefined) first = performance.now();
      if (n >= total) break;
      if (performance.now() > end) throw new Error(`drain: ${n} of ${total} settled within 15 minutes (${JSON.stringify(journal.byState())})`);
      await sleep(100);
    }
    const secs = (performance.now() - back) / 1000;
    out.drain_50k_s = secs;
    out.drain_50k_per_s = total / secs;
    out.drain_first_delivery_s = ((first ?? performance.now()) - back) / 1000;
    const states = journal.byState();
    out.drain_delivered = states.delivered ?? 0;
    out.drain_gateway_cpu_ms_per_msg = (cpuMs(gw.pid) - g0) / total;
    out.drain_mock_cpu_ms_per_msg = (cpuMs(mock.pid) - m0) / total;
    out.drain_broker_cpu_ms_per_msg = ((broker !== undefined ? cpuMs(broker) : NaN) - b0) / total;
    notePeak(gw);

    // Order: central's arrivals, per application, in acceptance order; each once; all accepted.
    const received = await mock.received();
    const lastSeq = new Map<number, number>();
    const problems: string[] = [];
    let foreign = 0;
    for (const r of received) {
      const w = where.get(r.id);
      if (!w) { foreign++; continue; }
      const prev = lastSeq.get(w.app) ?? -1;
      if (w.seq !== prev + 1 && problems.length < 5) problems.push(`application ${w.app}: message ${w.seq + 1} arrived after message ${prev + 1}`);
      lastSeq.set(w.app, Math.max(prev, w.seq));
      if (r.code !== 'OK' && problems.length < 5) problems.push(`application ${w.app} message ${w.seq + 1}: central answered ${r.code}`);
    }
    if (received.length - foreign !== total && problems.length < 5) problems.push(`central received ${received.length - foreign} of ${total} messages`);
    if ((states.delivered ?? 0) !== total && problems.length < 5) problems.push(`journal: ${JSON.stringify(states)}`);
    out.drain_order_kept = problems.length ? 'no' : 'yes';
    if (problems.length) out.drain_problems = problems.join('; ');
  } finally {
    journal.close();
    await mock?.stop();
    await gw.stop();
  }
}

/** Crypto floor when the signing part did not run: raw RSA-2048 sign + verify of the 4 KB message, 1 s each. */
function quickCryptoFloor(pki: DevPkiFiles, out: Results): void {
  const data = Buffer.from(wireMessage());
  const key = createPrivateKey(readFileSync(pki.gatewayKey));
  const pub = createPublicKey(key);
  const sig = cryptoSign('sha256', data, key);
  out.raw_rsa_sign_per_s = rate(() => cryptoSign('sha256', data, key), 1000);
  out.raw_rsa_verify_per_s = rate(() => cryptoVerify('sha256', data, pub, sig), 1000);
  out.crypto_floor_ms = 1000 / out.raw_rsa_sign_per_s + 1000 / out.raw_rsa_verify_per_s;
}

/** `--only journal`: bench/journal-scale.ts when it is there. */
async function benchJournal(out: Results): Promise<void> {
  const file = path.join(__dirname, 'journal-scale.js');
  if (!existsSync(file)) {
    process.stderr.write(`journal part skipped: ${path.relative(process.cwd(), file)} is missing (bench/journal-scale.ts not built)\n`);
    out.journal_scale = 'skipped: bench/journal-scale.ts missing';
    return;
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mod = require(file) as { benchJournalScale(out: Results): Promise<void> };
  await mod.benchJournalScale(out);
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

/** One row of the targets table: a figure, what it is compared with, the target. */
interface Row {
  readonly figure: string;
  readonly value: string;
  readonly baseline?: string;
  readonly ratio?: string;
  /** The figure the target applies to (the ratio when there is one, else the value), and the bound. */
  readonly target?: { readonly op: '>=' | '<=' | '='; readonly v: number | string };
}

const ROWS: readonly Row[] = [
  { figure: 'sign RSA-2048 /s', value: 'sign_per_s', baseline: 'raw_rsa_sign_per_s', ratio: 'sign_vs_raw_rsa', target: { op: '>=', v: 0.95 } },
  { figure: 'verify RSA-2048 /s', value: 'verify_per_s', baseline: 'raw_rsa_verify_per_s', ratio: 'verify_vs_raw_rsa', target: { op: '>=', v: 0.5 } },
  { figure: 'verify RSA vs xml-crypto', value: 'verify_per_s', baseline: 'xmlcrypto_verify_per_s', ratio: 'verify_vs_xmlcrypto', target: { op: '>=', v: 20 } },
  { figure: 'sign ECDSA P-256 /s', value: 'ecdsa_sign_per_s', baseline: 'raw_ecdsa_sign_per_s', ratio: 'ecdsa_sign_vs_raw_ecdsa', target: { op: '>=', v: 0.75 } },
  { figure: 'verify ECDSA P-256 /s', value: 'ecdsa_verify_per_s', baseline: 'raw_ecdsa_verify_per_s', ratio: 'ecdsa_verify_vs_raw_ecdsa', target: { op: '>=', v: 0.5 } },
  { figure: 'verify ECDSA vs xml-crypto RSA', value: 'ecdsa_verify_per_s', baseline: 'xmlcrypto_verify_per_s', ratio: 'ecdsa_verify_vs_xmlcrypto', target: { op: '>=', v: 20 } },
  { figure: 'gateway CPU ms/msg (vs crypto floor)', value: 'gateway_cpu_ms_per_msg', baseline: 'crypto_floor_ms', ratio: 'gateway_cpu_vs_crypto_floor', target: { op: '<=', v: 2 } },
  { figure: 'mock central CPU ms/msg', value: 'mock_cpu_ms_per_msg', target: { op: '<=', v: 1 } },
  { figure: 'broker CPU ms/msg', value: 'broker_cpu_ms_per_msg' },
  { figure: 'load generator CPU ms/msg', value: 'loadgen_cpu_ms_per_msg' },
  { figure: 'delivered /s end to end', value: 'delivered_per_s', target: { op: '>=', v: 1000 } },
  { figure: 'accepted /s (vs raw publish)', value: 'accepted_per_s', baseline: 'raw_publish_confirm_per_s', ratio: 'accepted_vs_raw_publish' },
  { figure: 'accept p50 ms at 300/s open loop', value: 'accept_p50_ms_at_300' },
  { figure: 'accept p99 ms at 300/s open loop', value: 'accept_p99_ms_at_300', target: { op: '<=', v: 25 } },
  { figure: 'accept p99.9 ms at 300/s open loop', value: 'accept_p999_ms_at_300' },
  { figure: 'drain of 50,000 queued, s', value: 'drain_50k_s' },
  { figure: 'drain messages/s', value: 'drain_50k_per_s' },
  { figure: 'drain order per application kept', value: 'drain_order_kept', target: { op: '=', v: 'yes' } },
  { figure: 'gateway RSS peak MB', value: 'gateway_rss_peak_mb', target: { op: '<=', v: 250 } },
  { figure: 'accepted /s with audit (vs without)', value: 'accepted_per_s_with_audit', baseline: 'accepted_per_s_without_audit', ratio: 'audit_overhead_ratio', target: { op: '>=', v: 0.9 } },
  { figure: 'audit verify records/s', value: 'audit_verify_records_per_s' },
  { figure: 'XML bytes/s worst hostile (vs 4 KB)', value: 'xml_bytes_per_s_hostile_min', baseline: 'xml_bytes_per_s_4k', ratio: 'xml_hostile_ratio', target: { op: '>=', v: 0.5 } },
];

const fmt = (v: number | string | undefined): string => {
  if (v === undefined) return '';
  if (typeof v === 'string') return v;
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  return a < 10 ? v.toFixed(2) : a < 100 ? v.toFixed(1) : Math.round(v).toLocaleString('en');
};

/** The table of figures with their baselines, ratios and targets, as text. */
export function targetsTable(out: Results): string {
  const rows = ROWS.filter((r) => figure(out, r.value) !== undefined).map((r) => {
    const judged = figure(out, r.ratio ?? r.value);
    let met = '';
    if (r.target && judged !== undefined) {
      const t = r.target;
      const ok = t.op === '=' ? judged === t.v : typeof judged === 'number' && (t.op === '>=' ? judged >= Number(t.v) : judged <= Number(t.v));
      met = ok ? 'yes' : 'NO';
    }
    return [r.figure, fmt(out[r.value]), r.baseline ? fmt(figure(out, r.baseline)) : '', r.ratio ? fmt(figure(out, r.ratio)) : '', r.target ? `${r.ratio ? 'ratio ' : ''}${r.target.op === '=' ? '' : r.target.op.replace('>=', '≥ ').replace('<=', '≤ ')}${r.target.v}` : '', met];
  });
  const head = ['figure', 'value', 'baseline', 'ratio', 'target', 'met'];
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join('  ').trimEnd() + '\n';
  return line(head) + line(w.map((n) => '-'.repeat(n))) + rows.map(line).join('');
}

const PARTS = ['signing', 'publish', 'gateway', 'audit', 'xml', 'load', 'drain', 'journal'] as const;
const USAGE = `usage: npm run bench -- [--only ${PARTS.join('|')}] [--messages N] [--concurrency N] [--audit-rounds N] [--audit-messages N] [--load-seconds S] [--drain-apps N] [--drain-per-app N]\n`;

async function main(): Promise<void> {
  let values: Record<string, string | undefined>;
  try {
    ({ values } = parseArgs({
      options: {
        only: { type: 'string' }, messages: { type: 'string', default: '4000' }, concurrency: { type: 'string', default: '32' },
        'audit-rounds': { type: 'string', default: '5' }, 'audit-messages': { type: 'string', default: '600' },
        'load-seconds': { type: 'string', default: '20' }, 'drain-apps': { type: 'string', default: '5000' }, 'drain-per-app': { type: 'string', default: '10' },
      },
    }) as { values: Record<string, string | undefined> });
  } catch (err) {
    process.stderr.write(`bench: ${(err as Error).message.split('\n')[0]}\n${USAGE}`);
    process.exit(2);
  }
  const only = values.only;
  const num = (k: string) => {
    const n = Number(values[k]);
    if (!Number.isInteger(n) || n <= 0) {
      process.stderr.write(`bench: --${k} "${values[k]}": must be a positive whole number\n${USAGE}`);
      process.exit(2);
    }
    return n;
  };
  if (only && !(PARTS as readonly string[]).includes(only)) {
    process.stderr.write(USAGE);
    process.exit(2);
  }
  const want = (p: (typeof PARTS)[number]) => !only || only === p;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'davis-bench-'));
  const pki = await createDevPki(path.join(dir, 'pki'));
  const out: Results = { node: process.version, cpus: os.cpus().length, date: new Date().toISOString() };
  const t0 = performance.now();
  const step = (name: string) => process.stderr.write(`bench: ${name} (${Math.round((performance.now() - t0) / 1000)} s)\n`);
  let mock: MockProcess | undefined;
  let failure: Error | undefined;
  try {
    if (want('signing')) { step('signing'); await benchSigning(pki, dir, out); }
    if (want('publish') || want('gateway')) { step('publish'); await benchPublish(out); }
    if (want('gateway') || want('load')) {
      if (figure(out, 'crypto_floor_ms') === undefined) quickCryptoFloor(pki, out);
      const m = await MockProcess.start(path.join(dir, 'pki'), dir);
      mock = m;
      if (want('gateway')) {
        step('gateway at saturation');
        await benchGateway(pki, dir, m, out, num('messages'), num('concurrency'));
        out.gateway_cpu_vs_crypto_floor = Number(out.gateway_cpu_ms_per_msg) / Number(out.crypto_floor_ms);
        await m.reset();
        step('audit overhead rounds');
        await benchAuditOverhead(pki, dir, m, out, num('audit-rounds'), num('audit-messages'), num('concurrency'));
        await m.reset();
      }
      if (want('load')) {
        step('open loop at 300/s');
        await benchOpenLoop(pki, dir, m, out, 300, num('load-seconds'));
      }
    }
    await mock?.stop();
    mock = undefined;
    if (want('drain')) { step('drain'); await benchDrain(pki, dir, out, num('drain-apps'), num('drain-per-app')); }
    if (want('audit')) { step('audit verify'); await benchAuditVerify(pki, dir, out); }
    if (want('xml')) { step('xml'); await benchXml(pki, dir, wireMessage(), out); }
    if (want('journal')) { step('journal'); await benchJournal(out); }
  } catch (err) {
    // The figures measured so far are still printed, and written beside latest.json (never over it).
    failure = err instanceof Error ? err : new Error(String(err));
    out.bench_failed = failure.message;
  } finally {
    await mock?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  if (gatewayRssPeak > 0) out.gateway_rss_peak_mb = gatewayRssPeak;
  out.bench_seconds = (performance.now() - t0) / 1000;
  for (const [k, v] of Object.entries(out)) process.stdout.write(`${k.padEnd(40)} ${fmt(v)}\n`);
  process.stdout.write(`\n${targetsTable(out)}`);
  const name = `latest${only ? `-${only}` : ''}${failure ? '-failed' : ''}.json`;
  const file = path.join(ROOT, 'bench', 'results', name);
  mkdirSync(path.dirname(file), { recursive: true });
  const rounded = Object.fromEntries(Object.entries(out).map(([k, v]) => [k, typeof v === 'number' ? Math.round(v * 100) / 100 : v]));
  writeFileSync(file, JSON.stringify(rounded, null, 2) + '\n');
  process.stdout.write(`\nwritten to ${path.relative(process.cwd(), file)}\n`);
  if (failure) throw failure;
  if (out.drain_order_kept === 'no') {
    process.stderr.write(`\nbench: ORDER BROKEN in the drain: ${String(out.drain_problems)}\n`);
    process.exit(1);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
