/**
 * Seeded mutations of wire documents, for tests that compare two validators or two readers
 * case by case: simple values swapped for lexical corner cases of every XSD type the wire
 * uses, elements removed, repeated, swapped and renamed, attributes, comments, CDATA,
 * processing instructions, foreign elements and XML declarations added, signatures of other
 * shapes appended.
 */
import fc from 'fast-check';
import { DSIG_NS, WIRE_NS } from '../../src/wire/envelope';
import { WIRE_XML_LIMITS } from '../../src/wire/limits';
import type { XmlDocument, XmlElement } from '../../src/xml/parser';
import { screenAndParse } from '../../src/xml/screen';

const HEADER_ID = '3f1c2a9e-5b7d-4c1e-9a2b-0d4e6f8a1b2c';
const XSI = 'http://www.w3.org/2001/XMLSchema-instance';
const EXC = 'http://www.w3.org/2001/10/xml-exc-c14n#';

/** The tree of `xml` with the wire caps, or undefined when THE parser refuses it. */
export function parsed(xml: string): XmlDocument | undefined {
  try {
    return screenAndParse(xml, WIRE_XML_LIMITS);
  } catch {
    return undefined;
  }
}

export function elementsOf(el: XmlElement, out: XmlElement[] = []): XmlElement[] {
  out.push(el);
  for (const c of el.children) if (c.type === 'element') elementsOf(c, out);
  return out;
}

const escapeText = (v: string): string => v.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\r/g, '&#xD;');

/** Lexical corner cases of every simple type the wire uses. */
const VALUES = [
  '', ' ', 'x', ' x', 'x ', 'true', 'false', ' true', 'TRUE', '1', '0', '01', '+1', '-0', '-1', ' 1', '007', '999999999999999', '9007199254740993',
  '1e3', '1.5', '.5', 'INF', 'NaN', '2024-02-29', '2023-02-29', '2025-02-30', '0000-01-01', '2025-13-01', '2025-00-10', '2025-01-01Z', ' 2025-01-01',
  '2025-1-01', '12025-01-01', 'AAAA', 'AA==', 'AB==', 'AAA=', 'AAB=', 'A A=', 'Zm9v', 'Zm9vYg==', 'Zm9vYmE=', '====', 'Zm9v\n', '2025-09-01T10:00:00Z',
  '2025-09-01T24:00:00Z', '2025-02-30T10:00:00Z', '2025-09-01T10:60:00Z', '2025-09-01T10:00:60Z', '2025-09-01T10:00:00.123456789Z', '2025-09-01T10:00:00+00:00',
  'FI', 'EU', 'fi', 'XX', 'F', 'FIN', 'A'.repeat(200), 'A'.repeat(201), 'é'.repeat(40), '𝔗'.repeat(3), '\u00A0', 'a\tb', 'a\r\nb', 'a\rb',
  'MEIKAELAEINEN', 'MEIKAELAEINEN ', 'MEI KAE', 'Meikäläinen', 'ACCEPTED', 'REJECTED', 'OK', 'VIS_ERR_X', 'vis.application.create', 'vis.no.such',
  'FI-HEL-2025-000123', 'm-1', '3f1c2a9e-5b7d-4c1e-9a2b-0d4e6f8a1b2c', 'SCHENGEN', 'ORDINARY', 'P', 'M', 'F', 'image/jpeg', 'image/png',
];
const ATTRIBUTES = [
  'a="1"', `xsi:nil="true" xmlns:xsi="${XSI}"`, `xsi:type="xs:string" xmlns:xsi="${XSI}" xmlns:xs="http://www.w3.org/2001/XMLSchema"`,
  `xsi:schemaLocation="urn:x x.xsd" xmlns:xsi="${XSI}"`, 'xml:lang="fi"', 'Id="m-2"', 'xmlns:foo="urn:foo"', `xmlns:w2="${WIRE_NS}" w2:a="1"`,
];
const CONTENT = [' ', '\n  ', '<!-- c -->', '<![CDATA[x]]>', '<![CDATA[ ]]>', '<?pi x?>', 'x', '&#x20;', '&#xD;', '<w:Unknown/>', '<w:Unknown>x</w:Unknown>', `<o:Other xmlns:o="urn:o"/>`];
const SIGNATURES = [
  `<ds:Signature xmlns:ds="${DSIG_NS}"><ds:SignedInfo/></ds:Signature>`,
  `<ds:Signature xmlns:ds="${DSIG_NS}">text<ds:SignedInfo Id="s"/><ds:KeyInfo><ds:X509Data/></ds:KeyInfo></ds:Signature>`,
  `<ds:Signature xmlns:ds="${DSIG_NS}"><ds:Object><w:Request Id="m-9"/></ds:Object></ds:Signature>`,
  `<ds:Signature xmlns:ds="${DSIG_NS}"><ds:Object><w:ApplicationCreate/></ds:Object></ds:Signature>`,
  `<ds:Signature xmlns:ds="${DSIG_NS}"><ds:Object xmlns:xsi="${XSI}" xmlns:xs="http://www.w3.org/2001/XMLSchema" xsi:type="xs:integer">abc</ds:Object></ds:Signature>`,
  `<ds:Signature xmlns:ds="${DSIG_NS}"><ds:X xml:id="m-${HEADER_ID}"/></ds:Signature>`,
  `<ds:Signature xmlns:ds="${DSIG_NS}"><ds:Transform><ec:InclusiveNamespaces xmlns:ec="${EXC}" PrefixList="w"/></ds:Transform></ds:Signature>`,
  `<ds:Signature xmlns:ds="${DSIG_NS}"/><ds:Signature xmlns:ds="${DSIG_NS}"/>`,
  `<ds:Other xmlns:ds="${DSIG_NS}"/>`,
  `<x:Signature xmlns:x="urn:x"/>`,
  `<ds:Signature xmlns:ds="${DSIG_NS}"><o:Thing xmlns:o="urn:o"/></ds:Signature>`,
];

