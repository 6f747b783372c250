import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { checkpointBytes, type CheckpointDocument } from '../../src/audit/checkpoints';
import { freePort } from '../helpers/gateway-process';
import { AMQP_URL, api, deleteTopology, waitFor } from '../helpers/stack';

const ROOT = path.join(__dirname, '..', '..');
const BIN = path.join(ROOT, 'bin', 'davis.js');

function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('DAVIS_') && k !== 'AMQP_URL')), ...extra };
}

/** Starts `davis dev` on free ports in a fresh data dir; resolves once its banner is printed. */
async function startDev(dir: string, prefix: string, env: Record<string, string> = {}) {
  const [port, mockPort, controlPort] = [await freePort(), await freePort(), await freePort()];
  const cfg = path.join(dir, 'davis.json');
  writeFileSync(cfg, JSON.stringify({
    dataDir: path.join(dir, 'data'), amqp: { url: AMQP_URL, prefix }, mock: { port: mockPort, controlPort }, log: { level: 'warn' },
    audit: { checkpointIntervalMs: 1000 },
  }));
  const child = spawn(process.execPath, [BIN, 'dev', '--config', cfg], { env: cleanEnv({ DAVIS_PORT: String(port), ...env }), stdio: ['ignore', 'pipe', 'pipe'] });
  const io = { out: '', err: '' };
  child.stdout.on('data', (d: Buffer) => { io.out += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { io.err += d.toString(); });
  await waitFor(async () => io.out.includes('Stop with Ctrl-C') || child.exitCode !== null, 30000, 50);
  expect({ exit: child.exitCode, err: child.exitCode === null ? '' : io.err }).toEqual({ exit: null, err: '' });
  const stop = async (): Promise<unknown> => {
    const code = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    return code;
  };
  return { child, io, url: `http://127.0.0.1:${port}`, dataDir: path.join(dir, 'data'), stop };
}

async function deliver(url: string): Promise<string> {
  const payload = JSON.parse(readFileSync(path.join(ROOT, 'schemas/examples/vis.application.create/valid-adult-business-representation.json'), 'utf8'));
  payload.applicationNumber = `FI-TSA-${process.pid}-${Date.now().toString(36)}`.toUpperCase().slice(0, 30);
  const res = await api(url, 'POST', '/v1/messages', { type: 'vis.application.create', payload });
  expect(res.status).toBe(202);
  await waitFor(async () => (await api(url, 'GET', `/v1/messages/${res.json.id}`)).json.status === 'delivered');
  return res.json.id as string;
}

describe('davis dev runs a local RFC 3161 TSA for the audit checkpoints', () => {
  const dirs: string[] = [];
  const prefixes: string[] = [];
  afterAll(async () => {
    for (const p of prefixes) await deleteTopology(p, 8).catch(() => undefined);
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  test('prints the TSA in its banner, sets audit.tsaUrl to it, and the checkpoints carry tokens that openssl ts -verify accepts', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'davis-dev-tsa-'));
    dirs.push(dir);
    const prefix = `test.devtsa.${process.pid}.`;
    prefixes.push(prefix);
    const dev = await startDev(dir, prefix);
    try {
      const caFile = path.join(dev.dataDir, 'tsa', 'tsa-ca.crt.pem');
      expect(dev.io.out).toMatch(new RegExp(`  TSA {13}http://127\\.0\\.0\\.1:\\d+/tsa \\(RFC 3161, local; CA ${caFile.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}\\)`));
      expect(dev.io.out).toContain(`  checkpoints     ${path.join(dev.dataDir, 'audit-checkpoints')}`);
      const id = await deliver(dev.url);
      const cpDir = path.join(dev.dataDir, 'audit-checkpoints');
      const doc = await waitFor(async () => {
        let files: string[];
        try { files = readdirSync(cpDir).filter((f) => f.endsWith('.json')).sort(); } catch { return undefined; }
        const last = files.at(-1);
        return last ? JSON.parse(readFileSync(path.join(cpDir, last), 'utf8')) as CheckpointDocument : undefined;
      }, 20000);
      expect(typeof doc.timestamp).toBe('string');
      const body = path.join(dir, 'checkpoint-body.json');
      const token = path.join(dir, 'token.der');
      writeFileSync(body, checkpointBytes(doc.checkpoint));
      writeFileSync(token, Buffer.from(doc.timestamp!, 'base64'));
      const out = execFileSync('openssl', ['ts', '-verify', '-data', body, '-token_in', '-in', token, '-CAfile', caFile], { encoding: 'utf8', stdio: 'pipe' });
      expect(out).toContain('Verification: OK');
      // The evidence the gateway exports carries the token too.
      const ev = await api(dev.url, 'GET', `/v1/messages/${id}/evidence`);
      expect(typeof ev.json.checkpoint.timestamp).toBe('string');
      expect(ev.json.missing).toEqual([]);
      expect(dev.io.err).not.toMatch(/not time-stamped/);
      expect(await dev.stop()).toBe(0);
    } finally {
      dev.child.kill('SIGKILL');
    }
  }, 90000);

  test('without openssl it says so and runs without timestamps', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'davis-dev-nossl-'));
    dirs.push(dir);
    const prefix = `test.devnossl.${process.pid}.`;
    prefixes.push(prefix);
    const empty = path.join(dir, 'empty-path');
    mkdirSync(empty);
    const dev = await startDev(dir, prefix, { PATH: empty });
    try {
      expect(dev.io.err).toContain('davis dev: openssl is not installed, so there is no local time-stamping authority: audit checkpoints are signed but not time-stamped');
      expect(dev.io.out).toContain('  TSA             none: audit checkpoints are not time-stamped');
      const id = await deliver(dev.url);
      const ev = await api(dev.url, 'GET', `/v1/messages/${id}/evidence`);
      expect(ev.status).toBe(200);
      expect(ev.json.checkpoint.timestamp).toBeUndefined();
      expect(ev.json.missing).toEqual([expect.stringMatching(/^timestamp: no RFC 3161 token/)]);
      expect(await dev.stop()).toBe(0);
    } finally {
      dev.child.kill('SIGKILL');
    }
  }, 90000);
});
