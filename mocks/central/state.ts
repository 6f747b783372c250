/**
 * The mock central VIS's own state and rules: what a real central system keeps about the
 * files it received (short-stay application files and their visas, LSV/RP files and their
 * documents, hits of the automated queries, MID links, VISMail consultations) and the checks
 * it applies before accepting a message. Every refusal has a stable `VIS_ERR_*` code
 * (`CENTRAL_CODES`, documented in docs/central-codes.md); the gateway records it as the
 * message's rejection reason.
 *
 * `apply` expects a message that passed the wire checks (signature, XSD, mapping), as
 * `MockCentralVis` gives it; it still never throws on a payload missing what a rule needs
 * (`VIS_ERR_INVALID_PAYLOAD`). Tests seed state by applying messages (e.g. the
 * `schemas/examples/<type>/valid-*.json` payloads) and through the seeding API:
 * `configureEspHits` (what the ESP and the automated queries find), `seedLink` (MID links).
 */
import { getType } from '../../src/catalogue/catalogue';
import { transliterateIcao } from '../../src/wire/icao-transliteration';

// ---------------------------------------------------------------------------------------
// codes

/** Every result code central answers with, with when it is used and its legal basis. */
export const CENTRAL_CODES = Object.freeze({
  OK: { when: 'the message was accepted', article: '-' },
  VIS_ERR_MALFORMED: { when: 'the request is not screened-safe XML (DOCTYPE, too large, too deep, not well-formed)', article: 'wire profile' },
  VIS_ERR_SIGNATURE: { when: 'the XML signature is missing, invalid or not from a trusted sender', article: 'wire profile' },
  VIS_ERR_SCHEMA: { when: 'the request violates the wire XSD or does not map to a catalogue message', article: 'wire profile' },
  VIS_ERR_UNSUPPORTED_OPERATION: { when: 'central has no rule for the message type', article: '-' },
  VIS_ERR_INVALID_PAYLOAD: { when: 'the payload lacks a field a rule needs (a message that bypassed the JSON Schema)', article: '-' },
  VIS_ERR_DUPLICATE_APPLICATION: { when: 'a short-stay or LSV/RP file with this application number exists', article: 'Reg. 767/2008 Art 8(1), 9(1), 22a(1)(a)' },
  VIS_ERR_UNKNOWN_APPLICATION: { when: 'no application file (of the kind the message needs) with this application number', article: 'Reg. 767/2008 Arts 10-15, 22c-22f, 24, 25' },
  VIS_ERR_NOT_RESPONSIBLE_STATE: {
    when: 'the sender is not the Member State responsible: issue, refuse, discontinue, amend, delete and hit verification need the creator of the file; LSV/RP withdrawal and extension the issuer of the document',
    article: 'Reg. 767/2008 Art 24(1), 25(1), 9c, 22e, 22f',
  },
  VIS_ERR_ALREADY_REFUSED: { when: 'a visa or LSV/RP refusal is already recorded on the file (issue, refuse or discontinue after a refusal)', article: 'Reg. 767/2008 Art 12, 22d' },
  VIS_ERR_ALREADY_DECIDED: { when: 'a decision other than a refusal or a discontinuation (issue, annulment, revocation, extension) is already recorded on the file', article: 'Reg. 767/2008 Arts 10-14, 22c' },
  VIS_ERR_EXAMINATION_DISCONTINUED: { when: 'a decision on a file whose examination was discontinued', article: 'Reg. 767/2008 Art 11' },
  VIS_ERR_NO_ISSUED_VISA: { when: 'annul, revoke or extend without an issued (or extended), not annulled or revoked visa with this sticker number on this file', article: 'Reg. 767/2008 Art 13, 14' },
  VIS_ERR_DUPLICATE_STICKER: { when: 'the visa sticker number (or the extension sticker number) is already recorded', article: 'Reg. 767/2008 Art 10(1)(e), 14(1)(d)' },
  VIS_ERR_GROUND_NOT_ALLOWED: {
    when: 'a ground outside the closed list of the decision: Art 12(2) for refusal and annulment, Art 12(2) or the holder\'s request for revocation, Art 14(2) for extension, Art 22d for LSV/RP refusal and withdrawal',
    article: 'Reg. 767/2008 Art 12(2), 13(2), 14(2), 22d, 22e',
  },
  VIS_ERR_NO_ISSUED_DOCUMENT: { when: 'withdraw or extend an LSV/RP document that is not an issued, valid document of this file', article: 'Reg. 767/2008 Art 22e, 22f' },
  VIS_ERR_DUPLICATE_DOCUMENT: { when: 'the LSV/RP document number is already recorded', article: 'Reg. 767/2008 Art 22c, 22f' },
  VIS_ERR_DECISION_NOT_ALLOWED: {
    when: 'the decision does not fit the document: a residence permit is only withdrawn (not annulled or revoked); a long-stay visa is extended, a residence permit renewed',
    article: 'Reg. 767/2008 Art 22e, 22f',
  },
  VIS_ERR_UNKNOWN_HIT: { when: 'no hit with this id from this source system on the file', article: 'Reg. 767/2008 Art 9a, 9c, 22b' },
  VIS_ERR_HIT_ALREADY_VERIFIED: { when: 'the hit was already verified', article: 'Reg. 767/2008 Art 9c' },
  VIS_ERR_UNKNOWN_LINK: { when: 'no MID link with this id', article: 'Reg. 2019/817 Art 34' },
  VIS_ERR_NOT_VERIFYING_AUTHORITY: { when: 'the sender is not the Member State the identity confirmation file names as verifier', article: 'Reg. 2019/817 Art 29' },
  VIS_ERR_INVALID_LINK_TRANSITION: {
    when: 'an inconsistent colour change: to yellow, a manual verification of a non-yellow link, a rectification of a yellow link, an unchanged colour, or red without the Art 32(1) case',
    article: 'Reg. 2019/817 Arts 29-33',
  },
  VIS_ERR_DUPLICATE_CONSULTATION: { when: 'a consultation with this id exists', article: 'Reg. 767/2008 Art 16' },
  VIS_ERR_INVALID_RECIPIENT: { when: 'a Member State consults itself', article: 'Reg. 767/2008 Art 16' },
  VIS_ERR_UNKNOWN_CONSULTATION: { when: 'no consultation with this id about this application', article: 'Reg. 767/2008 Art 16' },
  VIS_ERR_NOT_CONSULTED: { when: 'the replying Member State was not consulted', article: 'Reg. 767/2008 Art 16; Visa Code Art 22' },
  VIS_ERR_ALREADY_REPLIED: { when: 'the Member State already replied to this consultation', article: 'Reg. 767/2008 Art 16; Visa Code Art 22' },
} as const satisfies Record<string, { readonly when: string; readonly article: string }>);

