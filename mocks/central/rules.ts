/**
 * Central's business rules, one per message type: the checks a real central system applies
 * before accepting a message, each refusal with its `VIS_ERR_*` code (codes.ts), and the
 * closed lists they check against (decision grounds, MID colour changes, ESP systems).
 */
import { getType } from '../../src/catalogue/catalogue';
import type { CentralCode, RuleOutcome } from './codes';
import { InvalidPayload, obj, optObj, optStr, str, strings, type Payload } from './payload';
import type { ApplicationFile, LinkColour, LsvRpDocument, LsvRpFile, VisaRecord } from './records';
import type { CentralState } from './state';

/** Allowed MID colour changes: from → kind → allowed new colours (Reg. 2019/817 Arts 29-33). */
export const MID_TRANSITIONS: Readonly<Record<LinkColour, Readonly<Record<'MANUAL_VERIFICATION' | 'RECTIFICATION', readonly LinkColour[]>>>> = Object.freeze({
  YELLOW: { MANUAL_VERIFICATION: ['GREEN', 'RED', 'WHITE'], RECTIFICATION: [] },
  GREEN: { MANUAL_VERIFICATION: [], RECTIFICATION: ['RED', 'WHITE'] },
  RED: { MANUAL_VERIFICATION: [], RECTIFICATION: ['GREEN', 'WHITE'] },
  WHITE: { MANUAL_VERIFICATION: [], RECTIFICATION: ['GREEN', 'RED'] },
});

/** The systems the ESP reports as queried (Reg. 2019/817 Art 9; Reg. 767/2008 Art 9a list) [I: the same for every profile here]. */
export const ESP_SYSTEMS: readonly string[] = Object.freeze(['SIS', 'EES', 'ETIAS', 'ETIAS_WATCHLIST', 'VIS', 'ECRIS_TCN', 'EUROPOL', 'INTERPOL_SLTD', 'INTERPOL_TDAWN']);

const ART12_2 = ['ART12_2_A_I', 'ART12_2_A_II', 'ART12_2_A_IIA', 'ART12_2_A_III', 'ART12_2_A_IV', 'ART12_2_A_V', 'ART12_2_A_VI', 'ART12_2_A_VII', 'ART12_2_B', 'ART12_2_C', 'ART12_2_D'];
/** Grounds central accepts, per decision type (the closed lists of the Regulation). */
export const ALLOWED_GROUNDS: Readonly<Record<string, readonly string[]>> = Object.freeze({
  'vis.visa.refuse': ART12_2,
  'vis.visa.annul': ART12_2,
  'vis.visa.revoke': [...ART12_2, 'ART13_2_B_HOLDER_REQUEST'],
  'vis.visa.extend': ['FORCE_MAJEURE', 'HUMANITARIAN', 'SERIOUS_OCCUPATIONAL', 'SERIOUS_PERSONAL'],
  'vis.lsvrp.refuse': ['ART22D_THREAT', 'ART22D_FRAUDULENT_DOCUMENTS'],
  'vis.lsvrp.withdraw': ['ART22D_THREAT', 'ART22D_FRAUDULENT_DOCUMENTS'],
});

/** The retrieve answer's choice member for each decision type. */
const DECISION_KEYS: Readonly<Record<string, string>> = {
  'vis.visa.issue': 'visaIssue',
  'vis.examination.discontinue': 'examinationDiscontinue',
  'vis.visa.refuse': 'visaRefuse',
  'vis.visa.annul': 'visaAnnul',
  'vis.visa.revoke': 'visaRevoke',
  'vis.visa.extend': 'visaExtend',
};


/** A rule: what central does with one message of its type. */
export type Rule = (state: CentralState, sender: string, messageId: string, payload: Payload) => RuleOutcome;

/** An acceptance. */
export const ok = (centralReference?: string, data?: Record<string, unknown>): RuleOutcome => ({
  result: 'ACCEPTED',
  code: 'OK',
  ...(centralReference !== undefined ? { centralReference } : {}),
  ...(data !== undefined ? { data } : {}),
});
/** A refusal with its code. */
export const refuse = (code: Exclude<CentralCode, 'OK'>, reason: string): RuleOutcome => ({ result: 'REJECTED', code, reason });

