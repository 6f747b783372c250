import { defineType } from '../define';
import { minorNeedsGuardian, notAfter } from '../rules';

/**
 * `vis.application.create`: create a short-stay visa application file in the central VIS
 * with every Art 9 data field (Reg. (EC) 767/2008 as amended by (EU) 2021/1134), after the
 * application is admissible (Visa Code Art 19). The payload contract is the JSON Schema in
 * `schemas/json/vis.application.create.schema.json`; the wire form is derived from it.
 */
export const visApplicationCreate = defineType({
  id: 'vis.application.create',
  title: 'Create a short-stay visa application file',
  article: 'Reg. (EC) 767/2008 Art 8 and Art 9',
  xmlName: 'ApplicationCreate',
  orderingKey: '/applicationNumber',
  // Only visa authorities lodge applications (Art 6(1)); central and designated authorities
  // consult and verify but never create files.
  roles: ['visa-authority'],
  rules: [
    notAfter('arrival-not-after-departure', '/intendedArrivalDate', '/intendedDepartureDate', 'Art 9(4)(i): the intended arrival is not after the intended departure'),
    notAfter('born-before-application', '/applicant/dateOfBirth', '/applicationDate', 'the applicant is born on or before the application date'),
    notAfter('travel-document-issued-before-expiry', '/travelDocument/issueDate', '/travelDocument/expiryDate', 'Art 9(4)(c)-(ca): the travel document expires after it was issued'),
    minorNeedsGuardian('minor-needs-parental-authority', '/applicant/dateOfBirth', '/applicationDate', '/applicant/parentalAuthority', 'Art 9(4)(m)'),
  ],
});
