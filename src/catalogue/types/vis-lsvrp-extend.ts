import { defineType } from '../define';
import { differ, notAfter } from '../rules';

/** `vis.lsvrp.extend`: record a long-stay visa extended or a residence permit renewed (Art 22f). */
export const visLsvrpExtend = defineType({
  id: 'vis.lsvrp.extend',
  title: 'Record a long-stay visa extended or a residence permit renewed',
  article: 'Reg. (EC) 767/2008 Art 22f',
  xmlName: 'LsvRpExtend',
  orderingKey: '/applicationNumber',
  roles: ['lsvrp-authority'],
  rules: [
    notAfter('valid-from-not-after-until', '/validFrom', '/validUntil', 'Art 22f: the new period of validity starts before it ends'),
    differ('new-document-differs', '/documentNumber', '/newDocumentNumber', 'a new document has a new number'),
  ],
});
