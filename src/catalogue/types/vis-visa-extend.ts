import { defineType } from '../define';
import { differ, notAfter } from '../rules';

/** `vis.visa.extend`: record that an issued short-stay visa was extended, with Art 14(2) grounds (Art 14). */
export const visVisaExtend = defineType({
  id: 'vis.visa.extend',
  title: 'Record a short-stay visa extended, with its Art 14(2) grounds',
  article: 'Reg. (EC) 767/2008 Art 14',
  xmlName: 'VisaExtend',
  orderingKey: '/applicationNumber',
  roles: ['visa-authority'],
  rules: [
    notAfter('extended-from-not-after-until', '/extendedFrom', '/extendedUntil', 'Art 14(1)(e): the extended period starts before it ends'),
    differ('new-sticker-differs', '/visaStickerNumber', '/newVisaStickerNumber', 'the extension has its own visa sticker (Visa Code Art 33(6))'),
  ],
});
