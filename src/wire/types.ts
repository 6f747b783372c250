/** The header every wire message carries, outside the signed business body. */
export interface WireHeader {
  /** Gateway-assigned message id (UUID). Also the central idempotency key. */
  readonly messageId: string;
  /** Catalogue id of the message type. */
  readonly type: string;
  /** Sending Member State, ISO 3166-1 alpha-2 (e.g. `FI`). */
  readonly sender: string;
  /** Creation time, ISO 8601 UTC with milliseconds. */
  readonly created: string;
}

/** The outcome central reports for one request. */
export type CentralResult = 'ACCEPTED' | 'REJECTED';

/** A central answer to one request, as carried in the signed response document. */
export interface CentralAnswer {
  /** Id of the response document itself. */
  readonly responseId: string;
  /** The request message id this answers. */
  readonly inReplyTo: string;
  readonly result: CentralResult;
  /** Central result code, e.g. `OK`, `VIS_ERR_DUPLICATE_APPLICATION`. */
  readonly code: string;
  /** Central reference number for accepted registrations. */
  readonly centralReference?: string;
  /** Human reason for a rejection. */
  readonly reason?: string;
  /** Time central produced the answer (ISO 8601 UTC). */
  readonly created: string;
  /**
   * Data returned with an accepted answer (searches, retrievals), as JSON: the answer schema
   * of the request type (`schemas/json/<type>.answer.schema.json`, catalogue `answer`), whose
   * first member `answerTo` is the request type's id. On the wire it travels in `w:Data` as the
   * type's answer element (see `buildResponseXml`); check it with `validateAnswer`.
   */
  readonly data?: Readonly<Record<string, unknown>>;
}