/** A result code central answers with. */
export type CentralCode = keyof typeof CENTRAL_CODES;

/** The outcome of applying central's rules to one message. */
export interface RuleOutcome {
  readonly result: 'ACCEPTED' | 'REJECTED';
  /** `OK` or a `VIS_ERR_*` code of `CENTRAL_CODES`. */
  readonly code: string;
  /** Central reference of the file the message concerns (accepted file operations). */
  readonly centralReference?: string;
  /** Why central refused (rejections), without personal data. */
  readonly reason?: string;
  /** Data returned to the sender (searches, retrievals): the type's answer schema, `answerTo` first. */
  readonly data?: Readonly<Record<string, unknown>>;
}

// ---------------------------------------------------------------------------------------
// state

/** Status of a short-stay application file (the last decision recorded). */
export type ApplicationStatus = 'VISA_REQUESTED' | 'VISA_ISSUED' | 'VISA_REFUSED' | 'EXAMINATION_DISCONTINUED' | 'VISA_ANNULLED' | 'VISA_REVOKED' | 'VISA_EXTENDED';

/** Status of an LSV/RP application file. */
export type LsvRpStatus = 'LSVRP_REQUESTED' | 'LSVRP_ISSUED' | 'LSVRP_REFUSED' | 'WITHDRAWN' | 'ANNULLED' | 'REVOKED' | 'EXTENDED' | 'RENEWED';

