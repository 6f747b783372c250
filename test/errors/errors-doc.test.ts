import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ERRORS } from '../../src/errors/errors';

const doc = readFileSync(path.join(__dirname, '..', '..', 'docs', 'errors.md'), 'utf8');
const documented = new Map([...doc.matchAll(/^\| `(DAVIS_ERR_[A-Z0-9_]+)` \| (\d{3}) \| (yes|no) \|/gm)].map((m) => [m[1], { status: Number(m[2]), retryable: m[3] === 'yes' }]));

describe('the error catalogue and docs/errors.md', () => {
  test.each(Object.keys(ERRORS))('%s is documented with its status and retryability', (code) => {
    const spec = ERRORS[code as keyof typeof ERRORS];
    expect(documented.get(code)).toEqual({ status: spec.status, retryable: spec.retryable });
  });

  test('the docs name no code the catalogue lacks', () => {
    expect([...documented.keys()].filter((c) => !(c in ERRORS))).toEqual([]);
  });
});
