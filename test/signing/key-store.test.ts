import * as fs from 'node:fs';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import { X509Certificate, createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import forge from 'node-forge';
import pino, { type Logger } from 'pino';
import type { DavisError } from '../../src/errors/errors';
import { SigningKeyStore, TrustStoreHolder, type KeyReloadedEvent } from '../../src/signing/key-store';
import { createDevPki, issueCertificate, type DevPkiFiles } from '../../src/dev/dev-pki';
import { signEnveloped, verifyEnveloped } from '../../src/signing/xmldsig';
import { cleanup, codeOf, makeCa, makeSigner, tempDir } from './helpers';

const DAY_MS = 86_400_000;

/** A pino logger whose lines are parsed into `lines`. */
function captureLogger(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString('utf8').split('\n')) if (l.trim()) lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), lines };
}

/** Resolves with the first emission of `event` for which `pred` holds; rejects after `ms`. */
function waitFor<T>(emitter: NodeJS.EventEmitter, event: string, pred: (v: T) => boolean = () => true, ms = 5000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.off(event, on);
      reject(new Error(`no ${event} within ${ms} ms`));
    }, ms);
    const on = (v: T): void => {
      if (!pred(v)) return;
      clearTimeout(timer);
      emitter.off(event, on);
      resolve(v);
    };
    emitter.on(event, on);
  });
}

let dir: string;
let pki: DevPkiFiles;
let ca: { certificate: X509Certificate; privateKey: KeyObject };

/** A new gateway-like key pair issued by the dev CA, as PEM strings. */
function newPair(opts: { notBefore?: Date; notAfter?: Date; days?: number } = {}): { keyPem: string; certPem: string; cert: X509Certificate } {
  const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const cert = issueCertificate({
    subject: { commonName: 'davis-gateway', organizationalUnit: 'gateway' }, publicKey: pair.publicKey,
    issuer: ca, keyUsage: ['digitalSignature'], ...opts,
  });
  return { keyPem: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, certPem: cert.toString(), cert };
}

/** Writes to a temporary name in the same folder and renames over `file`, as cert tools do. */
function replace(file: string, data: string | Buffer): void {
  const tmp = `${file}.tmp-${process.hrtime.bigint()}`;
  fs.writeFileSync(tmp, data);
  fs.renameSync(tmp, file);
}

/** A folder with a PEM key + certificate from `pair`. */
function pemFolder(tag: string, pair: { keyPem: string; certPem: string }): { keyFile: string; certFile: string } {
  const d = path.join(dir, `${tag}-${process.hrtime.bigint()}`);
  fs.mkdirSync(d);
  const keyFile = path.join(d, 'gateway.key.pem');
  const certFile = path.join(d, 'gateway.crt.pem');
  fs.writeFileSync(keyFile, pair.keyPem);
  fs.writeFileSync(certFile, pair.certPem);
  return { keyFile, certFile };
}

function p12Of(pair: { keyPem: string; certPem: string }, passphrase: string): Buffer {
  const asn = forge.pkcs12.toPkcs12Asn1(
    forge.pki.privateKeyFromPem(createPrivateKey(pair.keyPem).export({ type: 'pkcs1', format: 'pem' }) as string),
    [forge.pki.certificateFromPem(pair.certPem), forge.pki.certificateFromPem(ca.certificate.toString())],
    passphrase, { algorithm: '3des' },
  );
  return Buffer.from(forge.asn1.toDer(asn).getBytes(), 'binary');
}

const stores: { close(): void }[] = [];
function track<T extends { close(): void }>(s: T): T {
  stores.push(s);
  return s;
}

beforeAll(async () => {
  dir = tempDir('keystore');
  pki = await createDevPki(path.join(dir, 'pki'));
  ca = { certificate: new X509Certificate(fs.readFileSync(pki.caCert)), privateKey: createPrivateKey(fs.readFileSync(pki.caKey)) };
});
afterEach(() => {
  for (const s of stores.splice(0)) s.close();
});
afterAll(() => cleanup(dir));

