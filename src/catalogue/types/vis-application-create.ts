import type { MessageTypeSpec } from '../types';
import { deepFreeze, readJsonSchemaFile } from '../schema-file';

/**
 * `vis.application.create`: create a short-stay visa application file in the central VIS
 * with every Art 9 data field (Reg. (EC) 767/2008 as amended by (EU) 2021/1134), after the
 * application is admissible (Visa Code Art 19). The payload contract is the JSON Schema in
 * `schemas/json/vis.application.create.schema.json`; the wire form is derived from it.
 */
export const visApplicationCreate: MessageTypeSpec = deepFreeze({
  id: 'vis.application.create',
  title: 'Create a short-stay visa application file',
  article: 'Reg. (EC) 767/2008 Art 8 and Art 9',
  schema: readJsonSchemaFile('vis.application.create.schema.json'),
  xmlName: 'ApplicationCreate',
  orderingKey: '/applicationNumber',
  // Only visa authorities lodge applications (Art 6(1)); central and designated authorities
  // consult and verify but never create files.
  roles: ['visa-authority'],
});
