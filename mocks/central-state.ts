/**
 * The mock central VIS's own state and rules: what a real central system keeps about the
 * files it received, and the checks it applies before accepting a registration.
 */

/** An application file as central keeps it. */
export interface ApplicationFile {
  readonly applicationNumber: string;
  /** Member State that created the file (the wire `Sender`). */
  readonly memberState: string;
  readonly centralReference: string;
  readonly createdBy: string;
  status: string;
  readonly data: Record<string, unknown>;
}

/** The outcome of applying central's rules to one message. */
export interface RuleOutcome {
  readonly result: 'ACCEPTED' | 'REJECTED';
  readonly code: string;
  readonly centralReference?: string;
  readonly reason?: string;
  /** Data returned to the sender (searches, retrievals). */
  readonly data?: Readonly<Record<string, unknown>>;
}

/** One handler per message type. */
type Rule = (state: CentralState, sender: string, messageId: string, payload: Record<string, unknown>) => RuleOutcome;

const RULES: Record<string, Rule> = {
  'vis.application.create': (state, sender, messageId, payload) => {
    const number = String(payload.applicationNumber ?? '');
    if (state.applications.has(number)) {
      return { result: 'REJECTED', code: 'VIS_ERR_DUPLICATE_APPLICATION', reason: 'an application file with this application number exists' };
    }
    const ref = state.nextReference(sender);
    state.applications.set(number, { applicationNumber: number, memberState: sender, centralReference: ref, createdBy: messageId, status: 'visa requested', data: payload });
    return { result: 'ACCEPTED', code: 'OK', centralReference: ref };
  },
};

/** In-memory central state; `reset()` empties it (tests, `POST /_mock/reset`). */
export class CentralState {
  readonly applications = new Map<string, ApplicationFile>();
  private seq = 0;

  /** A central reference number: `VIS-<MS>-<year>-<sequence>`. */
  nextReference(sender: string): string {
    this.seq++;
    return `VIS-${sender}-${new Date().getUTCFullYear()}-${String(this.seq).padStart(8, '0')}`;
  }

  /** Applies the central rules for one verified, schema-valid message. */
  apply(type: string, sender: string, messageId: string, payload: Record<string, unknown>): RuleOutcome {
    const rule = RULES[type];
    if (!rule) return { result: 'REJECTED', code: 'VIS_ERR_UNSUPPORTED_OPERATION', reason: `central does not handle ${type}` };
    return rule(this, sender, messageId, payload);
  }

  reset(): void {
    this.applications.clear();
    this.seq = 0;
  }
}
