/**
 * The mock central VIS's rules, on `CentralState` directly (no sockets, no XML): every rule
 * of the catalogue issue, one test each, asserting the result code. Payloads are the valid
 * examples under schemas/examples/, so the rules are exercised with what UMA really sends.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listTypes } from '../../src/catalogue/catalogue';
import { packageRoot } from '../../src/catalogue/schema-file';
import { validateAnswer } from '../../src/validation/validate';
import { createLogger } from '../../src/ops/logger';
import { loadSigningKey, loadTrustStore } from '../../src/signing/pki';
import { createDevPki } from '../../src/dev/dev-pki';
import type { SigningKey, TrustStore } from '../../src/signing/types';
import { signCanonical, verifyEnveloped } from '../../src/signing/xmldsig';
import { buildRequestXml, buildResponseXml, parseResponseXml } from '../../src/wire/envelope';
import { MockCentralVis } from '../../mocks/central/server';
import { CENTRAL_CODES, type RuleOutcome } from '../../mocks/central/codes';
import type { EspHitConfig } from '../../mocks/central/records';
import { ALLOWED_GROUNDS, MID_TRANSITIONS } from '../../mocks/central/rules';
import { CentralState } from '../../mocks/central/state';
import { loadExamples } from '../validation/examples';

type P = Record<string, any>;
const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;
/** The valid example of a type whose file name contains `name` (a fresh copy). */
function example(type: string, name: string): P {
  const ex = loadExamples(type).valid.find((e) => e.file.includes(name));
  if (!ex) throw new Error(`no valid example ${name} for ${type}`);
  return clone(ex.payload) as P;
}
const FIXED = new Date('2025-09-01T10:00:00.000Z');
let n = 0;
const mid = (): string => `m-${++n}`;
const fresh = (): CentralState => new CentralState({ clock: () => FIXED });

// The examples: a short-stay file FI-HEL-2025-000123 and an LSV/RP file FI-MIG-2025-D-000310.
const APP = 'FI-HEL-2025-000123';
const create = (): P => example('vis.application.create', 'adult');
const issue = (): P => example('vis.visa.issue', 'uniform');
const refuse = (): P => example('vis.visa.refuse', 'purpose');
const discontinue = (): P => example('vis.examination.discontinue', 'withdrawn');
const annul = (): P => example('vis.visa.annul', 'sis');
const revoke = (): P => example('vis.visa.revoke', 'holder');
const extend = (): P => example('vis.visa.extend', 'force');
const lsvCreate = (): P => example('vis.lsvrp.application.create', 'adult');
const lsvIssue = (): P => example('vis.lsvrp.issue', 'residence-permit');
const lsvRefuse = (): P => example('vis.lsvrp.refuse', 'threat');

function accepted(o: RuleOutcome): RuleOutcome {
  expect([o.code, o.reason]).toEqual(['OK', undefined]);
  expect(o.result).toBe('ACCEPTED');
  return o;
}
function rejected(o: RuleOutcome, code: string): void {
  expect([o.result, o.code]).toEqual(['REJECTED', code]);
  expect(o.reason).toMatch(/\S/);
  expect(Object.keys(CENTRAL_CODES)).toContain(o.code);
}
/** A state with the short-stay file created by FI. */
function withFile(): CentralState {
  const s = fresh();
  accepted(s.apply('vis.application.create', 'FI', mid(), create()));
  return s;
}
/** A state with the short-stay file created and its visa issued by FI. */
function withVisa(): CentralState {
  const s = withFile();
  accepted(s.apply('vis.visa.issue', 'FI', mid(), issue()));
  return s;
}
/** A state with the LSV/RP file created by FI, and its residence permit issued when `issued`. */
function withLsvRp(issued: boolean): CentralState {
  const s = fresh();
  accepted(s.apply('vis.lsvrp.application.create', 'FI', mid(), lsvCreate()));
  if (issued) accepted(s.apply('vis.lsvrp.issue', 'FI', mid(), lsvIssue()));
  return s;
}