/** One decision message accepted on a file, as sent. */
export interface DecisionRecord {
  /** Catalogue type, e.g. `vis.visa.issue`. */
  readonly type: string;
  /** Sender. */
  readonly memberState: string;
  readonly messageId: string;
  /** When central recorded it (ISO 8601 UTC, milliseconds). */
  readonly recordedAt: string;
  readonly payload: Readonly<Record<string, unknown>>;
}

/** A hit of the automated queries (Arts 9a, 22b) on a file. */
export interface HitRecord {
  /** `<applicationNumber>-H<n>`. */
  readonly hitId: string;
  readonly sourceSystem: string;
  readonly recordId: string;
  verification: 'PENDING' | 'HIT_CONFIRMED' | 'HIT_NOT_CONFIRMED';
}

/** A short-stay application file as central keeps it. */
export interface ApplicationFile {
  readonly applicationNumber: string;
  /** Member State that created the file (the wire `Sender`): responsible for it (Art 24). */
  readonly memberState: string;
  readonly centralReference: string;
  /** Message id of the creation. */
  readonly createdBy: string;
  status: ApplicationStatus;
  /** The vis.application.create payload, amended since (schema key order). */
  data: Record<string, unknown>;
  readonly decisions: DecisionRecord[];
  readonly hits: HitRecord[];
}

/** A short-stay visa, by sticker number. */
export interface VisaRecord {
  readonly stickerNumber: string;
  readonly applicationNumber: string;
  /** Member State that issued (or extended) it. */
  readonly issuedBy: string;
  status: 'ISSUED' | 'EXTENDED' | 'ANNULLED' | 'REVOKED';
  /** For an extension sticker: the sticker number of the visa it extends. */
  readonly extensionOf?: string;
}

/** A long-stay visa or residence permit application file. */
export interface LsvRpFile {
  readonly applicationNumber: string;
  readonly memberState: string;
  readonly centralReference: string;
  readonly createdBy: string;
  readonly documentTypeRequested: string;
  status: LsvRpStatus;
  readonly data: Record<string, unknown>;
  readonly decisions: DecisionRecord[];
  readonly hits: HitRecord[];
}

/** A long-stay visa or residence permit document, by number. */
export interface LsvRpDocument {
  readonly documentNumber: string;
  readonly applicationNumber: string;
  /** `LONG_STAY_VISA` or `RESIDENCE_PERMIT`. */
  readonly documentType: string;
  readonly issuedBy: string;
  status: 'VALID' | 'WITHDRAWN' | 'ANNULLED' | 'REVOKED' | 'REPLACED';
  validUntil: string;
}

/** A record linked by a MID link (ICF Art 34(b)). */
export interface LinkedRecord {
  /** A `SourceSystem` code, e.g. `VIS`, `SIS`. */
  readonly system: string;
  readonly recordId: string;
}

/** MID link colours (Reg. 2019/817 Arts 30-33). */
export type LinkColour = 'YELLOW' | 'GREEN' | 'RED' | 'WHITE';

/** One colour a link had. */
export interface LinkHistoryEntry {
  readonly colour: LinkColour;
  readonly at: string;
  /** Absent: set by the MID itself. */
  readonly memberState?: string;
  readonly verification?: 'MANUAL_VERIFICATION' | 'RECTIFICATION';
  readonly justification?: string;
}

/** A multiple-identity link and its identity confirmation file. */
export interface MidLink {
  readonly linkId: string;
  colour: LinkColour;
  readonly records: readonly LinkedRecord[];
  /** Member State responsible for the manual verification (Art 29); absent: any. */
  readonly verifierMemberState?: string;
  readonly verifierName?: string;
  readonly singleIdentificationNumber?: string;
  readonly createdAt: string;
  updatedAt: string;
  readonly history: LinkHistoryEntry[];
}

/** What `seedLink` takes: a link as the MID would have created it. */
export interface MidLinkSeed {
  readonly linkId: string;
  /** @default 'YELLOW' */
  readonly colour?: LinkColour;
  /** At least two. */
  readonly records: readonly LinkedRecord[];
  readonly verifierMemberState?: string;
  readonly verifierName?: string;
  readonly singleIdentificationNumber?: string;
}

