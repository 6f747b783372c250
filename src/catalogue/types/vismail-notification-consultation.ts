import { defineType } from '../define';

/**
 * `vismail.notification.consultation` (inbound): another Member State consults this one, or
 * asks it for information, through VISMail (Art 16; Visa Code Art 22). UMA answers with
 * `vismail.consultation.reply`.
 */
export const vismailNotificationConsultation = defineType({
  id: 'vismail.notification.consultation',
  title: 'Notification: an incoming VISMail consultation or information request',
  article: 'Reg. (EC) 767/2008 Art 16; Visa Code Art 22; Decision 2009/377/EC',
  xmlName: 'ConsultationNotification',
  direction: 'inbound',
  // Keyed like the reply (and the request): the consultation stays in order with the other
  // notifications about the same application file.
  orderingKey: '/applicationNumber',
  roles: [],
  replyType: 'vismail.consultation.reply',
});