describe('short-stay application files', () => {
  it('creates a file with a central reference and refuses the same application number again (VIS_ERR_DUPLICATE_APPLICATION)', () => {
    const s = fresh();
    const o = accepted(s.apply('vis.application.create', 'FI', 'm-create', create()));
    expect(o.centralReference).toBe('VIS-FI-2025-00000001');
    expect(s.applications.get(APP)).toMatchObject({ memberState: 'FI', status: 'VISA_REQUESTED', createdBy: 'm-create', centralReference: o.centralReference });
    rejected(s.apply('vis.application.create', 'SE', mid(), create()), 'VIS_ERR_DUPLICATE_APPLICATION');
  });

  it('refuses an application number already used by an LSV/RP file, and the reverse (VIS_ERR_DUPLICATE_APPLICATION)', () => {
    const s = withLsvRp(false);
    rejected(s.apply('vis.application.create', 'FI', mid(), { ...create(), applicationNumber: 'FI-MIG-2025-D-000310' }), 'VIS_ERR_DUPLICATE_APPLICATION');
    const t = withFile();
    rejected(t.apply('vis.lsvrp.application.create', 'FI', mid(), { ...lsvCreate(), applicationNumber: APP }), 'VIS_ERR_DUPLICATE_APPLICATION');
  });

  it.each([
    ['vis.visa.issue', issue],
    ['vis.visa.refuse', refuse],
    ['vis.examination.discontinue', discontinue],
    ['vis.visa.annul', annul],
    ['vis.visa.revoke', revoke],
    ['vis.visa.extend', extend],
    ['vis.application.amend', () => example('vis.application.amend', 'travel-dates')],
    ['vis.application.delete', () => example('vis.application.delete', 'finnish')],
    ['vis.application.retrieve', () => example('vis.application.retrieve', 'by-application')],
  ] as const)('refuses %s on an unknown application (VIS_ERR_UNKNOWN_APPLICATION)', (type, payload) => {
    rejected(fresh().apply(type, 'FI', mid(), payload()), 'VIS_ERR_UNKNOWN_APPLICATION');
  });

  it('records an issued visa by sticker number and moves the file to VISA_ISSUED', () => {
    const s = withVisa();
    expect(s.applications.get(APP)!.status).toBe('VISA_ISSUED');
    expect(s.visas.get('FIN001234567')).toMatchObject({ applicationNumber: APP, status: 'ISSUED', issuedBy: 'FI' });
  });

  it('refuses vis.visa.issue after a refusal (VIS_ERR_ALREADY_REFUSED)', () => {
    const s = withFile();
    accepted(s.apply('vis.visa.refuse', 'FI', mid(), refuse()));
    expect(s.applications.get(APP)!.status).toBe('VISA_REFUSED');
    rejected(s.apply('vis.visa.issue', 'FI', mid(), issue()), 'VIS_ERR_ALREADY_REFUSED');
    rejected(s.apply('vis.visa.refuse', 'FI', mid(), refuse()), 'VIS_ERR_ALREADY_REFUSED');
    expect(s.visas.size).toBe(0);
  });

  it('refuses a second issue, or a refusal after an issue (VIS_ERR_ALREADY_DECIDED)', () => {
    const s = withVisa();
    rejected(s.apply('vis.visa.issue', 'FI', mid(), { ...issue(), visaStickerNumber: 'FIN009999999' }), 'VIS_ERR_ALREADY_DECIDED');
    rejected(s.apply('vis.visa.refuse', 'FI', mid(), refuse()), 'VIS_ERR_ALREADY_DECIDED');
    rejected(s.apply('vis.examination.discontinue', 'FI', mid(), discontinue()), 'VIS_ERR_ALREADY_DECIDED');
  });

  it('refuses a decision on a discontinued examination (VIS_ERR_EXAMINATION_DISCONTINUED)', () => {
    const s = withFile();
    accepted(s.apply('vis.examination.discontinue', 'FI', mid(), discontinue()));
    expect(s.applications.get(APP)!.status).toBe('EXAMINATION_DISCONTINUED');
    rejected(s.apply('vis.visa.issue', 'FI', mid(), issue()), 'VIS_ERR_EXAMINATION_DISCONTINUED');
    rejected(s.apply('vis.visa.refuse', 'FI', mid(), refuse()), 'VIS_ERR_EXAMINATION_DISCONTINUED');
  });

  it('refuses a sticker number already recorded (VIS_ERR_DUPLICATE_STICKER)', () => {
    const s = withVisa();
    accepted(s.apply('vis.application.create', 'FI', mid(), { ...create(), applicationNumber: 'FI-HEL-2025-000999' }));
    rejected(s.apply('vis.visa.issue', 'FI', mid(), { ...issue(), applicationNumber: 'FI-HEL-2025-000999' }), 'VIS_ERR_DUPLICATE_STICKER');
    rejected(s.apply('vis.visa.extend', 'SE', mid(), { ...extend(), newVisaStickerNumber: 'FIN001234567' }), 'VIS_ERR_DUPLICATE_STICKER');
  });

  it.each(['vis.visa.issue', 'vis.visa.refuse', 'vis.examination.discontinue'] as const)('refuses %s from a Member State other than the creator (VIS_ERR_NOT_RESPONSIBLE_STATE)', (type) => {
    const payload = type === 'vis.visa.issue' ? issue() : type === 'vis.visa.refuse' ? refuse() : discontinue();
    rejected(withFile().apply(type, 'SE', mid(), payload), 'VIS_ERR_NOT_RESPONSIBLE_STATE');
  });

  it.each([
    ['vis.visa.annul', annul],
    ['vis.visa.revoke', revoke],
    ['vis.visa.extend', extend],
  ] as const)('refuses %s without an issued visa on the file (VIS_ERR_NO_ISSUED_VISA)', (type, payload) => {
    rejected(withFile().apply(type, 'FI', mid(), payload()), 'VIS_ERR_NO_ISSUED_VISA');
    // a sticker of another file is not this file's visa either
    const s = withVisa();
    accepted(s.apply('vis.application.create', 'FI', mid(), { ...create(), applicationNumber: 'FI-HEL-2025-000999' }));
    rejected(s.apply(type, 'FI', mid(), { ...payload(), applicationNumber: 'FI-HEL-2025-000999' }), 'VIS_ERR_NO_ISSUED_VISA');
  });

  it('refuses annul, revoke or extend of a visa already annulled (VIS_ERR_NO_ISSUED_VISA)', () => {
    const s = withVisa();
    accepted(s.apply('vis.visa.annul', 'FI', mid(), annul()));
    expect(s.visas.get('FIN001234567')!.status).toBe('ANNULLED');
    expect(s.applications.get(APP)!.status).toBe('VISA_ANNULLED');
    rejected(s.apply('vis.visa.revoke', 'FI', mid(), revoke()), 'VIS_ERR_NO_ISSUED_VISA');
    rejected(s.apply('vis.visa.extend', 'FI', mid(), extend()), 'VIS_ERR_NO_ISSUED_VISA');
  });

  it('lets any Member State annul, revoke or extend an issued visa (Visa Code Arts 33, 34)', () => {
    const s = withVisa();
    accepted(s.apply('vis.visa.extend', 'SE', mid(), extend()));
    expect(s.applications.get(APP)!.status).toBe('VISA_EXTENDED');
    expect(s.visas.get('FIN001234567')!.status).toBe('EXTENDED');
    expect(s.visas.get('FIN001239999')).toMatchObject({ status: 'ISSUED', extensionOf: 'FIN001234567', issuedBy: 'SE' });
    accepted(s.apply('vis.visa.revoke', 'DE', mid(), { ...revoke(), visaStickerNumber: 'FIN001239999' }));
    expect(s.applications.get(APP)!.status).toBe('VISA_REVOKED');
  });

  it.each([
    ['vis.visa.refuse', refuse, 'ART22D_THREAT', withFile],
    ['vis.visa.annul', annul, 'ART13_2_B_HOLDER_REQUEST', withVisa],
    ['vis.visa.revoke', revoke, 'FORCE_MAJEURE', withVisa],
    ['vis.visa.extend', extend, 'ART12_2_A_III', withVisa],
  ] as const)('refuses %s with a ground outside its closed list (VIS_ERR_GROUND_NOT_ALLOWED)', (type, payload, ground, state) => {
    const s = state();
    rejected(s.apply(type, 'FI', mid(), { ...payload(), grounds: [ground] }), 'VIS_ERR_GROUND_NOT_ALLOWED');
    expect(ALLOWED_GROUNDS[type]).not.toContain(ground);
    // nothing changed
    expect(s.applications.get(APP)!.decisions.filter((d) => d.type === type)).toEqual([]);
  });

  it('accepts an amendment from the creator and refuses one from another Member State (VIS_ERR_NOT_RESPONSIBLE_STATE)', () => {
    const s = withFile();
    const amend = example('vis.application.amend', 'remove-inviter');
    rejected(s.apply('vis.application.amend', 'SE', mid(), amend), 'VIS_ERR_NOT_RESPONSIBLE_STATE');
    expect(s.applications.get(APP)!.data.inviters).toBeDefined();
    accepted(s.apply('vis.application.amend', 'FI', mid(), amend));
    const data = s.applications.get(APP)!.data;
    expect(data.inviters).toBeUndefined();
    expect(data.purposes).toEqual(['TOURISM']);
    // the data keeps the creation's key order (what retrieve returns)
    expect(Object.keys(data)).toEqual(Object.keys(create()).filter((k) => k !== 'inviters'));
  });

  it('deletes a file on the creator\'s advance deletion and refuses one from another Member State (VIS_ERR_NOT_RESPONSIBLE_STATE)', () => {
    const s = withVisa();
    const del = example('vis.application.delete', 'finnish');
    rejected(s.apply('vis.application.delete', 'SE', mid(), del), 'VIS_ERR_NOT_RESPONSIBLE_STATE');
    accepted(s.apply('vis.application.delete', 'FI', mid(), del));
    expect(s.applications.has(APP)).toBe(false);
    expect(s.visas.size).toBe(0);
    rejected(s.apply('vis.application.retrieve', 'FI', mid(), { applicationNumber: APP }), 'VIS_ERR_UNKNOWN_APPLICATION');
  });
});

