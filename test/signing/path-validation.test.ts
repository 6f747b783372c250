/**
 * Differential test of the certification path validator against OpenSSL: every chain is
 * made with the `openssl` CLI (`req`, `ca`, `ca -gencrl`), and for each one our verdict must
 * equal `openssl verify -x509_strict -auth_level 2 [-crl_check_all]`; the refusals must also
 * carry their own code. OCSP is checked against `openssl ocsp` running as the responder.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { certificateInfo } from '../../src/signing/certificates';
import { verifyCertificatePath } from '../../src/signing/path-validation';
import { loadTrustStore } from '../../src/signing/key-files';
import { checkOcsp } from '../../src/signing/ocsp';
import { isDavisError } from '../../src/errors/errors';
import { freePort } from '../helpers/gateway-process';
import { cleanup, tempDir } from './helpers';

const DIR = tempDir('path-validation');
afterAll(() => cleanup(DIR));

function openssl(args: string[], cwd = DIR): { status: number; out: string } {
  const r = spawnSync('openssl', args, { cwd, encoding: 'utf8' });
  if (r.error) throw r.error;
  return { status: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}

function must(args: string[]): void {
  const r = openssl(args);
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')} failed: ${r.out}`);
}

const f = (name: string): string => path.join(DIR, name);

type KeySpec = 'rsa2048' | 'rsa1024' | 'p256' | 'p384';
const keys = new Map<string, string>();

/** A private key file, made once per name. */
function key(name: string, spec: KeySpec = 'rsa2048'): string {
  const known = keys.get(name);
  if (known) return known;
  const file = f(`${name}.key`);
  if (spec.startsWith('rsa')) must(['genpkey', '-algorithm', 'RSA', '-pkeyopt', `rsa_keygen_bits:${spec.slice(3)}`, '-out', file]);
  else must(['genpkey', '-algorithm', 'EC', '-pkeyopt', `ec_paramgen_curve:${spec === 'p256' ? 'P-256' : 'P-384'}`, '-pkeyopt', 'ec_param_enc:named_curve', '-out', file]);
  keys.set(name, file);
  return file;
}

const CA_EXT = 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid:always\n';
const LEAF_EXT = 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid:always\n';

interface Ca {
  readonly name: string;
  readonly cert: string;
  readonly key: string;
  readonly cnf: string;
}

function caDatabase(name: string, certFile: string, keyFile: string): Ca {
  const dir = f(`${name}.db`);
  fs.mkdirSync(path.join(dir, 'new'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'index.txt'), '');
  fs.writeFileSync(path.join(dir, 'serial'), `${(1000 + keys.size * 97 + Math.floor(Math.random() * 1e6)).toString(16).padStart(8, '0')}\n`);
  fs.writeFileSync(path.join(dir, 'crlnumber'), '1000\n');
  const cnf = path.join(dir, 'ca.cnf');
  fs.writeFileSync(cnf, [
    '[ca]', 'default_ca = cad', '[cad]', `dir = ${dir}`, 'database = $dir/index.txt', 'new_certs_dir = $dir/new',
    'serial = $dir/serial', 'crlnumber = $dir/crlnumber', `certificate = ${certFile}`, `private_key = ${keyFile}`,
    'default_md = sha256', 'policy = pol', 'unique_subject = no', 'copy_extensions = none', 'default_crl_days = 30',
    '[pol]', 'countryName = optional', 'organizationName = optional', 'organizationalUnitName = optional', 'commonName = supplied', '',
  ].join('\n'));
  return { name, cert: certFile, key: keyFile, cnf };
}

/** A self-signed certificate (a root, or a self-signed leaf) with the extensions given. */
function selfSigned(name: string, subj: string, ext: string, keySpec: KeySpec = 'rsa2048', md = 'sha256'): string {
  const cnf = f(`${name}.req.cnf`);
  fs.writeFileSync(cnf, `[req]\ndistinguished_name = dn\n[dn]\n[ext]\n${ext}`);
  const cert = f(`${name}.pem`);
  must(['req', '-x509', '-new', '-key', key(`${name}-k`, keySpec), '-subj', subj, '-days', '3650', '-config', cnf, '-extensions', 'ext', `-${md}`, '-out', cert]);
  return cert;
}

