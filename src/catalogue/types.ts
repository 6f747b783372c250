import type { FieldError } from '../errors/errors';

/**
 * Roles a UMA client certificate or token may carry; a message type lists the roles allowed
 * to send it (a client with `admin` may send every type).
 *
 * - `visa-authority`: visa authorities (Reg. 767/2008 Art 4(3), Art 6(1)): lodge short-stay
 *   files and record decisions on them;
 * - `lsvrp-authority`: authorities competent for long-stay visas and residence permits (Art 22a ff.);
 * - `central-authority`: the central visa authority of a Member State (prior consultation,
 *   Art 16; manual verification of hits, Art 9c);
 * - `designated-authority`: the VIS designated authority (Arts 9d, 22b(…)) verifying hits
 *   and VIS–ECRIS-TCN yellow links (Reg. 2019/817 Art 29);
 * - `sirene-bureau`: the SIRENE Bureau, verifier of MID links involving SIS (Reg. 2019/817 Art 29);
 * - `admin`: every type (operators, tests);
 * - `auditor`: the data-protection supervisor or internal auditor (Reg. 767/2008 Art 34(2)):
 *   reads the audit records (`GET /v1/audit`) and a message's evidence
 *   (`GET /v1/messages/:id/evidence`); it sends no message type and reads no message;
 * - `operator`: operations staff: reads every message, the operations pages and their wire
 *   documents, and re-queues failed messages; it sends no message type;
 * - `observer`: operations staff, read only: what `operator` reads, no retry; it sends no message type.
 */
export type ClientRole = SendingRole | 'auditor' | 'operator' | 'observer';

/** The roles a message type may list: every client role but `auditor`, which grants no sending. */
export type SendingRole = 'visa-authority' | 'lsvrp-authority' | 'central-authority' | 'designated-authority' | 'sirene-bureau' | 'admin';

/** Every client role, in documentation order. */
export const CLIENT_ROLES: readonly ClientRole[] = Object.freeze(['visa-authority', 'lsvrp-authority', 'central-authority', 'designated-authority', 'sirene-bureau', 'admin', 'auditor', 'operator', 'observer']);

/** Roles that may read audit records and evidence. */
export const AUDIT_ROLES: readonly ClientRole[] = Object.freeze(['auditor', 'admin']);

/**
 * A business rule: a check JSON Schema cannot express (dates compared with each other, ages,
 * consistency between fields). Run by `validatePayload` after the payload passed its JSON
 * Schema, so `check` may rely on the schema's structure.
 */
export interface BusinessRule {
  /** Stable id, e.g. `arrival-not-after-departure`. */
  readonly id: string;
  /** What the rule requires, with its legal source when there is one. */
  readonly description: string;
  /** One error per violation, pointers relative to the payload (empty when the rule holds). */
  readonly check: (payload: Readonly<Record<string, unknown>>) => FieldError[];
}

/**
 * Which way a message type travels.
 *
 * - `outbound`: UMA → gateway → central (`POST /v1/messages`); the roles of the type say
 *   which clients may send it;
 * - `inbound`: central → gateway → UMA, a notification (`POST /v1/central/notifications`,
 *   signed by central, `Sender` = `EU` on the wire); UMA never sends it (`roles` is empty)
 *   and answers, when an answer is due, with the outbound type named in `replyType`.
 */
export type Direction = 'outbound' | 'inbound';

/** Every direction, in documentation order. */
export const DIRECTIONS: readonly Direction[] = Object.freeze(['outbound', 'inbound']);

/** The data central returns for a type (`CentralAnswer.data`), and its wire element. */
export interface AnswerSpec {
  /**
   * JSON Schema (draft 2020-12, wire profile) of `CentralAnswer.data`. Its first property is
   * `answerTo`, a constant equal to the request type's id: the data names its own schema, so
   * the response builder and reader need nothing but the data.
   */
  readonly schema: Readonly<Record<string, unknown>>;
  /** Local name of the element inside `w:Data`, e.g. `ApplicationSearchAnswer`. */
  readonly xmlName: string;
}

/** One catalogue entry: everything the gateway knows about a message type. */
export interface MessageTypeSpec {
  /** Stable catalogue id, e.g. `vis.application.create`. */
  readonly id: string;
  /** One-line human title (the purpose of the type). */
  readonly title: string;
  /** Legal basis, e.g. `Reg. (EC) 767/2008 Art 9`. */
  readonly article: string;
  /** JSON Schema (draft 2020-12) of the payload (what UMA sends; for inbound types what UMA receives). */
  readonly schema: Readonly<Record<string, unknown>>;
  /** Local name of the body element on the wire, e.g. `ApplicationCreate`. */
  readonly xmlName: string;
  /**
   * JSON Pointer into the payload of the ordering key: messages with the same key reach
   * central in the order the gateway accepted them (inbound: reach UMA in the order the
   * gateway received them). For application-related types the application number
   * (`/applicationNumber`); see `docs/message-types.md` for the others.
   */
  readonly orderingKey: string;
  /**
   * `outbound` (UMA sends it to central) or `inbound` (central notifies the Member State; UMA
   * never sends it). See `Direction`.
   */
  readonly direction: Direction;
  /** Client roles that may send this type; empty for every `inbound` type. Never `auditor`. */
  readonly roles: readonly SendingRole[];
  /**
   * Inbound types only, when the notification calls for an answer: the catalogue id of the
   * outbound type UMA answers with (e.g. `vis.hit.verify` for `vis.notification.hit`).
   * Absent for notifications that need no answer, and for every outbound type.
   */
  readonly replyType?: string;
  /** Business rules checked after the JSON Schema (none when absent). */
  readonly rules?: readonly BusinessRule[];
  /** The data central answers with (searches, retrievals); absent when central returns none. */
  readonly answer?: AnswerSpec;
}

/**
 * Schema keyword marking a name property whose ICAO 9303 transliteration travels beside it on
 * the wire (see `src/wire/shape.ts`); ajv knows it as an annotation.
 */
export const TRANSLITERATION_KEYWORD = 'x-icao-transliteration';