describe('search and retrieve return what was stored', () => {
  it('retrieves the file exactly as created, with its decisions in order, and the data maps over the wire unchanged', () => {
    const s = withVisa();
    accepted(s.apply('vis.visa.extend', 'SE', mid(), extend()));
    const o = accepted(s.apply('vis.application.retrieve', 'EE', mid(), { applicationNumber: APP }));
    expect(o.data).toMatchObject({ answerTo: 'vis.application.retrieve', applicationNumber: APP, memberState: 'FI', status: 'VISA_EXTENDED', application: create() });
    expect((o.data!.decisions as P[]).map((d) => [d.memberState, Object.keys(d.decision)[0]])).toEqual([['FI', 'visaIssue'], ['SE', 'visaExtend']]);
    expect((o.data!.decisions as P[])[0].decision.visaIssue).toEqual(issue());
    expect(validateAnswer(o.data)).toEqual([]);
    const answer = { responseId: 'r1', inReplyTo: 'm1', result: 'ACCEPTED' as const, code: 'OK', created: '2025-09-01T10:00:00.000Z', data: o.data! };
    expect(parseResponseXml(buildResponseXml(answer)).data).toStrictEqual(o.data);
  });

  it('searches by application number, identity (names on their ICAO transliteration), travel document, sticker and inviter', () => {
    const s = withVisa();
    accepted(s.apply('vis.application.create', 'SE', mid(), { ...example('vis.application.create', 'minor'), applicationNumber: 'SE-STO-2025-000001' }));
    const search = (criteria: P): P => accepted(s.apply('vis.application.search', 'FI', mid(), { examinedApplicationNumber: 'FI-HEL-2025-000200', criteria })).data as P;
    const numbers = (d: P): string[] => ((d.files ?? []) as P[]).map((f) => f.applicationNumber as string);
    expect(numbers(search({ applicationNumber: APP }))).toEqual([APP]);
    expect(numbers(search({ identity: { surname: 'MEIKAELAEINEN' } }))).toEqual([APP, 'SE-STO-2025-000001']);
    expect(numbers(search({ identity: { surname: 'Meikäläinen', firstNames: 'Maija' } }))).toEqual(['SE-STO-2025-000001']);
    expect(numbers(search({ identity: { surname: 'Meikäläinen', dateOfBirth: '1985-03-14' } }))).toEqual([APP]);
    expect(numbers(search({ travelDocument: { number: 'L898902C3', issuingCountry: 'IND' } }))).toEqual([APP]);
    expect(numbers(search({ visaSticker: { stickerNumber: 'FIN001234567' } }))).toEqual([APP]);
    expect(numbers(search({ inviter: { name: 'Testaaja' } }))).toEqual(['SE-STO-2025-000001']);
    const none = search({ identity: { surname: 'Nobody' } });
    expect(none).toEqual({ answerTo: 'vis.application.search', hitCount: 0 });
    const one = search({ applicationNumber: APP });
    expect(one.files[0]).toMatchObject({ memberState: 'FI', status: 'VISA_ISSUED', surname: 'Meikäläinen', visaStickerNumbers: ['FIN001234567'], travelDocumentNumber: 'L898902C3' });
    expect(validateAnswer(one)).toEqual([]);
  });
});

