/** Runs the system xmllint (an independent libxml2 build) on documents, for cross-checks. */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const XMLLINT = '/usr/bin/xmllint';

/** Validates each document with `xmllint --noout --schema`; true = valid, in input order. */
export function xmllintValidate(xsdFile: string, docs: readonly string[]): { valid: boolean[]; stderr: string } {
  const dir = mkdtempSync(join(tmpdir(), 'davis-xmllint-'));
  try {
    const files = docs.map((d, i) => {
      const f = join(dir, `doc-${i}.xml`);
      writeFileSync(f, d);
      return f;
    });
    const r = spawnSync(XMLLINT, ['--noout', '--schema', xsdFile, ...files], { encoding: 'utf8' });
    const verdicts = files.map((f) => {
      if (r.stderr.includes(`${f} validates`)) return true;
      if (r.stderr.includes(`${f} fails to validate`)) return false;
      throw new Error(`xmllint gave no verdict for ${f}: ${r.stderr}`);
    });
    return { valid: verdicts, stderr: r.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Exclusive canonical form of a document by `xmllint --exc-c14n`, as bytes. */
export function xmllintExcC14n(doc: string): Buffer {
  const dir = mkdtempSync(join(tmpdir(), 'davis-c14n-'));
  try {
    const f = join(dir, 'doc.xml');
    writeFileSync(f, doc);
    return execFileSync(XMLLINT, ['--exc-c14n', f]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
