/**
 * Pseudonymisation of recorded payloads, so a suite recorded from real traffic can be
 * shared: names, dates of birth, places of birth, document and sticker numbers, street
 * addresses, contact details and embedded biometric data are replaced. The replacement is
 * consistent within one recording (the same name gives the same pseudonym everywhere, so a
 * search still finds the file it found) and keyed by a random secret that is not kept, so
 * a pseudonym cannot be traced back by trying candidate names.
 *
 * Fields are recognised by their names, across every message type (see `classify`). Other
 * free text (descriptions, justifications) is kept as recorded: review it before sharing.
 * Pseudonyms keep the shape the schemas check (letters stay letters, digits digits, a date
 * stays a real date in the same year and month); a payload that no longer validates is
 * pseudonymised again with another variant before the recorder gives up.
 */
import { createHmac, randomBytes } from 'node:crypto';

/** What a field holds, by its name and where it is. */
export type FieldKind = 'name' | 'birth-date' | 'place' | 'document-number' | 'street' | 'postal-code' | 'contact' | 'biometric' | undefined;

const NAME = /^(surname|surnameAtBirth|formerSurnames?|firstNames?|givenNames?|forenames?|familyName|maidenName|otherNames?|fathersName|mothersName|patronymic|holderName)(Transliterated)?$/i;
const PERSON_CONTEXT = /(applicant|person|guardian|parent|holder|contact|inviter|sponsor|identity|family|spouse|child)/i;
const DOCUMENT_KEY = /^(documentNumber|newDocumentNumber|passportNumber|travelDocumentNumber|visaStickerNumber|newVisaStickerNumber|stickerNumber|idCardNumber|idNumber|nationalIdNumber|residencePermitNumber)$/i;
const BIOMETRIC_CONTEXT = /(facial|face|image|photo|fingerprint|biometric|scan|signatureImage)/i;

/** Classifies a field by its key and its ancestors' keys (outermost first). */
export function classify(key: string, ancestors: readonly string[]): FieldKind {
  const parent = ancestors[ancestors.length - 1] ?? '';
  if (NAME.test(key)) return 'name';
  if (key === 'name' && PERSON_CONTEXT.test(parent)) return 'name';
  if (/^(dateOfBirth|birthDate)$/i.test(key)) return 'birth-date';
  if (/^(placeOfBirth|birthPlace)$/i.test(key)) return 'place';
  if (DOCUMENT_KEY.test(key)) return 'document-number';
  if (key === 'number' && /document|passport|card|permit/i.test(parent)) return 'document-number';
  if (/^(street|streetAddress|addressLine\d*)$/i.test(key)) return 'street';
  if (/^(postalCode|postcode|zip)$/i.test(key)) return 'postal-code';
  if (/^(email|e-?mail|phone|telephone|mobile|fax)$/i.test(key)) return 'contact';
  if (key === 'data' && ancestors.some((a) => BIOMETRIC_CONTEXT.test(a))) return 'biometric';
  return undefined;
}

const CONSONANTS = 'bdfghjklmnprstvz';
const VOWELS = 'aeiou';
const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** A placeholder for embedded biometric data: a minimal JPEG-framed marker, valid base64. */
export const BIOMETRIC_PLACEHOLDER = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.from('PSEUDONYMISED'), Buffer.from([0xff, 0xd9])]).toString('base64');

/** Replaces personal data consistently under one secret key. */
export class Pseudonymizer {
  private readonly key: Buffer;
  /** Fields replaced, by kind (counts only: nothing about the values). */
  readonly counts: Partial<Record<Exclude<FieldKind, undefined>, number>> = {};

  /** @param key secret of the recording; random by default and never stored */
  constructor(key: Buffer = randomBytes(32)) {
    this.key = key;
  }

  private bytes(kind: string, value: string, variant: number): Buffer {
    // Several HMAC blocks: long values need more than 32 bytes of choices.
    const blocks: Buffer[] = [];
    for (let i = 0; blocks.length * 32 < value.length * 2 + 16; i++) blocks.push(createHmac('sha256', this.key).update(`${kind}\u0000${variant}\u0000${i}\u0000${value}`).digest());
    return Buffer.concat(blocks);
  }

  /** A pronounceable word per word of the original, same count, same capitalisation style. */
  name(value: string, variant = 0): string {
    const b = this.bytes('name', value.toLowerCase(), variant);
    let k = 0;
    return value.split(/(\s+|-|')/).map((w) => {
      if (!/\p{L}/u.test(w)) return w;
      const syll = Math.max(2, Math.min(4, Math.ceil(w.length / 2.5)));
      let s = '';
      for (let i = 0; i < syll; i++) s += CONSONANTS[b[k++ % b.length] % CONSONANTS.length] + VOWELS[b[k++ % b.length] % VOWELS.length];
      if (w === w.toUpperCase()) return s.toUpperCase();
      return s[0].toUpperCase() + s.slice(1);
    }).join('');
  }

  /** Same year and month, another day (1-28): ages and the order of dates barely move. */
  birthDate(value: string, variant = 0): string {
    const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
    if (!m) return this.shape(value, 'date', variant);
    const b = this.bytes('date', value, variant);
    let day = (b[0] % 28) + 1;
    if (day === Number(m[3])) day = (day % 28) + 1;
    return `${m[1]}-${m[2]}-${String(day).padStart(2, '0')}`;
  }

  /** Letters to letters, digits to digits, everything else kept. */
  shape(value: string, kind = 'shape', variant = 0): string {
    const b = this.bytes(kind, value, variant);
    let k = 0;
    return [...value].map((ch) => {
      if (/[0-9]/.test(ch)) return String(b[k++ % b.length] % 10);
      if (/[A-Z]/.test(ch)) return UPPER[b[k++ % b.length] % 26];
      if (/[a-z]/.test(ch)) return UPPER[b[k++ % b.length] % 26].toLowerCase();
      if (/\p{L}/u.test(ch)) return ch === ch.toUpperCase() ? UPPER[b[k++ % b.length] % 26] : UPPER[b[k++ % b.length] % 26].toLowerCase();
      return ch;
    }).join('');
  }

  /** The replacement of one value of a kind. */
  value(kind: Exclude<FieldKind, undefined>, value: string, variant = 0): string {
    this.counts[kind] = (this.counts[kind] ?? 0) + 1;
    switch (kind) {
      case 'name': return this.name(value, variant);
      case 'place': return this.name(value, variant);
      case 'birth-date': return this.birthDate(value, variant);
      case 'street': return `${this.shape(value.replace(/[^\d\s]/g, '').trim() || '1', 'street-no', variant)} ${this.name(value.replace(/\d+/g, '').trim() || 'Street', variant)}`.trim();
      case 'biometric': return BIOMETRIC_PLACEHOLDER;
      default: return this.shape(value, kind, variant);
    }
  }

  /**
   * A pseudonymised copy of a payload. `variant` gives another consistent set of
   * pseudonyms (used when one fails the schema).
   */
  payload(payload: unknown, variant = 0): unknown {
    const walk = (v: unknown, key: string, ancestors: string[]): unknown => {
      if (Array.isArray(v)) return v.map((x) => walk(x, key, ancestors));
      if (v && typeof v === 'object') {
        const out: Record<string, unknown> = {};
        for (const [k, x] of Object.entries(v)) out[k] = walk(x, k, key ? [...ancestors, key] : ancestors);
        return out;
      }
      if (typeof v !== 'string') return v;
      const kind = classify(key, ancestors);
      return kind ? this.value(kind, v, variant) : v;
    };
    return walk(payload, '', []);
  }
}
