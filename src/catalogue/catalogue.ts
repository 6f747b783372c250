/**
 * The catalogue: one registry of every message type the gateway carries. Adding a type is
 * one JSON Schema under `schemas/json/` (and an answer schema when central returns data),
 * one file under `src/catalogue/types/` and one line in `ENTRIES` below; validation, the
 * wire mapping and the XSD are derived from the schemas. `docs/message-types.md` lists them.
 *
 * Types travel one way (`MessageTypeSpec.direction`): `outbound` ones UMA sends to central,
 * `inbound` ones are central's notifications to the Member State. `getType` and the XML-name
 * lookups know both (the wire reads notifications with the same request document);
 * `listTypes()` lists the outbound ones unless asked otherwise, and `isInbound` tells them apart.
 */
import type { Direction, MessageTypeSpec } from './types';
import { ioEspSearch } from './types/io-esp-search';
import { ioMidIcfRetrieve } from './types/io-mid-icf-retrieve';
import { ioMidLinkVerify } from './types/io-mid-link-verify';
import { visApplicationAmend } from './types/vis-application-amend';
import { visApplicationCreate } from './types/vis-application-create';
import { visApplicationDelete } from './types/vis-application-delete';
import { visApplicationRetrieve } from './types/vis-application-retrieve';
import { visApplicationSearch } from './types/vis-application-search';
import { visExaminationDiscontinue } from './types/vis-examination-discontinue';
import { visHitVerify } from './types/vis-hit-verify';
import { visLsvrpApplicationCreate } from './types/vis-lsvrp-application-create';
import { visLsvrpExtend } from './types/vis-lsvrp-extend';
import { visLsvrpIssue } from './types/vis-lsvrp-issue';
import { visLsvrpRefuse } from './types/vis-lsvrp-refuse';
import { visLsvrpWithdraw } from './types/vis-lsvrp-withdraw';
import { visVisaAnnul } from './types/vis-visa-annul';
import { visVisaExtend } from './types/vis-visa-extend';
import { visVisaIssue } from './types/vis-visa-issue';
import { visVisaRefuse } from './types/vis-visa-refuse';
import { visVisaRevoke } from './types/vis-visa-revoke';
import { vismailConsultationReply } from './types/vismail-consultation-reply';
import { vismailConsultationRequest } from './types/vismail-consultation-request';
import { ioMidNotificationYellowLink } from './types/io-mid-notification-yellow-link';
import { visNotificationAmended } from './types/vis-notification-amended';
import { visNotificationDeleted } from './types/vis-notification-deleted';
import { visNotificationHit } from './types/vis-notification-hit';
import { vismailNotificationConsultation } from './types/vismail-notification-consultation';

/** Every message type, in catalogue order. Frozen: callers cannot add or replace entries. */
const ENTRIES: readonly MessageTypeSpec[] = Object.freeze([
  // Short-stay visas, Reg. (EC) 767/2008
  visApplicationCreate,
  visVisaIssue,
  visExaminationDiscontinue,
  visVisaRefuse,
  visVisaAnnul,
  visVisaRevoke,
  visVisaExtend,
  visApplicationAmend,
  visApplicationDelete,
  visApplicationSearch,
  visApplicationRetrieve,
  // Long-stay visas and residence permits, Arts 22a-22f
  visLsvrpApplicationCreate,
  visLsvrpIssue,
  visLsvrpRefuse,
  visLsvrpWithdraw,
  visLsvrpExtend,
  // Automated queries and interoperability, Reg. (EU) 2019/817
  ioEspSearch,
  visHitVerify,
  ioMidLinkVerify,
  ioMidIcfRetrieve,
  // Consultation (VISMail)
  vismailConsultationRequest,
  vismailConsultationReply,
  // Inbound: central → national notifications
  visNotificationHit,
  ioMidNotificationYellowLink,
  vismailNotificationConsultation,
  visNotificationAmended,
  visNotificationDeleted,
]);

const BY_ID: ReadonlyMap<string, MessageTypeSpec> = (() => {
  const map = new Map<string, MessageTypeSpec>();
  const xmlNames = new Set<string>();
  for (const spec of ENTRIES) {
    // A duplicate id or body element name would make routing or wire parsing ambiguous:
    // fail at load, not at the first message.
    if (map.has(spec.id)) throw new Error(`duplicate catalogue id ${spec.id}`);
    for (const name of [spec.xmlName, ...(spec.answer ? [spec.answer.xmlName] : [])]) {
      if (xmlNames.has(name)) throw new Error(`duplicate catalogue xmlName ${name}`);
      xmlNames.add(name);
    }
    map.set(spec.id, spec);
  }
  for (const spec of ENTRIES) {
    // A notification's reply must be a type UMA can send.
    if (spec.replyType !== undefined && map.get(spec.replyType)?.direction !== 'outbound') {
      throw new Error(`catalogue ${spec.id}: replyType ${spec.replyType} is not an outbound catalogue type`);
    }
  }
  return map;
})();

const BY_DIRECTION: Readonly<Record<Direction | 'all', readonly MessageTypeSpec[]>> = Object.freeze({
  all: ENTRIES,
  outbound: Object.freeze(ENTRIES.filter((t) => t.direction === 'outbound')),
  inbound: Object.freeze(ENTRIES.filter((t) => t.direction === 'inbound')),
});

/**
 * The catalogue entry for `id` (outbound or inbound), or `undefined` when the gateway does
 * not know the type. It answers for inbound types too, because the wire reads notifications
 * through it: a caller accepting messages from UMA must refuse an inbound one (`isInbound`).
 */
export function getType(id: string): MessageTypeSpec | undefined {
  return BY_ID.get(id);
}

/** True when `id` is an inbound catalogue type (a central → national notification); false for outbound and unknown ids. */
export function isInbound(id: string): boolean {
  return BY_ID.get(id)?.direction === 'inbound';
}

/** Options of `listTypes`. */
export interface ListTypesOptions {
  /**
   * Which types: `outbound` (what UMA may send to central), `inbound` (central's
   * notifications) or `all` (both, outbound first, in catalogue order).
   * @default 'outbound'
   */
  readonly direction?: Direction | 'all';
}

/**
 * Catalogue entries in catalogue order (frozen array of frozen entries). By default only the
 * outbound types, the ones UMA sends and central handles; pass `{ direction: 'all' }` for
 * every type the gateway knows (the XSD, validation at start, `davis catalogue`) or
 * `{ direction: 'inbound' }` for the notifications alone.
 */
export function listTypes(options: ListTypesOptions = {}): readonly MessageTypeSpec[] {
  const direction: string = options.direction ?? 'outbound';
  // A JavaScript caller may pass anything: only the table's own keys are directions.
  if (!Object.hasOwn(BY_DIRECTION, direction)) throw new Error(`listTypes: unknown direction ${direction}`);
  return BY_DIRECTION[direction as Direction | 'all'];
}

/** The catalogue entry whose wire body element is named `xmlName`, or `undefined`. */
export function getTypeByXmlName(xmlName: string): MessageTypeSpec | undefined {
  return ENTRIES.find((t) => t.xmlName === xmlName);
}

/** The catalogue entry whose answer data travels in the `w:Data` element `xmlName`, or `undefined`. */
export function getTypeByAnswerXmlName(xmlName: string): MessageTypeSpec | undefined {
  return ENTRIES.find((t) => t.answer?.xmlName === xmlName);
}