describe('LSV/RP files (Arts 22a-22f)', () => {
  it('refuses an LSV/RP decision on an unknown application, or on a short-stay file (VIS_ERR_UNKNOWN_APPLICATION)', () => {
    rejected(fresh().apply('vis.lsvrp.issue', 'FI', mid(), lsvIssue()), 'VIS_ERR_UNKNOWN_APPLICATION');
    rejected(withFile().apply('vis.lsvrp.refuse', 'FI', mid(), { ...lsvRefuse(), applicationNumber: APP }), 'VIS_ERR_UNKNOWN_APPLICATION');
  });

  it('refuses an LSV/RP refusal ground outside Art 22d (VIS_ERR_GROUND_NOT_ALLOWED)', () => {
    const s = withLsvRp(false);
    rejected(s.apply('vis.lsvrp.refuse', 'FI', mid(), { ...lsvRefuse(), grounds: ['ART12_2_A_II'] }), 'VIS_ERR_GROUND_NOT_ALLOWED');
    expect(s.lsvrpApplications.get('FI-MIG-2025-D-000310')!.status).toBe('LSVRP_REQUESTED');
    accepted(s.apply('vis.lsvrp.refuse', 'FI', mid(), lsvRefuse()));
    expect(s.lsvrpApplications.get('FI-MIG-2025-D-000310')!.status).toBe('LSVRP_REFUSED');
  });

  it('refuses an issue after a refusal (VIS_ERR_ALREADY_REFUSED) and a second issue (VIS_ERR_ALREADY_DECIDED)', () => {
    const s = withLsvRp(false);
    accepted(s.apply('vis.lsvrp.refuse', 'FI', mid(), lsvRefuse()));
    rejected(s.apply('vis.lsvrp.issue', 'FI', mid(), lsvIssue()), 'VIS_ERR_ALREADY_REFUSED');
    const t = withLsvRp(true);
    rejected(t.apply('vis.lsvrp.issue', 'FI', mid(), { ...lsvIssue(), documentNumber: 'RP0000001' }), 'VIS_ERR_ALREADY_DECIDED');
  });

  it('refuses a document number already recorded (VIS_ERR_DUPLICATE_DOCUMENT)', () => {
    const s = withLsvRp(true);
    accepted(s.apply('vis.lsvrp.application.create', 'FI', mid(), { ...lsvCreate(), applicationNumber: 'FI-MIG-2025-D-000999' }));
    rejected(s.apply('vis.lsvrp.issue', 'FI', mid(), { ...lsvIssue(), applicationNumber: 'FI-MIG-2025-D-000999' }), 'VIS_ERR_DUPLICATE_DOCUMENT');
  });

  it('refuses an LSV/RP decision by a Member State other than the creator or issuer (VIS_ERR_NOT_RESPONSIBLE_STATE)', () => {
    rejected(withLsvRp(false).apply('vis.lsvrp.issue', 'SE', mid(), lsvIssue()), 'VIS_ERR_NOT_RESPONSIBLE_STATE');
    rejected(withLsvRp(true).apply('vis.lsvrp.withdraw', 'SE', mid(), example('vis.lsvrp.withdraw', 'fraud')), 'VIS_ERR_NOT_RESPONSIBLE_STATE');
  });

  it('withdraws a residence permit but refuses to annul or revoke it (VIS_ERR_DECISION_NOT_ALLOWED)', () => {
    const s = withLsvRp(true);
    const w = example('vis.lsvrp.withdraw', 'fraud');
    rejected(s.apply('vis.lsvrp.withdraw', 'FI', mid(), { ...w, decision: 'REVOKED' }), 'VIS_ERR_DECISION_NOT_ALLOWED');
    accepted(s.apply('vis.lsvrp.withdraw', 'FI', mid(), w));
    expect(s.lsvrpDocuments.get('RP1234567')!.status).toBe('WITHDRAWN');
    expect(s.lsvrpApplications.get('FI-MIG-2025-D-000310')!.status).toBe('WITHDRAWN');
  });

  it('refuses to withdraw or extend a document that is not issued and valid (VIS_ERR_NO_ISSUED_DOCUMENT)', () => {
    const s = withLsvRp(false);
    rejected(s.apply('vis.lsvrp.withdraw', 'FI', mid(), example('vis.lsvrp.withdraw', 'fraud')), 'VIS_ERR_NO_ISSUED_DOCUMENT');
    const t = withLsvRp(true);
    accepted(t.apply('vis.lsvrp.withdraw', 'FI', mid(), example('vis.lsvrp.withdraw', 'fraud')));
    rejected(t.apply('vis.lsvrp.extend', 'FI', mid(), example('vis.lsvrp.extend', 'renewed')), 'VIS_ERR_NO_ISSUED_DOCUMENT');
  });

  it('renews a residence permit under a new number, and refuses to "extend" it (VIS_ERR_DECISION_NOT_ALLOWED)', () => {
    const s = withLsvRp(true);
    const renew = example('vis.lsvrp.extend', 'renewed');
    rejected(s.apply('vis.lsvrp.extend', 'FI', mid(), { ...renew, decision: 'EXTENDED' }), 'VIS_ERR_DECISION_NOT_ALLOWED');
    accepted(s.apply('vis.lsvrp.extend', 'FI', mid(), renew));
    expect(s.lsvrpDocuments.get('RP1234567')!.status).toBe('REPLACED');
    expect(s.lsvrpDocuments.get('RP7654321')).toMatchObject({ status: 'VALID', validUntil: '2027-09-14', documentType: 'RESIDENCE_PERMIT' });
    expect(s.lsvrpApplications.get('FI-MIG-2025-D-000310')!.status).toBe('RENEWED');
  });
});

