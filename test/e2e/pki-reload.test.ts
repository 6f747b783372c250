import { copyFileSync, mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createPrivateKey, generateKeyPairSync, X509Certificate } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { issueCertificate } from '../../src/dev/dev-pki';
import { api, sharedPki, startStack, waitFor, type Stack } from '../helpers/stack';
import { freshApplication } from '../helpers/payloads';

describe('signing key reload in a running gateway', () => {
  let s: Stack;
  let dir: string;
  beforeAll(async () => {
    const { files } = await sharedPki();
    dir = mkdtempSync(path.join(os.tmpdir(), 'davis-reload-'));
    copyFileSync(files.gatewayKey, path.join(dir, 'key.pem'));
    copyFileSync(files.gatewayCert, path.join(dir, 'cert.pem'));
    s = await startStack({ signing: { keyFile: path.join(dir, 'key.pem'), certFile: path.join(dir, 'cert.pem') } });
  });
  afterAll(async () => { await s.stop(); });

  test('a new key and certificate take effect without a restart and no message in flight is lost', async () => {
    const oldCert = new X509Certificate(readFileSync(path.join(dir, 'cert.pem')));
    const ca = { certificate: new X509Certificate(readFileSync(s.pki.caCert)), privateKey: createPrivateKey(readFileSync(s.pki.caKey)) };
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const newCert = issueCertificate({ subject: { commonName: 'davis-gateway-renewed' }, publicKey, issuer: ca, days: 30, keyUsage: ['digitalSignature'] });

    const sending = Promise.all(Array.from({ length: 40 }, async (_, i) => {
      await new Promise((r) => setTimeout(r, i * 5));
      return (await api(s.url, 'POST', '/v1/messages', { type: 'vis.application.create', payload: freshApplication() })).json.id as string;
    }));
    await new Promise((r) => setTimeout(r, 60));
    // Replace the pair the way certificate tools do: write aside, then rename over.
    writeFileSync(path.join(dir, 'key.new'), privateKey.export({ type: 'pkcs8', format: 'pem' }));
    writeFileSync(path.join(dir, 'cert.new'), newCert.toString());
    renameSync(path.join(dir, 'key.new'), path.join(dir, 'key.pem'));
    renameSync(path.join(dir, 'cert.new'), path.join(dir, 'cert.pem'));
    expect(s.gw.reloadPki()).toBe(true);
    const ids = await sending;
    for (const id of ids) {
      await waitFor(async () => (await api(s.url, 'GET', `/v1/messages/${id}`)).json.status === 'delivered', 30000);
    }
    expect(s.gw.keyStore.current().certificate.fingerprint256).toBe(newCert.fingerprint256);
    const after = await api(s.url, 'POST', '/v1/messages', { type: 'vis.application.create', payload: freshApplication() });
    const xml = await s.gw.journal.getWireXml(after.json.id);
    expect(xml).toContain(newCert.raw.toString('base64'));
    expect(xml).not.toContain(oldCert.raw.toString('base64'));
    await waitFor(async () => (await api(s.url, 'GET', `/v1/messages/${after.json.id}`)).json.status === 'delivered');
    const ready = await api(s.url, 'GET', '/health/ready');
    expect(ready.json.checks.signingKey.secondsUntilExpiry).toBeLessThanOrEqual(30 * 86400 + 3600);
  }, 60000);
});
