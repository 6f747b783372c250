import { parseXml, getAttribute, textContent, childElements, XML_NAMESPACE } from '../../src/xml/parser';
import { codeOf } from '../signing/helpers';

describe('parseXml', () => {
  it('resolves element and attribute namespaces, the default namespace not applying to attributes', () => {
    const doc = parseXml('<r xmlns="urn:d" xmlns:p="urn:p" a="1" p:b="2" xml:lang="fi"><p:c/><d xmlns=""/></r>');
    const r = doc.root;
    expect([r.namespaceURI, r.localName]).toEqual(['urn:d', 'r']);
    expect(r.namespaces).toEqual([{ prefix: '', uri: 'urn:d' }, { prefix: 'p', uri: 'urn:p' }]);
    expect(r.attributes.map((a) => [a.namespaceURI, a.localName, a.value])).toEqual([
      ['', 'a', '1'], ['urn:p', 'b', '2'], [XML_NAMESPACE, 'lang', 'fi'],
    ]);
    const [c, d] = childElements(r);
    expect([c.prefix, c.namespaceURI]).toEqual(['p', 'urn:p']);
    expect(d.namespaceURI).toBe('');
    expect(getAttribute(r, 'b', 'urn:p')).toBe('2');
  });

  it('decodes the predefined entities and character references, and merges CDATA into text', () => {
    const r = parseXml('<r a="&lt;&#x41;&#66;&quot;">&amp;&apos;&#x1F600;<![CDATA[<&>]]>z</r>').root;
    expect(getAttribute(r, 'a')).toBe('<AB"');
    expect(r.children).toHaveLength(1);
    expect(textContent(r)).toBe("&'\u{1F600}<&>z");
  });

  it('normalises line ends in text and whitespace in attributes, but not characters from references', () => {
    const r = parseXml('<r a="x\r\ny\tz&#10;&#13;">1\r\n2\r3&#13;</r>').root;
    expect(getAttribute(r, 'a')).toBe('x y z\n\r');
    expect(textContent(r)).toBe('1\n2\n3\r');
  });

  it('keeps source offsets of elements', () => {
    const xml = '<?xml version="1.0"?><r><s a="1"/><t>x</t></r>';
    const r = parseXml(xml).root;
    const [s, t] = childElements(r);
    expect(xml.slice(s.start, s.end)).toBe('<s a="1"/>');
    expect(s.selfClosing).toBe(true);
    expect(xml.slice(t.start, t.startTagEnd)).toBe('<t>');
    expect(xml.slice(r.endTagStart, r.end)).toBe('</r>');
  });

  it('joins text split by a comment when asked for the text content', () => {
    expect(textContent(parseXml('<r>alice@example.com<!---->.evil</r>').root)).toBe('alice@example.com.evil');
  });

  it.each([
    ['mismatched end tag', '<a></b>'],
    ['unclosed element', '<a><b></b>'],
    ['undeclared prefix', '<p:a/>'],
    ['undeclared attribute prefix', '<a p:x="1"/>'],
    ['undefined entity', '<a>&nbsp;</a>'],
    ['unterminated reference', '<a>&amp</a>'],
    ['bare ampersand', '<a>a & b</a>'],
    ['reference to a disallowed character', '<a>&#0;</a>'],
    ['disallowed character', '<a>\u0001</a>'],
    ['lone surrogate', '<a>\uD800</a>'],
    ['duplicate attribute', '<a x="1" x="2"/>'],
    ['duplicate expanded attribute name', '<a xmlns:p="urn:x" xmlns:q="urn:x" p:x="1" q:x="2"/>'],
    ['< in attribute value', '<a x="<"/>'],
    ['unquoted attribute', '<a x=1/>'],
    ['attributes not separated', '<a x="1"y="2"/>'],
    [']]> in text', '<a>]]></a>'],
    ['-- in a comment', '<a><!-- a -- b --></a>'],
    ['text outside the document element', '<a/>text'],
    ['two document elements', '<a/><b/>'],
    ['no document element', '<!-- only -->'],
    ['prefix bound to the empty string', '<a xmlns:p=""/>'],
    ['xml prefix bound elsewhere', '<a xmlns:xml="urn:x"/>'],
    ['xmlns prefix declared', '<a xmlns:xmlns="urn:x"/>'],
    ['XML declaration not at the start', ' <?xml version="1.0"?><a/>'],
    ['reserved PI target', '<a><?xml x?></a>'],
    ['DOCTYPE', '<!DOCTYPE a><a/>'],
    ['invalid name', '<1a/>'],
    ['colon in local name', '<a:b:c xmlns:a="urn:a"/>'],
  ])('refuses %s with DAVIS_ERR_XML_MALFORMED', (_, xml) => {
    expect(codeOf(() => parseXml(xml))).toBe('DAVIS_ERR_XML_MALFORMED');
  });

  it('refuses nesting deeper than maxDepth with DAVIS_ERR_XML_TOO_DEEP', () => {
    expect(codeOf(() => parseXml('<a><a><a></a></a></a>', { maxDepth: 2 }))).toBe('DAVIS_ERR_XML_TOO_DEEP');
  });
});
