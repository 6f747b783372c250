import { defineType } from '../define';

/** `vis.lsvrp.withdraw`: record a long-stay visa withdrawn, annulled or revoked, or a residence permit withdrawn (Art 22e). */
export const visLsvrpWithdraw = defineType({
  id: 'vis.lsvrp.withdraw',
  title: 'Record a long-stay visa withdrawn, annulled or revoked, or a residence permit withdrawn',
  article: 'Reg. (EC) 767/2008 Art 22e',
  xmlName: 'LsvRpWithdraw',
  orderingKey: '/applicationNumber',
  roles: ['lsvrp-authority'],
});