/** Checks common to decisions on a short-stay file by its creator. */
function ssvDecisionTarget(state: CentralState, sender: string, p: Payload): ApplicationFile | RuleOutcome {
  const number = str(p, 'applicationNumber');
  const file = state.applications.get(number);
  if (!file) return refuse('VIS_ERR_UNKNOWN_APPLICATION', state.lsvrpApplications.has(number) ? 'the application number is an LSV/RP file, not a short-stay file' : 'no short-stay application file with this application number');
  if (file.memberState !== sender) return refuse('VIS_ERR_NOT_RESPONSIBLE_STATE', 'the decision is taken by the Member State that created the file');
  return file;
}

/** A decision that closes the examination (issue, refuse, discontinue) needs a file still under examination. */
function stillUnderExamination(file: ApplicationFile): RuleOutcome | undefined {
  switch (file.status) {
    case 'VISA_REQUESTED':
      return undefined;
    case 'VISA_REFUSED':
      return refuse('VIS_ERR_ALREADY_REFUSED', 'a refusal is recorded on this file');
    case 'EXAMINATION_DISCONTINUED':
      return refuse('VIS_ERR_EXAMINATION_DISCONTINUED', 'the examination of this application was discontinued');
    default:
      return refuse('VIS_ERR_ALREADY_DECIDED', `a decision is already recorded on this file (status ${file.status})`);
  }
}

function groundsOutside(type: string, grounds: readonly string[]): RuleOutcome | undefined {
  const allowed = ALLOWED_GROUNDS[type] ?? [];
  const bad = grounds.filter((g) => !allowed.includes(g));
  if (bad.length === 0) return undefined;
  return refuse('VIS_ERR_GROUND_NOT_ALLOWED', `ground(s) ${bad.join(', ')} not allowed for ${type} (allowed: ${allowed.join(', ')})`);
}

function isOutcome(x: unknown): x is RuleOutcome {
  return typeof x === 'object' && x !== null && 'result' in x && 'code' in x;
}

/** A visa of this file that can still be annulled, revoked or extended. */
function liveVisa(state: CentralState, file: ApplicationFile, sticker: string): VisaRecord | RuleOutcome {
  const visa = state.visas.get(sticker);
  if (!visa || visa.applicationNumber !== file.applicationNumber) return refuse('VIS_ERR_NO_ISSUED_VISA', 'no visa with this sticker number is recorded on this file');
  if (visa.status !== 'ISSUED' && visa.status !== 'EXTENDED') return refuse('VIS_ERR_NO_ISSUED_VISA', `the visa with this sticker number is ${visa.status.toLowerCase()}`);
  return visa;
}

function lsvrpTarget(state: CentralState, p: Payload): LsvRpFile | RuleOutcome {
  const number = str(p, 'applicationNumber');
  const file = state.lsvrpApplications.get(number);
  if (!file) return refuse('VIS_ERR_UNKNOWN_APPLICATION', state.applications.has(number) ? 'the application number is a short-stay file, not an LSV/RP file' : 'no LSV/RP application file with this application number');
  return file;
}

function liveDocument(state: CentralState, file: LsvRpFile, number: string): LsvRpDocument | RuleOutcome {
  const doc = state.lsvrpDocuments.get(number);
  if (!doc || doc.applicationNumber !== file.applicationNumber) return refuse('VIS_ERR_NO_ISSUED_DOCUMENT', 'no document with this number is recorded on this file');
  if (doc.status !== 'VALID') return refuse('VIS_ERR_NO_ISSUED_DOCUMENT', `the document is ${doc.status.toLowerCase()}`);
  return doc;
}


