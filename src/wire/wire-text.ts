/**
 * Text bound for the wire: C14N escaping (the canonicaliser's own escapers, so built
 * documents are canonical by construction) after a check that XML 1.0 can carry it at all.
 */
import { escapeAttr, escapeText } from '../xml/c14n';
import { mappingError } from './mapping-error';

/** Characters XML 1.0 cannot carry at all (not even as references). Lone surrogates included. */
const NON_XML_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

/** True when every character of `s` is an XML 1.0 `Char`. */
export function isXmlText(s: string): boolean {
  return !NON_XML_CHAR.test(s);
}

/**
 * Escapes character data exactly as C14N does (`&amp; &lt; &gt; &#xD;`), so the builder's
 * output is already canonical.
 *
 * @throws DavisError DAVIS_ERR_WIRE_MAPPING when `s` holds a character XML cannot carry.
 */
export function escapeCanonicalText(s: string, where = ''): string {
  if (NON_XML_CHAR.test(s)) throw mappingError(where, 'text holds a character that XML 1.0 cannot carry');
  return escapeText(s);
}

/**
 * Escapes an attribute value exactly as C14N does (`&amp; &lt; &quot; &#x9; &#xA; &#xD;`).
 *
 * @throws DavisError DAVIS_ERR_WIRE_MAPPING when `s` holds a character XML cannot carry.
 */
export function escapeCanonicalAttr(s: string, where = ''): string {
  if (NON_XML_CHAR.test(s)) throw mappingError(where, 'attribute holds a character that XML 1.0 cannot carry');
  return escapeAttr(s);
}
