import { defineType } from '../define';
import { notAfter } from '../rules';

/** `vis.lsvrp.issue`: record that a long-stay visa or residence permit was issued (Art 22c). */
export const visLsvrpIssue = defineType({
  id: 'vis.lsvrp.issue',
  title: 'Record a long-stay visa or residence permit issued',
  article: 'Reg. (EC) 767/2008 Art 22c',
  xmlName: 'LsvRpIssue',
  orderingKey: '/applicationNumber',
  roles: ['lsvrp-authority'],
  rules: [notAfter('valid-from-not-after-until', '/validFrom', '/validUntil', 'Art 22c: the period of validity starts before it ends')],
});