describe('SigningKeyStore: loading', () => {
  it('loads a PEM key and certificate', () => {
    const { logger } = captureLogger();
    const store = track(new SigningKeyStore({ keyFile: pki.gatewayKey, certFile: pki.gatewayCert, logger, watch: false }));
    expect(store.current().certificate.fingerprint256).toBe(new X509Certificate(fs.readFileSync(pki.gatewayCert)).fingerprint256);
    expect(store.current().algorithm).toBe('rsa-sha256');
    expect(store.files()).toEqual([pki.gatewayKey, pki.gatewayCert]);
  });

  it('loads a PKCS#12 file with its password, and refuses a wrong password with DAVIS_ERR_PKI_KEY', () => {
    const { logger } = captureLogger();
    const store = track(new SigningKeyStore({ p12File: pki.gatewayP12, passphrase: pki.gatewayP12Passphrase, logger, watch: false }));
    expect(store.current().certificate.fingerprint256).toBe(new X509Certificate(fs.readFileSync(pki.gatewayCert)).fingerprint256);
    expect(store.current().chain.map((c) => c.fingerprint256)).toEqual([ca.certificate.fingerprint256]);
    expect(codeOf(() => new SigningKeyStore({ p12File: pki.gatewayP12, passphrase: 'wrong', logger, watch: false }))).toBe('DAVIS_ERR_PKI_KEY');
  });

  it('refuses to start with an expired certificate: DAVIS_ERR_PKI_EXPIRED', () => {
    const { logger } = captureLogger();
    const expired = pemFolder('expired', newPair({ notBefore: new Date(Date.now() - 40 * DAY_MS), notAfter: new Date(Date.now() - DAY_MS) }));
    expect(codeOf(() => new SigningKeyStore({ ...expired, logger, watch: false }))).toBe('DAVIS_ERR_PKI_EXPIRED');
    // the same through the injected clock: a valid certificate, a clock past its end
    const later = () => new Date(Date.now() + 400 * DAY_MS);
    expect(codeOf(() => new SigningKeyStore({ keyFile: pki.gatewayKey, certFile: pki.gatewayCert, logger, watch: false, now: later })))
      .toBe('DAVIS_ERR_PKI_EXPIRED');
  });

  it('refuses a certificate of another key: DAVIS_ERR_PKI_MISMATCH', () => {
    const { logger } = captureLogger();
    expect(codeOf(() => new SigningKeyStore({ keyFile: pki.centralKey, certFile: pki.gatewayCert, logger, watch: false })))
      .toBe('DAVIS_ERR_PKI_MISMATCH');
  });

  it('refuses missing files: DAVIS_ERR_PKI_KEY', () => {
    const { logger } = captureLogger();
    expect(codeOf(() => new SigningKeyStore({ keyFile: path.join(dir, 'nope.pem'), certFile: pki.gatewayCert, logger, watch: false })))
      .toBe('DAVIS_ERR_PKI_KEY');
  });
});