/** A VISMail consultation (kept only to check replies: VISMail is not stored in the VIS). */
export interface Consultation {
  readonly consultationId: string;
  readonly applicationNumber: string;
  readonly kind: string;
  readonly requestedBy: string;
  readonly consulted: readonly string[];
  /** Replying Member State → answer. */
  readonly replies: Map<string, string>;
}

/** One record the ESP (or an automated query) finds: the `EspHit` of the io.esp.search answer schema. */
export interface EspHit {
  /** A `SourceSystem` code (SIS, EES, ETIAS, ETIAS_WATCHLIST, VIS, ECRIS_TCN, EURODAC, CIR, EUROPOL, INTERPOL_SLTD, INTERPOL_TDAWN). */
  readonly sourceSystem: string;
  readonly recordId: string;
  /** IDENTITY, TRAVEL_DOCUMENT, BIOMETRICS; filled with what matched the query when absent. */
  readonly matchedOn?: readonly string[];
  readonly identity?: { readonly surname: string; readonly firstNames?: string; readonly dateOfBirth?: string; readonly nationality?: string };
  readonly travelDocument?: { readonly number: string; readonly issuingCountry?: string };
  readonly detail?: string;
}

/**
 * One ESP configuration entry: the hits returned for an identity and/or a travel document.
 * A query (io.esp.search, or the automated query run when a file is created) matches the
 * entry when its identity matches `identity` (surname, and first names and date of birth
 * when both sides give them; names compared on their ICAO 9303 transliteration) or its
 * travel document matches `travelDocument` (number, and issuing country when both give it).
 * JSON-serialisable, so a test-control endpoint can pass a request body straight in.
 */
export interface EspHitConfig {
  readonly identity?: { readonly surname: string; readonly firstNames?: string; readonly dateOfBirth?: string };
  readonly travelDocument?: { readonly number: string; readonly issuingCountry?: string };
  readonly hits: readonly EspHit[];
}

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

/** Options of `CentralState`. */
export interface CentralStateOptions {
  /** Clock for references and timestamps (tests). @default () => new Date() */
  readonly clock?: () => Date;
}

/** Thrown inside a rule when the payload lacks what it needs; `apply` turns it into VIS_ERR_INVALID_PAYLOAD. */
class InvalidPayload extends Error {}

type Payload = Readonly<Record<string, unknown>>;
type Rule = (state: CentralState, sender: string, messageId: string, payload: Payload) => RuleOutcome;

const ok = (centralReference?: string, data?: Record<string, unknown>): RuleOutcome => ({
  result: 'ACCEPTED',
  code: 'OK',
  ...(centralReference !== undefined ? { centralReference } : {}),
  ...(data !== undefined ? { data } : {}),
});
const refuse = (code: Exclude<CentralCode, 'OK'>, reason: string): RuleOutcome => ({ result: 'REJECTED', code, reason });

function str(p: Payload, key: string): string {
  const v = p[key];
  if (typeof v !== 'string') throw new InvalidPayload(`"${key}" is required`);
  return v;
}
function optStr(p: Payload, key: string): string | undefined {
  const v = p[key];
  return typeof v === 'string' ? v : undefined;
}
function obj(p: Payload, key: string): Payload {
  const v = p[key];
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new InvalidPayload(`"${key}" is required`);
  return v as Payload;
}
function optObj(p: Payload | undefined, key: string): Payload | undefined {
  const v = p?.[key];
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Payload) : undefined;
}
function strings(p: Payload, key: string): string[] {
  const v = p[key];
  if (v === undefined) return [];
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw new InvalidPayload(`"${key}" must be a list of codes`);
  return v as string[];
}
/** Names compare on their ICAO transliteration (exact text when it has none). */
function sameName(a: string, b: string): boolean {
  const ta = transliterateIcao(a);
  const tb = transliterateIcao(b);
  return ta !== undefined && tb !== undefined ? ta === tb : a.trim().toLowerCase() === b.trim().toLowerCase();
}

// ---------------------------------------------------------------------------------------
// rules

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