function root(name: string, ext = CA_EXT, keySpec: KeySpec = 'rsa2048'): Ca {
  const cert = selfSigned(name, `/CN=${name}`, ext, keySpec);
  return caDatabase(name, cert, keys.get(`${name}-k`)!);
}

const stamp = (d: Date): string => d.toISOString().replace(/[-:T]/g, '').slice(0, 14) + 'Z';

interface IssueOptions {
  readonly subj?: string;
  readonly ext?: string;
  readonly keySpec?: KeySpec;
  /** Reuse the key of this name. */
  readonly keyName?: string;
  readonly md?: string;
  readonly start?: Date;
  readonly end?: Date;
}

/** A certificate signed by `ca`; returns its PEM file. */
function issue(ca: Ca, name: string, o: IssueOptions = {}): string {
  // Leaves share one key per type (key generation is most of this test's time); CAs get their own.
  const k = key(o.keyName ?? `leaf-${o.keySpec ?? 'rsa2048'}`, o.keySpec);
  const csr = f(`${name}.csr`);
  must(['req', '-new', '-key', k, '-subj', o.subj ?? `/CN=${name}`, '-out', csr]);
  const extFile = f(`${name}.ext`);
  fs.writeFileSync(extFile, `[ext]\n${o.ext ?? LEAF_EXT}`);
  const cert = f(`${name}.pem`);
  const validity = ['-startdate', stamp(o.start ?? new Date(Date.now() - 3600_000)), '-enddate', stamp(o.end ?? new Date(Date.now() + 3650 * 86400_000))];
  must(['ca', '-batch', '-config', ca.cnf, '-in', csr, '-out', cert, '-extfile', extFile, '-extensions', 'ext', '-md', o.md ?? 'sha256', '-notext', '-preserveDN', ...validity]);
  return cert;
}

/** A CA certificate signed by `ca`, with its own database. */
function intermediate(ca: Ca, name: string, o: IssueOptions = {}): Ca {
  const keyName = o.keyName ?? `${name}-k`;
  const cert = issue(ca, name, { ext: CA_EXT, ...o, keyName });
  return caDatabase(name, cert, key(keyName, o.keySpec));
}

function crl(ca: Ca, name: string, hours = 30 * 24): string {
  const out = f(`${name}.crl.pem`);
  must(['ca', '-config', ca.cnf, '-gencrl', '-crlhours', String(hours), '-out', out]);
  return out;
}

function revoke(ca: Ca, cert: string): void {
  must(['ca', '-config', ca.cnf, '-revoke', cert]);
}

function bundle(name: string, files: readonly string[]): string {
  const out = f(`${name}.bundle.pem`);
  fs.writeFileSync(out, files.map((p) => fs.readFileSync(p, 'utf8')).join(''));
  return out;
}

interface Case {
  readonly name: string;
  readonly anchor: string;
  readonly untrusted: readonly string[];
  readonly leaf: string;
  readonly crls?: readonly string[];
  /** When to evaluate; default now. */
  readonly at?: Date;
  /** Our code when refused; undefined when the chain is good. */
  readonly code?: string;
}

const cases: Case[] = [];

function ours(c: Case): string {
  const trust = loadTrustStore([c.anchor, ...(c.crls ?? [])]);
  const info = (p: string): ReturnType<typeof certificateInfo> => certificateInfo(new X509Certificate(fs.readFileSync(p)));
  try {
    verifyCertificatePath(info(c.leaf), c.untrusted.map(info), trust, (c.at ?? new Date()).getTime());
    return 'ok';
  } catch (e) {
    if (isDavisError(e)) return e.code;
    throw e;
  }
}

