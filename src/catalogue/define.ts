import { deepFreeze, readJsonSchemaFile } from './schema-file';
import type { BusinessRule, ClientRole, MessageTypeSpec } from './types';

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
  /** Roles allowed to send the type. */
  readonly roles: readonly ClientRole[];
  /** Business rules (after the JSON Schema). */
  readonly rules?: readonly BusinessRule[];
  /** Wire element of the answer data; the answer schema is `schemas/json/<id>.answer.schema.json`. */
  readonly answerXmlName?: string;
}

/**
 * Builds a frozen catalogue entry from its definition: reads the payload schema (and the
 * answer schema when the type has answer data) from `schemas/json/`.
 *
 * @throws Error when a schema file is missing or not a JSON object (a broken install).
 */
export function defineType(def: TypeDefinition): MessageTypeSpec {
  const answerSchema = def.answerXmlName ? readJsonSchemaFile(`${def.id}.answer.schema.json`) : undefined;
  if (answerSchema) {
    // The data names its own schema (AnswerSpec): its first property is answerTo = this id.
    const props = (answerSchema.properties ?? {}) as Record<string, { const?: unknown }>;
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
    roles: [...def.roles],
    ...(def.rules ? { rules: [...def.rules] } : {}),
    ...(answerSchema && def.answerXmlName ? { answer: { schema: answerSchema, xmlName: def.answerXmlName } } : {}),
  };
  return deepFreeze(spec);
}
