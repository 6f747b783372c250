import { defineType } from '../define';

/** `vis.visa.annul`: record that an issued short-stay visa was annulled (Art 13). */
export const visVisaAnnul = defineType({
  id: 'vis.visa.annul',
  title: 'Record a short-stay visa annulled',
  article: 'Reg. (EC) 767/2008 Art 13',
  xmlName: 'VisaAnnul',
  orderingKey: '/applicationNumber',
  // Visa authorities in the broad sense of Art 4(3), border authorities included (Visa Code Art 34).
  roles: ['visa-authority'],
});
