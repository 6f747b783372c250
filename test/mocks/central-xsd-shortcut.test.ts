/**
 * The mock central with the XSD shortcut in front of libxml2 (its default) answers exactly as
 * the mock with libxml2 alone: the same status, outcome, code, reason, reference and data for
 * every request, valid or not, in the same order, so that the shortcut changes what the mock
 * costs and nothing it says. The requests: every valid and invalid example of every type, and
 * seeded mutations of them, each signed (so that the XSD step is reached) or not.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isInbound, listTypes } from '../../src/catalogue/catalogue';
import { createDevPki } from '../../src/dev/dev-pki';
import { createLogger } from '../../src/ops/logger';
import { loadSigningKey, loadTrustStore } from '../../src/signing/pki';
import type { SigningKey } from '../../src/signing/types';
import { signCanonical, signEnveloped } from '../../src/signing/xmldsig';
import { buildRequestXml, parseResponseXml } from '../../src/wire/envelope';
import { createXsdValidator, type XsdValidator } from '../../src/wire/xsd';
import { MockCentralVis } from '../../mocks/central/server';
import { loadExamples } from '../validation/examples';
import { mutations } from '../wire/wire-mutations';

const TYPES = listTypes({ direction: 'all' });

describe('mock central: the XSD shortcut changes no answer', () => {
  let dir: string;
  let gatewayKey: SigningKey;
  let make: (xsd?: XsdValidator) => MockCentralVis;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'davis-mock-shortcut-'));
    const pki = await createDevPki(dir);
    const trust = loadTrustStore(pki.caCert);
    gatewayKey = loadSigningKey({ keyFile: pki.gatewayKey, certFile: pki.gatewayCert });
    const centralKey = loadSigningKey({ keyFile: pki.centralKey, certFile: pki.centralCert });
    make = (xsd) => new MockCentralVis({
      host: '127.0.0.1', port: 0, tlsCertFile: pki.centralCert, tlsKeyFile: pki.centralKey, clientCaFile: pki.caCert,
      signingKey: centralKey, trust, logger: createLogger('silent'), ...(xsd ? { xsd } : {}),
    });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** What an answer says, without what differs by construction (its own id and time). */
  function said(r: { status: number; xml: string }): unknown {
    const { responseId: _id, created: _at, ...rest } = parseResponseXml(r.xml);
    return { status: r.status, ...rest };
  }

  it('answers every example and every mutation of one alike, in order, with the same state afterwards', () => {
    const requests: string[] = [];
    for (const t of TYPES) {
      const { valid, invalid } = loadExamples(t.id);
      for (const ex of [...valid, ...invalid]) {
        requests.push(buildRequestXml({ messageId: randomUUID(), type: t.id, sender: isInbound(t.id) ? 'EU' : 'FI', created: '2025-09-01T10:00:00.000Z' }, ex.payload, { lenient: true }));
      }
    }
    // Mutations keep the message id of their original (the mock answers a repeat from its
    // store): give each its own, as a sender would.
    const mutated = mutations(requests, 900, 29).map((xml) => {
      const id = randomUUID();
      return xml.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, id);
    });
    const signed = [
      ...requests.map((x) => signCanonical(x, gatewayKey)),
      ...mutated.map((x) => {
        try {
          return signEnveloped(x, gatewayKey);
        } catch {
          return x; // not signable (not well-formed): sent as it is
        }
      }),
      ...mutated.slice(0, 100), // unsigned
    ];
    const fast = make();
    const exact = make(createXsdValidator());
    const headerId = (xml: string): string | undefined => /<w:MessageId>([^<]*)</.exec(xml)?.[1];
    const a = signed.map((x) => said(fast.process(x, headerId(x))));
    const b = signed.map((x) => said(exact.process(x, headerId(x))));
    expect(a).toEqual(b);
    expect(fast.receivedList()).toEqual(exact.receivedList().map((e) => ({ ...e, firstAt: expect.any(String) })));
    expect([fast.state.applications.size, fast.state.visas.size, fast.state.lsvrpApplications.size]).toEqual([exact.state.applications.size, exact.state.visas.size, exact.state.lsvrpApplications.size]);
    // Every stage is covered: accepted, refused by rules, by the XSD, by mapping, by the signature check, not XML.
    const codes = new Set(a.map((x) => (x as { code: string }).code));
    for (const c of ['OK', 'VIS_ERR_SCHEMA', 'VIS_ERR_SIGNATURE', 'VIS_ERR_MALFORMED']) expect(codes).toContain(c);
    expect([...codes].filter((c) => !['OK', 'VIS_ERR_SCHEMA', 'VIS_ERR_SIGNATURE', 'VIS_ERR_MALFORMED'].includes(c)).length).toBeGreaterThan(3);
    // Hundreds past the XSD step (accepted or refused by a rule), hundreds refused by it.
    const past = a.filter((x) => !['VIS_ERR_SCHEMA', 'VIS_ERR_SIGNATURE', 'VIS_ERR_MALFORMED'].includes((x as { code: string }).code));
    expect(past.length).toBeGreaterThan(120);
    expect(a.filter((x) => (x as { code: string }).code === 'VIS_ERR_SCHEMA').length).toBeGreaterThan(300);
    const schemaReasons = a.filter((x) => (x as { code: string }).code === 'VIS_ERR_SCHEMA').map((x) => (x as { reason: string }).reason);
    expect(schemaReasons.some((r) => r.includes('line 1'))).toBe(true); // libxml2's located errors reach the answer
    expect(schemaReasons.some((r) => r.startsWith('DAVIS_ERR_WIRE_MAPPING'))).toBe(true);
  });
});
