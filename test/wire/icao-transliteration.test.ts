import fc from 'fast-check';
import { ICAO_TRANSLITERATION_MAX_LENGTH, ICAO_TRANSLITERATION_PATTERN, transliterateIcao } from '../../src/wire/icao-transliteration';

describe('ICAO 9303 Part 3 transliteration', () => {
  it.each([
    ['Meikäläinen', 'MEIKAELAEINEN'],
    ['Åström', 'AASTROEM'],
    ['Müller-Lüdenscheidt', 'MUELLER LUEDENSCHEIDT'],
    ['Straße', 'STRASSE'],
    ['Ørsted', 'OERSTED'],
    ['Ærø', 'AEROE'],
    ['Łukasiewicz', 'LUKASIEWICZ'],
    ['Núñez García', 'NUNEZ GARCIA'],
    ['Đorđević', 'DORDEVIC'],
    ['Þórsdóttir', 'THORSDOTTIR'],
    ['Dragoș Țurcan', 'DRAGOS TURCAN'],
    ["O'Brien", 'OBRIEN'],
    ['van der Berg', 'VAN DER BERG'],
    ['  Anne   Marie ', 'ANNE MARIE'],
  ])('transliterates Latin national characters: %s → %s', (name, expected) => {
    expect(transliterateIcao(name)).toBe(expected);
  });

  it.each([
    ['Щербаков', 'SHCHERBAKOV'],
    ['Юлия Сергеевна', 'IULIIA SERGEEVNA'],
    ['Жуков', 'ZHUKOV'],
    ['Хрущёв', 'KHRUSHCHEV'],
    ['Цой', 'TSOI'],
    ['Ольга', 'OLGA'],
    ['Объедков', 'OBIEEDKOV'],
    ['Єрмак', 'IERMAK'],
    ['Їжакевич', 'IZHAKEVICH'],
    ['Ґонта', 'GONTA'],
    ['Љубиша Њего', 'LJUBISHA NJEGO'],
    ['Џаџић', 'DZADZIC'],
  ])('transliterates Cyrillic: %s → %s', (name, expected) => {
    expect(transliterateIcao(name)).toBe(expected);
  });

  it('reads decomposed input (NFD) like precomposed input', () => {
    expect(transliterateIcao('Meika\u0308la\u0308inen')).toBe('MEIKAELAEINEN');
    expect(transliterateIcao('Ṣẹ̀gun')).toBe('SEGUN');
  });

  it.each(['中文', 'محمد', 'Ωμέγα', 'R2D2', '--', "''", ''])('gives up on %j (script outside the tables, digits, or no letters)', (name) => {
    expect(transliterateIcao(name)).toBeUndefined();
  });

  it('always yields A-Z words within the wire limits, or nothing (property)', () => {
    const re = new RegExp(ICAO_TRANSLITERATION_PATTERN);
    const letters = fc.constantFrom(...'aZäÄöÖüÜåÅøØæßłŁñÑçşțđþœ ЖжЩщЁёЮюЯяЬьЪъЫыЄєЇїҐґ-\'’.,'.split(''));
    fc.assert(
      fc.property(fc.array(fc.oneof(letters, fc.string({ maxLength: 2 })), { maxLength: 100 }).map((a) => [...a.join('')].slice(0, 100).join('')), (name) => {
        const t = transliterateIcao(name);
        if (t !== undefined) {
          expect(t).toMatch(re);
          expect(t.length).toBeLessThanOrEqual(ICAO_TRANSLITERATION_MAX_LENGTH);
        }
      }),
      { numRuns: 500, seed: 9303 },
    );
  });
});
