import { defineType } from '../define';

/**
 * `vis.notification.deleted` (inbound): another Member State deleted, in advance, a file (or
 * data of a file) that this Member State holds or has consulted (Art 25). No answer is due.
 */
export const visNotificationDeleted = defineType({
  id: 'vis.notification.deleted',
  title: 'Notification: another Member State deleted an application file or its data in advance',
  article: 'Reg. (EC) 767/2008 Art 25',
  xmlName: 'ApplicationDeletedNotification',
  direction: 'inbound',
  orderingKey: '/applicationNumber',
  roles: [],
});
