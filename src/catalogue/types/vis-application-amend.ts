import type { FieldError } from '../../errors/errors';
import { defineType } from '../define';
import { notAfter } from '../rules';

/** `vis.application.amend`: the responsible Member State corrects data of a short-stay file (Art 24). */
export const visApplicationAmend = defineType({
  id: 'vis.application.amend',
  title: 'Amend data of a short-stay application file (responsible Member State only)',
  article: 'Reg. (EC) 767/2008 Art 24',
  xmlName: 'ApplicationAmend',
  orderingKey: '/applicationNumber',
  roles: ['visa-authority'],
  rules: [
    {
      id: 'set-and-remove-disjoint',
      description: 'a field is either replaced (set) or removed (remove), not both',
      check(p): FieldError[] {
        const changes = (p.changes ?? {}) as { set?: Record<string, unknown>; remove?: string[] };
        const set = changes.set ?? {};
        const remove = changes.remove ?? [];
        return remove.flatMap((name, i) => (name in set ? [{ pointer: `/changes/remove/${i}`, message: `"${name}" is also in set: a field is either replaced or removed` }] : []));
      },
    },
    notAfter('arrival-not-after-departure', '/changes/set/intendedArrivalDate', '/changes/set/intendedDepartureDate', 'Art 9(4)(i): the intended arrival is not after the intended departure'),
  ],
});
