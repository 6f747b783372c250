/**
 * Central is central: a signature that chains to the anchors is not enough, the signer must
 * be the pinned central. The development PKI issues central, the gateway and the UMA client
 * from one CA, which is exactly the set-up where "chains to a trusted CA" lets anyone pass
 * for central.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { X509Certificate, randomUUID } from 'node:crypto';
import { loadSigningKey, loadTrustStore } from '../../src/signing/key-files';
import { DEV_CENTRAL_SUBJECT, centralIdentity } from '../../src/signing/central-identity';
import { certificateInfo } from '../../src/signing/certificates';
import { signCanonical, verifyEnveloped } from '../../src/signing/xmldsig';
import { buildRequestXml, buildResponseXml } from '../../src/wire/envelope';
import { isDavisError } from '../../src/errors/errors';
import type { SigningKey } from '../../src/signing/types';
import { api, startStack, type Stack } from '../helpers/stack';

const codeOf = (f: () => unknown): string => {
  try {
    f();
    return 'ok';
  } catch (e) {
    if (isDavisError(e)) return e.code;
    throw e;
  }
};

const HIT_EXAMPLES = path.join(__dirname, '..', '..', 'schemas', 'examples', 'vis.notification.hit');
const hitExample = (): unknown => JSON.parse(readFileSync(path.join(HIT_EXAMPLES, readdirSync(HIT_EXAMPLES).filter((n) => /^valid-.*\.json$/.test(n)).sort()[0]), 'utf8'));

describe('central identity pinning', () => {
  let s: Stack;
  let central: SigningKey;
  let gateway: SigningKey;
  let client: SigningKey;

  beforeAll(async () => {
    s = await startStack();
    central = loadSigningKey({ keyFile: s.pki.centralKey, certFile: s.pki.centralCert });
    gateway = loadSigningKey({ keyFile: s.pki.gatewayKey, certFile: s.pki.gatewayCert });
    client = loadSigningKey({ keyFile: s.pki.clientKey, certFile: s.pki.clientCert });
  });
  afterAll(async () => {
    await s?.stop();
  });

  const notification = (key: SigningKey): { id: string; xml: string } => {
    const id = randomUUID();
    const xml = buildRequestXml({ messageId: id, type: 'vis.notification.hit', sender: 'EU', created: new Date().toISOString() }, hitExample());
    return { id, xml: signCanonical(xml, key) };
  };
  const post = (xml: string): Promise<Response> =>
    fetch(`${s.url}/v1/central/notifications`, { method: 'POST', headers: { 'content-type': 'application/xml' }, body: xml });

  it('all three dev certificates chain to the same CA (the set-up the pin must hold in)', () => {
    const trust = loadTrustStore(s.pki.caCert);
    for (const k of [central, gateway, client]) expect(k.certificate.checkIssued(trust.anchors[0])).toBe(true);
  });

  it('refuses a hit notification signed with the UMA client key, and does not journal it', async () => {
    const n = notification(client);
    const res = await post(n.xml);
    expect(res.status).toBe(400);
    expect((await res.json()).code).toBe('DAVIS_ERR_SIG_NOT_CENTRAL');
    expect((await api(s.url, 'GET', `/v1/messages/${n.id}`)).status).toBe(404);
  });

  it('refuses a notification signed with the gateway\'s own key', async () => {
    const res = await post(notification(gateway).xml);
    expect(res.status).toBe(400);
    expect((await res.json()).code).toBe('DAVIS_ERR_SIG_NOT_CENTRAL');
  });

  it('accepts a notification signed with central\'s key', async () => {
    const n = notification(central);
    const res = await post(n.xml);
    expect(res.status).toBe(201);
    expect((await api(s.url, 'GET', `/v1/messages/${n.id}`)).json.direction).toBe('inbound');
  });

  describe('answers (the dispatcher\'s read: signature, then the pin)', () => {
    const answerSignedBy = (key: SigningKey): string => signCanonical(buildResponseXml({
      responseId: randomUUID(), inReplyTo: randomUUID(), result: 'ACCEPTED', code: 'OK', created: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    }), key);
    const read = (xml: string, pins: { subjects?: string[]; fingerprints?: string[] }): string => {
      const trust = loadTrustStore(s.pki.caCert);
      const id = centralIdentity({ ...pins, trust: () => trust });
      return codeOf(() => {
        id.assertSigner(verifyEnveloped(xml, id.trust()));
      });
    };

    it('refuses an answer signed with the gateway\'s own key (subject pin)', () => {
      expect(read(answerSignedBy(gateway), { subjects: [DEV_CENTRAL_SUBJECT] })).toBe('DAVIS_ERR_SIG_NOT_CENTRAL');
    });

    it('accepts an answer signed with central\'s key (subject pin, any RDN order and case)', () => {
      expect(read(answerSignedBy(central), { subjects: ['ou=Central, o=DAVIS Development, cn=VIS-central-mock'] })).toBe('ok');
    });

    it('pins by certificate or SPKI SHA-256 too', () => {
      const info = certificateInfo(new X509Certificate(readFileSync(s.pki.centralCert)));
      expect(read(answerSignedBy(central), { fingerprints: [info.fingerprint] })).toBe('ok');
      expect(read(answerSignedBy(central), { fingerprints: [info.spkiSha256] })).toBe('ok');
      expect(read(answerSignedBy(client), { fingerprints: [info.spkiSha256] })).toBe('DAVIS_ERR_SIG_NOT_CENTRAL');
    });

    it('refuses to build an identity without a pin', () => {
      const trust = loadTrustStore(s.pki.caCert);
      expect(codeOf(() => centralIdentity({ trust: () => trust }))).toBe('DAVIS_ERR_CONFIG_INVALID');
    });
  });
});
