import { defineType } from '../define';

/** `vismail.consultation.reply`: a consulted Member State answers a VISMail consultation (Art 16; Visa Code Art 22). */
export const vismailConsultationReply = defineType({
  id: 'vismail.consultation.reply',
  title: 'Reply to a VISMail consultation',
  article: 'Reg. (EC) 767/2008 Art 16; Visa Code Art 22(2)',
  xmlName: 'ConsultationReply',
  orderingKey: '/applicationNumber',
  roles: ['central-authority'],
});
