import { defineType } from '../define';

/** `vis.hit.verify`: result of the manual verification of a hit of the automated queries (Arts 9a, 9c, 22b). */
export const visHitVerify = defineType({
  id: 'vis.hit.verify',
  title: 'Record the manual verification of a hit of the automated queries',
  article: 'Reg. (EC) 767/2008 Arts 9a, 9c, 9d and 22b',
  xmlName: 'HitVerify',
  orderingKey: '/applicationNumber',
  // Art 9c: the central authority of the Member State processing the application; Art 9d: the
  // VIS designated authority; for LSV/RP files (Art 22b) the competent LSV/RP authority.
  roles: ['central-authority', 'designated-authority', 'lsvrp-authority'],
});
