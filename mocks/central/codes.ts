/**
 * Every result code the mock central VIS answers with, and the outcome of applying central's
 * rules to one message. docs/central-codes.md lists the same codes (a test keeps the two
 * together).
 */

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
