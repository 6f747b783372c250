import { readJsonSchemaFile } from './schema-file';
import { deepFreeze } from '../util/deep-freeze';
import type { BusinessRule, Direction, MessageTypeSpec, SendingRole } from './types';

/** What a catalogue entry file declares; `defineType` loads the schemas and freezes the result. */
export interface TypeDefinition {
  /** Catalogue id; the payload schema is `schemas/json/<id>.schema.json`. */
  readonly id: string;
  /** One-line purpose. */
  readonly title: string;
  /** Legal basis. */
  readonly article: string;
  /** Wire body element. */
  readonly xmlName: string;
  /** JSON Pointer of the ordering key in the payload. */
  readonly orderingKey: string;
  /**
   * `outbound` (UMA → central) or `inbound` (a central notification to the Member State).
   * @default 'outbound'
   */
  readonly direction?: Direction;
  /** Roles allowed to send the type: at least one for an outbound type, none (`[]`) for an inbound one. */
  readonly roles: readonly SendingRole[];
  /** Inbound only: the outbound type UMA answers the notification with (checked when the catalogue loads). */
  readonly replyType?: string;
  /** Business rules (after the JSON Schema). */
  readonly rules?: readonly BusinessRule[];
  /** Wire element of the answer data; the answer schema is `schemas/json/<id>.answer.schema.json`. */
  readonly answerXmlName?: string;
}

/**
 * Builds a frozen catalogue entry from its definition: reads the payload schema (and the
 * answer schema when the type has answer data) from `schemas/json/`.
 *
 * @throws Error when a schema file is missing or not a JSON object (a broken install), or
 *   the definition mixes the directions: an outbound type without roles or with a
 *   `replyType`, an inbound type with roles or answer data (a programming error, found at load).
 */
export function defineType(def: TypeDefinition): MessageTypeSpec {
  const direction = def.direction ?? 'outbound';
  if (direction === 'inbound') {
    // UMA never sends a notification, and central expects no data back for one.
    if (def.roles.length > 0) throw new Error(`${def.id}: an inbound type has no roles (UMA never sends it)`);
    if (def.answerXmlName !== undefined) throw new Error(`${def.id}: an inbound type has no answer data`);
  } else {
    if (def.roles.length === 0) throw new Error(`${def.id}: an outbound type needs at least one role`);
    if (def.replyType !== undefined) throw new Error(`${def.id}: replyType is for inbound types only`);
  }
  const answerSchema = def.answerXmlName ? readJsonSchemaFile(`${def.id}.answer.schema.json`) : undefined;
  if (answerSchema) {
    // The data names its own schema (AnswerSpec): its first property is answerTo = this id.
    const props = (answerSchema.properties ?? {}) as Partial<Record<string, { const?: unknown }>>;
    if (Object.keys(props)[0] !== 'answerTo' || props.answerTo?.const !== def.id) {
      throw new Error(`schemas/json/${def.id}.answer.schema.json: the first property must be answerTo with const "${def.id}"`);
    }
  }
  const spec: MessageTypeSpec = {
    id: def.id,
    title: def.title,
    article: def.article,
    schema: readJsonSchemaFile(`${def.id}.schema.json`),
    xmlName: def.xmlName,
    orderingKey: def.orderingKey,
    direction,
    roles: [...def.roles],
    ...(def.replyType !== undefined ? { replyType: def.replyType } : {}),
    ...(def.rules ? { rules: [...def.rules] } : {}),
    ...(answerSchema && def.answerXmlName ? { answer: { schema: answerSchema, xmlName: def.answerXmlName } } : {}),
  };
  return deepFreeze(spec);
}