describe('SigningKeyStore: reloading', () => {
  it('reload() (what SIGHUP calls) picks up a new pair and logs serial, fingerprint and notAfter', () => {
    const { logger, lines } = captureLogger();
    const first = newPair();
    const files = pemFolder('direct', first);
    const store = track(new SigningKeyStore({ ...files, logger, watch: false }));
    const events: KeyReloadedEvent[] = [];
    store.on('reloaded', (e) => events.push(e));

    expect(store.reload()).toBe(true); // same files: succeeds, nothing changed
    expect(events[0].changed).toBe(false);

    const second = newPair();
    replace(files.keyFile, second.keyPem);
    replace(files.certFile, second.certPem);
    expect(store.reload()).toBe(true);
    expect(store.current().certificate.fingerprint256).toBe(second.cert.fingerprint256);
    expect(events[1]).toMatchObject({
      changed: true,
      previous: { fingerprint: first.cert.fingerprint256 },
      current: { fingerprint: second.cert.fingerprint256, serial: second.cert.serialNumber },
    });
    const info = lines.filter((l) => l.event === 'signing-key-reloaded');
    expect(info).toHaveLength(2);
    expect(info[1]).toMatchObject({
      level: 30, changed: true, serial: second.cert.serialNumber, fingerprint: second.cert.fingerprint256,
      notAfter: new Date(second.cert.validTo).toISOString(),
    });
    expect(typeof info[1].secondsUntilExpiry).toBe('number');
    expect(JSON.stringify(info)).not.toContain('davis-gateway'); // no subject names in the log
  });

  it('a failed reload keeps the old key, warns with the code and emits reload-failed', () => {
    const { logger, lines } = captureLogger();
    const first = newPair();
    const files = pemFolder('failed', first);
    const store = track(new SigningKeyStore({ ...files, logger, watch: false }));
    const failures: DavisError[] = [];
    store.on('reload-failed', (e) => failures.push(e));

    replace(files.certFile, newPair().certPem); // certificate of another key
    expect(store.reload()).toBe(false);
    const expired = newPair({ notBefore: new Date(Date.now() - 10 * DAY_MS), notAfter: new Date(Date.now() - DAY_MS) });
    replace(files.keyFile, expired.keyPem);
    replace(files.certFile, expired.certPem);
    expect(store.reload()).toBe(false);
    fs.rmSync(files.keyFile);
    expect(store.reload()).toBe(false);

    expect(failures.map((e) => e.code)).toEqual(['DAVIS_ERR_PKI_MISMATCH', 'DAVIS_ERR_PKI_EXPIRED', 'DAVIS_ERR_PKI_KEY']);
    expect(store.lastReloadError?.code).toBe('DAVIS_ERR_PKI_KEY');
    expect(store.current().certificate.fingerprint256).toBe(first.cert.fingerprint256);
    const warns = lines.filter((l) => l.event === 'signing-key-reload-failed');
    expect(warns.map((l) => [l.level, l.code])).toEqual([
      [40, 'DAVIS_ERR_PKI_MISMATCH'], [40, 'DAVIS_ERR_PKI_EXPIRED'], [40, 'DAVIS_ERR_PKI_KEY'],
    ]);
    expect(warns[0]).toMatchObject({ kept: { fingerprint: first.cert.fingerprint256 } });
    // the old key still signs
    expect(verifyEnveloped(signEnveloped('<m/>', store.current()), { anchors: [ca.certificate] }).certificate.fingerprint256)
      .toBe(first.cert.fingerprint256);

    fs.writeFileSync(files.keyFile, first.keyPem);
    replace(files.certFile, first.certPem);
    expect(store.reload()).toBe(true);
    expect(store.lastReloadError).toBeNull();
  });

  it('reloads by itself when the files are replaced by rename', async () => {
    const { logger } = captureLogger();
    const files = pemFolder('watch', newPair());
    const store = track(new SigningKeyStore({ ...files, logger, debounceMs: 100 }));
    const second = newPair();
    const reloaded = waitFor<KeyReloadedEvent>(store, 'reloaded', (e) => e.current.fingerprint === second.cert.fingerprint256);
    replace(files.keyFile, second.keyPem);
    replace(files.certFile, second.certPem);
    await reloaded;
    expect(store.current().certificate.fingerprint256).toBe(second.cert.fingerprint256);
  });

  it('reloads a replaced PKCS#12 file', async () => {
    const { logger } = captureLogger();
    const d = path.join(dir, `p12-${process.hrtime.bigint()}`);
    fs.mkdirSync(d);
    const p12File = path.join(d, 'gateway.p12');
    fs.writeFileSync(p12File, p12Of(newPair(), 's3cret'));
    const store = track(new SigningKeyStore({ p12File, passphrase: 's3cret', logger, debounceMs: 100 }));
    const second = newPair();
    const reloaded = waitFor<KeyReloadedEvent>(store, 'reloaded', (e) => e.current.fingerprint === second.cert.fingerprint256);
    replace(p12File, p12Of(second, 's3cret'));
    await reloaded;
    expect(store.current().chain).toHaveLength(1);
  });

  it('keeps the old key when a broken file replaces a good one, and recovers on the next change', async () => {
    const { logger } = captureLogger();
    const first = newPair();
    const files = pemFolder('broken', first);
    const store = track(new SigningKeyStore({ ...files, logger, debounceMs: 100 }));
    const failed = waitFor<DavisError>(store, 'reload-failed');
    replace(files.certFile, '-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n');
    expect((await failed).code).toBe('DAVIS_ERR_PKI_KEY');
    expect(store.current().certificate.fingerprint256).toBe(first.cert.fingerprint256);

    // a file briefly missing: removed, then the new one appears
    const second = newPair();
    const reloaded = waitFor<KeyReloadedEvent>(store, 'reloaded', (e) => e.current.fingerprint === second.cert.fingerprint256);
    fs.rmSync(files.certFile);
    replace(files.keyFile, second.keyPem);
    await new Promise((r) => setTimeout(r, 300)); // the debounced reload runs while the cert is missing
    expect(store.current().certificate.fingerprint256).toBe(first.cert.fingerprint256);
    replace(files.certFile, second.certPem);
    await reloaded;
    expect(store.current().certificate.fingerprint256).toBe(second.cert.fingerprint256);
  });

  it('ignores changes to other files in the folder', async () => {
    const { logger } = captureLogger();
    const files = pemFolder('other', newPair());
    const store = track(new SigningKeyStore({ ...files, logger, debounceMs: 50 }));
    let events = 0;
    store.on('reloaded', () => events++);
    store.on('reload-failed', () => events++);
    replace(path.join(path.dirname(files.keyFile), 'unrelated.txt'), 'x');
    await new Promise((r) => setTimeout(r, 400));
    expect(events).toBe(0);
  });

  it('close() stops watching', async () => {
    const { logger } = captureLogger();
    const first = newPair();
    const files = pemFolder('closed', first);
    const store = new SigningKeyStore({ ...files, logger, debounceMs: 50 });
    store.close();
    const second = newPair();
    replace(files.keyFile, second.keyPem);
    replace(files.certFile, second.certPem);
    await new Promise((r) => setTimeout(r, 400));
    expect(store.current().certificate.fingerprint256).toBe(first.cert.fingerprint256);
  });

  it('signing during reloads never throws, and every signature verifies under one of the two certificates', async () => {
    const { logger } = captureLogger();
    const a = newPair();
    const b = newPair();
    const files = pemFolder('concurrent', a);
    const store = track(new SigningKeyStore({ ...files, logger, debounceMs: 20 }));
    const trust = { anchors: [ca.certificate] };
    const allowed = new Set([a.cert.fingerprint256, b.cert.fingerprint256]);
    const signed: string[] = [];
    let stop = false;

    const signer = async (n: number): Promise<void> => {
      for (let i = 0; !stop; i++) {
        const key = store.current(); // fetched at the start of the "message"
        await new Promise((r) => setImmediate(r)); // a reload may happen while the message is in flight
        signed.push(signEnveloped(`<m n="${n}-${i}"><v>${i}</v></m>`, key));
      }
    };
    const swapper = async (): Promise<void> => {
      for (let round = 0; round < 12; round++) {
        const p = round % 2 ? a : b;
        replace(files.keyFile, p.keyPem); // key and cert are briefly mismatched here
        if (round % 3 === 0) store.reload(); // SIGHUP in the middle of a replacement
        replace(files.certFile, p.certPem);
        if (round % 4 === 1) replace(files.certFile, 'garbage'); // a broken write, then the good one
        replace(files.certFile, p.certPem);
        store.reload();
        await new Promise((r) => setTimeout(r, 30));
      }
      stop = true;
    };
    await Promise.all([signer(1), signer(2), signer(3), swapper()]);

    expect(signed.length).toBeGreaterThan(50);
    const seen = new Set<string>();
    for (const xml of signed) {
      const fp = verifyEnveloped(xml, trust).certificate.fingerprint256;
      expect(allowed.has(fp)).toBe(true);
      seen.add(fp);
    }
    expect(seen.size).toBe(2);
    expect(store.current().certificate.fingerprint256).toBe(a.cert.fingerprint256); // the last round (11) wrote pair a
  });
});

