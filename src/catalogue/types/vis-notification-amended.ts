import { defineType } from '../define';

/**
 * `vis.notification.amended` (inbound): the Member State responsible for a short-stay file
 * that this Member State holds or has consulted amended its data (Art 24). No answer is due.
 */
export const visNotificationAmended = defineType({
  id: 'vis.notification.amended',
  title: 'Notification: another Member State amended data of a short-stay application file',
  article: 'Reg. (EC) 767/2008 Art 24',
  xmlName: 'ApplicationAmendedNotification',
  direction: 'inbound',
  orderingKey: '/applicationNumber',
  roles: [],
});
