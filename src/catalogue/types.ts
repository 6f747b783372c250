/** Roles a UMA client certificate or token may carry; a message type lists the roles allowed to send it. */
export type ClientRole = 'visa-authority' | 'lsvrp-authority' | 'central-authority' | 'designated-authority' | 'admin';

/** One catalogue entry: everything the gateway knows about a message type. */
export interface MessageTypeSpec {
  /** Stable catalogue id, e.g. `vis.application.create`. */
  readonly id: string;
  /** One-line human title. */
  readonly title: string;
  /** Legal basis, e.g. `Reg. (EC) 767/2008 Art 9`. */
  readonly article: string;
  /** JSON Schema (draft 2020-12) of the payload UMA sends. */
  readonly schema: Readonly<Record<string, unknown>>;
  /** Local name of the body element on the wire, e.g. `ApplicationCreate`. */
  readonly xmlName: string;
  /** JSON Pointer into the payload of the ordering key (the application number). */
  readonly orderingKey: string;
  /** Client roles that may send this type. */
  readonly roles: readonly ClientRole[];
}