/** The rule of each message type central handles. */
export const RULES: Record<string, Rule> = {
  'vis.application.create': (state, sender, messageId, p) => {
    const number = str(p, 'applicationNumber');
    if (state.applications.has(number) || state.lsvrpApplications.has(number)) {
      return refuse('VIS_ERR_DUPLICATE_APPLICATION', 'an application file with this application number exists');
    }
    const applicant = obj(p, 'applicant');
    const doc = obj(p, 'travelDocument');
    const ref = state.nextReference(sender);
    const file: ApplicationFile = {
      applicationNumber: number, memberState: sender, centralReference: ref, createdBy: messageId, status: 'VISA_REQUESTED',
      data: { ...p }, decisions: [], hits: [],
    };
    state.applications.set(number, file);
    // Art 9a: the automated queries run on the new file.
    file.hits.push(...state.automatedQuery(number, { surname: str(applicant, 'surname'), firstNames: optStr(applicant, 'firstNames'), dateOfBirth: optStr(applicant, 'dateOfBirth') }, { number: str(doc, 'number'), issuingCountry: optStr(doc, 'issuingCountry') }));
    return ok(ref);
  },

  'vis.visa.issue': (state, sender, messageId, p) => {
    const file = ssvDecisionTarget(state, sender, p);
    if (isOutcome(file)) return file;
    const closed = stillUnderExamination(file);
    if (closed) return closed;
    const sticker = str(p, 'visaStickerNumber');
    if (state.visas.has(sticker)) return refuse('VIS_ERR_DUPLICATE_STICKER', 'a visa with this sticker number is already recorded');
    state.visas.set(sticker, { stickerNumber: sticker, applicationNumber: file.applicationNumber, issuedBy: sender, status: 'ISSUED' });
    state.recordDecision(file, 'vis.visa.issue', sender, messageId, p, 'VISA_ISSUED');
    return ok(file.centralReference);
  },

  'vis.examination.discontinue': (state, sender, messageId, p) => {
    const file = ssvDecisionTarget(state, sender, p);
    if (isOutcome(file)) return file;
    const closed = stillUnderExamination(file);
    if (closed) return closed;
    state.recordDecision(file, 'vis.examination.discontinue', sender, messageId, p, 'EXAMINATION_DISCONTINUED');
    return ok(file.centralReference);
  },

  'vis.visa.refuse': (state, sender, messageId, p) => {
    const file = ssvDecisionTarget(state, sender, p);
    if (isOutcome(file)) return file;
    const closed = stillUnderExamination(file);
    if (closed) return closed;
    const bad = groundsOutside('vis.visa.refuse', strings(p, 'grounds'));
    if (bad) return bad;
    state.recordDecision(file, 'vis.visa.refuse', sender, messageId, p, 'VISA_REFUSED');
    return ok(file.centralReference);
  },

  'vis.visa.annul': (state, sender, messageId, p) => annulOrRevoke(state, 'vis.visa.annul', sender, messageId, p),
  'vis.visa.revoke': (state, sender, messageId, p) => annulOrRevoke(state, 'vis.visa.revoke', sender, messageId, p),

  'vis.visa.extend': (state, sender, messageId, p) => {
    // Any Member State's competent authority may extend (Visa Code Art 33).
    const file = state.applications.get(str(p, 'applicationNumber'));
    if (!file) return refuse('VIS_ERR_UNKNOWN_APPLICATION', 'no short-stay application file with this application number');
    const visa = liveVisa(state, file, str(p, 'visaStickerNumber'));
    if (isOutcome(visa)) return visa;
    const bad = groundsOutside('vis.visa.extend', strings(p, 'grounds'));
    if (bad) return bad;
    const newSticker = str(p, 'newVisaStickerNumber');
    if (state.visas.has(newSticker)) return refuse('VIS_ERR_DUPLICATE_STICKER', 'the extension sticker number is already recorded');
    visa.status = 'EXTENDED';
    state.visas.set(newSticker, { stickerNumber: newSticker, applicationNumber: file.applicationNumber, issuedBy: sender, status: 'ISSUED', extensionOf: visa.stickerNumber });
    state.recordDecision(file, 'vis.visa.extend', sender, messageId, p, 'VISA_EXTENDED');
    return ok(file.centralReference);
  },

  'vis.application.amend': (state, sender, _messageId, p) => {
    const file = ssvDecisionTarget(state, sender, p);
    if (isOutcome(file)) return file;
    const changes = obj(p, 'changes');
    const set = optObj(changes, 'set') ?? {};
    const remove = strings(changes, 'remove');
    const next: Record<string, unknown> = { ...file.data, ...set };
    for (const k of remove) delete next[k];
    file.data = inCreateOrder(next);
    return ok(file.centralReference);
  },

  'vis.application.delete': (state, sender, _messageId, p) => {
    const file = ssvDecisionTarget(state, sender, p);
    if (isOutcome(file)) return file;
    state.applications.delete(file.applicationNumber);
    for (const [sticker, visa] of state.visas) if (visa.applicationNumber === file.applicationNumber) state.visas.delete(sticker);
    return ok(file.centralReference);
  },

  'vis.application.search': (state, _sender, _messageId, p) => {
    const criteria = obj(p, 'criteria');
    const found = [...state.applications.values()].filter((f) => state.matchesCriteria(f, criteria));
    const files = found.slice(0, 100).map((f) => state.summary(f));
    return ok(undefined, { answerTo: 'vis.application.search', hitCount: found.length, ...(files.length > 0 ? { files } : {}) });
  },

  'vis.application.retrieve': (state, _sender, _messageId, p) => {
    const number = str(p, 'applicationNumber');
    const file = state.applications.get(number);
    if (!file) return refuse('VIS_ERR_UNKNOWN_APPLICATION', state.lsvrpApplications.has(number) ? 'the application number is an LSV/RP file, not a short-stay file' : 'no short-stay application file with this application number');
    const decisions = file.decisions.map((d) => ({ memberState: d.memberState, recordedAt: d.recordedAt, decision: { [DECISION_KEYS[d.type]]: d.payload } }));
    const hits = file.hits.map((h) => ({ hitId: h.hitId, sourceSystem: h.sourceSystem, verification: h.verification }));
    return ok(file.centralReference, {
      answerTo: 'vis.application.retrieve',
      applicationNumber: file.applicationNumber,
      centralReference: file.centralReference,
      memberState: file.memberState,
      status: file.status,
      application: file.data,
      ...(decisions.length > 0 ? { decisions } : {}),
      ...(hits.length > 0 ? { hits } : {}),
    });
  },

  'vis.lsvrp.application.create': (state, sender, messageId, p) => {
    const number = str(p, 'applicationNumber');
    if (state.applications.has(number) || state.lsvrpApplications.has(number)) {
      return refuse('VIS_ERR_DUPLICATE_APPLICATION', 'an application file with this application number exists');
    }
    const applicant = obj(p, 'applicant');
    const doc = obj(p, 'travelDocument');
    const ref = state.nextReference(sender);
    const file: LsvRpFile = {
      applicationNumber: number, memberState: sender, centralReference: ref, createdBy: messageId, documentTypeRequested: str(p, 'documentTypeRequested'),
      status: 'LSVRP_REQUESTED', data: { ...p }, decisions: [], hits: [],
    };
    state.lsvrpApplications.set(number, file);
    // Art 22b: the automated queries run on the new file.
    file.hits.push(...state.automatedQuery(number, { surname: str(applicant, 'surname'), firstNames: optStr(applicant, 'firstNames'), dateOfBirth: optStr(applicant, 'dateOfBirth') }, { number: str(doc, 'number'), issuingCountry: optStr(doc, 'issuingCountry') }));
    return ok(ref);
  },

  'vis.lsvrp.issue': (state, sender, messageId, p) => {
    const file = lsvrpTarget(state, p);
    if (isOutcome(file)) return file;
    if (file.memberState !== sender) return refuse('VIS_ERR_NOT_RESPONSIBLE_STATE', 'the decision is taken by the Member State that created the file');
    if (file.status === 'LSVRP_REFUSED') return refuse('VIS_ERR_ALREADY_REFUSED', 'a refusal is recorded on this file');
    if (file.status !== 'LSVRP_REQUESTED') return refuse('VIS_ERR_ALREADY_DECIDED', `a decision is already recorded on this file (status ${file.status})`);
    const number = str(p, 'documentNumber');
    if (state.lsvrpDocuments.has(number)) return refuse('VIS_ERR_DUPLICATE_DOCUMENT', 'a document with this number is already recorded');
    state.lsvrpDocuments.set(number, { documentNumber: number, applicationNumber: file.applicationNumber, documentType: str(p, 'documentType'), issuedBy: sender, status: 'VALID', validUntil: str(p, 'validUntil') });
    state.recordLsvRpDecision(file, 'vis.lsvrp.issue', sender, messageId, p, 'LSVRP_ISSUED');
    return ok(file.centralReference);
  },

  'vis.lsvrp.refuse': (state, sender, messageId, p) => {
    const file = lsvrpTarget(state, p);
    if (isOutcome(file)) return file;
    if (file.memberState !== sender) return refuse('VIS_ERR_NOT_RESPONSIBLE_STATE', 'the decision is taken by the Member State that created the file');
    if (file.status === 'LSVRP_REFUSED') return refuse('VIS_ERR_ALREADY_REFUSED', 'a refusal is recorded on this file');
    if (file.status !== 'LSVRP_REQUESTED') return refuse('VIS_ERR_ALREADY_DECIDED', `a decision is already recorded on this file (status ${file.status})`);
    const bad = groundsOutside('vis.lsvrp.refuse', strings(p, 'grounds'));
    if (bad) return bad;
    state.recordLsvRpDecision(file, 'vis.lsvrp.refuse', sender, messageId, p, 'LSVRP_REFUSED');
    return ok(file.centralReference);
  },

  'vis.lsvrp.withdraw': (state, sender, messageId, p) => {
    const file = lsvrpTarget(state, p);
    if (isOutcome(file)) return file;
    const doc = liveDocument(state, file, str(p, 'documentNumber'));
    if (isOutcome(doc)) return doc;
    if (doc.issuedBy !== sender) return refuse('VIS_ERR_NOT_RESPONSIBLE_STATE', 'only the Member State that issued the document withdraws, annuls or revokes it');
    const decision = str(p, 'decision');
    if (decision !== 'WITHDRAWN' && decision !== 'ANNULLED' && decision !== 'REVOKED') throw new InvalidPayload('"decision" must be WITHDRAWN, ANNULLED or REVOKED');
    if (doc.documentType === 'RESIDENCE_PERMIT' && decision !== 'WITHDRAWN') return refuse('VIS_ERR_DECISION_NOT_ALLOWED', 'a residence permit is withdrawn, not annulled or revoked');
    const bad = groundsOutside('vis.lsvrp.withdraw', strings(p, 'grounds'));
    if (bad) return bad;
    doc.status = decision;
    state.recordLsvRpDecision(file, 'vis.lsvrp.withdraw', sender, messageId, p, decision);
    return ok(file.centralReference);
  },

  'vis.lsvrp.extend': (state, sender, messageId, p) => {
    const file = lsvrpTarget(state, p);
    if (isOutcome(file)) return file;
    const doc = liveDocument(state, file, str(p, 'documentNumber'));
    if (isOutcome(doc)) return doc;
    if (doc.issuedBy !== sender) return refuse('VIS_ERR_NOT_RESPONSIBLE_STATE', 'only the Member State that issued the document extends or renews it');
    const decision = str(p, 'decision');
    if (decision === 'EXTENDED' && doc.documentType !== 'LONG_STAY_VISA') return refuse('VIS_ERR_DECISION_NOT_ALLOWED', 'a residence permit is renewed, not extended');
    if (decision === 'RENEWED' && doc.documentType !== 'RESIDENCE_PERMIT') return refuse('VIS_ERR_DECISION_NOT_ALLOWED', 'a long-stay visa is extended, not renewed');
    if (decision !== 'EXTENDED' && decision !== 'RENEWED') throw new InvalidPayload('"decision" must be EXTENDED or RENEWED');
    const validUntil = str(p, 'validUntil');
    const newNumber = optStr(p, 'newDocumentNumber');
    if (newNumber !== undefined) {
      if (state.lsvrpDocuments.has(newNumber)) return refuse('VIS_ERR_DUPLICATE_DOCUMENT', 'the new document number is already recorded');
      doc.status = 'REPLACED';
      state.lsvrpDocuments.set(newNumber, { documentNumber: newNumber, applicationNumber: file.applicationNumber, documentType: doc.documentType, issuedBy: sender, status: 'VALID', validUntil });
    } else {
      doc.validUntil = validUntil;
    }
    state.recordLsvRpDecision(file, 'vis.lsvrp.extend', sender, messageId, p, decision);
    return ok(file.centralReference);
  },

  'io.esp.search': (state, _sender, _messageId, p) => {
    const query = obj(p, 'query');
    const identity = optObj(query, 'identity');
    const doc = optObj(query, 'travelDocument');
    const hits = state.espHitsFor(
      identity ? { surname: str(identity, 'surname'), firstNames: optStr(identity, 'firstNames'), dateOfBirth: optStr(identity, 'dateOfBirth') } : undefined,
      doc ? { number: str(doc, 'number'), issuingCountry: optStr(doc, 'issuingCountry') } : undefined,
    );
    const systems = [...ESP_SYSTEMS, ...hits.map((h) => h.sourceSystem).filter((s) => !ESP_SYSTEMS.includes(s))];
    return ok(undefined, { answerTo: 'io.esp.search', hitCount: hits.length, systemsQueried: [...new Set(systems)], ...(hits.length > 0 ? { hits: hits.slice(0, 200) } : {}) });
  },

  'vis.hit.verify': (state, sender, _messageId, p) => {
    const number = str(p, 'applicationNumber');
    const file = state.applications.get(number) ?? state.lsvrpApplications.get(number);
    if (!file) return refuse('VIS_ERR_UNKNOWN_APPLICATION', 'no application file with this application number');
    if (file.memberState !== sender) return refuse('VIS_ERR_NOT_RESPONSIBLE_STATE', 'hits are verified by the Member State that created the file');
    const hitId = str(p, 'hitId');
    const hit = file.hits.find((h) => h.hitId === hitId && h.sourceSystem === str(p, 'sourceSystem'));
    if (!hit) return refuse('VIS_ERR_UNKNOWN_HIT', 'no hit with this id from this source system on the file');
    if (hit.verification !== 'PENDING') return refuse('VIS_ERR_HIT_ALREADY_VERIFIED', `the hit was already verified (${hit.verification})`);
    const result = str(p, 'result');
    if (result !== 'HIT_CONFIRMED' && result !== 'HIT_NOT_CONFIRMED') throw new InvalidPayload('"result" must be HIT_CONFIRMED or HIT_NOT_CONFIRMED');
    hit.verification = result;
    return ok(file.centralReference);
  },

  'io.mid.link.verify': (state, sender, _messageId, p) => {
    const link = state.links.get(str(p, 'linkId'));
    if (!link) return refuse('VIS_ERR_UNKNOWN_LINK', 'no MID link with this id');
    if (link.verifierMemberState !== undefined && link.verifierMemberState !== sender) {
      return refuse('VIS_ERR_NOT_VERIFYING_AUTHORITY', 'the identity confirmation file names another Member State as verifier (Art 29)');
    }
    const kind = str(p, 'verification');
    const to = str(p, 'newColour');
    if (kind !== 'MANUAL_VERIFICATION' && kind !== 'RECTIFICATION') throw new InvalidPayload('"verification" must be MANUAL_VERIFICATION or RECTIFICATION');
    const allowed = MID_TRANSITIONS[link.colour][kind];
    if (!(allowed as readonly string[]).includes(to)) {
      const why =
        to === 'YELLOW' ? 'a link becomes yellow only by MID detection (Art 30)'
        : to === link.colour ? 'the colour would not change'
        : kind === 'MANUAL_VERIFICATION' ? 'only a yellow link is manually verified (Art 29); a recorded colour is changed by RECTIFICATION'
        : 'a yellow link is manually verified (MANUAL_VERIFICATION), not rectified';
      return refuse('VIS_ERR_INVALID_LINK_TRANSITION', `${link.colour} to ${to} by ${kind}: ${why}`);
    }
    if (to === 'RED' && optStr(p, 'redLinkCase') === undefined) return refuse('VIS_ERR_INVALID_LINK_TRANSITION', 'a red link needs one of the Art 32(1) cases');
    const justification = str(p, 'justification');
    const at = state.now();
    link.colour = to as LinkColour;
    link.updatedAt = at;
    link.history.push({ colour: to as LinkColour, at, memberState: sender, verification: kind, justification });
    return ok();
  },

  'io.mid.icf.retrieve': (state, _sender, _messageId, p) => {
    const link = state.links.get(str(p, 'linkId'));
    if (!link) return refuse('VIS_ERR_UNKNOWN_LINK', 'no MID link with this id');
    return ok(undefined, {
      answerTo: 'io.mid.icf.retrieve',
      linkId: link.linkId,
      colour: link.colour,
      linkedRecords: link.records.map((r) => ({ system: r.system, recordId: r.recordId })),
      ...(link.singleIdentificationNumber !== undefined ? { singleIdentificationNumber: link.singleIdentificationNumber } : {}),
      ...(link.verifierMemberState !== undefined
        ? { verifyingAuthority: { memberState: link.verifierMemberState, ...(link.verifierName !== undefined ? { name: link.verifierName } : {}) } }
        : {}),
      createdAt: link.createdAt,
      updatedAt: link.updatedAt,
      history: link.history.map((h) => ({ ...h })),
    });
  },

  'vismail.consultation.request': (state, sender, _messageId, p) => {
    const id = str(p, 'consultationId');
    const number = str(p, 'applicationNumber');
    if (!state.applications.has(number)) return refuse('VIS_ERR_UNKNOWN_APPLICATION', 'no short-stay application file with this application number');
    if (state.consultations.has(id)) return refuse('VIS_ERR_DUPLICATE_CONSULTATION', 'a consultation with this id exists');
    const consulted = strings(p, 'consultedMemberStates');
    if (consulted.includes(sender)) return refuse('VIS_ERR_INVALID_RECIPIENT', 'a Member State does not consult itself');
    state.consultations.set(id, { consultationId: id, applicationNumber: number, kind: str(p, 'kind'), requestedBy: sender, consulted, replies: new Map() });
    return ok();
  },

  'vismail.consultation.reply': (state, sender, _messageId, p) => {
    const c = state.consultations.get(str(p, 'consultationId'));
    if (!c || c.applicationNumber !== str(p, 'applicationNumber')) return refuse('VIS_ERR_UNKNOWN_CONSULTATION', 'no consultation with this id about this application');
    if (!c.consulted.includes(sender)) return refuse('VIS_ERR_NOT_CONSULTED', 'this Member State was not consulted');
    if (c.replies.has(sender)) return refuse('VIS_ERR_ALREADY_REPLIED', 'this Member State already replied');
    c.replies.set(sender, str(p, 'answer'));
    return ok();
  },
};

