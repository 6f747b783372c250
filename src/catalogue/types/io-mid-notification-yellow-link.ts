import { defineType } from '../define';

/**
 * `io.mid.notification.yellow-link` (inbound): the multiple-identity detector created a yellow
 * link that this Member State must verify manually (Reg. 2019/817 Arts 28-30). UMA answers
 * with `io.mid.link.verify`.
 */
export const ioMidNotificationYellowLink = defineType({
  id: 'io.mid.notification.yellow-link',
  title: 'Notification: a yellow multiple-identity link to verify manually',
  article: 'Reg. (EU) 2019/817 Arts 28-30',
  xmlName: 'MidYellowLinkNotification',
  direction: 'inbound',
  // Keyed like io.mid.link.verify and io.mid.icf.retrieve: everything about one link in order.
  orderingKey: '/linkId',
  roles: [],
  replyType: 'io.mid.link.verify',
});
