import { defineType } from '../define';

/** `vis.application.retrieve`: fetch one short-stay file with its decisions (Art 15). */
export const visApplicationRetrieve = defineType({
  id: 'vis.application.retrieve',
  title: 'Retrieve a short-stay application file with its decisions',
  article: 'Reg. (EC) 767/2008 Art 15(3)-(4)',
  xmlName: 'ApplicationRetrieve',
  // Keyed on the file retrieved: the retrieval sees every earlier message about that file.
  orderingKey: '/applicationNumber',
  roles: ['visa-authority', 'central-authority'],
  answerXmlName: 'ApplicationRetrieveAnswer',
});