function theirs(c: Case): { ok: boolean; out: string } {
  const args = ['verify', '-x509_strict', '-auth_level', '2', '-CAfile', c.anchor];
  if (c.untrusted.length) args.push('-untrusted', bundle(`${c.name}-untrusted`, c.untrusted));
  if (c.crls?.length) args.push('-crl_check_all', '-CRLfile', bundle(`${c.name}-crls`, c.crls));
  if (c.at) args.push('-attime', String(Math.floor(c.at.getTime() / 1000)));
  args.push(c.leaf);
  const r = openssl(args);
  return { ok: r.status === 0, out: r.out };
}

beforeAll(() => {
  const day = 86400_000;
  const rsa = root('Root-RSA');
  const int = intermediate(rsa, 'Int-RSA');
  cases.push({ name: 'rsa-2048 leaf directly under the root', anchor: rsa.cert, untrusted: [], leaf: issue(rsa, 'leaf-direct') });
  cases.push({ name: 'rsa-2048 with one intermediate', anchor: rsa.cert, untrusted: [int.cert], leaf: issue(int, 'leaf-int') });
  const int2 = intermediate(int, 'Int-RSA-2');
  cases.push({ name: 'rsa-2048 with two intermediates', anchor: rsa.cert, untrusted: [int.cert, int2.cert], leaf: issue(int2, 'leaf-int2') });

  const p256 = root('Root-P256', CA_EXT, 'p256');
  const p256int = intermediate(p256, 'Int-P256', { keySpec: 'p256' });
  cases.push({ name: 'P-256 with an intermediate', anchor: p256.cert, untrusted: [p256int.cert], leaf: issue(p256int, 'leaf-p256', { keySpec: 'p256' }) });
  const p384 = root('Root-P384', CA_EXT, 'p384');
  cases.push({ name: 'P-384 leaf under a P-384 root', anchor: p384.cert, untrusted: [], leaf: issue(p384, 'leaf-p384', { keySpec: 'p384', md: 'sha384' }) });
  const mixedInt = intermediate(rsa, 'Int-Mixed', { keySpec: 'p256' });
  cases.push({ name: 'RSA root, P-256 intermediate, RSA leaf', anchor: rsa.cert, untrusted: [mixedInt.cert], leaf: issue(mixedInt, 'leaf-mixed') });

  const lenRoot = root('Root-Len1', CA_EXT.replace('CA:TRUE', 'CA:TRUE,pathlen:1'));
  const len0 = intermediate(lenRoot, 'Int-Len0', { ext: CA_EXT.replace('CA:TRUE', 'CA:TRUE,pathlen:0') });
  cases.push({ name: 'pathLen 1 and 0 respected', anchor: lenRoot.cert, untrusted: [len0.cert], leaf: issue(len0, 'leaf-len0') });
  const below0 = intermediate(len0, 'Int-Below-Len0');
  cases.push({ name: 'pathLen:0 violated', anchor: lenRoot.cert, untrusted: [len0.cert, below0.cert], leaf: issue(below0, 'leaf-below0'), code: 'DAVIS_ERR_SIG_CERT_PATHLEN' });

  const notCa = intermediate(rsa, 'Int-NotCA', { ext: CA_EXT.replace('CA:TRUE', 'CA:FALSE') });
  cases.push({ name: 'intermediate without cA', anchor: rsa.cert, untrusted: [notCa.cert], leaf: issue(notCa, 'leaf-notca'), code: 'DAVIS_ERR_SIG_CERT_CONSTRAINTS' });
  const noBc = intermediate(rsa, 'Int-NoBC', { ext: CA_EXT.replace('basicConstraints=critical,CA:TRUE\n', '') });
  cases.push({ name: 'intermediate without basicConstraints', anchor: rsa.cert, untrusted: [noBc.cert], leaf: issue(noBc, 'leaf-nobc'), code: 'DAVIS_ERR_SIG_CERT_CONSTRAINTS' });
  const bcNotCritical = intermediate(rsa, 'Int-BC-NotCritical', { ext: CA_EXT.replace('basicConstraints=critical,', 'basicConstraints=') });
  cases.push({ name: 'CA basicConstraints not critical', anchor: rsa.cert, untrusted: [bcNotCritical.cert], leaf: issue(bcNotCritical, 'leaf-bcnc'), code: 'DAVIS_ERR_SIG_CERT_CONSTRAINTS' });
  const noCertSign = intermediate(rsa, 'Int-NoCertSign', { ext: CA_EXT.replace('keyCertSign,cRLSign', 'digitalSignature,cRLSign') });
  cases.push({ name: 'CA without keyCertSign', anchor: rsa.cert, untrusted: [noCertSign.cert], leaf: issue(noCertSign, 'leaf-nocertsign'), code: 'DAVIS_ERR_SIG_CERT_CONSTRAINTS' });
  const noKu = intermediate(rsa, 'Int-NoKU', { ext: CA_EXT.replace('keyUsage=critical,keyCertSign,cRLSign\n', '') });
  cases.push({ name: 'CA without key usage', anchor: rsa.cert, untrusted: [noKu.cert], leaf: issue(noKu, 'leaf-noku'), code: 'DAVIS_ERR_SIG_CERT_CONSTRAINTS' });

  cases.push({ name: 'unknown critical extension on the leaf', anchor: rsa.cert, untrusted: [int.cert], leaf: issue(int, 'leaf-crit', { ext: LEAF_EXT + '1.3.6.1.4.1.55555.1 = critical,DER:05:00\n' }), code: 'DAVIS_ERR_SIG_CERT_CRITICAL_EXT' });
  const critInt = intermediate(rsa, 'Int-Crit', { ext: CA_EXT + '1.3.6.1.4.1.55555.2 = critical,DER:05:00\n' });
  cases.push({ name: 'unknown critical extension on an intermediate', anchor: rsa.cert, untrusted: [critInt.cert], leaf: issue(critInt, 'leaf-critint'), code: 'DAVIS_ERR_SIG_CERT_CRITICAL_EXT' });
  cases.push({ name: 'unknown non-critical extension is fine', anchor: rsa.cert, untrusted: [int.cert], leaf: issue(int, 'leaf-noncrit', { ext: LEAF_EXT + '1.3.6.1.4.1.55555.3 = DER:05:00\nextendedKeyUsage = clientAuth, serverAuth\nsubjectAltName = DNS:leaf.example.org\n' }) });

  const ncExt = CA_EXT + 'nameConstraints = critical, permitted;DNS:.example.org, permitted;dirName:perm, excluded;dirName:excl\n[perm]\nO = Permitted\n[excl]\nO = Permitted\nOU = Excluded\n';
  const nc = intermediate(rsa, 'Int-NC', { ext: ncExt, subj: '/O=Permitted/CN=Int-NC' });
  const ncLeafExt = (dns: string): string => LEAF_EXT + `subjectAltName = DNS:${dns}\n`;
  cases.push({ name: 'name constraints satisfied', anchor: rsa.cert, untrusted: [nc.cert], leaf: issue(nc, 'leaf-nc-ok', { subj: '/O=Permitted/CN=a.example.org', ext: ncLeafExt('a.example.org') }) });
  cases.push({ name: 'DNS name outside the permitted subtree', anchor: rsa.cert, untrusted: [nc.cert], leaf: issue(nc, 'leaf-nc-dns', { subj: '/O=Permitted/CN=b.example.com', ext: ncLeafExt('b.example.com') }), code: 'DAVIS_ERR_SIG_CERT_NAME_CONSTRAINTS' });
  cases.push({ name: 'subject outside the permitted directory subtree', anchor: rsa.cert, untrusted: [nc.cert], leaf: issue(nc, 'leaf-nc-dn', { subj: '/O=Other/CN=c.example.org', ext: ncLeafExt('c.example.org') }), code: 'DAVIS_ERR_SIG_CERT_NAME_CONSTRAINTS' });
  cases.push({ name: 'subject inside an excluded directory subtree', anchor: rsa.cert, untrusted: [nc.cert], leaf: issue(nc, 'leaf-nc-ex', { subj: '/O=Permitted/OU=Excluded/CN=d.example.org', ext: ncLeafExt('d.example.org') }), code: 'DAVIS_ERR_SIG_CERT_NAME_CONSTRAINTS' });

  cases.push({ name: 'SHA-1 signature on the leaf', anchor: rsa.cert, untrusted: [int.cert], leaf: issue(int, 'leaf-sha1', { md: 'sha1' }), code: 'DAVIS_ERR_SIG_CERT_WEAK_ALGORITHM' });
  const sha1Int = intermediate(rsa, 'Int-SHA1', { md: 'sha1' });
  cases.push({ name: 'SHA-1 signature on an intermediate', anchor: rsa.cert, untrusted: [sha1Int.cert], leaf: issue(sha1Int, 'leaf-sha1int'), code: 'DAVIS_ERR_SIG_CERT_WEAK_ALGORITHM' });
  const weakInt = intermediate(rsa, 'Int-RSA1024', { keySpec: 'rsa1024' });
  cases.push({ name: 'RSA-1024 intermediate', anchor: rsa.cert, untrusted: [weakInt.cert], leaf: issue(weakInt, 'leaf-weakint'), code: 'DAVIS_ERR_SIG_CERT_WEAK_KEY' });
  cases.push({ name: 'RSA-1024 leaf', anchor: rsa.cert, untrusted: [int.cert], leaf: issue(int, 'leaf-rsa1024', { keySpec: 'rsa1024' }), code: 'DAVIS_ERR_SIG_CERT_WEAK_KEY' });
  const weakRoot = root('Root-RSA1024', CA_EXT, 'rsa1024');
  cases.push({ name: 'RSA-1024 root', anchor: weakRoot.cert, untrusted: [], leaf: issue(weakRoot, 'leaf-weakroot'), code: 'DAVIS_ERR_SIG_CERT_WEAK_KEY' });

  cases.push({ name: 'expired leaf', anchor: rsa.cert, untrusted: [int.cert], leaf: issue(int, 'leaf-expired', { start: new Date(Date.now() - 10 * day), end: new Date(Date.now() - day) }), code: 'DAVIS_ERR_SIG_CERT_EXPIRED' });
  const future = intermediate(rsa, 'Int-Future', { start: new Date(Date.now() + 2 * day) });
  cases.push({ name: 'intermediate not yet valid', anchor: rsa.cert, untrusted: [future.cert], leaf: issue(future, 'leaf-future'), code: 'DAVIS_ERR_SIG_CERT_EXPIRED' });

  // Named like Int-RSA, another key: the leaf's authority key identifier names the impostor's
  // key, so Int-RSA is no issuer of it (OpenSSL: unable to get local issuer certificate).
  const impostor = caDatabase('Int-Impostor', selfSigned('Int-Impostor', '/CN=Int-RSA', CA_EXT), keys.get('Int-Impostor-k')!);
  const forged = issue(impostor, 'leaf-forged', { ext: LEAF_EXT.replace('authorityKeyIdentifier=keyid:always\n', '') });
  cases.push({ name: 'leaf signature not made by its issuer', anchor: rsa.cert, untrusted: [int.cert], leaf: forged, code: 'DAVIS_ERR_SIG_CERT_UNTRUSTED' });
  // Without an authority key identifier only the name links it to Int-RSA: the path is built
  // and the signature check fails (OpenSSL: certificate signature failure).
  const forgedNoAkid = issue(impostor, 'leaf-forged-noakid', { ext: LEAF_EXT.replace('authorityKeyIdentifier=keyid:always\n', 'authorityKeyIdentifier=none\n') });
  cases.push({ name: 'leaf without key identifier, signature not made by the issuer it names', anchor: rsa.cert, untrusted: [int.cert], leaf: forgedNoAkid, code: 'DAVIS_ERR_SIG_CERT_SIGNATURE' });
  cases.push({ name: 'self-signed leaf not in the trust store', anchor: rsa.cert, untrusted: [], leaf: selfSigned('leaf-selfsigned', '/CN=leaf-selfsigned', LEAF_EXT), code: 'DAVIS_ERR_SIG_CERT_UNTRUSTED' });
  const stranger = root('Root-Stranger');
  cases.push({ name: 'leaf of a CA not trusted', anchor: rsa.cert, untrusted: [], leaf: issue(stranger, 'leaf-stranger'), code: 'DAVIS_ERR_SIG_CERT_UNTRUSTED' });
  cases.push({ name: 'intermediate not offered', anchor: rsa.cert, untrusted: [], leaf: issue(int, 'leaf-noint'), code: 'DAVIS_ERR_SIG_CERT_UNTRUSTED' });

  // Revocation: CRLs beside the anchor, for every CA of the chain.
  const crlRoot = root('Root-CRL');
  const crlInt = intermediate(crlRoot, 'Int-CRL');
  const revokedInt = intermediate(crlRoot, 'Int-CRL-Revoked');
  const goodLeaf = issue(crlInt, 'leaf-crl-good');
  const revokedLeaf = issue(crlInt, 'leaf-crl-revoked');
  const leafOfRevoked = issue(revokedInt, 'leaf-of-revoked-int');
  revoke(crlInt, revokedLeaf);
  revoke(crlRoot, revokedInt.cert);
  const rootCrl = crl(crlRoot, 'root');
  const intCrl = crl(crlInt, 'int');
  const revokedIntCrl = crl(revokedInt, 'revoked-int');
  cases.push({ name: 'good leaf, current CRLs', anchor: crlRoot.cert, untrusted: [crlInt.cert], leaf: goodLeaf, crls: [rootCrl, intCrl] });
  cases.push({ name: 'revoked leaf', anchor: crlRoot.cert, untrusted: [crlInt.cert], leaf: revokedLeaf, crls: [rootCrl, intCrl], code: 'DAVIS_ERR_SIG_CERT_REVOKED' });
  cases.push({ name: 'revoked intermediate', anchor: crlRoot.cert, untrusted: [revokedInt.cert], leaf: leafOfRevoked, crls: [rootCrl, revokedIntCrl], code: 'DAVIS_ERR_SIG_CERT_REVOKED' });
  const shortCrl = crl(crlInt, 'int-short', 1);
  cases.push({ name: 'stale CRL (past nextUpdate)', anchor: crlRoot.cert, untrusted: [crlInt.cert], leaf: goodLeaf, crls: [rootCrl, shortCrl], at: new Date(Date.now() + 2 * day), code: 'DAVIS_ERR_SIG_CERT_CRL_STALE' });
  const fakeCrlCa = caDatabase('Int-CRL-Fake', selfSigned('Int-CRL-Fake', '/CN=Int-CRL', CA_EXT), keys.get('Int-CRL-Fake-k')!);
  cases.push({ name: 'CRL not signed by the issuer', anchor: crlRoot.cert, untrusted: [crlInt.cert], leaf: goodLeaf, crls: [rootCrl, crl(fakeCrlCa, 'fake')], code: 'DAVIS_ERR_SIG_CERT_CRL_INVALID' });
}, 240_000);