const RULES: Record<string, Rule> = {
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
    const decisions = file.decisions.map((d) => ({ memberState: d.memberState, recordedAt: d.recordedAt, decision: { [DECISION_KEYS[d.type]!]: d.payload } }));
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
  const order = Object.keys((getType('vis.application.create')?.schema.properties ?? {}) as object);
  const out: Record<string, unknown> = {};
  for (const k of order) if (k in data) out[k] = data[k];
  for (const k of Object.keys(data)) if (!(k in out)) out[k] = data[k];
  return out;
}

// ---------------------------------------------------------------------------------------

/**
 * In-memory central state; `reset()` empties it (tests, `POST /_mock/reset`).
 *
 * Seeding for tests: apply messages (`apply(type, sender, messageId, payload)`, e.g. the
 * valid examples under `schemas/examples/`), configure what the ESP finds
 * (`configureEspHits`, before creating files when their automated queries should hit), and
 * add MID links (`seedLink`).
 */
export class CentralState {
  /** Short-stay application files by application number. */
  readonly applications = new Map<string, ApplicationFile>();
  /** Short-stay visas by sticker number (extension stickers included). */
  readonly visas = new Map<string, VisaRecord>();
  /** LSV/RP application files by application number. */
  readonly lsvrpApplications = new Map<string, LsvRpFile>();
  /** LSV/RP documents by document number. */
  readonly lsvrpDocuments = new Map<string, LsvRpDocument>();
  /** MID links by link id. */
  readonly links = new Map<string, MidLink>();
  /** VISMail consultations by consultation id. */
  readonly consultations = new Map<string, Consultation>();
  private espConfig: EspHitConfig[] = [];
  private seq = 0;
  private readonly clock: () => Date;

  constructor(options: CentralStateOptions = {}) {
    this.clock = options.clock ?? (() => new Date());
  }

  /** A central reference number: `VIS-<MS>-<year>-<sequence>`. */
  nextReference(sender: string): string {
    this.seq++;
    return `VIS-${sender}-${this.clock().getUTCFullYear()}-${String(this.seq).padStart(8, '0')}`;
  }

  /** The current time, ISO 8601 UTC with milliseconds. */
  now(): string {
    return this.clock().toISOString();
  }

  /**
   * Applies the central rules for one verified, schema-valid message. Never throws: a
   * payload missing what a rule needs gives VIS_ERR_INVALID_PAYLOAD, an unknown type
   * VIS_ERR_UNSUPPORTED_OPERATION. A rejected message changes nothing.
   */
  apply(type: string, sender: string, messageId: string, payload: Record<string, unknown>): RuleOutcome {
    const rule = RULES[type];
    if (!rule) return refuse('VIS_ERR_UNSUPPORTED_OPERATION', `central does not handle ${type}`);
    try {
      return rule(this, sender, messageId, payload ?? {});
    } catch (err) {
      if (err instanceof InvalidPayload) return refuse('VIS_ERR_INVALID_PAYLOAD', err.message);
      throw err;
    }
  }

  /**
   * Adds ESP configuration: what io.esp.search answers, and what the automated queries
   * (Arts 9a, 22b) find when a short-stay or LSV/RP file is created, for an identity and/or
   * a travel document (see `EspHitConfig`). Entries add up; every matching entry contributes
   * its hits (a record found twice is reported once).
   *
   * @throws TypeError when an entry has neither identity nor travelDocument, or no hits array
   */
  configureEspHits(config: EspHitConfig | readonly EspHitConfig[]): void {
    const entries = Array.isArray(config) ? (config as readonly EspHitConfig[]) : [config as EspHitConfig];
    for (const e of entries) {
      if (e === null || typeof e !== 'object') throw new TypeError('an ESP configuration entry must be an object');
      if (!e.identity && !e.travelDocument) throw new TypeError('an ESP configuration entry needs identity or travelDocument');
      if (e.identity && typeof e.identity.surname !== 'string') throw new TypeError('identity.surname must be a string');
      if (e.travelDocument && typeof e.travelDocument.number !== 'string') throw new TypeError('travelDocument.number must be a string');
      if (!Array.isArray(e.hits)) throw new TypeError('hits must be an array');
      for (const h of e.hits) {
        if (typeof h?.sourceSystem !== 'string' || typeof h.recordId !== 'string') throw new TypeError('each hit needs sourceSystem and recordId strings');
      }
    }
    this.espConfig.push(...entries.map((e) => JSON.parse(JSON.stringify(e)) as EspHitConfig));
  }