describe('ESP and the automated queries', () => {
  const CONFIG: EspHitConfig[] = [
    {
      identity: { surname: 'MEIKAELAEINEN', dateOfBirth: '1985-03-14' },
      hits: [{ sourceSystem: 'SIS', recordId: 'SIS-0001' }, { sourceSystem: 'EES', recordId: 'EES-42', identity: { surname: 'Meikäläinen', firstNames: 'Matti' } }],
    },
    { travelDocument: { number: 'L898902C3' }, hits: [{ sourceSystem: 'INTERPOL_SLTD', recordId: 'SLTD-7', matchedOn: ['TRAVEL_DOCUMENT'], detail: 'Reported stolen' }] },
  ];

  it('returns the hits configured for the searched identity or document, each naming its source system', () => {
    const s = fresh();
    s.configureEspHits(CONFIG);
    const search = (query: P): P => accepted(s.apply('io.esp.search', 'FI', mid(), { caseReference: 'C-1', profile: 'VISA_AUTHORITY', query })).data as P;
    const byIdentity = search({ identity: { surname: 'Meikäläinen', dateOfBirth: '1985-03-14' } });
    expect(byIdentity.hitCount).toBe(2);
    expect(byIdentity.hits.map((h: P) => [h.sourceSystem, h.recordId, h.matchedOn])).toEqual([['SIS', 'SIS-0001', ['IDENTITY']], ['EES', 'EES-42', ['IDENTITY']]]);
    expect(byIdentity.systemsQueried).toContain('SIS');
    expect(search({ identity: { surname: 'Meikäläinen', dateOfBirth: '1999-01-01' } }).hitCount).toBe(0);
    const both = search({ identity: { surname: 'Meikalainen' }, travelDocument: { number: 'L898902C3' } });
    expect(both.hits.map((h: P) => h.sourceSystem)).toEqual(['INTERPOL_SLTD']);
    const none = search({ travelDocument: { number: 'X1' } });
    expect(none.hits).toBeUndefined();
    for (const d of [byIdentity, both, none]) expect(validateAnswer(d)).toEqual([]);
  });

  it('records the configured hits on a new file as pending hits, verified once by the creator', () => {
    const s = fresh();
    s.configureEspHits(CONFIG);
    accepted(s.apply('vis.application.create', 'FI', mid(), create()));
    expect(s.hitsOf(APP).map((h) => [h.hitId, h.sourceSystem, h.verification])).toEqual([
      [`${APP}-H1`, 'SIS', 'PENDING'],
      [`${APP}-H2`, 'EES', 'PENDING'],
      [`${APP}-H3`, 'INTERPOL_SLTD', 'PENDING'],
    ]);
    const verify = { ...example('vis.hit.verify', 'false-hit'), hitId: `${APP}-H1`, sourceSystem: 'SIS' };
    accepted(s.apply('vis.hit.verify', 'FI', mid(), verify));
    expect(s.hitsOf(APP)[0].verification).toBe('HIT_NOT_CONFIRMED');
  });

  it('refuses a hit verification on an unknown application (VIS_ERR_UNKNOWN_APPLICATION), unknown hit (VIS_ERR_UNKNOWN_HIT), twice (VIS_ERR_HIT_ALREADY_VERIFIED) or from another Member State (VIS_ERR_NOT_RESPONSIBLE_STATE)', () => {
    const s = fresh();
    s.configureEspHits(CONFIG);
    const verify = { ...example('vis.hit.verify', 'false-hit'), hitId: `${APP}-H1`, sourceSystem: 'SIS' };
    rejected(s.apply('vis.hit.verify', 'FI', mid(), verify), 'VIS_ERR_UNKNOWN_APPLICATION');
    accepted(s.apply('vis.application.create', 'FI', mid(), create()));
    rejected(s.apply('vis.hit.verify', 'FI', mid(), { ...verify, hitId: `${APP}-H9` }), 'VIS_ERR_UNKNOWN_HIT');
    rejected(s.apply('vis.hit.verify', 'FI', mid(), { ...verify, sourceSystem: 'EES' }), 'VIS_ERR_UNKNOWN_HIT');
    rejected(s.apply('vis.hit.verify', 'SE', mid(), verify), 'VIS_ERR_NOT_RESPONSIBLE_STATE');
    accepted(s.apply('vis.hit.verify', 'FI', mid(), verify));
    rejected(s.apply('vis.hit.verify', 'FI', mid(), verify), 'VIS_ERR_HIT_ALREADY_VERIFIED');
  });

  it('validates, copies and clears the ESP configuration', () => {
    const s = fresh();
    expect(() => s.configureEspHits({ hits: [] })).toThrow(TypeError);
    expect(() => s.configureEspHits({ identity: { surname: 'X' }, hits: [{ sourceSystem: 'SIS' }] } as unknown as EspHitConfig)).toThrow(TypeError);
    const entry: EspHitConfig = { identity: { surname: 'X' }, hits: [] };
    s.configureEspHits(entry);
    expect(s.espHitConfig()).toEqual([entry]);
    s.clearEspHits();
    expect(s.espHitConfig()).toEqual([]);
    s.configureEspHits(entry);
    s.reset();
    expect(s.espHitConfig()).toEqual([]);
  });
});

