/**
 * Central's rules seen from UMA: each rule's rejection travels back through the gateway and
 * lands in the journal as `rejected` with central's code; accepted messages change the mock
 * central's state as the article says. (The conformance suite covers the file-decision rules
 * too; these are the ones that need central state seeded: other Member States' files, MID
 * links, ESP hits.)
 */
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { api, startStack, waitFor, type Stack } from '../helpers/stack';
import { freshApplication } from '../helpers/payloads';

const EXAMPLES = path.join(__dirname, '..', '..', 'schemas', 'examples');
const example = (type: string, prefix = 'valid-') =>
  JSON.parse(readFileSync(path.join(EXAMPLES, type, readdirSync(path.join(EXAMPLES, type)).filter((n) => n.startsWith(prefix) && n.endsWith('.json')).sort()[0]), 'utf8'));

async function outcome(s: Stack, type: string, payload: unknown): Promise<{ status: string; central: { result: string; code: string; reference?: string; data?: any } }> {
  const r = await api(s.url, 'POST', '/v1/messages', { type, payload });
  expect([type, r.status, r.json.errors]).toEqual([type, 202, undefined]);
  return waitFor(async () => {
    const d = (await api(s.url, 'GET', `/v1/messages/${r.json.id}`)).json;
    return ['delivered', 'rejected'].includes(d.status) && d;
  });
}

