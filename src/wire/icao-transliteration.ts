/**
 * ICAO Doc 9303 Part 3 (8th ed., 2021) transliteration of names, computed by the gateway so
 * that central can match names written in national characters or Cyrillic (VIS.md §6:
 * "store original UTF-8 plus an ICAO-transliterated form for matching").
 *
 * Where it goes on the wire: a catalogue JSON Schema marks a name property with
 * `"x-icao-transliteration": true`; the builder then writes, right after that property's
 * element, a sibling element `<name>Transliterated` holding this module's output (see
 * `src/wire/mapping.ts`). UMA never sends it and never gets it back: the reader drops it, so
 * JSON → XML → JSON stays exactly what UMA sent. The element is omitted when the name holds a
 * character the tables below do not cover (Arabic, Greek, CJK, digits…): a partial
 * transliteration would match the wrong people.
 *
 * Output alphabet: upper-case A–Z words separated by one space. That is the MRZ alphabet of
 * Doc 9303 with the filler `<` written as a space (hyphens, commas and spaces become a
 * separator; apostrophes and other punctuation are omitted, Doc 9303 Part 3 §4.6 [M]).
 *
 * Tables: "Transliteration of multinational Latin-based characters" and "Transliteration of
 * Cyrillic characters" of Doc 9303 Part 3 §6 [M: from the published tables as remembered;
 * where Doc 9303 offers options (Ä → AE or A, Ö → OE or O, Ü → UE, UXX or U, Å → AA or A,
 * Ñ → N or NXX) the first, recommended one is used]. A Latin letter missing from the table
 * but decomposing (Unicode NFKD) into A–Z plus combining marks is written as its base
 * letter(s), which is what the table does for every accented letter it lists.
 */

/** Doc 9303 Part 3 §6, multinational Latin-based characters (upper case; lower case is upper-cased first). */
const LATIN: Readonly<Record<string, string>> = {
  Á: 'A', À: 'A', Â: 'A', Ä: 'AE', Ã: 'A', Ă: 'A', Å: 'AA', Ā: 'A', Ą: 'A',
  Ć: 'C', Ĉ: 'C', Č: 'C', Ċ: 'C', Ç: 'C',
  Đ: 'D', Ď: 'D', Ð: 'D',
  É: 'E', È: 'E', Ê: 'E', Ë: 'E', Ě: 'E', Ė: 'E', Ē: 'E', Ę: 'E', Ĕ: 'E',
  Ĝ: 'G', Ğ: 'G', Ġ: 'G', Ģ: 'G',
  Ħ: 'H', Ĥ: 'H',
  Í: 'I', Ì: 'I', Î: 'I', Ï: 'I', Ĩ: 'I', İ: 'I', Ī: 'I', Į: 'I', Ĭ: 'I',
  Ĵ: 'J',
  Ķ: 'K',
  Ł: 'L', Ĺ: 'L', Ľ: 'L', Ļ: 'L', Ŀ: 'L',
  Ń: 'N', Ñ: 'N', Ň: 'N', Ņ: 'N', Ŋ: 'N',
  Ó: 'O', Ò: 'O', Ô: 'O', Ö: 'OE', Õ: 'O', Ő: 'O', Ø: 'OE', Ō: 'O', Ŏ: 'O',
  Ŕ: 'R', Ř: 'R', Ŗ: 'R',
  Ś: 'S', Ŝ: 'S', Š: 'S', Ş: 'S', Ș: 'S',
  Ť: 'T', Ţ: 'T', Ț: 'T', Ŧ: 'T',
  Ú: 'U', Ù: 'U', Û: 'U', Ü: 'UE', Ũ: 'U', Ŭ: 'U', Ű: 'U', Ů: 'U', Ū: 'U', Ų: 'U',
  Ŵ: 'W',
  Ý: 'Y', Ŷ: 'Y', Ÿ: 'Y',
  Ź: 'Z', Ž: 'Z', Ż: 'Z',
  Þ: 'TH', Æ: 'AE', Ĳ: 'IJ', Œ: 'OE', ẞ: 'SS',
};

