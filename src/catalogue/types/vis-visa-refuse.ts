import { defineType } from '../define';

/** `vis.visa.refuse`: record that a short-stay visa was refused, with Art 12(2) grounds (Art 12). */
export const visVisaRefuse = defineType({
  id: 'vis.visa.refuse',
  title: 'Record a short-stay visa refused, with its Art 12(2) grounds',
  article: 'Reg. (EC) 767/2008 Art 12',
  xmlName: 'VisaRefuse',
  orderingKey: '/applicationNumber',
  roles: ['visa-authority'],
});
