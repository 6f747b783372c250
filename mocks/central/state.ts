/**
 * The mock central VIS's state: what a real central system keeps about the files it
 * received (records.ts), and `apply`, which runs the rule of a message's type (rules.ts) on
 * it. Every refusal has a stable `VIS_ERR_*` code (codes.ts, documented in
 * docs/central-codes.md); the gateway records it as the message's rejection reason.
 *
 * `apply` expects a message that passed the wire checks (signature, XSD, mapping), as
 * `MockCentralVis` gives it; it still never throws on a payload missing what a rule needs
 * (`VIS_ERR_INVALID_PAYLOAD`). Tests seed state by applying messages (e.g. the
 * `schemas/examples/<type>/valid-*.json` payloads) and through the seeding API:
 * `configureEspHits` (what the ESP and the automated queries find), `seedLink` (MID links).
 */
import type { RuleOutcome } from './codes';
import { InvalidPayload, optObj, optStr, sameName, str, type Payload } from './payload';
import type {
  ApplicationFile, ApplicationStatus, Consultation, EspHit, EspHitConfig, HitRecord, LsvRpDocument, LsvRpFile, LsvRpStatus, MidLink, MidLinkSeed, VisaRecord,
} from './records';
import { refuse, RULES } from './rules';

/** Options of `CentralState`. */
export interface CentralStateOptions {
  /** Clock for references and timestamps (tests). @default () => new Date() */
  readonly clock?: () => Date;
}

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
