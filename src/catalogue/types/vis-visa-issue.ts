import type { FieldError } from '../../errors/errors';
import { defineType } from '../define';
import { notAfter } from '../rules';

/** `vis.visa.issue`: record that a short-stay visa was issued on an application file (Art 10). */
export const visVisaIssue = defineType({
  id: 'vis.visa.issue',
  title: 'Record a short-stay visa issued',
  article: 'Reg. (EC) 767/2008 Art 10',
  xmlName: 'VisaIssue',
  orderingKey: '/applicationNumber',
  roles: ['visa-authority'],
  rules: [
    notAfter('valid-from-not-after-until', '/validFrom', '/validUntil', 'Art 10(1)(g): the period of validity starts before it ends'),
    {
      id: 'ltv-25-1-b-is-limited',
      description: 'Art 10(1)(da): a visa issued under Visa Code Art 25(1)(b) has limited territorial validity',
      check(p): FieldError[] {
        const tv = p.territorialValidity as { kind?: string } | undefined;
        if (p.ltvVisaCode25_1_b !== true || tv?.kind !== 'SCHENGEN_STATES') return [];
        return [{ pointer: '/territorialValidity/kind', message: 'must not be SCHENGEN_STATES for a visa issued under Visa Code Art 25(1)(b) (limited territorial validity)' }];
      },
    },
  ],
});
