import { defineType } from '../define';

/** `vis.visa.revoke`: record that an issued short-stay visa was revoked (Art 13). */
export const visVisaRevoke = defineType({
  id: 'vis.visa.revoke',
  title: 'Record a short-stay visa revoked',
  article: 'Reg. (EC) 767/2008 Art 13',
  xmlName: 'VisaRevoke',
  orderingKey: '/applicationNumber',
  roles: ['visa-authority'],
});
