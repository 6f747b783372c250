/**
 * What central keeps about the files it received: short-stay application files and their
 * visas, LSV/RP files and their documents, hits of the automated queries, MID links, VISMail
 * consultations, and the ESP configuration tests seed. Types only.
 */

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