describe('MID links (Reg. 2019/817 Arts 29-33)', () => {
  const verify = (): P => example('io.mid.link.verify', 'yellow-to-green');
  const seeded = (colour: 'YELLOW' | 'GREEN' | 'RED' | 'WHITE' = 'YELLOW'): CentralState => {
    const s = fresh();
    s.seedLink({ linkId: 'MID-LINK-000042', colour, records: [{ system: 'VIS', recordId: APP }, { system: 'SIS', recordId: 'SIS-0001' }], verifierMemberState: 'FI', singleIdentificationNumber: 'SIN-1' });
    return s;
  };

  it('refuses an unknown link (VIS_ERR_UNKNOWN_LINK), for verification and retrieval', () => {
    rejected(fresh().apply('io.mid.link.verify', 'FI', mid(), verify()), 'VIS_ERR_UNKNOWN_LINK');
    rejected(fresh().apply('io.mid.icf.retrieve', 'FI', mid(), { linkId: 'MID-LINK-000042' }), 'VIS_ERR_UNKNOWN_LINK');
  });

  it('sets a yellow link to green, red or white with its justification, and the ICF shows it', () => {
    for (const [file, colour] of [['yellow-to-green', 'GREEN'], ['identity-fraud', 'RED'], ['yellow-to-green', 'WHITE']] as const) {
      const s = seeded();
      accepted(s.apply('io.mid.link.verify', 'FI', 'm-verify', { ...example('io.mid.link.verify', file), newColour: colour }));
      const icf = accepted(s.apply('io.mid.icf.retrieve', 'SE', mid(), { linkId: 'MID-LINK-000042' })).data as P;
      expect(icf.colour).toBe(colour);
      expect(icf.history.map((h: P) => h.colour)).toEqual(['YELLOW', colour]);
      expect(icf.history[1]).toMatchObject({ memberState: 'FI', verification: 'MANUAL_VERIFICATION', justification: expect.any(String) });
      expect(icf).toMatchObject({ answerTo: 'io.mid.icf.retrieve', verifyingAuthority: { memberState: 'FI' }, singleIdentificationNumber: 'SIN-1' });
      expect(validateAnswer(icf)).toEqual([]);
    }
  });

  it.each([
    ['YELLOW', 'MANUAL_VERIFICATION', 'YELLOW'],
    ['GREEN', 'MANUAL_VERIFICATION', 'RED'],
    ['YELLOW', 'RECTIFICATION', 'GREEN'],
    ['WHITE', 'RECTIFICATION', 'WHITE'],
  ] as const)('refuses a %s link changed by %s to %s (VIS_ERR_INVALID_LINK_TRANSITION)', (from, kind, to) => {
    const s = seeded(from);
    rejected(s.apply('io.mid.link.verify', 'FI', mid(), { ...verify(), verification: kind, newColour: to, ...(to === 'RED' ? { redLinkCase: 'SAME_BIOMETRICS_DIFFERENT_IDENTITY' } : {}) }), 'VIS_ERR_INVALID_LINK_TRANSITION');
    expect(s.links.get('MID-LINK-000042')!.colour).toBe(from);
  });

  it('refuses red without the Art 32(1) case (VIS_ERR_INVALID_LINK_TRANSITION)', () => {
    rejected(seeded().apply('io.mid.link.verify', 'FI', mid(), { ...verify(), newColour: 'RED' }), 'VIS_ERR_INVALID_LINK_TRANSITION');
  });

  it('follows the transition table: every allowed change is accepted, every other refused', () => {
    const colours = ['YELLOW', 'GREEN', 'RED', 'WHITE'] as const;
    for (const from of colours) {
      for (const kind of ['MANUAL_VERIFICATION', 'RECTIFICATION'] as const) {
        for (const to of colours) {
          const o = seeded(from).apply('io.mid.link.verify', 'FI', mid(), { ...verify(), verification: kind, newColour: to, ...(to === 'RED' ? { redLinkCase: 'SAME_IDENTITY_DIFFERENT_BIOMETRICS' } : {}) });
          expect([from, kind, to, o.code]).toEqual([from, kind, to, (MID_TRANSITIONS[from][kind] as readonly string[]).includes(to) ? 'OK' : 'VIS_ERR_INVALID_LINK_TRANSITION']);
        }
      }
    }
  });

  it('refuses a change from a Member State other than the verifier the ICF names (VIS_ERR_NOT_VERIFYING_AUTHORITY)', () => {
    rejected(seeded().apply('io.mid.link.verify', 'SE', mid(), verify()), 'VIS_ERR_NOT_VERIFYING_AUTHORITY');
  });

  it('refuses seeding the same link twice or a link of one record', () => {
    const s = seeded();
    expect(() => s.seedLink({ linkId: 'MID-LINK-000042', records: [{ system: 'VIS', recordId: 'a' }, { system: 'EES', recordId: 'b' }] })).toThrow();
    expect(() => s.seedLink({ linkId: 'L2', records: [{ system: 'VIS', recordId: 'a' }] })).toThrow();
  });
});

