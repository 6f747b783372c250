import type { FieldError } from '../../errors/errors';
import { defineType } from '../define';
import { ageOn, minorNeedsGuardian, notAfter } from '../rules';

/** `vis.lsvrp.application.create`: create a long-stay visa or residence permit application file (Art 22a). */
export const visLsvrpApplicationCreate = defineType({
  id: 'vis.lsvrp.application.create',
  title: 'Create a long-stay visa or residence permit application file',
  article: 'Reg. (EC) 767/2008 Art 22a',
  xmlName: 'LsvRpApplicationCreate',
  orderingKey: '/applicationNumber',
  roles: ['lsvrp-authority'],
  rules: [
    notAfter('born-before-application', '/applicant/dateOfBirth', '/applicationDate', 'the applicant is born on or before the application date'),
    notAfter('travel-document-issued-before-expiry', '/travelDocument/issueDate', '/travelDocument/expiryDate', 'Art 22a(1)(f)-(g): the travel document expires after it was issued'),
    minorNeedsGuardian('minor-needs-parental-authority', '/applicant/dateOfBirth', '/applicationDate', '/applicant/parentalAuthority', 'Art 22a(1)(i)'),
    {
      id: 'child-under-6-is-under-6',
      description: 'Art 22a(2): the exemption for children under 6 applies only to a child under 6 on the application date',
      check(p): FieldError[] {
        const reason = (p.fingerprints as { notProvided?: { reason?: string } } | undefined)?.notProvided?.reason;
        const dob = (p.applicant as { dateOfBirth?: string } | undefined)?.dateOfBirth;
        const on = p.applicationDate;
        if (reason !== 'CHILD_UNDER_6' || typeof dob !== 'string' || typeof on !== 'string' || ageOn(dob, on) < 6) return [];
        return [{ pointer: '/fingerprints/notProvided/reason', message: 'CHILD_UNDER_6 does not apply: the applicant is 6 or older on the application date (Art 22a(2))' }];
      },
    },
  ],
});
