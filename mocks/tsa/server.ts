/**
 * A local RFC 3161 time-stamping authority for tests and development: an HTTP responder
 * (RFC 3161 §3.4: POST `application/timestamp-query`, answer `application/timestamp-reply`)
 * whose every answer is made by `openssl ts -reply`, so the tokens are OpenSSL's own and
 * verify with `openssl ts -verify … -CAfile <caFile>`.
 *
 * Its PKI is made with openssl on first use in `dir`: a CA, and a TSA certificate with the
 * critical extended key usage timeStamping that RFC 3161 §2.3 requires. Never for production.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Options of {@link MockTsa}. */
export interface MockTsaOptions {
  /** Folder for the TSA's keys, certificates, serial file and scratch files; created if absent. */
  readonly dir: string;
  /** @default "127.0.0.1" */
  readonly host?: string;
  /** 0 picks a free port. @default 0 */
  readonly port?: number;
  /** Policy OID written in every token. @default "1.2.3.4.1" (the example arc of the openssl ts manual) */
  readonly policy?: string;
}

/** Files of the TSA's PKI. */
export interface MockTsaFiles {
  /** The CA that issued the TSA's certificate: what a verifier trusts (`-CAfile`). */
  readonly caFile: string;
  readonly certFile: string;
  readonly keyFile: string;
  readonly configFile: string;
}

/** Largest query accepted, bytes (a SHA-512 query is about 100). */
const MAX_QUERY = 16 * 1024;

/**
 * Creates the TSA's CA, key, certificate and `openssl ts` configuration in `dir` unless they
 * exist. Returns their paths.
 */
export async function createTsaPki(dir: string, policy = '1.2.3.4.1'): Promise<MockTsaFiles> {
  mkdirSync(dir, { recursive: true });
  const f = (n: string) => path.join(dir, n);
  const files: MockTsaFiles = { caFile: f('tsa-ca.crt.pem'), certFile: f('tsa.crt.pem'), keyFile: f('tsa.key.pem'), configFile: f('tsa.cnf') };
  if (!existsSync(files.certFile)) {
    await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('tsa-ca.key.pem'), '-out', files.caFile, '-days', '3650',
      '-subj', '/O=DAVIS development/CN=DAVIS dev TSA CA', '-addext', 'basicConstraints=critical,CA:TRUE',
      '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-addext', 'subjectKeyIdentifier=hash']);
    await run('openssl', ['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', files.keyFile, '-out', f('tsa.csr'),
      '-subj', '/O=DAVIS development/CN=DAVIS dev TSA']);
    writeFileSync(f('tsa.ext'), [
      'basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature,nonRepudiation',
      'extendedKeyUsage=critical,timeStamping', 'subjectKeyIdentifier=hash', 'authorityKeyIdentifier=keyid', '',
    ].join('\n'));
    await run('openssl', ['x509', '-req', '-in', f('tsa.csr'), '-CA', files.caFile, '-CAkey', f('tsa-ca.key.pem'), '-set_serial', `0x${Date.now().toString(16)}`,
      '-days', '3650', '-extfile', f('tsa.ext'), '-out', files.certFile]);
    rmSync(f('tsa.csr'), { force: true });
  }
  if (!existsSync(f('tsa.serial'))) writeFileSync(f('tsa.serial'), '01\n');
  writeFileSync(files.configFile, `
[ tsa ]
default_tsa = tsa_config

[ tsa_config ]
serial = ${f('tsa.serial')}
crypto_device = builtin
signer_cert = ${files.certFile}
signer_key = ${files.keyFile}
signer_digest = sha256
default_policy = ${policy}
digests = sha256, sha384, sha512
accuracy = secs:1
clock_precision_digits = 3
ordering = no
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
`);
  return files;
}

/** The mock TSA. */
export class MockTsa {
  private server?: http.Server;
  private queue: Promise<unknown> = Promise.resolve();
  private files?: MockTsaFiles;
  private n = 0;
  /** Answers given (granted tokens). */
  issued = 0;
  /** While set, every request is answered with this HTTP status instead (to test a TSA outage). */
  failWith?: number;

  constructor(private readonly opts: MockTsaOptions) {}

  /** The TSA's PKI files (after `start`). */
  get pki(): MockTsaFiles {
    if (!this.files) throw new Error('mock TSA not started');
    return this.files;
  }

  /** Creates the PKI if needed and listens; resolves with the URL to POST queries to. */
  async start(): Promise<{ url: string; caFile: string }> {
    this.files = await createTsaPki(this.opts.dir, this.opts.policy);
    const server = http.createServer((req, res) => void this.handle(req, res));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.opts.port ?? 0, this.opts.host ?? '127.0.0.1', resolve);
    });
    const a = server.address() as AddressInfo;
    return { url: `http://${a.address}:${a.port}/tsa`, caFile: this.files.caFile };
  }

  /** Stops listening. */
  async stop(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (s) await new Promise<void>((r) => { s.close(() => r()); s.closeAllConnections(); });
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of req) {
      size += (c as Buffer).length;
      if (size > MAX_QUERY) { res.writeHead(413).end(); return; }
      chunks.push(c as Buffer);
    }
    if (req.method !== 'POST') { res.writeHead(405, { allow: 'POST' }).end(); return; }
    if (!String(req.headers['content-type'] ?? '').startsWith('application/timestamp-query')) { res.writeHead(415).end(); return; }
    if (this.failWith) { res.writeHead(this.failWith).end(); return; }
    try {
      const reply = await this.reply(Buffer.concat(chunks));
      this.issued++;
      res.writeHead(200, { 'content-type': 'application/timestamp-reply', 'content-length': reply.length }).end(reply);
    } catch {
      res.writeHead(400).end();
    }
  }

  /** One `openssl ts -reply` at a time: they share the serial file. */
  private reply(query: Buffer): Promise<Buffer> {
    const next = this.queue.then(async () => {
      const id = ++this.n;
      const q = path.join(this.opts.dir, `q${id}.tsq`);
      const r = path.join(this.opts.dir, `r${id}.tsr`);
      writeFileSync(q, query);
      try {
        await run('openssl', ['ts', '-reply', '-config', this.pki.configFile, '-queryfile', q, '-out', r]);
        return readFileSync(r);
      } finally {
        rmSync(q, { force: true });
        rmSync(r, { force: true });
      }
    });
    this.queue = next.catch(() => undefined);
    return next;
  }
}
