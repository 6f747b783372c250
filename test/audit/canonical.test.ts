import { createHash } from 'node:crypto';
import { canonicalJson, GENESIS_HASH, recordBody, recordCanonicalJson, recordHash, type RecordBody } from '../../src/audit/canonical';

const base: RecordBody = {
  seq: 1, at: '2026-12-01T10:00:00.000Z', operation: 'message.send', purpose: 'Reg. (EC) 767/2008 Art 9',
  dataCategories: ['applicant.surname'], clientId: 'uma', outcome: 'delivered',
};

describe('the canonical form of a record', () => {
  it('is JSON with sorted keys, no whitespace, absent members left out', () => {
    expect(canonicalJson({ b: 1, a: [true, null, 'x"y'], c: undefined, d: { z: 'é', y: 2 } })).toBe('{"a":[true,null,"x\\"y"],"b":1,"d":{"y":2,"z":"é"}}');
    expect(() => canonicalJson(1.5)).toThrow(TypeError);
    expect(recordCanonicalJson(base)).toBe('{"at":"2026-12-01T10:00:00.000Z","clientId":"uma","dataCategories":["applicant.surname"],"operation":"message.send","outcome":"delivered","purpose":"Reg. (EC) 767/2008 Art 9","seq":1}');
  });

  it('is the generic canonical JSON of the record body, whichever optional members it has, and ignores extra members', () => {
    const full: RecordBody = { ...base, queryCategories: ['a.b', 'c'], authority: 'FI', staff: 's1', messageId: 'm', messageType: 't', contentDigest: 'ab', correlationId: 'c\u2028' };
    for (const b of [base, full, { ...full, staff: undefined }]) {
      expect(recordCanonicalJson(b)).toBe(canonicalJson(recordBody(b) as unknown as Parameters<typeof canonicalJson>[0]));
    }
    expect(recordCanonicalJson({ ...base, extra: 'x' } as RecordBody)).toBe(recordCanonicalJson(base));
  });

  it('hashes the previous hash\'s bytes followed by the canonical UTF-8, so any change of content, position or link changes it', () => {
    const expected = createHash('sha256').update(Buffer.alloc(32)).update(recordCanonicalJson(base)).digest('hex');
    expect(recordHash(GENESIS_HASH, base)).toBe(expected);
    expect(recordHash(GENESIS_HASH, { ...base, seq: 2 })).not.toBe(expected);
    expect(recordHash('11'.repeat(32), base)).not.toBe(expected);
    expect(recordHash(GENESIS_HASH, { ...base, dataCategories: ['applicant.surname', 'x'] })).not.toBe(expected);
  });
});
