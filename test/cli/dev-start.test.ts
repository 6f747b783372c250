import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../helpers/gateway-process';
import { AMQP_URL, api, deleteTopology, waitFor } from '../helpers/stack';

const ROOT = path.join(__dirname, '..', '..');
const BIN = path.join(ROOT, 'bin', 'davis.js');
const README = readFileSync(path.join(ROOT, 'README.md'), 'utf8');

function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('DAVIS_') && k !== 'AMQP_URL')), ...extra };
}

describe('davis dev (what npm start runs)', () => {
  test('starts gateway, mock central and dev PKI, prints the addresses, delivers the README example, and stops cleanly on SIGTERM', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'davis-dev-'));
    const prefix = `test.dev.${process.pid}.`;
    const [port, mockPort, controlPort] = [await freePort(), await freePort(), await freePort()];
    const cfg = path.join(dir, 'davis.json');
    writeFileSync(cfg, JSON.stringify({ dataDir: path.join(dir, 'data'), amqp: { url: AMQP_URL, prefix }, mock: { port: mockPort, controlPort }, log: { level: 'warn' } }));
    const child = spawn(process.execPath, [BIN, 'dev', '--config', cfg], { env: cleanEnv({ DAVIS_PORT: String(port) }), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (d) => { out += d; });
    try {
      await waitFor(async () => out.includes('Stop with Ctrl-C'), 30000, 50);
      expect(out).toContain(`http://127.0.0.1:${port}/v1/messages`);
      expect(out).toContain(`https://127.0.0.1:${mockPort}/vis/v1/messages`);
      expect(out).toContain(`http://127.0.0.1:${controlPort}/_mock/received`);
      // The README's curl example, with its example file.
      const file = /-d "\{\\"type\\":\\"vis\.application\.create\\",\\"payload\\":\$\(cat ([^)]+)\)\}"/.exec(README)?.[1];
      expect(file).toBeDefined();
      const payload = JSON.parse(readFileSync(path.join(ROOT, file!), 'utf8'));
      const res = await api(`http://127.0.0.1:${port}`, 'POST', '/v1/messages', { type: 'vis.application.create', payload });
      expect(res.status).toBe(202);
      const doc = await waitFor(async () => {
        const s = await api(`http://127.0.0.1:${port}`, 'GET', `/v1/messages/${res.json.id}`);
        return s.json.status === 'delivered' && s.json;
      });
      expect(doc.central.reference).toMatch(/^VIS-FI-/);
      const code = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      expect(await code).toBe(0);
    } finally {
      child.kill('SIGKILL');
      await deleteTopology(prefix, 8).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60000);

  test('without a reachable broker it names every node tried (passwords hidden), explains how to start one and exits with code 2', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'davis-nobroker-'));
    const cfg = path.join(dir, 'davis.json');
    writeFileSync(cfg, JSON.stringify({ dataDir: path.join(dir, 'data'), mock: { port: await freePort(), controlPort: await freePort() } }));
    const child = spawn(process.execPath, [BIN, 'dev', '--config', cfg], { env: cleanEnv({ AMQP_URL: 'amqp://guest:guest@127.0.0.1:1,amqp://davis:s3cret@127.0.0.1:2', DAVIS_PORT: String(await freePort()) }), stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr!.on('data', (d) => { err += d; });
    const code = await new Promise((r) => child.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
    expect(code).toBe(2);
    expect(err).toContain('cannot reach RabbitMQ at amqp://guest:***@127.0.0.1:1, amqp://davis:***@127.0.0.1:2 (');
    expect(err).not.toContain('s3cret');
    expect(err).toContain('rabbitmq-server');
    expect(err).toContain('docker compose up');
  }, 30000);

  test('an unknown configuration key stops the start, naming the key (exit 2)', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'davis-badcfg-'));
    const cfg = path.join(dir, 'davis.json');
    writeFileSync(cfg, JSON.stringify({ gateway: { prot: 1 } }));
    const child = spawn(process.execPath, [BIN, 'serve', '--config', cfg], { env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr!.on('data', (d) => { err += d; });
    const code = await new Promise((r) => child.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
    expect(code).toBe(2);
    expect(err).toContain('DAVIS_ERR_CONFIG_INVALID');
    expect(err).toContain('gateway.prot');
  });

  test('--help answers for every command', async () => {
    for (const cmd of ['dev', 'serve', 'mock-vis', 'validate', 'sign', 'verify', 'certs', 'catalogue']) {
      const child = spawn(process.execPath, [BIN, cmd, '--help'], { env: cleanEnv() });
      let out = '';
      child.stdout!.on('data', (d) => { out += d; });
      expect(await new Promise((r) => child.once('exit', r))).toBe(0);
      expect(out).toMatch(new RegExp(`Usage: davis ${cmd}`));
    }
  }, 30000);
});