type Mutation = (xml: string, el: XmlElement, pick: (n: number) => number) => string | undefined;

function siblingsOf(el: XmlElement): XmlElement[] {
  return el.parent ? el.parent.children.filter((c): c is XmlElement => c.type === 'element') : [];
}
function renamed(xml: string, el: XmlElement, qname: string, decl = ''): string {
  const end = el.selfClosing ? xml.slice(el.end) : `</${qname}>${xml.slice(el.end)}`;
  const inner = el.selfClosing ? '' : xml.slice(el.startTagEnd, el.endTagStart);
  const attrs = xml.slice(el.start + 1 + el.qname.length, el.selfClosing ? el.startTagEnd - 2 : el.startTagEnd - 1);
  return `${xml.slice(0, el.start)}<${qname}${decl}${attrs}${el.selfClosing ? '/>' : `>${inner}`}${end}`;
}
const MUTATIONS: Mutation[] = [
  // a simple value swapped for a corner case
  (xml, el, pick) => (el.children.some((c) => c.type === 'element') || el.selfClosing ? undefined : `${xml.slice(0, el.startTagEnd)}${escapeText(VALUES[pick(VALUES.length)])}${xml.slice(el.endTagStart)}`),
  // a simple value edited: a character added, dropped, or space around it
  (xml, el, pick) => {
    if (el.children.some((c) => c.type === 'element') || el.selfClosing) return undefined;
    const t = xml.slice(el.startTagEnd, el.endTagStart);
    const edits = [`${t}A`, `${t}0`, t.slice(0, -1), ` ${t}`, `${t} `, t.toLowerCase(), t.toUpperCase(), `${t}${t}`, t.slice(1)];
    return `${xml.slice(0, el.startTagEnd)}${edits[pick(edits.length)]}${xml.slice(el.endTagStart)}`;
  },
  (xml, el) => (el.parent ? xml.slice(0, el.start) + xml.slice(el.end) : undefined),
  (xml, el) => (el.parent ? xml.slice(0, el.end) + xml.slice(el.start, el.end) + xml.slice(el.end) : undefined),
  (xml, el) => {
    const sibs = siblingsOf(el);
    const next = sibs.at(sibs.indexOf(el) + 1);
    return next ? xml.slice(0, el.start) + xml.slice(next.start, next.end) + xml.slice(el.end, next.start) + xml.slice(el.start, el.end) + xml.slice(next.end) : undefined;
  },
  (xml, el, pick) => {
    const at = el.selfClosing ? el.startTagEnd - 2 : el.startTagEnd - 1;
    return `${xml.slice(0, at)} ${ATTRIBUTES[pick(ATTRIBUTES.length)]}${xml.slice(at)}`;
  },
  (xml, el, pick) => {
    if (el.selfClosing) return undefined;
    const c = CONTENT[pick(CONTENT.length)];
    const at = pick(2) === 0 ? el.startTagEnd : el.endTagStart;
    return xml.slice(0, at) + c + xml.slice(at);
  },
  (xml, el, pick) => {
    const sibs = siblingsOf(el).filter((s) => s !== el);
    const names = [`${el.localName}x`, ...sibs.map((s) => s.localName), 'Signature', `${el.localName}Transliterated`];
    return renamed(xml, el, `${el.prefix ? `${el.prefix}:` : ''}${names[pick(names.length)]}`);
  },
  (xml, el) => renamed(xml, el, `v:${el.localName}`, ' xmlns:v="urn:other"'),
  (xml, el) => (el.parent ? undefined : renamed(xml, el, `v:${el.localName}`, ` xmlns:v="${WIRE_NS}"`)),
  (xml, el, pick) => {
    const root = el.parent ? undefined : el;
    if (!root) return undefined;
    return xml.slice(0, root.endTagStart) + SIGNATURES[pick(SIGNATURES.length)] + xml.slice(root.endTagStart);
  },
  (xml, _el, pick) => ['<?xml version="1.0" encoding="UTF-8"?>', '<?xml version="1.0" encoding="ISO-8859-1"?>', '<!-- c -->', '\n'][pick(4)] + xml,
  (xml, _el, pick) => xml + ['\n', '<!-- c -->', '<?pi?>'][pick(3)],
];

/** `count` mutations of the documents (each well-formed or not), seeded. */
export function mutations(docs: readonly string[], count: number, seed: number): string[] {
  const trees = docs.map((d) => elementsOf(screenAndParse(d, WIRE_XML_LIMITS).root));
  const arb = fc.tuple(fc.nat(docs.length - 1), fc.nat(), fc.nat(MUTATIONS.length - 1), fc.array(fc.nat(), { minLength: 4, maxLength: 4 }), fc.nat(2));
  const out: string[] = [];
  for (const [d, e, m, picks, extra] of fc.sample(arb, { numRuns: count, seed })) {
    const els = trees[d];
    let i = 0;
    const pick = (n: number): number => picks[i++ % picks.length] % n;
    let xml = MUTATIONS[m](docs[d], els[e % els.length], pick);
    // Sometimes a second mutation on top of the first.
    if (xml !== undefined && extra === 0) {
      const tree = parsed(xml);
      if (tree) {
        const els2 = elementsOf(tree.root);
        xml = MUTATIONS[(m + picks[0]) % MUTATIONS.length](xml, els2[picks[1] % els2.length], pick) ?? xml;
      }
    }
    if (xml !== undefined) out.push(xml);
  }
  return out;
}