describe('central rules reach the journal', () => {
  let s: Stack;
  beforeAll(async () => { s = await startStack(); });
  afterAll(async () => { await s.stop(); });

  test('an amendment or deletion of a file another Member State created is refused (Arts 24, 25)', async () => {
    const app = freshApplication();
    expect(s.mock.state.apply('vis.application.create', 'SE', randomUUID(), app).result).toBe('ACCEPTED');
    const amend = { ...example('vis.application.amend'), applicationNumber: app.applicationNumber };
    const a = await outcome(s, 'vis.application.amend', amend);
    expect([a.status, a.central.code]).toEqual(['rejected', 'VIS_ERR_NOT_RESPONSIBLE_STATE']);
    const del = { ...example('vis.application.delete'), applicationNumber: app.applicationNumber };
    const d = await outcome(s, 'vis.application.delete', del);
    expect([d.status, d.central.code]).toEqual(['rejected', 'VIS_ERR_NOT_RESPONSIBLE_STATE']);
    expect(s.mock.state.applications.has(app.applicationNumber)).toBe(true);
  });

  test('the responsible Member State amends its own file, and retrieve returns what was stored (Arts 15, 24)', async () => {
    const app = freshApplication();
    expect((await outcome(s, 'vis.application.create', app)).status).toBe('delivered');
    const amend = { ...example('vis.application.amend'), applicationNumber: app.applicationNumber };
    expect((await outcome(s, 'vis.application.amend', amend)).status).toBe('delivered');
    const got = await outcome(s, 'vis.application.retrieve', { applicationNumber: app.applicationNumber });
    expect(got.status).toBe('delivered');
    expect(got.central.data.answerTo).toBe('vis.application.retrieve');
    expect(JSON.stringify(got.central.data)).toContain(app.applicationNumber);
    expect(JSON.stringify(got.central.data)).toContain(amend.changes.set.intendedArrivalDate);
  });

  test('MID: a yellow link is verified once; an inconsistent colour change, an unknown link and a verifier of another Member State are refused (Arts 29-33)', async () => {
    const verify = example('io.mid.link.verify', 'valid-');
    const ids = { ok: `MID-OK-${Date.now()}`, other: `MID-SE-${Date.now()}` };
    const records = [{ system: 'VIS', recordId: 'VIS-1' }, { system: 'SIS', recordId: 'SIS-1' }];
    s.mock.state.seedLink({ linkId: ids.ok, colour: 'YELLOW', records, verifierMemberState: 'FI' });
    s.mock.state.seedLink({ linkId: ids.other, colour: 'YELLOW', records, verifierMemberState: 'SE' });
    const manual = { ...verify, linkId: ids.ok, verification: 'MANUAL_VERIFICATION', newColour: 'GREEN' };
    expect((await outcome(s, 'io.mid.link.verify', manual)).status).toBe('delivered');
    expect(s.mock.state.links.get(ids.ok)?.colour).toBe('GREEN');
    const again = await outcome(s, 'io.mid.link.verify', manual);
    expect([again.status, again.central.code]).toEqual(['rejected', 'VIS_ERR_INVALID_LINK_TRANSITION']);
    const unknown = await outcome(s, 'io.mid.link.verify', { ...manual, linkId: `MID-NONE-${Date.now()}` });
    expect(unknown.central.code).toBe('VIS_ERR_UNKNOWN_LINK');
    const notMine = await outcome(s, 'io.mid.link.verify', { ...manual, linkId: ids.other });
    expect(notMine.central.code).toBe('VIS_ERR_NOT_VERIFYING_AUTHORITY');
  });

  test('ESP: the search answer lists the configured hits with their source systems; automated-query hits on a new file are verified once (Arts 9a, 9c)', async () => {
    const search = example('io.esp.search');
    s.mock.state.configureEspHits({
      travelDocument: { number: search.query.travelDocument.number },
      hits: [{ sourceSystem: 'SIS', recordId: 'SIS-TEST-1' }, { sourceSystem: 'INTERPOL_SLTD', recordId: 'SLTD-TEST-1' }],
    });
    const res = await outcome(s, 'io.esp.search', search);
    expect(res.status).toBe('delivered');
    expect(res.central.data.hits.map((h: { sourceSystem: string }) => h.sourceSystem).sort()).toEqual(['INTERPOL_SLTD', 'SIS']);

    // A file whose travel document the ESP knows gets hits from the automated queries.
    const app = freshApplication();
    app.travelDocument = { ...app.travelDocument, number: search.query.travelDocument.number };
    expect((await outcome(s, 'vis.application.create', app)).status).toBe('delivered');
    const hits = s.mock.state.hitsOf(app.applicationNumber);
    expect(hits.length).toBeGreaterThan(0);
    const verify = { ...example('vis.hit.verify'), applicationNumber: app.applicationNumber, hitId: hits[0].hitId, sourceSystem: hits[0].sourceSystem };
    expect((await outcome(s, 'vis.hit.verify', verify)).status).toBe('delivered');
    const twice = await outcome(s, 'vis.hit.verify', verify);
    expect(twice.central.code).toBe('VIS_ERR_HIT_ALREADY_VERIFIED');
    const unknown = await outcome(s, 'vis.hit.verify', { ...verify, hitId: `${app.applicationNumber}-H99` });
    expect(unknown.central.code).toBe('VIS_ERR_UNKNOWN_HIT');
    s.mock.state.clearEspHits();
  });

  test('testers seed central state over the control port: another Member State\'s file, a MID link, ESP hits', async () => {
    const post = async (p: string, body: unknown) => {
      const r = await fetch(`${s.controlUrl}${p}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      return { status: r.status, json: (await r.json()) };
    };
    const app = freshApplication();
    const applied = await post('/_mock/state/apply', { type: 'vis.application.create', sender: 'DE', payload: app });
    expect(applied).toMatchObject({ status: 200, json: { result: 'ACCEPTED' } });
    const amend = await outcome(s, 'vis.application.amend', { ...example('vis.application.amend'), applicationNumber: app.applicationNumber });
    expect(amend.central.code).toBe('VIS_ERR_NOT_RESPONSIBLE_STATE');
    const linkId = `MID-CTL-${Date.now()}`;
    expect((await post('/_mock/state/links', { linkId, records: [{ system: 'VIS', recordId: 'a' }, { system: 'EES', recordId: 'b' }], verifierMemberState: 'FI' })).json).toMatchObject({ status: 'seeded', colour: 'YELLOW' });
    expect((await post('/_mock/state/links', { linkId, records: [] })).status).toBe(400);
    expect((await post('/_mock/state/esp-hits', { hits: [] })).status).toBe(400);
    expect((await post('/_mock/state/apply', { type: 'vis.application.create', sender: 'deu', payload: app })).status).toBe(400);
    const state = (await (await fetch(`${s.controlUrl}/_mock/state`)).json()) as { links: number; applications: number };
    expect(state.links).toBeGreaterThanOrEqual(1);
    expect(state.applications).toBeGreaterThanOrEqual(1);
  });

  test('a refusal ground outside the closed list never leaves the gateway (Art 22d): 422 at the ground', async () => {
    const refuse = example('vis.lsvrp.refuse');
    const r = await api(s.url, 'POST', '/v1/messages', { type: 'vis.lsvrp.refuse', payload: { ...refuse, grounds: ['INSUFFICIENT_MEANS'] } });
    expect(r.status).toBe(422);
    expect(r.json.errors.map((e: { pointer: string }) => e.pointer).join(' ')).toMatch(/^\/payload\/grounds/);
  });
});
