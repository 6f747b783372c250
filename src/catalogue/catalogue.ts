/**
 * The catalogue: one registry of every message type the gateway carries. Adding a type is
 * one JSON Schema under `schemas/json/` (and an answer schema when central returns data),
 * one file under `src/catalogue/types/` and one line in `ENTRIES` below; validation, the
 * wire mapping and the XSD are derived from the schemas. `docs/message-types.md` lists them.
 */
import type { MessageTypeSpec } from './types';
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
  return map;
})();

/** The catalogue entry for `id`, or `undefined` when the gateway does not know the type. */
export function getType(id: string): MessageTypeSpec | undefined {
  return BY_ID.get(id);
}

/** Every catalogue entry, in catalogue order (frozen array of frozen entries). */
export function listTypes(): readonly MessageTypeSpec[] {
  return ENTRIES;
}

/** The catalogue entry whose wire body element is named `xmlName`, or `undefined`. */
export function getTypeByXmlName(xmlName: string): MessageTypeSpec | undefined {
  return ENTRIES.find((t) => t.xmlName === xmlName);
}

/** The catalogue entry whose answer data travels in the `w:Data` element `xmlName`, or `undefined`. */
export function getTypeByAnswerXmlName(xmlName: string): MessageTypeSpec | undefined {
  return ENTRIES.find((t) => t.answer?.xmlName === xmlName);
}
