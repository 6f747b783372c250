/**
 * Escaping for the HTML pages and the XML reports the gateway writes (the API page, the
 * dashboard, conformance reports). The canonical (C14N) escaping of signed XML is another
 * thing and lives in `src/xml/c14n.ts`.
 */

const MARKUP: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for HTML or XML content and for attribute values in either quote. */
export function escapeMarkup(s: string): string {
  return s.replace(/[&<>"']/g, (c) => MARKUP[c]);
}

/** Removes the characters XML 1.0 cannot carry at all (most C0 controls, U+FFFE, U+FFFF). */
export function stripNonXmlChars(s: string): string {
  // eslint-disable-next-line no-control-regex -- matching these control characters is the point
  return s.replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, '');
}