  /** Removes every ESP configuration entry. */
  clearEspHits(): void {
    this.espConfig = [];
  }

  /** The ESP configuration entries, in the order added (copies). */
  espHitConfig(): readonly EspHitConfig[] {
    return this.espConfig.map((e) => JSON.parse(JSON.stringify(e)) as EspHitConfig);
  }

  /** The hits the configuration gives for a query (identity and/or travel document), `matchedOn` filled in. */
  espHitsFor(identity: { surname: string; firstNames?: string | undefined; dateOfBirth?: string | undefined } | undefined, doc: { number: string; issuingCountry?: string | undefined } | undefined): EspHit[] {
    const out: EspHit[] = [];
    const seen = new Set<string>();
    for (const entry of this.espConfig) {
      const matched: string[] = [];
      if (identity && entry.identity && identityMatches(entry.identity, identity)) matched.push('IDENTITY');
      if (doc && entry.travelDocument && entry.travelDocument.number === doc.number && (!entry.travelDocument.issuingCountry || !doc.issuingCountry || entry.travelDocument.issuingCountry === doc.issuingCountry)) {
        matched.push('TRAVEL_DOCUMENT');
      }
      if (matched.length === 0) continue;
      for (const h of entry.hits) {
        const key = `${h.sourceSystem}\u0000${h.recordId}`;
        if (seen.has(key)) continue;
        seen.add(key);
        out.push({ ...h, matchedOn: h.matchedOn ?? matched });
      }
    }
    return out;
  }

  /** The automated queries (Arts 9a, 22b) for a new file: one PENDING hit record per ESP hit. */
  automatedQuery(applicationNumber: string, identity: { surname: string; firstNames?: string | undefined; dateOfBirth?: string | undefined }, doc: { number: string; issuingCountry?: string | undefined }): HitRecord[] {
    return this.espHitsFor(identity, doc).map((h, i) => ({ hitId: `${applicationNumber}-H${i + 1}`, sourceSystem: h.sourceSystem, recordId: h.recordId, verification: 'PENDING' }));
  }

  /**
   * Adds a MID link as the MID would have created it (yellow unless said otherwise), with
   * its identity confirmation file; returns it.
   *
   * @throws Error when a link with this id exists or fewer than two records are given
   */
  seedLink(seed: MidLinkSeed): MidLink {
    if (this.links.has(seed.linkId)) throw new Error(`a MID link ${seed.linkId} exists`);
    if (!Array.isArray(seed.records) || seed.records.length < 2) throw new Error('a MID link links at least two records');
    const at = this.now();
    const colour = seed.colour ?? 'YELLOW';
    const link: MidLink = {
      linkId: seed.linkId,
      colour,
      records: seed.records.map((r) => ({ system: r.system, recordId: r.recordId })),
      ...(seed.verifierMemberState !== undefined ? { verifierMemberState: seed.verifierMemberState } : {}),
      ...(seed.verifierName !== undefined ? { verifierName: seed.verifierName } : {}),
      ...(seed.singleIdentificationNumber !== undefined ? { singleIdentificationNumber: seed.singleIdentificationNumber } : {}),
      createdAt: at,
      updatedAt: at,
      history: [{ colour, at }],
    };
    this.links.set(link.linkId, link);
    return link;
  }

  /** The hits of the automated queries on a file (short-stay or LSV/RP), or [] for an unknown file. */
  hitsOf(applicationNumber: string): readonly HitRecord[] {
    return (this.applications.get(applicationNumber) ?? this.lsvrpApplications.get(applicationNumber))?.hits ?? [];
  }

  /** Records a decision on a short-stay file and moves its status. */
  recordDecision(file: ApplicationFile, type: string, sender: string, messageId: string, payload: Payload, status: ApplicationStatus): void {
    file.decisions.push({ type, memberState: sender, messageId, recordedAt: this.now(), payload: { ...payload } });
    file.status = status;
  }