describe('SigningKeyStore: expiry', () => {
  it('exposes the seconds left by the injected clock', () => {
    const { logger } = captureLogger();
    const pair = newPair({ notBefore: new Date(Date.now() - DAY_MS), notAfter: new Date(Date.now() + 100 * DAY_MS) });
    const files = pemFolder('seconds', pair);
    const notAfter = new Date(pair.cert.validTo).getTime();
    let now = new Date(notAfter - 12_345_000);
    const store = track(new SigningKeyStore({ ...files, logger, watch: false, now: () => now }));
    expect(store.secondsUntilExpiry()).toBe(12_345);
    now = new Date(notAfter + 5_000);
    expect(store.secondsUntilExpiry()).toBe(-5);
  });

  it('warns once at 30, 14 and 7 days left and errors once when expired', () => {
    const { logger, lines } = captureLogger();
    const pair = newPair({ notBefore: new Date(Date.now() - DAY_MS), notAfter: new Date(Date.now() + 100 * DAY_MS) });
    const files = pemFolder('expiry', pair);
    const notAfter = new Date(pair.cert.validTo).getTime();
    let now = new Date(notAfter - 45 * DAY_MS);
    const store = track(new SigningKeyStore({ ...files, logger, watch: false, now: () => now }));
    const expiryLines = () => lines.filter((l) => l.event === 'signing-cert-expiry');
    const emitted: number[] = [];
    store.on('expiry', (e) => emitted.push(e.thresholdDays));

    expect(expiryLines()).toHaveLength(0); // 45 days left at start: nothing
    const steps: [number, number | null][] = [
      [31, null], [29.5, 30], [20, null], [13, 14], [13, null], [8, null], [6.5, 7], [1, null], [-0.001, 0], [-3, null],
    ];
    for (const [daysLeft, expected] of steps) {
      now = new Date(notAfter - daysLeft * DAY_MS);
      const before = expiryLines().length;
      store.checkExpiry();
      const fresh = expiryLines().slice(before);
      if (expected === null) {
        expect(fresh).toHaveLength(0);
      } else {
        expect(fresh).toHaveLength(1);
        expect(fresh[0]).toMatchObject({
          level: expected === 0 ? 50 : 40,
          thresholdDays: expected,
          secondsLeft: Math.floor((notAfter - now.getTime()) / 1000),
          serial: pair.cert.serialNumber,
          fingerprint: pair.cert.fingerprint256,
        });
      }
    }
    expect(emitted).toEqual([30, 14, 7, 0]);
  });

  it('checks at start, reports only the nearest threshold when several are crossed, and starts over for a new certificate', () => {
    const { logger, lines } = captureLogger();
    const pair = newPair({ notBefore: new Date(Date.now() - DAY_MS), notAfter: new Date(Date.now() + 10 * DAY_MS) });
    const files = pemFolder('start', pair);
    const store = track(new SigningKeyStore({ ...files, logger, watch: false }));
    let expiry = lines.filter((l) => l.event === 'signing-cert-expiry');
    expect(expiry).toHaveLength(1);
    expect(expiry[0]).toMatchObject({ level: 40, thresholdDays: 14 });
    store.checkExpiry();
    expect(lines.filter((l) => l.event === 'signing-cert-expiry')).toHaveLength(1);

    const renewed = newPair({ notBefore: new Date(Date.now() - DAY_MS), notAfter: new Date(Date.now() + 20 * DAY_MS) });
    replace(files.keyFile, renewed.keyPem);
    replace(files.certFile, renewed.certPem);
    expect(store.reload()).toBe(true);
    expiry = lines.filter((l) => l.event === 'signing-cert-expiry');
    expect(expiry).toHaveLength(2);
    expect(expiry[1]).toMatchObject({ thresholdDays: 30, fingerprint: renewed.cert.fingerprint256 });
  });

  it('runs the check on its interval', async () => {
    const { logger, lines } = captureLogger();
    const pair = newPair({ notBefore: new Date(Date.now() - DAY_MS), notAfter: new Date(Date.now() + 100 * DAY_MS) });
    const files = pemFolder('interval', pair);
    const notAfter = new Date(pair.cert.validTo).getTime();
    let now = new Date(notAfter - 60 * DAY_MS);
    track(new SigningKeyStore({ ...files, logger, watch: false, now: () => now, checkIntervalMs: 20 }));
    now = new Date(notAfter - 3 * DAY_MS);
    await new Promise((r) => setTimeout(r, 200));
    const expiry = lines.filter((l) => l.event === 'signing-cert-expiry');
    expect(expiry).toHaveLength(1);
    expect(expiry[0]).toMatchObject({ thresholdDays: 7 });
  });
});

