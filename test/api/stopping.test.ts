import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { freshApplication } from '../helpers/payloads';
import { startApi, type ApiHarness } from './harness';

interface RawAnswer { status: number; headers: Record<string, string>; body: string }

/**
 * A connection with a request begun: the request line and some headers are sent, the rest
 * waits for `finish`. A connection in the middle of a request is not idle, so the server's
 * close does not drop it; the request is routed only once `finish` completes it.
 */
async function begun(port: number, head: string): Promise<{ finish(rest: string): Promise<RawAnswer> }> {
  const sock = net.connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => { sock.once('connect', () => resolve()); sock.once('error', reject); });
  const chunks: Buffer[] = [];
  sock.on('data', (c: Buffer) => chunks.push(c));
  const ended = new Promise<void>((resolve) => sock.once('close', () => resolve()));
  sock.write(head);
  return {
    async finish(rest) {
      sock.write(rest);
      await ended;
      const text = Buffer.concat(chunks).toString('utf8');
      const [top, ...body] = text.split('\r\n\r\n');
      const [statusLine, ...lines] = top.split('\r\n');
      const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
      return { status: Number(statusLine.split(' ')[1]), headers, body: body.join('\r\n\r\n') };
    },
  };
}

describe('a gateway that is stopping answers what still reaches it with a coded 503 and Retry-After', () => {
  let h: ApiHarness;
  let stopped: Promise<void> | undefined;
  beforeAll(async () => { h = await startApi(); }, 60000);
  afterAll(async () => { await (stopped ?? h.stop()); });

  test('requests arriving on open connections after the stop began: 503 DAVIS_ERR_STOPPING, Retry-After, Connection: close and the edge\'s headers', async () => {
    await h.gw.app.listen({ port: 0, host: '127.0.0.1' });
    const port = (h.gw.app.server.address() as AddressInfo).port;
    const body = JSON.stringify({ type: 'vis.application.create', payload: freshApplication() });
    // Loopback is the dev client: without the stop, this submission would be accepted (202).
    const submit = await begun(port, `POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n`);
    const ready = await begun(port, 'GET /health/ready HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    stopped = h.stop();
    await new Promise((r) => setTimeout(r, 300));

    const answers = [await submit.finish(`Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`), await ready.finish('\r\n')];
    for (const a of answers) {
      expect(a.status).toBe(503);
      expect(a.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(Number(a.headers['retry-after'])).toBeGreaterThan(0);
      expect(a.headers.connection).toBe('close');
      expect(a.headers['content-security-policy']).toContain("default-src 'none'");
      expect(a.headers['x-correlation-id']).toMatch(/./);
      const doc = JSON.parse(a.body) as { status: number; code: string; retryable: boolean; correlationId: string };
      expect(doc).toMatchObject({ status: 503, code: 'DAVIS_ERR_STOPPING', retryable: true, correlationId: a.headers['x-correlation-id'] });
    }
    await stopped;
  }, 60000);
});
