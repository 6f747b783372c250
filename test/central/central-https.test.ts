import http from 'node:http';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { HttpsCentralClient } from '../../src/central/central-https';
import { isDavisError } from '../../src/errors/errors';
import { sharedPki } from '../helpers/stack';

/** A central that answers one byte every `everyMs` (never idle long enough for a socket timeout), on 127.0.0.1. */
function trickler(server: http.Server, everyMs: number): void {
  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/xml' });
      const t = setInterval(() => res.write('<'), everyMs);
      res.on('close', () => clearInterval(t));
    });
  });
}

async function listen(server: http.Server): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}

async function refusal(p: Promise<unknown>): Promise<{ code: string; cause: string | undefined; ms: number }> {
  const t0 = performance.now();
  try {
    await p;
  } catch (err) {
    if (!isDavisError(err)) throw err;
    return { code: err.code, cause: (err.cause as NodeJS.ErrnoException | undefined)?.code, ms: performance.now() - t0 };
  }
  throw new Error('the request did not fail');
}

describe('the central client bounds each request by an overall deadline', () => {
  const servers: http.Server[] = [];
  afterAll(async () => { for (const s of servers) { s.closeAllConnections(); await new Promise((r) => s.close(r)); } });

  test('a plain-HTTP central trickling a byte every 100 ms is cut off after timeoutMs with DAVIS_ERR_CENTRAL_TRANSPORT', async () => {
    const server = http.createServer();
    servers.push(server);
    trickler(server, 100);
    const port = await listen(server);
    const client = new HttpsCentralClient({ url: `http://127.0.0.1:${port}/vis`, timeoutMs: 800 });
    try {
      const r = await refusal(client.send('<Request/>', 'm-1'));
      expect([r.code, r.cause]).toEqual(['DAVIS_ERR_CENTRAL_TRANSPORT', 'ETIMEDOUT']);
      expect(r.ms).toBeGreaterThanOrEqual(750);
      expect(r.ms).toBeLessThan(2500);
    } finally {
      client.close();
    }
  });

  test('the same over mutual TLS', async () => {
    const { files: pki } = await sharedPki();
    const server = https.createServer({ cert: readFileSync(pki.centralCert), key: readFileSync(pki.centralKey), ca: readFileSync(pki.caCert), requestCert: true });
    servers.push(server);
    trickler(server, 100);
    const port = await listen(server);
    const client = new HttpsCentralClient({
      url: `https://127.0.0.1:${port}/vis`, caFile: pki.caCert, certFile: pki.gatewayCert, keyFile: pki.gatewayKey, timeoutMs: 800,
    });
    try {
      const r = await refusal(client.send('<Request/>', 'm-2'));
      expect([r.code, r.cause]).toEqual(['DAVIS_ERR_CENTRAL_TRANSPORT', 'ETIMEDOUT']);
      expect(r.ms).toBeLessThan(2500);
    } finally {
      client.close();
    }
  });

  test('an answer that completes within the deadline is returned whole', async () => {
    const server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/xml' });
        let n = 0;
        const t = setInterval(() => { res.write('<a/>'); if (++n === 3) { clearInterval(t); res.end(); } }, 50);
      });
    });
    servers.push(server);
    const port = await listen(server);
    const client = new HttpsCentralClient({ url: `http://127.0.0.1:${port}/vis`, timeoutMs: 2000 });
    try {
      expect(await client.send('<Request/>', 'm-3')).toEqual({ status: 200, body: '<a/><a/><a/>' });
    } finally {
      client.close();
    }
  });

  test('the probe has a deadline too', async () => {
    const server = http.createServer();
    servers.push(server);
    server.on('request', (_req: http.IncomingMessage, res: http.ServerResponse) => {
      res.writeHead(200);
      const t = setInterval(() => res.write('.'), 100);
      res.on('close', () => clearInterval(t));
    });
    const port = await listen(server);
    const client = new HttpsCentralClient({ url: `http://127.0.0.1:${port}/vis`, timeoutMs: 600 });
    try {
      const r = await refusal(client.probe());
      expect([r.code, r.cause]).toEqual(['DAVIS_ERR_CENTRAL_TRANSPORT', 'ETIMEDOUT']);
      expect(r.ms).toBeLessThan(2500);
    } finally {
      client.close();
    }
  });
});
