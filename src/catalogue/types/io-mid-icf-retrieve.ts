import { defineType } from '../define';

/** `io.mid.icf.retrieve`: fetch the identity confirmation file of a MID link (Reg. 2019/817 Art 34). */
export const ioMidIcfRetrieve = defineType({
  id: 'io.mid.icf.retrieve',
  title: 'Retrieve the identity confirmation file of a multiple-identity link',
  article: 'Reg. (EU) 2019/817 Art 34',
  xmlName: 'MidIcfRetrieve',
  // Keyed like io.mid.link.verify: a retrieval sees the colour changes accepted before it.
  orderingKey: '/linkId',
  roles: ['visa-authority', 'lsvrp-authority', 'designated-authority', 'sirene-bureau'],
  answerXmlName: 'MidIcfRetrieveAnswer',
});