describe('certification path validation agrees with openssl verify -x509_strict -auth_level 2', () => {
  it('covers at least 25 crafted chains, good and bad', () => {
    expect(cases.length).toBeGreaterThanOrEqual(25);
    expect(cases.filter((c) => c.code).length).toBeGreaterThanOrEqual(15);
    expect(cases.filter((c) => !c.code).length).toBeGreaterThanOrEqual(8);
  });

  it('gives the same verdict as OpenSSL on every chain, with the specific code', () => {
    const report = cases.map((c) => {
      const o = theirs(c);
      return { name: c.name, openssl: o.ok ? 'ok' : 'refused', ours: ours(c), expected: c.code ?? 'ok', detail: o.ok ? '' : o.out.split('\n').find((l) => l.startsWith('error')) ?? o.out };
    });
    for (const r of report) {
      expect({ name: r.name, verdict: r.ours === 'ok' ? 'ok' : 'refused' }).toEqual({ name: r.name, verdict: r.openssl });
      expect({ name: r.name, code: r.ours }).toEqual({ name: r.name, code: r.expected });
    }
  });
});

describe('OCSP against openssl ocsp as the responder', () => {
  let responder: ChildProcess | undefined;
  let url = '';
  let ca: Ca;
  let good = '';
  let revoked = '';

  beforeAll(async () => {
    ca = root('Root-OCSP');
    const ocspExt = 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=OCSPSigning\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid:always\n';
    const signer = issue(ca, 'ocsp-responder', { ext: ocspExt, keyName: 'ocsp-responder-k' });
    good = issue(ca, 'leaf-ocsp-good');
    revoked = issue(ca, 'leaf-ocsp-revoked');
    revoke(ca, revoked);
    const port = await freePort();
    responder = spawn('openssl', ['ocsp', '-index', path.join(DIR, 'Root-OCSP.db', 'index.txt'), '-port', String(port), '-ignore_err',
      '-rsigner', signer, '-rkey', keys.get('ocsp-responder-k')!, '-CA', ca.cert, '-nmin', '5'], { cwd: DIR, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    responder.stderr?.on('data', (d: Buffer) => { stderr += d.toString(); });
    // openssl ocsp says on stderr when it listens (on the IPv6 wildcard, IPv4 included). A
    // probe connection would block it: it serves one connection at a time.
    for (let k = 0; k < 100 && !stderr.includes('waiting for OCSP client connections'); k++) await new Promise((r) => setTimeout(r, 100));
    if (stderr.includes('waiting for OCSP client connections')) url = `http://localhost:${port}`;
    if (!url) throw new Error(`openssl ocsp did not start: ${stderr}`);
  }, 120_000);

  afterAll(() => {
    if (responder?.pid) responder.kill();
  });

  const pathOf = (leaf: string): ReturnType<typeof verifyCertificatePath> =>
    verifyCertificatePath(certificateInfo(new X509Certificate(fs.readFileSync(leaf))), [], loadTrustStore(ca.cert), Date.now());

  it('accepts a certificate the responder says is good', async () => {
    await expect(checkOcsp(pathOf(good), { url, timeoutMs: 5000 })).resolves.toBeUndefined();
  });

  it('refuses a certificate the responder says is revoked', async () => {
    await expect(checkOcsp(pathOf(revoked), { url, timeoutMs: 5000 })).rejects.toMatchObject({ code: 'DAVIS_ERR_SIG_CERT_REVOKED' });
  });

  it('refuses when the responder accepts the connection but never answers', async () => {
    const silent = net.createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const started = Date.now();
    try {
      const port = (silent.address() as net.AddressInfo).port;
      await expect(checkOcsp(pathOf(good), { url: `http://127.0.0.1:${port}`, timeoutMs: 300 })).rejects.toMatchObject({ code: 'DAVIS_ERR_SIG_CERT_OCSP' });
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      silent.close();
    }
  });

  it('refuses when nothing listens at the responder address', async () => {
    await expect(checkOcsp(pathOf(good), { url: `http://127.0.0.1:${await freePort()}`, timeoutMs: 2000 })).rejects.toMatchObject({ code: 'DAVIS_ERR_SIG_CERT_OCSP' });
  });
});
