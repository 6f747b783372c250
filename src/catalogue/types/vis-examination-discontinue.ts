import { defineType } from '../define';

/** `vis.examination.discontinue`: record that the examination of a short-stay application was discontinued (Art 11). */
export const visExaminationDiscontinue = defineType({
  id: 'vis.examination.discontinue',
  title: 'Record that the examination of a short-stay application was discontinued',
  article: 'Reg. (EC) 767/2008 Art 11',
  xmlName: 'ExaminationDiscontinue',
  orderingKey: '/applicationNumber',
  roles: ['visa-authority'],
});
