import path from 'node:path';
import { writeFileSync } from 'node:fs';
import { run } from '../../src/cli/main';
import { tempDir } from './helpers';

async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await run(['audit', ...args], { out: (s) => { out += s; }, err: (s) => { err += s; } });
  return { code, out, err };
}

describe('davis audit usage', () => {
  it('prints help, and exits 2 with one line on a usage error or when there is no journal', async () => {
    expect(await cli('--help')).toMatchObject({ code: 0, out: expect.stringMatching(/^Usage: davis audit verify/) as string });
    expect((await cli()).code).toBe(2);
    expect((await cli('check')).code).toBe(2);
    expect((await cli('verify', '--bogus')).code).toBe(2);
    const tmp = tempDir('davis-audit-cli-');
    try {
      const cfg = path.join(tmp.dir, 'c.json');
      writeFileSync(cfg, JSON.stringify({ dataDir: tmp.dir }));
      expect(await cli('verify', '--config', cfg)).toMatchObject({ code: 2, err: expect.stringMatching(/no journal/) as string });
      expect((await cli('verify', '--config', cfg, '--checkpoints', path.join(tmp.dir, 'nope'))).code).toBe(2);
    } finally {
      tmp.remove();
    }
  });
});
