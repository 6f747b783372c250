import type { FieldError } from '../../errors/errors';
import { defineType } from '../define';

/**
 * `vis.notification.hit` (inbound): the automated queries of an application file through the
 * ESP found hits that this Member State must verify manually (Arts 9a, 9c, 22b). UMA answers
 * each hit with `vis.hit.verify`.
 */
export const visNotificationHit = defineType({
  id: 'vis.notification.hit',
  title: 'Notification: hits of the automated queries on an application file, to verify manually',
  article: 'Reg. (EC) 767/2008 Arts 9a, 9c and 22b',
  xmlName: 'HitNotification',
  direction: 'inbound',
  // Keyed like vis.hit.verify and every other message about the file.
  orderingKey: '/applicationNumber',
  roles: [],
  replyType: 'vis.hit.verify',
  rules: [
    {
      id: 'hit-ids-unique',
      description: 'each hit of the notification has its own hit id (vis.hit.verify answers one hit id)',
      check(p): FieldError[] {
        const hits = (p.hits ?? []) as { hitId?: string }[];
        const seen = new Set<string>();
        return hits.flatMap((h, i) => {
          if (typeof h.hitId !== 'string') return [];
          if (!seen.has(h.hitId)) {
            seen.add(h.hitId);
            return [];
          }
          return [{ pointer: `/hits/${i}/hitId`, message: 'repeats the hit id of an earlier hit' }];
        });
      },
    },
  ],
});
