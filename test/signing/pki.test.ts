import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import { spawnSync } from 'node:child_process';
import { X509Certificate, generateKeyPairSync } from 'node:crypto';
import { loadSigningKey, loadTrustStore, secondsUntilExpiry } from '../../src/signing/pki';
import { createDevPki, ensureDevPki, issueCertificate, type DevPkiFiles } from '../../src/dev/dev-pki';
import { signEnveloped, verifyEnveloped } from '../../src/signing/xmldsig';
import { cleanup, codeOf, tempDir } from './helpers';

let dir: string;
let files: DevPkiFiles;
const read = (f: string): Buffer => fs.readFileSync(f);
const cert = (f: string): X509Certificate => new X509Certificate(read(f));

beforeAll(async () => {
  dir = tempDir('pki');
  files = await createDevPki(path.join(dir, 'dev'), { days: 30 });
});
afterAll(() => cleanup(dir));

describe('createDevPki', () => {
  it('writes every file under absolute paths, keys readable by the owner only', () => {
    for (const f of [files.caCert, files.gatewayCert, files.centralCert, files.clientCert]) {
      expect(path.isAbsolute(f)).toBe(true);
      expect(fs.existsSync(f)).toBe(true);
    }
    for (const f of [files.caKey, files.gatewayKey, files.gatewayP12, files.centralKey, files.clientKey]) {
      expect(fs.statSync(f).mode & 0o777).toBe(0o600);
    }
  });

  it('issues certificates that chain to the CA, with the agreed usages and names', () => {
    const ca = cert(files.caCert);
    expect(ca.ca).toBe(true);
    for (const f of [files.gatewayCert, files.centralCert, files.clientCert]) {
      const c = cert(f);
      expect(c.checkIssued(ca)).toBe(true);
      expect(c.verify(ca.publicKey)).toBe(true);
      expect(c.ca).toBe(false);
    }
    const gw = cert(files.gatewayCert);
    expect(gw.subjectAltName).toBe('DNS:localhost, IP Address:127.0.0.1');
    expect(gw.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']); // Node's name for extKeyUsage
    const client = cert(files.clientCert);
    expect(client.subject).toContain('CN=uma-dev-client');
    expect(client.subject).toContain('OU=uma-client');
    expect(client.keyUsage).toEqual(['1.3.6.1.5.5.7.3.2']);
    // openssl is required (.ci/run installs it): a missing binary fails here, it does not skip.
    const openssl = spawnSync('openssl', ['verify', '-CAfile', files.caCert, files.gatewayCert, files.centralCert, files.clientCert], { encoding: 'utf8' });
    expect(openssl.error).toBeUndefined();
    expect(openssl.status).toBe(0);
  });

  it('gives a gateway certificate that signs documents the CA trust store verifies', () => {
    const key = loadSigningKey({ keyFile: files.gatewayKey, certFile: files.gatewayCert });
    expect(verifyEnveloped(signEnveloped('<m/>', key), loadTrustStore(files.caCert)).certificate.subject).toContain('CN=davis-gateway');
  });

  it('works for a mutual-TLS handshake between the gateway server and the UMA client', async () => {
    const server = tls.createServer({
      key: read(files.gatewayKey), cert: read(files.gatewayCert), ca: read(files.caCert), requestCert: true, rejectUnauthorized: true,
    }, (socket) => {
      socket.end(`hello ${socket.getPeerCertificate().subject.CN}/${socket.getPeerCertificate().subject.OU}`);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const reply = await new Promise<string>((resolve, reject) => {
        const socket = tls.connect({
          host: '127.0.0.1', port, servername: 'localhost', ca: read(files.caCert), key: read(files.clientKey), cert: read(files.clientCert),
        }, () => {
          if (!socket.authorized) reject(socket.authorizationError);
        });
        let data = '';
        socket.on('data', (d) => { data += d; });
        socket.on('end', () => resolve(data));
        socket.on('error', reject);
      });
      expect(reply).toBe('hello uma-dev-client/uma-client');
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('ensureDevPki keeps an existing set and creates a missing one', async () => {
    const before = read(files.caCert);
    const again = await ensureDevPki(files.dir);
    expect(again.caCert).toBe(files.caCert);
    expect(read(files.caCert).equals(before)).toBe(true);
    const fresh = await ensureDevPki(path.join(dir, 'fresh'));
    expect(fs.existsSync(fresh.caCert)).toBe(true);
  });
});

describe('loadSigningKey', () => {
  it('loads the PKCS#12 file with its password, leaf first and the CA as chain', () => {
    const key = loadSigningKey({ p12File: files.gatewayP12, passphrase: files.gatewayP12Passphrase });
    expect(key.certificate.subject).toContain('CN=davis-gateway');
    expect(key.chain.map((c) => c.subject)).toEqual([cert(files.caCert).subject]);
    expect(key.algorithm).toBe('rsa-sha256');
    expect(key.certificate.checkPrivateKey(key.privateKey)).toBe(true);
  });

  it('is usable by node:tls as a PFX too', () => {
    expect(() => tls.createSecureContext({ pfx: read(files.gatewayP12), passphrase: files.gatewayP12Passphrase })).not.toThrow();
  });

  it('loads a PKCS#12 made by OpenSSL 3 (AES-256, SHA-256 MAC)', () => {
    const out = path.join(dir, 'openssl.p12');
    const r = spawnSync('openssl', ['pkcs12', '-export', '-inkey', files.centralKey, '-in', files.centralCert, '-passout', 'pass:s3cret', '-out', out]);
    expect(r.error).toBeUndefined();
    expect(r.status).toBe(0);
    expect(loadSigningKey({ p12File: out, passphrase: 's3cret' }).certificate.subject).toContain('CN=vis-central-mock');
  });

  it('refuses a wrong PKCS#12 password with DAVIS_ERR_PKI_KEY', () => {
    expect(codeOf(() => loadSigningKey({ p12File: files.gatewayP12, passphrase: 'wrong' }))).toBe('DAVIS_ERR_PKI_KEY');
  });

  it('refuses unreadable or missing key material with DAVIS_ERR_PKI_KEY', () => {
    const junk = path.join(dir, 'junk.pem');
    fs.writeFileSync(junk, 'not a key');
    expect(codeOf(() => loadSigningKey({ keyFile: junk, certFile: files.gatewayCert }))).toBe('DAVIS_ERR_PKI_KEY');
    expect(codeOf(() => loadSigningKey({ keyFile: path.join(dir, 'absent.pem'), certFile: files.gatewayCert }))).toBe('DAVIS_ERR_PKI_KEY');
    expect(codeOf(() => loadSigningKey({ keyFile: files.gatewayKey, certFile: junk }))).toBe('DAVIS_ERR_PKI_KEY');
    expect(codeOf(() => loadSigningKey({ keyFile: files.gatewayKey }))).toBe('DAVIS_ERR_PKI_KEY');
  });

  it('refuses a certificate of another key with DAVIS_ERR_PKI_MISMATCH', () => {
    expect(codeOf(() => loadSigningKey({ keyFile: files.centralKey, certFile: files.gatewayCert }))).toBe('DAVIS_ERR_PKI_MISMATCH');
  });

  it('refuses an expired certificate with DAVIS_ERR_PKI_EXPIRED', () => {
    expect(codeOf(() => loadSigningKey({ keyFile: files.gatewayKey, certFile: files.gatewayCert, now: new Date(Date.now() + 60 * 86400_000) })))
      .toBe('DAVIS_ERR_PKI_EXPIRED');
  });

  it('loads an encrypted PEM key with its passphrase, an EC key as ECDSA, and extra chain files', () => {
    const pair = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const ca = { certificate: cert(files.caCert), privateKey: loadSigningKey({ keyFile: files.caKey, certFile: files.caCert }).privateKey };
    const ecCert = issueCertificate({ subject: { commonName: 'ec' }, publicKey: pair.publicKey, issuer: ca, keyUsage: ['digitalSignature'] });
    const keyFile = path.join(dir, 'ec.key.pem');
    const certFile = path.join(dir, 'ec.crt.pem');
    fs.writeFileSync(keyFile, pair.privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'pw' }));
    fs.writeFileSync(certFile, ecCert.toString());
    const key = loadSigningKey({ keyFile, certFile, passphrase: 'pw', chainFiles: [files.caCert] });
    expect(key.algorithm).toBe('ecdsa-sha256');
    expect(key.chain).toHaveLength(1);
    expect(codeOf(() => loadSigningKey({ keyFile, certFile }))).toBe('DAVIS_ERR_PKI_KEY');
  });
});

describe('loadTrustStore', () => {
  it('reads every .pem and .crt file of a folder, several certificates per file, without duplicates', () => {
    const store = path.join(dir, 'trust');
    fs.mkdirSync(store);
    fs.writeFileSync(path.join(store, 'bundle.pem'), read(files.caCert).toString() + read(files.gatewayCert).toString());
    fs.writeFileSync(path.join(store, 'ca.crt'), cert(files.caCert).raw); // DER
    fs.writeFileSync(path.join(store, 'notes.txt'), 'ignored');
    const trust = loadTrustStore(store);
    expect(trust.anchors).toHaveLength(2);
    expect(loadTrustStore([files.caCert, files.centralCert]).anchors).toHaveLength(2);
  });

  it('refuses a missing path or a folder without certificates with DAVIS_ERR_PKI_TRUST', () => {
    expect(codeOf(() => loadTrustStore(path.join(dir, 'absent')))).toBe('DAVIS_ERR_PKI_TRUST');
    const empty = path.join(dir, 'empty');
    fs.mkdirSync(empty);
    expect(codeOf(() => loadTrustStore(empty))).toBe('DAVIS_ERR_PKI_TRUST');
  });
});

describe('secondsUntilExpiry', () => {
  it('counts down to the end of validity and goes negative after it', () => {
    const gw = cert(files.gatewayCert);
    const s = secondsUntilExpiry(gw);
    expect(s).toBeGreaterThan(30 * 86400 - 3600 * 2);
    expect(s).toBeLessThanOrEqual(30 * 86400);
    expect(secondsUntilExpiry(gw, new Date(Date.now() + 31 * 86400_000))).toBeLessThan(0);
  });
});
