import { defineType } from '../define';

/** `vis.application.search`: search short-stay files for the examination of an application (Art 15). */
export const visApplicationSearch = defineType({
  id: 'vis.application.search',
  title: 'Search short-stay application files for the examination of an application',
  article: 'Reg. (EC) 767/2008 Art 15',
  xmlName: 'ApplicationSearch',
  // Art 15(1): a search is always made for an application under examination; keyed on it, the
  // search follows the creation of that file.
  orderingKey: '/examinedApplicationNumber',
  roles: ['visa-authority', 'central-authority'],
  answerXmlName: 'ApplicationSearchAnswer',
});
