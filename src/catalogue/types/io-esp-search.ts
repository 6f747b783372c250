import { defineType } from '../define';

/** `io.esp.search`: query the European search portal; the answer names the source system of each hit (Reg. 2019/817 Arts 6-9). */
export const ioEspSearch = defineType({
  id: 'io.esp.search',
  title: 'Query the European search portal (each hit names its source system)',
  article: 'Reg. (EU) 2019/817 Arts 6-9',
  xmlName: 'EspSearch',
  // ESP queries are reads: keyed on the national case, the queries of one case stay in order
  // and unrelated ones spread across shards.
  orderingKey: '/caseReference',
  roles: ['visa-authority', 'lsvrp-authority', 'central-authority', 'designated-authority'],
  answerXmlName: 'EspSearchAnswer',
});