function annulOrRevoke(state: CentralState, type: 'vis.visa.annul' | 'vis.visa.revoke', sender: string, messageId: string, p: Payload): RuleOutcome {
  // Any Member State's competent authority may annul or revoke (Visa Code Art 34(1)-(2)).
  const file = state.applications.get(str(p, 'applicationNumber'));
  if (!file) return refuse('VIS_ERR_UNKNOWN_APPLICATION', 'no short-stay application file with this application number');
  const visa = liveVisa(state, file, str(p, 'visaStickerNumber'));
  if (isOutcome(visa)) return visa;
  const bad = groundsOutside(type, strings(p, 'grounds'));
  if (bad) return bad;
  visa.status = type === 'vis.visa.annul' ? 'ANNULLED' : 'REVOKED';
  state.recordDecision(file, type, sender, messageId, p, type === 'vis.visa.annul' ? 'VISA_ANNULLED' : 'VISA_REVOKED');
  return ok(file.centralReference);
}

/** The application data with its keys in vis.application.create schema order (as a retrieval returns it). */
function inCreateOrder(data: Record<string, unknown>): Record<string, unknown> {
  const order = Object.keys(getType('vis.application.create')?.schema.properties ?? {});
  const out: Record<string, unknown> = {};
  for (const k of order) if (k in data) out[k] = data[k];
  for (const k of Object.keys(data)) if (!(k in out)) out[k] = data[k];
  return out;
}