  /** Records a decision on an LSV/RP file and moves its status. */
  recordLsvRpDecision(file: LsvRpFile, type: string, sender: string, messageId: string, payload: Payload, status: LsvRpStatus): void {
    file.decisions.push({ type, memberState: sender, messageId, recordedAt: this.now(), payload: { ...payload } });
    file.status = status;
  }

  /** Whether a short-stay file matches vis.application.search criteria (exactly one group). */
  matchesCriteria(file: ApplicationFile, criteria: Payload): boolean {
    const d = file.data;
    const applicant = optObj(d, 'applicant') ?? {};
    const doc = optObj(d, 'travelDocument') ?? {};
    if (typeof criteria.applicationNumber === 'string') return file.applicationNumber === criteria.applicationNumber;
    const identity = optObj(criteria, 'identity');
    if (identity) {
      if (typeof applicant.surname !== 'string' || !sameName(applicant.surname, str(identity, 'surname'))) return false;
      const fn = optStr(identity, 'firstNames');
      if (fn !== undefined && (typeof applicant.firstNames !== 'string' || !sameName(applicant.firstNames, fn))) return false;
      for (const k of ['dateOfBirth', 'sex', 'currentNationality', 'countryOfBirth']) {
        const want = optStr(identity, k);
        if (want !== undefined && applicant[k] !== want) return false;
      }
      return true;
    }
    const td = optObj(criteria, 'travelDocument');
    if (td) return doc.number === str(td, 'number') && (optStr(td, 'issuingCountry') === undefined || doc.issuingCountry === td.issuingCountry);
    const sticker = optObj(criteria, 'visaSticker');
    if (sticker) {
      const visa = this.visas.get(str(sticker, 'stickerNumber'));
      return visa !== undefined && visa.applicationNumber === file.applicationNumber;
    }
    const inviter = optObj(criteria, 'inviter');
    if (inviter) {
      const name = str(inviter, 'name');
      const inviters = Array.isArray(d.inviters) ? (d.inviters as Payload[]) : [];
      return inviters.some((i) => {
        const person = optObj(i, 'person');
        const org = optObj(i, 'organisation');
        return (typeof person?.surname === 'string' && sameName(person.surname, name)) || (typeof org?.name === 'string' && sameName(org.name, name));
      });
    }
    throw new InvalidPayload('"criteria" needs one of applicationNumber, identity, travelDocument, visaSticker, inviter');
  }

  /** The vis.application.search answer summary of a file. */
  summary(file: ApplicationFile): Record<string, unknown> {
    const applicant = optObj(file.data, 'applicant') ?? {};
    const doc = optObj(file.data, 'travelDocument') ?? {};
    const stickers = [...this.visas.values()].filter((v) => v.applicationNumber === file.applicationNumber).map((v) => v.stickerNumber);
    return {
      applicationNumber: file.applicationNumber,
      centralReference: file.centralReference,
      memberState: file.memberState,
      status: file.status,
      applicationDate: file.data.applicationDate,
      surname: applicant.surname,
      firstNames: applicant.firstNames,
      dateOfBirth: applicant.dateOfBirth,
      currentNationality: applicant.currentNationality,
      travelDocumentNumber: doc.number,
      travelDocumentIssuingCountry: doc.issuingCountry,
      ...(stickers.length > 0 ? { visaStickerNumbers: stickers.slice(0, 20) } : {}),
    };
  }

  /** Empties the state: files, visas, documents, links, consultations and the ESP configuration. */
  reset(): void {
    this.applications.clear();
    this.visas.clear();
    this.lsvrpApplications.clear();
    this.lsvrpDocuments.clear();
    this.links.clear();
    this.consultations.clear();
    this.espConfig = [];
    this.seq = 0;
  }
}

function identityMatches(want: NonNullable<EspHitConfig['identity']>, got: { surname: string; firstNames?: string | undefined; dateOfBirth?: string | undefined }): boolean {
  if (!sameName(want.surname, got.surname)) return false;
  if (want.firstNames !== undefined && got.firstNames !== undefined && !sameName(want.firstNames, got.firstNames)) return false;
  if (want.dateOfBirth !== undefined && got.dateOfBirth !== undefined && want.dateOfBirth !== got.dateOfBirth) return false;
  return true;
}
