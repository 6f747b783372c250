/**
 * `davis sign`, `davis verify` and `davis certs init`, run in-process through `run(argv, io)`,
 * with xmlsec1 (libxmlsec1/OpenSSL) as the independent verifier of what `sign` writes.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as os from 'node:os';
import { X509Certificate } from 'node:crypto';
import { run } from '../../src/cli/main';
import { createDevPki, devPkiFiles, type DevPkiFiles } from '../../src/dev/dev-pki';
import { WIRE_NS, buildRequestXml } from '../../src/wire/envelope';
import { cleanup, tempDir, xmlsec } from '../signing/helpers';

interface Result { code: number; out: string; err: string }

async function cli(...argv: string[]): Promise<Result> {
  let out = '';
  let err = '';
  const code = await run(argv, { out: (s) => { out += s; }, err: (s) => { err += s; } });
  return { code, out, err };
}

let dir: string;
let pki: DevPkiFiles;
let otherPki: DevPkiFiles;
let requestFile: string;
let signedFile: string;

const write = (name: string, data: string): string => {
  const f = path.join(dir, name);
  fs.writeFileSync(f, data);
  return f;
};

beforeAll(async () => {
  dir = tempDir('cli-sign');
  [pki, otherPki] = await Promise.all([createDevPki(path.join(dir, 'pki')), createDevPki(path.join(dir, 'other-pki'))]);
  const payload = JSON.parse(fs.readFileSync(
    path.join(__dirname, '../../schemas/examples/vis.application.create/valid-adult-business-representation.json'), 'utf8'));
  const xml = buildRequestXml({
    messageId: '0b8f3c1e-5a43-4d7e-9f51-3c2a4d6e7f80', type: 'vis.application.create', sender: 'FI', created: '2025-06-01T10:00:00.000Z',
  }, payload);
  requestFile = write('request.xml', xml);
  const signed = await cli('sign', requestFile, '--key', pki.gatewayKey, '--cert', pki.gatewayCert);
  expect(signed).toMatchObject({ code: 0, err: '' });
  signedFile = write('request.signed.xml', signed.out);
});
afterAll(() => cleanup(dir));

describe('davis sign', () => {
  it('writes a signed document that xmlsec1 verifies against the CA', () => {
    const signed = fs.readFileSync(signedFile, 'utf8');
    expect(signed).toContain('<ds:Signature');
    expect(signed.startsWith(fs.readFileSync(requestFile, 'utf8').slice(0, 40))).toBe(true);
    // Reference URI="" needs no ID attribute; --id-attr is given as an operator would for the
    // namespaced Request element ("<ns>:<name>" form), and must not change the outcome.
    const r = xmlsec(['--verify', '--trusted-pem', pki.caCert, '--id-attr:Id', `${WIRE_NS}:Request`, signedFile]);
    expect(r.out).toContain('OK');
    expect(r.ok).toBe(true);
    expect(xmlsec(['--verify', '--trusted-pem', pki.caCert, signedFile]).ok).toBe(true);
  });

  it('is refused by xmlsec1 under another CA', () => {
    expect(xmlsec(['--verify', '--trusted-pem', otherPki.caCert, signedFile]).ok).toBe(false);
  });

  it('refuses a document with a DOCTYPE: exit 1 naming DAVIS_ERR_XML_DOCTYPE', async () => {
    const file = write('doctype.xml', '<!DOCTYPE m [<!ENTITY x "y">]><m>&x;</m>');
    const r = await cli('sign', file, '--key', pki.gatewayKey, '--cert', pki.gatewayCert);
    expect(r.out).toBe('');
    expect(r.err).toContain('DAVIS_ERR_XML_DOCTYPE');
    expect(r.code).toBe(1);
  });

  it('names DAVIS_ERR_PKI_MISMATCH when key and certificate do not belong together (exit 2)', async () => {
    const r = await cli('sign', requestFile, '--key', pki.centralKey, '--cert', pki.gatewayCert);
    expect(r.code).toBe(2);
    expect(r.err).toContain('DAVIS_ERR_PKI_MISMATCH');
  });

  it('asks for its arguments (exit 2) and explains its flags on --help (exit 0)', async () => {
    const missing = await cli('sign', requestFile, '--key', pki.gatewayKey);
    expect(missing.code).toBe(2);
    expect(missing.err).toContain('--cert');
    const help = await cli('sign', '--help');
    expect(help.code).toBe(0);
    expect(help.out).toContain('--key');
    expect(help.out).toContain('--cert');
  });
});

describe('davis verify', () => {
  it('accepts the signed document (exit 0) and names the signer', async () => {
    const r = await cli('verify', signedFile, '--trust', pki.caCert);
    expect(r.code).toBe(0);
    expect(r.out).toContain('signature valid');
    expect(r.out).toContain('CN=davis-gateway');
  });

  it('accepts a trust folder of CA certificates', async () => {
    const trustDir = path.join(dir, 'trust');
    fs.mkdirSync(trustDir);
    fs.copyFileSync(otherPki.caCert, path.join(trustDir, 'other-ca.pem'));
    fs.copyFileSync(pki.caCert, path.join(trustDir, 'dev-ca.crt'));
    const r = await cli('verify', signedFile, '--trust', trustDir);
    expect(r.code).toBe(0);
  });

  it('cannot use the dev PKI folder itself as trust folder: its private keys are *.pem too (exit 2, DAVIS_ERR_PKI_TRUST)', async () => {
    const r = await cli('verify', signedFile, '--trust', pki.dir);
    expect(r.code).toBe(2);
    expect(r.err).toContain('DAVIS_ERR_PKI_TRUST');
  });

  it('refuses a tampered document: exit 1 naming DAVIS_ERR_SIG_DIGEST', async () => {
    const signed = fs.readFileSync(signedFile, 'utf8');
    const tampered = signed.replace('<w:Sender>FI</w:Sender>', '<w:Sender>EE</w:Sender>');
    expect(tampered).not.toBe(signed);
    const file = write('tampered.xml', tampered);
    const r = await cli('verify', file, '--trust', pki.caCert);
    expect(r.code).toBe(1);
    expect(r.out).toContain('DAVIS_ERR_SIG_DIGEST');
    expect(xmlsec(['--verify', '--trusted-pem', pki.caCert, file]).ok).toBe(false); // xmlsec1 agrees
  });

  it('refuses a document with a DOCTYPE: exit 1 naming DAVIS_ERR_XML_DOCTYPE', async () => {
    const signed = fs.readFileSync(signedFile, 'utf8');
    const file = write('signed-doctype.xml', `<!DOCTYPE w:Request [<!ENTITY e "x">]>\n${signed}`);
    const r = await cli('verify', file, '--trust', pki.caCert);
    expect(r.code).toBe(1);
    expect(r.out).toContain('DAVIS_ERR_XML_DOCTYPE');
  });

  it('refuses a signer from an untrusted CA: exit 1 naming DAVIS_ERR_SIG_CERT_UNTRUSTED', async () => {
    const r = await cli('verify', signedFile, '--trust', otherPki.caCert);
    expect(r.code).toBe(1);
    expect(r.out).toContain('DAVIS_ERR_SIG_CERT_UNTRUSTED');
  });

  it('refuses an unsigned document: exit 1 naming DAVIS_ERR_SIG_MISSING', async () => {
    const r = await cli('verify', requestFile, '--trust', pki.caCert);
    expect(r.code).toBe(1);
    expect(r.out).toContain('DAVIS_ERR_SIG_MISSING');
  });

  it('exit 2 when the file cannot be read', async () => {
    const r = await cli('verify', path.join(dir, 'missing.xml'), '--trust', pki.caCert);
    expect(r.code).toBe(2);
    expect(r.err).toContain('cannot read');
  });

  it('explains its flags on --help (exit 0)', async () => {
    const help = await cli('verify', '--help');
    expect(help.code).toBe(0);
    expect(help.out).toContain('--trust');
  });
});

describe('davis certs init', () => {
  it('writes every file DevPkiFiles lists, usable by sign and verify', async () => {
    const target = path.join(dir, 'init');
    const r = await cli('certs', 'init', target);
    expect(r.code).toBe(0);
    const files = devPkiFiles(target);
    const paths = Object.entries(files).filter(([k]) => k !== 'dir' && k !== 'gatewayP12Passphrase').map(([, f]) => f);
    expect(paths.length).toBeGreaterThanOrEqual(9);
    for (const f of paths) {
      expect(fs.existsSync(f)).toBe(true);
      expect(r.out).toContain(f);
    }
    const gw = new X509Certificate(fs.readFileSync(files.gatewayCert));
    expect(gw.subjectAltName).toBe('DNS:localhost, IP Address:127.0.0.1');
    const signed = await cli('sign', requestFile, '--key', files.gatewayKey, '--cert', files.gatewayCert);
    const out = write('init-signed.xml', signed.out);
    expect((await cli('verify', out, '--trust', files.caCert)).code).toBe(0);
  });

  it('--host puts the name in the gateway certificate SAN', async () => {
    const target = path.join(dir, 'init-host');
    const r = await cli('certs', 'init', target, '--host', 'example.internal', '--host', 'gw.example.internal');
    expect(r.code).toBe(0);
    const gw = new X509Certificate(fs.readFileSync(devPkiFiles(target).gatewayCert));
    const san = (gw.subjectAltName ?? '').split(', ');
    expect(san).toEqual(expect.arrayContaining(['DNS:example.internal', 'DNS:gw.example.internal', 'DNS:localhost', 'IP Address:127.0.0.1']));
  });

  it('asks for the folder (exit 2) and explains --host on --help (exit 0)', async () => {
    expect((await cli('certs', 'init')).code).toBe(2);
    const help = await cli('certs', '--help');
    expect(help.code).toBe(0);
    expect(help.out).toContain('--host');
  });
});

describe('davis sign: unreadable input', () => {
  it('exit 2 with "cannot read" when the file is missing', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const pkiDir = fs.mkdtempSync(path.join(os.tmpdir(), 'davis-cli-missing-'));
    const files = await createDevPki(pkiDir);
    const code = await run(['sign', path.join(pkiDir, 'missing.xml'), '--key', files.gatewayKey, '--cert', files.gatewayCert], { out: (s) => out.push(s), err: (s) => err.push(s) });
    expect(code).toBe(2);
    expect(err.join('')).toContain('cannot read');
    fs.rmSync(pkiDir, { recursive: true, force: true });
  });
});
