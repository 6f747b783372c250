import { defineType } from '../define';

/** `io.mid.link.verify`: set a yellow MID link to green, red or white (or rectify a link), with justification (Reg. 2019/817 Arts 29-33). */
export const ioMidLinkVerify = defineType({
  id: 'io.mid.link.verify',
  title: 'Verify a multiple-identity link: yellow to green, red or white, with justification',
  article: 'Reg. (EU) 2019/817 Arts 29-33',
  xmlName: 'MidLinkVerify',
  // Colour changes of one link must reach central in the order accepted.
  orderingKey: '/linkId',
  // Art 29: visa and LSV/RP authorities (links on VIS files), the VIS designated authority
  // (VIS-ECRIS-TCN yellow links), the SIRENE Bureau (links involving SIS).
  roles: ['visa-authority', 'lsvrp-authority', 'designated-authority', 'sirene-bureau'],
});
