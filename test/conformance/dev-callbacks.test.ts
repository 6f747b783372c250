import { WebhookReceiver } from '../../src/conformance/http';
import { startStack, waitFor, type Stack } from '../helpers/stack';
import { conformance, SUITE_DIR } from './helpers';

describe('callbacks read from a receiver of another process (the one davis dev runs)', () => {
  let s: Stack;
  let receiver: WebhookReceiver;
  let receiverUrl: string;
  beforeAll(async () => {
    // What `davis dev` does: a loopback receiver with a secret, and the gateway's webhook.url at it.
    const secret = 'dev-receiver-secret-0123456789';
    receiver = new WebhookReceiver(secret);
    receiverUrl = (await receiver.start(0)).replace(/\/$/, '');
    s = await startStack({ central: { retryBaseMs: 100 }, webhook: { url: `${receiverUrl}/hooks`, secret, retryBaseMs: 100 } });
    // The start's own work can leave the event-loop delay over the overload limit for a moment.
    await waitFor(async () => (await fetch(`${s.url}/ops`)).status === 200);
  });
  afterAll(async () => {
    await s.stop();
    await receiver.stop();
  });

  test('without --webhook-port the callback cases run against --webhook-receiver, signatures checked', async () => {
    const r = await conformance(['run', SUITE_DIR, '--gateway', s.url, '--mock-control', s.controlUrl, '--grep', '^COMP-HOOK-001$', '--webhook-receiver', receiverUrl]);
    expect(r.out).toMatch(/1\/1 PASS COMP-HOOK-001/);
    expect(r.code).toBe(0);
    expect(receiver.received.length).toBeGreaterThan(0);
  }, 60000);

  test('a receiver the gateway does not post to fails the case; nothing listening there skips it, saying where it looked', async () => {
    const wrong = new WebhookReceiver('another-secret-0123456789abc');
    const wrongUrl = (await wrong.start(0)).replace(/\/$/, '');
    try {
      // The gateway still posts to the first receiver: the second one sees nothing.
      const r = await conformance(['run', SUITE_DIR, '--gateway', s.url, '--mock-control', s.controlUrl, '--grep', '^COMP-HOOK-001$', '--webhook-receiver', wrongUrl, '--timeout', '3s']);
      expect(r.out).toMatch(/FAIL COMP-HOOK-001/);
      expect(r.code).toBe(1);
    } finally {
      await wrong.stop();
    }
    const none = await conformance(['run', SUITE_DIR, '--gateway', s.url, '--mock-control', s.controlUrl, '--grep', '^COMP-HOOK-001$', '--webhook-receiver', 'http://127.0.0.1:9']);
    expect(none.out).toMatch(/SKIP COMP-HOOK-001/);
    expect(none.out).toContain('http://127.0.0.1:9');
  }, 60000);

  test('--webhook-receiver takes a base URL only', async () => {
    const r = await conformance(['run', SUITE_DIR, '--webhook-receiver', 'not a url']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--webhook-receiver/);
  });
});