describe('TrustStoreHolder', () => {
  it('picks up a CA file added to the trust folder', async () => {
    const { logger, lines } = captureLogger();
    const trustDir = path.join(dir, `trust-${process.hrtime.bigint()}`);
    fs.mkdirSync(trustDir);
    fs.copyFileSync(pki.caCert, path.join(trustDir, 'dev-ca.pem'));
    const holder = track(new TrustStoreHolder({ paths: trustDir, logger, debounceMs: 100 }));
    const other = makeCa('Other CA');
    const signer = makeSigner(other, {});
    const doc = signEnveloped('<m/>', signer);
    expect(codeOf(() => verifyEnveloped(doc, holder.current()))).toBe('DAVIS_ERR_SIG_CERT_UNTRUSTED');

    const reloaded = waitFor<{ anchors: number; added: string[] }>(holder, 'reloaded', (e) => e.anchors === 2);
    replace(path.join(trustDir, 'other-ca.pem'), other.certificate.toString());
    const ev = await reloaded;
    expect(ev.added).toEqual([other.certificate.fingerprint256]);
    expect(verifyEnveloped(doc, holder.current()).certificate.fingerprint256).toBe(signer.certificate.fingerprint256);
    expect(lines.find((l) => l.event === 'trust-store-reloaded')).toMatchObject({ level: 30, anchors: 2 });
  });

  it('reload() keeps the old anchors when the store becomes unreadable', () => {
    const { logger, lines } = captureLogger();
    const trustDir = path.join(dir, `trust-${process.hrtime.bigint()}`);
    fs.mkdirSync(trustDir);
    const file = path.join(trustDir, 'ca.pem');
    fs.copyFileSync(pki.caCert, file);
    const holder = track(new TrustStoreHolder({ paths: [file], logger, watch: false }));
    const before = holder.current();
    fs.writeFileSync(file, 'nothing here');
    const failures: DavisError[] = [];
    holder.on('reload-failed', (e) => failures.push(e));
    expect(holder.reload()).toBe(false);
    expect(failures.map((e) => e.code)).toEqual(['DAVIS_ERR_PKI_TRUST']);
    expect(holder.current()).toBe(before);
    expect(lines.find((l) => l.event === 'trust-store-reload-failed')).toMatchObject({ level: 40, code: 'DAVIS_ERR_PKI_TRUST' });
  });

  it('refuses to start without any anchor: DAVIS_ERR_PKI_TRUST', () => {
    const { logger } = captureLogger();
    const empty = path.join(dir, `empty-${process.hrtime.bigint()}`);
    fs.mkdirSync(empty);
    expect(codeOf(() => new TrustStoreHolder({ paths: empty, logger }))).toBe('DAVIS_ERR_PKI_TRUST');
  });
});
