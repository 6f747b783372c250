import { readFileSync } from 'node:fs';
import path from 'node:path';
import { listTypes } from '../../src/catalogue/catalogue';
import { envVariables } from '../../src/config/config';

const README = readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8');

describe('the README stays true', () => {
  test.each(listTypes({ direction: 'all' }).map((t) => [t.id, t.article]))('lists message type %s with its article', (id, article) => {
    const row = README.split('\n').find((l) => l.startsWith(`| \`${id}\` |`));
    expect(row).toBeDefined();
    expect(row).toContain(article);
  });

  test.each([...new Set(envVariables().values())])('documents the configuration key %s', (key) => {
    // a row names the key itself or lists it beside its siblings ("`central.maxAttempts`, `central.maxAgeMs`")
    expect(README).toContain(`\`${key}\``);
  });

  test.each(['dev', 'serve', 'mock-vis', 'validate', 'validate --type', 'sign', 'verify', 'certs init', 'catalogue', 'status', 'messages list', 'messages show', 'messages retry'])('documents the command davis %s', (cmd) => {
    expect(README).toContain(`\`davis ${cmd}`);
  });
});

describe('certs.example', () => {
  test('holds a development PKI whose certificates chain to its CA and says it is for development only', () => {
    const { X509Certificate } = require('node:crypto') as typeof import('node:crypto');
    const dir = path.join(__dirname, '..', '..', 'certs.example');
    expect(readFileSync(path.join(dir, 'README.md'), 'utf8')).toMatch(/development and tests only/);
    const ca = new X509Certificate(readFileSync(path.join(dir, 'ca.crt.pem')));
    for (const f of ['gateway.crt.pem', 'central.crt.pem', 'uma-client.crt.pem']) {
      const cert = new X509Certificate(readFileSync(path.join(dir, f)));
      expect([f, cert.checkIssued(ca), cert.verify(ca.publicKey)]).toEqual([f, true, true]);
    }
  });
});