describe('VISMail consultations', () => {
  const request = (): P => example('vismail.consultation.request', 'prior');
  const reply = (): P => example('vismail.consultation.reply', 'no-objection');

  it('accepts a consultation about a known application and one reply per consulted Member State', () => {
    const s = withFile();
    accepted(s.apply('vismail.consultation.request', 'FI', mid(), request()));
    accepted(s.apply('vismail.consultation.reply', 'DE', mid(), reply()));
    accepted(s.apply('vismail.consultation.reply', 'FR', mid(), { ...reply(), answer: 'OBJECTION' }));
    expect([...s.consultations.get('FI-CONS-2025-000777')!.replies]).toEqual([['DE', 'NO_OBJECTION'], ['FR', 'OBJECTION']]);
  });

  it('refuses a consultation about an unknown application (VIS_ERR_UNKNOWN_APPLICATION), a reused id (VIS_ERR_DUPLICATE_CONSULTATION), consulting oneself (VIS_ERR_INVALID_RECIPIENT)', () => {
    rejected(fresh().apply('vismail.consultation.request', 'FI', mid(), request()), 'VIS_ERR_UNKNOWN_APPLICATION');
    const s = withFile();
    accepted(s.apply('vismail.consultation.request', 'FI', mid(), request()));
    rejected(s.apply('vismail.consultation.request', 'FI', mid(), request()), 'VIS_ERR_DUPLICATE_CONSULTATION');
    rejected(s.apply('vismail.consultation.request', 'FI', mid(), { ...request(), consultationId: 'C-2', consultedMemberStates: ['FI', 'DE'] }), 'VIS_ERR_INVALID_RECIPIENT');
  });

  it('refuses a reply to an unknown consultation (VIS_ERR_UNKNOWN_CONSULTATION), from a state not consulted (VIS_ERR_NOT_CONSULTED), or twice (VIS_ERR_ALREADY_REPLIED)', () => {
    const s = withFile();
    rejected(s.apply('vismail.consultation.reply', 'DE', mid(), reply()), 'VIS_ERR_UNKNOWN_CONSULTATION');
    accepted(s.apply('vismail.consultation.request', 'FI', mid(), request()));
    rejected(s.apply('vismail.consultation.reply', 'DE', mid(), { ...reply(), applicationNumber: 'FI-HEL-2025-000999' }), 'VIS_ERR_UNKNOWN_CONSULTATION');
    rejected(s.apply('vismail.consultation.reply', 'SE', mid(), reply()), 'VIS_ERR_NOT_CONSULTED');
    accepted(s.apply('vismail.consultation.reply', 'DE', mid(), reply()));
    rejected(s.apply('vismail.consultation.reply', 'DE', mid(), reply()), 'VIS_ERR_ALREADY_REPLIED');
  });
});

