import { defineType } from '../define';

/** `vismail.consultation.request`: VISMail consultation or information request between Member States (Art 16; Decision 2009/377/EC). */
export const vismailConsultationRequest = defineType({
  id: 'vismail.consultation.request',
  title: 'Send a VISMail consultation or information request about an application',
  article: 'Reg. (EC) 767/2008 Art 16; Visa Code Art 22; Decision 2009/377/EC',
  xmlName: 'ConsultationRequest',
  orderingKey: '/applicationNumber',
  roles: ['central-authority'],
});
