import net from 'node:net';
import type { InjectOptions } from 'fastify';
import { buildRequestXml } from '../../src/wire/envelope';
import { freshApplication } from '../helpers/payloads';
import { problem, REMOTE, startApi, TOKENS, type ApiHarness } from './harness';

const OLD = process.env.OLD === '1';
const TYPE = 'vis.application.create';
const json = (body: unknown): string => JSON.stringify(body);
const valid = (): string => json({ type: TYPE, payload: freshApplication() });
const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

describe('api edge: authentication before parsing, strict bodies, problem documents, query schemas', () => {
  let h: ApiHarness;
  beforeAll(async () => { h = await startApi(OLD ? {} : { requestTimeoutMs: 7000, headersTimeoutMs: 6000, keepAliveTimeoutMs: 4000 }); }, 60000);
  afterAll(async () => { await h.stop(); });
  const inject = (o: InjectOptions) => h.gw.app.inject(o);
  const post = (payload: string | Buffer, headers: Record<string, string> = {}, url = '/v1/messages') =>
    inject({ method: 'POST', url, payload, headers: { 'content-type': 'application/json', ...headers } });

  describe('authentication and the role check come before any body is read', () => {
    test('unauthenticated malformed JSON is 401, not 400', async () => {
      const res = await inject({ method: 'POST', url: '/v1/messages', remoteAddress: REMOTE, payload: '{"type": ', headers: { 'content-type': 'application/json' } });
      expect([res.statusCode, problem(res).code]).toEqual([401, 'DAVIS_ERR_AUTH_REQUIRED']);
    });

    test('an unknown bearer token is 401 even with an unreadable body', async () => {
      const res = await post('{{{', bearer('nope'));
      expect([res.statusCode, problem(res).code]).toEqual([401, 'DAVIS_ERR_AUTH_REQUIRED']);
    });

    test('a client without the operator role listing messages is 403 before its query is checked', async () => {
      const res = await inject({ method: 'GET', url: '/v1/messages?limit=ten', headers: bearer(TOKENS.uma) });
      expect([res.statusCode, problem(res).code]).toEqual([403, 'DAVIS_ERR_AUTH_FORBIDDEN']);
    });

    test('the operator token lists; the dev client on loopback lists; a remote caller without credentials is 401', async () => {
      expect((await inject({ method: 'GET', url: '/v1/messages', headers: bearer(TOKENS.admin) })).statusCode).toBe(200);
      expect((await inject({ method: 'GET', url: '/v1/messages' })).statusCode).toBe(200);
      const res = await inject({ method: 'GET', url: '/v1/messages', remoteAddress: REMOTE });
      expect([res.statusCode, problem(res).code]).toEqual([401, 'DAVIS_ERR_AUTH_REQUIRED']);
    });

    test('the central endpoint refuses a caller without central\'s credentials before looking at the body', async () => {
      const res = await inject({ method: 'POST', url: '/v1/central/notifications', remoteAddress: REMOTE, payload: '{"x":', headers: { 'content-type': 'application/json' } });
      expect([res.statusCode, problem(res).code]).toEqual([401, 'DAVIS_ERR_AUTH_REQUIRED']);
    });

    test('the operations summary needs the operator role', async () => {
      const res = await inject({ method: 'GET', url: '/ops/summary', headers: bearer(TOKENS.uma) });
      expect([res.statusCode, problem(res).code]).toEqual([403, 'DAVIS_ERR_AUTH_FORBIDDEN']);
      expect((await inject({ method: 'GET', url: '/ops/summary', headers: bearer(TOKENS.admin) })).statusCode).toBe(200);
    });
  });

  describe('bodies must be UTF-8, declared as such, without duplicate keys', () => {
    test('a valid body is accepted (the baseline the refusals below differ from)', async () => {
      expect((await post(valid())).statusCode).toBe(202);
    });

    const bad: Record<string, number[]> = {
      'stray 0xff 0xfe': [0xff, 0xfe],
      'overlong "/"': [0xc0, 0xaf],
      'truncated sequence': [0xe2, 0x82],
      'encoded surrogate': [0xed, 0xa0, 0x80],
    };
    test.each(Object.entries(bad))('not UTF-8 (%s) is 400 DAVIS_ERR_REQUEST_ENCODING, never replaced by U+FFFD', async (_name, bytes) => {
      const p = freshApplication();
      const text = json({ type: TYPE, payload: { ...p, applicant: { ...p.applicant, surname: 'VantaMARKblackova' } } });
      const [a, b] = text.split('MARK');
      const res = await post(Buffer.concat([Buffer.from(a), Buffer.from(bytes), Buffer.from(b)]));
      expect([res.statusCode, problem(res).code]).toEqual([400, 'DAVIS_ERR_REQUEST_ENCODING']);
    });

    test('an XML body that is not UTF-8 is 400 DAVIS_ERR_REQUEST_ENCODING', async () => {
      const xml = buildRequestXml({ messageId: '0badc0de-0000-4000-8000-0000000000e1', type: TYPE, sender: 'FI', created: new Date().toISOString() }, freshApplication());
      const i = xml.indexOf('</');
      const res = await post(Buffer.concat([Buffer.from(xml.slice(0, i)), Buffer.from([0xff]), Buffer.from(xml.slice(i))]), { 'content-type': 'application/xml' });
      expect([res.statusCode, problem(res).code]).toEqual([400, 'DAVIS_ERR_REQUEST_ENCODING']);
    });

    test.each(['application/json; charset=iso-8859-1', 'application/json; charset=utf-16', 'application/xml; charset=windows-1252'])(
      'a declared charset other than UTF-8 (%s) is 415 DAVIS_ERR_REQUEST_CHARSET', async (ct) => {
        const res = await post(valid(), { 'content-type': ct });
        expect([res.statusCode, problem(res).code]).toEqual([415, 'DAVIS_ERR_REQUEST_CHARSET']);
      });

    test.each(['application/json; charset=utf-8', 'application/json; charset="UTF-8"', 'application/json;charset=Utf-8'])('charset UTF-8 (%s) is fine', async (ct) => {
      expect((await post(valid(), { 'content-type': ct })).statusCode).toBe(202);
    });

    test.each([
      ['top level', (t: string) => `{"type":"x",${t.slice(1)}`],
      ['same key twice, same value', (t: string) => `{"type":"${TYPE}",${t.slice(1)}`],
      ['spelled with an escape', (t: string) => `{"\\u0074ype":"x",${t.slice(1)}`],
      ['nested', (t: string) => t.replace('"payload":{', '"payload":{"applicationNumber":"A1",')],
    ])('duplicate keys (%s) are 400 DAVIS_ERR_REQUEST_DUPLICATE_KEY', async (_name, mutate) => {
      const res = await post(mutate(valid()));
      expect([res.statusCode, problem(res).code]).toEqual([400, 'DAVIS_ERR_REQUEST_DUPLICATE_KEY']);
    });

    test('the same key name in different objects is not a duplicate', async () => {
      const res = await post(json({ type: TYPE, payload: { ...freshApplication(), x: { type: 1 } } }));
      expect(problem(res).code).toBe('DAVIS_ERR_VALIDATION_FAILED');
    });

    test('a JSON string holding a wire Request is never read as XML', async () => {
      const xml = buildRequestXml({ messageId: '0badc0de-0000-4000-8000-0000000000e2', type: TYPE, sender: 'FI', created: new Date().toISOString() }, freshApplication());
      const asXml = await post(xml, { 'content-type': 'application/xml' });
      expect(asXml.statusCode).toBe(202);
      const asJson = await post(json(xml.replace('0000000000e2', '0000000000e3')));
      expect([asJson.statusCode, problem(asJson).code]).toEqual([422, 'DAVIS_ERR_VALIDATION_FAILED']);
      const notify = await post(json(xml), {}, '/v1/central/notifications');
      expect([notify.statusCode, problem(notify).code]).toEqual([415, 'DAVIS_ERR_REQUEST_UNSUPPORTED_MEDIA']);
    });
  });

  describe('every error is a problem document with a DAVIS code, fastify\'s own too', () => {
    test.each([
      ['GET', '/v1/messages/%zz', 400, 'DAVIS_ERR_REQUEST_BAD_URL'],
      ['GET', `/v1/messages/${'a'.repeat(300)}`, 414, 'DAVIS_ERR_REQUEST_URI_TOO_LONG'],
      ['GET', '/no/such/route', 404, 'DAVIS_ERR_NOT_FOUND'],
      ['DELETE', '/v1/messages', 404, 'DAVIS_ERR_NOT_FOUND'],
    ])('%s %s → %i %s', async (method, url, status, code) => {
      const res = await inject({ method: method, url });
      expect([res.statusCode, problem(res).code]).toEqual([status, code]);
    });

    test.each([
      ['text/plain', 'x', 415, 'DAVIS_ERR_REQUEST_UNSUPPORTED_MEDIA'],
      ['application/json', '', 400, 'DAVIS_ERR_REQUEST_MALFORMED'],
      ['application/json', '{"type":', 400, 'DAVIS_ERR_REQUEST_MALFORMED'],
    ])('body %s %j → %i %s', async (ct, body, status, code) => {
      const res = await post(body, { 'content-type': ct });
      expect([res.statusCode, problem(res).code]).toEqual([status, code]);
    });
  });

  describe('GET /v1/messages: the query is checked by schema; nothing is clamped or ignored', () => {
    test.each([
      ['type=a&type=b', '/query/type'],
      ['status=a&status=b', '/query/status'],
      ['limit=0', '/query/limit'],
      ['limit=5000', '/query/limit'],
      ['limit=1.5', '/query/limit'],
      ['limit=ten', '/query/limit'],
      ['status=lost', '/query/status'],
      ['direction=sideways', '/query/direction'],
      ['from=yesterday', '/query/from'],
      ['cursor=garbage', '/query/cursor'],
      [`cursor=${Buffer.from('not-a-time|x').toString('base64url')}`, '/query/cursor'],
    ])('%s → 422 at %s', async (qs, pointer) => {
      const res = await inject({ method: 'GET', url: `/v1/messages?${qs}` });
      const doc = problem(res);
      expect([res.statusCode, doc.code]).toEqual([422, 'DAVIS_ERR_VALIDATION_FAILED']);
      expect((doc.errors as { pointer: string }[]).map((e) => e.pointer)).toContain(pointer);
    });

    test('limit 1 and the cursor it returns page through the messages', async () => {
      await post(valid());
      await post(valid());
      const first = await inject({ method: 'GET', url: `/v1/messages?limit=1&type=${TYPE}` });
      expect(first.statusCode).toBe(200);
      const page1 = first.json<{ items: { id: string }[]; next: string }>();
      expect(page1.items).toHaveLength(1);
      const second = await inject({ method: 'GET', url: `/v1/messages?limit=1000&cursor=${page1.next}` });
      expect(second.statusCode).toBe(200);
      const ids = second.json<{ items: { id: string }[] }>().items.map((i) => i.id);
      expect(ids.length).toBeGreaterThan(0);
      expect(ids).not.toContain(page1.items[0].id);
    });
  });

  describe('timeouts and aborts', () => {
    test('request, header and keep-alive timeouts come from the configuration', () => {
      const server = h.gw.app.server;
      expect([server.requestTimeout, server.headersTimeout, server.keepAliveTimeout]).toEqual([7000, 6000, 4000]);
    });

    test('a client that aborts its body is not logged as an internal error', async () => {
      await h.gw.app.listen({ host: '127.0.0.1', port: 0 });
      const { port } = h.gw.app.server.address() as net.AddressInfo;
      const before = h.logs.lines.length;
      await new Promise<void>((resolve) => {
        const sock = net.connect(port, '127.0.0.1', () => {
          sock.write('POST /v1/messages HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"type":"');
          setTimeout(() => { sock.destroy(); resolve(); }, 200);
        });
      });
      await new Promise((r) => setTimeout(r, 300));
      const lines = h.logs.lines.slice(before).map((l) => JSON.parse(l) as { level: number; msg: string });
      expect(lines.filter((l) => l.level >= 50)).toEqual([]);
    });
  });
});