/** Doc 9303 Part 3 §6, Cyrillic characters (upper case). Ь (soft sign) is omitted. */
const CYRILLIC: Readonly<Record<string, string>> = {
  А: 'A', Б: 'B', В: 'V', Г: 'G', Ґ: 'G', Д: 'D', Ђ: 'D', Ѓ: 'G', Е: 'E', Ё: 'E', Є: 'IE',
  Ж: 'ZH', З: 'Z', Ѕ: 'DZ', И: 'I', І: 'I', Ї: 'I', Й: 'I', Ј: 'J', К: 'K', Л: 'L', Љ: 'LJ',
  М: 'M', Н: 'N', Њ: 'NJ', О: 'O', П: 'P', Р: 'R', С: 'S', Т: 'T', Ћ: 'C', Ќ: 'K', У: 'U',
  Ў: 'U', Ф: 'F', Х: 'KH', Ц: 'TS', Ч: 'CH', Џ: 'DZ', Ш: 'SH', Щ: 'SHCH', Ъ: 'IE', Ы: 'Y',
  Ь: '', Э: 'E', Ю: 'IU', Я: 'IA',
};

/** Characters that separate name parts: written as one space (the MRZ filler). */
const SEPARATOR = /^[\s\-\u2010\u2011\u2012\u2013\u2014,]$/u;
/** Punctuation omitted from the transliteration (apostrophes, full stops, …). */
const OMITTED = /^[\p{P}\p{Cf}\u02BC\u02B9]$/u;
/** A combining mark (left over when no precomposed character exists). */
const COMBINING = /^\p{M}$/u;

/** XSD/JSON pattern of a transliteration: upper-case A–Z words separated by single spaces. */
export const ICAO_TRANSLITERATION_PATTERN = '^[A-Z]+(?: [A-Z]+)*$';
/**
 * Longest transliteration, in characters: a name is at most 100 characters and one
 * character becomes at most four (Щ → SHCH).
 */
export const ICAO_TRANSLITERATION_MAX_LENGTH = 400;

/** Suffix of the wire element that carries a name's transliteration (`surname` → `surnameTransliterated`). */
export const TRANSLITERATED_SUFFIX = 'Transliterated';

/**
 * The ICAO Doc 9303 Part 3 transliteration of a name, e.g. `Meikäläinen` → `MEIKAELAEINEN`,
 * `Щербаков` → `SHCHERBAKOV`, `O'Brien-Smith` → `OBRIEN SMITH`; `undefined` when the name
 * holds a character outside the Latin and Cyrillic tables (or nothing but punctuation).
 */
export function transliterateIcao(name: string): string | undefined {
  const out: string[] = [];
  for (const ch of name.normalize('NFC')) {
    const mapped = transliterateChar(ch);
    if (mapped === undefined) return undefined;
    out.push(mapped);
  }
  const words = out.join('').split(' ').filter((w) => w.length > 0);
  return words.length > 0 ? words.join(' ') : undefined;
}

/** One NFC character: its transliteration, ' ' for a separator, '' when omitted, undefined when impossible. */
function transliterateChar(ch: string): string | undefined {
  if (/^[A-Z]$/.test(ch)) return ch;
  if (/^[a-z]$/.test(ch)) return ch.toUpperCase();
  if (SEPARATOR.test(ch)) return ' ';
  if (ch === 'ß') return 'SS';
  if (ch === 'ı') return 'I';
  // Upper-casing a single letter never changes how many letters it is, except ß (handled above).
  const upper = ch.toUpperCase();
  const table = LATIN[upper] ?? CYRILLIC[upper];
  if (table !== undefined) return table;
  if (COMBINING.test(ch)) return '';
  if (OMITTED.test(ch)) return '';
  // A Latin letter with diacritics the table does not list (or a compatibility form such as
  // the digraph ǅ or the ligature ﬁ): its base letters, as the table does for accented letters.
  const base = Array.from(upper.normalize('NFKD')).filter((c) => !COMBINING.test(c)).join('');
  return /^[A-Z]{1,3}$/.test(base) ? base : undefined;
}
