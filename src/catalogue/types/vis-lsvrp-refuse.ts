import { defineType } from '../define';

/** `vis.lsvrp.refuse`: record a long-stay visa or residence permit refusal on an Art 22d ground (Art 22d). */
export const visLsvrpRefuse = defineType({
  id: 'vis.lsvrp.refuse',
  title: 'Record a long-stay visa or residence permit refused on an Art 22d ground',
  article: 'Reg. (EC) 767/2008 Art 22d',
  xmlName: 'LsvRpRefuse',
  orderingKey: '/applicationNumber',
  roles: ['lsvrp-authority'],
});
