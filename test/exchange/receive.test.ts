import { rmSync } from 'node:fs';
import path from 'node:path';
import { createDevPki } from '../../src/dev/dev-pki';
import { InboundService } from '../../src/exchange/receive';
import { Webhooks } from '../../src/exchange/uma-webhooks';
import { MemoryBroker } from '../../src/queue/memory-broker';
import { loadSigningKey, loadTrustStore } from '../../src/signing';
import type { SigningKey, TrustStore } from '../../src/signing/types';
import { signCanonical, verifyEnveloped } from '../../src/signing/xmldsig';
import { buildRequestXml } from '../../src/wire/envelope';
import { createXsdValidator } from '../../src/wire/xsd';
import { loadExamples } from '../validation/examples';
import { Scratch, silent, tempDir } from './fixtures';

/** Central → national notifications, through the service's one public method. */
describe('receive (inbound notifications) on the memory broker and a SQLite journal', () => {
  const pkiDir = tempDir('receive-pki');
  let central: SigningKey;
  let gateway: SigningKey;
  let trust: TrustStore;
  let s: Scratch;
  let broker: MemoryBroker;
  let inbound: InboundService;
  let n = 0;

  beforeAll(async () => {
    const files = await createDevPki(path.join(pkiDir, 'pki'), { days: 2 });
    central = loadSigningKey({ keyFile: files.centralKey, certFile: files.centralCert });
    gateway = loadSigningKey({ keyFile: files.gatewayKey, certFile: files.gatewayCert });
    trust = loadTrustStore(files.caCert);
  }, 60000);
  afterAll(() => rmSync(pkiDir, { recursive: true, force: true }));

  beforeEach(() => {
    s = new Scratch();
    broker = new MemoryBroker();
    const webhooks = new Webhooks({ url: 'http://127.0.0.1:9/hooks', maxAttempts: 3, retryBaseMs: 10, retryMaxMs: 50, timeoutMs: 1000 }, s.journal, broker, silent);
    inbound = new InboundService({ journal: s.journal, webhooks, trust: () => trust, signingKey: () => gateway, xsd: createXsdValidator(), logger: silent });
  });
  afterEach(async () => {
    await broker.close();
    await s.close();
  });

  const hit = () => loadExamples('vis.notification.hit').valid[0].payload as Record<string, unknown>;
  /** A notification as central sends it: the wire request, signed with central's key. */
  function notification(payload: unknown = hit(), type = 'vis.notification.hit', sender = 'EU'): { id: string; xml: string } {
    const id = `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`;
    return { id, xml: signCanonical(buildRequestXml({ messageId: id, type, sender, created: new Date().toISOString() }, payload), central) };
  }
  async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
    try {
      await p;
    } catch (err) {
      return (err as { code?: string }).code;
    }
    throw new Error('expected a rejection');
  }
  const journaled = async () => (await s.journal.list({})).items;

  it('journals a signed notification as inbound and delivered, acknowledges it signed, and queues the callback to UMA', async () => {
    const { id, xml } = notification();
    const r = await inbound.receive(xml, 'corr-1');
    expect(r.repeat).toBe(false);
    expect(r.record).toMatchObject({ id, type: 'vis.notification.hit', direction: 'inbound', state: 'delivered', orderingKey: hit().applicationNumber });
    expect(r.ackXml).toContain(`<w:InReplyTo>${id}</w:InReplyTo>`);
    expect(verifyEnveloped(r.ackXml, trust).certificate.subject).toBe(gateway.certificate.subject);
    expect(broker.queues.ready('webhook')).toEqual([{ messageId: id, event: 'notification.received', correlationId: 'corr-1' }]);
  });

  it('answers a repeated notification with a fresh acknowledgement, journaling it once', async () => {
    const { id, xml } = notification();
    await inbound.receive(xml, 'corr-1');
    const again = await inbound.receive(xml, 'corr-2');
    expect(again.repeat).toBe(true);
    expect(again.record.id).toBe(id);
    expect(again.ackXml).toContain(`<w:InReplyTo>${id}</w:InReplyTo>`);
    expect(await journaled()).toHaveLength(1);
    expect(broker.queues.ready('webhook')).toHaveLength(1);
  });

  it('refuses what is not a signed, well-formed notification, each with its code, journaling nothing', async () => {
    const { xml } = notification();
    const tampered = xml.replace(String(hit().applicationNumber), 'FI-TAMPERED-0001');
    expect(tampered).not.toBe(xml);
    const unsigned = buildRequestXml({ messageId: 'unsigned-1', type: 'vis.notification.hit', sender: 'EU', created: new Date().toISOString() }, hit());
    const cases: [string, string, string][] = [
      ['tampered after signing', tampered, 'DAVIS_ERR_SIG_DIGEST'],
      ['unsigned', unsigned, 'DAVIS_ERR_SIG_MISSING'],
      ['a DOCTYPE', `<!DOCTYPE x [<!ENTITY a "b">]>${xml}`, 'DAVIS_ERR_XML_DOCTYPE'],
      ['not XML', 'not xml at all', 'DAVIS_ERR_XML_MALFORMED'],
    ];
    for (const [what, body, code] of cases) expect([what, await codeOf(inbound.receive(body, 'c'))]).toEqual([what, code]);
    expect(await journaled()).toEqual([]);
    expect(broker.queues.ready('webhook')).toEqual([]);
  });

  it('refuses an outbound (national → central) type sent as a notification', async () => {
    // Signed by central's key, but a Member State's request (the builder gives an outbound type no EU sender).
    const { xml } = notification(loadExamples('vis.application.create').valid[0].payload, 'vis.application.create', 'FI');
    expect(await codeOf(inbound.receive(xml, 'c'))).toBe('DAVIS_ERR_CATALOGUE_UNKNOWN_TYPE');
    expect(await journaled()).toEqual([]);
  });

  it('refuses a notification whose message id an outbound message already has', async () => {
    const { id, xml } = notification();
    await s.insert('APP-1', { id });
    expect(await codeOf(inbound.receive(xml, 'c'))).toBe('DAVIS_ERR_VALIDATION_FAILED');
    expect((await journaled()).map((r) => r.direction)).toEqual(['outbound']);
  });
});