describe('robustness and codes', () => {
  it('answers VIS_ERR_UNSUPPORTED_OPERATION for a type central does not handle', () => {
    rejected(fresh().apply('vis.no.such.type', 'FI', mid(), {}), 'VIS_ERR_UNSUPPORTED_OPERATION');
  });

  it('answers VIS_ERR_INVALID_PAYLOAD, never throws, for a payload lacking what a rule needs', () => {
    const s = withFile();
    for (const type of ['vis.application.create', 'vis.visa.issue', 'vis.visa.extend', 'vis.application.search', 'io.esp.search', 'io.mid.link.verify', 'vismail.consultation.request']) {
      const o = s.apply(type, 'FI', mid(), type === 'vis.visa.issue' ? { applicationNumber: APP } : {});
      expect([type, o.code]).toEqual([type, 'VIS_ERR_INVALID_PAYLOAD']);
    }
  });

  it('handles every catalogue type', () => {
    for (const t of listTypes()) expect([t.id, fresh().apply(t.id, 'FI', mid(), {}).code]).not.toEqual([t.id, 'VIS_ERR_UNSUPPORTED_OPERATION']);
  });

  it('lists every code in docs/central-codes.md with its article', () => {
    const doc = readFileSync(join(packageRoot(), 'docs', 'central-codes.md'), 'utf8');
    for (const [code, { article }] of Object.entries(CENTRAL_CODES)) {
      const row = doc.split('\n').find((l) => l.startsWith(`| \`${code}\` |`));
      expect([code, row]).toEqual([code, expect.stringContaining(article)]);
    }
  });

  it('resets every part of the state', () => {
    const s = withVisa();
    s.seedLink({ linkId: 'L1', records: [{ system: 'VIS', recordId: 'a' }, { system: 'EES', recordId: 'b' }] });
    s.reset();
    expect([s.applications.size, s.visas.size, s.links.size, s.lsvrpApplications.size, s.consultations.size]).toEqual([0, 0, 0, 0, 0]);
    expect(accepted(s.apply('vis.application.create', 'FI', mid(), create())).centralReference).toBe('VIS-FI-2025-00000001');
  });
});

describe('over the wire (MockCentralVis.process: signed XML in, signed XML out)', () => {
  let dir: string;
  let central: MockCentralVis;
  let gatewayKey: SigningKey;
  let trust: TrustStore;
  const HEADER = { sender: 'FI', created: '2025-09-01T10:00:00.000Z' };
  const send = (type: string, payload: unknown, messageId: string = randomUUID()): { status: number; answer: ReturnType<typeof parseResponseXml> } => {
    const signed = signCanonical(buildRequestXml({ ...HEADER, type, messageId }, payload), gatewayKey);
    const { status, xml } = central.process(signed, messageId);
    verifyEnveloped(xml, trust); // central's answers are signed
    return { status, answer: parseResponseXml(xml) };
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'davis-central-rules-'));
    const pki = await createDevPki(dir);
    trust = loadTrustStore(pki.caCert);
    gatewayKey = loadSigningKey({ keyFile: pki.gatewayKey, certFile: pki.gatewayCert });
    central = new MockCentralVis({
      host: '127.0.0.1', port: 0, tlsCertFile: pki.centralCert, tlsKeyFile: pki.centralKey, clientCaFile: pki.caCert,
      signingKey: loadSigningKey({ keyFile: pki.centralKey, certFile: pki.centralCert }), trust, logger: createLogger('silent'),
    });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('stores exactly what UMA sent (the transliteration elements dropped) and answers a search with w:Data', () => {
    const created = send('vis.application.create', create());
    expect([created.status, created.answer.code]).toEqual([200, 'OK']);
    expect(central.state.applications.get(APP)!.data).toStrictEqual(create());
    const found = send('vis.application.search', example('vis.application.search', 'by-identity'));
    expect(found.answer.code).toBe('OK');
    expect(found.answer.data).toMatchObject({ answerTo: 'vis.application.search', hitCount: 1, files: [{ applicationNumber: APP, surname: 'Meikäläinen' }] });
    expect(validateAnswer(found.answer.data)).toEqual([]);
  });

  it('answers a rule refusal with its code and reason', () => {
    const refused = send('vis.visa.issue', { ...issue(), applicationNumber: 'FI-HEL-2025-000404' });
    expect([refused.answer.result, refused.answer.code]).toEqual(['REJECTED', 'VIS_ERR_UNKNOWN_APPLICATION']);
    expect(refused.answer.reason).toMatch(/no short-stay application file/);
    expect(refused.answer.data).toBeUndefined();
  });

  it('answers ESP and ICF retrievals with their data over the wire', () => {
    central.state.configureEspHits({ travelDocument: { number: '751234567' }, hits: [{ sourceSystem: 'SIS', recordId: 'SIS-9', identity: { surname: 'Щербакова' } }] });
    const esp = send('io.esp.search', { caseReference: 'C-9', profile: 'LSVRP_AUTHORITY', query: { travelDocument: { number: '751234567' } } });
    expect(esp.answer.data).toMatchObject({ answerTo: 'io.esp.search', hitCount: 1, hits: [{ sourceSystem: 'SIS', recordId: 'SIS-9', matchedOn: ['TRAVEL_DOCUMENT'], identity: { surname: 'Щербакова' } }] });
    central.state.seedLink({ linkId: 'MID-LINK-000042', records: [{ system: 'VIS', recordId: APP }, { system: 'SIS', recordId: 'SIS-9' }], verifierMemberState: 'FI' });
    expect(send('io.mid.link.verify', example('io.mid.link.verify', 'yellow-to-green')).answer.code).toBe('OK');
    const icf = send('io.mid.icf.retrieve', { linkId: 'MID-LINK-000042' });
    expect(icf.answer.data).toMatchObject({ answerTo: 'io.mid.icf.retrieve', colour: 'GREEN', linkedRecords: [{ system: 'VIS' }, { system: 'SIS' }] });
    expect(validateAnswer(icf.answer.data)).toEqual([]);
  });
});
