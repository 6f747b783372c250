import { defineType } from '../define';

/** `vis.application.delete`: advance deletion of a short-stay file by the Member State that created it (Art 25). */
export const visApplicationDelete = defineType({
  id: 'vis.application.delete',
  title: 'Delete a short-stay application file in advance (applicant became a Member State national)',
  article: 'Reg. (EC) 767/2008 Art 25(1)',
  xmlName: 'ApplicationDelete',
  orderingKey: '/applicationNumber',
  roles: ['visa-authority'],
});
