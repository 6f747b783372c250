import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { X509Certificate } from 'node:crypto';
import { requestTimestamp, timestampRequest, TimestampError, tokenOfResponse, verifyTimestampToken } from '../../src/audit/tsp';
import { createTsaPki, MockTsa } from '../../mocks/tsa/server';

describe('the mock RFC 3161 TSA and the token check', () => {
  let dir: string;
  let tsa: MockTsa;
  let url: string;
  let caFile: string;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'davis-tsa-'));
    tsa = new MockTsa({ dir: path.join(dir, 'tsa') });
    ({ url, caFile } = await tsa.start());
  });
  afterAll(async () => {
    await tsa.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('issues tokens that openssl ts -verify accepts, over the data and over its digest', async () => {
    const data = Buffer.from('{"size":3,"root":"ab"}');
    const digest = createHash('sha256').update(data).digest();
    const token = await requestTimestamp(url, digest);
    const tokFile = path.join(dir, 'token.der');
    const dataFile = path.join(dir, 'data.json');
    writeFileSync(tokFile, token);
    writeFileSync(dataFile, data);
    const out = execFileSync('openssl', ['ts', '-verify', '-token_in', '-in', tokFile, '-data', dataFile, '-CAfile', caFile], { encoding: 'utf8' });
    expect(out).toMatch(/Verification: OK/);
    const out2 = execFileSync('openssl', ['ts', '-verify', '-token_in', '-in', tokFile, '-digest', digest.toString('hex'), '-CAfile', caFile], { encoding: 'utf8' });
    expect(out2).toMatch(/Verification: OK/);
    // Other data: openssl refuses it too, so the acceptance above means something.
    writeFileSync(dataFile, Buffer.from('{"size":4,"root":"ab"}'));
    expect(() => execFileSync('openssl', ['ts', '-verify', '-token_in', '-in', tokFile, '-data', dataFile, '-CAfile', caFile], { stdio: 'pipe' })).toThrow();
  });

  it('checks a token offline: imprint, signature, time-stamping certificate, chain to the TSA CA', async () => {
    const digest = createHash('sha256').update('checkpoint').digest();
    const token = await requestTimestamp(url, digest);
    const ca = new X509Certificate(readFileSync(caFile));
    const info = verifyTimestampToken(token, digest, [ca]);
    expect(Math.abs(info.genTime.getTime() - Date.now())).toBeLessThan(60_000);
    expect(info.tsaCertificate.subject).toMatch(/DAVIS dev TSA/);
    const other = createHash('sha256').update('other').digest();
    expect(() => verifyTimestampToken(token, other)).toThrow(TimestampError);
    // One bit of the signature flipped.
    const bad = Buffer.from(token);
    bad[bad.length - 5] ^= 0x01;
    expect(() => verifyTimestampToken(bad, digest)).toThrow(/signature|unreadable/);
    // An anchor that did not issue the TSA's certificate.
    const stranger = await createTsaPki(path.join(dir, 'other'));
    expect(() => verifyTimestampToken(token, digest, [new X509Certificate(readFileSync(stranger.caFile))])).toThrow(/chain/);
  });

  it('reads the token out of a response exactly as openssl wrote it, and refuses a refusal', () => {
    const digest = createHash('sha256').update('x').digest();
    const q = path.join(dir, 'q.tsq');
    const r = path.join(dir, 'r.tsr');
    writeFileSync(q, timestampRequest(digest));
    execFileSync('openssl', ['ts', '-reply', '-config', tsa.pki.configFile, '-queryfile', q, '-out', r], { stdio: 'pipe' });
    const resp = readFileSync(r);
    const t = path.join(dir, 't.der');
    execFileSync('openssl', ['ts', '-reply', '-in', r, '-token_out', '-out', t], { stdio: 'pipe' });
    expect(tokenOfResponse(resp).equals(readFileSync(t))).toBe(true);
    // PKIStatusInfo { status rejection(2) } and no token.
    expect(() => tokenOfResponse(Buffer.from('3005300302010' + '2', 'hex'))).toThrow(/refused/);
  });
});
